/**
 * Steps that run cucumber-js itself on a scratch project (support/runner.ts)
 * and check what it printed and what reports it wrote, as cucumber-js's own
 * features do: `Given a feature file "bad.feature" with:`, `When the scratch
 * project is run`, `Then the run fails`, `Then the output mentions "..."`.
 */

import fs from 'node:fs';
import path from 'node:path';
import { After, AfterAll, Status } from '@cucumber/cucumber';
import { expect } from 'chai';
import { PROJECT, type RunResult, removeScratchProjects, ScratchProject } from '../support/runner';
import { Given, Then, type Translator, When } from '../support/vocabulary';
import type { MmWorld } from '../support/world';

/** These steps test mmspec's own runner and reports. */
const HARNESS = (c: Translator) => c.cannot("a scenario about mmspec's runner, not the kernel", 'harness');

/** The scratch project of each scenario that has one (MmWorld has no field for it). */
const scratchProjects = new WeakMap<MmWorld, ScratchProject>();

function scratch(world: MmWorld): ScratchProject {
  const project = scratchProjects.get(world);
  if (!project) throw new Error('no scratch project: the scenario must start with "Given a scratch project"');
  return project;
}

function lastRun(world: MmWorld): RunResult {
  const run = scratch(world).lastRun;
  if (!run) throw new Error('the scratch project has not been run: a When-step must run it first');
  return run;
}

