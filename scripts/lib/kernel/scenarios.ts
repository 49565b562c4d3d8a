/**
 * The differential scenarios (issue 12, part 2): mmspec's own scenarios,
 * translated step by step to C (support/vocabulary.ts, each step's
 * translation beside its definition), built into one static program
 * against the kernel's headers, run in the guest, and set beside what the
 * engine saw at the same steps.
 *
 * The translations come from the last cucumber-js run
 * (reports/translations.ndjson, written by support/hooks.ts), so the
 * engine's observations are the ones of the run the site reports.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { CStep, Untranslatable } from '../../../support/vocabulary';
import { configValue, REPO } from './build';
import { OracleError, run } from './host';

export const TRANSLATIONS = 'reports/translations.ndjson';

export interface Translation {
  uri: string;
  line: number;
  /** An outline row's values (empty for a plain scenario): with uri and name, its key in the reports. */
  values: string[];
  name: string;
  tags: string[];
  engine: string;
  processes: string[];
  buffers: string[];
  steps: CStep[];
  unobservable: { step: string; reason: string }[];
  untranslatable: Untranslatable[];
}

export function readTranslations(file = TRANSLATIONS): Translation[] {
  if (!existsSync(file))
    throw new OracleError(`${file} is missing: run the scenarios first (npm test), which translates them`);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l, i) => {
      try {
        return JSON.parse(l) as Translation;
      } catch (e) {
        throw new OracleError(`${file}:${i + 1}: ${(e as Error).message}`);
      }
    })
    .sort((a, b) => a.uri.localeCompare(b.uri) || a.line - b.line);
}

/** A scenario that runs on the kernel: every step translated, and the engine passed it. */
export const runnable = (t: Translation): boolean =>
  t.untranslatable.length === 0 && t.engine === 'PASSED' && t.steps.some((s) => s.want !== undefined);

/** A scenario tagged `@kernel-differs:<reason-in-words-with-dashes>`: its reason, in words. */
export const differsTag = (t: Translation): string | null => {
  const tag = t.tags.find((x) => x === '@kernel-differs' || x.startsWith('@kernel-differs:'));
  return tag ? tag.slice('@kernel-differs:'.length).replace(/-/g, ' ') || 'no reason given' : null;
};

/**
 * The swap types pagemap shows for non-present entries (include/linux/swap.h):
 * MAX_SWAPFILES = 32 - SWP_DEVICE_NUM - SWP_MIGRATION_NUM - SWP_HWPOISON_NUM
 * - SWP_PTE_MARKER_NUM, then HWPOISON, the three MIGRATION and the three
 * DEVICE types above it, each present only with its config option.
 */
export function swapTypes(config: string): Record<string, number> {
  const y = (sym: string): boolean => configValue(config, sym) === 'y';
  const device = y('CONFIG_DEVICE_PRIVATE') ? 3 : 0;
  const migration = y('CONFIG_MIGRATION') ? 3 : 0;
  const hwpoison = y('CONFIG_MEMORY_FAILURE') ? 1 : 0;
  const max = 32 - device - migration - hwpoison - 1;
  return {
    MM_SWP_MIGRATION_READ: max + hwpoison,
    MM_SWP_DEVICE_WRITE: max + hwpoison + migration,
    MM_SWP_DEVICE_READ: max + hwpoison + migration + 1,
    MM_SWP_DEVICE_EXCLUSIVE: max + hwpoison + migration + 2,
  };
}

