/**
 * Reading what the guest printed on its test port, and setting it beside
 * the conformance table.
 *
 * TAP as tools/testing/selftests/kselftest.h prints it:
 *   ok 12 hmm.hmm_device_private.migrate
 *   not ok 68 hmm.hmm_device_coherent.migrate_anon_huge_err
 *   ok 3 name # SKIP reason          (kselftest_harness: ksft_test_result_code)
 *   ok 7 # SKIP name                 (cow.c: ksft_test_result_skip)
 *   ok 9 # XFAIL name                (an expected failure: the test passed)
 * cow.c names each case on a "# [RUN] <case>" line first; 6.12's cow.c then
 * prints only the check's message on the result line ("ok 1 No leak from
 * parent into child"), so the [RUN] line names the case.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { ConformanceCase } from '../conformance';

export type KernelOutcome = 'ok' | 'not ok' | 'skip' | 'absent';

export interface TapCase {
  program: string;
  num: number;
  name: string;
  outcome: Exclude<KernelOutcome, 'absent'>;
  directive: string;
  /** The harness's diagnostics for this case (lines starting with "#" since the previous result). */
  diagnostics: string[];
}

export interface ProgramRun {
  name: string;
  began: boolean;
  /** Exit code from the guest's shell; null when the program never ended (Oops, hang, timeout). */
  rc: number | null;
  cases: TapCase[];
}

export interface GuestOutput {
  facts: Record<string, string>;
  programs: ProgramRun[];
  done: boolean;
}

const RESULT = /^(not )?ok (\d+)\b ?(.*)$/;

