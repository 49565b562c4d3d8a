// Cucumber profiles. Support code lives outside features/, so require is
// explicit. ts-node runs transpile-only (tsconfig "ts-node"); `npm test`
// type-checks once with tsc.
//
// No profile but `stryker` (which only Stryker loads) names paths: cucumber-js merges a profile's paths with those on
// the command line, so `npx cucumber-js features/x.feature:12` ran every
// scenario. Without paths on either, cucumber-js runs its documented default,
// features/**/*.{feature,feature.md}: the whole suite.
const { existsSync, mkdirSync, renameSync, rmSync } = require('node:fs');
const { runKind } = require('./scripts/lib/run-kind');

// Where this run writes its results. A full run (no paths, --name, --tags,
// --dry-run, --shard or --fail-fast) writes reports/, the published results
// that `npm run report` and the checks read; a focused or partial run writes
// reports/last/, so it never replaces them. MMSPEC_RUN_DIR overrides both
// (scripts/check.ts's dry run writes to a temporary folder). Parallel workers
// inherit the coordinator's choice through the environment.
//
// Under Stryker (npm run mutate) each mutant worker is a process of its own,
// with STRYKER_MUTATOR_WORKER set and Stryker's argv, not cucumber-js's: it
// gets a temporary folder of its own, so that workers never write into one
// another's files nor into reports/.
if (process.env.STRYKER_MUTATOR_WORKER !== undefined) {
  const { mkdtempSync } = require('node:fs');
  const { join } = require('node:path');
  const { tmpdir } = require('node:os');
  process.env.MMSPEC_RUN_DIR = mkdtempSync(
    join(tmpdir(), `mmspec-stryker-${process.env.STRYKER_MUTATOR_WORKER}-`),
  );
  process.env.MMSPEC_RUN_KIND = 'partial (a Stryker mutant run)';
} else if (!process.env.CUCUMBER_WORKER_ID) {
  let kind;
  try {
    kind = runKind(process.argv.slice(2));
  } catch (err) {
    console.error(`cucumber-js: ${err.message}`);
    process.exit(2);
  }
  if (!process.env.MMSPEC_RUN_DIR) process.env.MMSPEC_RUN_DIR = kind.partial ? 'reports/last' : 'reports';
  process.env.MMSPEC_RUN_KIND = kind.partial ? `partial (${kind.why.join(', ')})` : 'full';
}
const out = process.env.MMSPEC_RUN_DIR ?? 'reports';

// allure-cucumberjs adds to its results folder; start each run from an empty
// one so a report never mixes runs. The old folder is renamed first (atomic),
// so a run still writing into it cannot make the removal fail. Parallel
// workers must not do this.
if (!process.env.CUCUMBER_WORKER_ID) {
  mkdirSync(out, { recursive: true });
  if (existsSync(`${out}/allure-results`)) {
    const old = `${out}/.allure-results-${process.pid}`;
    renameSync(`${out}/allure-results`, old);
    rmSync(old, { recursive: true, force: true });
  }
  // Each run writes every scenario's C translation and designs anew (support/hooks.ts).
  rmSync(`${out}/translations.ndjson`, { force: true });
  rmSync(`${out}/designs.ndjson`, { force: true });
}

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

/** The run's environment for Allure: the commit, the CI, Node and the pinned tools. */
function environment() {
  const { spawnSync } = require('node:child_process');
  const git = (...args) => spawnSync('git', args, { encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  const dirty = git('status', '--porcelain', '--', 'engine', 'features', 'steps', 'support').stdout?.trim();
  const pkg = require('./package.json');
  const version = (name) => {
    try {
      return require(`${name}/package.json`).version;
    } catch {
      return pkg.devDependencies[name];
    }
  };
  return {
    mmspec: pkg.version,
    'mmspec.commit':
      head.status === 0
        ? `${head.stdout.trim()}${dirty ? ' with uncommitted changes' : ''}`
        : 'unknown (not a git checkout)',
    'mmspec.run': process.env.MMSPEC_RUN_KIND ?? 'full',
    'kernel.followed': 'linux-mm tree, late 2025 (v6.19-era)',
    ci: process.env.CI ? (process.env.GITHUB_ACTIONS ? 'GitHub Actions' : 'CI') : 'none (a local run)',
    node: process.version,
    ...Object.fromEntries(Object.keys(pkg.devDependencies).map((n) => [n, version(n)])),
  };
}

const common = {
  // scripts/compile-cache.js first: typescript.js from V8's code cache, for ts-node.
  requireModule: [require.resolve('./scripts/compile-cache.js'), 'ts-node/register'],
  // Not the .d.ts files that describe the plain-JavaScript modules.
  require: ['support/**/!(*.d).ts', 'steps/**/*.ts'],
  strict: true,
  formatOptions: {
    snippetInterface: 'synchronous',
    resultsDir: `${out}/allure-results`,
    writer: new UnsyncedWriter({ resultsDir: `${out}/allure-results` }),
    // Labels, links, severity, suites and descriptions come from
    // support/allure_reporter.js, which reads the tags every pickle inherits
    // (the Rule's @claim and @kernel tags too); the options below are
    // allure-cucumberjs's own: categories and environment.
    categories: require('./support/allure_categories.js').categories(),
    environmentInfo: environment(),
  },
};

// Every run leaves the machine-readable results the report and the CI summary read.
const files = [
  ['message', `${out}/messages.ndjson`],
  ['html', `${out}/cucumber.html`],
  ['./support/allure_reporter.js', `${out}/allure-formatter.txt`],
  ['usage-json', `${out}/usage.json`],
  // For each undefined step, the three closest existing phrases (on stderr, beside Cucumber's snippet).
  ['./support/closest_phrases.js', `${out}/closest-phrases.txt`],
];

// npm run mutate (stryker.config.mjs): every feature but features/harness,
// whose scenarios run cucumber-js in child processes (slow, and they test the
// harness, not the engine), and no report formatter: Stryker's runner adds
// its own, and a mutant must never write the published reports.
const { readdirSync } = require('node:fs');
const engineFeatures = readdirSync('features', { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'harness')
  .map((d) => `features/${d.name}/**/*.feature`);

module.exports = {
  // progress-bar needs a terminal; elsewhere (CI, pipes) the plain progress formatter says the same.
  default: { ...common, format: [process.stdout.isTTY ? 'progress-bar' : 'progress', ...files] },
  ci: { ...common, format: ['summary', ...files] },
  parallel: { ...common, parallel: 2, format: ['progress', ...files] },
  stryker: { ...common, paths: engineFeatures, format: [] },
};
