/**
 * hmm-tests.c vocabulary for fork children, files, two devices and the
 * tests that loop (anon_read_multiple, migrate_multiple, anon_teardown).
 * A fork child opens its own device file as `child_fd`; a test's file is
 * named ("f") and read or written with pread/pwrite; a loop is one step that
 * runs every round in the same process and device file, as the C test does,
 * and records each round for the Then-steps.
 */
import type { DataTable } from '@cucumber/cucumber';
import { expect } from 'chai';
import { mm } from '../engine';
import type { address_space, task_struct } from '../engine/include/linux/mm_types';
import { cPattern, cRange, cSharing, cString, errnoName } from '../support/c';
import { PROT_READ, PROT_WRITE } from '../support/explore';
import {
  describePattern,
  firstMismatch,
  INTS_PER_PAGE,
  type IntPattern,
  patternWord,
  storeInt,
} from '../support/patterns';
import { Given, Then, When } from '../support/vocabulary';
import { type MmWorld, PAGE, type PageRange } from '../support/world';
import { cIoctl, dmirrorCmdOnDevice } from './hmm_tests_steps';

const HPAGE = 512 * PAGE;

/** The devices each process opened itself, by process name (`child_fd = hmm_open(0)`). */
const childFds = new WeakMap<MmWorld, Map<string, number>>();

/** What one round of a looping test did, for the Then-steps. */
interface Round {
  readonly c: number;
  /** Each ioctl of the round: its return value and, on success, cpages, faults and the mirror's words. */
  readonly ioctls: Map<string, { ret: number; cpages: number; faults: number; mirror: number[] }>;
  /** The words the CPU read back, or the fault that stopped it. */
  read: { words: number[]; fault: string | null } | null;
  /** Where another thread's munmap ran (anon_teardown); null when it ran after the ioctl. */
  landed?: string | null;
}
const rounds = new WeakMap<MmWorld, Round[]>();

function fileNamed(world: MmWorld, name: string): address_space {
  const file = [...world.kernel.machine.address_spaces.values()].find((a) => a.name === name);
  if (!file) throw new Error(`no file "${name}": add "Given a temporary file "${name}" of …"`);
  return file;
}

const mapAnon = (
  world: MmWorld,
  task: task_struct,
  pages: number,
  flags: number,
  prot: number,
  name: string,
) => world.mapAnonymous(task, pages, flags, prot, name);

/* ---------------- mappings ---------------- */

Given(
  '{process} maps {size} of {sharing} anonymous memory, buffer {word} being its first {size}',
  function (this: MmWorld, task: task_struct, pages: number, sharing: number, name: string, window: number) {
    const start = mapAnon(this, task, pages, sharing, mm.PROT_READ | mm.PROT_WRITE, `${name}_map`);
    if (window > pages) throw new Error(`a ${window}-page buffer does not fit in ${pages} pages`);
    this.addBuffer({ name, start, pages: window });
  },
  (c, task, pages, sharing, name, window) => {
    c.run(task, `mm_map(${c.buf(`${name}_map`)}, ${pages}, PROT_READ | PROT_WRITE, ${cSharing(sharing)});`);
    c.run(task, `mm_alias(${c.buf(name)}, ${c.buf(`${name}_map`)}, 0, ${window});`);
  },
);

