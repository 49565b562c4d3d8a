/**
 * The vocabulary of features/conformance/hmm_tests: tools/testing/selftests/mm/hmm-tests.c
 * restated step for step. The C test's process is `process T`; its fork
 * child is `process C`. `ptr[i]` is the buffer as the CPU sees it, `mirror[i]`
 * the ioctls' bounce buffer (buffer->mirror); see support/patterns.ts for how
 * the ints are held. Each ioctl step runs hmm_dmirror_cmd() and keeps its
 * return value, cpages and faults for the Then-steps.
 */
import { expect } from 'chai';
import type { task_struct } from '../engine/include/linux/mm_types';
import { cPattern, cRange, errnoName } from '../support/c';
import { DMIRROR_IOCTLS } from '../support/parameter_types';
import {
  firstMismatch,
  INTS_PER_PAGE,
  type IntPattern,
  incremented,
  intOf,
  patternWord,
} from '../support/patterns';
import { Given, Then, type Translator, When } from '../support/vocabulary';
import type { MmWorld, PageRange } from '../support/world';

function fixture(world: MmWorld) {
  if (!world.kselftest) throw new Error('no hmm-tests fixture: add "Given the hmm fixture with variant …"');
  return world.kselftest;
}

/** The device number behind the fixture's fd (or fd0/fd1). */
function deviceOf(world: MmWorld, fd: number): number {
  const f = fixture(world);
  if (f.fixture === 'hmm' && fd !== 0) throw new Error('FIXTURE(hmm) has one fd; fd0 and fd1 belong to hmm2');
  return f.devices[fd];
}

/** The bounce buffer of a buffer, created zeroed (hmm_buffer_alloc callocs nothing; malloc'd pages read 0 here). */
function bounceOf(world: MmWorld, name: string): number[] {
  let b = world.bounce.get(name);
  if (!b) {
    b = new Array(world.buffer(name).pages).fill(0);
    world.bounce.set(name, b);
  }
  return b;
}

/**
 * hmm_dmirror_cmd(fd, request, buffer, npages): the ioctl on the process's open
 * device file. On success READ, SNAPSHOT and MIGRATE_TO_DEV copy their
 * bounce data into the mirror; WRITE sends the mirror's words.
 */
export function dmirrorCmd(world: MmWorld, task: task_struct, fd: number, name: string, range: PageRange) {
  dmirrorCmdOnDevice(world, task, deviceOf(world, fd), name, range);
}

/** hmm_dmirror_cmd() on a file of /dev/hmm_dmirror<device> the process opened itself (a fork child's `child_fd`). */
export function dmirrorCmdOnDevice(
  world: MmWorld,
  task: task_struct,
  device: number,
  name: string,
  range: PageRange,
) {
  const d = world.mirrors.get(`${device}/${task.pid}`);
  if (!d) throw new Error(`process ${task.comm} has not opened /dev/hmm_dmirror${device}`);
  const mirror = bounceOf(world, range.buffer.name);
  const ptr = name === 'WRITE' ? mirror.slice(range.first, range.first + range.count) : [];
  const { ret, cmd } = world.dmirrorIoctl(d, DMIRROR_IOCTLS[name], world.address(range), range.count, ptr);
  world.lastCommand = { name, ret, cmd };
  if (ret === 0 && name !== 'WRITE')
    cmd.ptr.forEach((word, k) => {
      mirror[range.first + k] = word;
    });
  if (ret !== 0) world.expectClaim(`errno ${ret}`, `HMM_DMIRROR_${name} on /dev/hmm_dmirror${device}`);
}

function lastCommand(world: MmWorld) {
  const c = world.lastCommand;
  if (!c) throw new Error('no HMM_DMIRROR ioctl ran');
  return c;
}

