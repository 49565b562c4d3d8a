/**
 * One explored sequence: a fresh World, the project's own step definitions
 * (loaded by Cucumber's loadSupport, matched by Cucumber's own expressions),
 * and the oracles checked after every step. A sequence is a list of Gherkin
 * lines from the start, so what it finds is already a scenario.
 */
import { AssertionError } from 'node:assert';
import { loadSupport } from '@cucumber/cucumber/api';
import { EngineUsageError, KernelInvariantViolation } from '../../../engine';
import { errnoName } from '../../../support/c';
import { type Check, Draw, type Explore, Model, type PinModel, rangeText } from '../../../support/explore';
import { explorable } from '../../../support/vocabulary';
import type { MmWorld } from '../../../support/world';

/** What the explorer uses of a Cucumber step definition (its public type leaves the support library opaque). */
interface StepDefinition {
  readonly pattern: string | RegExp;
  readonly code: (...args: unknown[]) => unknown;
  readonly expression: { match(text: string): readonly { getValue(world: unknown): unknown }[] | null };
  matchesStepName(text: string): boolean;
}

export interface Vocabulary {
  readonly definitions: readonly StepDefinition[];
  readonly World: new (options: unknown) => MmWorld;
  /** The phrases the explorer draws from, with their keyword and how they draw. */
  readonly operations: readonly Operation[];
}

export interface Operation {
  readonly keyword: 'Given' | 'When' | 'Then';
  readonly phrase: string;
  readonly explore: Explore;
}

/** The step definitions of support/ and steps/, as `npx cucumber-js` loads them. */
export async function loadVocabulary(): Promise<Vocabulary> {
  const lib = await loadSupport({
    sources: { paths: [], defaultDialect: 'en', names: [], tagExpression: '', order: 'defined' },
    support: {
      requireModules: [],
      requirePaths: ['support/**/!(*.d).ts', 'steps/**/*.ts'],
      importPaths: [],
      loaders: [],
    },
  });
  const library = lib as unknown as { stepDefinitions: StepDefinition[]; World: Vocabulary['World'] };
  return {
    definitions: library.stepDefinitions,
    World: library.World,
    operations: [...explorable.values()],
  };
}

/** What an oracle found: the rule or check that failed, and the sequence that got there. */
export class Finding extends Error {
  constructor(
    /** debug_vm, integrity, outcome, warning, exception, assertion, harness */
    readonly oracle: string,
    /** What failed, in a few words (the invariant, the step phrase): part of the signature. */
    readonly what: string,
    readonly detail: string,
    readonly trace: readonly string[],
  ) {
    super(`${oracle}: ${what}: ${detail}`);
  }
}

const slug = (s: string): string =>
  s
    .replace(/\{[^}]*\}/g, '')
    .replace(/[^A-Za-z0-9_]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase()
    .slice(0, 60);

/**
 * A finding's signature: its oracle, what failed (without the page, buffer,
 * process or value that showed it), and the phrase of the operation that
 * caused it: the failing step for a broken invariant, a warning or an
 * exception; for a wrong read or outcome, the last operation before it that
 * is not a read or an mmap (the reads only show the damage).
 */
export function signature(f: Finding, phrases: readonly string[]): string {
  /* Reads only show the damage, and an mmap makes new memory: the cause is the operation before them. */
  const cause = [...phrases].reverse().find((p) => !/ reads \{pages\}$/.test(p) && !/ maps \{size\}/.test(p));
  /* Which page, buffer, process or value saw it is the same finding. */
  const what = slug(
    f.what
      .replace(/\bpages? [\d-]+ of /g, '')
      .replace(/\bbuffer \w+/g, 'buffer')
      .replace(/\bprocess \w+/g, 'process')
      .replace(/0x[0-9a-f]+|\bV\b/g, ''),
  );
  /* A broken invariant or a warning is the operation that broke it; a wrong read, the one before the reads. */
  const by = f.oracle === 'integrity' || f.oracle === 'outcome' ? cause : phrases[phrases.length - 1];
  return [f.oracle, what, by ? slug(by) : ''].filter(Boolean).join('--');
}

/** A phrase with its parameters filled in: `{process} reads {pages}` + texts → `process A reads page 0 of buffer M1`. */
export function render(phrase: string, args: readonly string[]): string {
  let i = 0;
  const text = phrase.replace(/\{[^}]*\}/g, () => {
    if (i >= args.length) throw new Error(`"${phrase}" has more parameters than the ${args.length} drawn`);
    return args[i++];
  });
  if (i !== args.length) throw new Error(`"${phrase}" has ${i} parameters, but ${args.length} were drawn`);
  /* Cucumber expressions escape ( and / with a backslash, and write optional text as (s). */
  return text.replace(/\\([(/)])/g, '$1').replace(/\(([a-z]+)\)/g, '');
}

