import { expect } from 'chai';
import { mm } from '../engine';
import type { task_struct } from '../engine/include/linux/mm_types';
import { cAddr, cProt, cRange, cSharing, cString, hex } from '../support/c';
import { Given, type Translator, When } from '../support/vocabulary';
import { type MmWorld, PAGE, type PageRange } from '../support/world';

const mapAnonymous = (
  world: MmWorld,
  task: task_struct,
  pages: number,
  sharing: number,
  prot: number,
  name: string,
) => world.mapAnonymous(task, pages, sharing, prot, name);

Given(
  '{process} maps {size} of {sharing} anonymous memory as buffer {word}',
  function (this: MmWorld, task: task_struct, pages: number, sharing: number, name: string) {
    mapAnonymous(this, task, pages, sharing, mm.PROT_READ | mm.PROT_WRITE, name);
  },
  (c, task, pages, sharing, name) =>
    c.run(task, `mm_map(${c.buf(name)}, ${pages}, PROT_READ | PROT_WRITE, ${cSharing(sharing)});`),
);

Given(
  '{process} maps {size} of read-only {sharing} anonymous memory as buffer {word}',
  function (this: MmWorld, task: task_struct, pages: number, sharing: number, name: string) {
    mapAnonymous(this, task, pages, sharing, mm.PROT_READ, name);
  },
  (c, task, pages, sharing, name) =>
    c.run(task, `mm_map(${c.buf(name)}, ${pages}, PROT_READ, ${cSharing(sharing)});`),
);

/**
 * The selftests' THP set-up: mmap twice the size, then use the window that
 * starts at the first 2 MiB boundary (hmm-tests.c `ALIGN(ptr, size)`), so a
 * PMD can map it. The whole mapping is buffer `<name>_map`.
 */
function mapAligned(
  world: MmWorld,
  task: task_struct,
  pages: number,
  sharing: number,
  prot: number,
  window: number,
  name: string,
) {
  const HPAGE = 512 * PAGE;
  mapAnonymous(world, task, pages, sharing, prot, `${name}_map`);
  const map = world.buffer(`${name}_map`);
  const start = Math.ceil(map.start / HPAGE) * HPAGE;
  if (start + window * PAGE > map.start + pages * PAGE)
    throw new Error(
      `a ${window}-page window at a 2 MiB boundary does not fit in ${pages} pages at 0x${map.start.toString(16)}`,
    );
  world.addBuffer({ name, start, pages: window });
}

/** mapAligned on the kernel: the same mmap, and the window at ALIGN(ptr, 2 MiB). */
function cAligned(
  c: Translator,
  task: task_struct,
  pages: number,
  sharing: number,
  prot: string,
  window: number,
  name: string,
): void {
  c.run(
    task,
    `mm_map_aligned(${c.buf(`${name}_map`)}, ${c.buf(name)}, ${pages}, ${prot}, ${cSharing(sharing)}, ${window});`,
  );
}

Given(
  '{process} maps {size} of {sharing} anonymous memory, buffer {word} being its first 2 MiB-aligned {size}',
  function (this: MmWorld, task: task_struct, pages: number, sharing: number, name: string, window: number) {
    mapAligned(this, task, pages, sharing, mm.PROT_READ | mm.PROT_WRITE, window, name);
  },
  (c, task, pages, sharing, name, window) =>
    cAligned(c, task, pages, sharing, 'PROT_READ | PROT_WRITE', window, name),
);

Given(
  '{process} maps {size} of read-only {sharing} anonymous memory, buffer {word} being its first 2 MiB-aligned {size}',
  function (this: MmWorld, task: task_struct, pages: number, sharing: number, name: string, window: number) {
    mapAligned(this, task, pages, sharing, mm.PROT_READ, window, name);
  },
  (c, task, pages, sharing, name, window) => cAligned(c, task, pages, sharing, 'PROT_READ', window, name),
);

Given(
  'a file {string} of {int} pages, page i holding {value} + i',
  function (this: MmWorld, name: string, pages: number, base: number) {
    this.kernel.create_file(
      name,
      pages,
      Array.from({ length: pages }, (_, i) => base + i),
    );
  },
  (c, name, pages, base) => c.run(0, `mm_make_file(${cString(name)}, ${pages}, ${hex(base)}u);`),
);