/** hmm-tests.c's THP buffer: `map = ALIGN(ptr, size); madvise(map, size, MADV_HUGEPAGE)`. */
Given(
  '{process} maps {size} of {sharing} anonymous memory, buffer {word} being its first 2 MiB-aligned {size}, advised MADV_HUGEPAGE',
  function (this: MmWorld, task: task_struct, pages: number, sharing: number, name: string, window: number) {
    const map = mapAnon(this, task, pages, sharing, mm.PROT_READ | mm.PROT_WRITE, `${name}_map`);
    const start = Math.ceil(map / HPAGE) * HPAGE;
    if (start + window * PAGE > map + pages * PAGE)
      throw new Error(`a ${window}-page window at a 2 MiB boundary does not fit in ${pages} pages`);
    this.addBuffer({ name, start, pages: window });
    expect(this.kernel.madvise(task, start, window * PAGE, mm.MADV_HUGEPAGE), 'madvise()').to.equal(0);
  },
  (c, task, pages, sharing, name, window) => {
    c.run(
      task,
      `mm_map_aligned(${c.buf(`${name}_map`)}, ${c.buf(name)}, ${pages}, PROT_READ | PROT_WRITE, ${cSharing(sharing)}, ${window});`,
    );
    c.run(
      task,
      `mm_expect0(madvise(mm_addr(${c.buf(name)}, 0), ${window} * MM_PAGE, MADV_HUGEPAGE), "madvise");`,
    );
  },
  {
    /* A THP candidate: 2 MiB at a 2 MiB boundary of a 4 MiB mapping, private or shared. */
    weight: 3,
    draw(m, r) {
      const p = m.someProcess(r);
      if (!p || p.bufs.size >= 4) return null;
      const shared = r.chance(20);
      const name = m.bufName();
      return {
        args: [`process ${p.name}`, '4 MiB', shared ? 'shared' : 'private', name, '2 MiB'],
        predict: null,
        after: (_outcome, world) =>
          void m.placed(
            p,
            m.mapAnonymous(p, name, 512, shared, PROT_READ | PROT_WRITE, true),
            world.buffer(name).start,
          ),
      };
    },
  },
);

Given(
  '{process} maps {size} of inaccessible {sharing} anonymous memory as buffer {word}',
  function (this: MmWorld, task: task_struct, pages: number, sharing: number, name: string) {
    mapAnon(this, task, pages, sharing, mm.PROT_NONE, name);
  },
  (c, task, pages, sharing, name) =>
    c.run(task, `mm_map(${c.buf(name)}, ${pages}, PROT_NONE, ${cSharing(sharing)});`),
);

/** `*ptr = val` with ptr an int pointer into the buffer: one int of one page, the page's other ints as they were. */
When(
  '{process} stores {int} to ptr[{int}] of buffer {word}',
  function (this: MmWorld, task: task_struct, value: number, n: number, name: string) {
    const b = this.buffer(name);
    const page = Math.floor(n / INTS_PER_PAGE);
    if (page >= b.pages) throw new Error(`ptr[${n}] is outside buffer ${name} (${b.pages} pages)`);
    const r = this.kernel.access(task, b.start + page * PAGE, 1, true, (old: number) =>
      storeInt(old, n % INTS_PER_PAGE, value),
    );
    expect(r.fault, `process ${task.comm} storing to ptr[${n}]`).to.equal(null);
  },
  (c, task, value, n, name) => c.run(task, `mm_store_int(${c.buf(name)}, ${n}, ${value});`),
);

/* ---------------- files ---------------- */

/** hmm_create_file(): open(O_TMPFILE) and ftruncate() to the size: a file of holes. */
Given(
  'a temporary file {string} of {size}',
  function (this: MmWorld, name: string, pages: number) {
    this.kernel.create_file(name, pages);
  },
  (c, name, pages) => c.run(0, `mm_make_hole_file(${cString(name)}, ${pages});`),
);

Given(
  '{process} writes {size} of ints {ints} to file {string} with pwrite',
  function (this: MmWorld, _task: task_struct, pages: number, p: IntPattern, name: string) {
    const words = Array.from({ length: pages }, (_, k) => patternWord(p, k));
    expect(this.kernel.pwrite(fileNamed(this, name), 0, words), 'pwrite() pages').to.equal(pages);
  },
  (c, task, pages, p, name) => c.run(task, `mm_pwrite_pattern(${cString(name)}, ${pages}, ${cPattern(p)});`),
);

Given(
  '{process} maps file {string} read-only {sharing} as buffer {word}',
  function (this: MmWorld, task: task_struct, name: string, sharing: number, buffer: string) {
    const file = fileNamed(this, name);
    const pages = file.i_pages.length;
    this.mapBuffer(task, buffer, pages, { prot: mm.PROT_READ, flags: sharing, file });
  },
  (c, task, name, sharing, buffer) =>
    c.run(task, `mm_map_file_prot(${c.buf(buffer)}, ${cString(name)}, PROT_READ, ${cSharing(sharing)});`),
);