/** The sequence cannot go on in a way the model follows (an injected allocation failure hit a fault): not a finding. */
export class StopSequence extends Error {}

export interface Counters {
  ops: number;
  sequences: number;
  refused: number;
  mix: Map<string, number>;
}

export class Session {
  readonly world: MmWorld;
  readonly model = new Model();
  /** The Gherkin lines so far, with their keywords. */
  readonly trace: string[] = [];
  /** The phrases of the operations run (not the claims and checks). */
  readonly phrases: string[] = [];
  private warnings = 0;

  constructor(
    private readonly vocab: Vocabulary,
    private readonly counters: Counters,
  ) {
    this.world = new vocab.World({ attach() {}, log() {}, link() {}, parameters: {} });
    /* The explorer runs the engine, not the C translation. */
    this.world.translation = null;
  }

  /** Run one step's text through the step definition that matches it, as Cucumber would. */
  exec(keyword: string, text: string): void {
    const matches = this.vocab.definitions.filter((d) => d.matchesStepName(text));
    if (matches.length !== 1)
      throw new Finding(
        'harness',
        'step text',
        `"${text}" matches ${matches.length} step definitions (${matches.map((d) => d.pattern).join(' | ') || 'none'})`,
        [...this.trace, `${keyword} ${text}`],
      );
    const [d] = matches;
    const args = (d.expression.match(text) ?? []).map((a) => a.getValue(this.world));
    const r = d.code.apply(this.world, args);
    if (r && typeof (r as Promise<unknown>).then === 'function')
      throw new Finding('harness', 'step text', `"${d.pattern}" is asynchronous`, [...this.trace]);
  }

  /** A Given of the prologue: it must pass. */
  given(text: string): void {
    this.trace.push(`${this.trace.length ? 'And' : 'Given'} ${text}`);
    this.exec('Given', text);
    if (text.startsWith('a process ')) this.model.addProcess(text.slice('a process '.length));
  }

