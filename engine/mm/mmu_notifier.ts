/*
 * Mirrors mm/mmu_notifier.c and include/linux/mmu_notifier.h: interval
 * notifiers and the invalidate_range_start/end pairs each mm operation fires.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: no SRCU; a subscriber is called synchronously at range
 * start and at range end. Readers' sequence counts
 * (mmu_interval_read_begin/_retry) follow the kernel, but a reader never has
 * to wait for an invalidation in progress: other threads' operations run
 * whole (kernel/sched.ts). Classic (non-interval) notifiers only get
 * `release`.
 */
import type { mm_struct } from '../include/linux/mm_types';
import { EngineUsageError } from '../include/linux/mmdebug';

/** enum mmu_notifier_event. */
export type mmu_notifier_event =
  | 'MMU_NOTIFY_UNMAP'
  | 'MMU_NOTIFY_CLEAR'
  | 'MMU_NOTIFY_PROTECTION_VMA'
  | 'MMU_NOTIFY_PROTECTION_PAGE'
  | 'MMU_NOTIFY_SOFT_DIRTY'
  | 'MMU_NOTIFY_RELEASE'
  | 'MMU_NOTIFY_MIGRATE'
  | 'MMU_NOTIFY_EXCLUSIVE';

/** struct mmu_notifier_range. */
export interface mmu_notifier_range {
  readonly mm: mm_struct;
  readonly start: number;
  readonly end: number;
  readonly event: mmu_notifier_event;
  /** Set only for MIGRATE and EXCLUSIVE ranges (mmu_notifier_range_init_owner). */
  readonly owner: unknown;
}

/** struct mmu_interval_notifier_ops. */
export interface mmu_interval_notifier_ops {
  /** Called at invalidate_range_start for every overlapping range. Returns false if it would have to block. */
  invalidate(sub: mmu_interval_notifier, range: mmu_notifier_range, cur_seq: number): boolean;
  /** Called at invalidate_range_end (the engine's addition, so recorders can see the pairing). */
  invalidate_end?(sub: mmu_interval_notifier, range: mmu_notifier_range): void;
}

/** struct mmu_interval_notifier. */
export interface mmu_interval_notifier {
  readonly mm: mm_struct;
  readonly start: number;
  /** Exclusive end, as the kernel stores start + length. */
  readonly end: number;
  readonly ops: mmu_interval_notifier_ops;
  invalidate_seq: number;
}

/** struct mmu_notifier_subscriptions: per-mm list of interval notifiers. */
export interface mmu_notifier_subscriptions {
  readonly itree: mmu_interval_notifier[];
  invalidate_seq: number;
  /** Nesting depth of open invalidate ranges (active_invalidate_ranges). */
  active_invalidate_ranges: number;
}

export const new_mmu_notifier_subscriptions = (): mmu_notifier_subscriptions => ({
  itree: [],
  invalidate_seq: 2,
  active_invalidate_ranges: 0,
});

/** mmu_interval_notifier_insert: subscribe to invalidations of [start, start + length) in mm. */
export function mmu_interval_notifier_insert(
  mm: mm_struct,
  start: number,
  length: number,
  ops: mmu_interval_notifier_ops,
): mmu_interval_notifier {
  /* Odd and unequal to the mm's count: not under invalidation, and no reader's seq yet. */
  const invalidate_seq = mm.notifier_subscriptions.invalidate_seq - 1;
  const sub: mmu_interval_notifier = { mm, start, end: start + length, ops, invalidate_seq };
  mm.notifier_subscriptions.itree.push(sub);
  return sub;
}

/** mmu_interval_notifier_remove. */
export function mmu_interval_notifier_remove(sub: mmu_interval_notifier): void {
  const itree = sub.mm.notifier_subscriptions.itree;
  const i = itree.indexOf(sub);
  if (i >= 0) itree.splice(i, 1);
}

/** mmu_notifier_range_init / mmu_notifier_range_init_owner. */
export function mmu_notifier_range_init(
  event: mmu_notifier_event,
  mm: mm_struct,
  start: number,
  end: number,
  owner: unknown = null,
): mmu_notifier_range {
  return { event, mm, start, end, owner };
}

const overlaps = (sub: mmu_interval_notifier, r: mmu_notifier_range): boolean =>
  sub.start < r.end && r.start < sub.end;

/**
 * mmu_notifier_invalidate_range_start: mn_itree_invalidate over every
 * overlapping subscription. The subscriber itself records the invalidation
 * for its readers (mmu_interval_set_seq), or does not, when it ignores it.
 */
export function mmu_notifier_invalidate_range_start(range: mmu_notifier_range): void {
  const subs = range.mm.notifier_subscriptions;
  subs.active_invalidate_ranges++;
  subs.invalidate_seq |= 1;
  for (const sub of [...subs.itree]) {
    if (!overlaps(sub, range)) continue;
    sub.ops.invalidate(sub, range, subs.invalidate_seq);
  }
}

/** mmu_notifier_invalidate_range_end. */
export function mmu_notifier_invalidate_range_end(range: mmu_notifier_range): void {
  const subs = range.mm.notifier_subscriptions;
  for (const sub of [...subs.itree]) {
    if (overlaps(sub, range)) sub.ops.invalidate_end?.(sub, range);
  }
  if (--subs.active_invalidate_ranges === 0) subs.invalidate_seq++;
}

/** mmu_interval_set_seq: called by an invalidate callback that acts on the invalidation, so readers retry. */
export function mmu_interval_set_seq(sub: mmu_interval_notifier, cur_seq: number): void {
  sub.invalidate_seq = cur_seq;
}

/**
 * mmu_interval_read_begin: the sequence count a reader (a driver about to
 * call hmm_range_fault) checks afterwards with mmu_interval_read_retry. The
 * kernel waits here while an invalidation of the range is in progress; in
 * the engine none can be in progress when a reader starts.
 */
export function mmu_interval_read_begin(sub: mmu_interval_notifier): number {
  const seq = sub.invalidate_seq;
  if (seq === sub.mm.notifier_subscriptions.invalidate_seq)
    throw new EngineUsageError(
      'mmu_interval_read_begin',
      'called while an invalidation of the range is in progress: the reader would wait for it',
    );
  return seq;
}

/** mmu_interval_check_retry: the range was invalidated since mmu_interval_read_begin (a lockless peek). */
export function mmu_interval_check_retry(sub: mmu_interval_notifier, seq: number): boolean {
  return sub.invalidate_seq !== seq;
}

/** mmu_interval_read_retry: the same test, made under the driver's lock before it uses what it read. */
export function mmu_interval_read_retry(sub: mmu_interval_notifier, seq: number): boolean {
  return sub.invalidate_seq !== seq;
}

/**
 * __mmu_notifier_release (from exit_mmap): mn_itree_release calls every
 * interval notifier with MMU_NOTIFY_RELEASE over the whole address space.
 */
export function mmu_notifier_release(mm: mm_struct): void {
  const range = mmu_notifier_range_init('MMU_NOTIFY_RELEASE', mm, 0, Number.MAX_SAFE_INTEGER);
  mmu_notifier_invalidate_range_start(range);
  mmu_notifier_invalidate_range_end(range);
}
