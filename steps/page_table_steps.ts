import { expect } from 'chai';
import type { task_struct } from '../engine/include/linux/mm_types';
import { cRange, folded, visibleState } from '../support/c';
import type { MappingState } from '../support/parameter_types';
import { mappingStateOf } from '../support/queries';
import { Then, When } from '../support/vocabulary';
import type { MmWorld, PageRange } from '../support/world';
import { expectCounts } from './folio_steps';

Then(
  'in {process}, {pages} is/are {mapping_state}',
  function (this: MmWorld, task: task_struct, range: PageRange, state: MappingState) {
    for (let i = 0; i < range.count; i++)
      expect(
        mappingStateOf(this.entry(task, range, i)),
        `page ${range.first + i} of buffer ${range.buffer.name}`,
      ).to.equal(state);
  },
  /* pagemap and PAGEMAP_SCAN (mmspec.h mm_state); writability is not shown to userspace. */
  (c, task, range, state) =>
    c.observe(task, `mm_obs_state(${cRange(c, range)});`, {
      state: folded(new Array(range.count).fill(visibleState(state))),
    }),
);

When(
  'the page behind {pages} in {process} is called {string}',
  function (this: MmWorld, range: PageRange, task: task_struct, name: string) {
    const e = this.entry(task, range);
    expect(
      e.page,
      `page ${range.first} of buffer ${range.buffer.name} in ${task.comm} is mapped`,
    ).to.be.at.least(0);
    this.namedPages.set(name, e.page);
  },
  (c, range, task, name) =>
    c.run(task, `mm_name_page(${c.buf(range.buffer.name)}, ${range.first}, ${c.page(name)});`),
);

function namedPage(world: MmWorld, name: string): number {
  const pfn = world.namedPages.get(name);
  if (pfn === undefined) throw new Error(`no page was called "${name}"`);
  return pfn;
}

Then(
  '{pages} in {process} is page {string}',
  function (this: MmWorld, range: PageRange, task: task_struct, name: string) {
    expect(this.entry(task, range).page, `page ${range.first} of buffer ${range.buffer.name}`).to.equal(
      namedPage(this, name),
    );
  },
  (c, range, task, name) =>
    c.observe(task, `mm_obs_is_page(${c.buf(range.buffer.name)}, ${range.first}, 1, ${c.page(name)});`, {
      is: 1,
    }),
);

Then(
  '{pages} in {process} is no longer page {string}',
  function (this: MmWorld, range: PageRange, task: task_struct, name: string) {
    const e = this.entry(task, range);
    expect(e.page, `page ${range.first} of buffer ${range.buffer.name} is mapped`).to.be.at.least(0);
    expect(e.page, 'the page now mapped').to.not.equal(namedPage(this, name));
  },
  (c, range, task, name) =>
    c.observe(task, `mm_obs_is_page(${c.buf(range.buffer.name)}, ${range.first}, 1, ${c.page(name)});`, {
      is: 0,
    }),
);

Then(
  'page {string} is free',
  function (this: MmWorld, name: string) {
    expect(
      this.kernel.page(namedPage(this, name)).free,
      `page "${name}" is back in the buddy allocator`,
    ).to.equal(true);
  },
  (c) => c.notObservable('whether a page is back in the buddy allocator'),
);

Then(
  'page {string} has refcount {int} and mapcount {int}',
  function (this: MmWorld, name: string, refcount: number, mapcount: number) {
    const pfn = namedPage(this, name);
    expect(this.kernel.page(pfn).free, `page "${name}" is free`).to.equal(false);
    expectCounts(
      `page "${name}" (pfn 0x${pfn.toString(16)}, folio 0x${this.kernel.folio(pfn).folio.toString(16)})`,
      { refcount: this.kernel.folio(pfn).refcount, mapcount: this.kernel.page(pfn).mapcount },
      { refcount, mapcount },
    );
  },
  (c) => c.notObservable("a page's refcount"),
);

Then(
  '{process} and {process} map {pages} to the same page',
  function (this: MmWorld, a: task_struct, b: task_struct, range: PageRange) {
    for (let i = 0; i < range.count; i++) {
      const pa = this.entry(a, range, i).page;
      expect(pa, `page ${range.first + i} is mapped in ${a.comm}`).to.be.at.least(0);
      expect(this.entry(b, range, i).page, `page ${range.first + i} in ${b.comm}`).to.equal(pa);
    }
  },
  /* The PFNs in both processes' /proc/<pid>/pagemap. */
  (c, a, b, range) =>
    c.observe(a, `mm_obs_same(${cRange(c, range)}, ${c.proc(a)}, ${c.proc(b)});`, {
      same: range.count,
      different: 0,
      'not present': 0,
    }),
);

Then(
  '{process} and {process} map {pages} to different pages',
  function (this: MmWorld, a: task_struct, b: task_struct, range: PageRange) {
    for (let i = 0; i < range.count; i++) {
      const pa = this.entry(a, range, i).page;
      const pb = this.entry(b, range, i).page;
      expect(pa, `page ${range.first + i} is mapped in ${a.comm}`).to.be.at.least(0);
      expect(pb, `page ${range.first + i} is mapped in ${b.comm}`).to.be.at.least(0);
      expect(pb, `page ${range.first + i}`).to.not.equal(pa);
    }
  },
  (c, a, b, range) =>
    c.observe(a, `mm_obs_same(${cRange(c, range)}, ${c.proc(a)}, ${c.proc(b)});`, {
      same: 0,
      different: range.count,
      'not present': 0,
    }),
);

Then(
  '{process} has {int} VMA(s) over buffer {word}',
  function (this: MmWorld, task: task_struct, n: number, name: string) {
    const b = this.buffer(name);
    const end = b.start + b.pages * 4096;
    const vmas = this.kernel.vmas(task).filter((v) => v.start < end && v.end > b.start);
    expect(vmas.length, `VMAs over buffer ${name}`).to.equal(n);
  },
  (c, task, n, name) => c.observe(task, `mm_obs_vmas(${c.buf(name)});`, { vmas: n }),
);
