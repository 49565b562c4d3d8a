/**
 * The Allure results, made to say what Cucumber says before Allure reads them.
 *
 * reconcile: allure-cucumberjs computes a result's status from its steps
 * alone. A scenario that failed in an After hook (an outcome no Then-step
 * claimed) or on an undefined or ambiguous step comes out "passed". Each
 * result is matched to its pickle in Cucumber's message stream, and a result
 * Cucumber failed but Allure passed gets the status and message of the step
 * or hook that failed: "failed" for an AssertionError (an expectation),
 * "broken" for anything else.
 *
 * enrich: the real kernel's verdict on each scenario, which a later run
 * (npm run kernel -- --scenarios) writes. Claims, epics, suites, links,
 * descriptions and categories come from the run itself
 * (support/allure_reporter.js, support/allure_categories.js).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelVerdicts, readScenarioRun, scenarioKey } from './kernel/scenarios';
import type { LastRun } from './run';

interface Label {
  name: string;
  value: string;
}
interface AllureResult {
  name: string;
  fullName: string;
  status?: string;
  statusDetails?: { message?: string; trace?: string };
  labels: Label[];
  links: { name?: string; url: string; type?: string }[];
  parameters?: { name: string; value: string; excluded?: boolean }[];
}

function resultFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('-result.json'))
    .map((f) => join(dir, f));
}

const uriOf = (fullName: string): string => fullName.slice(fullName.indexOf(':') + 1, fullName.indexOf('#'));

/** A scenario's identity in both worlds: file, pickle name and outline row values. */
function key(uri: string, name: string, values: string[]): string {
  return JSON.stringify([uri, name, values]);
}

/**
 * The parameter that shows a scenario's real-kernel verdict in Allure ("Linux 7.2.13" = "agree").
 * Allure keeps it in the test case's parameters, so whoever matches a test case to a scenario by
 * its outline parameters must leave it out (isKernelParameter).
 */
export const kernelParameter = (version: string): string => `Linux ${version}`;
export const isKernelParameter = (name: string): boolean => /^Linux \S+$/.test(name);

/** Make each Allure result's status agree with Cucumber's; returns what changed and the counts. */
export function reconcile(dir: string, run: LastRun): { fixed: string[]; passed: number; failed: number } {
  const pickleByKey = new Map<string, string>();
  for (const [id, p] of run.pickles) pickleByKey.set(key(p.uri, p.name, run.rowValues.get(id) ?? []), id);
  const fixed: string[] = [];
  let passed = 0;
  let failed = 0;
  for (const file of resultFiles(dir)) {
    const r = JSON.parse(readFileSync(file, 'utf8')) as AllureResult;
    const id = pickleByKey.get(
      key(
        uriOf(r.fullName),
        r.name,
        (r.parameters ?? []).map((p) => p.value),
      ),
    );
    const failure = id ? run.failures.get(id) : undefined;
    if (
      id &&
      run.outcomes.get(id) === 'failed' &&
      (r.status === 'passed' || r.status === undefined) &&
      failure
    ) {
      const where = failure.step === null ? 'a hook' : `step "${failure.step}"`;
      const what =
        failure.status === 'FAILED' ? (failure.message ?? 'failed') : `${failure.status.toLowerCase()} step`;
      r.status = failure.type === 'AssertionError' ? 'failed' : 'broken';
      r.statusDetails = { message: `${what} (in ${where})`, trace: failure.stackTrace };
      writeFileSync(file, JSON.stringify(r));
      fixed.push(`${r.name}: now ${r.status}, ${what.split('\n')[0]}`);
    }
    if (r.status === 'passed') passed++;
    else failed++;
  }
  return { fixed, passed, failed };
}

/**
 * The real kernel's verdict on each scenario (npm run kernel -- --scenarios
 * writes it after the run, so the reporter cannot know it): a label to filter
 * by and a parameter beside the scenario's own, excluded from its history id.
 */
export function enrich(dir: string): number {
  const scenarioRun = readScenarioRun();
  const kernel = kernelVerdicts(scenarioRun);
  let n = 0;
  for (const file of resultFiles(dir)) {
    const r = JSON.parse(readFileSync(file, 'utf8')) as AllureResult;
    const k = kernel.get(
      scenarioKey(
        uriOf(r.fullName),
        r.name,
        (r.parameters ?? []).filter((p) => !p.excluded).map((p) => p.value),
      ),
    );
    if (!k || !scenarioRun || r.labels.some((l) => l.name === 'kernel')) continue;
    r.labels.push({ name: 'kernel', value: k.verdict });
    r.labels.push({ name: 'kernel version', value: scenarioRun.kernel.version });
    if (k.note) r.labels.push({ name: 'kernel note', value: k.note });
    r.parameters = [
      ...(r.parameters ?? []),
      { name: kernelParameter(scenarioRun.kernel.version), value: k.verdict, excluded: true },
    ];
    writeFileSync(file, JSON.stringify(r));
    n++;
  }
  return n;
}
