/*
 * The CONFIG_DEBUG_VM checker: named invariants, checked against the whole
 * machine after every engine operation. The kernel scatters these checks as
 * VM_BUG_ON_PAGE / VM_WARN_ON_FOLIO in mm/rmap.c, mm/memory.c,
 * mm/page_table_check.c and include/linux/rmap.h (__folio_rmap_sanity_checks);
 * the engine gathers them here, recomputing every count from the page tables
 * rather than trusting the bookkeeping it checks.
 * Kernel: linux-mm tree, late 2025.
 */

import {
  MEMORY_DEVICE_FS_DAX,
  MEMORY_DEVICE_GENERIC,
  MEMORY_DEVICE_PRIVATE,
} from '../include/linux/memremap';
import {
  folio_test_anon,
  GUP_PIN_COUNTING_BIAS,
  is_huge_zero_pfn,
  is_vm_hugetlb_page,
  is_zero_pfn,
} from '../include/linux/mm';
import {
  type address_space,
  HPAGE_PMD_NR,
  HPAGE_PMD_ORDER,
  MM_ANONPAGES,
  MM_COUNTER_NAMES,
  MM_FILEPAGES,
  MM_SHMEMPAGES,
  type mm_struct,
  NR_MM_COUNTERS,
  PAGE_SIZE,
  PMD_SIZE,
  PTRS_PER_PTE,
} from '../include/linux/mm_types';
import { KernelInvariantViolation } from '../include/linux/mmdebug';
import {
  PG_anon,
  PG_anon_exclusive,
  PG_buddy,
  PG_head,
  PG_hugetlb,
  PG_locked,
  PG_reserved,
  PG_swapbacked,
  PG_tail,
} from '../include/linux/page-flags';
import {
  pmd_is_table,
  pmd_pfn,
  pmd_trans_huge,
  pte_pfn,
  pte_present,
  pte_special,
  pte_write,
} from '../include/linux/pgtable';
import {
  is_device_exclusive_entry,
  is_device_private_entry,
  is_migration_entry,
  is_valid_pmd_softleaf,
  softleaf_type_of,
  swp_offset_pfn,
} from '../include/linux/swapops';
import type { Machine } from '../machine';
import { dump_page } from './debug';
import { hugetlb_outstanding_reservations } from './hugetlb';
import { find_vma } from './mmap';

/** Every invariant the checker knows, with the rule it states. */
// Stryker disable all: the rules' descriptions, text the reports show; mutating them mutates the checker's messages, not the kernel
export const DEBUG_VM_INVARIANTS = {
  'no mapping of a free page': 'no page table entry points at a pfn on a buddy free list',
  'free pages hold nothing': 'a free page has refcount 0 and mapcount 0',
  'mapcount matches the page tables': 'each page mapcount equals the PTEs (and PMDs) that map it',
  'refcount covers every mapping': 'refcount >= mapcount + page-cache references + pincount',
  'a mapped page is never at refcount 0': 'a page that a page table maps holds at least one reference',
  'PageAnonExclusive only on anonymous pages': 'AE is never set on a file or free page',
  'an exclusive page is mapped once': 'an AE small folio is mapped by at most one page table entry',
  'a writable anonymous PTE maps an exclusive page':
    'a writable PTE of an anonymous page requires PageAnonExclusive',
  'the zero page is never writable': 'no writable PTE or PMD maps the shared zero page',
  'tail pages hold no references': 'references are counted on the head page of a large folio',
  'rss counters match the page tables': "each mm's rss counters equal the pages its page tables map",
  'PMD non-present entries are migration or device-private':
    'a non-present PMD is only a migration or device-private entry',
  'deferred split holds anonymous large folios':
    'only anonymous large folios sit on the deferred-split queue',
  'a device-private entry points to device-private memory':
    'a device-private entry never points to system RAM or other device memory',
  'a present PTE never maps device-private memory':
    'device-private memory is reached only through device-private entries',
  'a device page lies in its pagemap range': "a ZONE_DEVICE page's pagemap is live and covers its pfn",
  'a migration entry exists only while a migration is in progress':
    'the folio behind a migration entry is locked by its migration',
  'a device-exclusive entry maps a page in CPU-addressable memory':
    'a device-exclusive entry never points to device-private memory (and exists only at PTE level)',
  'a pin holds GUP_PIN_COUNTING_BIAS references on a small folio':
    'refcount >= 1024 x pins for a small folio',
  'a large folio counts its pins exactly': "a large folio's _pincount equals the pins handed out",
  'a long-term pinned page is never in ZONE_DEVICE':
    'FOLL_LONGTERM never leaves a device page pinned, except device-DAX memory, which is statically allocated',
  'a PTE never maps memory whose pagemap is gone':
    'no PTE, devmap or not, points into device memory that memunmap_pages has removed',
  'an FS-DAX page holds its mappings and GUP references, nothing hidden':
    "fixed devmap design: an FS-DAX page's refcount is its mappings plus its pins and GUP references, so an idle page sits at 0",
  'a devmap page holds its idle reference and none for its PTEs':
    'old devmap design: an FS-DAX or device-DAX page sits at refcount 1 (0 once memunmap_pages dropped it) plus its pins and GUP references; its devmap PTEs take no reference and no mapcount',
  'a hugetlb folio is mapped only by a hugetlb VMA':
    'a huge PTE of a hugetlb VMA maps a hugetlb folio, a hugetlb VMA has nothing but huge PTEs, and nothing else maps a hugetlb folio',
  'hugetlb usage matches the page tables': "each mm's hugetlb_usage equals the pages its huge PTEs map",
  'the VMAs of an mm are sorted and disjoint':
    'validate_mm (CONFIG_DEBUG_VM_MAPLE_TREE): each VMA is page-aligned and non-empty, and ends at or before the next one starts',
  'the hugetlb pool accounts for every huge page':
    'HugePages_Total counts every hugetlb folio, HugePages_Free exactly the unreferenced ones on the free list, and HugePages_Rsvd the reservations private mappings still hold',
} as const;
// Stryker restore all
export type debug_vm_invariant = keyof typeof DEBUG_VM_INVARIANTS;

