/*
 * Mirrors fs/proc/task_mmu.c, the /proc/pid/pagemap part: pagemap_read walks
 * the page tables (pagemap_pmd_range, pagemap_pmd_range_thp,
 * pte_to_pagemap_entry, pagemap_pte_hole) and gives one 64-bit entry per
 * virtual page.
 * Kernel: linux-mm tree, late 2025, with Dev Jain's 2026 fix "fs/proc:
 * pagemap_pmd_range_thp() warns on device-private PMDs" applied: before it,
 * a device-private PMD met VM_WARN_ON_ONCE(!pmd_is_migration_entry(pmd)),
 * which hmm-tests migrate_anon_huge_fault was written to exercise.
 *
 * Simplified here: entries are bigints, read by virtual address rather than
 * through a file offset; the reader has CAP_SYS_ADMIN (show_pfn) unless told
 * otherwise. A swap-style entry's frame carries the engine's own swap type
 * numbers (swapops.ts), not the kernel's. No VM_SOFTDIRTY, uffd-wp or guard
 * regions.
 */

import { folio_test_anon, page_folio } from '../../include/linux/mm';
import {
  HPAGE_PMD_ORDER,
  type mm_struct,
  PAGE_SIZE,
  type vm_area_struct,
} from '../../include/linux/mm_types';
import {
  _PAGE_SOFT_DIRTY,
  pmd_is_table,
  pmd_none,
  pmd_pfn,
  pmd_present,
  pte_none,
  pte_pfn,
  pte_present,
} from '../../include/linux/pgtable';
import {
  is_pfn_swap_entry,
  pte_swp_soft_dirty,
  swp_offset,
  swp_offset_pfn,
  swp_type,
} from '../../include/linux/swapops';
import type { Machine } from '../../machine';
import { vm_normal_page } from '../../mm/memory';
import { find_vma } from '../../mm/mmap';
import { pmdp_get, pte_offset_map, ptep_get } from '../../mm/pgtable-generic';
import { folio_maybe_mapped_shared } from '../../mm/rmap';

export const PM_PFRAME_BITS = 55n;
export const PM_PFRAME_MASK = (1n << PM_PFRAME_BITS) - 1n;
export const PM_SOFT_DIRTY = 1n << 55n;
export const PM_MMAP_EXCLUSIVE = 1n << 56n;
export const PM_UFFD_WP = 1n << 57n;
export const PM_GUARD_REGION = 1n << 58n;
export const PM_FILE = 1n << 61n;
export const PM_SWAP = 1n << 62n;
export const PM_PRESENT = 1n << 63n;
const MAX_SWAPFILES_SHIFT = 5n;

/** make_pme. */
const make_pme = (frame: bigint, flags: bigint): bigint => (frame & PM_PFRAME_MASK) | flags;

/** The swap-style frame: the type in bits 0-4, the offset (or pfn) above. */
const swap_frame = (type: number, offset: number): bigint =>
  BigInt(type) | (BigInt(offset) << MAX_SWAPFILES_SHIFT);

/**
 * pagemap_read: the entries of nr_pages virtual pages from start_vaddr.
 * Pages outside any VMA, and holes, read 0 (pagemap_pte_hole).
 */
export function pagemap_read(
  m: Machine,
  mm: mm_struct,
  start_vaddr: number,
  nr_pages: number,
  show_pfn = true,
): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < nr_pages; i++) {
    const addr = start_vaddr + i * PAGE_SIZE;
    const vma = find_vma(mm, addr);
    const pmd = pmdp_get(mm, addr);
    if (!vma || pmd_none(pmd)) out.push(make_pme(0n, 0n));
    else if (!pmd_is_table(pmd)) out.push(pagemap_pmd_range_thp(m, addr, pmd, show_pfn));
    else {
      const table = pte_offset_map(mm, addr) as Uint32Array;
      out.push(pte_to_pagemap_entry(m, vma, addr, ptep_get(table, addr), show_pfn));
    }
  }
  return out;
}

/** pte_to_pagemap_entry: a present PTE gives PM_PRESENT and its pfn; a swap-style entry PM_SWAP. */
function pte_to_pagemap_entry(
  m: Machine,
  vma: vm_area_struct,
  addr: number,
  pte: number,
  show_pfn: boolean,
): bigint {
  let frame = 0n;
  let flags = 0n;
  let page = -1;
  if (pte_none(pte)) return make_pme(0n, 0n);
  if (pte_present(pte)) {
    if (show_pfn) frame = BigInt(pte_pfn(pte));
    flags |= PM_PRESENT;
    page = vm_normal_page(m, vma, addr, pte);
    if (pte & _PAGE_SOFT_DIRTY) flags |= PM_SOFT_DIRTY;
  } else {
    if (pte_swp_soft_dirty(pte)) flags |= PM_SOFT_DIRTY;
    const pfn_entry = is_pfn_swap_entry(pte);
    if (show_pfn) frame = swap_frame(swp_type(pte), pfn_entry ? swp_offset_pfn(pte) : swp_offset(pte));
    flags |= PM_SWAP;
    if (pfn_entry) page = swp_offset_pfn(pte);
  }
  if (page >= 0) {
    const folio = page_folio(m, page);
    if (!folio_test_anon(m, folio)) flags |= PM_FILE;
    if (flags & PM_PRESENT && !folio_maybe_mapped_shared(m, folio)) flags |= PM_MMAP_EXCLUSIVE;
  }
  return make_pme(frame, flags);
}

/**
 * pagemap_pmd_range_thp, for the page at addr under a huge PMD: a present
 * PMD gives PM_PRESENT and the subpage's pfn; a migration or device-private
 * PMD gives PM_SWAP (never PM_PRESENT), its frame the type and the
 * subpage's pfn.
 */
function pagemap_pmd_range_thp(m: Machine, addr: number, pmd: number, show_pfn: boolean): bigint {
  const idx = (addr / PAGE_SIZE) & ((1 << HPAGE_PMD_ORDER) - 1);
  let frame = 0n;
  let flags = 0n;
  let folio: number;
  if (pmd_present(pmd)) {
    folio = pmd_pfn(pmd);
    flags |= PM_PRESENT;
    if (pmd & _PAGE_SOFT_DIRTY) flags |= PM_SOFT_DIRTY;
    if (show_pfn) frame = BigInt(folio + idx);
  } else {
    folio = swp_offset_pfn(pmd);
    if (show_pfn) frame = swap_frame(swp_type(pmd), folio + idx);
    flags |= PM_SWAP;
    if (pte_swp_soft_dirty(pmd)) flags |= PM_SOFT_DIRTY;
  }
  folio = page_folio(m, folio);
  if (!folio_test_anon(m, folio)) flags |= PM_FILE;
  if (flags & PM_PRESENT && !folio_maybe_mapped_shared(m, folio)) flags |= PM_MMAP_EXCLUSIVE;
  return make_pme(frame, flags);
}
