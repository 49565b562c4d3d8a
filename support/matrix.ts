/**
 * The semantics matrix: one page of some kind of memory, one operation, and
 * a sentence that says what happened, built from what the engine shows
 * before and after. Pure functions over snapshots; they change nothing.
 */
import type { entry_view, Kernel } from '../engine';
import type { task_struct } from '../engine/include/linux/mm_types';

/** What one process's mapping of the page looks like at one moment. */
export interface PageSnapshot {
  readonly page: number;
  /** 'system RAM', 'device-private memory', 'device-coherent memory', or 'the zero page'. */
  readonly memory: string;
  readonly kind: entry_view['kind'];
}

const MEMORY: Record<string, string> = {
  'system RAM': 'system RAM',
  MEMORY_DEVICE_PRIVATE: 'device-private memory',
  MEMORY_DEVICE_COHERENT: 'device-coherent memory',
};

export function snapshot(kernel: Kernel, task: task_struct, addr: number): PageSnapshot {
  const e = kernel.lookup(task, addr);
  if (e.kind === 'zero page' || e.kind === 'huge zero page')
    return { page: e.page, memory: 'the zero page', kind: e.kind };
  if (e.page < 0) return { page: -1, memory: 'nothing', kind: e.kind };
  return { page: e.page, memory: MEMORY[kernel.folio(e.page).memory], kind: e.kind };
}

/** Everything the sentence is built from. */
export interface MatrixObservation {
  readonly operation:
    | 'read'
    | 'write'
    | 'fork, A writes'
    | 'fork, B writes'
    | 'pin'
    | 'long-term pin'
    | 'migrate';
  readonly before: PageSnapshot;
  readonly after: PageSnapshot;
  /** The other process after a fork (B, or A when B wrote), before and after the write. */
  readonly otherBefore?: PageSnapshot;
  readonly otherAfter?: PageSnapshot;
  /** The device held exclusive access before and lost it. */
  readonly exclusiveLost: boolean;
  /** GUP or migration result: 0, or a negative errno; and the page pinned. */
  readonly ret: number;
  readonly pinned: number;
  readonly errno: string;
}

function where(s: PageSnapshot): string {
  return s.memory === 'the zero page' ? 'the zero page' : s.memory;
}

function access(o: MatrixObservation, verb: string): string {
  if (o.before.kind.startsWith('SOFTLEAF_DEVICE_PRIVATE'))
    return `migrated to ${where(o.after)}, then ${verb}`;
  if (o.after.page !== o.before.page) return `copied to a new page in ${where(o.after)}, then ${verb}`;
  return `${verb} in place in ${where(o.after)}`;
}

function forked(o: MatrixObservation, writer: string, other: string): string {
  const w =
    o.after.page !== o.before.page
      ? `${writer} gets a new page in ${where(o.after)}`
      : `${writer} writes in place`;
  const ob = o.otherBefore as PageSnapshot;
  const oa = o.otherAfter as PageSnapshot;
  let rest: string;
  if (oa.page < 0) rest = `${other} has not faulted it in`;
  else if (oa.page === ob.page) rest = `${other} keeps the original in ${where(oa)}`;
  else if (oa.page === o.after.page) rest = `${other} sees the write`;
  else rest = `${other}'s page moved to ${where(oa)}`;
  return `${w}; ${rest}`;
}

function pin(o: MatrixObservation): string {
  if (o.ret < 0) return `refused with ${o.errno}`;
  if (o.pinned === o.before.page) return `pinned in place in ${where(o.after)}`;
  if (
    o.before.kind.startsWith('SOFTLEAF_DEVICE_PRIVATE') ||
    (o.before.memory !== o.after.memory && o.before.memory !== 'the zero page' && o.before.kind === 'present')
  )
    return `pinned after moving to ${where(o.after)}`;
  return `pinned a new page in ${where(o.after)}`;
}

/** The sentence for one cell of the matrix. */
export function describeOutcome(o: MatrixObservation): string {
  let s: string;
  switch (o.operation) {
    case 'read':
      s = access(o, 'read');
      break;
    case 'write':
      s = access(o, 'written');
      break;
    case 'fork, A writes':
      s = forked(o, 'A', 'B');
      break;
    case 'fork, B writes':
      s = forked(o, 'B', 'A');
      break;
    case 'pin':
    case 'long-term pin':
      s = pin(o);
      break;
    case 'migrate':
      s = o.after.page !== o.before.page ? `moved to ${where(o.after)}` : `stays in ${where(o.after)}`;
      break;
  }
  return o.exclusiveLost ? `${s}; the device loses exclusive access` : s;
}

/** What userspace can tell of a snapshot's entry kind: pagemap shows the swap type, not a migration entry's direction. */
function visibleKind(kind: PageSnapshot['kind']): PageSnapshot['kind'] | 'SOFTLEAF_MIGRATION' {
  if (kind === 'huge zero page') return 'zero page';
  if (kind.startsWith('SOFTLEAF_MIGRATION')) return 'SOFTLEAF_MIGRATION';
  return kind;
}

/** The part of an observation userspace can see, as the C translation prints it (mmspec.h mm_obs_matrix). */
export type VisibleOutcome = Pick<
  MatrixObservation,
  'before' | 'after' | 'otherBefore' | 'otherAfter' | 'exclusiveLost' | 'ret' | 'pinned'
>;

/**
 * The observation as userspace sees it: PFNs mean nothing across machines,
 * so each page is numbered by its first appearance (before, after, the
 * other process's before and after, the pinned page; -1 for none), and the
 * kinds are what pagemap tells apart. The real kernel's run compares this,
 * and describeOutcome() of it must say what describeOutcome() of the whole
 * observation says (steps/matrix_steps.ts checks), so the sentence rests
 * only on what the kernel shows.
 */
export function visibleOutcome(o: MatrixObservation): VisibleOutcome {
  const seen: number[] = [];
  const id = (page: number): number => {
    if (page < 0) return -1;
    if (!seen.includes(page)) seen.push(page);
    return seen.indexOf(page);
  };
  const snap = (s: PageSnapshot): PageSnapshot => ({
    page: id(s.page),
    memory: s.memory,
    kind: visibleKind(s.kind) as PageSnapshot['kind'],
  });
  const before = snap(o.before);
  const after = snap(o.after);
  const other =
    o.otherBefore && o.otherAfter ? { otherBefore: snap(o.otherBefore), otherAfter: snap(o.otherAfter) } : {};
  return { before, after, ...other, exclusiveLost: o.exclusiveLost, ret: o.ret, pinned: id(o.pinned) };
}
