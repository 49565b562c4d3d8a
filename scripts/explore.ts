/**
 * npm run explore: random operation sequences over 1-4 processes, drawn from
 * the scenario vocabulary itself (support/explore.ts), run through the
 * project's own step definitions, with every oracle checked after every
 * step: debug_vm's invariants, the reference model's data, the outcome the
 * model predicts, kernel warnings, and any exception that is not a
 * documented refusal. fast-check drives it (fc.commands, fc.modelRun) and
 * shrinks what it finds; each finding is written as a feature file in the
 * project's own phrases, replayed to check it reproduces.
 *
 *   npm run explore                               100 sequences, seed from the clock (printed)
 *   npm run explore -- --seed 7 --runs 500        reproducible
 *   npm run explore -- --budget 600               ten minutes
 *   npm run explore -- --design "device-private THPs are split as the v2 patch did"
 *   npm run explore -- --driver coherent          the prologue's driver: private, coherent, none or any
 *   npm run explore -- --shard 2/8                the 2nd of 8 disjoint seed streams (a CI matrix)
 *   npm run explore -- --merge dir1 dir2          merge the findings of several runs by signature
 *   npm run explore -- --debug-vm full            debug_vm: incremental (the default), full or off
 *                                                 (MMSPEC_DEBUG_VM sets the default)
 *
 * Writes reports/explore/summary.json and reports/explore/<signature>.feature;
 * exits 1 on a finding explore/known.yaml does not list.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { KernelInvariantViolation } from '../engine';
import {
  DEBUG_VM_MODES,
  type debug_vm_mode,
  get_debug_vm_mode,
  set_debug_vm_mode,
} from '../engine/mm/debug_vm';
import { pageRows, pageTable } from '../support/queries';
import { begin, commands, prologue } from './lib/explore/sequence';
import {
  type Counters,
  Finding,
  loadVocabulary,
  Session,
  StopSequence,
  signature,
  type Vocabulary,
} from './lib/explore/session';

const KNOWN = 'explore/known.yaml';

interface Options {
  seed: number;
  runs: number;
  budget: number;
  steps: number;
  designs: string[];
  driver: 'private' | 'coherent' | 'none' | 'any';
  shard: { i: number; n: number } | null;
  out: string;
  merge: string[] | null;
  quiet: boolean;
  debugVm: debug_vm_mode;
}

class UsageError extends Error {}

function options(argv: string[]): Options {
  const o: Options = {
    seed: Date.now() % 2 ** 31,
    runs: 100,
    budget: 0,
    steps: 30,
    designs: [],
    driver: 'any',
    shard: null,
    out: 'reports/explore',
    merge: null,
    quiet: false,
    debugVm: (process.env.MMSPEC_DEBUG_VM as debug_vm_mode | undefined) || get_debug_vm_mode(),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = value();
      if (!/^\d+$/.test(v)) throw new UsageError(`${a} ${v}: not a whole number`);
      return Number(v);
    };
    if (a === '--seed') o.seed = int();
    else if (a === '--runs') o.runs = int();
    else if (a === '--budget') o.budget = int();
    else if (a === '--steps') o.steps = int();
    else if (a === '--design') o.designs.push(value());
    else if (a === '--out') o.out = value();
    else if (a === '--quiet') o.quiet = true;
    else if (a === '--debug-vm') {
      const d = value();
      if (!DEBUG_VM_MODES.includes(d as debug_vm_mode))
        throw new UsageError(`--debug-vm ${d}: one of ${DEBUG_VM_MODES.join(', ')}`);
      o.debugVm = d as debug_vm_mode;
    } else if (a === '--driver') {
      const d = value();
      if (!['private', 'coherent', 'none', 'any'].includes(d))
        throw new UsageError(`--driver ${d}: one of private, coherent, none, any`);
      o.driver = d as Options['driver'];
    } else if (a === '--shard') {
      const m = /^(\d+)\/(\d+)$/.exec(value());
      if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2]))
        throw new UsageError(`--shard ${argv[i]}: i/n with 1 ≤ i ≤ n`);
      o.shard = { i: Number(m[1]), n: Number(m[2]) };
    } else if (a === '--merge') {
      o.merge = argv.slice(i + 1);
      if (!o.merge.length) throw new UsageError('--merge needs the folders of the runs to merge');
      break;
    } else throw new UsageError(`unknown option ${a} (see scripts/explore.ts)`);
  }
  return o;
}

interface Known {
  signature: string;
  reason: string;
}

function known(): Known[] {
  if (!existsSync(KNOWN)) return [];
  const doc = parse(readFileSync(KNOWN, 'utf8')) ?? [];
  if (!Array.isArray(doc)) throw new UsageError(`${KNOWN}: a list of {signature, reason}`);
  doc.forEach((k: Known, n: number) => {
    if (typeof k?.signature !== 'string' || typeof k?.reason !== 'string' || !k.reason.trim())
      throw new UsageError(`${KNOWN}: entry ${n + 1} needs a signature and a reason`);
  });
  return doc;
}

interface Found {
  signature: string;
  oracle: string;
  what: string;
  detail: string;
  steps: number;
  /** Steps of the sequence before shrinking, and the shrinks fast-check made. */
  unshrunk: number;
  shrinks: number;
  seconds: number;
  seed: number;
  reproduces: boolean;
  file: string;
  known: string | null;
}

