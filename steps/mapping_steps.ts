import { expect } from 'chai';
import { mm } from '../engine';
import type { task_struct } from '../engine/include/linux/mm_types';
import { cAddr, cProt, cRange, cSharing, cString, errnoName, hex } from '../support/c';
import { type Drawn, type Model, PROT_READ, PROT_WRITE, sizeText } from '../support/explore';
import { Given, Then, type Translator, When } from '../support/vocabulary';
import { type MmWorld, PAGE, type PageRange } from '../support/world';

/**
 * A syscall's return: a Then-step must claim an error (`Then the call fails
 * with -ENOMEM`); the C translation makes the same call and, where the engine
 * failed it, records errno for that Then-step instead of stopping.
 */
function syscall(world: MmWorld, name: string, ret: number): void {
  world.lastSyscall = ret;
  if (ret !== 0) world.expectClaim(`errno ${ret}`, `${name} returned ${errnoName(ret)}`);
}

const cSyscall = (world: MmWorld, call: string, name: string): string =>
  world.lastSyscall === 0 ? `mm_expect0(${call}, "${name}");` : `mm_syscall_errno(${call});`;

/** The explorer's anonymous mapping: 1, 4 or 8 pages, private or shared. */
function drawAnonymous(m: Model, r: import('../support/explore').Draw): Drawn | null {
  const p = m.someProcess(r);
  if (!p || p.bufs.size >= 4) return null;
  const pages = r.one([4, 1, 8]) ?? 4;
  const shared = r.chance(30);
  const name = m.bufName();
  return {
    args: [`process ${p.name}`, sizeText(pages), shared ? 'shared' : 'private', name],
    predict: null,
    after: (_outcome, world) =>
      void m.placed(
        p,
        m.mapAnonymous(p, name, pages, shared, PROT_READ | PROT_WRITE, m.thp === 'always'),
        world.buffer(name).start,
      ),
  };
}

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
  { weight: 8, draw: drawAnonymous },
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
  {
    weight: 2,
    draw(m) {
      if (m.files.size >= 2) return null;
      const name = m.fileName();
      const base = m.files.size === 0 ? 0x1000 : 0x2000;
      return {
        args: [`"${name}"`, '4', `0x${base.toString(16)}`],
        predict: null,
        after: () => {
          m.files.set(name, { id: `file:${name}`, vals: [0, 1, 2, 3].map((i) => base + i) });
          return undefined;
        },
      };
    },
  },
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
  {
    weight: 4,
    draw(m, r) {
      const p = m.someProcess(r);
      const file = r.one([...m.files.keys()]);
      if (!p || !file || p.bufs.size >= 4) return null;
      const shared = r.chance(50);
      const name = m.bufName();
      return {
        args: [`process ${p.name}`, `"${file}"`, shared ? 'shared' : 'private', name],
        predict: null,
        after: (_outcome, world) =>
          void m.placed(
            p,
            m.mapFile(p, name, m.files.get(file) as NonNullable<ReturnType<typeof m.files.get>>, shared),
            world.buffer(name).start,
          ),
      };
    },
  },
);

When(
  '{process} unmaps {pages}',
  function (this: MmWorld, task: task_struct, range: PageRange) {
    syscall(this, 'munmap()', this.kernel.munmap(task, this.address(range), range.count * PAGE));
  },
  (c, task, range) => c.run(task, `mm_unmap(${cRange(c, range)});`),
  {
    weight: 4,
    draw(m, r) {
      const at = m.somePlace(r);
      if (!at) return null;
      const { p, range } = at;
      return {
        args: [`process ${p.name}`, range.text],
        predict: null,
        claimErrno: 'the call fails with {errno}',
        after: () => void m.unmap(p, range),
      };
    },
  },
);

When(
  '{process} clears its soft-dirty bits',
  function (this: MmWorld, task: task_struct) {
    this.kernel.clear_soft_dirty(task);
  },
  (c, task) => c.run(task, 'mm_clear_refs();'),
  {
    weight: 2,
    draw(m, r) {
      const p = m.someProcess(r);
      return p ? { args: [`process ${p.name}`], predict: null } : null;
    },
  },
);

