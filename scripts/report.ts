/**
 * npm run report: builds the reports and the published site from the last run.
 *   reports/site/                    the site: index.html links everything (scripts/site.ts)
 *   reports/site/allure-report/      the browsable Allure 2 report (serve it over HTTP)
 *   reports/site/allure-single/      the same as one self-contained file
 *   reports/cucumber.html            Cucumber's own report (written by every run)
 * reports/allure-report and reports/allure-single are links into the site.
 * Runs the `ci` profile first when there are no results yet. Allure 2 needs
 * Java; without it this says what to install and exits 1.
 *
 * Before Allure reads the results they are made to agree with Cucumber
 * (scripts/lib/allure.ts): statuses, epics, links to the claims' sources,
 * categories, environment, and the history of the previous report.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { DEFAULT_CONFIG } from '../engine/machine';
import { enrich, reconcile } from './lib/allure';
import { loadFeatures } from './lib/features';
import { pickleKey, readLastRun } from './lib/run';
import { checkRun } from './lib/run-check';
import { buildSite, SITE } from './site';

const results = 'reports/allure-results';
const env = { ...process.env, ALLURE_NO_ANALYTICS: 'true' };

function run(cmd: string, args: string[]): number {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  return r.status ?? 1;
}

if (!existsSync('reports/messages.ndjson')) {
  console.log('No results from a previous run: running the scenarios with the ci profile first.');
  run(process.execPath, ['node_modules/@cucumber/cucumber/bin/cucumber.js', '-p', 'ci']);
}

/* Nothing of the site is written before the results are known to be whole. */
const checked = checkRun('reports');
if ('problem' in checked) {
  console.error(`npm run report: ${checked.problem}. The site in ${SITE}/ was left as it was.`);
  process.exit(1);
}
{
  const features = loadFeatures().scenarios;
  const ran = readLastRun();
  const keys = new Set(
    [...(ran?.pickles ?? new Map())].map(([id, p]) => pickleKey(p.uri, ran?.lines.get(id) ?? 0)),
  );
  const missing = features.filter((f) => !keys.has(pickleKey(f.uri, f.line))).length;
  const outcomes = [...(ran?.outcomes.values() ?? [])];
  const n = (o: string) => outcomes.filter((x) => x === o).length;
  console.log(
    `Reporting the full run of ${checked.run.started} in reports/: ${outcomes.length} scenarios, ${n('passed')} passed, ${n('failed')} failed, ${n('not run')} not run; ${missing} scenario(s) of the features today were not in that run. (Focused runs write reports/last/ and are not reported here.)`,
  );
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

/* Statuses as Cucumber counts them, then epics and links to each claim's source message. */
const lastRun = readLastRun();
if (lastRun) {
  const { fixed, passed, failed } = reconcile(results, lastRun);
  for (const f of fixed) console.log(`Allure status corrected to Cucumber's: ${f}`);
  console.log(`Allure results: ${passed} passed, ${failed} not passed`);
}
enrich(results);

/*
 * Categories and environment are allure-cucumberjs's own options
 * (cucumber.js); the engine's default designs are TypeScript the reporter
 * does not load, so they are added here, with the executor (who ran it: CI
 * name, build, commit), which allure-js-commons 3.12 has no option for.
 */
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const envFile = join(results, 'environment.properties');
const engineDefaults = Object.entries(DEFAULT_CONFIG).map(([k, v]) => `engine.default.${k}=${v}`);
writeFileSync(
  envFile,
  [...(existsSync(envFile) ? readFileSync(envFile, 'utf8').trim().split('\n') : []), ...engineDefaults].join(
    '\n',
  ),
);
const head =
  spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout?.trim() || 'unknown';
writeFileSync(
  join(results, 'executor.json'),
  JSON.stringify({
    name: process.env.CI ? (process.env.GITHUB_ACTIONS ? 'GitHub Actions' : 'CI (.ci/run)') : 'a local run',
    type: process.env.GITHUB_ACTIONS ? 'github' : 'local',
    buildName: `mmspec ${head}${process.env.GITHUB_RUN_NUMBER ? ` #${process.env.GITHUB_RUN_NUMBER}` : ''}`,
    buildOrder: Number(process.env.GITHUB_RUN_NUMBER ?? 0) || undefined,
    buildUrl:
      process.env.GITHUB_SERVER_URL && process.env.GITHUB_REPOSITORY && process.env.GITHUB_RUN_ID
        ? `${process.env.GITHUB_SERVER_URL}/${process.env.GITHUB_REPOSITORY}/actions/runs/${process.env.GITHUB_RUN_ID}`
        : undefined,
    reportName: `mmspec ${pkg.version} at ${head}`,
  }),
);

/*
 * The Allure reports live in the site; reports/allure-report and
 * reports/allure-single (where earlier versions wrote them) become links to it.
 */
const allureReport = join(SITE, 'allure-report');
const allureSingle = join(SITE, 'allure-single');
function linkInto(old: string, target: string): void {
  if (existsSync(old) && !lstatSync(old).isSymbolicLink()) {
    // A report from before the site: keep its history, then replace it by a link.
    if (existsSync(join(old, 'history')) && !existsSync(join(target, 'history')))
      cpSync(join(old, 'history'), join(target, 'history'), { recursive: true });
    renameSync(old, `${old}.old-${process.pid}`);
    rmSync(`${old}.old-${process.pid}`, { recursive: true, force: true });
  }
  rmSync(old, { force: true });
  symlinkSync(relative('reports', target), old, 'dir');
}

/*
 * Keep trend history between runs: a publishing job that starts from a fresh
 * checkout passes the history/ folder of the report it published last in
 * MMSPEC_ALLURE_HISTORY; otherwise the last local report's is kept.
 */
const given = process.env.MMSPEC_ALLURE_HISTORY;
if (given && !existsSync(join(given, 'history-trend.json')))
  console.error(
    `MMSPEC_ALLURE_HISTORY=${given} holds no Allure history (no history-trend.json): starting a new one`,
  );
for (const previous of [
  ...(given && existsSync(join(given, 'history-trend.json')) ? [given] : []),
  join(allureReport, 'history'),
  'reports/allure-report/history',
])
  if (existsSync(previous)) {
    cpSync(previous, join(results, 'history'), { recursive: true });
    console.log(`Allure history kept from ${previous}`);
    break;
  }

const allure = 'node_modules/allure-commandline/bin/allure';
let status = run(allure, ['generate', results, '-o', allureReport, '--clean']);
status ||= run(allure, ['generate', results, '-o', allureSingle, '--clean', '--single-file']);
if (status) process.exit(status);
linkInto('reports/allure-report', allureReport);
linkInto('reports/allure-single', allureSingle);

const built = buildSite();
if (existsSync(join(SITE, 'threads')) && !existsSync('reports/threads'))
  symlinkSync('site/threads', 'reports/threads', 'dir');

/* No analytics and no script from elsewhere on any page of the site. */
function pages(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.html'))
    .map((f) => join(dir, f));
}
for (const file of pages(SITE)) {
  const text = readFileSync(file, 'utf8');
  if (/googletagmanager|gtag\(/.test(text)) {
    console.error(`${file} contains an analytics script; refusing to publish it`);
    process.exit(1);
  }
  const external =
    /<script[^>]+src=["']?(?:https?:)?\/\//i.exec(text) ?? /<link[^>]+href=["']?(?:https?:)?\/\//i.exec(text);
  if (external) {
    console.error(`${file} loads a resource from another site (${external[0]}); refusing to publish it`);
    process.exit(1);
  }
}

/* What the report weighs. */
function size(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((n, f) => n + size(join(path, f)), 0);
}
const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
const parts = ['allure-report', 'allure-single', 'cucumber.html', 'claims.html', 'steps.html'];
console.log(
  [
    `Site: ${SITE}/ (${mb(size(SITE))}: ${parts
      .filter((p) => existsSync(join(SITE, p)))
      .map((p) => `${p} ${mb(size(join(SITE, p)))}`)
      .join(', ')}); ${built.claims} claims, ${built.steps} step phrases`,
    `  ${SITE}/index.html          start here; serve the site for the browsable Allure report:`,
    `      python3 -m http.server --bind 127.0.0.1 --directory ${SITE} 8080`,
    `  ${SITE}/allure-single/index.html    Allure, one file, opens from disk`,
    '  reports/cucumber.html               Cucumber, opens from disk',
  ].join('\n'),
);
