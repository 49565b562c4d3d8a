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
 * enrich: the epic (memory kind) for scenarios without an @memory tag, and
 * links from each claim to its source message.
 *
 * categories: a broken debug_vm invariant is "spec violated" (allure-js
 * reports a KernelInvariantViolation, a plain Error subclass, as broken), a
 * failed AssertionError is "expectation failed", anything else broken is a
 * "harness error". Allure 2 puts a result in the first category that matches.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Claim } from './claims';
import { tagValues } from './features';
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
  parameters?: { name: string; value: string }[];
}

export const CATEGORIES = [
  {
    name: 'Spec violated (debug_vm invariant)',
    description: 'The engine broke a debug_vm invariant (KernelInvariantViolation): the model is wrong.',
    matchedStatuses: ['failed', 'broken'],
    messageRegex: '.*debug_vm: invariant.*',
  },
  {
    name: 'Expectation failed',
    description:
      'A Then-step (or the check for unclaimed outcomes) found the state other than the claim says.',
    matchedStatuses: ['failed'],
  },
  {
    name: 'Harness error',
    description:
      'The scenario could not run as written: an undefined step, a misused engine, a bug in a step.',
    matchedStatuses: ['broken'],
  },
];

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

/** The memory kind of a scenario, from its tags or its folder. */
export function memoryKind(tags: string[], uri: string): string {
  const [tagged] = tags.filter((t) => t.startsWith('@memory:')).map((t) => t.slice(8));
  if (tagged) return tagged;
  if (tags.includes('@device-coherent')) return 'device-coherent memory';
  if (tags.includes('@device-private')) return 'device-private memory';
  if (tags.includes('@device-exclusive')) return 'device-exclusive entries on system RAM';
  if (tags.some((t) => /^@(fs)?dax$/.test(t))) return 'FS-DAX memory';
  if (uri.startsWith('features/harness/')) return 'the harness itself';
  if (uri.startsWith('features/matrix/')) return 'every kind (the semantics matrix)';
  return 'system RAM';
}

/** Epic labels where allure-cucumberjs found no @memory tag, and links to each claim's source message. */
export function enrich(dir: string, claims: Claim[], threadsUrl: string): number {
  const byId = new Map(claims.map((c) => [c.id, c]));
  const scenarioRun = readScenarioRun();
  const kernel = kernelVerdicts(scenarioRun);
  let n = 0;
  for (const file of resultFiles(dir)) {
    const r = JSON.parse(readFileSync(file, 'utf8')) as AllureResult;
    const tags = r.labels.filter((l) => l.name === 'tag').map((l) => l.value);
    if (!r.labels.some((l) => l.name === 'epic'))
      r.labels.push({ name: 'epic', value: memoryKind(tags, uriOf(r.fullName)) });
    for (const l of r.links) if (l.type === 'kernel' && !l.name) l.name = `kernel: ${l.url.split('/').pop()}`;
    const stories = r.labels.filter((l) => l.name === 'story').map((l) => l.value);
    for (const id of [...stories, ...tagValues(tags, 'claim')]) {
      const c = byId.get(id);
      if (!c || r.links.some((l) => l.name?.startsWith(`${id} `))) continue;
      const who = `${c.source.author}${c.source.date ? `, ${c.source.date}` : ''}`;
      r.links.push({ name: `${id} source: ${who}`, url: `${threadsUrl}/${c.source.file}`, type: 'link' });
      if (c.source.message_id)
        r.links.push({
          name: `${id} on lore.kernel.org`,
          url: `https://lore.kernel.org/r/${c.source.message_id}`,
          type: 'link',
        });
    }
    /* The real kernel's verdict on the same scenario (npm run kernel -- --scenarios), as a label to filter by. */
    const k = kernel.get(
      scenarioKey(
        uriOf(r.fullName),
        r.name,
        (r.parameters ?? []).map((p) => p.value),
      ),
    );
    if (k && scenarioRun && !r.labels.some((l) => l.name === 'kernel')) {
      r.labels.push({ name: 'kernel', value: k.verdict });
      r.labels.push({ name: 'kernel version', value: scenarioRun.kernel.version });
      if (k.note) r.labels.push({ name: 'kernel note', value: k.note });
    }
    writeFileSync(file, JSON.stringify(r));
    n++;
  }
  return n;
}
