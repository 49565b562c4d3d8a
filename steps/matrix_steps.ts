import { expect } from 'chai';
import { mm, test_hmm } from '../engine';
import type { task_struct } from '../engine/include/linux/mm_types';
import { cString } from '../support/c';
import {
  describeOutcome,
  type MatrixObservation,
  type PageSnapshot,
  snapshot,
  type VisibleOutcome,
  visibleOutcome,
} from '../support/matrix';
import { Given, Then, When } from '../support/vocabulary';
import { type MmWorld, PAGE } from '../support/world';

const matrix = new WeakMap<MmWorld, { sentence: string; visible: VisibleOutcome }>();

/** mmspec.h mm_matrix_op's numbering of the operations. */
const OPERATIONS: readonly MatrixObservation['operation'][] = [
  'read',
  'write',
  'fork, A writes',
  'fork, B writes',
  'pin',
  'long-term pin',
  'migrate',
];

const pinFlags = (op: MatrixObservation['operation']): number =>
  mm.FOLL_WRITE | (op === 'long-term pin' ? mm.FOLL_LONGTERM : 0);

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
  (c, a: string, b: string) => {
    c.run(0, `mm_spawn(${c.proc('A')});`);
    c.run('A', `mm_matrix_setup(${c.buf('X')}, ${cString(`${a} ${b}`)});`);
  },
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
      const r = this.kernel.pin_user_pages(a, addr, 1, pinFlags(op));
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
    const sentence = describeOutcome(o);
    const visible = visibleOutcome(o);
    expect(
      describeOutcome({ ...visible, operation: o.operation, errno: o.errno }),
      'the sentence from what userspace sees (support/matrix.ts visibleOutcome)',
    ).to.equal(sentence);
    matrix.set(this, { sentence, visible });
  },
  (c, op: MatrixObservation['operation']) =>
    c.run('A', `mm_matrix_op(${c.buf('X')}, ${OPERATIONS.indexOf(op)}, ${pinFlags(op)});`),
);

Then(
  'the outcome is: {string}',
  function (this: MmWorld, outcome: string) {
    const m = matrix.get(this);
    if (!m) throw new Error('no matrix operation ran');
    expect(m.sentence, `the outcome was: "${m.sentence}"`).to.equal(outcome);
  },
  function (this: MmWorld, c) {
    const m = matrix.get(this);
    if (m) c.observe('A', 'mm_obs_matrix();', m.visible);
  },
);
