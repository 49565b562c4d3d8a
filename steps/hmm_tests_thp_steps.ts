/**
 * The steps hmm-tests.c's device-private THP tests add to the vocabulary of
 * steps/hmm_tests_steps.ts: the FLAGS ioctl (HMM_DMIRROR_FLAG_FAIL_ALLOC),
 * /proc/self/pagemap, the check loop that skips an unmapped hole,
 * migrate_remap_fault's mremap before or after the migration, and the
 * pointer migrate_anon_huge_zero_err keeps across a remap.
 */
import { expect } from 'chai';
import { pagemap, test_hmm } from '../engine';
import type { task_struct } from '../engine/include/linux/mm_types';
import { cPattern, cRange } from '../support/c';
import { firstMismatch, type IntPattern } from '../support/patterns';
import { Given, Then, When } from '../support/vocabulary';
import { type MmWorld, PAGE, type PageRange } from '../support/world';
import { cIoctl, dmirrorCmd } from './hmm_tests_steps';

/** The bit number of a pagemap bit (fs/proc/task_mmu.c PM_*). */
const pmBitNumber = (name: string): number => pmBit(name).toString(2).length - 1;

const FLAGS: Record<string, number> = {
  HMM_DMIRROR_FLAG_FAIL_ALLOC: test_hmm.HMM_DMIRROR_FLAG_FAIL_ALLOC,
};

const PM_BITS: Record<string, bigint> = {
  PM_SOFT_DIRTY: pagemap.PM_SOFT_DIRTY,
  PM_MMAP_EXCLUSIVE: pagemap.PM_MMAP_EXCLUSIVE,
  PM_FILE: pagemap.PM_FILE,
  PM_SWAP: pagemap.PM_SWAP,
  PM_PRESENT: pagemap.PM_PRESENT,
};

/** The entries the last pagemap read returned, by world. */
const pagemapEntries = new WeakMap<MmWorld, { range: PageRange; entries: bigint[] }>();

function pmBit(name: string): bigint {
  const bit = PM_BITS[name];
  if (bit === undefined)
    throw new Error(`unknown pagemap bit ${name}; known: ${Object.keys(PM_BITS).join(', ')}`);
  return bit;
}

/**
 * `hmm_dmirror_cmd(fd, HMM_DMIRROR_FLAGS, buffer, flags)`: the flags travel
 * in cmd.npages. The result is kept as the last command, for `it returns 0`.
 */
When(
  '{process} runs HMM_DMIRROR_FLAGS with {word} on buffer {word}',
  function (this: MmWorld, task: task_struct, flag: string, name: string) {
    if (!(flag in FLAGS))
      throw new Error(`unknown dmirror flag ${flag}; known: ${Object.keys(FLAGS).join(', ')}`);
    const f = this.kselftest;
    if (!f) throw new Error('no hmm-tests fixture');
    const d = this.mirrors.get(`${f.devices[0]}/${task.pid}`);
    if (!d) throw new Error(`process ${task.comm} has not opened /dev/hmm_dmirror${f.devices[0]}`);
    const { ret, cmd } = this.dmirrorIoctl(
      d,
      test_hmm.HMM_DMIRROR_FLAGS,
      this.buffer(name).start,
      FLAGS[flag],
    );
    this.lastCommand = { name: 'FLAGS', ret, cmd };
    if (ret !== 0) this.expectClaim(`errno ${ret}`, `HMM_DMIRROR_FLAGS on /dev/hmm_dmirror${f.devices[0]}`);
  },
  function (this: MmWorld, c, task, flag, name) {
    c.run(task, `mm_dmirror_flags(${this.kselftest?.devices[0]}, ${c.buf(name)}, ${flag});`);
  },
);

/** `pagemap_fd = open("/proc/self/pagemap")` and `pagemap_get_entry()` for each page of the range. */
When(
  '{process} reads \\/proc\\/self\\/pagemap over {pages}',
  function (this: MmWorld, task: task_struct, range: PageRange) {
    pagemapEntries.set(this, { range, entries: this.kernel.pagemap(task, this.address(range), range.count) });
  },
  (c, task, range) => c.run(task, `mm_read_pagemap(${cRange(c, range)});`),
);

Then(
  'every pagemap entry has {word} set and {word} clear',
  function (this: MmWorld, set: string, clear: string) {
    const read = pagemapEntries.get(this);
    if (!read) throw new Error('no pagemap was read');
    const want = { set: true, clear: false };
    read.entries.forEach((entry, k) => {
      const got = { set: (entry & pmBit(set)) !== 0n, clear: (entry & pmBit(clear)) !== 0n };
      expect(
        got,
        `pagemap entry of page ${read.range.first + k} of buffer ${read.range.buffer.name}: 0x${entry.toString(16)} (${set}, ${clear})`,
      ).to.deep.equal(want);
    });
  },
  function (this: MmWorld, c, set, clear) {
    const n = pagemapEntries.get(this)?.entries.length ?? 0;
    c.observe(undefined, `mm_obs_pagemap_bits(${pmBitNumber(set)}, ${pmBitNumber(clear)});`, {
      set: n,
      clear: n,
    });
  },
);

