/**
 * npm run kernel [-- --kernel 7.2|6.12] [--patched] [--timeout SECONDS]
 *                 [--scenarios [--only FILE[:LINE]]… [--translations FILE]]
 *
 * The oracle. Builds a real kernel with lib/test_hmm.c (once; cached in
 * ~/.cache/mmspec/kernel), boots it under qemu, runs the kernel's own
 * hmm-tests and cow in it, and sets each case beside what mmspec's
 * conformance table says the kernel does (the engine's last run,
 * reports/messages.ndjson).
 *
 * --scenarios runs the translated scenarios instead (scripts/lib/kernel/scenarios.ts);
 * --only runs just the scenarios of FILE (at LINE: the scenario or outline
 * row there), the author's loop, and writes its results to
 * reports/kernel/only.json, not to the report; --translations reads the
 * translations of another run (reports/last/translations.ndjson after a
 * partial `npm run features -- FILE`).
 *
 * Writes reports/kernel.json, and the run's console.log and tap.txt under
 * reports/kernel/. Exits 1 on a difference that conformance/kernel-tests.yaml
 * does not record (kernel_differences), 2 when the oracle itself could not run
 * (a missing package, no source, a build that failed, a guest that never
 * reached its tests).
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ConformanceCase, conformanceTable, loadKernelTests } from './lib/conformance';
import { loadFeatures } from './lib/features';
import { type Built, buildKernel } from './lib/kernel/build';
import { boot, buildInitramfs, CMDLINE, chooseAccel, type GuestPlan } from './lib/kernel/guest';
import { ensurePackages, KERNELS, kernelSource, log, OracleError } from './lib/kernel/host';
import {
  buildProgram,
  compareScenario,
  needsPatch,
  notRun,
  parseConsole,
  parseScenarioOutput,
  readTranslations,
  runnable,
  SCENARIO_SECONDS,
  type Translation,
  translationCoverage,
} from './lib/kernel/scenarios';
import {
  compare,
  KERNEL_PATCHED_REPORT,
  KERNEL_REPORT,
  type KernelCase,
  type KernelOutcome,
  parseTap,
  programOf,
  readKernelReport,
  unrecorded,
} from './lib/kernel/tap';
import { readLastRun } from './lib/run';

/*
 * Where this run writes: a --patched run has its own report and logs, so the
 * site's real-kernel column stays today's kernel, and the patched build's
 * results are there to set beside it (docs/upstream/).
 */
let REPORT = KERNEL_REPORT;
let LOGS = 'reports/kernel';

interface Options {
  series: string;
  patched: boolean;
  timeout: number;
  scenarios: boolean;
  only: { uri: string; line?: number }[];
  translations?: string;
}

function args(argv: string[]): Options {
  const known = new Set(['--kernel', '--patched', '--timeout', '--scenarios', '--only', '--translations']);
  for (const a of argv)
    if (a.startsWith('--') && !known.has(a))
      throw new OracleError(
        `unknown option ${a} (npm run kernel -- [--kernel ${Object.keys(KERNELS).join('|')}] [--patched] [--scenarios [--only FILE[:LINE]]… [--translations FILE]] [--timeout SECONDS])`,
      );
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (!v || v.startsWith('--')) throw new OracleError(`${flag} needs a value`);
    return v;
  };
  const timeout = Number(value('--timeout') ?? 1800);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new OracleError(`--timeout ${value('--timeout')}: not a number of seconds`);
  return {
    series: value('--kernel') ?? '7.2',
    patched: argv.includes('--patched'),
    timeout,
    scenarios: argv.includes('--scenarios'),
    only: argv.flatMap((a, i) => (a === '--only' ? [onlyArg(argv[i + 1])] : [])),
    translations: value('--translations'),
  };
}

