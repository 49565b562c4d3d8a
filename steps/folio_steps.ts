import { AssertionError } from 'node:assert';
import { expect } from 'chai';
import type { task_struct } from '../engine/include/linux/mm_types';
import { Then } from '../support/vocabulary';
import type { MmWorld, PageRange } from '../support/world';

const hex = (n: number): string => `0x${n.toString(16)}`;

/**
 * Counts compared in one line that names what was counted: "the folio 0x2000
 * behind page 0 of buffer X in process A (pfn 0x2000): refcount 3, expected
 * 2; mapcount 2 as expected", instead of a bare deep-equal diff.
 */
export function expectCounts(
  what: string,
  actual: Record<string, number>,
  expected: Record<string, number>,
): void {
  const parts = Object.keys(expected).map((k) =>
    actual[k] === expected[k]
      ? `${k} ${actual[k]} as expected`
      : `${k} ${actual[k]}, expected ${expected[k]}`,
  );
  if (Object.keys(expected).some((k) => actual[k] !== expected[k]))
    throw new AssertionError({
      message: `${what}: ${parts.join('; ')}`,
      actual,
      expected,
      operator: 'deepStrictEqual',
    });
}

function folioOf(world: MmWorld, task: task_struct, range: PageRange) {
  const e = world.entry(task, range);
  expect(
    e.page,
    `page ${range.first} of buffer ${range.buffer.name} in ${task.comm} maps a page`,
  ).to.be.at.least(0);
  return world.kernel.folio(e.page);
}

Then(
  'the folio behind {pages} in {process} has refcount {int} and mapcount {int}',
  function (this: MmWorld, range: PageRange, task: task_struct, refcount: number, mapcount: number) {
    const f = folioOf(this, task, range);
    const page = this.entry(task, range).page;
    expectCounts(
      `the folio ${hex(f.folio)} behind page ${range.first} of buffer ${range.buffer.name} in process ${task.comm} (pfn ${hex(page)})`,
      { refcount: f.refcount, mapcount: f.mapcount },
      { refcount, mapcount },
    );
  },
  (c) => c.notObservable("a folio's refcount and mapcount"),
);

Then(
  'the folio behind {pages} in {process} has pincount {int}',
  function (this: MmWorld, range: PageRange, task: task_struct, pincount: number) {
    expect(folioOf(this, task, range).pincount, 'pincount').to.equal(pincount);
  },
  (c) => c.notObservable("a folio's pincount"),
);

Then(
  'the folio behind {pages} in {process} is maybe DMA-pinned',
  function (this: MmWorld, range: PageRange, task: task_struct) {
    expect(folioOf(this, task, range).maybe_dma_pinned, 'folio_maybe_dma_pinned').to.equal(true);
  },
  (c) => c.notObservable('folio_maybe_dma_pinned'),
);

Then(
  '{pages} in {process} is/are exclusive',
  function (this: MmWorld, range: PageRange, task: task_struct) {
    for (let i = 0; i < range.count; i++)
      expect(
        this.kernel.page(this.entry(task, range, i).page).anon_exclusive,
        `PageAnonExclusive of page ${range.first + i}`,
      ).to.equal(true);
  },
  (c) => c.notObservable('PageAnonExclusive'),
);

Then(
  '{pages} in {process} is/are shared, not exclusive',
  function (this: MmWorld, range: PageRange, task: task_struct) {
    for (let i = 0; i < range.count; i++)
      expect(
        this.kernel.page(this.entry(task, range, i).page).anon_exclusive,
        `PageAnonExclusive of page ${range.first + i}`,
      ).to.equal(false);
  },
  (c) => c.notObservable('PageAnonExclusive'),
);

Then(
  '{process} has {int} {rss_counter} page(s)',
  function (
    this: MmWorld,
    task: task_struct,
    n: number,
    counter: 'MM_ANONPAGES' | 'MM_FILEPAGES' | 'MM_SHMEMPAGES',
  ) {
    expect(this.kernel.rss(task)[counter], counter).to.equal(n);
  },
  (c) => c.notObservable("an rss counter (/proc/<pid>/status counts the test program's own pages too)"),
);

Then(
  'the THP behind {pages} in {process} is still one folio of {int} pages',
  function (this: MmWorld, range: PageRange, task: task_struct, pages: number) {
    const f = folioOf(this, task, range);
    expect(1 << f.order, 'pages in the folio').to.equal(pages);
  },
  (c) => c.notObservable("a folio's order"),
);

Then(
  'the THP behind {pages} in {process} is queued for deferred split',
  function (this: MmWorld, range: PageRange, task: task_struct) {
    const f = folioOf(this, task, range);
    expect(
      { queued: f.on_deferred_split_queue, partially_mapped: f.partially_mapped },
      'the folio on the deferred-split queue, and partially mapped',
    ).to.deep.equal({
      queued: true,
      partially_mapped: true,
    });
  },
  (c) => c.notObservable('the deferred split queue'),
);

Then(
  'the THP behind {pages} in {process} is not queued for deferred split',
  function (this: MmWorld, range: PageRange, task: task_struct) {
    expect(folioOf(this, task, range).on_deferred_split_queue, 'on the deferred-split queue').to.equal(false);
  },
  (c) => c.notObservable('the deferred split queue'),
);

Then(
  '{int} pages of RAM are free',
  function (this: MmWorld, n: number) {
    expect(this.kernel.nr_free_pages(), 'free pages').to.equal(n);
  },
  (c) => c.notObservable('free RAM, to the page'),
);