When(
  '{process} reads {size} of file {string} into the mirror of buffer {word} with pread',
  function (this: MmWorld, _task: task_struct, pages: number, name: string, buffer: string) {
    const words = this.kernel.pread(fileNamed(this, name), 0, pages);
    expect(words.length, 'pread() pages').to.equal(pages);
    const mirror = this.bounce.get(buffer) ?? new Array(this.buffer(buffer).pages).fill(0);
    words.forEach((w, k) => {
      mirror[k] = w;
    });
    this.bounce.set(buffer, mirror);
  },
  (c, task, pages, name, buffer) =>
    c.run(task, `mm_pread_mirror(${cString(name)}, ${pages}, ${c.buf(buffer)});`),
);

Then(
  'the kernel has not warned',
  function (this: MmWorld) {
    const warnings = this.kernel.machine.warnings.map((w) => `${w.where}: ${w.message}`);
    expect(warnings, 'kernel warnings').to.deep.equal([]);
  },
  (c) => c.notObservable('the kernel log'),
);

/* ---------------- a fork child's own device file ---------------- */

When(
  '{process} opens \\/dev\\/hmm_dmirror{int} as child_fd',
  function (this: MmWorld, task: task_struct, device: number) {
    if (this.mirrors.has(`${device}/${task.pid}`))
      throw new Error(`process ${task.comm} has /dev/hmm_dmirror${device} open already`);
    this.mirror(device, task);
    const fds = childFds.get(this) ?? new Map<string, number>();
    fds.set(task.comm, device);
    childFds.set(this, fds);
  },
  (c, task, device) => c.run(task, `mm_open_child(${device});`),
);

function childFd(world: MmWorld, task: task_struct): number {
  const device = childFds.get(world)?.get(task.comm);
  if (device === undefined)
    throw new Error(`process ${task.comm} has no child_fd: add "… opens /dev/hmm_dmirror0 as child_fd"`);
  return device;
}

When(
  '{process} runs {dmirror_ioctl} on {pages} through child_fd',
  function (this: MmWorld, task: task_struct, name: string, range: PageRange) {
    dmirrorCmdOnDevice(this, task, childFd(this, task), name, range);
  },
  (c, task, name, range) => c.run(task, `mm_dmirror_fd(mm_child_fd, ${cIoctl(name)}, ${cRange(c, range)});`),
);

When(
  '{process} closes child_fd',
  function (this: MmWorld, task: task_struct) {
    const device = childFd(this, task);
    const key = `${device}/${task.pid}`;
    const d = this.mirrors.get(key);
    if (!d) throw new Error(`process ${task.comm} has no open /dev/hmm_dmirror${device}`);
    this.kernel.dmirror_close(this.driver(), d);
    this.mirrors.delete(key);
    childFds.get(this)?.delete(task.comm);
  },
  (c, task) => c.run(task, 'close(mm_child_fd); mm_child_fd = -1;'),
);

/* ---------------- rounds of a looping test ---------------- */

/** One ioctl of a round, recorded; a failure is the round's outcome, claimed by the Then-steps that read the rounds. */
function roundIoctl(world: MmWorld, task: task_struct, round: Round, name: string, range: PageRange): number {
  dmirrorCmdOnDevice(world, task, fixtureDevice(world), name, range);
  const c = world.lastCommand;
  if (!c) throw new Error('no ioctl ran');
  if (c.ret !== 0) world.claim(`errno ${c.ret}`);
  const mirror = world.bounce.get(range.buffer.name) ?? [];
  round.ioctls.set(name, {
    ret: c.ret,
    cpages: c.ret === 0 ? c.cmd.cpages : -1,
    faults: c.ret === 0 ? c.cmd.faults : -1,
    mirror: mirror.slice(range.first, range.first + range.count),
  });
  return c.ret;
}

function fixtureDevice(world: MmWorld): number {
  const f = world.kselftest;
  if (f?.fixture !== 'hmm')
    throw new Error('the rounds run in FIXTURE(hmm): add "Given the hmm fixture with variant …"');
  return f.devices[0];
}

