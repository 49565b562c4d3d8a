/**
 * The conformance table: every case of the kernel's own tests that
 * conformance/kernel-tests.yaml lists (hmm-tests.c per fixture variant,
 * cow.c's anonymous cases per backing) → the scenarios that restate it →
 * their outcome in the last run. Built from the feature files and
 * reports/messages.ndjson, never written by hand.
 *
 * A case's status:
 *   passed    every scenario that restates it passed in the last run
 *   failed    one of them failed (the first failure is the reason)
 *   not run   the last run did not run them (a partial run)
 *   pending   one is tagged @pending; its description's "Pending:" line is the reason
 *   kernel fails  the kernel itself does not do what the C test asserts: the
 *             scenario (tagged @kernel-fails, the reason on a "Kernel fails:"
 *             line) states what the kernel does, and passed. Not an engine
 *             failure; listed with its reason
 *   missing   no scenario restates it
 *   benchmark a timing test, run by `npm run bench`; passed or failed here by
 *             running it at small sizes (the C test asserts only that every
 *             ioctl returns 0)
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { type Features, type ScenarioRun, tagValues } from './features';
import { type LastRun, type Outcome, pickleKey } from './run';

export const KERNEL_TESTS = 'conformance/kernel-tests.yaml';

export type CaseStatus = 'passed' | 'kernel fails' | 'failed' | 'not run' | 'pending' | 'missing';

export interface ScenarioResult {
  readonly name: string;
  readonly uri: string;
  readonly line: number;
  readonly outcome: Outcome | 'pending';
  readonly parameters: readonly { name: string; value: string }[];
}

export interface ConformanceCase {
  /** hmm-tests.c or cow.c */
  readonly suite: string;
  /** The kernel's name for the case: `hmm.hmm_device_private.anon_read`, or the cow.c description and backing. */
  readonly id: string;
  /** The test function (hmm-tests) or the case tag (cow). */
  readonly test: string;
  /** The fixture variant (hmm-tests) or the backing (cow). */
  readonly variant: string;
  readonly status: CaseStatus;
  readonly reason: string;
  readonly scenarios: readonly ScenarioResult[];
  /** For a benchmark: where it runs. */
  readonly bench?: string;
}

interface HmmTest {
  name: string;
  fixture: string;
  bench?: boolean;
}
export interface Registry {
  'hmm-tests': { file: string; source: string; variants: Record<string, string[]>; tests: HmmTest[] };
  cow: {
    file: string;
    source: string;
    backings: string[];
    kernel_backings?: Record<string, string>;
    cases: { tag: string; desc: string }[];
  };
  kernel_differences?: { case: string; kernel: string; reason: string }[];
}

export function loadKernelTests(file = KERNEL_TESTS): Registry {
  const r = parse(readFileSync(file, 'utf8')) as Registry;
  const problems: string[] = [];
  if (!r?.['hmm-tests']?.tests?.length) problems.push('no hmm-tests: tests');
  if (!r?.cow?.cases?.length) problems.push('no cow: cases');
  for (const t of r?.['hmm-tests']?.tests ?? [])
    if (!r['hmm-tests'].variants[t.fixture])
      problems.push(`hmm-tests ${t.name}: unknown fixture ${t.fixture}`);
  for (const b of Object.keys(r?.cow?.kernel_backings ?? {}))
    if (!r.cow.backings.includes(b)) problems.push(`cow kernel_backings: "${b}" is not one of backings`);
  (r?.kernel_differences ?? []).forEach((d, i) => {
    if (!d?.case || !d?.kernel || !d?.reason)
      problems.push(
        `kernel_differences[${i}]: needs case ("<suite> <id>"), kernel (a series: 7.2) and reason`,
      );
  });
  if (problems.length) throw new Error(`${file}: ${problems.join('; ')}`);
  return r;
}

