/**
 * Hooks: a state picture after every Then-step, every failed step and every
 * When-step no Then-step follows (a Graphviz drawing of process → VMA →
 * entries → folios → pagemap, red where the latest When-step changed it, and
 * the same state as a text table with those changes); after
 * each scenario, any outcome or kernel warning that no Then-step claimed
 * fails the scenario.
 */
import { AssertionError } from 'node:assert';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { After, AfterStep, BeforeAll, BeforeStep, Status } from '@cucumber/cucumber';
import type { GherkinDocument, Pickle, PickleStep } from '@cucumber/messages';
import { EngineUsageError, KernelInvariantViolation, type MachineConfig } from '../engine';
import { DEFAULT_CONFIG } from '../engine/machine';
import { BREAKS } from './allure_reporter';
import { brokenOf, loadViz, type Snapshot, snapshotOf, statePicture } from './pictures';
import { pageRows } from './queries';
import type { MmWorld } from './world';

BeforeAll(loadViz);

/**
 * The C translation of each scenario, one JSON line per scenario, for npm run
 * kernel -- --scenarios (cucumber.js empties it). In the run's own folder:
 * reports/ for a full run, reports/last/ for a focused one (cucumber.js).
 */
export const TRANSLATIONS = `${process.env.MMSPEC_RUN_DIR ?? 'reports'}/translations.ndjson`;

BeforeStep(function (this: MmWorld, { pickleStep }) {
  if (!this.translation) return;
  this.translation.text = pickleStep.text;
  this.translation.before = this.translation.seen;
});

/** The line of a pickle's scenario, or of its outline row, and the row's values (as scripts/lib/run.ts reads them). */
function whereOf(doc: GherkinDocument, pickle: Pickle): { line: number; values: string[] } {
  let line = 0;
  let values: string[] = [];
  const visit = (scenario: NonNullable<GherkinDocument['feature']>['children'][number]['scenario']) => {
    if (!scenario) return;
    if (pickle.astNodeIds.includes(scenario.id)) line = scenario.location.line;
    for (const ex of scenario.examples)
      for (const row of ex.tableBody)
        if (pickle.astNodeIds.includes(row.id)) {
          line = row.location.line;
          values = row.cells.map((c) => c.value);
        }
  };
  for (const child of doc.feature?.children ?? []) {
    visit(child.scenario);
    for (const c of child.rule?.children ?? []) visit(c.scenario);
  }
  return { line, values };
}

/**
 * The designs each scenario ran (the MachineConfig choices that debated
 * designs and kernel variants select), and the kernel rule a design broke
 * when a Then-step claims it (`Then the debug checks report "<rule>"`), with
 * that step and its picture: one JSON line per scenario in the run's folder,
 * for the site's designs.html (scripts/lib/designs.ts).
 */
export const DESIGNS = `${process.env.MMSPEC_RUN_DIR ?? 'reports'}/designs.ndjson`;
/** The MachineConfig fields that select a design or a kernel's behaviour, not the machine's size. */
export const DESIGN_KEYS = Object.keys(DEFAULT_CONFIG).filter(
  (k) => !['ram_pages', 'transparent_hugepage', 'use_huge_zero_page', 'debug_vm', 'nr_hugepages'].includes(k),
) as (keyof MachineConfig)[];
const breaks = new WeakMap<MmWorld, { rule: string; step: string; detail: string; svg: string | null }>();

/** The state of each scenario before its latest When-step, and that step: a picture marks what the step changed. */
const beforeAction = new WeakMap<MmWorld, { state: Snapshot; step: string }>();

/**
 * Which steps get a picture: every Then-step, every failed step, and every
 * When-step whose state no Then-step shows right after it (Then-steps do not
 * change the state, so a When followed by a Then would only repeat its
 * picture: attachments cost the Allure writer a synced file each).
 */
function pictured(pickle: Pickle, step: PickleStep, failed: boolean): boolean {
  if (failed || step.type === 'Outcome') return true;
  if (step.type !== 'Action') return false;
  const next = pickle.steps[pickle.steps.findIndex((s) => s.id === step.id) + 1];
  return next?.type !== 'Outcome';
}

