/**
 * Prints "N passed, N failed" for the last Cucumber run, counted from
 * Cucumber's own message stream (reports/messages.ndjson), one count per
 * scenario (pickle). A scenario passes only if every step passed: undefined,
 * ambiguous, pending and skipped steps count as failures. Retried attempts
 * count once, by their final attempt. Exits 1 when any scenario failed or no
 * scenario ran.
 */
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'reports/messages.ndjson';
if (!existsSync(file)) {
  console.error(`no Cucumber results at ${file}: run the scenarios first (npm test)`);
  process.exit(1);
}

interface Envelope {
  testCase?: { id: string; pickleId: string };
  testCaseStarted?: { id: string; testCaseId: string };
  testStepFinished?: { testCaseStartedId: string; testStepResult: { status: string } };
  testCaseFinished?: { testCaseStartedId: string; willBeRetried: boolean };
}

const pickleOf = new Map<string, string>();
const caseOf = new Map<string, string>();
const ok = new Map<string, boolean>();
const final = new Map<string, boolean>();
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (!line) continue;
  const e = JSON.parse(line) as Envelope;
  if (e.testCase) pickleOf.set(e.testCase.id, e.testCase.pickleId);
  else if (e.testCaseStarted) {
    caseOf.set(e.testCaseStarted.id, e.testCaseStarted.testCaseId);
    ok.set(e.testCaseStarted.id, true);
  } else if (e.testStepFinished && e.testStepFinished.testStepResult.status !== 'PASSED')
    ok.set(e.testStepFinished.testCaseStartedId, false);
  else if (e.testCaseFinished && !e.testCaseFinished.willBeRetried) {
    const started = e.testCaseFinished.testCaseStartedId;
    const pickle = pickleOf.get(caseOf.get(started) ?? '') ?? started;
    final.set(pickle, ok.get(started) ?? false);
  }
}
const passed = [...final.values()].filter(Boolean).length;
const failed = final.size - passed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || final.size === 0 ? 1 : 0);