Given(
  '{process} maps file {string} {sharing} as buffer {word}',
  function (this: MmWorld, task: task_struct, file: string, sharing: number, name: string) {
    const mapping = [...this.kernel.machine.address_spaces.values()].find((a) => a.name === file);
    if (!mapping) throw new Error(`unknown file "${file}"`);
    const pages = mapping.i_pages.length;
    this.mapBuffer(task, name, pages, { prot: mm.PROT_READ | mm.PROT_WRITE, flags: sharing, file: mapping });
  },
  (c, task, file, sharing, name) =>
    c.run(task, `mm_map_file(${c.buf(name)}, ${cString(file)}, ${cSharing(sharing)});`),
);

When(
  '{process} unmaps {pages}',
  function (this: MmWorld, task: task_struct, range: PageRange) {
    expect(this.kernel.munmap(task, this.address(range), range.count * PAGE), 'munmap()').to.equal(0);
  },
  (c, task, range) => c.run(task, `mm_unmap(${cRange(c, range)});`),
);

When(
  '{process} clears its soft-dirty bits',
  function (this: MmWorld, task: task_struct) {
    this.kernel.clear_soft_dirty(task);
  },
  (c, task) => c.run(task, 'mm_clear_refs();'),
);

When(
  '{process} makes {pages} {protection}',
  function (this: MmWorld, task: task_struct, range: PageRange, prot: number) {
    expect(this.kernel.mprotect(task, this.address(range), range.count * PAGE, prot), 'mprotect()').to.equal(
      0,
    );
  },
  (c, task, range, prot) =>
    c.run(
      task,
      `mm_expect0(mprotect(${cAddr(c, range)}, ${range.count} * MM_PAGE, ${cProt(prot)}), "mprotect");`,
    ),
);

When(
  '{process} advises {word} on {pages}',
  function (this: MmWorld, task: task_struct, advice: string, range: PageRange) {
    const advices: Record<string, number> = {
      MADV_DONTNEED: mm.MADV_DONTNEED,
      MADV_FREE: mm.MADV_FREE,
      MADV_HUGEPAGE: mm.MADV_HUGEPAGE,
      MADV_NOHUGEPAGE: mm.MADV_NOHUGEPAGE,
      MADV_COLLAPSE: mm.MADV_COLLAPSE,
    };
    if (!(advice in advices))
      throw new Error(`unknown madvise advice ${advice}; known: ${Object.keys(advices).join(', ')}`);
    expect(
      this.kernel.madvise(task, this.address(range), range.count * PAGE, advices[advice]),
      'madvise()',
    ).to.equal(0);
  },
  (c, task, advice, range) =>
    c.run(
      task,
      `mm_expect0(madvise(${cAddr(c, range)}, ${range.count} * MM_PAGE, ${advice}), "madvise(${advice})");`,
    ),
);

/**
 * The backings cow.c runs its anonymous tests on (do_run_with_base_page,
 * do_run_with_thp), as buffer X covering the `mem, size` the test gets, every
 * page holding the value (cow.c's memset):
 *   a small page      one page, MADV_NOHUGEPAGE
 *   a PMD-mapped THP  a 2 MiB-aligned window of a 4 MiB mapping, MADV_HUGEPAGE
 *   a PTE-mapped THP  the same, PTE-mapped by mprotect of its second page to
 *                     read-only and back (the VMA merges again)
 *   one THP PTE       the same, then MADV_DONTNEED of all but the first page;
 *                     buffer X is that first page only
 */