function violation(m: Machine, rule: debug_vm_invariant, pfn: number, detail: string): never {
  // Stryker disable next-line StringLiteral,ConditionalExpression,EqualityOperator: the violation's detail text (dump_page or not), not whether it is raised
  throw new KernelInvariantViolation(rule, pfn, `${detail}; ${pfn >= 0 ? dump_page(m, pfn) : ''}`.trim());
}

/**
 * How debug_vm runs after each operation: 'incremental' checks what the
 * operation changed and the whole machine every DEBUG_VM_FULL_EVERY
 * operations; 'full' rescans everything after every operation; 'off' checks
 * nothing (a benchmark's baseline). Kernel.finish() checks everything in
 * every mode but 'off'.
 */
export type debug_vm_mode = 'incremental' | 'full' | 'off';
export const DEBUG_VM_MODES: readonly debug_vm_mode[] = ['incremental', 'full', 'off'];
/** Operations between two full checks in incremental mode. */
export const DEBUG_VM_FULL_EVERY = 64;
let mode: debug_vm_mode = 'incremental';

export function set_debug_vm_mode(m: debug_vm_mode): void {
  if (!DEBUG_VM_MODES.includes(m))
    throw new RangeError(`debug_vm mode "${m}": one of ${DEBUG_VM_MODES.join(', ')}`);
  mode = m;
}
export const get_debug_vm_mode = (): debug_vm_mode => mode;

/** What an entry counted in: an rss counter (0-3), hugetlb usage, nothing, or (a PMD) a PTE table. */
const C_NONE = -1;
const C_HUGETLB = 4;
const C_TABLE = 5;

/**
 * What the checker counts from the page tables and the page cache itself,
 * never trusting the engine's bookkeeping: PTE and PMD mappings and
 * page-cache references per pfn, and the entries of any kind that point into
 * each pfn (so that a change to a page's flags re-checks the entries that
 * map it). `dirty` collects the pfns whose counts changed.
 */
class tally {
  readonly pte_maps: Int32Array;
  readonly pmd_maps: Int32Array;
  readonly cache_refs: Int32Array;
  readonly entries: Int32Array;
  /** Entries pointing into each pageblock (a large folio's entries depend on its head's flags). */
  readonly block_entries: Int32Array;
  readonly dirty: Uint8Array;
  readonly dirty_list: number[] = [];
  constructor(readonly n: number) {
    this.pte_maps = new Int32Array(n);
    this.pmd_maps = new Int32Array(n);
    this.cache_refs = new Int32Array(n);
    this.entries = new Int32Array(n);
    this.block_entries = new Int32Array(Math.ceil(n / HPAGE_PMD_NR));
    this.dirty = new Uint8Array(n);
  }
  mark(pfn: number): void {
    if (pfn >= 0 && pfn < this.n && !this.dirty[pfn]) {
      this.dirty[pfn] = 1;
      this.dirty_list.push(pfn);
    }
  }
  entry(pfn: number, d: number): void {
    if (pfn < 0 || pfn >= this.n) return;
    this.entries[pfn] += d;
    this.block_entries[pfn >> HPAGE_PMD_ORDER] += d;
  }
  clear_dirty(): void {
    for (const pfn of this.dirty_list) this.dirty[pfn] = 0;
    this.dirty_list.length = 0;
  }
}

/** One PMD slot as the checker last saw it: the value, what it counted in, and a copy of its PTE table. */
interface pmd_shadow {
  pmd: number;
  code: number;
  table: Uint32Array | null;
  codes: Int8Array | null;
  /** The live table the copy was taken of, and byte views of both for a memcmp. */
  live: Uint32Array | null;
  live_bytes: Buffer | null;
  copy_bytes: Buffer | null;
}

/** An mm's counts as the checker keeps them: rss and hugetlb usage from its own walk, and its PMD slots. */
interface mm_shadow {
  readonly rss: Int32Array;
  hugetlb_usage: number;
  readonly pmds: Map<number, pmd_shadow>;
  /** [vm_start, vm_end, hugetlb] per VMA: what find_vma answers for a PMD's hugetlb check. */
  vmas: number[];
}

const where_pte = (mm: mm_struct, idx: number, i: number): string => `PTE ${i} of PMD #${idx} in mm ${mm.id}`;

/**
 * A writable entry of an anonymous folio (head) maps pfn, which is not
 * PageAnonExclusive: the rule 'a writable anonymous PTE maps an exclusive page'
 * broken, by a PTE, a huge PMD or a hugetlb huge PTE alike.
 */
const writable_shared_anon = (mem: Machine['mem'], entry: number, head: number, pfn: number): boolean =>
  pte_write(entry) && (mem.flags[head] & PG_anon) !== 0 && !(mem.flags[pfn] & PG_anon_exclusive);
const counter_of = (m: Machine, pfn: number): number =>
  m.mem.flags[pfn] & PG_anon ? MM_ANONPAGES : m.mem.flags[pfn] & PG_swapbacked ? MM_SHMEMPAGES : MM_FILEPAGES;