const cComment = (s: string): string => s.replace(/\*\//g, '* /');

/** Seconds a scenario may take in the guest before its process tree is killed (265 take about 70 s in all under TCG). */
export const SCENARIO_SECONDS = 60;

/**
 * Where a kernel function is in the source, for "the kernel warns in F": a
 * static function is often inlined, so the WARNING names its caller
 * ("at dmirror_fault+0x28d") and only its file:line is F's. Looks in mm/
 * and lib/; null when F is not defined there.
 */
export function functionLines(
  tree: string,
  fn: string,
): { file: string; first: number; last: number } | null {
  for (const dir of ['mm', 'lib']) {
    for (const f of readdirSync(join(tree, dir))
      .filter((x) => x.endsWith('.c'))
      .sort()) {
      const lines = readFileSync(join(tree, dir, f), 'utf8').split('\n');
      const start = lines.findIndex(
        (l) => /^[a-z]/.test(l) && new RegExp(`\\b${fn}\\(`).test(l) && !l.endsWith(';'),
      );
      if (start < 0) continue;
      const end = lines.findIndex((l, i) => i > start && l === '}');
      return { file: `${dir}/${f}`, first: start + 1, last: end < 0 ? lines.length : end + 1 };
    }
  }
  return null;
}

/** mm_obs_warned("F") with F's source lines, so a WARN inlined into F's caller still counts as F's. */
function withWarnLines(code: string, tree: string | null): string {
  return code.replace(/mm_obs_warned\("(\w+)"\);/g, (all, fn: string) => {
    const at = tree ? functionLines(tree, fn) : null;
    return at ? `mm_obs_warned_at("${fn}", "${at.file}", ${at.first}, ${at.last});` : all;
  });
}

/** One C program that runs the given scenarios, in order, each in a fresh process tree. */
export function cProgram(scenarios: readonly Translation[], tree: string | null = null): string {
  const out = [
    '/* Generated by scripts/lib/kernel/scenarios.ts from reports/translations.ndjson. */',
    '#include "mmspec.h"',
    '',
  ];
  scenarios.forEach((t, n) => {
    out.push(`/* ${n}: ${cComment(`${t.uri}:${t.line} ${t.name}`)} */`);
    t.steps.forEach((s, i) => {
      out.push(
        `/* ${cComment(s.text)} */`,
        `static void s${n}_${i}(void)`,
        '{',
        `\t${withWarnLines(s.code, tree)}`,
        '}',
      );
    });
    out.push(
      `static const struct mm_step s${n}[] = {`,
      ...t.steps.map((s, i) => `\t{ ${s.owner}, s${n}_${i} },`),
      '};',
      '',
    );
  });
  out.push(
    'static const struct { const struct mm_step *steps; int n; } mm_all[] = {',
    ...scenarios.map((t, n) => `\t{ s${n}, ${t.steps.length} },`),
    '};',
    '',
    '/* argv[1]: the first scenario to run (a later boot goes on after one that took the kernel down). */',
    'int main(int argc, char **argv)',
    '{',
    '\tint first = argc > 1 ? atoi(argv[1]) : 0;',
    '\tsetvbuf(stdout, NULL, _IONBF, 0);',
    '\tmm_kmsg_open();',
    `\tfor (int i = first; i < ${scenarios.length}; i++) {`,
    '\t\tmm_reset_devices();',
    '\t\tmm_clear_warn_once();',
    '\t\tprintf("mmspec-scenario: begin %d\\n", i);',
    '\t\tmm_kmsg_mark("begin", i);',
    '\t\tsh = NULL;',
    '\t\tmm_thp("madvise");',
    '\t\tmm_nr_hugepages(64);',
    `\t\tint rc = mm_scenario_run(i, mm_all[i].steps, mm_all[i].n, ${SCENARIO_SECONDS});`,
    '\t\tif (system("rm -f /scratch/mmspec-*")) {}',
    '\t\tmm_kmsg_drain(i);',
    '\t\tprintf("mmspec-scenario: end %d rc=%d\\n", i, rc);',
    '\t}',
    '\treturn 0;',
    '}',
    '',
  );
  return out.join('\n');
}

/** Build the program statically against the kernel's headers, test_hmm_uapi.h and gup_test.h. */
export function buildProgram(
  scenarios: readonly Translation[],
  tree: string,
  dir: string,
): { binary: string; source: string } {
  const out = join(dir, 'scenarios');
  mkdirSync(out, { recursive: true });
  const source = join(out, 'scenarios.c');
  writeFileSync(source, cProgram(scenarios, tree));
  const types = swapTypes(readFileSync(join(dir, '.config'), 'utf8'));
  const binary = join(out, 'scenarios');
  run(
    'gcc',
    [
      '-static',
      '-O1',
      '-Wall',
      '-Wno-unused-function',
      '-Wno-unused-variable',
      '-I',
      join(REPO, 'kernel', 'scenario'),
      '-I',
      join(tree, 'lib'),
      '-I',
      join(tree, 'mm'),
      '-isystem',
      join(dir, 'usr/include'),
      ...Object.entries(types).map(([k, v]) => `-D${k}=${v}`),
      '-o',
      binary,
      source,
    ],
    { logFile: join(out, 'gcc.log') },
  );
  return { binary, source };
}

/** What the guest printed for the scenarios: JSON observation lines and begin/end markers. */
export interface ScenarioOutput {
  began: Set<number>;
  ended: Map<number, number>;
  /** Observations by scenario, by step. */
  got: Map<number, Map<number, unknown>>;
  errors: Map<number, { step: number; error: string }[]>;
  /** What the kernel logged during each scenario: its KERN_WARNING-or-worse records, and the console's BUG, Oops and trace lines. */
  kernelLog: Map<number, string[]>;
  /** Scenarios whose processes the kernel held after the kill (the guest powered off). */
  stuck: Set<number>;
}

/**
 * A kernel log line that says the kernel broke one of its own rules: a BUG
 * (VM_BUG_ON_*, Bad rss-counter state, non-zero pgtables_bytes), an Oops, a
 * GPF, a panic. A WARNING is kept in the scenario's kernel log but is no
 * difference by itself: test_hmm's coherent device WARNs "Conflicting
 * mapping in same section" when it memremaps its one range again while a
 * page of the old chunk is still held (dmirror_allocate_chunk), which is the
 * driver's, not a rule the scenario states.
 */
export const KERNEL_BUG = /\b(BUG|Oops|general protection fault|Kernel panic)\b/;

const CONSOLE_LINE =
  /(BUG|Oops|WARNING:|general protection fault|Kernel panic|RIP:|Bad rss-counter|pgtables_bytes|page dumped because|Call Trace)/;

/** Give each scenario the console lines between its begin and end markers (an Oops that ended the boot is only there). */
export function parseConsole(console: string, o: ScenarioOutput): void {
  let cur = -1;
  for (const raw of console.split('\n')) {
    const line = raw.replace(/^\[\s*[\d.]+\]\s*/, '').trimEnd();
    const m = /mmspec-scenario: (begin|end) (\d+)$/.exec(line);
    if (m) {
      cur = m[1] === 'begin' ? Number(m[2]) : -1;
      continue;
    }
    if (cur < 0 || !CONSOLE_LINE.test(line)) continue;
    const list = o.kernelLog.get(cur) ?? [];
    if (list.length < 12 && !list.includes(line)) list.push(line);
    o.kernelLog.set(cur, list);
  }
}

export function parseScenarioOutput(text: string, into?: ScenarioOutput): ScenarioOutput {
  const o = into ?? {
    began: new Set(),
    ended: new Map(),
    got: new Map(),
    errors: new Map(),
    kernelLog: new Map(),
    stuck: new Set(),
  };
  for (const line of text.split('\n')) {
    const stuck = /^mmspec-scenario: stuck (\d+)$/.exec(line);
    if (stuck) {
      o.stuck.add(Number(stuck[1]));
      continue;
    }
    let m = /^mmspec-scenario: begin (\d+)$/.exec(line);
    if (m) {
      o.began.add(Number(m[1]));
      continue;
    }
    m = /^mmspec-scenario: end (\d+) rc=(\d+)$/.exec(line);
    if (m) {
      o.ended.set(Number(m[1]), Number(m[2]));
      continue;
    }
    if (!line.startsWith('{"scenario":')) continue;
    let j: { scenario: number; step: number; got?: unknown; error?: string; kmsg?: string };
    try {
      j = JSON.parse(line);
    } catch {
      continue; /* a line cut by the guest going down */
    }
    if (j.kmsg !== undefined) {
      const list = o.kernelLog.get(j.scenario) ?? [];
      if (!list.includes(j.kmsg)) list.push(j.kmsg);
      o.kernelLog.set(j.scenario, list);
    } else if (j.error !== undefined) {
      const list = o.errors.get(j.scenario) ?? [];
      list.push({ step: j.step, error: j.error });
      o.errors.set(j.scenario, list);
    } else {
      const steps = o.got.get(j.scenario) ?? new Map();
      steps.set(j.step, j.got);
      o.got.set(j.scenario, steps);
    }
  }
  return o;
}

export type ScenarioVerdict =
  | 'agree'
  | 'differs'
  | 'differs (tagged)'
  | 'differs (unpatched)'
  | 'did not finish'
  | 'not translatable'
  | 'design variant'
  | 'not observable'
  | 'engine failed';

export interface StepComparison {
  step: string;
  engine: unknown;
  kernel: unknown;
}

export interface ScenarioResult {
  uri: string;
  line: number;
  values: string[];
  name: string;
  verdict: ScenarioVerdict;
  compared: number;
  notObservable: number;
  /** The steps whose observations differ, the first error, or why it did not finish. */
  differences: StepComparison[];
  note?: string;
  /** What the kernel logged while it ran (KERN_WARNING or worse; the console's Oops lines). */
  kernelLog?: string[];
}

/** A scenario tagged `@kernel-needs-patch:<patch number>`: it states a proposed fix (kernel/patches/). */
export const needsPatch = (t: Translation): string | null => {
  const tag = t.tags.find((x) => x.startsWith('@kernel-needs-patch:'));
  return tag ? tag.slice('@kernel-needs-patch:'.length) : null;
};

/**
 * Compare one scenario's kernel observations with the engine's, step by step.
 * `patched`: the guest kernel carries kernel/patches/; a scenario that needs a
 * patch is expected to differ on a kernel without it.
 */
export function compareScenario(
  t: Translation,
  n: number,
  o: ScenarioOutput,
  patched = false,
): ScenarioResult {
  const got = o.got.get(n) ?? new Map();
  const differences: StepComparison[] = [];
  let compared = 0;
  const errors = o.errors.get(n) ?? [];
  t.steps.forEach((s, i) => {
    if (s.want === undefined) return;
    if (!got.has(i)) return;
    compared++;
    if (!isDeepStrictEqual(got.get(i), s.want))
      differences.push({ step: s.text, engine: s.want, kernel: got.get(i) });
  });
  for (const e of errors)
    differences.push({
      step: t.steps[e.step]?.text ?? `step ${e.step}`,
      engine: 'the step succeeds',
      kernel: e.error,
    });
  /* The engine's debug_vm found nothing wrong, so a kernel that says BUG, WARNING or Oops differs from it. */
  const kernelLog = o.kernelLog.get(n) ?? [];
  const bugs = kernelLog.filter((l) => KERNEL_BUG.test(l));
  if (bugs.length && !t.tags.includes('@kernel-fails'))
    differences.push({ step: 'the kernel log', engine: 'no BUG, WARNING or Oops', kernel: bugs.slice(0, 4) });
  const base = {
    uri: t.uri,
    line: t.line,
    values: t.values ?? [],
    name: t.name,
    compared,
    notObservable: t.unobservable.length,
    ...(kernelLog.length ? { kernelLog } : {}),
  };
  const tagged = differsTag(t);
  const patch = needsPatch(t);
  const observations = t.steps.filter((s) => s.want !== undefined).length;
  if (!o.ended.has(n) || (differences.length === 0 && compared < observations)) {
    const why = !o.began.has(n)
      ? 'never started (an earlier scenario took the guest down)'
      : o.stuck.has(n)
        ? 'the kernel still held its processes after they were killed; the guest powered off'
        : !o.ended.has(n)
          ? `started but never ended (the guest went down or hung${bugs.length ? `: ${bugs[0]}` : ''})`
          : `ended (rc=${o.ended.get(n)}) after ${compared} of ${observations} observations`;
    if (patch && !patched && o.began.has(n))
      return {
        ...base,
        verdict: 'differs (unpatched)',
        differences,
        note: `${why}; it states kernel/patches/${patch}*, which this kernel does not carry (npm run kernel -- --patched --scenarios)`,
      };
    return { ...base, verdict: 'did not finish', differences, note: why };
  }
  if (patch && !patched)
    return differences.length
      ? {
          ...base,
          verdict: 'differs (unpatched)',
          differences,
          note: `states kernel/patches/${patch}*, which this kernel does not carry (npm run kernel -- --patched)`,
        }
      : { ...base, verdict: 'agree', differences, note: `agrees even without kernel/patches/${patch}*` };
  if (differences.length)
    return tagged
      ? { ...base, verdict: 'differs (tagged)', differences, note: tagged }
      : { ...base, verdict: 'differs', differences };
  return tagged
    ? {
        ...base,
        verdict: 'differs',
        differences,
        note: `tagged @kernel-differs (${tagged}) but the kernel agrees`,
      }
    : { ...base, verdict: 'agree', differences };
}

/** How much of the suite translates: variants are left out of the target (issue 12: ≥ 90 % of non-variant scenarios). */
export function translationCoverage(all: readonly Translation[]) {
  const scoped = (t: Translation, scope: string) =>
    t.untranslatable.some((u) => (u.scope ?? (u.variant ? 'variant' : 'kernel')) === scope);
  const variant = all.filter((t) => scoped(t, 'variant'));
  const harness = all.filter((t) => !scoped(t, 'variant') && scoped(t, 'harness'));
  const others = all.filter((t) => !scoped(t, 'variant') && !scoped(t, 'harness'));
  const translatable = others.filter((t) => t.untranslatable.length === 0);
  const reasons = new Map<string, number>();
  /* The scenarios that translating one reason's steps alone would make translatable: what to translate next. */
  const alone = new Map<string, number>();
  for (const t of others) {
    const rs = new Set(t.untranslatable.map((u) => u.reason));
    for (const r of rs) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    if (rs.size === 1) for (const r of rs) alone.set(r, (alone.get(r) ?? 0) + 1);
  }
  return {
    scenarios: all.length,
    variant: variant.length,
    harness: harness.length,
    nonVariant: others.length,
    translatable: translatable.length,
    runnable: all.filter(runnable).length,
    percent: others.length ? Math.round((1000 * translatable.length) / others.length) / 10 : 0,
    reasons: [...reasons.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([reason, scenarios]) => ({ reason, scenarios })),
    blockers: [...alone.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([reason, scenarios]) => ({ reason, scenarios })),
  };
}

/** The verdict of a scenario that did not run on the kernel, and why. */
export function notRun(t: Translation): ScenarioResult {
  const base = {
    uri: t.uri,
    line: t.line,
    values: t.values ?? [],
    name: t.name,
    compared: 0,
    notObservable: t.unobservable.length,
    differences: [],
  };
  const first = t.untranslatable[0];
  if (first) {
    const variant = t.untranslatable.find(
      (u) => (u.scope ?? (u.variant ? 'variant' : 'kernel')) === 'variant',
    );
    return variant
      ? { ...base, verdict: 'design variant', note: variant.reason }
      : { ...base, verdict: 'not translatable', note: `${first.step}: ${first.reason}` };
  }
  if (t.engine !== 'PASSED')
    return { ...base, verdict: 'engine failed', note: `the engine's run: ${t.engine}` };
  return {
    ...base,
    verdict: 'not observable',
    note: t.unobservable.length
      ? `every Then-step states what userspace cannot see (${[...new Set(t.unobservable.map((u) => u.reason))].join('; ')})`
      : 'no Then-step',
  };
}

/** The last scenario run in reports/kernel.json, or null. */
export interface ScenarioRun {
  kernel: { series: string; version: string; package: string; patched: string[] };
  guest: { accel: string; why: string; boots: { from: number; seconds: number; timedOut: boolean }[] };
  coverage: ReturnType<typeof translationCoverage>;
  summary: Record<string, number>;
  observations: { compared: number; notObservable: number };
  results: ScenarioResult[];
}

export function readScenarioRun(file = 'reports/kernel.json'): ScenarioRun | null {
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'))?.scenarioRun as ScenarioRun | undefined;
    return r && Array.isArray(r.results) ? r : null;
  } catch {
    return null;
  }
}

/** A scenario's identity in every report: file, pickle name and outline row values (scripts/lib/allure.ts key). */
export const scenarioKey = (uri: string, name: string, values: readonly string[]): string =>
  JSON.stringify([uri, name, values]);

/** The real-kernel verdict of each scenario of the last scenario run, by scenarioKey. */
export function kernelVerdicts(run: ScenarioRun | null = readScenarioRun()): Map<string, ScenarioResult> {
  return new Map((run?.results ?? []).map((r) => [scenarioKey(r.uri, r.name, r.values ?? []), r]));
}
