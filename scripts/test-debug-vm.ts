/**
 * npm run test:debug-vm: the incremental debug_vm checker against the full
 * one. Explorer sequences (scripts/lib/explore/sequence.ts, fixed seeds) run
 * twice, once with each checker; in each run one fault is injected into the
 * engine's state at the end of an operation, as a buggy engine function
 * would leave it (a refcount, a mapcount, a PTE, a pagemap, a flag, an rss
 * counter, a pin, a free list...). Both runs must end the same way: the same
 * rule, pfn and state reported at the same operation (or nothing, for the
 * runs without a fault), and every kind of fault must be caught at least
 * once, so a checker that misses a change fails the test.
 *
 *   npm run test:debug-vm [-- --seeds 24]
 */
import fc from 'fast-check';
import { GUP_PIN_COUNTING_BIAS } from '../engine/include/linux/mm';
import { HPAGE_PMD_NR, HPAGE_PMD_ORDER, MM_ANONPAGES } from '../engine/include/linux/mm_types';
import {
  PG_anon,
  PG_anon_exclusive,
  PG_buddy,
  PG_head,
  PG_reserved,
  PG_tail,
} from '../engine/include/linux/page-flags';
import {
  pfn_pte,
  pte_mkwrite,
  pte_pfn,
  pte_present,
  pte_special,
  pte_write,
} from '../engine/include/linux/pgtable';
import { is_device_private_entry, swp_offset_pfn } from '../engine/include/linux/swapops';
import type { Machine } from '../engine/machine';
import { type debug_vm_mode, set_debug_vm_mode } from '../engine/mm/debug_vm';
import type { MmWorld } from '../support/world';
import { begin, commands, prologue, type SequenceOptions } from './lib/explore/sequence';
import { Finding, loadVocabulary, StopSequence, type Vocabulary } from './lib/explore/session';

/** One fault: applied to the machine if the state has something to break (the n-th candidate), or null. */
interface Fault {
  readonly name: string;
  apply(m: Machine, n: number): string | null;
}

/** Every present PTE that maps a normal page: [table, index, pfn]. */
function presentPtes(m: Machine): [Uint32Array, number, number][] {
  const out: [Uint32Array, number, number][] = [];
  for (const mm of m.mms)
    for (const table of mm.pte_tables.values())
      for (let i = 0; i < table.length; i++) {
        const pte = table[i];
        if (pte !== 0 && pte_present(pte) && !pte_special(pte) && pte_pfn(pte) !== m.zero_pfn)
          out.push([table, i, pte_pfn(pte)]);
      }
  return out;
}

const pick = <T>(xs: readonly T[], n: number): T | null => (xs.length ? xs[n % xs.length] : null);

/** Pfns of mapped small (not large, not reserved) pages. */
/** The head pfn of every THP in use (PMD-aligned, not a reserved block). */
function thpHeads(m: Machine): number[] {
  const heads: number[] = [];
  for (let pfn = 0; pfn < m.mem.nr_pfns; pfn += HPAGE_PMD_NR)
    if (m.mem.flags[pfn] & PG_head && !(m.mem.flags[pfn] & PG_reserved)) heads.push(pfn);
  return heads;
}

function mappedSmall(m: Machine): number[] {
  const out: number[] = [];
  for (let pfn = 0; pfn < m.mem.nr_pfns; pfn++)
    if (m.mem._mapcount[pfn] > 0 && !(m.mem.flags[pfn] & (PG_head | PG_tail | PG_reserved))) out.push(pfn);
  return out;
}

