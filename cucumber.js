// Cucumber profiles. Support code lives outside features/, so paths and
// require are explicit. ts-node runs transpile-only (tsconfig "ts-node");
// `npm test` type-checks once with tsc.
const { existsSync, renameSync, rmSync } = require('node:fs');

// allure-cucumberjs adds to its results folder; start each run from an empty
// one so a report never mixes runs. The old folder is renamed first (atomic),
// so a run still writing into it cannot make the removal fail. Parallel
// workers must not do this.
if (!process.env.CUCUMBER_WORKER_ID && existsSync('reports/allure-results')) {
  const old = `reports/.allure-results-${process.pid}`;
  renameSync('reports/allure-results', old);
  rmSync(old, { recursive: true, force: true });
}

const common = {
  paths: ['features/**/*.feature'],
  requireModule: ['ts-node/register'],
  require: ['support/**/*.ts', 'steps/**/*.ts'],
  strict: true,
  formatOptions: { snippetInterface: 'synchronous', resultsDir: 'reports/allure-results' },
};

// Every run leaves the machine-readable results the report and the CI summary read.
const files = [
  ['message', 'reports/messages.ndjson'],
  ['html', 'reports/cucumber.html'],
  ['allure-cucumberjs/reporter', 'reports/allure-formatter.txt'],
  ['usage-json', 'reports/usage.json'],
];

module.exports = {
  // progress-bar needs a terminal; elsewhere (CI, pipes) the plain progress formatter says the same.
  default: { ...common, format: [process.stdout.isTTY ? 'progress-bar' : 'progress', ...files] },
  ci: { ...common, format: ['summary', ...files] },
  parallel: { ...common, parallel: 2, format: ['progress', ...files] },
};