/** The start of a round: a new buffer (hmm_buffer_alloc: mmap and a fresh malloc'd mirror) filled with ptr[i] = pattern. */
function roundBuffer(
  world: MmWorld,
  task: task_struct,
  pages: number,
  name: string,
  p: IntPattern,
): PageRange {
  mapAnon(world, task, pages, mm.MAP_PRIVATE, mm.PROT_READ | mm.PROT_WRITE, name);
  world.bounce.delete(name);
  const range: PageRange = { buffer: world.buffer(name), first: 0, count: pages };
  const words = Array.from({ length: pages }, (_, k) => patternWord(p, k));
  const r = world.kernel.access(task, range.buffer.start, pages, true, words);
  expect(r.fault, `process ${task.comm} storing to buffer ${name}`).to.equal(null);
  return range;
}

/** hmm_buffer_free(): munmap of the whole buffer (a hole left by another thread is no error). */
function roundFree(world: MmWorld, task: task_struct, range: PageRange) {
  expect(world.kernel.munmap(task, range.buffer.start, range.count * PAGE), 'munmap()').to.equal(0);
}

function readBack(world: MmWorld, task: task_struct, range: PageRange): Round['read'] {
  const r = world.kernel.access(task, range.buffer.start, range.count, false);
  return { words: r.values, fault: r.fault };
}

function linear(c: number): IntPattern {
  return { kind: 'linear', sign: 1, constant: c };
}

When(
  '{process} runs {int} rounds, c = 0 to {int}, of: map {size} of private anonymous memory as buffer {word}, set ptr[i] = i + c, run HMM_DMIRROR_READ on it, unmap it',
  function (this: MmWorld, task: task_struct, n: number, last: number, pages: number, name: string) {
    if (last !== n - 1) throw new Error(`${n} rounds count c from 0 to ${n - 1}, not to ${last}`);
    const done: Round[] = [];
    for (let c = 0; c < n; c++) {
      const round: Round = { c, ioctls: new Map(), read: null };
      const range = roundBuffer(this, task, pages, name, linear(c));
      roundIoctl(this, task, round, 'READ', range);
      roundFree(this, task, range);
      done.push(round);
    }
    rounds.set(this, done);
  },
  function (this: MmWorld, c, task, n: number, _last: number, pages: number, name: string) {
    c.run(task, `mm_rounds(${fixtureDevice(this)}, 0, ${n}, ${c.buf(name)}, ${pages});`);
  },
);

/** mmspec.h mm_rounds' numbering of a round's ioctls. */
const ROUND_IOCTLS = ['READ', 'MIGRATE_TO_DEV', 'MIGRATE_TO_SYS'];

/** A round's ioctl as mmspec.h mm_obs_rounds prints it; `mirror`: the pattern its mirror must hold. */
function roundSeen(round: Round, name: string, faults: boolean, mirror: IntPattern | null): unknown {
  const got = round.ioctls.get(name);
  if (!got) return null;
  return {
    ret: errnoName(got.ret),
    cpages: got.cpages,
    ...(faults ? { faults: got.faults } : {}),
    ...(mirror ? { mirror: got.ret === 0 && firstMismatch(got.mirror, mirror, 0) === null } : {}),
  };
}

/** The rounds fill ptr[i] = i (+ c): mmspec.h checks a mirror or a read-back against that fill only. */
const isFill = (p: IntPattern): boolean => p.kind === 'linear' && p.sign === 1 && p.constant === 0;

function migrateRounds(
  world: MmWorld,
  task: task_struct,
  n: number,
  pages: number,
  name: string,
  toSys: boolean,
) {
  const done: Round[] = [];
  for (let c = 0; c < n; c++) {
    const round: Round = { c, ioctls: new Map(), read: null };
    const range = roundBuffer(world, task, pages, name, linear(0));
    if (roundIoctl(world, task, round, 'MIGRATE_TO_DEV', range) === 0 && toSys)
      roundIoctl(world, task, round, 'MIGRATE_TO_SYS', range);
    round.read = readBack(world, task, range);
    roundFree(world, task, range);
    done.push(round);
  }
  rounds.set(world, done);
}

When(
  '{process} runs {int} rounds of: map {size} of private anonymous memory as buffer {word}, set ptr[i] = i, run HMM_DMIRROR_MIGRATE_TO_DEV on it, read ptr[i] back, unmap it',
  function (this: MmWorld, task: task_struct, n: number, pages: number, name: string) {
    migrateRounds(this, task, n, pages, name, false);
  },
  function (this: MmWorld, c, task, n: number, pages: number, name: string) {
    c.run(task, `mm_rounds(${fixtureDevice(this)}, 1, ${n}, ${c.buf(name)}, ${pages});`);
  },
);