/** `--only FILE[:LINE]`: a feature file, and optionally the line of a scenario or outline row in it. */
function onlyArg(v: string | undefined): { uri: string; line?: number } {
  if (!v || v.startsWith('--')) throw new OracleError('--only needs FILE[:LINE]');
  const m = /^(.*?)(?::(\d+))?$/.exec(v) as RegExpExecArray;
  if (!existsSync(m[1])) throw new OracleError(`--only ${v}: no file ${m[1]}`);
  return { uri: m[1].replace(/^\.\//, ''), ...(m[2] ? { line: Number(m[2]) } : {}) };
}

/* The last run's outcomes; a missing or unreadable report only loses the "previously" column. */
const previousOutcomes = (): Map<string, KernelOutcome> =>
  new Map((readKernelReport(REPORT)?.cases ?? []).map((c) => [`${c.suite} ${c.id}`, c.kernel]));

function main(): number {
  const opt = args(process.argv.slice(2));
  if (opt.patched) {
    REPORT = KERNEL_PATCHED_REPORT;
    LOGS = 'reports/kernel-patched';
  }
  const registry = loadKernelTests();
  const run = readLastRun();
  if (!run) throw new OracleError('no results of a run in reports/: run the scenarios first (npm test)');
  const table = conformanceTable(loadFeatures(), run, registry);

  ensurePackages();
  const src = kernelSource(opt.series);
  log(`source: ${src.pkgVersion} (${src.version}) in ${src.dir}`);
  const built = buildKernel(src, { patched: opt.patched });
  for (const [s, t] of Object.entries(built.steps))
    log(`${s}: ${t.cached ? `cached (took ${t.seconds} s)` : `${t.seconds} s`}`);

  const { accel, why } = chooseAccel(built.bzImage, built.dir);
  log(`accelerator: ${accel.toUpperCase()}: ${why}`);
  if (opt.scenarios) return scenarios(opt, built, src.pkgVersion, accel, why);
  if (opt.only.length || opt.translations)
    throw new OracleError('--only and --translations go with --scenarios');
  const plan: GuestPlan = {
    thp: 'madvise',
    hugepages: 64,
    swapBytes: 1 << 30,
    programs: [
      { name: 'hmm-tests', binary: built.hmmTests, timeout: Math.floor(opt.timeout / 3) },
      { name: 'cow', binary: built.cow, timeout: Math.floor(opt.timeout / 2) },
    ],
  };
  const initrd = buildInitramfs(built.dir, plan);
  log(
    `booting ${built.version}${opt.patched ? ' (patched)' : ''} under ${accel.toUpperCase()} (timeout ${opt.timeout} s)`,
  );
  const guest = boot(accel, built.bzImage, initrd, join(built.dir, 'run'), opt.timeout, plan.swapBytes);
  mkdirSync(LOGS, { recursive: true });
  for (const f of ['console.log', 'tap.txt'])
    if (existsSync(join(guest.dir, f))) copyFileSync(join(guest.dir, f), join(LOGS, f));
  const out = parseTap(guest.tap);
  log(
    `guest: ${guest.seconds} s${guest.timedOut ? ', killed at the timeout' : ''}; ${out.programs.map((p) => `${p.name} ${p.cases.length} cases, rc=${p.rc ?? 'never ended'}`).join('; ')}`,
  );
  if (!out.programs.length)
    throw new OracleError(
      `the guest ran no test program (${guest.timedOut ? 'timed out' : `qemu exited ${guest.exitCode}`}); its console: ${join(LOGS, 'console.log')}\n${guest.console.split('\n').slice(-15).join('\n')}`,
    );

  /* cow.c lists every mTHP size it detects; its PMD-mapped cases use the largest (the PMD size). */
  const sizes = [...guest.tap.matchAll(/detected THP size: (\d+) KiB/g)].map((m) => Number(m[1]));
  const thp = String(sizes.length ? Math.max(...sizes) : 2048);
  const kernelName = (c: ConformanceCase): string => {
    if (c.suite !== 'cow.c') return c.id;
    const b = registry.cow.kernel_backings?.[c.variant] ?? c.variant;
    const desc = c.id.slice(0, c.id.length - ` ... with ${c.variant}`.length);
    return `${desc} ... with ${b.replace('<thp>', `${thp} kB`)}`;
  };
  const cases = compare(
    table.cases,
    out,
    kernelName,
    registry.kernel_differences ?? [],
    opt.series,
    previousOutcomes(),
  );
  const warnings = [
    ...guest.console.matchAll(/^\[[\s\d.]+\] (WARNING: .*|BUG: .*|Oops.*|Kernel panic.*)$/gm),
  ].map((m) => m[1].replace(/, CPU#\d+: .*$/, ''));
  const distinct = [...new Set(warnings)];
  const inTable = new Set(cases.map((c) => `${programOf(c.suite)}\0${c.kernelName}`));
  const others = out.programs.flatMap((p) => p.cases.filter((t) => !inTable.has(`${p.name}\0${t.name}`)));

  const report = {
    ...(readKernelReport(REPORT) ?? {}),
    kernel: {
      series: opt.series,
      version: built.version,
      package: src.pkgVersion,
      patched: built.patched,
      config: 'defconfig + kvm_guest.config + kernel/hmm.config',
      cache: built.dir,
      diskBytes: built.diskBytes,
      build: built.steps,
    },
    guest: {
      accel,
      why,
      seconds: guest.seconds,
      timedOut: guest.timedOut,
      cmdline: CMDLINE.join(' '),
      facts: out.facts,
      programs: out.programs.map((p) => ({ name: p.name, rc: p.rc, cases: p.cases.length })),
      warnings: distinct.map((w) => ({ text: w, count: warnings.filter((x) => x === w).length })),
    },
    summary: {} as Record<string, number>,
    cases,
    /* The kernel's cases mmspec's table does not restate (cow.c's other backings, its non-anonymous tests). */
    notInTable: {
      total: others.length,
      ok: others.filter((t) => t.outcome === 'ok').length,
      notOk: others.filter((t) => t.outcome === 'not ok').map((t) => `${t.program}: ${t.name}`),
      skip: others.filter((t) => t.outcome === 'skip').length,
    },
  };
  for (const c of cases) report.summary[c.verdict] = (report.summary[c.verdict] ?? 0) + 1;
  writeFileSync(REPORT, `${JSON.stringify(report, null, 2)}\n`);

  const agree = cases.filter((c) => c.verdict === 'agree').length;
  console.log(
    `\nLinux ${built.version} (${accel.toUpperCase()}) against the conformance table: ${agree} of ${cases.length} cases agree`,
  );
  console.log(
    `  ${Object.entries(report.summary)
      .map(([v, n]) => `${n} ${v}`)
      .join(', ')}`,
  );
  const show = (k: KernelCase): string =>
    `  ${k.verdict.padEnd(18)} ${k.suite} ${k.id}: kernel ${k.kernel}, engine ${k.engine}${k.note ? ` (${k.note})` : ''}${k.previously ? ` [was ${k.previously}]` : ''}`;
  for (const k of cases.filter((c) => c.verdict !== 'agree' || c.expected === 'not ok' || c.previously))
    console.log(show(k));
  console.log(
    `  kernel cases outside the table: ${report.notInTable.total} (${report.notInTable.ok} ok, ${report.notInTable.notOk.length} not ok, ${report.notInTable.skip} skipped)`,
  );
  for (const w of report.guest.warnings) console.log(`  kernel log: ${w.count}× ${w.text}`);
  console.log(`\nReport: ${REPORT}; the guest's serial ports: ${LOGS}/console.log, ${LOGS}/tap.txt`);
  const bad = cases.filter(unrecorded);
  if (bad.length) {
    console.log(
      `\n${bad.length} difference(s) that conformance/kernel-tests.yaml does not record (kernel_differences): a kernel change, or an engine bug`,
    );
    return 1;
  }
  return 0;
}

/** The last lines of a guest's console, indented, for an error that must say why a boot ran nothing. */
function consoleTail(text: string, lines = 25): string {
  const all = text.trimEnd().split('\n');
  return all
    .slice(-lines)
    .map((l) => `    | ${l}`)
    .join('\n');
}

/**
 * --scenarios: every scenario whose steps all translate, as one C program,
 * booted until all have run (a scenario that takes the kernel down ends a
 * boot; the next boot starts after it), each set beside the engine.
 */
function scenarios(opt: Options, built: Built, pkg: string, accel: 'kvm' | 'tcg', why: string): number {
  const all = readTranslations(opt.translations);
  /*
   * On a kernel without kernel/patches/, a scenario that states a patch
   * reproduces the bug it fixes, which can take the kernel down: those run
   * last, so a crash costs only the boots after it.
   */
  const unpatched = (t: Translation) => !built.patched.length && needsPatch(t) !== null;
  const picked = (t: Translation) =>
    !opt.only.length || opt.only.some((o) => o.uri === t.uri && (o.line === undefined || o.line === t.line));
  const chosen = [
    ...all.filter((t) => runnable(t) && picked(t) && !unpatched(t)),
    ...all.filter((t) => runnable(t) && picked(t) && unpatched(t)),
  ];
  const coverage = translationCoverage(all);
  log(
    `scenarios: ${chosen.length} of ${all.length} run on the kernel (${coverage.variant} are design variants; ${coverage.translatable} of ${coverage.nonVariant} others translate)`,
  );
  for (const b of coverage.blockers.slice(0, 8))
    log(`  untranslated: ${b.scenarios} scenario(s) blocked by this alone: ${b.reason}`);
  if (opt.only.length) {
    const missed = all.filter((t) => picked(t) && !runnable(t));
    for (const t of missed) log(`  --only ${t.uri}:${t.line} does not run: ${notRun(t).note}`);
  }
  if (!chosen.length) throw new OracleError('no scenario translates to C: nothing to run');
  const { binary, source } = buildProgram(chosen, built.src, built.dir);
  log(`scenarios: built ${binary} from ${source}`);
  const output = parseScenarioOutput('');
  const boots: { from: number; seconds: number; timedOut: boolean }[] = [];
  mkdirSync(LOGS, { recursive: true });
  let from = 0;
  let retried = false;
  while (from < chosen.length && boots.length < 6) {
    const plan: GuestPlan = {
      thp: 'madvise',
      hugepages: 64,
      swapBytes: 1 << 30,
      scratchBytes: 256 << 20,
      programs: [{ name: 'scenarios', binary, timeout: opt.timeout, args: [String(from)] }],
    };
    const initrd = buildInitramfs(built.dir, plan);
    log(`booting ${built.version} for scenarios ${from}-${chosen.length - 1} under ${accel.toUpperCase()}`);
    const g = boot(
      accel,
      built.bzImage,
      initrd,
      join(built.dir, 'run-scenarios'),
      opt.timeout + 120,
      plan.swapBytes,
      plan.scratchBytes,
      /*
       * An Oops ends the boot at once (oops=panic; the next boot goes on after
       * the scenario), a hang after SCENARIO_SECONDS and a margin; each begin
       * marker reaches the console (printk.devkmsg=on: no rate limit on
       * /dev/kmsg), so the console's lines are told to their scenario.
       */
      { cmdline: ['oops=panic', 'printk.devkmsg=on'], idleSeconds: SCENARIO_SECONDS + 30 },
    );
    boots.push({ from, seconds: g.seconds, timedOut: g.timedOut });
    writeFileSync(join(LOGS, `scenarios-console-${boots.length}.log`), g.console);
    writeFileSync(join(LOGS, `scenarios-output-${boots.length}.txt`), g.tap);
    parseScenarioOutput(g.tap, output);
    parseConsole(g.console, output);
    log(
      `guest: ${g.seconds} s${g.timedOut ? ', killed at the timeout' : ''}; ${output.ended.size} scenarios ended so far`,
    );
    const began = [...output.began].filter((n) => n >= from);
    if (!began.length) {
      const why = `the guest ran no scenario (${g.timedOut ? 'timed out' : `qemu exited ${g.exitCode}`}) after ${g.seconds} s; its console (${join(LOGS, `scenarios-console-${boots.length}.log`)}) ends:\n${consoleTail(g.console)}`;
      /*
       * A boot that never reached the first scenario says nothing about the
       * scenarios: boot once more before giving up (CI once saw one such boot
       * of 8 s that a rerun did not repeat), and say what the console showed.
       */
      if (!retried) {
        retried = true;
        log(`${why}\nbooting again`);
        continue;
      }
      if (!output.ended.size) throw new OracleError(why);
      log(why);
      break;
    }
    if (output.ended.has(chosen.length - 1)) break;
    from = Math.max(...began) + 1;
  }
  const ran = chosen.map((t, n) => compareScenario(t, n, output, built.patched.length > 0));
  const results = opt.only.length ? ran : [...ran, ...all.filter((t) => !runnable(t)).map(notRun)];
  const summary: Record<string, number> = {};
  for (const r of results) summary[r.verdict] = (summary[r.verdict] ?? 0) + 1;
  const compared = results.reduce((a, r) => a + r.compared, 0);
  const notObservable = results.reduce((a, r) => a + r.notObservable, 0);
  const scenarioRun = {
    kernel: { series: opt.series, version: built.version, package: pkg, patched: built.patched },
    guest: { accel, why, boots },
    coverage,
    summary,
    observations: { compared, notObservable },
    results,
  };
  /* A run of some scenarios (--only) leaves the published report alone. */
  const written = opt.only.length ? join(LOGS, 'only.json') : REPORT;
  const report = opt.only.length ? { scenarioRun } : { ...(readKernelReport(REPORT) ?? {}), scenarioRun };
  writeFileSync(written, `${JSON.stringify(report, null, 2)}\n`);
  const agree = summary.agree ?? 0;
  console.log(
    `\nLinux ${built.version} (${accel.toUpperCase()}): ${agree} of ${ran.length} scenarios agree with the engine; ${compared} observations compared, ${notObservable} Then-steps not observable from userspace`,
  );
  console.log(
    `  ${Object.entries(summary)
      .map(([v, n]) => `${n} ${v}`)
      .join(', ')}`,
  );
  for (const r of ran.filter((x) => x.verdict !== 'agree')) {
    console.log(`  ${r.verdict.padEnd(16)} ${r.uri}:${r.line} ${r.name}${r.note ? ` (${r.note})` : ''}`);
    for (const l of (r.kernelLog ?? []).slice(0, 4)) console.log(`      kernel: ${l}`);
    for (const d of r.differences.slice(0, 3))
      console.log(
        `      ${d.step}\n        engine ${JSON.stringify(d.engine)}\n        kernel ${JSON.stringify(d.kernel)}`,
      );
  }
  console.log(`\nReport: ${written} (scenarioRun); the guest's output: ${LOGS}/scenarios-*.txt`);
  return results.some((r) => r.verdict === 'differs' || r.verdict === 'did not finish') ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (e) {
  if (e instanceof OracleError) {
    process.stderr.write(`kernel: ${e.message}\n`);
    process.exitCode = 2;
  } else throw e;
}
