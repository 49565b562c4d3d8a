// Stryker (mutation testing) for the engine: npm run mutate (scripts/mutate.ts)
// runs it and keeps the score per file in mutation.json. Each mutant of
// engine/ runs, in a Cucumber worker, only the scenarios that reached it in
// the dry run (coverageAnalysis perTest); a mutant no scenario kills is a
// kernel rule the suite would let the engine break.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'cucumber',
  // cucumber.js's `stryker` profile: every feature but features/harness, no report formatters.
  cucumber: { profile: 'stryker' },
  plugins: ['@stryker-mutator/cucumber-runner'],
  coverageAnalysis: 'perTest',
  // Two cores, shared with other jobs: one worker (scripts/mutate.ts runs Stryker with nice).
  concurrency: 1,
  mutate: ['engine/**/*.ts'],
  // A rerun tests only the mutants whose code or covering scenarios changed.
  incremental: true,
  incrementalFile: '.stryker-incremental.json',
  ignorePatterns: ['reports', '.stryker-incremental.json', 'mutation.json'],
  reporters: ['html', 'json', 'clear-text', 'progress'],
  htmlReporter: { fileName: 'reports/site/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, reportTests: false, reportScoreTable: true },
  thresholds: { high: 90, low: 85, break: 85 },
  tempDirName: '.stryker-tmp',
  timeoutMS: 10000,
};