Given(
  '{process} has {cow_backing} as buffer X, holding {value}',
  function (this: MmWorld, task: task_struct, backing: string, value: number) {
    if (backing === 'a small page') {
      mapAnonymous(this, task, 1, mm.MAP_PRIVATE, mm.PROT_READ | mm.PROT_WRITE, 'X');
      const { start } = this.buffer('X');
      expect(this.kernel.madvise(task, start, PAGE, mm.MADV_NOHUGEPAGE), 'MADV_NOHUGEPAGE').to.equal(0);
      expect(this.kernel.access(task, start, 1, true, value).fault, 'writing the page').to.equal(null);
      return;
    }
    mapAligned(this, task, 1024, mm.MAP_PRIVATE, mm.PROT_READ | mm.PROT_WRITE, 512, 'X');
    const { start, pages } = this.buffer('X');
    expect(this.kernel.madvise(task, start, pages * PAGE, mm.MADV_HUGEPAGE), 'MADV_HUGEPAGE').to.equal(0);
    expect(this.kernel.access(task, start, pages, true, value).fault, 'writing the THP').to.equal(null);
    expect(
      this.kernel.folio_nr_pages(this.entry(task, { buffer: this.buffer('X'), first: 0, count: 1 }).page),
      'a THP was populated',
    ).to.equal(512);
    if (backing === 'a PTE-mapped THP' || backing === 'one THP PTE') {
      expect(
        this.kernel.mprotect(task, start + PAGE, PAGE, mm.PROT_READ),
        'mprotect(PROT_READ) of the second page',
      ).to.equal(0);
      expect(
        this.kernel.mprotect(task, start + PAGE, PAGE, mm.PROT_READ | mm.PROT_WRITE),
        'mprotect(PROT_READ | PROT_WRITE) of the second page',
      ).to.equal(0);
    }
    if (backing === 'one THP PTE') {
      expect(
        this.kernel.madvise(task, start + PAGE, (pages - 1) * PAGE, mm.MADV_DONTNEED),
        'MADV_DONTNEED',
      ).to.equal(0);
      this.addBuffer({ name: 'X', start, pages: 1 });
    }
  },
  (c, task, backing, value) => cBacking(c, task, backing, value),
);

/** cow.c's backings on the kernel, as the engine sets them up above; a THP that did not populate fails the scenario (cow.c skips it). */
function cBacking(c: Translator, task: task_struct, backing: string, value: number): void {
  const x = c.buf('X');
  if (backing === 'a small page') {
    c.run(task, `mm_map(${x}, 1, PROT_READ | PROT_WRITE, MAP_PRIVATE);`);
    c.run(task, `mm_expect0(madvise(mm_addr(${x}, 0), MM_PAGE, MADV_NOHUGEPAGE), "MADV_NOHUGEPAGE");`);
    c.run(task, `mm_write(${x}, 0, 1, ${hex(value)}u);`);
    return;
  }
  cAligned(c, task, 1024, mm.MAP_PRIVATE, 'PROT_READ | PROT_WRITE', 512, 'X');
  c.run(task, `mm_expect0(madvise(mm_addr(${x}, 0), MM_PMD, MADV_HUGEPAGE), "MADV_HUGEPAGE");`);
  c.run(task, `mm_write(${x}, 0, 512, ${hex(value)}u);`);
  c.run(
    task,
    `if (!(mm_categories((uintptr_t)mm_addr(${x}, 0)) & PAGE_IS_HUGE)) mm_fail("no THP was populated");`,
  );
  if (backing === 'a PTE-mapped THP' || backing === 'one THP PTE') {
    c.run(task, `mm_expect0(mprotect(mm_addr(${x}, 1), MM_PAGE, PROT_READ), "mprotect");`);
    c.run(task, `mm_expect0(mprotect(mm_addr(${x}, 1), MM_PAGE, PROT_READ | PROT_WRITE), "mprotect");`);
  }
  if (backing === 'one THP PTE') {
    c.run(task, `mm_expect0(madvise(mm_addr(${x}, 1), 511 * MM_PAGE, MADV_DONTNEED), "MADV_DONTNEED");`);
    c.run(task, `sh->pages[${x}] = 1;`);
  }
}

When(
  '{process} moves buffer {word} with mremap to {int} KiB past its end',
  function (this: MmWorld, task: task_struct, name: string, kib: number) {
    const b = this.buffer(name);
    const target = b.start + b.pages * PAGE + kib * 1024;
    expect(this.kernel.mremap(task, b.start, b.pages * PAGE, target), 'mremap()').to.equal(target);
    this.buffers.set(name, { ...b, start: target });
  },
  (c, task, name, kib) => c.run(task, `mm_mremap(${c.buf(name)}, ${kib});`),
);