const head_of = (m: Machine, pfn: number): number =>
  m.mem.flags[pfn] & PG_tail ? pfn & ~(HPAGE_PMD_NR - 1) : pfn;
const is_private = (m: Machine, pfn: number): boolean =>
  m.mem.pgmap[pfn] !== 0 && m.pgmaps[m.mem.pgmap[pfn]]?.type === MEMORY_DEVICE_PRIVATE;
/** The pfn an entry points at (present or not), or -1. */
const entry_pfn = (pte: number): number =>
  pte === 0 ? -1 : pte_present(pte) ? pte_pfn(pte) : swp_offset_pfn(pte);

/**
 * One PTE: added (its checks, then what it counts), or removed (what it
 * counted when it was added, `code`). Returns the rss counter it counts in.
 */
function account_pte(
  m: Machine,
  t: tally,
  s: mm_shadow,
  mm: mm_struct,
  idx: number,
  i: number,
  pte: number,
  add: boolean,
  code: number,
): number {
  const mem = m.mem;
  const d = add ? 1 : -1;
  if (pte_present(pte)) {
    const pfn = pte_pfn(pte);
    t.entry(pfn, d);
    if (add && mem.pgmap[pfn] !== 0 && !m.pgmaps[mem.pgmap[pfn]])
      violation(m, 'a PTE never maps memory whose pagemap is gone', pfn, where_pte(mm, idx, i));
    if (is_zero_pfn(m, pfn) || pte_special(pte)) {
      /* A special PTE of a PFN map or an old-design DAX page may be writable; the zero page never. */
      if (add && pte_write(pte) && is_zero_pfn(m, pfn))
        violation(m, 'the zero page is never writable', pfn, where_pte(mm, idx, i));
      return C_NONE;
    }
    if (add) {
      if (mem.flags[pfn] & PG_buddy) violation(m, 'no mapping of a free page', pfn, where_pte(mm, idx, i));
      if (is_private(m, pfn))
        violation(m, 'a present PTE never maps device-private memory', pfn, where_pte(mm, idx, i));
      if (mem.flags[head_of(m, pfn)] & PG_hugetlb)
        violation(
          m,
          'a hugetlb folio is mapped only by a hugetlb VMA',
          pfn,
          `${where_pte(mm, idx, i)} maps it by a PTE`,
        );
    }
    t.pte_maps[pfn] += d;
    t.mark(pfn);
    const c = add ? counter_of(m, head_of(m, pfn)) : code;
    s.rss[c] += d;
    if (add && writable_shared_anon(mem, pte, head_of(m, pfn), pfn))
      violation(m, 'a writable anonymous PTE maps an exclusive page', pfn, where_pte(mm, idx, i));
    return c;
  }
  const pfn = swp_offset_pfn(pte);
  t.entry(pfn, d);
  if (add) {
    if (mem.flags[pfn] & PG_buddy)
      violation(m, 'no mapping of a free page', pfn, `${softleaf_type_of(pte)} ${where_pte(mm, idx, i)}`);
    if (is_device_private_entry(pte) && !is_private(m, pfn))
      violation(m, 'a device-private entry points to device-private memory', pfn, where_pte(mm, idx, i));
    if (is_device_exclusive_entry(pte) && is_private(m, pfn))
      violation(
        m,
        'a device-exclusive entry maps a page in CPU-addressable memory',
        pfn,
        where_pte(mm, idx, i),
      );
    if (is_migration_entry(pte) && !(mem.flags[head_of(m, pfn)] & PG_locked))
      violation(
        m,
        'a migration entry exists only while a migration is in progress',
        pfn,
        `${softleaf_type_of(pte)} ${where_pte(mm, idx, i)}, folio unlocked`,
      );
  }
  if (is_device_private_entry(pte) || is_device_exclusive_entry(pte)) {
    t.pte_maps[pfn] += d;
    t.mark(pfn);
  }
  const c = add ? counter_of(m, head_of(m, pfn)) : code;
  s.rss[c] += d;
  return c;
}