function expectPattern(words: readonly number[], p: IntPattern, range: PageRange, what: string): void {
  const bad = firstMismatch(words, p, range.first);
  expect(
    bad,
    bad ? `${what}: page ${bad.page} of buffer ${range.buffer.name} holds ${bad.got}, not ${bad.want}` : '',
  ).to.equal(null);
}

type Variant = { fixture: 'hmm' | 'hmm2'; variant: string; devices: number[] };

function setUpFixture(world: MmWorld, name: string, v: Variant, chunk_pages?: number): void {
  if (name !== v.fixture)
    throw new Error(`variant ${v.variant} belongs to FIXTURE(${v.fixture}), not ${name}`);
  world.hmm = world.kernel.load_hmm_dmirror({ coherent: v.devices[0] === 2, chunk_pages });
  world.kselftest = v;
  const task = world.kernel.spawn('T');
  world.addProcess('T', task);
  /* FIXTURE_SETUP: hmm opens one device, hmm2 two. */
  for (const device of v.fixture === 'hmm' ? v.devices.slice(0, 1) : v.devices) world.mirror(device, task);
}

/** FIXTURE_SETUP on the kernel: process T opens /dev/hmm_dmirror<n> (both files for hmm2). */
function cFixture(c: Translator, v: Variant): void {
  const t = c.proc('T');
  c.run(0, `mm_spawn(${t});`);
  for (const device of v.fixture === 'hmm' ? v.devices.slice(0, 1) : v.devices)
    c.run(t, `mm_dev(${device});`);
}

/** The request macro of a dmirror ioctl's short name (READ → HMM_DMIRROR_READ). */
export const cIoctl = (name: string): string => `HMM_DMIRROR_${name}`;

Given(
  'the {word} fixture with variant {kselftest_variant}',
  function (this: MmWorld, name: string, v: Variant) {
    setUpFixture(this, name, v);
  },
  (c, _name, v) => cFixture(c, v),
);

/* The engine's chunks are 1024 pages unless a scenario asks for the driver's 256 MiB (DEVMEM_CHUNK_SIZE). */
Given(
  'the {word} fixture with variant {kselftest_variant}, its chunks {size} each',
  function (this: MmWorld, name: string, v: Variant, pages: number) {
    setUpFixture(this, name, v, pages);
  },
  (c) => c.cannot("test_hmm's chunk size is DEVMEM_CHUNK_SIZE; a scenario cannot set it"),
);

When(
  '{process} closes {fd}',
  function (this: MmWorld, task: task_struct, fd: number) {
    const key = `${deviceOf(this, fd)}/${task.pid}`;
    const d = this.mirrors.get(key);
    if (!d) throw new Error(`process ${task.comm} has no open /dev/hmm_dmirror${deviceOf(this, fd)}`);
    this.kernel.dmirror_close(this.driver(), d);
    this.mirrors.delete(key);
  },
  function (this: MmWorld, c, task, fd) {
    c.run(task, `mm_close_dev(${deviceOf(this, fd)});`);
  },
);

When(
  '{process} runs {dmirror_ioctl} on {pages}',
  function (this: MmWorld, task: task_struct, name: string, range: PageRange) {
    dmirrorCmd(this, task, 0, name, range);
  },
  function (this: MmWorld, c, task, name, range) {
    c.run(task, `mm_dmirror(${deviceOf(this, 0)}, ${cIoctl(name)}, ${cRange(c, range)});`);
  },
);

When(
  '{process} runs {dmirror_ioctl} on {pages} through {fd}',
  function (this: MmWorld, task: task_struct, name: string, range: PageRange, fd: number) {
    dmirrorCmd(this, task, fd, name, range);
  },
  function (this: MmWorld, c, task, name, range, fd) {
    c.run(task, `mm_dmirror(${deviceOf(this, fd)}, ${cIoctl(name)}, ${cRange(c, range)});`);
  },
);

Then(
  'it returns 0',
  function (this: MmWorld) {
    expect(lastCommand(this).ret, `HMM_DMIRROR_${lastCommand(this).name}`).to.equal(0);
  },
  (c) => c.observe(undefined, 'mm_obs_cmd(0, 0);', { ret: '0' }),
);

