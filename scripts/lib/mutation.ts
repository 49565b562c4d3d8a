/**
 * mutation.json, the committed record of Stryker's score per engine file
 * (scripts/mutate.ts writes it, scripts/site.ts shows it): for each file
 * the mutants of its last measurement by status, the score over all of them
 * and over those some scenario reached, when and at which commit it was
 * measured, and the earlier measurements.
 */
import { existsSync, readFileSync } from 'node:fs';

export const MUTATION_JSON = 'mutation.json';

/** One file's measurement: Stryker's statuses, counted. */
export interface FileScore {
  mutants: number;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  /** Mutants Stryker could not run (CompileError, RuntimeError) or was told to skip (Ignored): in no score. */
  other: number;
  /** (killed + timeout) / (every mutant but other), percent. */
  score: number;
  /** (killed + timeout) / (killed + timeout + survived), percent: the mutants some scenario reached. */
  scoreCovered: number;
  /** ISO date and time of the run. */
  measured: string;
  /** The commit measured (with " with uncommitted changes" when the engine differed from it). */
  commit: string;
  /** The wall time of the run that measured it, and how many files that run mutated. */
  runSeconds: number;
  runFiles: number;
}

export interface MutationRecord {
  /** Stryker's thresholds.break: npm run mutate fails when a mutated file's scoreCovered is under it. */
  breakThreshold: number;
  files: Record<string, FileScore & { history: FileScore[] }>;
}

/** The record, or an empty one when there is none yet. */
export function readMutationRecord(path = MUTATION_JSON): MutationRecord {
  if (!existsSync(path)) return { breakThreshold: 85, files: {} };
  return JSON.parse(readFileSync(path, 'utf8')) as MutationRecord;
}

/** A mutant as Stryker's JSON report (mutation-testing-report-schema) gives it; only the status is read. */
interface ReportMutant {
  status: string;
}

/** Counts one file's mutants from Stryker's JSON report. */
export function scoreOf(
  mutants: ReportMutant[],
  run: Pick<FileScore, 'measured' | 'commit' | 'runSeconds' | 'runFiles'>,
): FileScore {
  const n = (status: string) => mutants.filter((m) => m.status === status).length;
  const killed = n('Killed');
  const timeout = n('Timeout');
  const survived = n('Survived');
  const noCoverage = n('NoCoverage');
  const detected = killed + timeout;
  const pct = (a: number, b: number) => (b === 0 ? 100 : Math.round((10000 * a) / b) / 100);
  return {
    mutants: mutants.length,
    killed,
    timeout,
    survived,
    noCoverage,
    other: mutants.length - detected - survived - noCoverage,
    score: pct(detected, detected + survived + noCoverage),
    scoreCovered: pct(detected, detected + survived),
    ...run,
  };
}
