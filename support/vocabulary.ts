/**
 * The step vocabulary, defined once: each phrase with what it does to the
 * engine and, where userspace can state it, its C translation for the real
 * kernel (issue 12's differential scenarios).
 *
 * Steps define themselves with this module's Given/When/Then instead of
 * Cucumber's: the same pattern and function, plus a third argument, the
 * translation. While a scenario runs, the World's Translator collects each
 * step's C after the engine ran it, so a translation can read what the
 * engine saw (the values a load returned, say) and state it as the
 * observation the kernel must match:
 *
 *   When('{process} reads {pages}', function (task, range) { … }, function (c, task, range) {
 *     c.run(task, `mm_load(${cRange(c, range)});`);
 *   });
 *
 * A translation calls `c.run` (C run by a process), `c.observe` (C that
 * prints what it saw, and the engine's value for it), `c.unobservable` (a
 * Then-step userspace cannot see: skipped in the comparison, counted) or
 * `c.untranslatable` (the scenario cannot run on a kernel). A step with no
 * translation makes its scenario untranslatable; scripts/kernel.ts
 * --scenarios builds the rest (scripts/lib/kernel/scenarios.ts).
 */
import {
  defineParameterType as cucumberDefineParameterType,
  Given as cucumberGiven,
  Then as cucumberThen,
  When as cucumberWhen,
  type IWorld,
} from '@cucumber/cucumber';
import {
  CucumberExpression,
  type Expression,
  ParameterType,
  ParameterTypeRegistry,
  RegularExpression,
} from '@cucumber/cucumber-expressions';
import type { task_struct } from '../engine/include/linux/mm_types';
import type { Explore } from './explore';

/** One C step: its owner (a process index; 0 is the scenario's runner) and its body. */
export interface CStep {
  owner: number;
  code: string;
  /** The Gherkin step it came from. */
  text: string;
  /** For an observation: what the engine saw, which the kernel's printed `got` must equal. */
  want?: unknown;
}

/**
 * Why a scenario does not run on the real kernel, and what kind of scenario
 * it is: one about today's kernel that userspace cannot state (`kernel`), a
 * simulated design variant or historical kernel (`variant`), or one about
 * mmspec itself (`harness`). Only `kernel` counts against the translation target.
 */
export type Scope = 'kernel' | 'variant' | 'harness';
export interface Untranslatable {
  step: string;
  reason: string;
  scope: Scope;
  /** Kept for readers of older translation files: scope === 'variant'. */
  variant: boolean;
}

/** A scenario's C translation, built step by step as the engine runs it. */
export class Translator {
  readonly steps: CStep[] = [];
  readonly unobservable: { step: string; reason: string }[] = [];
  readonly untranslatable: Untranslatable[] = [];
  /** Process names by index; 0 is the runner, which no step names. */
  readonly processes: string[] = ['(runner)'];
  readonly buffers: string[] = [];
  /** The step being translated, and how many steps a translation has seen (support/hooks.ts checks each step had one). */
  text = '';
  seen = 0;
  before = 0;
  /** The process of the latest step that named one: the one a step without a process runs in. */
  private actor = 0;

  /** Each forked process's parent, by index (waitpid runs in the parent). */
  readonly parents = new Map<number, number>();

  /** A process's index, given one on first mention. */
  proc(p: task_struct | string): number {
    const name = typeof p === 'string' ? p : p.comm;
    let i = this.processes.indexOf(name);
    if (i < 0) {
      i = this.processes.length;
      if (i >= 8) this.cannot('more than 7 processes (mmspec.h MM_PROCS)');
      this.processes.push(name);
    }
    return i;
  }

  /** Pages a scenario named ("the original page"): their slots in mmspec.h's sh->named. */
  readonly pages: string[] = [];

  page(name: string): number {
    let i = this.pages.indexOf(name);
    if (i < 0) {
      i = this.pages.length;
      if (i >= 8) this.cannot('more than 8 named pages (mmspec.h named[])');
      this.pages.push(name);
    }
    return i;
  }

  /** A buffer's index in the C program's table. */
  buf(name: string): number {
    let i = this.buffers.indexOf(name);
    if (i < 0) {
      i = this.buffers.length;
      if (i >= 16) this.cannot('more than 16 buffers (mmspec.h MM_BUFS)');
      this.buffers.push(name);
    }
    return i;
  }

  private owner(p: task_struct | string | number | undefined): number {
    if (p === undefined) return this.actor;
    const i = typeof p === 'number' ? p : this.proc(p);
    if (i !== 0) this.actor = i;
    return i;
  }

  /** C that a process runs (the actor when none is named; 0, the runner, spawns processes). */
  run(owner: task_struct | string | number | undefined, code: string): void {
    this.steps.push({ owner: this.owner(owner), code, text: this.text });
  }

  /** C that prints `got`, as JSON, and the engine's value of the same thing. */
  observe(owner: task_struct | string | number | undefined, code: string, want: unknown): void {
    this.steps.push({ owner: this.owner(owner), code, text: this.text, want });
  }

  /** A Then-step userspace cannot observe (a refcount): counted, not compared. */
  notObservable(reason: string): void {
    this.unobservable.push({ step: this.text, reason });
  }

  /** The scenario cannot run on a real kernel. */
  cannot(reason: string, scope: Scope | boolean = 'kernel'): void {
    const sc: Scope = scope === true ? 'variant' : scope === false ? 'kernel' : scope;
    this.untranslatable.push({ step: this.text, reason, scope: sc, variant: sc === 'variant' });
  }
}