When(
  '{process} makes {pages} {protection}',
  function (this: MmWorld, task: task_struct, range: PageRange, prot: number) {
    syscall(this, 'mprotect()', this.kernel.mprotect(task, this.address(range), range.count * PAGE, prot));
  },
  function (this: MmWorld, c, task, range, prot) {
    c.run(
      task,
      cSyscall(this, `mprotect(${cAddr(c, range)}, ${range.count} * MM_PAGE, ${cProt(prot)})`, 'mprotect'),
    );
  },
  {
    weight: 6,
    draw(m, r) {
      const at = m.somePlace(r);
      if (!at) return null;
      const { p, buf, range } = at;
      /* mprotect over a hole fails half-way (-ENOMEM), having changed what came before it: not drawn. */
      for (let i = 0; i < range.count; i++) if (!m.mapped(buf, range.first + i)) return null;
      const [text, prot] = r.one([
        ['read-only', PROT_READ],
        ['read-write', PROT_READ | PROT_WRITE],
        ['inaccessible', 0],
      ] as const) ?? ['read-only', PROT_READ];
      /* A shared file mapping opened read-write, or anonymous memory: every protection is allowed. */
      return {
        args: [`process ${p.name}`, range.text, text],
        predict: null,
        claimErrno: 'the call fails with {errno}',
        after: (outcome) => {
          if (outcome === null) m.protect(range, prot);
          return undefined;
        },
      };
    },
  },
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
      MADV_DONTFORK: mm.MADV_DONTFORK,
      MADV_DOFORK: mm.MADV_DOFORK,
      MADV_WIPEONFORK: mm.MADV_WIPEONFORK,
      MADV_KEEPONFORK: mm.MADV_KEEPONFORK,
    };
    if (!(advice in advices))
      throw new Error(`unknown madvise advice ${advice}; known: ${Object.keys(advices).join(', ')}`);
    syscall(
      this,
      `madvise(${advice})`,
      this.kernel.madvise(task, this.address(range), range.count * PAGE, advices[advice]),
    );
  },
  function (this: MmWorld, c, task, advice, range) {
    c.run(
      task,
      cSyscall(
        this,
        `madvise(${cAddr(c, range)}, ${range.count} * MM_PAGE, ${advice})`,
        `madvise(${advice})`,
      ),
    );
  },
  {
    weight: 8,
    draw(m, r) {
      const at = m.somePlace(r);
      if (!at) return null;
      const { p, buf, range } = at;
      const advice =
        r.one(['MADV_DONTNEED', 'MADV_HUGEPAGE', 'MADV_FREE', 'MADV_NOHUGEPAGE', 'MADV_COLLAPSE']) ??
        'MADV_DONTNEED';
      /* MADV_FREE is for private anonymous memory only (madvise_free_single_vma: -EINVAL, having done nothing). */
      if (advice === 'MADV_FREE' && buf.kind !== 'private anonymous') return null;
      return {
        args: [`process ${p.name}`, advice, range.text],
        claimErrno: 'the call fails with {errno}',
        after: () => {
          /* Over a hole the kernel still applies the advice to what is mapped, then says -ENOMEM (madvise_walk_vmas). */
          if (advice === 'MADV_DONTNEED') m.dontneed(p, range);
          if (advice === 'MADV_FREE') m.free(p, range);
          return undefined;
        },
      };
    },
  },
);

/* The errno the last munmap, mprotect or madvise returned, as mmspec.h's mm_syscall_errno recorded it. */
Then(
  'the call fails with {errno}',
  function (this: MmWorld, errno: number) {
    expect(errnoName(this.lastSyscall), 'the return value of the last call').to.equal(errnoName(errno));
    this.claim(`errno ${errno}`);
  },
  (c, errno) => c.observe(undefined, 'mm_obs_errno();', { errno: errnoName(errno) }),
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

/**
 * `mremap(old, len, len, flags, old + len + kib)`: the same move, with the
 * flags spelled out, so MREMAP_DONTUNMAP can leave the old range mapped
 * (and empty). Keep a pointer to the old range first to look at it.
 */
When(
  '{process} moves buffer {word} with mremap\\({mremap_flags}) to {int} KiB past its end',
  function (this: MmWorld, task: task_struct, name: string, dontunmap: boolean, kib: number) {
    const b = this.buffer(name);
    const target = b.start + b.pages * PAGE + kib * 1024;
    expect(this.kernel.mremap(task, b.start, b.pages * PAGE, target, dontunmap), 'mremap()').to.equal(target);
    this.buffers.set(name, { ...b, start: target });
  },
  (c, task, name, dontunmap, kib) =>
    c.run(task, `mm_mremap_flags(${c.buf(name)}, ${kib}, ${dontunmap ? 1 : 0});`),
);

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