  /**
   * Draw one operation with the numbers fast-check gave, run it, claim what
   * it ended in, and check every oracle. Throws a Finding. Returns false when
   * the operation does not apply to this state (nothing ran).
   */
  step(op: Operation, numbers: readonly number[]): boolean {
    const drawn = op.explore.draw(this.model, new Draw(numbers));
    if (!drawn) return false;
    const text = render(op.phrase, drawn.args);
    const keyword = op.keyword === 'Then' ? 'Then' : 'When';
    const line = `${keyword} ${text}`;
    const world = this.world;
    const outcomesBefore = world.outcomes.length;
    this.trace.push(line);
    if (keyword === 'When') this.phrases.push(op.phrase);
    this.counters.ops++;
    this.counters.mix.set(op.phrase, (this.counters.mix.get(op.phrase) ?? 0) + 1);
    try {
      /* MMSPEC_EXPLORE_TRACE=1: each step on stderr as it starts (to find a step that does not return). */
      if (process.env.MMSPEC_EXPLORE_TRACE) process.stderr.write(`${line}\n`);
      this.exec(keyword, text);
    } catch (err) {
      if (err instanceof Finding) throw err;
      if (err instanceof KernelInvariantViolation)
        throw new Finding('debug_vm', err.rule, err.message, [...this.trace]);
      if (err instanceof EngineUsageError) {
        /* A request the engine refuses as meaningless: a documented refusal, not a finding; it did nothing. */
        this.trace.pop();
        if (keyword === 'When') this.phrases.pop();
        this.counters.refused++;
        return false;
      }
      if (err instanceof AssertionError || (err as Error).name === 'AssertionError')
        throw new Finding(keyword === 'Then' ? 'integrity' : 'assertion', op.phrase, (err as Error).message, [
          ...this.trace,
        ]);
      throw new Finding(
        'exception',
        `${(err as Error).name} in "${op.phrase}"`,
        (err as Error).stack?.split('\n').slice(0, 4).join(' ') ?? String(err),
        [...this.trace],
      );
    }

    /* What the step ended in: a broken rule is a finding; a signal or an errno is claimed, as a scenario must. */
    const fresh = world.outcomes.slice(outcomesBefore).filter((o) => !o.claimed);
    let outcome: string | null = null;
    for (const o of fresh) {
      if (o.what.startsWith('spec violated: '))
        throw new Finding('debug_vm', o.what.slice('spec violated: '.length), o.detail, [...this.trace]);
      outcome = o.what;
    }
    /* HMM_DMIRROR_FLAG_FAIL_ALLOC made the next device allocation fail; a CPU fault that needed it ends in VM_FAULT_OOM. */
    if (outcome === 'OOM' && this.model.injected) throw new StopSequence('an injected allocation failure');
    /* A driver reference keeps a device-private page from migrating back: the CPU faults again and again. */
    const spinning = outcome === 'no progress' && this.model.driverRefs > 0;
    if (drawn.predict !== undefined && drawn.predict !== outcome && !spinning)
      throw new Finding(
        'outcome',
        op.phrase,
        `the model says ${drawn.predict ?? 'it succeeds'}, the engine says ${outcome ?? 'it succeeds'} (${fresh.map((o) => o.detail).join('; ')})`,
        [...this.trace],
      );
    /* A Then-step claims the latest unclaimed outcome: claim them latest first. */
    for (const o of [...fresh].reverse()) this.claim(o.what, drawn.claimErrno, o.detail);

    const warnings = world.kernel.machine.warnings;
    if (warnings.length > this.warnings) {
      const w = warnings[this.warnings];
      this.warnings = warnings.length;
      throw new Finding('warning', w.where, w.message, [...this.trace]);
    }

    const checks: Check[] = drawn.after?.(outcome, world) ?? [];
    for (const c of checks) this.check(c);
    this.checkPins();
    return true;
  }

  /**
   * A pinned page stays the page the process maps there, with the same data:
   * after every step, what each pin holds is compared with what the model
   * says the process sees there (or the shared page holds).
   */
  private checkPins(): void {
    const hex = (v: number) => `0x${v.toString(16)}`;
    const keys = new Map<string, PinModel[]>();
    for (const pin of this.model.pins) {
      const key = `${pin.proc}/${pin.buf}/${pin.page}`;
      keys.set(key, [...(keys.get(key) ?? []), pin]);
    }
    /* The World keeps what a process grabbed of a page as one list: it is checked where the model knows every pin of it. */
    for (const [key, pins] of keys) {
      const wants = new Set(pins.map((p) => this.model.pinned(p)));
      const [want] = wants;
      if (wants.size !== 1 || want === null || want === undefined) continue;
      const pin = pins[0];
      const grabbed = this.world.grabbed.get(key) ?? [];
      const bad = grabbed.find((g) => this.world.kernel.page(g.page).data !== want);
      if (!bad) continue;
      this.check({
        step: `what process ${pin.proc} grabbed of page ${pin.page} of buffer ${pin.buf} holds ${hex(want)}`,
        ok: false,
        detail: `the pin of page ${pin.page} of buffer ${pin.buf} by process ${pin.proc} holds ${hex(this.world.kernel.page(bad.page).data)} (pfn 0x${bad.page.toString(16)}), where the model says ${hex(want)}`,
      });
    }
  }