/**
 * The C check loop that skips the unmapped hole: `if (i * sizeof(int) <
 * offset || i * sizeof(int) >= offset + unmap_size) ASSERT_EQ(ptr[i], i)`,
 * CPU loads in address order, each faulting its page back.
 */
Then(
  '{process} reads ptr[i] == {ints} over buffer {word}, except pages {int}-{int}',
  function (this: MmWorld, task: task_struct, p: IntPattern, name: string, first: number, last: number) {
    const b = this.buffer(name);
    if (first > last || last >= b.pages)
      throw new Error(`pages ${first}-${last} are not inside buffer ${name}`);
    for (const [from, count] of [
      [0, first],
      [last + 1, b.pages - last - 1],
    ]) {
      if (count === 0) continue;
      const r = this.kernel.access(task, b.start + from * PAGE, count, false);
      expect(
        r.fault,
        `process ${task.comm} loading from pages ${from}-${from + count - 1} of buffer ${name}`,
      ).to.equal(null);
      const bad = firstMismatch(r.values, p, from);
      expect(
        bad,
        bad ? `ptr: page ${bad.page} of buffer ${name} holds ${bad.got}, not ${bad.want}` : '',
      ).to.equal(null);
    }
  },
  function (this: MmWorld, c, task, p, name, first, last) {
    const b = c.buf(name);
    const pages = this.buffer(name).pages;
    if (first > 0) c.observe(task, `mm_obs_pattern(${b}, 0, ${first}, ${cPattern(p)});`, { mismatch: null });
    if (last + 1 < pages)
      c.observe(task, `mm_obs_pattern(${b}, ${last + 1}, ${pages - last - 1}, ${cPattern(p)});`, {
        mismatch: null,
      });
  },
);

/**
 * migrate_remap_fault's two orders: `before` moves the buffer with
 * mremap(map, P, P, flags, map + P + offset) and then migrates it at its new
 * address; otherwise the migration runs first and the mremap moves what the
 * device now holds. mremap must not fail; buffer B follows the move.
 */
When(
  '{process} runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer {word} {word} an mremap\\({mremap_flags}) of it to {int} KiB past its end',
  function (this: MmWorld, task: task_struct, name: string, when: string, dontunmap: boolean, kib: number) {
    if (when !== 'before' && when !== 'after') throw new Error(`"${when}": write before or after`);
    const migrate = () => {
      const b = this.buffer(name);
      dmirrorCmd(this, task, 0, 'MIGRATE_TO_DEV', { buffer: b, first: 0, count: b.pages });
    };
    if (when === 'before') migrate();
    const b = this.buffer(name);
    const target = b.start + b.pages * PAGE + kib * 1024;
    expect(this.kernel.mremap(task, b.start, b.pages * PAGE, target, dontunmap), 'mremap()').to.equal(target);
    this.buffers.set(name, { ...b, start: target });
    if (when === 'after') migrate();
  },
  function (this: MmWorld, c, task, name, when, dontunmap, kib) {
    const b = c.buf(name);
    const migrate = `mm_dmirror(${this.kselftest?.devices[0]}, ${cIoctl('MIGRATE_TO_DEV')}, ${b}, 0, sh->pages[${b}]);`;
    if (when === 'before') c.run(task, migrate);
    c.run(task, `mm_mremap_flags(${b}, ${kib}, ${dontunmap ? 1 : 0});`);
    if (when === 'after') c.run(task, migrate);
  },
);

/** `ptr = buffer->ptr`: a pointer the test keeps, as a buffer of its own at the same address. */
Given(
  '{process} keeps a pointer to buffer {word}, as buffer {word}',
  function (this: MmWorld, _task: task_struct, name: string, alias: string) {
    const b = this.buffer(name);
    this.addBuffer({ name: alias, start: b.start, pages: b.pages });
  },
  (c, task, name, alias) =>
    c.run(task, `mm_alias(${c.buf(alias)}, ${c.buf(name)}, 0, sh->pages[${c.buf(name)}]);`),
);

Then(
  'buffer {word} still points at buffer {word}',
  function (this: MmWorld, alias: string, name: string) {
    expect(
      `0x${this.buffer(alias).start.toString(16)}`,
      `buffer ${alias} (a pointer kept from before) against the new buffer ${name}`,
    ).to.equal(`0x${this.buffer(name).start.toString(16)}`);
  },
  function (this: MmWorld, c, alias, name) {
    c.observe(undefined, `mm_obs_same_address(${c.buf(alias)}, ${c.buf(name)});`, {
      'same address': this.buffer(alias).start === this.buffer(name).start,
    });
  },
);

/** `munmap(map + size, len)`: unmap what follows the buffer, to make room for an mremap. */
When(
  '{process} unmaps the {size} after buffer {word}',
  function (this: MmWorld, task: task_struct, pages: number, name: string) {
    const b = this.buffer(name);
    expect(this.kernel.munmap(task, b.start + b.pages * PAGE, pages * PAGE), 'munmap()').to.equal(0);
  },
  (c, task, pages, name) =>
    c.run(
      task,
      `mm_expect0(munmap(mm_addr(${c.buf(name)}, sh->pages[${c.buf(name)}]), ${pages} * MM_PAGE), "munmap");`,
    ),
);