Then(
  'it returns {errno}',
  function (this: MmWorld, errno: number) {
    expect(lastCommand(this).ret, `HMM_DMIRROR_${lastCommand(this).name}`).to.equal(errno);
    this.claim(`errno ${errno}`);
  },
  (c, errno) => c.observe(undefined, 'mm_obs_cmd(0, 0);', { ret: errnoName(errno) }),
);

Then(
  'it returns 0, with cpages {int}',
  function (this: MmWorld, cpages: number) {
    const c = lastCommand(this);
    expect({ ret: c.ret, cpages: c.cmd.cpages }, `HMM_DMIRROR_${c.name}`).to.deep.equal({ ret: 0, cpages });
  },
  (c, cpages) => c.observe(undefined, 'mm_obs_cmd(1, 0);', { ret: '0', cpages }),
);

Then(
  'it returns 0, with cpages {int} and faults {int}',
  function (this: MmWorld, cpages: number, faults: number) {
    const c = lastCommand(this);
    expect({ ret: c.ret, cpages: c.cmd.cpages, faults: c.cmd.faults }, `HMM_DMIRROR_${c.name}`).to.deep.equal(
      {
        ret: 0,
        cpages,
        faults,
      },
    );
  },
  (c, cpages, faults) => c.observe(undefined, 'mm_obs_cmd(1, 1);', { ret: '0', cpages, faults }),
);

Given(
  '{process} sets ptr[i] = {ints} over {pages}',
  function (this: MmWorld, task: task_struct, p: IntPattern, range: PageRange) {
    const words = Array.from({ length: range.count }, (_, k) => patternWord(p, range.first + k));
    const r = this.kernel.access(task, this.address(range), range.count, true, words);
    expect(r.fault, `process ${task.comm} storing to buffer ${range.buffer.name}`).to.equal(null);
  },
  (c, task, p, range) => c.run(task, `mm_set(${cRange(c, range)}, ${cPattern(p)});`),
);

Given(
  'mirror[i] = {ints} over {pages}',
  function (this: MmWorld, p: IntPattern, range: PageRange) {
    const mirror = bounceOf(this, range.buffer.name);
    for (let k = 0; k < range.count; k++) mirror[range.first + k] = patternWord(p, range.first + k);
  },
  (c, p, range) => c.run(undefined, `mm_mirror_set(${cRange(c, range)}, ${cPattern(p)});`),
);

Then(
  'mirror[i] == {ints} over {pages}',
  function (this: MmWorld, p: IntPattern, range: PageRange) {
    const mirror = bounceOf(this, range.buffer.name);
    expectPattern(mirror.slice(range.first, range.first + range.count), p, range, 'mirror');
  },
  (c, p, range) =>
    c.observe(undefined, `mm_obs_mirror(${cRange(c, range)}, ${cPattern(p)});`, { mismatch: null }),
);

/** The C test's check loop `ASSERT_EQ(ptr[i], …)`: a CPU load of every int, which faults pages in as it goes. */
Then(
  '{process} reads ptr[i] == {ints} over {pages}',
  function (this: MmWorld, task: task_struct, p: IntPattern, range: PageRange) {
    const r = this.kernel.access(task, this.address(range), range.count, false);
    expect(r.fault, `process ${task.comm} loading from buffer ${range.buffer.name}`).to.equal(null);
    expectPattern(r.values, p, range, `ptr, as process ${task.comm} reads it`);
  },
  (c, task, p, range) =>
    c.observe(task, `mm_obs_pattern(${cRange(c, range)}, ${cPattern(p)});`, { mismatch: null }),
);