/** A world that may be translating. */
export interface Translating extends IWorld {
  translation: Translator | null;
}

// biome-ignore lint/suspicious/noExplicitAny: a step's parameters are whatever its parameter types make.
type Args = any[];
// biome-ignore lint/suspicious/noExplicitAny: the World, as the step function gets it.
export type Translation<A extends Args> = (this: any, c: Translator, ...args: A) => void;
// biome-ignore lint/suspicious/noExplicitAny: Cucumber's step functions take their World as `this`.
type StepFn<A extends Args> = (this: any, ...args: A) => unknown;

/** Every phrase of the vocabulary and whether it has a translation (the step catalogue's coverage). */
export const catalogue = new Map<string, { keyword: string; translated: boolean }>();

/** The phrases the explorer (scripts/explore.ts) draws operations from: each with how it draws its parameters. */
export const explorable = new Map<
  string,
  { keyword: 'Given' | 'When' | 'Then'; phrase: string; explore: Explore }
>();

/*
 * The vocabulary keeps its own copy of the parameter types and of every step
 * (Cucumber's own registry is not reachable from a running step), so that a
 * step can run another step's text: `When "…" is interrupted at preemption
 * point 2 by "…"` runs both phrases as they are written elsewhere.
 */
const parameterTypes = new ParameterTypeRegistry();
const steps: { pattern: string | RegExp; fn: (...args: unknown[]) => unknown; expression?: Expression }[] =
  [];

type ParameterTypeOptions = Parameters<typeof cucumberDefineParameterType>[0];

/** Cucumber's defineParameterType, and the vocabulary's copy for runStep. */
export function defineParameterType(options: ParameterTypeOptions): void {
  cucumberDefineParameterType(options);
  parameterTypes.defineParameterType(
    new ParameterType(
      options.name,
      options.regexp,
      null,
      // biome-ignore lint/suspicious/noExplicitAny: a transformer takes the regexp's groups, whatever they are.
      options.transformer as (...groups: any[]) => unknown,
      options.useForSnippets ?? true,
      options.preferForRegexpMatch ?? false,
    ),
  );
}

/**
 * Run a step's text in the World, as Cucumber would have: the one step whose
 * pattern matches it, with its parameters transformed. An unknown or
 * ambiguous text is an error that quotes it.
 */
export function runStep(world: IWorld, text: string): unknown {
  const found: { fn: (...args: unknown[]) => unknown; args: unknown[] }[] = [];
  for (const step of steps) {
    step.expression ??=
      typeof step.pattern === 'string'
        ? new CucumberExpression(step.pattern, parameterTypes)
        : new RegularExpression(step.pattern, parameterTypes);
    const match = step.expression.match(text);
    if (match) found.push({ fn: step.fn, args: match.map((a) => a.getValue(world)) });
  }
  if (found.length !== 1)
    throw new Error(
      `"${text}" matches ${found.length === 0 ? 'no step' : `${found.length} steps`} of the vocabulary`,
    );
  return found[0].fn.apply(world, found[0].args);
}

/**
 * pfns in hex in every message, as the pictures and tables show them: the
 * engine's messages (a KernelInvariantViolation "at pfn 8192", dump_page's
 * "pfn:8192") become "pfn 0x2000".
 */
export const hexPfnText = (m: string): string =>
  m.replace(
    /\bpfn(s?)([ :=])(\d+)\b/g,
    (_all, s: string, sep: string, n: string) => `pfn${s}${sep}0x${Number(n).toString(16)}`,
  );

export function hexPfns(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const before = err.message;
  err.message = hexPfnText(err.message);
  if (err.stack && before !== err.message) err.stack = err.stack.replace(before, err.message);
  return err;
}

function define(keyword: 'Given' | 'When' | 'Then', register: typeof cucumberGiven) {
  return <A extends Args>(
    pattern: string | RegExp,
    fn: StepFn<A>,
    c?: Translation<A>,
    explore?: Explore,
  ): void => {
    const phrase = pattern.toString();
    catalogue.set(phrase, { keyword, translated: c !== undefined });
    if (explore) {
      if (typeof pattern !== 'string')
        throw new Error(`the explorer draws only Cucumber expressions, not ${phrase}`);
      explorable.set(phrase, { keyword, phrase, explore });
    }
    const wrapped = function (this: Translating, ...args: A): unknown {
      let r: unknown;
      try {
        r = fn.apply(this, args);
      } catch (err) {
        throw hexPfns(err);
      }
      const t = this.translation;
      if (t) {
        t.seen++;
        if (c) c.call(this, t, ...args);
        else t.cannot(`no C translation for "${phrase}"`);
      }
      return r;
    };
    steps.push({ pattern, fn: wrapped as (...args: unknown[]) => unknown });
    /* Cucumber checks a step function's arity against its pattern's parameters. */
    Object.defineProperty(wrapped, 'length', { value: fn.length });
    /*
     * Cucumber takes a definition's file and line from the first stack frame
     * outside itself, which here would be this file: frames of this file are
     * left out while it looks, so reports and usage point at the step file.
     */
    const previous = Error.prepareStackTrace;
    Error.prepareStackTrace = (error, frames) => {
      const kept = frames.filter((f) => f.getFileName() !== __filename);
      return previous ? previous(error, kept) : `${error}\n${kept.map((f) => `    at ${f}`).join('\n')}`;
    };
    try {
      register(pattern, wrapped);
    } finally {
      Error.prepareStackTrace = previous;
    }
  };
}

export const Given = define('Given', cucumberGiven);
export const When = define('When', cucumberWhen);
export const Then = define('Then', cucumberThen);