const FAULTS: Fault[] = [
  {
    name: 'a refcount dropped to 0',
    apply(m, n) {
      const pfn = pick(mappedSmall(m), n);
      if (pfn === null) return null;
      m.mem._refcount[pfn] = 0;
      return `pfn ${pfn}`;
    },
  },
  {
    name: 'a mapcount one too high',
    apply(m, n) {
      const pfn = pick(mappedSmall(m), n);
      if (pfn === null) return null;
      m.mem._mapcount[pfn]++;
      return `pfn ${pfn}`;
    },
  },
  {
    name: 'a PTE cleared without its rmap',
    apply(m, n) {
      const e = pick(presentPtes(m), n);
      if (!e) return null;
      e[0][e[1]] = 0;
      return `pfn ${e[2]}`;
    },
  },
  {
    name: 'a PTE pointed at a free page',
    apply(m, n) {
      const e = pick(presentPtes(m), n);
      let free = -1;
      for (let pfn = m.mem.nr_pfns - 1; pfn >= 0 && free < 0; pfn--)
        if (m.mem.flags[pfn] & PG_buddy) free = pfn;
      if (!e || free < 0) return null;
      e[0][e[1]] = pfn_pte(free, e[0][e[1]] & 0xff);
      return `pfn ${e[2]} -> ${free}`;
    },
  },
  {
    name: 'a read-only PTE of a shared anonymous page made writable',
    apply(m, n) {
      const e = pick(
        presentPtes(m).filter(
          ([t, i, pfn]) =>
            !pte_write(t[i]) && m.mem.flags[pfn] & PG_anon && !(m.mem.flags[pfn] & PG_anon_exclusive),
        ),
        n,
      );
      if (!e) return null;
      e[0][e[1]] = pte_mkwrite(e[0][e[1]]);
      return `pfn ${e[2]}`;
    },
  },
  {
    name: 'PageAnonExclusive cleared under a writable PTE',
    apply(m, n) {
      const e = pick(
        presentPtes(m).filter(([t, i, pfn]) => pte_write(t[i]) && m.mem.flags[pfn] & PG_anon_exclusive),
        n,
      );
      if (!e) return null;
      m.mem.flags[e[2]] &= ~PG_anon_exclusive;
      return `pfn ${e[2]}`;
    },
  },
  {
    name: 'a mapped page marked free (PG_buddy)',
    apply(m, n) {
      const e = pick(presentPtes(m), n);
      if (!e) return null;
      m.mem.flags[e[2]] |= PG_buddy;
      return `pfn ${e[2]}`;
    },
  },
  {
    name: "a device-private page's pagemap reference lost",
    apply(m, n) {
      const pfns: number[] = [];
      for (const mm of m.mms)
        for (const table of mm.pte_tables.values())
          for (const pte of table)
            if (pte !== 0 && is_device_private_entry(pte)) pfns.push(swp_offset_pfn(pte));
      const pfn = pick(pfns, n);
      if (pfn === null) return null;
      m.mem.pgmap[pfn] = 0;
      return `pfn ${pfn}`;
    },
  },
  {
    name: 'an rss counter off by one',
    apply(m, n) {
      const mm = pick([...m.mms], n);
      if (!mm) return null;
      mm.rss_stat[MM_ANONPAGES]++;
      return `mm ${mm.id}`;
    },
  },
  {
    name: 'a pin handed out without its references',
    apply(m, n) {
      const pfn = pick(
        mappedSmall(m).filter((p) => !m.debug_pins.has(p) && m.mem._refcount[p] < GUP_PIN_COUNTING_BIAS),
        n,
      );
      if (pfn === null) return null;
      m.debug_pins.set(pfn, { pins: 1, longterm: 0 });
      return `pfn ${pfn}`;
    },
  },
  {
    name: "a THP's entire mapcount one too high",
    apply(m, n) {
      const head = pick(thpHeads(m), n);
      if (head === null) return null;
      m.mem._entire_mapcount[head >> HPAGE_PMD_ORDER]++;
      return `pfn ${head}`;
    },
  },
  {
    name: 'a tail page given a reference',
    apply(m, n) {
      const pfn = pick(
        thpHeads(m).map((head) => head + 1 + (n % 511)),
        n,
      );
      if (pfn === null) return null;
      m.mem._refcount[pfn] = 1;
      return `pfn ${pfn}`;
    },
  },
  {
    name: 'a device page in use put on its free list',
    apply(m, n) {
      const world = worldOf.get(m);
      const devices = world?.hmm?.devices ?? [];
      const used: [number[], number][] = [];
      for (const d of devices)
        for (const c of d.chunks)
          for (let pfn = c.pagemap.range.start; pfn < c.pagemap.range.start + c.pagemap.range.nr; pfn++)
            if (m.mem._refcount[pfn] > 0 && !(m.mem.flags[pfn] & (PG_head | PG_tail)))
              used.push([d.free_pages, pfn]);
      const u = pick(used, n);
      if (!u) return null;
      u[0].push(u[1]);
      return `pfn ${u[1]}`;
    },
  },
];

