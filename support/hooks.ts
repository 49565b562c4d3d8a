/**
 * Hooks: a state picture after every Then-step and every failed step; after
 * each scenario, any outcome or kernel warning that no Then-step claimed
 * fails the scenario.
 */
import { After, AfterStep, Status } from '@cucumber/cucumber';
import { KernelInvariantViolation } from '../engine';
import { pageSvg } from './pictures';
import { pageRows, pageTable } from './queries';
import type { MmWorld } from './world';

AfterStep(function (this: MmWorld, { pickleStep, result }) {
  const failed = result.status !== Status.PASSED;
  if (pickleStep.type !== 'Outcome' && !failed) return;
  if (this.picture.processes.size === 0) return;
  const rows = pageRows(
    this.kernel,
    this.processes,
    [...this.picture.buffers].map((b) => this.buffer(b)),
  );
  if (rows.length === 0) return;
  this.attach(pageTable(rows), { mediaType: 'text/plain', fileName: 'page tables.txt' });
  this.attach(Buffer.from(pageSvg(pickleStep.text, rows)), {
    mediaType: 'image/svg+xml',
    fileName: 'page tables.svg',
  });
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
  if (problems.length) throw new Error(`unclaimed outcomes:\n  ${problems.join('\n  ')}`);
});