/** `val = ptr[n]`: one CPU load of one int. */
When(
  '{process} reads ptr[{int}] of buffer {word}',
  function (this: MmWorld, task: task_struct, n: number, name: string) {
    const b = this.buffer(name);
    const page = Math.floor(n / INTS_PER_PAGE);
    if (page >= b.pages) throw new Error(`ptr[${n}] is outside buffer ${name} (${b.pages} pages)`);
    const r = this.kernel.access(task, b.start + page * 4096, 1, false);
    if (r.fault) {
      this.expectClaim(r.fault, `load of ptr[${n}] by process ${task.comm}`);
      this.lastInts = [];
      return;
    }
    this.lastInts = [intOf(r.values[0], n % INTS_PER_PAGE)];
  },
  (c, task, n, name) => c.run(task, `mm_load_int(${c.buf(name)}, ${n});`),
);

Then(
  'the load returns {int}',
  function (this: MmWorld, value: number) {
    expect(this.lastInts, 'the last ptr[n] load').to.deep.equal([value]);
  },
  (c, value) => c.observe(undefined, 'mm_obs_load();', { load: value }),
);

/** `ASSERT_EQ(ptr[i]++, i)` over every int, then the re-read: a load and a store of each int, as hmm-tests.c `exclusive` does. */
When(
  '{process} post-increments every int of {pages}, reading {ints} before',
  function (this: MmWorld, task: task_struct, range: PageRange, before: IntPattern) {
    const old: number[] = [];
    const r = this.kernel.access(task, this.address(range), range.count, true, (word: number) => {
      old.push(word);
      return incremented(word);
    });
    expect(r.fault, `process ${task.comm} incrementing buffer ${range.buffer.name}`).to.equal(null);
    expectPattern(old, before, range, `ptr before the increment, in process ${task.comm}`);
  },
  (c, task, range, before) =>
    c.observe(task, `mm_post_increment(${cRange(c, range)}, ${cPattern(before)});`, { mismatch: null }),
);

Then(
  'the snapshot bytes are {bytes}',
  function (this: MmWorld, bytes: number[]) {
    const c = lastCommand(this);
    if (c.name !== 'SNAPSHOT') throw new Error(`the last ioctl was HMM_DMIRROR_${c.name}, not SNAPSHOT`);
    const hex = (v: number[]) => v.map((b) => `0x${b.toString(16).padStart(2, '0')}`);
    expect(hex(c.cmd.ptr), 'SNAPSHOT bytes').to.deep.equal(hex(bytes));
  },
  (c, bytes) =>
    c.observe(undefined, 'mm_obs_snapshot();', {
      ret: '0',
      bytes: bytes.map((b: number) => `0x${b.toString(16).padStart(2, '0')}`),
    }),
);

Then(
  'every snapshot byte is {value}',
  function (this: MmWorld, value: number) {
    const c = lastCommand(this);
    if (c.name !== 'SNAPSHOT') throw new Error(`the last ioctl was HMM_DMIRROR_${c.name}, not SNAPSHOT`);
    expect(c.cmd.ptr.length, 'SNAPSHOT bytes').to.equal(c.cmd.npages);
    const hex = (v: number) => `0x${v.toString(16).padStart(2, '0')}`;
    expect(c.cmd.ptr.map(hex), 'SNAPSHOT bytes').to.deep.equal(c.cmd.ptr.map(() => hex(value)));
  },
  function (this: MmWorld, c, value) {
    const n = lastCommand(this).cmd.npages;
    c.observe(undefined, 'mm_obs_snapshot();', {
      ret: '0',
      bytes: new Array(n).fill(`0x${value.toString(16).padStart(2, '0')}`),
    });
  },
);

Then(
  "{process}'s mm has {int} MMU interval notifier(s)",
  function (this: MmWorld, task: task_struct, n: number) {
    expect(
      this.kernel.mm_of(task).notifier_subscriptions.itree.length,
      'mmu_interval_notifier subscriptions',
    ).to.equal(n);
  },
  (c) => c.notObservable("the mm's MMU interval notifiers"),
);
