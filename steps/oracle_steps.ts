/**
 * The oracle's reading of a guest's test port (scripts/lib/kernel/tap.ts),
 * on TAP text the scenario gives: `Given the guest printed on its test port:`,
 * `When the oracle compares it with <case>, which the engine's table marks <status>`,
 * `Then the oracle's verdict is "<verdict>"`.
 */
import { expect } from 'chai';
import type { CaseStatus, ConformanceCase } from '../scripts/lib/conformance';
import {
  compareScenario,
  parseConsole,
  parseScenarioOutput,
  type ScenarioResult,
  type Translation,
} from '../scripts/lib/kernel/scenarios';
import { compare, type KernelCase, parseTap, type RecordedDifference } from '../scripts/lib/kernel/tap';
import { Given, Then, type Translator, When } from '../support/vocabulary';
import type { MmWorld } from '../support/world';

/** These steps test mmspec's oracle itself. */
const HARNESS = (c: Translator) => c.cannot("a scenario about mmspec's oracle, not the kernel", 'harness');

interface OracleState {
  tap: string;
  recorded: RecordedDifference[];
  result?: KernelCase;
}
const states = new WeakMap<MmWorld, OracleState>();

function state(world: MmWorld): OracleState {
  const s = states.get(world);
  if (!s)
    throw new Error(
      'no guest output: the scenario must start with "Given the guest printed on its test port:"',
    );
  return s;
}

const STATUSES: readonly CaseStatus[] = ['passed', 'kernel fails', 'failed', 'not run', 'pending', 'missing'];

Given(
  'the guest printed on its test port:',
  function (this: MmWorld, text: string) {
    states.set(this, { tap: text, recorded: [] });
  },
  HARNESS,
);

Given(
  'kernel-tests.yaml records a difference for {string} on {string}: {string}',
  function (this: MmWorld, id: string, kernel: string, reason: string) {
    state(this).recorded.push({ case: id, kernel, reason });
  },
  HARNESS,
);

When(
  /^the oracle compares it with (hmm-tests\.c|cow\.c) "([^"]+)", which the engine's table marks (.+)$/,
  function (this: MmWorld, suite: string, id: string, status: string) {
    if (!STATUSES.includes(status as CaseStatus))
      throw new Error(`"${status}" is not a conformance status (${STATUSES.join(', ')})`);
    const s = state(this);
    const c: ConformanceCase = {
      suite,
      id,
      test: id,
      variant: '',
      status: status as CaseStatus,
      reason: status === 'passed' ? '' : `the engine's case is ${status}`,
      scenarios: [],
    };
    [s.result] = compare([c], parseTap(s.tap), (x) => x.id, s.recorded, '7.2', new Map());
  },
  HARNESS,
);

Then(
  "the oracle's verdict is {string}",
  function (this: MmWorld, verdict: string) {
    const r = state(this).result;
    expect(r, 'the oracle has not compared anything yet').to.not.equal(undefined);
    expect(r?.verdict, JSON.stringify(r)).to.equal(verdict);
  },
  HARNESS,
);

Then(
  "the kernel's outcome is {string}",
  function (this: MmWorld, outcome: string) {
    expect(state(this).result?.kernel, "the real kernel's verdict").to.equal(outcome);
  },
  HARNESS,
);

Then(
  "the oracle's note mentions {string}",
  function (this: MmWorld, text: string) {
    expect(state(this).result?.note ?? '', "the note on the real kernel's verdict").to.contain(text);
  },
  HARNESS,
);

/* ---------------- the differential scenarios' comparison (scripts/lib/kernel/scenarios.ts) ---------------- */

const translated = new WeakMap<
  MmWorld,
  { t: Translation; output: string; console?: string; result?: ScenarioResult }
>();

function translatedOf(world: MmWorld) {
  const s = translated.get(world);
  if (!s) throw new Error('no translated scenario: start with "Given a translated scenario whose step …"');
  return s;
}

Given(
  'a translated scenario whose step {string} the engine saw as {}',
  function (this: MmWorld, text: string, want: string) {
    const t: Translation = {
      uri: 'features/example.feature',
      line: 3,
      values: [],
      name: 'example',
      tags: [],
      engine: 'PASSED',
      processes: ['(runner)', 'A'],
      buffers: ['X'],
      steps: [{ owner: 1, code: 'mm_obs_read();', text, want: JSON.parse(want) }],
      unobservable: [],
      untranslatable: [],
    };
    translated.set(this, { t, output: '' });
  },
  HARNESS,
);

Given(
  'the scenario is tagged {word}',
  function (this: MmWorld, tag: string) {
    translatedOf(this).t.tags.push(tag);
  },
  HARNESS,
);

Given(
  'the guest printed for it:',
  function (this: MmWorld, text: string) {
    translatedOf(this).output = text;
  },
  HARNESS,
);

Given(
  "the kernel's console printed:",
  function (this: MmWorld, text: string) {
    translatedOf(this).console = text;
  },
  HARNESS,
);

When(
  'the oracle compares the scenario with what the guest printed',
  function (this: MmWorld) {
    const s = translatedOf(this);
    const o = parseScenarioOutput(s.output);
    if (s.console !== undefined) parseConsole(s.console, o);
    s.result = compareScenario(s.t, 0, o);
  },
  HARNESS,
);

Then(
  'its real-kernel verdict is {string}',
  function (this: MmWorld, verdict: string) {
    const r = translatedOf(this).result;
    if (!r) throw new Error('the oracle has not compared the scenario');
    expect(r.verdict, JSON.stringify(r.differences)).to.equal(verdict);
  },
  HARNESS,
);

Then(
  'its kernel log is {string} and {int} more',
  function (this: MmWorld, first: string, more: number) {
    const r = translatedOf(this).result;
    if (!r) throw new Error('the oracle has not compared the scenario');
    const log = r.kernelLog ?? [];
    expect(log[0], `the kernel log told to the scenario: ${JSON.stringify(log)}`).to.equal(first);
    expect(log, 'the kernel log told to the scenario').to.have.length(1 + more);
  },
  HARNESS,
);
