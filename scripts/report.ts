/**
 * npm run report: builds the HTML reports from the last run.
 *   reports/cucumber.html           Cucumber's own report (written by every run)
 *   reports/allure-report/          the browsable Allure 2 report (serve it over HTTP)
 *   reports/allure-single/index.html the same as one self-contained file
 * Runs the `ci` profile first when there are no results yet. Allure 2 needs
 * Java; without it this says what to install and exits 1.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const results = 'reports/allure-results';
const env = { ...process.env, ALLURE_NO_ANALYTICS: 'true' };

function run(cmd: string, args: string[]): number {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  return r.status ?? 1;
}

const hasResults = existsSync(results) && readdirSync(results).some((f) => f.endsWith('-result.json'));
if (!hasResults || !existsSync('reports/messages.ndjson')) {
  console.log('No results from a previous run: running the scenarios with the ci profile first.');
  run(process.execPath, ['node_modules/@cucumber/cucumber/bin/cucumber.js', '-p', 'ci']);
}

const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
if (java.error || java.status !== 0) {
  console.error(
    [
      'npm run report needs a Java runtime (17 or later) for Allure 2, and none was found on PATH.',
      'Install one, then run npm run report again:',
      '  Debian/Ubuntu:  sudo apt-get install -y openjdk-17-jre-headless',
      '  Fedora:         sudo dnf install -y java-17-openjdk-headless',
      '  macOS:          brew install openjdk@17',
      'The Cucumber report needs no Java and is already at reports/cucumber.html.',
    ].join('\n'),
  );
  process.exit(1);
}

/* Allure categories: a broken debug_vm invariant is "spec violated", apart from failed expectations and harness errors. */
writeFileSync(
  join(results, 'categories.json'),
  JSON.stringify(
    [
      {
        name: 'Spec violated (debug_vm invariant)',
        matchedStatuses: ['failed', 'broken'],
        messageRegex: '(?s).*debug_vm: invariant.*',
      },
      { name: 'Expectation failed', matchedStatuses: ['failed'] },
      { name: 'Harness error', matchedStatuses: ['broken'] },
    ],
    null,
    2,
  ),
);

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const version = (name: string): string =>
  JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')).version;
writeFileSync(
  join(results, 'environment.properties'),
  [
    `mmspec=${pkg.version}`,
    'kernel.followed=linux-mm tree, late 2025 (v6.19-era)',
    'engine.defaults=THP madvise, huge zero page on, CONFIG_DEBUG_VM on',
    `node=${process.version}`,
    `cucumber=${version('@cucumber/cucumber')}`,
    `allure-cucumberjs=${version('allure-cucumberjs')}`,
    `allure-commandline=${version('allure-commandline')}`,
  ].join('\n'),
);

/* Keep trend history between runs. */
if (existsSync('reports/allure-report/history'))
  cpSync('reports/allure-report/history', join(results, 'history'), { recursive: true });

const allure = 'node_modules/allure-commandline/bin/allure';
let status = run(allure, ['generate', results, '-o', 'reports/allure-report', '--clean']);
status ||= run(allure, ['generate', results, '-o', 'reports/allure-single', '--clean', '--single-file']);
if (status) process.exit(status);

for (const page of [
  'reports/allure-report/index.html',
  'reports/allure-single/index.html',
  'reports/cucumber.html',
]) {
  if (/googletagmanager|gtag\(/.test(readFileSync(page, 'utf8'))) {
    console.error(`${page} contains an analytics script; refusing to publish it`);
    process.exit(1);
  }
}
console.log(
  [
    'Reports:',
    '  reports/cucumber.html               open directly in a browser',
    '  reports/allure-single/index.html    Allure, one file, open directly',
    '  reports/allure-report/              Allure, browsable: serve it, e.g.',
    '      python3 -m http.server --bind 127.0.0.1 --directory reports/allure-report 8080',
  ].join('\n'),
);