/** The World of a machine, for the faults that reach a driver. */
const worldOf = new WeakMap<Machine, MmWorld>();

interface Outcome {
  /** Kernel operations run until the end (the one that reported, if any). */
  ops: number;
  /** What was reported, or 'nothing'. */
  report: string;
  injected: string | null;
}

function run(
  vocab: Vocabulary,
  opts: SequenceOptions,
  seed: number,
  mode: debug_vm_mode,
  fault: Fault | null,
): Outcome {
  set_debug_vm_mode(mode);
  const [start] = fc.sample(prologue(opts), { seed, numRuns: 1 });
  const [cmds] = fc.sample(commands(vocab, opts), { seed: seed + 1, numRuns: 1 });
  const list = [...cmds];
  const s = begin(vocab, { ops: 0, sequences: 0, refused: 0, mix: new Map() }, start);
  const k = s.world.kernel;
  worldOf.set(k.machine, s.world);
  let ops = 0;
  let armed = false;
  let injected: string | null = null;
  const op = k.op.bind(k);
  k.op = <T>(fn: () => T): T =>
    op(() => {
      const r = fn();
      ops++;
      if (armed && fault) {
        injected = fault.apply(k.machine, seed);
        if (injected) armed = false;
      }
      return r;
    });
  const at = list.length ? seed % list.length : 0;
  let report = 'nothing';
  try {
    list.forEach((c, i) => {
      if (i === at) armed = true;
      c.run(s, s);
    });
    if (armed && fault) {
      injected = fault.apply(k.machine, seed);
      armed = false;
    }
    k.finish();
  } catch (err) {
    if (err instanceof StopSequence) report = 'stopped';
    else if (err instanceof Finding) report = `${err.oracle}: ${err.what}: ${err.detail}`;
    else report = `${(err as Error).name}: ${(err as Error).message}`;
  }
  return { ops, report, injected };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--seeds');
  const seeds = i >= 0 ? Number(argv[i + 1]) : 24;
  const vocab = await loadVocabulary();
  const opts: SequenceOptions = { steps: 30, designs: [], driver: 'any' };
  let failures = 0;
  let compared = 0;
  const caught = new Map<string, number>();
  for (const fault of [null, ...FAULTS])
    for (let seed = 1; seed <= seeds; seed++) {
      const inc = run(vocab, opts, seed, 'incremental', fault);
      const full = run(vocab, opts, seed, 'full', fault);
      compared++;
      const same = inc.ops === full.ops && inc.report === full.report && inc.injected === full.injected;
      if (fault && full.injected && full.report.startsWith('debug_vm: '))
        caught.set(fault.name, (caught.get(fault.name) ?? 0) + 1);
      if (same) continue;
      failures++;
      console.log(
        `DIFFERS: ${fault?.name ?? 'no fault'}, seed ${seed} (injected: ${full.injected ?? 'nothing'})`,
      );
      console.log(`  incremental: op ${inc.ops}: ${inc.report.slice(0, 300)}`);
      console.log(`  full:        op ${full.ops}: ${full.report.slice(0, 300)}`);
    }
  set_debug_vm_mode('incremental');
  const missed = FAULTS.filter((f) => !caught.get(f.name));
  for (const f of FAULTS) console.log(`  ${String(caught.get(f.name) ?? 0).padStart(3)} caught: ${f.name}`);
  for (const f of missed)
    console.log(`NEVER CAUGHT: ${f.name} (no sequence injected it, or no checker saw it)`);
  console.log(
    `test:debug-vm: ${compared} runs compared (${FAULTS.length} faults x ${seeds} seeds, and ${seeds} without a fault), ${failures} differ, ${FAULTS.length - missed.length} of ${FAULTS.length} faults caught`,
  );
  return failures || missed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