When(
  '{process} runs {int} rounds of: map {size} of private anonymous memory as buffer {word}, set ptr[i] = i, run HMM_DMIRROR_MIGRATE_TO_DEV and then HMM_DMIRROR_MIGRATE_TO_SYS on it, read ptr[i] back, unmap it',
  function (this: MmWorld, task: task_struct, n: number, pages: number, name: string) {
    migrateRounds(this, task, n, pages, name, true);
  },
  function (this: MmWorld, c, task, n: number, pages: number, name: string) {
    c.run(task, `mm_rounds(${fixtureDevice(this)}, 2, ${n}, ${c.buf(name)}, ${pages});`);
  },
);

/**
 * anon_teardown, exhaustively: round c races the munmap with the READ at the
 * (c+1)th preemption point the READ passes; the round in which the READ
 * passes fewer points runs the munmap after it, and is the last.
 */
When(
  '{process} runs a round, c = 0, 1, …, for each point where another thread can come in during HMM_DMIRROR_READ: map {int} pages of private anonymous memory as buffer {word}, set ptr[i] = i + c, run HMM_DMIRROR_READ on it while the other thread unmaps pages {int}-{int} of it at that point, unmap it',
  function (this: MmWorld, task: task_struct, pages: number, name: string, lo: number, hi: number) {
    const done: Round[] = [];
    for (let c = 0; ; c++) {
      const round: Round = { c, ioctls: new Map(), read: null };
      const range = roundBuffer(this, task, pages, name, linear(c));
      const unmap = () => {
        expect(
          this.kernel.munmap(task, range.buffer.start + lo * PAGE, (hi - lo + 1) * PAGE),
          'munmap()',
        ).to.equal(0);
      };
      const { landed } = this.kernel.interleave(
        () => roundIoctl(this, task, round, 'READ', range),
        c + 1,
        unmap,
      );
      round.landed = landed && pointLabel(landed, range);
      roundFree(this, task, range);
      done.push(round);
      if (landed === null) break;
    }
    rounds.set(this, done);
  },
  (c) => c.cannot('userspace cannot stop a thread at a given point inside the kernel'),
);

/** A preemption point as the table names it: the kernel's place, and the pages of the buffer the code there works on. */
function pointLabel(p: { where: string; start: number; end: number }, range: PageRange): string {
  const first = (p.start - range.buffer.start) / PAGE;
  const last = (p.end - range.buffer.start) / PAGE - 1;
  return last >= first ? `${p.where}, pages ${first}-${last}` : p.where;
}

function recorded(world: MmWorld): Round[] {
  const r = rounds.get(world);
  if (!r) throw new Error('no rounds ran: add "When process T runs … rounds …"');
  return r;
}

function expectMirror(round: Round, name: string, p: IntPattern) {
  const got = round.ioctls.get(name);
  if (!got) throw new Error(`round ${round.c} ran no HMM_DMIRROR_${name}`);
  const bad = firstMismatch(got.mirror, p, 0);
  expect(
    bad,
    bad ? `round ${round.c}: mirror page ${bad.page} holds ${bad.got}, not ${bad.want}` : '',
  ).to.equal(null);
}

function expectIoctl(round: Round, name: string, want: { ret: number; cpages: number; faults?: number }) {
  const got = round.ioctls.get(name);
  if (!got) throw new Error(`round ${round.c} ran no HMM_DMIRROR_${name}`);
  const actual = {
    ret: got.ret,
    cpages: got.cpages,
    ...(want.faults === undefined ? {} : { faults: got.faults }),
  };
  expect(actual, `round ${round.c}: HMM_DMIRROR_${name}`).to.deep.equal(want);
}

Then(
  'in every round HMM_DMIRROR_READ returned 0, with cpages {int} and faults {int}, and mirror[i] == i + c',
  function (this: MmWorld, cpages: number, faults: number) {
    for (const round of recorded(this)) {
      expectIoctl(round, 'READ', { ret: 0, cpages, faults });
      expectMirror(round, 'READ', linear(round.c));
    }
  },
  function (this: MmWorld, c) {
    c.observe(undefined, 'mm_obs_rounds(0, 1, 1);', {
      rounds: recorded(this).map((r) => roundSeen(r, 'READ', true, linear(r.c))),
    });
  },
);