/** One PMD slot that is not a PTE table (or, added, the hugetlb check of one that is): as account_pte. */
function account_pmd(
  m: Machine,
  t: tally,
  s: mm_shadow,
  mm: mm_struct,
  idx: number,
  pmd: number,
  add: boolean,
  code: number,
): number {
  const mem = m.mem;
  const d = add ? 1 : -1;
  let hugetlb = code === C_HUGETLB;
  if (add) {
    const vma = find_vma(mm, idx * PMD_SIZE);
    hugetlb = vma !== null && is_vm_hugetlb_page(vma);
    if (hugetlb && !pmd_trans_huge(pmd))
      violation(
        m,
        'a hugetlb folio is mapped only by a hugetlb VMA',
        -1,
        `PMD #${idx} of hugetlb VMA in mm ${mm.id} is not a huge PTE`,
      );
  }
  if (pmd_trans_huge(pmd)) {
    const folio = pmd_pfn(pmd);
    t.entry(folio, d);
    if (add) {
      if (mem.flags[folio] & PG_buddy)
        violation(m, 'no mapping of a free page', folio, `huge PMD #${idx} of mm ${mm.id}`);
      if (hugetlb !== ((mem.flags[folio] & PG_hugetlb) !== 0))
        violation(
          m,
          'a hugetlb folio is mapped only by a hugetlb VMA',
          folio,
          `huge PMD #${idx} of mm ${mm.id}, in a ${hugetlb ? '' : 'non-'}hugetlb VMA`,
        );
    }
    if (hugetlb) {
      /* A huge PTE: mapcount as a PMD mapping, hugetlb_usage instead of rss. */
      t.pmd_maps[folio] += d;
      t.mark(folio);
      s.hugetlb_usage += d * HPAGE_PMD_NR;
      if (add && writable_shared_anon(mem, pmd, folio, folio))
        violation(
          m,
          'a writable anonymous PTE maps an exclusive page',
          folio,
          `writable huge PTE #${idx} of mm ${mm.id}`,
        );
      return C_HUGETLB;
    }
    if (is_huge_zero_pfn(m, folio)) {
      if (add && pte_write(pmd))
        violation(m, 'the zero page is never writable', folio, `huge zero PMD #${idx} of mm ${mm.id}`);
      return C_NONE;
    }
    t.pmd_maps[folio] += d;
    t.mark(folio);
    const c = add ? counter_of(m, folio) : code;
    s.rss[c] += d * HPAGE_PMD_NR;
    if (add && writable_shared_anon(mem, pmd, folio, folio))
      violation(
        m,
        'a writable anonymous PTE maps an exclusive page',
        folio,
        `writable huge PMD #${idx} of mm ${mm.id}`,
      );
    return c;
  }
  if (pmd_is_table(pmd)) return C_TABLE;
  if (add && !is_valid_pmd_softleaf(pmd))
    violation(
      m,
      'PMD non-present entries are migration or device-private',
      -1,
      `${softleaf_type_of(pmd)} in PMD #${idx} of mm ${mm.id}`,
    );
  const pfn = swp_offset_pfn(pmd);
  t.entry(pfn, d);
  if (!is_migration_entry(pmd)) {
    t.pmd_maps[pfn] += d;
    t.mark(pfn);
  }
  const c = add ? counter_of(m, pfn) : code;
  s.rss[c] += d * HPAGE_PMD_NR;
  return c;
}

function new_mm_shadow(): mm_shadow {
  return { rss: new Int32Array(NR_MM_COUNTERS), hugetlb_usage: 0, pmds: new Map(), vmas: [] };
}

/** validate_mm (mm/vma.c, CONFIG_DEBUG_VM_MAPLE_TREE): the VMA tree holds sorted, disjoint, non-empty VMAs. */
function check_vmas(m: Machine, mm: mm_struct): void {
  for (let i = 0; i < mm.mmap.length; i++) {
    const vma = mm.mmap[i];
    const prev = mm.mmap[i - 1];
    if (vma.vm_start >= vma.vm_end || vma.vm_start % PAGE_SIZE || vma.vm_end % PAGE_SIZE)
      violation(
        m,
        'the VMAs of an mm are sorted and disjoint',
        -1,
        `mm ${mm.id}: VMA ${i} spans 0x${vma.vm_start.toString(16)}-0x${vma.vm_end.toString(16)}`,
      );
    if (prev && prev.vm_end > vma.vm_start)
      violation(
        m,
        'the VMAs of an mm are sorted and disjoint',
        -1,
        `mm ${mm.id}: VMA ${i - 1} (0x${prev.vm_start.toString(16)}-0x${prev.vm_end.toString(16)}) overlaps or follows VMA ${i} (0x${vma.vm_start.toString(16)}-0x${vma.vm_end.toString(16)})`,
      );
  }
}

/** Add one PMD slot with its PTE table (checking each entry); `keep` stores the copies an incremental check diffs against. */
function add_pmd_slot(
  m: Machine,
  t: tally,
  s: mm_shadow,
  mm: mm_struct,
  idx: number,
  pmd: number,
  keep: boolean,
): void {
  const code = account_pmd(m, t, s, mm, idx, pmd, true, C_NONE);
  if (code !== C_TABLE) {
    if (keep)
      s.pmds.set(idx, {
        pmd,
        code,
        table: null,
        codes: null,
        live: null,
        live_bytes: null,
        copy_bytes: null,
      });
    return;
  }
  const live = mm.pte_tables.get(idx) as Uint32Array;
  const codes = keep ? new Int8Array(PTRS_PER_PTE) : null;
  for (let i = 0; i < PTRS_PER_PTE; i++) {
    const pte = live[i];
    if (pte === 0) continue;
    const c = account_pte(m, t, s, mm, idx, i, pte, true, C_NONE);
    if (codes) codes[i] = c;
  }
  if (!keep) return;
  const table = live.slice();
  s.pmds.set(idx, { pmd, code, table, codes, live, live_bytes: bytes(live), copy_bytes: bytes(table) });
}

/** Remove one PMD slot as the checker last saw it. */
function remove_pmd_slot(
  m: Machine,
  t: tally,
  s: mm_shadow,
  mm: mm_struct,
  idx: number,
  p: pmd_shadow,
): void {
  if (p.table && p.codes) {
    for (let i = 0; i < PTRS_PER_PTE; i++)
      if (p.table[i] !== 0) account_pte(m, t, s, mm, idx, i, p.table[i], false, p.codes[i]);
  } else account_pmd(m, t, s, mm, idx, p.pmd, false, p.code);
  s.pmds.delete(idx);
}

