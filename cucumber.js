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
  formatOptions: {
    snippetInterface: 'synchronous',
    resultsDir: 'reports/allure-results',
    // Allure labels and links from tags (allure-cucumberjs): @claim:<id> is the
    // story, @memory:<kind> the epic; the feature label is the Gherkin Feature
    // (its topic). scripts/report.ts adds the epic for untagged scenarios and
    // links each claim to its source message.
    labels: [
      { name: 'story', pattern: [/^@claim:/] },
      { name: 'epic', pattern: [/^@memory:/] },
    ],
    links: {
      // allure-cucumberjs hands the whole tag to the template.
      kernel: {
        pattern: [/^@kernel:/],
        urlTemplate: (tag) =>
          `https://elixir.bootlin.com/linux/latest/A/ident/${tag.replace(/^@kernel:/, '')}`,
      },
    },
  },
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
