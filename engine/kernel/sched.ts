/*
 * Mirrors kernel/sched/core.c only as far as scenarios need it: the points
 * where a task running a system call can lose the CPU to another thread of
 * the same process, so that a scenario can run that thread's system call
 * there (hmm-tests.c anon_teardown: a munmap racing HMM_DMIRROR_READ).
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: the engine is one thread. Under CONFIG_PREEMPT a task can
 * be preempted anywhere it holds no spinlock, but another thread's munmap
 * still waits for every lock the task holds (mmap_lock, a driver's mutex), so
 * only the stretches where the task holds none of them matter. Code marks
 * each such stretch with one preempt_point() naming it; the other thread's
 * operation runs there whole, as if it had taken its locks and finished
 * before the task took its next one.
 */

import type { Machine } from '../machine';

/** One preemption point an operation passed: its name and the address range the code there is working on. */
export interface preemption_point {
  /** "function: after the call it follows", as the kernel code reads. */
  readonly where: string;
  readonly start: number;
  readonly end: number;
}

/** A scenario's interleaving: run `other` when the current operation reaches its `nth` preemption point (counting from 1). */
export interface preemption {
  readonly nth: number;
  readonly other: () => void;
  /** The points the operation has passed so far, in order. */
  readonly passed: preemption_point[];
  /** Where `other` ran, once it has. */
  landed: preemption_point | null;
}

/**
 * A point where the running task holds no sleeping lock another thread's
 * system call would wait for; [start, end) is the range it is working on.
 */
export function preempt_point(m: Machine, where: string, start: number, end: number): void {
  const p = m.preemption;
  if (!p || p.landed !== null) return;
  const point = { where, start, end };
  p.passed.push(point);
  if (p.passed.length === p.nth) {
    p.landed = point;
    p.other();
  }
}