const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Walk everything: the page tables (each entry checked) and the page cache, into t and a shadow per mm. */
function walk_all(m: Machine, t: tally, keep: boolean): Map<mm_struct, mm_shadow> {
  for (const mapping of m.address_spaces.values())
    for (const pfn of mapping.i_pages) if (pfn >= 0) t.cache_refs[pfn]++;
  const shadows = new Map<mm_struct, mm_shadow>();
  for (const mm of m.mms) {
    check_vmas(m, mm);
    const s = new_mm_shadow();
    if (keep) s.vmas = vma_signature(mm);
    for (const [idx, pmd] of mm.pmd) add_pmd_slot(m, t, s, mm, idx, pmd, keep);
    shadows.set(mm, s);
  }
  return shadows;
}

function vma_signature(mm: mm_struct): number[] {
  const sig: number[] = [];
  for (const vma of mm.mmap) sig.push(vma.vm_start, vma.vm_end, is_vm_hugetlb_page(vma) ? 1 : 0);
  return sig;
}

/** The per-page rules of one pfn (a folio's are checked at its head). */
function check_pfn(m: Machine, t: tally, pfn: number): void {
  const mem = m.mem;
  const flags = mem.flags[pfn];
  if (flags & PG_buddy) {
    if (mem._refcount[pfn] !== 0 || mem._mapcount[pfn] !== 0)
      violation(m, 'free pages hold nothing', pfn, 'on a free list');
    return;
  }
  if (flags & PG_reserved) return;
  if (mem.pgmap[pfn] !== 0) {
    const pgmap = m.pgmaps[mem.pgmap[pfn]];
    const inside = pgmap && pfn >= pgmap.range.start && pfn < pgmap.range.start + pgmap.range.nr;
    if (!inside && (mem._refcount[pfn] !== 0 || t.pte_maps[pfn] !== 0))
      violation(
        m,
        'a device page lies in its pagemap range',
        pfn,
        pgmap ? `outside pagemap ${pgmap.id}` : 'its pagemap was removed',
      );
    check_dax_page(m, pfn, t.pte_maps);
  }
  if (flags & PG_tail) {
    if (mem._refcount[pfn] !== 0)
      violation(m, 'tail pages hold no references', pfn, 'tail page with a refcount');
    return;
  }
  check_folio(m, pfn, t.pte_maps, t.pmd_maps, t.cache_refs);
}

/** The rules about the whole machine rather than one page: pins, the hugetlb pool, rss, drivers, deferred split. */
function check_globals(
  m: Machine,
  shadows: Map<mm_struct, mm_shadow>,
  dirty: readonly number[] | null,
): void {
  const mem = m.mem;
  for (const [folio, { pins, longterm }] of m.debug_pins) {
    if (mem.flags[folio] & PG_head) {
      if (mem._pincount[folio >> HPAGE_PMD_ORDER] !== pins)
        violation(m, 'a large folio counts its pins exactly', folio, `${pins} pins handed out`);
    } else if (mem._refcount[folio] < pins * GUP_PIN_COUNTING_BIAS)
      violation(
        m,
        'a pin holds GUP_PIN_COUNTING_BIAS references on a small folio',
        folio,
        `${pins} pins handed out`,
      );
    if (longterm > 0 && mem.pgmap[folio] !== 0 && m.pgmaps[mem.pgmap[folio]]?.type !== MEMORY_DEVICE_GENERIC)
      violation(m, 'a long-term pinned page is never in ZONE_DEVICE', folio, `${longterm} long-term pins`);
  }
  check_hugetlb_pool(m);
  for (const mm of m.mms) {
    const s = shadows.get(mm) as mm_shadow;
    if (s.hugetlb_usage !== mm.hugetlb_usage)
      violation(
        m,
        'hugetlb usage matches the page tables',
        -1,
        `mm ${mm.id} hugetlb_usage is ${mm.hugetlb_usage}, its huge PTEs map ${s.hugetlb_usage}`,
      );
    for (let c = 0; c < NR_MM_COUNTERS; c++)
      if (s.rss[c] !== mm.rss_stat[c])
        violation(
          m,
          'rss counters match the page tables',
          -1,
          `mm ${mm.id} ${MM_COUNTER_NAMES[c]} is ${mm.rss_stat[c]}, page tables map ${s.rss[c]}`,
        );
  }
  for (const check of m.driver_checks) check(m, dirty);
  for (const folio of m.deferred_split_queue)
    if (!(mem.flags[folio] & PG_head) || !folio_test_anon(m, folio))
      violation(m, 'deferred split holds anonymous large folios', folio, 'queued for deferred split');
}

/** Check every invariant against the whole machine; throws a KernelInvariantViolation naming the first one broken. */
export function debug_vm_check(m: Machine): void {
  const t = new tally(m.mem.nr_pfns);
  const shadows = walk_all(m, t, false);
  /* The per-page rules come first: a broken refcount is the cause, a wrong rss counter its echo. */
  for (let pfn = 0; pfn < t.n; pfn++) check_pfn(m, t, pfn);
  check_globals(m, shadows, null);
}

/* ---------------- the incremental checker ---------------- */

/** The per-page fields the invariants read, per pfn and per pageblock. */
const PFN_FIELDS = ['_refcount', '_mapcount', 'flags', 'pgmap'] as const;
const BLOCK_FIELDS = ['_entire_mapcount', '_large_mapcount', '_pincount'] as const;
type field = (typeof PFN_FIELDS)[number] | (typeof BLOCK_FIELDS)[number];

/** What the incremental checker last saw of one machine. */
interface shadow_state {
  readonly t: tally;
  readonly mms: Map<mm_struct, mm_shadow>;
  readonly copies: Map<field, Int32Array | Uint16Array | Uint8Array>;
  readonly cache: Map<address_space, Int32Array>;
  pins: Map<number, string>;
  gets: Map<number, number>;
  pgmaps: string[];
  ops: number;
}
const kept = new WeakMap<Machine, shadow_state>();