/**
 * Replay a finding's lines in a fresh World, once: it reproduces if a step
 * fails at its end, or an outcome or a warning is left unclaimed there; the
 * state table is taken where the replay stopped.
 */
function replay(vocab: Vocabulary, lines: readonly string[]): { reproduces: boolean; picture: string } {
  const s = new Session(vocab, { ops: 0, sequences: 0, refused: 0, mix: new Map() });
  const w = s.world;
  let failedAt = -1;
  for (let i = 0; i < lines.length && failedAt < 0; i++)
    try {
      s.exec('Given', lines[i].replace(/^(Given|When|Then|And) /, ''));
    } catch {
      failedAt = i;
    }
  const reproduces =
    failedAt >= 0
      ? failedAt === lines.length - 1
      : w.outcomes.some((o) => !o.claimed) || w.kernel.machine.warnings.length > 0;
  let picture: string;
  try {
    const buffers = [...w.buffers.values()].filter((b) => !b.name.endsWith('_map'));
    picture = pageTable(pageRows(w.kernel, w.processes, buffers));
  } catch (err) {
    picture = `(the state cannot be drawn: ${(err as Error).message})`;
  }
  return { reproduces, picture };
}

function featureText(f: Found, finding: Finding, picture: string): string {
  const header = [
    `# Found by npm run explore -- --seed ${f.seed} (${f.seconds} s); shrunk from ${f.unshrunk} to ${f.steps} steps in ${f.shrinks} shrinks.`,
    `# It ${f.reproduces ? 'reproduces' : 'DID NOT reproduce'} when its steps are replayed on a fresh engine.`,
    '# To keep it as a regression scenario once the engine is fixed (or the kernel is, for a kernel bug):',
    '# copy it to features/explore/, give the scenario a name that says the rule, and end it with the',
    '# Then-step that states the rule; for a debug_vm finding, "Then debug_vm finds every invariant holding".',
  ];
  const lines = finding.trace.map((l) => `    ${l}`);
  const pic = picture
    ? ['', '  # The state after the failing step:', ...picture.split('\n').map((l) => `  #   ${l}`)]
    : [];
  return `${[
    ...header,
    `@explorer @explorer:${f.signature}`,
    `Feature: Explorer finding ${f.signature}`,
    `  ${f.oracle}: ${f.what}`,
    `  ${f.detail.replace(/\s+/g, ' ').slice(0, 400)}`,
    '',
    `  Scenario: ${f.oracle} finding: ${f.what.slice(0, 100)}`,
    ...lines,
    ...pic,
  ].join('\n')}\n`;
}

