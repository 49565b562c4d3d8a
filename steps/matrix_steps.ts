import { expect } from 'chai';
import { mm, test_hmm } from '../engine';
import type { task_struct } from '../engine/include/linux/mm_types';
import { describeOutcome, type MatrixObservation, type PageSnapshot, snapshot } from '../support/matrix';
import { Given, Then, type Translator, When } from '../support/vocabulary';
import { type MmWorld, PAGE } from '../support/world';

/** The semantics matrix states engine snapshots (refcount, mapcount, PageAnonExclusive) as one sentence. */
const MATRIX = (c: Translator) =>
  c.cannot('the semantics matrix describes refcounts and mapcounts, which userspace cannot see');

const matrix = new WeakMap<MmWorld, { sentence: string }>();

function dmirrorCmd(
  world: MmWorld,
  device: number,
  task: task_struct,
  command: number,
  addr: number,
): number {
  return world.dmirrorIoctl(world.mirror(device, task), command, addr, 1).ret;
}

const exclusiveHeld = (world: MmWorld, task: task_struct, addr: number): boolean =>
  dmirrorCmd(world, 0, task, test_hmm.HMM_DMIRROR_CHECK_EXCLUSIVE, addr) === -mm.EPERM;

/**
 * The kinds of memory of the matrix, each set up as a one-page buffer X of
 * process A holding 0x5a (0xf0 for the file, 0 for the zero page).
 */
Given(
  'process A has one page of {word} {word} as buffer X',
  function (this: MmWorld, a: string, b: string) {
    const kind = `${a} ${b}`;
    this.hmm ??= this.kernel.load_hmm_dmirror({ coherent: true });
    const task = this.kernel.spawn('A');
    this.addProcess('A', task);
    const anon = () =>
      this.kernel.mmap(task, {
        len: PAGE,
        prot: mm.PROT_READ | mm.PROT_WRITE,
        flags: mm.MAP_PRIVATE | mm.MAP_ANONYMOUS,
      });
    let start: number;
    if (kind === 'private file') {
      const file = this.kernel.create_file('data', 1, [0xf0]);
      start = this.kernel.mmap(task, {
        len: PAGE,
        prot: mm.PROT_READ | mm.PROT_WRITE,
        flags: mm.MAP_PRIVATE,
        file,
      });
      this.kernel.access(task, start, 1, false);
    } else {
      start = anon();
      if (kind === 'zero page') this.kernel.access(task, start, 1, false);
      else this.kernel.access(task, start, 1, true, 0x5a);
    }
    this.addBuffer({ name: 'X', start, pages: 1 });
    if (kind === 'device-private memory')
      expect(
        dmirrorCmd(this, 0, task, test_hmm.HMM_DMIRROR_MIGRATE_TO_DEV, start),
        'HMM_DMIRROR_MIGRATE_TO_DEV to the private device',
      ).to.equal(0);
    else if (kind === 'device-coherent memory')
      expect(
        dmirrorCmd(this, 2, task, test_hmm.HMM_DMIRROR_MIGRATE_TO_DEV, start),
        'HMM_DMIRROR_MIGRATE_TO_DEV to the coherent device',
      ).to.equal(0);
    else if (kind === 'device-exclusive entry')
      expect(
        dmirrorCmd(this, 0, task, test_hmm.HMM_DMIRROR_EXCLUSIVE, start),
        'HMM_DMIRROR_EXCLUSIVE',
      ).to.equal(0);
    else if (!['system anonymous', 'zero page', 'private file'].includes(kind))
      throw new Error(`unknown kind of memory "${kind}"`);
  },
  MATRIX,
);

When(
  'process A {matrix_operation} it',
  function (this: MmWorld, op: MatrixObservation['operation']) {
    const a = this.process('A');
    const addr = this.buffer('X').start;
    const wasExclusive = exclusiveHeld(this, a, addr);
    const before = snapshot(this.kernel, a, addr);
    let ret = 0;
    let pinned = -1;
    let other: { name: string; before: PageSnapshot } | null = null;
    if (op === 'read' || op === 'write') this.kernel.access(a, addr, 1, op === 'write', 0x77);
    else if (op === 'fork, A writes' || op === 'fork, B writes') {
      const child = this.kernel.fork(a, 'B');
      expect(child, 'fork()').to.not.be.a('number');
      this.addProcess('B', child as task_struct);
      const [writer, watcher] =
        op === 'fork, A writes' ? [a, child as task_struct] : [child as task_struct, a];
      other = { name: watcher.comm, before: snapshot(this.kernel, watcher, addr) };
      this.kernel.access(writer, addr, 1, true, 0x77);
    } else if (op === 'pin' || op === 'long-term pin') {
      const flags = mm.FOLL_WRITE | (op === 'long-term pin' ? mm.FOLL_LONGTERM : 0);
      const r = this.kernel.pin_user_pages(a, addr, 1, flags);
      ret = r.ret < 0 ? r.ret : 0;
      pinned = r.pages[0] ?? -1;
    } else {
      ret = dmirrorCmd(this, 0, a, test_hmm.HMM_DMIRROR_MIGRATE_TO_DEV, addr);
    }
    const writerTask = op === 'fork, B writes' ? this.process('B') : a;
    const o: MatrixObservation = {
      operation: op,
      before: op === 'fork, B writes' ? (other as { before: PageSnapshot }).before : before,
      after: snapshot(this.kernel, writerTask, addr),
      otherBefore: other ? (op === 'fork, B writes' ? before : other.before) : undefined,
      otherAfter: other
        ? snapshot(this.kernel, op === 'fork, B writes' ? a : this.process('B'), addr)
        : undefined,
      exclusiveLost: wasExclusive && !exclusiveHeld(this, a, addr),
      ret,
      pinned,
      errno:
        ret < 0
          ? (Object.entries(mm).find(([k, v]) => k.startsWith('E') && v === -ret)?.[0] ?? `${ret}`)
          : '',
    };
    matrix.set(this, { sentence: describeOutcome(o) });
  },
  MATRIX,
);

Then(
  'the outcome is: {string}',
  function (this: MmWorld, outcome: string) {
    const m = matrix.get(this);
    if (!m) throw new Error('no matrix operation ran');
    expect(m.sentence, `the outcome was: "${m.sentence}"`).to.equal(outcome);
  },
  MATRIX,
);
