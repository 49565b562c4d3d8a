/**
 * What `npm run report` can build from: the results a cucumber-js run left
 * in a folder (reports/ for a full run), checked before anything of the site
 * is written, so that a run cut short (a killed parallel worker, a feature
 * file Gherkin cannot parse, support code that does not load) gets one
 * sentence saying so and leaves the last site as it was.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunSummary {
  /** When the run started (ISO 8601), from its testRunStarted message. */
  readonly started: string;
  /** Scenarios the run knew (pickles) and those that finished. */
  readonly pickles: number;
  readonly finished: number;
}

/** The problem with the results in dir, as one sentence, or the run they describe. */
export function checkRun(dir: string): { problem: string } | { run: RunSummary } {
  const messages = join(dir, 'messages.ndjson');
  const usage = join(dir, 'usage.json');
  const again = 'run the scenarios again (npm test)';
  if (!existsSync(messages))
    return { problem: `there are no results in ${dir}/ (no messages.ndjson): ${again}` };
  let started = '';
  let pickles = 0;
  let finished = 0;
  type RunFinished = { success?: boolean; exception?: { message?: string } };
  let runFinished = null as RunFinished | null;
  const lines = readFileSync(messages, 'utf8').split('\n');
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let e: Record<string, Record<string, unknown>>;
    try {
      e = JSON.parse(line);
    } catch {
      return {
        problem: `${messages} line ${i + 1} is not a whole message (the run that wrote it was cut short): ${again}`,
      };
    }
    if (e.parseError)
      return {
        problem: `the last run could not parse a feature file (${String((e.parseError.source as { uri?: string })?.uri ?? '')}: ${String(e.parseError.message)}): fix it, then ${again}`,
      };
    if (e.pickle) pickles++;
    if (e.testRunStarted) {
      const t = e.testRunStarted.timestamp as { seconds: number };
      started = new Date(t.seconds * 1000).toISOString();
    }
    if (e.testCaseFinished && !e.testCaseFinished.willBeRetried) finished++;
    if (e.testRunFinished) runFinished = e.testRunFinished as RunFinished;
  }
  if (!started)
    return {
      problem: `the last run in ${dir}/ ran no scenario: cucumber-js stopped before the run started (a feature file it could not parse, or support code that did not load; its output says which): fix that, then ${again}`,
    };
  if (!runFinished)
    return {
      problem: `the last run in ${dir}/ did not finish (${finished} of ${pickles} scenarios finished; was it killed?): ${again}`,
    };
  if (runFinished.exception?.message)
    return {
      problem: `the last run in ${dir}/ ended in an error (${runFinished.exception.message.split('\n')[0]}): ${again}`,
    };
  if (!existsSync(usage) || !readFileSync(usage, 'utf8').trim())
    return {
      problem: `${usage} is empty: the run that wrote it did not finish its reports (a parallel worker killed?): ${again}`,
    };
  try {
    JSON.parse(readFileSync(usage, 'utf8'));
  } catch {
    return {
      problem: `${usage} is cut short (not whole JSON): the run that wrote it did not finish: ${again}`,
    };
  }
  const results = join(dir, 'allure-results');
  if (!existsSync(results) || !readdirSync(results).some((f) => f.endsWith('-result.json')))
    return { problem: `the last run left no Allure results in ${results}/: ${again}` };
  return { run: { started, pickles, finished } };
}