/** What a failed assertion about a run shows: how it ended and everything it printed. */
function shown(run: RunResult): string {
  const end = run.exitCode === null ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`;
  return `cucumber-js ${end}; it printed:\n${run.output.replace(/^/gm, '    | ')}\n`;
}

/**
 * The Cucumber messages (the .ndjson report) that the last run wrote, as
 * envelopes: the newest one, since a full run writes reports/ and a focused
 * one reports/last/.
 */
function envelopes(world: MmWorld, file?: string): Record<string, Record<string, unknown>>[] {
  lastRun(world);
  const project = scratch(world);
  /* reports/translations.ndjson is the hooks' C translations, not a Cucumber formatter's output. */
  const files = project
    .filesEndingIn('.ndjson')
    .filter((f) => !f.endsWith('translations.ndjson'))
    .sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs);
  const chosen = file ? project.resolve(file) : files[files.length - 1];
  if (!chosen || !fs.existsSync(chosen))
    throw new Error(
      `expected a message (.ndjson) report${file ? ` at ${file}` : ''}, found: ${files.join(', ')}`,
    );
  return project
    .read(path.relative(project.dir, chosen))
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line));
}

/** The scenarios that finished in the messages at file (reports/ for a full run, reports/last/ for a focused one). */
function scenariosIn(world: MmWorld, file: string): string[] {
  const es = envelopes(world, file);
  const names = new Map(es.flatMap((e) => (e.pickle ? [[String(e.pickle.id), String(e.pickle.name)]] : [])));
  const caseToPickle = new Map(
    es.flatMap((e) => (e.testCase ? [[String(e.testCase.id), String(e.testCase.pickleId)]] : [])),
  );
  const startedToCase = new Map(
    es.flatMap((e) =>
      e.testCaseStarted ? [[String(e.testCaseStarted.id), String(e.testCaseStarted.testCaseId)]] : [],
    ),
  );
  return es
    .flatMap((e) => (e.testCaseFinished && !e.testCaseFinished.willBeRetried ? [e.testCaseFinished] : []))
    .map(
      (f) => names.get(caseToPickle.get(startedToCase.get(String(f.testCaseStartedId)) ?? '') ?? '') ?? '?',
    );
}

/** Words of a command line, with "double-quoted" words kept whole. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

/** The test cases that finished for good (not to be retried). */
function finishedTestCases(world: MmWorld): Record<string, unknown>[] {
  return envelopes(world)
    .map((e) => e.testCaseFinished)
    .filter((f) => f && !f.willBeRetried);
}

Given(
  'a scratch project',
  function (this: MmWorld) {
    scratchProjects.set(this, new ScratchProject());
  },
  HARNESS,
);

Given(
  'a feature file {string} with:',
  function (this: MmWorld, name: string, text: string) {
    scratch(this).writeFeature(name, text);
  },
  HARNESS,
);

Given(
  'a step file {string} with:',
  function (this: MmWorld, name: string, text: string) {
    scratch(this).writeStepFile(name, text);
  },
  HARNESS,
);

When(
  'the scratch project is run',
  function (this: MmWorld) {
    scratch(this).run();
  },
  HARNESS,
);

When(
  'the scratch project is run with the parallel profile',
  function (this: MmWorld) {
    scratch(this).run('parallel');
  },
  HARNESS,
);

When(
  'the scratch project is run with the default profile and {string}',
  function (this: MmWorld, args: string) {
    scratch(this).run('default', words(args));
  },
  HARNESS,
);

When(
  'npm run features is run in the scratch project with {string}',
  function (this: MmWorld, args: string) {
    const project = scratch(this);
    const config = path.relative(project.dir, path.join(PROJECT, 'cucumber.js'));
    project.runScript('features', [
      '--config',
      config,
      '--require-module',
      project.writeLoader(),
      ...words(args),
    ]);
  },
  HARNESS,
);

When(
  'npm run report is run in the scratch project',
  function (this: MmWorld) {
    scratch(this).runScript('report');
  },
  HARNESS,
);

Given(
  "the scratch project's {string} is emptied",
  function (this: MmWorld, file: string) {
    const target = scratch(this).resolve(file);
    expect(fs.existsSync(target), `${file} exists before it is emptied`).to.equal(true);
    fs.writeFileSync(target, '');
  },
  HARNESS,
);

Then(
  'the published results hold the scenarios {string}',
  function (this: MmWorld, list: string) {
    expect(
      scenariosIn(this, 'reports/messages.ndjson').sort(),
      'scenarios in reports/messages.ndjson',
    ).to.deep.equal(list.split(', ').sort());
  },
  HARNESS,
);

Then(
  "the focused run's results hold the scenarios {string}",
  function (this: MmWorld, list: string) {
    expect(
      scenariosIn(this, 'reports/last/messages.ndjson').sort(),
      'scenarios in reports/last/messages.ndjson',
    ).to.deep.equal(list.split(', ').sort());
  },
  HARNESS,
);

Then(
  'the output shows no stack trace',
  function (this: MmWorld) {
    const run = lastRun(this);
    const frame = /^\s+at .+[(:]\d+/m.exec(run.output);
    if (frame) expect.fail(`the output shows a stack frame (${frame[0].trim()}); ${shown(run)}`);
  },
  HARNESS,
);

Then(
  'the scratch project has no {string}',
  function (this: MmWorld, file: string) {
    expect(fs.existsSync(scratch(this).resolve(file)), `${file} exists`).to.equal(false);
  },
  HARNESS,
);

Given(
  "the scratch project has the project's claims registry",
  function (this: MmWorld) {
    const project = scratch(this);
    fs.symlinkSync(path.join(PROJECT, 'claims'), project.resolve('claims'), 'dir');
  },
  HARNESS,
);

/** The Allure result of the scenario of that name in the scratch project's last run. */
function allureResult(
  world: MmWorld,
  name: string,
): Record<string, unknown> & {
  labels: { name: string; value: string }[];
  links: { url: string; name?: string }[];
  description?: string;
  statusDetails?: { message?: string };
} {
  const project = scratch(world);
  const results = project.filesEndingIn('-result.json').map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  const found = results.filter((r) => r.name === name);
  if (found.length !== 1)
    throw new Error(
      `expected one Allure result named "${name}", found ${found.length} among: ${results.map((r) => r.name).join(' | ')}`,
    );
  return found[0];
}

Then(
  'the Allure result {string} has the label {word} {string}',
  function (this: MmWorld, name: string, label: string, value: string) {
    const r = allureResult(this, name);
    expect(
      r.labels.filter((l) => l.name === label).map((l) => l.value),
      `the "${label}" labels of the Allure result "${name}"`,
    ).to.include(value);
  },
  HARNESS,
);

Then(
  'the Allure result {string} has no label {word}',
  function (this: MmWorld, name: string, label: string) {
    const r = allureResult(this, name);
    expect(
      r.labels.filter((l) => l.name === label).map((l) => l.value),
      `the "${label}" labels of the Allure result "${name}"`,
    ).to.deep.equal([]);
  },
  HARNESS,
);

Then(
  'the Allure result {string} links to {string}',
  function (this: MmWorld, name: string, url: string) {
    const r = allureResult(this, name);
    const urls = r.links.map((l) => l.url);
    if (!urls.some((u) => u.includes(url)))
      expect.fail(`no link of the Allure result "${name}" contains "${url}"; its links: ${urls.join(', ')}`);
  },
  HARNESS,
);

Then(
  'the Allure result {string} has a description with {string}',
  function (this: MmWorld, name: string, text: string) {
    const r = allureResult(this, name);
    expect(r.description ?? '', `the description of the Allure result "${name}"`).to.include(text);
  },
  HARNESS,
);

Then(
  'the Allure result {string} has the status message {string}',
  function (this: MmWorld, name: string, message: string) {
    const r = allureResult(this, name);
    expect(r.statusDetails?.message, `the status message of the Allure result "${name}"`).to.equal(message);
  },
  HARNESS,
);

Then(
  "the scratch project's Allure categories file the broken design under {string}",
  function (this: MmWorld, category: string) {
    const project = scratch(this);
    const [file] = project.filesEndingIn('categories.json');
    expect(file, 'categories.json in the Allure results').to.be.a('string');
    const categories = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      name: string;
      matchedStatuses?: string[];
      messageRegex?: string;
    }[];
    const r = allureResult(this, 'the device goes while process A still maps its page');
    /* Allure 2 files a result under the first category whose statuses and message regex match. */
    const first = categories.find(
      (c) =>
        (c.matchedStatuses ?? []).includes(String(r.status)) &&
        (!c.messageRegex ||
          new RegExp(`^${c.messageRegex.replace('(?s)', '')}$`, 's').test(r.statusDetails?.message ?? '')),
    );
    expect(
      first?.name,
      `the first category matching status ${r.status} and "${r.statusDetails?.message}"`,
    ).to.equal(category);
  },
  HARNESS,
);

Then(
  "the last picture's list of changes names buffer {word} and not buffer {word}",
  function (this: MmWorld, changed: string, unchanged: string) {
    const project = scratch(this);
    const tables = project
      .filesEndingIn('-attachment.txt')
      .map((f) => fs.readFileSync(f, 'utf8'))
      .filter((t) => t.includes('changed by "'));
    expect(tables, 'page tables.txt attachments with a list of changes').to.not.be.empty;
    const list = tables
      .map((t) => t.slice(t.indexOf('changed by "')))
      .sort((a, b) => a.length - b.length)[0]
      .split('\n')
      .slice(1)
      .filter((l) => /^[+-] /.test(l));
    const cells = (l: string) => l.slice(2).trim().split(/\s+/);
    expect(
      list.map((l) => cells(l)[1]),
      `the buffers of the rows listed as changed:\n${list.join('\n')}`,
    )
      .to.include(changed)
      .and.not.include(unchanged);
  },
  HARNESS,
);

Then(
  'the run fails',
  function (this: MmWorld) {
    const run = lastRun(this);
    expect(run.exitCode, shown(run)).to.be.a('number').and.not.equal(0);
  },
  HARNESS,
);

Then(
  'the run passes',
  function (this: MmWorld) {
    const run = lastRun(this);
    expect(run.exitCode, shown(run)).to.equal(0);
  },
  HARNESS,
);

Then(
  'the output mentions {string}',
  function (this: MmWorld, text: string) {
    const run = lastRun(this);
    if (!run.output.includes(text))
      expect.fail(`the output does not mention ${JSON.stringify(text)}; ${shown(run)}`);
  },
  HARNESS,
);

Then(
  'the run executed {int} scenarios',
  function (this: MmWorld, n: number) {
    expect(finishedTestCases(this).length, 'test cases finished, in messages.ndjson').to.equal(n);
  },
  HARNESS,
);

/**
 * Which worker runs which scenario is the coordinator's choice (a worker that
 * starts first may run them all), so this checks only that every scenario ran
 * in a worker and that there were no more workers than asked for.
 */
Then(
  'every scenario ran in one of {int} worker processes',
  function (this: MmWorld, n: number) {
    const started = envelopes(this).flatMap((e) => (e.testCaseStarted ? [e.testCaseStarted] : []));
    expect(started, 'testCaseStarted messages').to.not.be.empty;
    const workers = started.map((s) => s.workerId);
    expect(workers, 'the workerId of each testCaseStarted message').to.not.include(undefined);
    expect(new Set(workers).size, `distinct workers (${[...new Set(workers)].join(', ')})`).to.be.within(
      1,
      n,
    );
  },
  HARNESS,
);

Then(
  'the scratch project holds one Allure result per scenario',
  function (this: MmWorld) {
    const project = scratch(this);
    const results = project.filesEndingIn('-result.json').map((f) => JSON.parse(project.read(f)));
    const scenarios = envelopes(this).flatMap((e) => (e.pickle ? [String(e.pickle.name)] : []));
    expect(scenarios.length, 'scenarios in messages.ndjson').to.be.above(1);
    expect(finishedTestCases(this).length, 'test cases finished').to.equal(scenarios.length);
    expect(results.length, 'Allure results (*-result.json)').to.equal(scenarios.length);
    expect(new Set(results.map((r) => r.historyId)).size, 'distinct historyIds').to.equal(results.length);
    expect(results.map((r) => String(r.name)).sort(), 'scenario names in the Allure results').to.deep.equal(
      scenarios.sort(),
    );
  },
  HARNESS,
);

After({ tags: '@runner' }, function (this: MmWorld, { result }) {
  const project = scratchProjects.get(this);
  if (!project) return;
  // Every run, not only the last: a report that fails may be the trace of a scenario run before it.
  if (result?.status !== Status.PASSED && project.runs.length)
    this.attach(
      project.runs
        .map((r, i) => `run ${i + 1} of ${project.runs.length}: ${r.args.join(' ')}\n${shown(r)}`)
        .join('\n'),
      { mediaType: 'text/plain', fileName: 'cucumber-js output.txt' },
    );
  project.remove();
  scratchProjects.delete(this);
});

AfterAll(() => removeScratchProjects());
