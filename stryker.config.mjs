// Stryker (mutation testing) for the engine: npm run mutate (scripts/mutate.ts)
// runs it and keeps the score per file in mutation.json. Each mutant of
// engine/ runs, in a Cucumber worker, only the scenarios that reached it in
// the dry run (coverageAnalysis perTest); a mutant no scenario kills is a
// kernel rule the suite would let the engine break.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'cucumber',
  // cucumber.js's `stryker` profile: every feature but features/harness, no report formatters.
  cucumber: { profile: 'stryker' },
  plugins: ['@stryker-mutator/cucumber-runner'],
  coverageAnalysis: 'perTest',
  // Two cores, shared with other jobs: one worker (scripts/mutate.ts runs Stryker with nice).
  concurrency: 1,
  // Not debug_vm.ts: it is the checker, the suite's oracle, not a kernel rule.
  // A mutant there weakens or breaks a check, which a passing suite cannot
  // notice by design; the checker is tested instead by npm run test:debug-vm,
  // which injects 13 faults and requires its incremental and full modes to
  // report each at the same operation.
  mutate: ['engine/**/*.ts', '!engine/mm/debug_vm.ts'],
  // A rerun tests only the mutants whose code or covering scenarios changed.
  // The file lives beside the kernel cache, which CI keeps between runs.
  incremental: true,
  incrementalFile: join(homedir(), '.cache', 'mmspec', 'stryker', 'incremental.json'),
  ignorePatterns: ['reports', 'mutation.json'],
  reporters: ['html', 'json', 'clear-text', 'progress'],
  htmlReporter: { fileName: 'reports/site/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, reportTests: false, reportScoreTable: true },
  thresholds: { high: 90, low: 85, break: 85 },
  tempDirName: '.stryker-tmp',
  timeoutMS: 10000,
};