/** Check everything, then keep what was seen for the next incremental checks. */
function full_and_keep(m: Machine): void {
  kept.delete(m);
  debug_vm_check(m);
  const t = new tally(m.mem.nr_pfns);
  const mms = walk_all(m, t, true);
  const copies = new Map<field, Int32Array | Uint16Array | Uint8Array>();
  for (const f of [...PFN_FIELDS, ...BLOCK_FIELDS]) copies.set(f, m.mem[f].slice());
  const cache = new Map<address_space, Int32Array>();
  for (const mapping of m.address_spaces.values()) cache.set(mapping, mapping.i_pages.slice());
  kept.set(m, {
    t,
    mms,
    copies,
    cache,
    pins: pins_of(m),
    gets: new Map(m.debug_gets),
    pgmaps: pgmaps_of(m),
    ops: 0,
  });
  for (const check of m.driver_checks) check(m, null);
}

const pins_of = (m: Machine): Map<number, string> =>
  new Map([...m.debug_pins].map(([pfn, p]) => [pfn, `${p.pins}/${p.longterm}`]));
const pgmaps_of = (m: Machine): string[] =>
  m.pgmaps.map((p) => (p ? `${p.type}:${p.range.start}:${p.range.nr}:${p.dying}:${p.removed}` : ''));

/**
 * Calls back each pageblock where `cur` and `old` differ, found by halving
 * memcmp ranges, so that an unchanged array costs one native compare.
 */
function changed_blocks(
  cur: ArrayBufferView,
  old: ArrayBufferView,
  per_block: number,
  nblocks: number,
  cb: (b: number) => void,
): void {
  const a = bytes(cur);
  const b = bytes(old);
  const unit = (cur as Int32Array).BYTES_PER_ELEMENT * per_block;
  const len = Math.min(a.length, b.length);
  const visit = (lo: number, hi: number): void => {
    const s = lo * unit;
    const e = Math.min(hi * unit, len);
    if (s >= e || a.compare(b, s, e, s, e) === 0) return;
    if (hi - lo === 1) {
      cb(lo);
      return;
    }
    const mid = (lo + hi) >> 1;
    visit(lo, mid);
    visit(mid, hi);
  };
  visit(0, nblocks);
}

function cache_ref(t: tally, pfn: number, d: number): void {
  t.cache_refs[pfn] += d;
  t.mark(pfn);
}

/**
 * The checks of one operation: what changed since the last check (the
 * per-page fields, page-table entries, page-cache slots, pins, pagemaps) is
 * found by comparing with copies; the checker's own counts are updated by
 * what each changed entry adds and removes, each added entry is checked, and
 * so is every page whose fields or counts changed. The rules about the whole
 * machine are cheap and checked every time.
 */