/** What a benchmark case needs checked: the C test's assertion that every round trip returned 0. */
export interface BenchCheck {
  readonly variant: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The text of the description's line that starts with `label:` (Pending:, Kernel fails:). */
function reasonLine(s: ScenarioRun, label: string, tag: string): string {
  const lines = s.description.split('\n');
  const at = lines.findIndex((l) => l.trimStart().startsWith(`${label}:`));
  if (at < 0) return `tagged ${tag} with no "${label}:" line`;
  /* The reason runs on to the end of its paragraph. */
  const end = lines.findIndex((l, i) => i > at && !l.trim());
  return lines
    .slice(at, end < 0 ? undefined : end)
    .map((l) => l.trim())
    .join(' ')
    .slice(label.length + 1)
    .trim();
}

function judge(
  scenarios: readonly ScenarioRun[],
  outcomes: Map<string, Outcome>,
  failures: Map<string, string>,
): { status: CaseStatus; reason: string; results: ScenarioResult[] } {
  const results = scenarios.map(
    (s): ScenarioResult => ({
      name: s.name,
      uri: s.uri,
      line: s.line,
      parameters: s.parameters,
      outcome: s.tags.includes('@pending')
        ? 'pending'
        : (outcomes.get(pickleKey(s.uri, s.line)) ?? 'not run'),
    }),
  );
  if (scenarios.length === 0) return { status: 'missing', reason: 'no scenario restates it', results };
  const pending = scenarios.find((s) => s.tags.includes('@pending'));
  if (pending) return { status: 'pending', reason: reasonLine(pending, 'Pending', '@pending'), results };
  const failed = results.find((r) => r.outcome === 'failed');
  if (failed)
    return {
      status: 'failed',
      reason: `${failed.uri}:${failed.line}: ${failures.get(pickleKey(failed.uri, failed.line)) ?? 'failed'}`,
      results,
    };
  const notRun = results.find((r) => r.outcome === 'not run');
  if (notRun)
    return { status: 'not run', reason: `${notRun.uri}:${notRun.line} did not run in the last run`, results };
  const kernelFails = scenarios.find((s) => s.tags.includes('@kernel-fails'));
  if (kernelFails)
    return {
      status: 'kernel fails',
      reason: reasonLine(kernelFails, 'Kernel fails', '@kernel-fails'),
      results,
    };
  return { status: 'passed', reason: '', results };
}

/** The table. A benchmark test is run once, at small sizes, for all its variants (runBenchSmall). */
export function conformanceTable(
  features: Features,
  run: LastRun | null,
  registry = loadKernelTests(),
): { cases: ConformanceCase[]; problems: string[] } {
  const outcomes = new Map<string, Outcome>();
  const failures = new Map<string, string>();
  if (run)
    for (const [id, p] of run.pickles) {
      const key = pickleKey(p.uri, run.lines.get(id) ?? 0);
      outcomes.set(key, run.outcomes.get(id) ?? 'not run');
      const f = run.failures.get(id);
      if (f) failures.set(key, `${f.step ? `"${f.step}": ` : ''}${(f.message ?? f.status).split('\n')[0]}`);
    }

  const cases: ConformanceCase[] = [];
  const problems: string[] = [];
  const claimed = new Set<ScenarioRun>();

  /* hmm-tests.c: a scenario per test and variant, named as the harness names it. */
  const hmm = registry['hmm-tests'];
  for (const t of hmm.tests) {
    const checks = t.bench ? runBenchSmall(t.name, hmm.variants[t.fixture]) : null;
    for (const variant of hmm.variants[t.fixture]) {
      const id = `${t.fixture}.${variant}.${t.name}`;
      if (t.bench) {
        const check = checks?.find((c) => c.variant === variant);
        cases.push({
          suite: 'hmm-tests.c',
          id,
          test: t.name,
          variant,
          status: !check ? 'missing' : check.ok ? 'passed' : 'failed',
          reason: !check ? 'the benchmark could not be run (bench/thp_migration.ts)' : check.detail,
          scenarios: [],
          bench: 'npm run bench (benchmark_thp_migration)',
        });
        continue;
      }
      const scenarios = features.scenarios.filter(
        (s) => tagValues(s.tags, 'hmm-tests').includes(t.name) && s.name === id,
      );
      const memory = variant.endsWith('private') ? '@device-private' : '@device-coherent';
      for (const s of scenarios) {
        claimed.add(s);
        if (!s.tags.includes(memory))
          problems.push(`${s.uri}:${s.line}: "${s.name}" is not tagged ${memory}`);
      }
      const { status, reason, results } = judge(scenarios, outcomes, failures);
      cases.push({ suite: 'hmm-tests.c', id, test: t.name, variant, status, reason, scenarios: results });
    }
  }
  for (const s of features.scenarios)
    if (tagValues(s.tags, 'hmm-tests').length && !claimed.has(s))
      problems.push(
        `${s.uri}:${s.line}: "${s.name}" is tagged @hmm-tests:${tagValues(s.tags, 'hmm-tests').join(',')} but names no case of ${KERNEL_TESTS} (<fixture>.<variant>.<test>)`,
      );

  /* cow.c: each anonymous case on each backing, from the outline's <backing> column. */
  const cow = registry.cow;
  const cowTags = new Set(cow.cases.map((c) => c.tag));
  for (const c of cow.cases)
    for (const backing of cow.backings) {
      const scenarios = features.scenarios.filter(
        (s) =>
          tagValues(s.tags, 'cow').includes(c.tag) &&
          s.parameters.some((p) => p.name === 'backing' && p.value === backing),
      );
      const { status, reason, results } = judge(scenarios, outcomes, failures);
      cases.push({
        suite: 'cow.c',
        id: `${c.desc} ... with ${backing}`,
        test: c.tag,
        variant: backing,
        status,
        reason,
        scenarios: results,
      });
    }
  for (const s of features.scenarios)
    for (const tag of tagValues(s.tags, 'cow'))
      if (!cowTags.has(tag))
        problems.push(`${s.uri}:${s.line}: @cow:${tag} is not a case of ${KERNEL_TESTS}`);

  return { cases, problems };
}

/** Counts by status, per suite. */
export function counts(cases: readonly ConformanceCase[]): Map<string, Map<CaseStatus, number>> {
  const by = new Map<string, Map<CaseStatus, number>>();
  for (const c of cases) {
    const m = by.get(c.suite) ?? new Map<CaseStatus, number>();
    m.set(c.status, (m.get(c.status) ?? 0) + 1);
    by.set(c.suite, m);
  }
  return by;
}

export const STATUS_ORDER: readonly CaseStatus[] = [
  'passed',
  'kernel fails',
  'failed',
  'not run',
  'pending',
  'missing',
];

/** A case that counts against the engine: everything but passed and the kernel's own known failures. */
export const failing = (c: ConformanceCase): boolean => c.status !== 'passed' && c.status !== 'kernel fails';

/** The bench entry of a benchmark test, run small: P/4 to 2P, once each way, with and without THP. */
export const SMALL_BENCH = { sizes_pages: [128, 256, 512, 1024], iterations: 1 };

interface BenchRow {
  variant: string;
  size_pages: number;
  thp: boolean;
  ret: number;
}

/**
 * Run a benchmark test at small sizes and judge it as the C test does: every
 * ioctl returned 0. bench/thp_migration.ts holds benchmark_thp_migration.
 */
export function runBenchSmall(test: string, variants: string[]): BenchCheck[] | null {
  if (test !== 'benchmark_thp_migration') return null;
  const file = 'bench/thp_migration.ts';
  if (!existsSync(file)) return null;
  // Loaded on demand: the benchmark may not exist in a checkout that predates it.
  const mod = require('../../bench/thp_migration') as {
    benchmark_thp_migration?: (opts: {
      sizes_pages: number[];
      iterations: number;
      variants: string[];
    }) => BenchRow[];
  };
  if (typeof mod.benchmark_thp_migration !== 'function') return null;
  const rows = mod.benchmark_thp_migration({ ...SMALL_BENCH, variants });
  return variants.map((variant) => {
    const mine = rows.filter((r) => r.variant === variant);
    const bad = mine.filter((r) => r.ret !== 0);
    return {
      variant,
      ok: mine.length === SMALL_BENCH.sizes_pages.length * 2 && bad.length === 0,
      detail: mine.length
        ? bad.length
          ? `returned ${bad.map((r) => `${r.ret} at ${r.size_pages} pages${r.thp ? ' with THP' : ''}`).join(', ')}`
          : `every round trip returned 0 at ${SMALL_BENCH.sizes_pages.join(', ')} pages, with and without THP (npm run bench times the full sizes)`
        : 'the benchmark returned no rows for this variant',
    };
  });
}
