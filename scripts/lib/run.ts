/**
 * What the last cucumber-js run wrote: its message stream
 * (reports/messages.ndjson) read into pickles, step definitions, parameter
 * types and one final status per scenario; and the usage-json report.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Envelope, ParameterType, Pickle, StepDefinition } from '@cucumber/messages';

export const MESSAGES = 'reports/messages.ndjson';
export const USAGE = 'reports/usage.json';

/** A scenario's outcome: passed only if every step and hook passed (as scripts/summary.ts counts). */
export type Outcome = 'passed' | 'failed' | 'not run';

export interface StepOutcome {
  readonly status: string;
  readonly message?: string;
}

/** Why a scenario failed: the first step or hook of its final attempt that did not pass. */
export interface Failure {
  readonly status: string;
  /** The error's class (AssertionError, KernelInvariantViolation, Error…), if it threw. */
  readonly type?: string;
  readonly message?: string;
  readonly stackTrace?: string;
  /** The step's text, or null for a hook. */
  readonly step: string | null;
}

export interface LastRun {
  readonly pickles: Map<string, Pickle>;
  /** Final outcome of each pickle (by pickle id); retried attempts count by their last. */
  readonly outcomes: Map<string, Outcome>;
  /** Status of each pickle step in the final attempt, by pickle step id. */
  readonly stepOutcomes: Map<string, StepOutcome>;
  readonly stepDefinitions: StepDefinition[];
  readonly parameterTypes: ParameterType[];
  /** The feature files the run parsed. */
  readonly uris: Set<string>;
  /** The line of each pickle's scenario, or of its outline row, by pickle id. */
  readonly lines: Map<string, number>;
  /** An outline row's values, by pickle id (empty for an ordinary scenario). */
  readonly rowValues: Map<string, string[]>;
  /** Why each failed pickle failed, by pickle id. */
  readonly failures: Map<string, Failure>;
}

export function readLastRun(file = MESSAGES): LastRun | null {
  if (!existsSync(file)) return null;
  const pickles = new Map<string, Pickle>();
  const stepDefinitions: StepDefinition[] = [];
  const parameterTypes: ParameterType[] = [];
  const uris = new Set<string>();
  const astLines = new Map<string, number>();
  const astRows = new Map<string, string[]>();
  const stepText = new Map<string, string>();
  const attemptFailure = new Map<string, Failure>();
  const failures = new Map<string, Failure>();
  const caseToPickle = new Map<string, string>();
  const stepToPickleStep = new Map<string, string>();
  const startedCase = new Map<string, string>();
  const attemptOk = new Map<string, boolean>();
  const attemptSteps = new Map<string, Map<string, StepOutcome>>();
  const outcomes = new Map<string, Outcome>();
  const stepOutcomes = new Map<string, StepOutcome>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as Envelope;
    if (e.gherkinDocument?.uri) {
      uris.add(e.gherkinDocument.uri);
      for (const child of e.gherkinDocument.feature?.children ?? [])
        for (const scenario of [child.scenario, ...(child.rule?.children ?? []).map((c) => c.scenario)]) {
          if (!scenario) continue;
          astLines.set(scenario.id, scenario.location.line);
          for (const ex of scenario.examples)
            for (const row of ex.tableBody) {
              astLines.set(row.id, row.location.line);
              astRows.set(
                row.id,
                row.cells.map((c) => c.value),
              );
            }
        }
    } else if (e.pickle) pickles.set(e.pickle.id, e.pickle);
    else if (e.stepDefinition) stepDefinitions.push(e.stepDefinition);
    else if (e.parameterType) parameterTypes.push(e.parameterType);
    else if (e.testCase) {
      caseToPickle.set(e.testCase.id, e.testCase.pickleId);
      const pickle = pickles.get(e.testCase.pickleId);
      for (const s of e.testCase.testSteps)
        if (s.pickleStepId) {
          stepToPickleStep.set(s.id, s.pickleStepId);
          const text = pickle?.steps.find((p) => p.id === s.pickleStepId)?.text;
          if (text !== undefined) stepText.set(s.id, text);
        }
    } else if (e.testCaseStarted) {
      startedCase.set(e.testCaseStarted.id, e.testCaseStarted.testCaseId);
      attemptOk.set(e.testCaseStarted.id, true);
      attemptSteps.set(e.testCaseStarted.id, new Map());
    } else if (e.testStepFinished) {
      const { testCaseStartedId, testStepId, testStepResult } = e.testStepFinished;
      if (testStepResult.status !== 'PASSED') {
        // As scripts/summary.ts counts: any step that did not pass fails the scenario.
        attemptOk.set(testCaseStartedId, false);
        const first = attemptFailure.get(testCaseStartedId);
        if (!first || (first.status === 'SKIPPED' && testStepResult.status !== 'SKIPPED'))
          attemptFailure.set(testCaseStartedId, {
            status: testStepResult.status,
            type: testStepResult.exception?.type,
            message: testStepResult.exception?.message ?? testStepResult.message,
            stackTrace: testStepResult.exception?.stackTrace ?? testStepResult.message,
            step: stepText.get(testStepId) ?? null,
          });
      }
      const pickleStep = stepToPickleStep.get(testStepId);
      if (pickleStep)
        attemptSteps.get(testCaseStartedId)?.set(pickleStep, {
          status: testStepResult.status,
          message: testStepResult.message,
        });
    } else if (e.testCaseFinished && !e.testCaseFinished.willBeRetried) {
      const started = e.testCaseFinished.testCaseStartedId;
      const pickle = caseToPickle.get(startedCase.get(started) ?? '');
      if (!pickle) continue;
      outcomes.set(pickle, attemptOk.get(started) ? 'passed' : 'failed');
      const failure = attemptFailure.get(started);
      if (failure) failures.set(pickle, failure);
      else failures.delete(pickle);
      for (const [k, v] of attemptSteps.get(started) ?? []) stepOutcomes.set(k, v);
    }
  }
  const lines = new Map<string, number>();
  const rowValues = new Map<string, string[]>();
  for (const [id, p] of pickles) {
    if (!outcomes.has(id)) outcomes.set(id, 'not run');
    const ids = p.astNodeIds;
    lines.set(id, astLines.get(ids[ids.length > 1 ? 1 : 0]) ?? 0);
    rowValues.set(id, ids.length > 1 ? (astRows.get(ids[1]) ?? []) : []);
  }
  return {
    pickles,
    outcomes,
    stepOutcomes,
    stepDefinitions,
    parameterTypes,
    uris,
    lines,
    rowValues,
    failures,
  };
}

/** One step definition in Cucumber's usage-json report, with the steps it matched. */
export interface Usage {
  readonly pattern: string;
  readonly patternType: string;
  readonly uri: string;
  readonly line: number;
  readonly matches: readonly { uri: string; line: number; text: string }[];
}

export function readUsage(file = USAGE): Usage[] | null {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Usage[]) : null;
}

/** A pickle's identity across runs and parses: its file, and the line of its scenario or outline row. */
export function pickleKey(uri: string, line: number): string {
  return `${uri}:${line}`;
}