function incremental(m: Machine, st: shadow_state): void {
  const mem = m.mem;
  const t = st.t;
  const nblocks = Math.ceil(t.n / HPAGE_PMD_NR);
  /* Pages whose flags or pagemap changed: the entries pointing at them are checked again. */
  const recheck_pfns = new Set<number>();
  const recheck_blocks = new Set<number>();

  for (const f of PFN_FIELDS) {
    const cur = mem[f];
    const old = st.copies.get(f) as typeof cur;
    changed_blocks(cur, old, HPAGE_PMD_NR, nblocks, (b) => {
      const end = Math.min((b + 1) * HPAGE_PMD_NR, t.n);
      for (let pfn = b * HPAGE_PMD_NR; pfn < end; pfn++) {
        if (cur[pfn] === old[pfn]) continue;
        t.mark(pfn);
        if (f === 'flags' || f === 'pgmap') {
          if (t.entries[pfn] > 0) recheck_pfns.add(pfn);
          if ((cur[pfn] | old[pfn]) & PG_head && t.block_entries[b] > 0) recheck_blocks.add(b);
        }
        old[pfn] = cur[pfn];
      }
    });
  }
  for (const f of BLOCK_FIELDS) {
    const cur = mem[f];
    const old = st.copies.get(f) as typeof cur;
    changed_blocks(cur, old, 1, nblocks, (b) => {
      t.mark(b * HPAGE_PMD_NR);
      old[b] = cur[b];
    });
  }
  const pgmaps = pgmaps_of(m);
  for (let id = 1; id < Math.max(pgmaps.length, st.pgmaps.length); id++) {
    if (pgmaps[id] === st.pgmaps[id]) continue;
    for (const sig of [pgmaps[id], st.pgmaps[id]]) {
      if (!sig) continue;
      const [, start, nr] = sig.split(':').map(Number);
      for (let pfn = start; pfn < start + nr && pfn < t.n; pfn++) {
        t.mark(pfn);
        if (t.entries[pfn] > 0) recheck_pfns.add(pfn);
      }
    }
  }
  st.pgmaps = pgmaps;

  /* Page cache: each slot that changed moves a reference. */
  for (const mapping of m.address_spaces.values()) {
    const cur = mapping.i_pages;
    const old = st.cache.get(mapping);
    if (old && old.length === cur.length && bytes(old).equals(bytes(cur))) continue;
    if (old) for (const pfn of old) if (pfn >= 0) cache_ref(t, pfn, -1);
    for (const pfn of cur) if (pfn >= 0) cache_ref(t, pfn, 1);
    st.cache.set(mapping, cur.slice());
  }
  for (const [mapping, old] of st.cache)
    if (!m.address_spaces.has(mapping.id) || m.address_spaces.get(mapping.id) !== mapping) {
      for (const pfn of old) if (pfn >= 0) cache_ref(t, pfn, -1);
      st.cache.delete(mapping);
    }

  /* Pins and FOLL_GET references: check_dax_page and the pin rules read them. */
  const pins = pins_of(m);
  for (const [pfn, p] of pins) if (st.pins.get(pfn) !== p) t.mark(pfn);
  for (const pfn of st.pins.keys()) if (!pins.has(pfn)) t.mark(pfn);
  st.pins = pins;
  for (const [pfn, g] of m.debug_gets) if (st.gets.get(pfn) !== g) t.mark(pfn);
  for (const pfn of st.gets.keys()) if (!m.debug_gets.has(pfn)) t.mark(pfn);
  st.gets = new Map(m.debug_gets);

  /* Page tables: an mm gone takes its entries with it; each changed slot is removed as it was and added as it is. */
  for (const [mm, s] of st.mms)
    if (!m.mms.has(mm)) {
      for (const [idx, p] of [...s.pmds]) remove_pmd_slot(m, t, s, mm, idx, p);
      st.mms.delete(mm);
    }
  for (const mm of m.mms) {
    check_vmas(m, mm);
    let s = st.mms.get(mm);
    if (!s) {
      s = new_mm_shadow();
      st.mms.set(mm, s);
    }
    const vmas = vma_signature(mm);
    const vmas_changed = vmas.length !== s.vmas.length || vmas.some((v, i) => v !== s.vmas[i]);
    s.vmas = vmas;
    for (const [idx, p] of [...s.pmds]) {
      const pmd = mm.pmd.get(idx);
      if (pmd === undefined || pmd !== p.pmd || vmas_changed) remove_pmd_slot(m, t, s, mm, idx, p);
      else if (p.table && p.codes) {
        const live = mm.pte_tables.get(idx) as Uint32Array;
        if (live !== p.live) {
          p.live = live;
          p.live_bytes = bytes(live);
        }
        if ((p.live_bytes as Buffer).equals(p.copy_bytes as Buffer)) continue;
        for (let i = 0; i < PTRS_PER_PTE; i++) {
          if (live[i] === p.table[i]) continue;
          if (p.table[i] !== 0) account_pte(m, t, s, mm, idx, i, p.table[i], false, p.codes[i]);
          p.table[i] = live[i];
          if (live[i] !== 0) p.codes[i] = account_pte(m, t, s, mm, idx, i, live[i], true, C_NONE);
        }
      }
    }
    for (const [idx, pmd] of mm.pmd) if (!s.pmds.has(idx)) add_pmd_slot(m, t, s, mm, idx, pmd, true);
  }

  /* Entries whose page's flags or pagemap changed under them: removed as they counted, added as they count now. */
  if (recheck_pfns.size || recheck_blocks.size) {
    const hit = (pfn: number) =>
      pfn >= 0 && (recheck_pfns.has(pfn) || recheck_blocks.has(pfn >> HPAGE_PMD_ORDER));
    for (const [mm, s] of st.mms)
      for (const [idx, p] of s.pmds) {
        if (!p.table || !p.codes) {
          if (!hit(entry_pfn(p.pmd))) continue;
          account_pmd(m, t, s, mm, idx, p.pmd, false, p.code);
          p.code = account_pmd(m, t, s, mm, idx, p.pmd, true, C_NONE);
          continue;
        }
        for (let i = 0; i < PTRS_PER_PTE; i++) {
          const pte = p.table[i];
          if (pte === 0 || !hit(entry_pfn(pte))) continue;
          account_pte(m, t, s, mm, idx, i, pte, false, p.codes[i]);
          p.codes[i] = account_pte(m, t, s, mm, idx, i, pte, true, C_NONE);
        }
      }
  }

  /* Every page whose fields or counts changed, and the head of each such tail (check_folio covers its folio). */
  const dirty = t.dirty_list.slice().sort((a, b) => a - b);
  /* Sorted, so a folio's dirty tails follow its head: check_folio runs once per folio. */
  let folio = -1;
  for (const pfn of dirty) {
    check_pfn(m, t, pfn);
    if (!(mem.flags[pfn] & PG_tail)) folio = pfn;
    else if ((pfn & ~(HPAGE_PMD_NR - 1)) !== folio) {
      folio = pfn & ~(HPAGE_PMD_NR - 1);
      check_pfn(m, t, folio);
    }
  }
  t.clear_dirty();
  check_globals(m, st.mms, dirty);
}

/**
 * debug_vm after one operation, as the mode says. In incremental mode a
 * broken rule is reported as the full check reports it (the first rule in
 * its order, with its pfn), so both modes name the same rule at the same op;
 * the next operation starts from a full check again.
 */
export function debug_vm_after_op(m: Machine): void {
  if (mode === 'off') return;
  if (mode === 'full') {
    debug_vm_check(m);
    return;
  }
  const st = kept.get(m);
  if (!st || st.t.n !== m.mem.nr_pfns || ++st.ops >= DEBUG_VM_FULL_EVERY) {
    full_and_keep(m);
    return;
  }
  try {
    incremental(m, st);
  } catch (err) {
    kept.delete(m);
    if (!(err instanceof KernelInvariantViolation)) throw err;
    debug_vm_check(m);
    throw new Error(
      `debug_vm: the incremental check found ${err.message}, but the full check finds every rule holding`,
    );
  }
}

