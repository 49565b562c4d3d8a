/**
 * Two operations interleaved at a preemption point (engine/kernel/sched.ts):
 * the first runs until its Nth point, where the second runs whole; then the
 * first goes on. Both are written as the steps they are elsewhere:
 *
 *   When "the kernel splits the PMD of page 0 of buffer X in process A" is interrupted at
 *        preemption point 1 by "the device driver takes a reference to the THP behind page 0 of buffer X in process A"
 */
import { AssertionError } from 'node:assert';
import type { preemption_point } from '../engine/kernel/sched';
import type { Drawn, Model } from '../support/explore';
import { explorable, runStep, Then, When } from '../support/vocabulary';
import type { MmWorld } from '../support/world';

/** Where the last interleaving put its second operation: a point, or null when the first passed fewer. */
const landed = new WeakMap<MmWorld, { at: preemption_point | null; points: number }>();

When(
  '{string} is interrupted at preemption point {int} by {string}',
  function (this: MmWorld, first: string, nth: number, other: string) {
    if (nth < 1) throw new Error(`preemption points count from 1, not ${nth}`);
    const r = this.kernel.interleave(
      () => runStep(this, first),
      nth,
      () => void runStep(this, other),
    );
    landed.set(this, { at: r.landed, points: r.points.length });
  },
  (c) => c.cannot('userspace cannot stop a thread at a given point inside the kernel'),
  {
    weight: 6,
    draw: (m, r) => drawInterleaving(m, r),
  },
);

Then(
  'the interruption came at {string}',
  function (this: MmWorld, where: string) {
    const l = landed.get(this);
    if (!l) throw new Error('no step was interrupted');
    const at = l.at?.where ?? `the end (after all ${l.points} points)`;
    if (at !== where)
      throw new AssertionError({ message: `the interrupting step ran at ${at}, not at ${where}` });
  },
  (c) => c.cannot('userspace cannot stop a thread at a given point inside the kernel'),
);

/** Operations that pass preemption points: a driver's range fault and read, a migration, a THP split. */
const FIRST = [
  '{device} reads {pages} of {process}',
  '{device} writes {value} to {pages} of {process}',
  '{device} migrates {pages} of {process} to device memory',
  '{device} migrates {pages} of {process} back to system memory',
  'the kernel splits the PMD of {pages} in {process}',
];

/** What may come in at such a point: another thread's or process's operation, or a driver's reference. */
const SECOND = [
  '{process} unmaps {pages}',
  '{process} writes {value} to {pages}',
  '{process} advises {word} on {pages}',
  '{process} makes {pages} {protection}',
  '{process} forks process {word}',
  '{process} pins {pages} {pin}',
  'the device driver takes a reference to the THP behind {pages} in {process}',
  '{device} reads {pages} of {process}',
];

const quote = (phrase: string, args: readonly string[]): string => {
  let i = 0;
  return phrase.replace(/\{[^}]*\}/g, () => args[i++]);
};

/**
 * The explorer's interleaving: a first operation and a second, each drawn as
 * it would be alone, and the point (1-4; past the last point, the second runs
 * after the first). The model takes the second's effect, then the first's;
 * what the first read is not checked (it may have seen either side).
 */
function drawInterleaving(m: Model, r: import('../support/explore').Draw): Drawn | null {
  const a = explorable.get(FIRST[r.int(FIRST.length)]);
  const b = explorable.get(SECOND[r.int(SECOND.length)]);
  if (!a || !b) return null;
  const nth = 1 + r.int(4);
  const da = a.explore.draw(m, r);
  const db = da && b.explore.draw(m, r);
  if (!da || !db) return null;
  const first = quote(a.phrase, da.args);
  const second = quote(b.phrase, db.args);
  if (first.includes('"') || second.includes('"')) return null;
  return {
    args: [`"${first}"`, String(nth), `"${second}"`],
    after(outcome, world) {
      /* Where the second ran: at a point inside the first, or after it (the first passed fewer points). */
      if (landed.get(world)?.at) {
        db.after?.(null, world);
        da.after?.(outcome, world);
      } else {
        da.after?.(outcome, world);
        db.after?.(null, world);
      }
      return undefined;
    },
  };
}