AfterStep(function (this: MmWorld, { pickle, pickleStep, result }) {
  const broke = result.status === Status.PASSED ? BREAKS.exec(pickleStep.text) : null;
  if (broke && !breaks.has(this)) {
    const outcome = this.outcomes.find((o) => o.claimed && o.what === `spec violated: ${broke[1]}`);
    breaks.set(this, {
      rule: broke[1],
      step: `Then ${pickleStep.text}`,
      detail: outcome?.detail ?? '',
      svg: null,
    });
  }
  /* A step defined with Cucumber's own Given/When/Then has no translation. */
  if (this.translation && this.translation.seen === this.translation.before)
    this.translation.cannot('its step definition has no C translation (support/vocabulary.ts)');
  if (this.picture.processes.size === 0) return;
  const draw = pictured(pickle, pickleStep, result.status !== Status.PASSED);
  const next = pickle.steps[pickle.steps.findIndex((s) => s.id === pickleStep.id) + 1];
  const whenNext = next?.type === 'Action';
  if (!draw && !whenNext) return;
  const buffers = [...this.picture.buffers].map((b) => this.buffer(b));
  let rows: ReturnType<typeof pageRows>;
  try {
    rows = pageRows(this.kernel, this.processes, buffers);
  } catch (err) {
    /* A state a broken kernel rule left (a @kernel-fails scenario) may not be drawable: say so, and lose nothing else. */
    if (!(err instanceof EngineUsageError)) throw err;
    this.attach(`the page tables could not be drawn: ${err.message}`, {
      mediaType: 'text/plain',
      fileName: 'page tables.txt',
    });
    return;
  }
  const now = snapshotOf(this.kernel, rows);
  if (draw && rows.length > 0) {
    const keyword = pickleStep.type === 'Action' ? 'When' : pickleStep.type === 'Outcome' ? 'Then' : 'Given';
    const picture = statePicture(
      `${keyword} ${pickleStep.text}`,
      this.kernel,
      this.processes,
      buffers,
      rows,
      now,
      beforeAction.get(this) ?? null,
      /* The rule the step broke (a failure), or the one it claims a design breaks. */
      result.status === Status.FAILED
        ? brokenOf(result.exception?.message ?? result.message)
        : broke
          ? (brokenOf(breaks.get(this)?.detail) ?? { rule: broke[1], pfn: -1 })
          : null,
    );
    const broken = breaks.get(this);
    if (broke && broken && broken.svg === null) broken.svg = picture.svg;
    this.attach(picture.text, { mediaType: 'text/plain', fileName: 'page tables.txt' });
    this.attach(Buffer.from(picture.svg), { mediaType: 'image/svg+xml', fileName: 'page tables.svg' });
  }
  if (whenNext) beforeAction.set(this, { state: now, step: `When ${next.text}` });
});

After(function (this: MmWorld, { pickle, gherkinDocument, result }) {
  const t = this.translation;
  if (t) mkdirSync(dirname(TRANSLATIONS), { recursive: true });
  if (t)
    appendFileSync(
      TRANSLATIONS,
      `${JSON.stringify({
        uri: pickle.uri,
        ...whereOf(gherkinDocument, pickle),
        name: pickle.name,
        tags: pickle.tags.map((x) => x.name),
        engine: result?.status ?? 'UNKNOWN',
        processes: t.processes,
        buffers: t.buffers,
        steps: t.steps,
        unobservable: t.unobservable,
        untranslatable: t.untranslatable,
      })}\n`,
    );
  mkdirSync(dirname(DESIGNS), { recursive: true });
  const config = this.kernel.machine.config;
  appendFileSync(
    DESIGNS,
    `${JSON.stringify({
      uri: pickle.uri,
      ...whereOf(gherkinDocument, pickle),
      name: pickle.name,
      engine: result?.status ?? 'UNKNOWN',
      designs: Object.fromEntries(DESIGN_KEYS.map((k) => [k, config[k]])),
      breaks: breaks.get(this) ?? null,
    })}\n`,
  );
  if (result?.status === Status.FAILED && result.exception?.type === KernelInvariantViolation.name)
    this.attach(`spec violated: ${result.exception.message}`, {
      mediaType: 'text/plain',
      fileName: 'debug_vm.txt',
    });
  if (result?.status !== Status.PASSED) return;
  /* The whole machine once more at the end (debug_vm checks only what each operation changed), unless the scenario claimed a broken rule. */
  if (!this.outcomes.some((o) => o.what.startsWith('spec violated: '))) this.kernel.finish();
  const unclaimed = this.outcomes.filter((o) => !o.claimed);
  const warnings = this.kernel.machine.warnings;
  const problems = [
    ...unclaimed.map((o) => `an operation ended in ${o.what} (${o.detail}) but no Then-step claimed it`),
    ...warnings
      .filter((_w, i) => !this.claimedWarnings.has(i))
      .map((w) => `the kernel warned in ${w.where}: ${w.message}`),
  ];
  // An AssertionError, so that the reports count it as a failed expectation, not a harness error.
  if (problems.length)
    throw new AssertionError({ message: `unclaimed outcomes:\n  ${problems.join('\n  ')}` });
});