  /** The Then-step that claims an outcome, run as the scenario would run it. */
  private claim(what: string, claimErrno: string | undefined, detail: string): void {
    let text: string | null = null;
    if (what === 'SIGSEGV' || what === 'SIGBUS') text = `the access fails with ${what}`;
    if (what === 'reference refused') text = 'the reference is refused, because the refcount is frozen';
    if (what === 'no progress') text = 'the access keeps faulting without making progress';
    if (what === 'waiting on migration') text = 'the access waits for the migration';
    /* An errno outcome, as the World spells it: "errno -EFAULT (-14)" (or "errno -14"). */
    const errno = /^errno (?:-E[A-Z0-9]+ \()?(-\d+)\)?$/.exec(what);
    /* The step's own claim, or (inside an interleaving) the claim of the kind of call that failed. */
    const phrase =
      claimErrno ??
      (/^HMM_DMIRROR_/.test(detail)
        ? 'the command fails with {errno}'
        : /^(munmap|mprotect|madvise)/.test(detail)
          ? 'the call fails with {errno}'
          : /^GUP of/.test(detail)
            ? 'pinning fails with {errno}'
            : undefined);
    if (errno && phrase) text = phrase.replace('{errno}', errnoName(Number(errno[1])));
    if (!text)
      throw new Finding('outcome', 'no step claims it', `the step ended in ${what} (${detail})`, [
        ...this.trace,
      ]);
    this.trace.push(`Then ${text}`);
    try {
      this.exec('Then', text);
    } catch (err) {
      if (err instanceof Finding) throw err;
      throw new Finding(
        'harness',
        'claim',
        `"${text}" did not claim ${what} (${detail}): ${(err as Error).message}`,
        [...this.trace],
      );
    }
  }

  /** A check the model made of what a step saw: its Then-step joins the trace, and must fail on the engine too. */
  private check(c: Check): void {
    if (c.ok) return;
    this.trace.push(`Then ${c.step}`);
    try {
      this.exec('Then', c.step);
    } catch (err) {
      if (err instanceof Finding) throw err;
      throw new Finding('integrity', c.step.replace(/0x[0-9a-f]+/g, 'V'), c.detail, [...this.trace]);
    }
    throw new Finding(
      'harness',
      'check',
      `the model says "${c.step}" fails (${c.detail}), but the step passes on the engine`,
      [...this.trace],
    );
  }

  /**
   * The end of a sequence: every process reads every page the model knows the
   * contents of, in runs of pages a load can reach.
   */
  sweep(): void {
    for (const p of [...this.model.procs.values()])
      for (const buf of [...p.bufs.values()]) {
        let i = 0;
        while (i < buf.pages) {
          if (this.model.faults(buf, i, false)) {
            i++;
            continue;
          }
          let j = i;
          while (j + 1 < buf.pages && !this.model.faults(buf, j + 1, false)) j++;
          const range = { buf, first: i, count: j - i + 1, text: rangeText(buf, i, j - i + 1) };
          const text = `process ${p.name} reads ${range.text}`;
          this.trace.push(`When ${text}`);
          this.counters.ops++;
          const before = this.world.outcomes.length;
          this.exec('When', text);
          const fault = this.world.outcomes.slice(before).find((o) => !o.claimed);
          if (fault?.what === 'OOM' && this.model.injected)
            throw new StopSequence('an injected allocation failure');
          if (fault?.what === 'no progress' && this.model.driverRefs > 0)
            throw new StopSequence('a driver reference keeps a page on the device');
          if (fault)
            throw new Finding(
              'outcome',
              '{process} reads {pages}',
              `the model says the read succeeds, the engine says ${fault.what} (${fault.detail})`,
              [...this.trace],
            );
          for (const c of this.model.checkRead(p, range, this.world.lastRead.get(p.name) ?? []))
            this.check(c);
          i = j + 1;
        }
      }
  }
}