/** The end of a scenario or a sequence: every rule, against the whole machine (any mode but 'off'). */
export function debug_vm_finish(m: Machine): void {
  kept.delete(m);
  if (mode !== 'off') debug_vm_check(m);
}

/**
 * The hugetlb pool's counters against the folios themselves: every hugetlb
 * folio is counted, the free list holds exactly the unreferenced ones, and
 * the reservations add up (hugetlb_outstanding_reservations).
 */
function check_hugetlb_pool(m: Machine): void {
  const mem = m.mem;
  const h = m.hstate;
  const free = new Set(h.hugepage_freelist);
  let total = 0;
  for (let pfn = 0; pfn < mem.nr_pfns; pfn += HPAGE_PMD_NR) {
    if (!(mem.flags[pfn] & PG_hugetlb)) continue;
    total++;
    const idle = mem._refcount[pfn] === 0;
    if (idle !== free.has(pfn))
      violation(
        m,
        'the hugetlb pool accounts for every huge page',
        pfn,
        `refcount ${mem._refcount[pfn]}, ${free.has(pfn) ? 'on' : 'not on'} the free list`,
      );
  }
  const detail = `${total} hugetlb folios; HugePages_Total ${h.nr_huge_pages}, _Free ${h.free_huge_pages} (${free.size} listed), _Rsvd ${h.resv_huge_pages}`;
  if (
    total !== h.nr_huge_pages ||
    free.size !== h.free_huge_pages ||
    free.size !== h.hugepage_freelist.length
  )
    violation(m, 'the hugetlb pool accounts for every huge page', -1, detail);
  const outstanding = hugetlb_outstanding_reservations(m);
  if (h.resv_huge_pages !== outstanding || h.resv_huge_pages > h.free_huge_pages)
    violation(
      m,
      'the hugetlb pool accounts for every huge page',
      -1,
      `${detail}; private mappings hold ${outstanding} reservations`,
    );
}

function check_folio(
  m: Machine,
  folio: number,
  pte_maps: Int32Array,
  pmd_maps: Int32Array,
  cache_refs: Int32Array,
): void {
  const mem = m.mem;
  const large = (mem.flags[folio] & PG_head) !== 0;
  const nr = large ? HPAGE_PMD_NR : 1;
  const b = folio >> HPAGE_PMD_ORDER;
  const anon = (mem.flags[folio] & PG_anon) !== 0;
  let mappings = large ? pmd_maps[folio] : 0;
  for (let i = 0; i < nr; i++) {
    const page = folio + i;
    if (mem._mapcount[page] !== pte_maps[page])
      violation(
        m,
        'mapcount matches the page tables',
        page,
        `mapcount ${mem._mapcount[page]} but ${pte_maps[page]} PTE mappings`,
      );
    mappings += pte_maps[page];
    if (mem.flags[page] & PG_anon_exclusive) {
      if (!anon)
        violation(m, 'PageAnonExclusive only on anonymous pages', page, 'AE on a non-anonymous page');
      if (!large && pte_maps[page] > 1)
        violation(m, 'an exclusive page is mapped once', page, `AE page mapped ${pte_maps[page]} times`);
    }
  }
  if (large) {
    if (mem._entire_mapcount[b] !== pmd_maps[folio])
      violation(
        m,
        'mapcount matches the page tables',
        folio,
        `entire mapcount ${mem._entire_mapcount[b]} but ${pmd_maps[folio]} PMD mappings`,
      );
    if (mem._large_mapcount[b] !== mappings)
      violation(
        m,
        'mapcount matches the page tables',
        folio,
        `large mapcount ${mem._large_mapcount[b]} but ${mappings} mappings`,
      );
  }
  const ref = mem._refcount[folio];
  if (mappings > 0 && ref === 0)
    violation(m, 'a mapped page is never at refcount 0', folio, `${mappings} mappings`);
  const expected = mappings + cache_refs[folio] + (large ? mem._pincount[b] : 0);
  if (ref < expected)
    violation(
      m,
      'refcount covers every mapping',
      folio,
      `refcount ${ref} < ${mappings} mappings + ${cache_refs[folio]} cache + pins`,
    );
}

/**
 * The refcount each devmap design promised for a DAX page (seed 003), exact
 * because every reference is accounted: its mappings (fixed design only), the
 * pins and FOLL_GET references GUP handed out, and, in the old design, the
 * idle reference that memunmap_pages alone drops.
 */
function check_dax_page(m: Machine, pfn: number, pte_maps: Int32Array): void {
  const pgmap = m.pgmaps[m.mem.pgmap[pfn]];
  const old = m.config.devmap_refcount === 'old';
  if (!pgmap || !(pgmap.type === MEMORY_DEVICE_FS_DAX || (old && pgmap.type === MEMORY_DEVICE_GENERIC)))
    return;
  const gup = (m.debug_pins.get(pfn)?.pins ?? 0) * GUP_PIN_COUNTING_BIAS + (m.debug_gets.get(pfn) ?? 0);
  const ref = m.mem._refcount[pfn];
  if (old) {
    const idle = pgmap.dying ? 0 : 1;
    if (ref !== idle + gup)
      violation(
        m,
        'a devmap page holds its idle reference and none for its PTEs',
        pfn,
        `refcount ${ref}, expected ${idle} idle + ${gup} from GUP`,
      );
  } else if (ref !== pte_maps[pfn] + gup)
    violation(
      m,
      'an FS-DAX page holds its mappings and GUP references, nothing hidden',
      pfn,
      `refcount ${ref}, expected ${pte_maps[pfn]} mappings + ${gup} from GUP`,
    );
}
