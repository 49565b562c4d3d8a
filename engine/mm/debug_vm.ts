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

/** Check every invariant; throws a KernelInvariantViolation naming the first one broken. */
export function debug_vm_check(m: Machine): void {
  const mem = m.mem;
  const n = mem.nr_pfns;
  const pte_maps = new Int32Array(n);
  const pmd_maps = new Int32Array(n);
  const cache_refs = new Int32Array(n);

  for (const mapping of m.address_spaces.values())
    for (const pfn of mapping.i_pages) if (pfn >= 0) cache_refs[pfn]++;

  const is_private = (pfn: number): boolean =>
    mem.pgmap[pfn] !== 0 && m.pgmaps[mem.pgmap[pfn]]?.type === MEMORY_DEVICE_PRIVATE;
  const counter_of = (pfn: number): number =>
    mem.flags[pfn] & PG_anon ? MM_ANONPAGES : mem.flags[pfn] & PG_swapbacked ? MM_SHMEMPAGES : MM_FILEPAGES;
  const head_of = (pfn: number): number => (mem.flags[pfn] & PG_tail ? pfn & ~(HPAGE_PMD_NR - 1) : pfn);

  const rss_seen: [mm_struct, Int32Array, number][] = [];
  for (const mm of m.mms) {
    /* validate_mm (mm/vma.c, CONFIG_DEBUG_VM_MAPLE_TREE): the VMA tree holds sorted, disjoint, non-empty VMAs. */
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
    const rss = new Int32Array(NR_MM_COUNTERS);
    let hugetlb_usage = 0;
    for (const [idx, pmd] of mm.pmd) {
      const vma = find_vma(mm, idx * PMD_SIZE);
      const hugetlb = vma !== null && is_vm_hugetlb_page(vma);
      if (hugetlb && !pmd_trans_huge(pmd))
        violation(
          m,
          'a hugetlb folio is mapped only by a hugetlb VMA',
          -1,
          `PMD #${idx} of hugetlb VMA in mm ${mm.id} is not a huge PTE`,
        );
      if (pmd_trans_huge(pmd)) {
        const folio = pmd_pfn(pmd);
        if (mem.flags[folio] & PG_buddy)
          violation(m, 'no mapping of a free page', folio, `huge PMD #${idx} of mm ${mm.id}`);
        if (hugetlb !== ((mem.flags[folio] & PG_hugetlb) !== 0))
          violation(
            m,
            'a hugetlb folio is mapped only by a hugetlb VMA',
            folio,
            `huge PMD #${idx} of mm ${mm.id}, in a ${hugetlb ? '' : 'non-'}hugetlb VMA`,
          );
        if (hugetlb) {
          /* A huge PTE: mapcount as a PMD mapping, hugetlb_usage instead of rss. */
          pmd_maps[folio]++;
          hugetlb_usage += HPAGE_PMD_NR;
          if (pte_write(pmd) && mem.flags[folio] & PG_anon && !(mem.flags[folio] & PG_anon_exclusive))
            violation(
              m,
              'a writable anonymous PTE maps an exclusive page',
              folio,
              `writable huge PTE #${idx} of mm ${mm.id}`,
            );
          continue;
        }
        if (is_huge_zero_pfn(m, folio)) {
          if (pte_write(pmd))
            violation(m, 'the zero page is never writable', folio, `huge zero PMD #${idx} of mm ${mm.id}`);
          continue;
        }
        pmd_maps[folio]++;
        rss[counter_of(folio)] += HPAGE_PMD_NR;
        if (pte_write(pmd) && mem.flags[folio] & PG_anon && !(mem.flags[folio] & PG_anon_exclusive))
          violation(
            m,
            'a writable anonymous PTE maps an exclusive page',
            folio,
            `writable huge PMD #${idx} of mm ${mm.id}`,
          );
        continue;
      }
      if (!pmd_is_table(pmd)) {
        if (!is_valid_pmd_softleaf(pmd))
          violation(
            m,
            'PMD non-present entries are migration or device-private',
            -1,
            `${softleaf_type_of(pmd)} in PMD #${idx} of mm ${mm.id}`,
          );
        const pfn = swp_offset_pfn(pmd);
        if (!is_migration_entry(pmd)) pmd_maps[pfn]++;
        rss[counter_of(pfn)] += HPAGE_PMD_NR;
        continue;
      }
      const table = mm.pte_tables.get(idx) as Uint32Array;
      for (let i = 0; i < PTRS_PER_PTE; i++) {
        const pte = table[i];
        if (pte === 0) continue;
        const where = `PTE ${i} of PMD #${idx} in mm ${mm.id}`;
        if (pte_present(pte)) {
          const pfn = pte_pfn(pte);
          if (mem.pgmap[pfn] !== 0 && !m.pgmaps[mem.pgmap[pfn]])
            violation(m, 'a PTE never maps memory whose pagemap is gone', pfn, where);
          if (is_zero_pfn(m, pfn) || pte_special(pte)) {
            /* A special PTE of a PFN map or an old-design DAX page may be writable; the zero page never. */
            if (pte_write(pte) && is_zero_pfn(m, pfn))
              violation(m, 'the zero page is never writable', pfn, where);
            continue;
          }
          if (mem.flags[pfn] & PG_buddy) violation(m, 'no mapping of a free page', pfn, where);
          if (is_private(pfn)) violation(m, 'a present PTE never maps device-private memory', pfn, where);
          if (mem.flags[head_of(pfn)] & PG_hugetlb)
            violation(m, 'a hugetlb folio is mapped only by a hugetlb VMA', pfn, `${where} maps it by a PTE`);
          pte_maps[pfn]++;
          rss[counter_of(head_of(pfn))]++;
          if (pte_write(pte) && mem.flags[head_of(pfn)] & PG_anon && !(mem.flags[pfn] & PG_anon_exclusive))
            violation(m, 'a writable anonymous PTE maps an exclusive page', pfn, where);
          continue;
        }
        const pfn = swp_offset_pfn(pte);
        if (mem.flags[pfn] & PG_buddy)
          violation(m, 'no mapping of a free page', pfn, `${softleaf_type_of(pte)} ${where}`);
        if (is_device_private_entry(pte) && !is_private(pfn))
          violation(m, 'a device-private entry points to device-private memory', pfn, where);
        if (is_device_exclusive_entry(pte) && is_private(pfn))
          violation(m, 'a device-exclusive entry maps a page in CPU-addressable memory', pfn, where);
        if (is_migration_entry(pte) && !(mem.flags[head_of(pfn)] & PG_locked))
          violation(
            m,
            'a migration entry exists only while a migration is in progress',
            pfn,
            `${softleaf_type_of(pte)} ${where}, folio unlocked`,
          );
        if (is_device_private_entry(pte) || is_device_exclusive_entry(pte)) pte_maps[pfn]++;
        rss[counter_of(head_of(pfn))]++;
      }
    }
    rss_seen.push([mm, rss, hugetlb_usage]);
  }

  /* The per-page rules come first: a broken refcount is the cause, a wrong rss counter its echo. */
  for (let pfn = 0; pfn < n; pfn++) {
    const flags = mem.flags[pfn];
    if (flags & PG_buddy) {
      if (mem._refcount[pfn] !== 0 || mem._mapcount[pfn] !== 0)
        violation(m, 'free pages hold nothing', pfn, 'on a free list');
      continue;
    }
    if (flags & PG_reserved) continue;
    if (mem.pgmap[pfn] !== 0) {
      const pgmap = m.pgmaps[mem.pgmap[pfn]];
      const inside = pgmap && pfn >= pgmap.range.start && pfn < pgmap.range.start + pgmap.range.nr;
      if (!inside && (mem._refcount[pfn] !== 0 || pte_maps[pfn] !== 0))
        violation(
          m,
          'a device page lies in its pagemap range',
          pfn,
          pgmap ? `outside pagemap ${pgmap.id}` : 'its pagemap was removed',
        );
      check_dax_page(m, pfn, pte_maps);
    }
    if (flags & PG_tail) {
      if (mem._refcount[pfn] !== 0)
        violation(m, 'tail pages hold no references', pfn, 'tail page with a refcount');
      continue;
    }
    check_folio(m, pfn, pte_maps, pmd_maps, cache_refs);
  }

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
  for (const [mm, rss, hugetlb_usage] of rss_seen) {
    if (hugetlb_usage !== mm.hugetlb_usage)
      violation(
        m,
        'hugetlb usage matches the page tables',
        -1,
        `mm ${mm.id} hugetlb_usage is ${mm.hugetlb_usage}, its huge PTEs map ${hugetlb_usage}`,
      );
    for (let c = 0; c < NR_MM_COUNTERS; c++)
      if (rss[c] !== mm.rss_stat[c])
        violation(
          m,
          'rss counters match the page tables',
          -1,
          `mm ${mm.id} ${MM_COUNTER_NAMES[c]} is ${mm.rss_stat[c]}, page tables map ${rss[c]}`,
        );
  }
  for (const check of m.driver_checks) check(m);
  for (const folio of m.deferred_split_queue)
    if (!(mem.flags[folio] & PG_head) || !folio_test_anon(m, folio))
      violation(m, 'deferred split holds anonymous large folios', folio, 'queued for deferred split');
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