Then(
  'in every round {dmirror_ioctl} returned 0, with cpages {int}, and mirror[i] == {ints}',
  function (this: MmWorld, name: string, cpages: number, p: IntPattern) {
    for (const round of recorded(this)) {
      expectIoctl(round, name, { ret: 0, cpages });
      expectMirror(round, name, p);
    }
  },
  function (this: MmWorld, c, name: string, _cpages: number, p: IntPattern) {
    if (!isFill(p)) return c.cannot("mmspec.h checks a round's mirror against ptr[i] = i only");
    c.observe(undefined, `mm_obs_rounds(${ROUND_IOCTLS.indexOf(name)}, 0, 1);`, {
      rounds: recorded(this).map((r) => roundSeen(r, name, false, p)),
    });
  },
);

Then(
  'in every round {dmirror_ioctl} returned 0, with cpages {int}',
  function (this: MmWorld, name: string, cpages: number) {
    for (const round of recorded(this)) expectIoctl(round, name, { ret: 0, cpages });
  },
  function (this: MmWorld, c, name: string) {
    c.observe(undefined, `mm_obs_rounds(${ROUND_IOCTLS.indexOf(name)}, 0, 0);`, {
      rounds: recorded(this).map((r) => roundSeen(r, name, false, null)),
    });
  },
);

Then(
  'in every round {process} read ptr[i] == {ints}',
  function (this: MmWorld, task: task_struct, p: IntPattern) {
    for (const round of recorded(this)) {
      const read = round.read;
      if (!read) throw new Error(`round ${round.c}: process ${task.comm} read nothing back`);
      expect(read.fault, `round ${round.c}: process ${task.comm} loading the buffer`).to.equal(null);
      const bad = firstMismatch(read.words, p, 0);
      expect(
        bad,
        bad
          ? `round ${round.c}: ptr page ${bad.page} holds ${bad.got}, not ${bad.want} (${describePattern(p)})`
          : '',
      ).to.equal(null);
    }
  },
  function (this: MmWorld, c, task, p: IntPattern) {
    if (!isFill(p)) return c.cannot("mmspec.h checks a round's read-back against ptr[i] = i only");
    c.observe(task, 'mm_obs_rounds_read();', {
      rounds: recorded(this).map((r) =>
        r.read
          ? {
              fault: r.read.fault !== null,
              holds: r.read.fault === null && firstMismatch(r.read.words, p, 0) === null,
            }
          : null,
      ),
    });
  },
);

/** The C test's either/or: a READ that succeeded mirrored everything and read what the buffer held; any error is accepted. */
Then(
  'every round whose HMM_DMIRROR_READ returned 0 had cpages {int}, faults {int} and mirror[i] == i + c',
  function (this: MmWorld, cpages: number, faults: number) {
    const ok = recorded(this).filter((r) => r.ioctls.get('READ')?.ret === 0);
    expect(ok.length, 'rounds whose READ returned 0').to.be.greaterThan(0);
    for (const round of ok) {
      expectIoctl(round, 'READ', { ret: 0, cpages, faults });
      expectMirror(round, 'READ', linear(round.c));
    }
  },
  (c) => c.cannot('userspace cannot stop a thread at a given point inside the kernel'),
);

const AFTER = 'after HMM_DMIRROR_READ returned';

Then(
  'the rounds ended so:',
  function (this: MmWorld, table: DataTable) {
    const errno = (ret: number) => {
      if (ret === 0) return '0';
      const name = Object.entries(mm).find(([k, v]) => /^E[A-Z]+$/.test(k) && v === -ret)?.[0];
      return name ? `-${name}` : String(ret);
    };
    const got = recorded(this).map((r) => ({
      c: String(r.c),
      'the munmap ran': r.landed ?? AFTER,
      'HMM_DMIRROR_READ returned': errno(r.ioctls.get('READ')?.ret ?? Number.NaN),
    }));
    expect(got, 'rounds').to.deep.equal(table.hashes());
  },
  (c) => c.cannot('userspace cannot stop a thread at a given point inside the kernel'),
);
