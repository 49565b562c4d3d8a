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

// Each run writes every scenario's C translation anew (support/hooks.ts).
if (!process.env.CUCUMBER_WORKER_ID) rmSync('reports/translations.ndjson', { force: true });

// allure-js-commons' FileSystemWriter writes every result and attachment to
// a temporary file, fsyncs it and renames it into place, so that a report
// watching the folder never reads half a file. Nothing reads the folder
// while the suite runs here, and the fsyncs cost more than the scenarios do
// (4.5 s of 6.7 s for cow.c's 56 scenarios), so results and attachments are
// written straight. The class is allure-js-commons' own, so the file names
// and formats are its own; check this subclass when upgrading allure-cucumberjs.
const { FileSystemWriter } = require('allure-js-commons/sdk/reporter');
const { writeFileSync, copyFileSync } = require('node:fs');
class UnsyncedWriter extends FileSystemWriter {
  writeAttachment(name, content) {
    writeFileSync(this.buildPath(name), content);
  }
  writeAttachmentFromPath(name, from) {
    copyFileSync(from, this.buildPath(name));
  }
  writeGroup(result) {
    writeFileSync(this.buildPath(`${result.uuid}-container.json`), JSON.stringify(result), 'utf-8');
  }
  writeResult(result) {
    writeFileSync(this.buildPath(`${result.uuid}-result.json`), JSON.stringify(result), 'utf-8');
  }
}

const common = {
  paths: ['features/**/*.feature'],
  // scripts/compile-cache.js first: typescript.js from V8's code cache, for ts-node.
  requireModule: [require.resolve('./scripts/compile-cache.js'), 'ts-node/register'],
  require: ['support/**/*.ts', 'steps/**/*.ts'],
  strict: true,
  formatOptions: {
    snippetInterface: 'synchronous',
    resultsDir: 'reports/allure-results',
    writer: new UnsyncedWriter({ resultsDir: 'reports/allure-results' }),
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