export function parseTap(text: string): GuestOutput {
  const facts: Record<string, string> = {};
  const programs: ProgramRun[] = [];
  let cur: ProgramRun | null = null;
  let diag: string[] = [];
  /* cow.c's "# [RUN] <case>" line: before 7.x its result line carried only the check's message. */
  let runName: string | null = null;
  let done = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const m = /^mmspec: (\w+) ?(.*)$/.exec(line);
    if (m) {
      const [, what, rest] = m;
      if (what === 'begin') {
        cur = { name: rest, began: true, rc: null, cases: [] };
        programs.push(cur);
        diag = [];
      } else if (what === 'end') {
        const e = /^(\S+) rc=(\d+)$/.exec(rest);
        const p = programs.find((x) => x.name === e?.[1]);
        if (p && e) p.rc = Number(e[2]);
        cur = null;
      } else if (what === 'done') done = true;
      else facts[what] = rest;
      continue;
    }
    if (!cur) continue;
    const r = RESULT.exec(line);
    if (!r) {
      const named = /^# \[RUN\] (.*)$/.exec(line);
      if (named) runName = named[1].trim();
      else if (line.startsWith('#')) diag.push(line);
      continue;
    }
    const [, not, num, rest] = r;
    let name = rest;
    let directive = '';
    const lead = /^# (SKIP|XFAIL|XPASS|error) ?(.*)$/.exec(rest);
    if (lead) {
      directive = lead[1];
      name = lead[2];
    } else {
      const at = rest.indexOf(' # ');
      if (at >= 0) {
        directive = rest.slice(at + 3).trim();
        name = rest.slice(0, at);
      }
    }
    const skip = /^SKIP\b/.test(directive);
    const detail = runName && runName !== name.trim() ? [`# ${name.trim()}`] : [];
    cur.cases.push({
      program: cur.name,
      num: Number(num),
      name: runName ?? name.trim(),
      outcome: not ? 'not ok' : skip ? 'skip' : 'ok',
      directive,
      diagnostics: [...diag.filter((d) => !/^#\s+(RUN|OK)\s/.test(d)).slice(-8), ...detail],
    });
    diag = [];
    runName = null;
  }
  return { facts, programs, done };
}

/** The guest program that runs a suite: hmm-tests.c → hmm-tests. */
export const programOf = (suite: string): string => suite.replace(/\.c$/, '');

/** The verdict on one conformance case. */
export type Verdict = 'agree' | 'differs (recorded)' | 'differs' | 'absent' | 'skipped' | 'no engine verdict';

export interface KernelCase {
  suite: string;
  id: string;
  /** The kernel's name for it, as its TAP line spells it. */
  kernelName: string;
  engine: ConformanceCase['status'];
  /** What the engine's table says the kernel does: ok, not ok, or nothing (the engine has no verdict). */
  expected: 'ok' | 'not ok' | null;
  kernel: KernelOutcome;
  verdict: Verdict;
  /** Why: the recorded difference, the kernel's diagnostics, or why there is no verdict. */
  note: string;
  /** The previous oracle run's outcome, when it was different. */
  previously?: KernelOutcome;
}

export interface RecordedDifference {
  case: string;
  kernel: string;
  reason: string;
}

/**
 * Every conformance case beside the kernel's own result for it.
 * `kernelName` maps a case to the TAP name (cow.c spells its backings its own way).
 */
export function compare(
  cases: readonly ConformanceCase[],
  out: GuestOutput,
  kernelName: (c: ConformanceCase) => string,
  recorded: readonly RecordedDifference[],
  series: string,
  previous: Map<string, KernelOutcome>,
): KernelCase[] {
  const byName = new Map<string, TapCase>();
  for (const p of out.programs) for (const t of p.cases) byName.set(`${p.name}\0${t.name}`, t);
  return cases.map((c): KernelCase => {
    const name = kernelName(c);
    const prog = out.programs.find((p) => p.name === programOf(c.suite));
    const t = byName.get(`${programOf(c.suite)}\0${name}`);
    const kernel: KernelOutcome = t ? t.outcome : 'absent';
    const expected = c.status === 'passed' ? 'ok' : c.status === 'kernel fails' ? 'not ok' : null;
    const rec = recorded.find((r) => r.case === `${c.suite} ${c.id}` && r.kernel === series);
    let verdict: Verdict;
    let note = '';
    if (kernel === 'absent') {
      verdict = 'absent';
      note = !prog
        ? `${programOf(c.suite)} did not run`
        : prog.rc === null
          ? `${prog.name} never finished (see console.log): the case did not report`
          : `the kernel's ${prog.name} has no case named "${name}"`;
    } else if (kernel === 'skip') {
      verdict = 'skipped';
      note = t?.directive ?? '';
    } else if (expected === null) {
      verdict = 'no engine verdict';
      note = `the engine's case is ${c.status}: ${c.reason}`;
    } else if (kernel === expected) {
      verdict = 'agree';
      note = c.status === 'kernel fails' ? c.reason : '';
    } else {
      verdict = rec ? 'differs (recorded)' : 'differs';
      note = rec?.reason ?? t?.diagnostics.join(' ').replace(/\s+/g, ' ').trim() ?? '';
    }
    const before = previous.get(`${c.suite} ${c.id}`);
    return {
      suite: c.suite,
      id: c.id,
      kernelName: name,
      engine: c.status,
      expected,
      kernel,
      verdict,
      note,
      ...(before && before !== kernel ? { previously: before } : {}),
    };
  });
}

/** A difference that fails the run: one nobody has recorded, or a case that should have run and did not report. */
export const unrecorded = (k: KernelCase): boolean => k.verdict === 'differs';

export const KERNEL_REPORT = 'reports/kernel.json';
/** npm run kernel -- --patched: the same report for the build with kernel/patches/ applied. */
export const KERNEL_PATCHED_REPORT = 'reports/kernel-patched.json';

/** The parts of reports/kernel.json (written by scripts/kernel.ts) that the site shows. */
export interface KernelReport {
  kernel: { version: string; package: string; patched: string[] };
  guest: { accel: string };
  summary: Record<string, number>;
  cases: KernelCase[];
}

/** The last oracle run, or null when there is none (or it cannot be read: the site then says so). */
export function readKernelReport(file = KERNEL_REPORT): KernelReport | null {
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as KernelReport;
    return Array.isArray(r.cases) && r.kernel ? r : null;
  } catch {
    return null;
  }
}
