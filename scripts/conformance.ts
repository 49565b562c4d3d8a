/**
 * npm run conformance: how the engine compares with the kernel's own tests.
 * Matches every case of conformance/kernel-tests.yaml (hmm-tests.c per
 * fixture variant, cow.c's anonymous cases per backing) with the scenarios
 * that restate it and their outcome in the last full run
 * (reports/messages.ndjson), runs the benchmark cases at small sizes, prints
 * the counts by status and every case that did not pass with its reason,
 * and writes reports/conformance.json.
 * Exits 1 if any case lacks a scenario, did not pass, is pending, or the
 * last run did not cover the whole suite. A case the kernel itself fails
 * (@kernel-fails: the scenario states the kernel's actual outcome and
 * passed) is listed with its reason but does not fail the run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { type ConformanceCase, conformanceTable, counts, failing, STATUS_ORDER } from './lib/conformance';
import { featureFiles, loadFeatures } from './lib/features';
import { readLastRun } from './lib/run';

const run = readLastRun();
if (!run) {
  console.error('no results of a run in reports/: run the scenarios first (npm test)');
  process.exit(1);
}
const missingFiles = featureFiles().filter((f) => !run.uris.has(f));
const { cases, problems } = conformanceTable(loadFeatures(), run);

mkdirSync('reports', { recursive: true });
writeFileSync('reports/conformance.json', `${JSON.stringify({ cases, problems }, null, 2)}\n`);

const suites = counts(cases);
for (const [suite, by] of suites) {
  const total = [...by.values()].reduce((a, b) => a + b, 0);
  const parts = STATUS_ORDER.filter((s) => by.get(s)).map((s) => `${by.get(s)} ${s}`);
  console.log(`${suite}: ${by.get('passed') ?? 0}/${total} cases passed (${parts.join(', ')})`);
}
const benches = cases.filter((c) => c.bench);
if (benches.length)
  console.log(
    `  of which ${benches.length} benchmark case(s) run by ${benches[0].bench}, checked here at small sizes`,
  );

const exceptions = cases.filter((c) => c.status !== 'passed');
const byStatus = (c: ConformanceCase) => `${c.status.padEnd(12)} ${c.suite} ${c.id}: ${c.reason}`;
if (exceptions.length) {
  console.log(`\n${exceptions.length} case(s) not passing:`);
  for (const c of exceptions) console.log(`  ${byStatus(c)}`);
}
if (missingFiles.length)
  problems.push(
    `the last run did not cover ${missingFiles.length} feature file(s) (${missingFiles.slice(0, 3).join(', ')}): run the whole suite`,
  );
if (problems.length) {
  console.log(`\n${problems.length} problem(s):`);
  for (const p of problems) console.log(`  ${p}`);
}
console.log(
  '\nTable: reports/conformance.json; published by npm run report as reports/site/conformance.html',
);
process.exit(cases.some(failing) || problems.length ? 1 : 0);