function bar(done: number, total: number, text: string): void {
  if (!process.stderr.isTTY) return;
  const width = 30;
  const fill = total ? Math.min(width, Math.round((done / total) * width)) : 0;
  process.stderr.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${text}   `);
}

function merge(dirs: string[], out: string): number {
  const all = new Map<string, Found & { from: string }>();
  let ops = 0;
  let sequences = 0;
  for (const d of dirs) {
    const file = join(d, 'summary.json');
    if (!existsSync(file)) throw new UsageError(`${file}: no such file (is ${d} an explore output folder?)`);
    const s = JSON.parse(readFileSync(file, 'utf8'));
    ops += s.ops;
    sequences += s.sequences;
    for (const f of s.findings as Found[]) {
      const had = all.get(f.signature);
      if (!had || f.steps < had.steps) all.set(f.signature, { ...f, from: d });
    }
  }
  mkdirSync(out, { recursive: true });
  for (const f of all.values()) {
    const src = join(f.from, `${f.signature}.feature`);
    if (existsSync(src)) writeFileSync(join(out, `${f.signature}.feature`), readFileSync(src));
  }
  const findings = [...all.values()];
  writeFileSync(
    join(out, 'summary.json'),
    `${JSON.stringify({ merged: dirs, ops, sequences, findings }, null, 2)}\n`,
  );
  const fresh = findings.filter((f) => !f.known);
  console.log(
    `explore --merge: ${dirs.length} runs, ${sequences} sequences, ${ops} ops; ${findings.length} distinct findings (${fresh.length} not in ${KNOWN})`,
  );
  for (const f of findings) console.log(`  ${f.known ? 'known' : 'NEW  '} ${f.signature} (${f.steps} steps)`);
  return fresh.length ? 1 : 0;
}

async function main(): Promise<number> {
  const o = options(process.argv.slice(2));
  if (o.merge) return merge(o.merge, o.out);
  const knownList = known();
  const vocab = await loadVocabulary();
  /* After loading the support code, whose World reads MMSPEC_DEBUG_VM. */
  set_debug_vm_mode(o.debugVm);
  for (const d of o.designs)
    if (!vocab.definitions.some((s) => s.matchesStepName(d)))
      throw new UsageError(`--design "${d}": no step says that (a Given of features/, word for word)`);
  if (existsSync(o.out))
    for (const f of readdirSync(o.out)) if (f.endsWith('.feature')) rmSync(join(o.out, f));
  mkdirSync(o.out, { recursive: true });

  const counters: Counters = { ops: 0, sequences: 0, refused: 0, mix: new Map() };
  const found: Found[] = [];
  const seen = new Map<string, Found>();
  const knownHits = new Map<string, number>();
  const t0 = Date.now();
  const deadline = o.budget ? t0 + o.budget * 1000 : Number.POSITIVE_INFINITY;
  /* Shards take disjoint seed streams: shard i of n starts at seed + i * 2^20. */
  let seed = o.shard ? o.seed + o.shard.i * (1 << 20) : o.seed;
  let runsLeft = o.budget ? Number.POSITIVE_INFINITY : o.runs;
  let lastFinding: Finding | null = null;
  let lastPhrases: string[] = [];
  let lastLen = 0;
  const timer = setInterval(
    () =>
      bar(
        o.budget ? Date.now() - t0 : counters.sequences,
        o.budget ? o.budget * 1000 : o.runs,
        `${counters.sequences} sequences, ${counters.ops} ops, ${found.length} findings`,
      ),
    250,
  );
  try {
    while (runsLeft > 0 && Date.now() < deadline) {
      const batch = Math.min(runsLeft, 50);
      const property = fc.property(prologue(o), commands(vocab, o), (start, cmds) => {
        counters.sequences++;
        const s = begin(vocab, counters, start);
        try {
          fc.modelRun(() => ({ model: s, real: s }), cmds);
          s.sweep();
          s.world.kernel.finish();
        } catch (thrown) {
          if (thrown instanceof StopSequence) return true;
          /* Outside a step's own checks (the final sweep): a broken rule or an exception is a finding too. */
          const err =
            thrown instanceof Finding
              ? thrown
              : thrown instanceof KernelInvariantViolation
                ? new Finding('debug_vm', thrown.rule, thrown.message, [...s.trace])
                : new Finding(
                    'exception',
                    `${(thrown as Error).name} at the end of the sequence`,
                    String((thrown as Error).stack ?? thrown).slice(0, 400),
                    [...s.trace],
                  );
          const sig = signature(err, s.phrases);
          const k = knownList.find((x) => x.signature === sig);
          if (k || seen.has(sig)) {
            knownHits.set(sig, (knownHits.get(sig) ?? 0) + 1);
            return true;
          }
          lastFinding = err;
          lastPhrases = [...s.phrases];
          lastLen = Math.max(lastLen, err.trace.length);
          throw err;
        }
        return true;
      });
      const started = Date.now();
      lastFinding = null;
      lastLen = 0;
      const details = fc.check(property, {
        seed,
        numRuns: batch,
        interruptAfterTimeLimit: Number.isFinite(deadline) ? Math.max(1, deadline - Date.now()) : undefined,
      });
      runsLeft -= details.numRuns;
      seed++;
      if (!details.failed) continue;
      const err = details.errorInstance;
      if (!(err instanceof Finding)) throw err;
      const finding = lastFinding ?? err;
      const sig = signature(finding, lastPhrases);
      const replayed = replay(vocab, finding.trace);
      const f: Found = {
        signature: sig,
        oracle: finding.oracle,
        what: finding.what,
        detail: finding.detail,
        steps: finding.trace.length,
        unshrunk: lastLen,
        shrinks: details.numShrinks,
        seconds: Math.round((Date.now() - started) / 100) / 10,
        seed: details.seed,
        reproduces: replayed.reproduces,
        file: join(o.out, `${sig}.feature`),
        known: null,
      };
      writeFileSync(f.file, featureText(f, finding, replayed.picture));
      found.push(f);
      seen.set(sig, f);
      if (!o.quiet) {
        process.stderr.write('\n');
        console.log(`finding ${sig}: ${finding.detail.slice(0, 300)}`);
        console.log(`  ${f.steps} steps (from ${f.unshrunk}, ${f.shrinks} shrinks), ${f.file}`);
      }
    }
  } finally {
    clearInterval(timer);
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
  const seconds = (Date.now() - t0) / 1000;
  const summary = {
    seed: o.seed,
    shard: o.shard,
    designs: o.designs,
    driver: o.driver,
    debugVm: o.debugVm,
    sequences: counters.sequences,
    ops: counters.ops,
    refused: counters.refused,
    seconds: Math.round(seconds * 10) / 10,
    opsPerSecond: Math.round(counters.ops / seconds),
    mix: Object.fromEntries([...counters.mix.entries()].sort((a, b) => b[1] - a[1])),
    findings: found,
    known: Object.fromEntries(knownHits),
  };
  writeFileSync(join(o.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(
    `explore: seed ${o.seed}${o.shard ? ` (shard ${o.shard.i}/${o.shard.n})` : ''}, debug_vm ${o.debugVm}: ${counters.sequences} sequences, ${counters.ops} ops in ${summary.seconds} s (${summary.opsPerSecond} ops/s); ${found.length} new finding(s), ${[...knownHits.values()].reduce((a, b) => a + b, 0)} hit(s) of known ones`,
  );
  const total = [...counters.mix.values()].reduce((a, b) => a + b, 0) || 1;
  console.log(
    `  mix: ${[...counters.mix.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([p, n]) => `${Math.round((n / total) * 100)}% ${p}`)
      .join(', ')}`,
  );
  for (const f of found) console.log(`  NEW ${f.signature}: ${f.steps} steps, ${f.file}`);
  console.log(`Summary: ${join(o.out, 'summary.json')}`);
  return found.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof UsageError) console.error(`explore: ${err.message}`);
    else console.error(err);
    process.exit(2);
  },
);
