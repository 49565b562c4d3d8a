/**
 * Hooks: a state picture after every Then-step, every failed step and every
 * When-step no Then-step follows (a Graphviz drawing of process → VMA →
 * entries → folios → pagemap, red where the latest When-step changed it, and
 * the same state as a text table with those changes); after
 * each scenario, any outcome or kernel warning that no Then-step claimed
 * fails the scenario.
 */
import { AssertionError } from 'node:assert';
import { After, AfterStep, BeforeAll, Status } from '@cucumber/cucumber';
import type { Pickle, PickleStep } from '@cucumber/messages';
import { KernelInvariantViolation } from '../engine';
import { loadViz, type Snapshot, snapshotOf, statePicture } from './pictures';
import { pageRows } from './queries';
import type { MmWorld } from './world';

BeforeAll(loadViz);

/** The state of each scenario before its latest When-step, and that step: a picture marks what the step changed. */
const beforeAction = new WeakMap<MmWorld, { state: Snapshot; step: string }>();

/**
 * Which steps get a picture: every Then-step, every failed step, and every
 * When-step whose state no Then-step shows right after it (Then-steps do not
 * change the state, so a When followed by a Then would only repeat its
 * picture: attachments cost the Allure writer a synced file each).
 */
function pictured(pickle: Pickle, step: PickleStep, failed: boolean): boolean {
  if (failed || step.type === 'Outcome') return true;
  if (step.type !== 'Action') return false;
  const next = pickle.steps[pickle.steps.findIndex((s) => s.id === step.id) + 1];
  return next?.type !== 'Outcome';
}

AfterStep(function (this: MmWorld, { pickle, pickleStep, result }) {
  if (this.picture.processes.size === 0) return;
  const draw = pictured(pickle, pickleStep, result.status !== Status.PASSED);
  const next = pickle.steps[pickle.steps.findIndex((s) => s.id === pickleStep.id) + 1];
  const whenNext = next?.type === 'Action';
  if (!draw && !whenNext) return;
  const buffers = [...this.picture.buffers].map((b) => this.buffer(b));
  const rows = pageRows(this.kernel, this.processes, buffers);
  const now = snapshotOf(this.kernel, rows);
  if (draw && rows.length > 0) {
    const keyword = pickleStep.type === 'Action' ? 'When' : pickleStep.type === 'Outcome' ? 'Then' : 'Given';
    const picture = statePicture(
      `${keyword} ${pickleStep.text}`,
      this.kernel,
      this.processes,
      buffers,
      rows,
      now,
      beforeAction.get(this) ?? null,
    );
    this.attach(picture.text, { mediaType: 'text/plain', fileName: 'page tables.txt' });
    this.attach(Buffer.from(picture.svg), { mediaType: 'image/svg+xml', fileName: 'page tables.svg' });
  }
  if (whenNext) beforeAction.set(this, { state: now, step: `When ${next.text}` });
});

After(function (this: MmWorld, { result }) {
  if (result?.status === Status.FAILED && result.exception?.type === KernelInvariantViolation.name)
    this.attach(`spec violated: ${result.exception.message}`, {
      mediaType: 'text/plain',
      fileName: 'debug_vm.txt',
    });
  if (result?.status !== Status.PASSED) return;
  const unclaimed = this.outcomes.filter((o) => !o.claimed);
  const warnings = this.kernel.machine.warnings;
  const problems = [
    ...unclaimed.map((o) => `an operation ended in ${o.what} (${o.detail}) but no Then-step claimed it`),
    ...warnings
      .filter((_w, i) => !this.claimedWarnings.has(i))
      .map((w) => `the kernel warned in ${w.where}: ${w.message}`),
  ];
  // An AssertionError, so that the reports count it as a failed expectation, not a harness error.
  if (problems.length)
    throw new AssertionError({ message: `unclaimed outcomes:\n  ${problems.join('\n  ')}` });
});
