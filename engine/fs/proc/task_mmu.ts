/*
 * Mirrors fs/proc/task_mmu.c, the /proc/pid/pagemap and clear_refs parts:
 * pagemap_read walks the page tables (pagemap_pmd_range,
 * pagemap_pmd_range_thp, pte_to_pagemap_entry, pagemap_pte_hole) and gives
 * one 64-bit entry per virtual page; clear_refs_write(CLEAR_REFS_SOFT_DIRTY)
 * starts soft-dirty tracking (cow.c's clear_softdirty()).
 * Kernel: linux-mm tree, late 2025, with Dev Jain's 2026 fix "fs/proc:
 * pagemap_pmd_range_thp() warns on device-private PMDs" applied: before it,
 * a device-private PMD met VM_WARN_ON_ONCE(!pmd_is_migration_entry(pmd)),
 * which hmm-tests migrate_anon_huge_fault was written to exercise.
 *
 * Simplified here: entries are bigints, read by virtual address rather than
 * through a file offset; the reader has CAP_SYS_ADMIN (show_pfn) unless told
 * otherwise. A swap-style entry's frame carries the engine's own swap type
 * numbers (swapops.ts), not the kernel's. No
 * uffd-wp or guard regions. clear_refs knows only CLEAR_REFS_SOFT_DIRTY.
 */

import {
  folio_maybe_dma_pinned,
  folio_test_anon,
  is_cow_mapping,
  page_folio,
  VM_PFNMAP,
  VM_SOFTDIRTY,
} from '../../include/linux/mm';
import {
  HPAGE_PMD_ORDER,
  MMF_HAS_PINNED,
  type mm_struct,
  PAGE_SIZE,
  PMD_SIZE,
  type vm_area_struct,
} from '../../include/linux/mm_types';
import {
  _PAGE_SOFT_DIRTY,
  pmd_clear_soft_dirty,
  pmd_is_table,
  pmd_none,
  pmd_pfn,
  pmd_present,
  pmd_trans_huge,
  pmd_wrprotect,
  pte_clear_soft_dirty,
  pte_none,
  pte_pfn,
  pte_present,
  pte_write,
  pte_wrprotect,
} from '../../include/linux/pgtable';
import {
  is_migration_entry,
  is_pfn_swap_entry,
  pte_swp_clear_soft_dirty,
  pte_swp_soft_dirty,
  swp_offset,
  swp_offset_pfn,
  swp_type,
} from '../../include/linux/swapops';
import type { Machine } from '../../machine';
import { vm_normal_page } from '../../mm/memory';
import { find_vma } from '../../mm/mmap';
import {
  mmu_notifier_invalidate_range_end,
  mmu_notifier_invalidate_range_start,
  mmu_notifier_range_init,
} from '../../mm/mmu_notifier';
import { pmdp_get, pte_offset_map, ptep_get, set_pmd_at } from '../../mm/pgtable-generic';
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
    /*
     * pagemap_pte_hole, pte_to_pagemap_entry, pagemap_pmd_range_thp: every
     * address of a VMA still marked VM_SOFTDIRTY (new, or grown, since the
     * last clear_refs) reads PM_SOFT_DIRTY, mapped or not, whatever its entry.
     */
    const vma_sd = vma && vma.vm_flags & VM_SOFTDIRTY ? PM_SOFT_DIRTY : 0n;
    if (!vma) out.push(make_pme(0n, 0n));
    else if (pmd_none(pmd)) out.push(make_pme(0n, vma_sd));
    else if (!pmd_is_table(pmd)) out.push(pagemap_pmd_range_thp(m, addr, pmd, show_pfn) | vma_sd);
    else {
      const table = pte_offset_map(mm, addr) as Uint32Array;
      out.push(pte_to_pagemap_entry(m, vma, addr, ptep_get(table, addr), show_pfn) | vma_sd);
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

/* ---------------- /proc/pid/clear_refs ---------------- */

export const CLEAR_REFS_SOFT_DIRTY = 4;

/**
 * pte_is_pinned: clear_refs leaves a writable PTE of a maybe-DMA-pinned page
 * in a COW mapping alone, since write-protecting it would break the pin at
 * the next CoW (Torvalds, 9348b73c2e1b).
 */
function pte_is_pinned(m: Machine, vma: vm_area_struct, addr: number, pte: number): boolean {
  if (!pte_write(pte)) return false;
  if (!is_cow_mapping(vma.vm_flags)) return false;
  if (!(vma.vm_mm.flags & MMF_HAS_PINNED)) return false;
  const page = vm_normal_page(m, vma, addr, pte);
  return page >= 0 && folio_maybe_dma_pinned(m, page_folio(m, page));
}

/**
 * clear_refs_write(CLEAR_REFS_SOFT_DIRTY), "echo 4 > /proc/pid/clear_refs":
 * every VMA loses VM_SOFTDIRTY (so soft-dirty tracking is on for it), every
 * present entry is write-protected and loses its soft-dirty bit
 * (clear_soft_dirty, clear_soft_dirty_pmd), so the next write faults and
 * sets it again, and a swap-style entry (a PMD one only if it is a
 * migration entry) loses its swap soft-dirty bit. Secondary MMUs see one MMU_NOTIFY_SOFT_DIRTY range over
 * the whole address space.
 */
export function clear_refs_soft_dirty(m: Machine, mm: mm_struct): void {
  for (const vma of mm.mmap) vma.vm_flags &= ~VM_SOFTDIRTY;
  const range = mmu_notifier_range_init('MMU_NOTIFY_SOFT_DIRTY', mm, 0, Number.MAX_SAFE_INTEGER);
  mmu_notifier_invalidate_range_start(range);
  for (const vma of mm.mmap) {
    /* clear_refs_test_walk */
    if (vma.vm_flags & VM_PFNMAP) continue;
    for (let addr = vma.vm_start; addr < vma.vm_end; ) {
      const next = Math.min(vma.vm_end, (Math.floor(addr / PMD_SIZE) + 1) * PMD_SIZE);
      const pmd = pmdp_get(mm, addr);
      if (pmd_trans_huge(pmd)) {
        /* clear_soft_dirty_pmd: pmdp_invalidate, then the old dirty and young bits, write-protected and clean of soft-dirty. */
        set_pmd_at(mm, addr, pmd_clear_soft_dirty(pmd_wrprotect(pmd)));
      } else if (is_migration_entry(pmd)) {
        set_pmd_at(mm, addr, pte_swp_clear_soft_dirty(pmd));
      } else if (pmd_is_table(pmd)) {
        const table = pte_offset_map(mm, addr) as Uint32Array;
        for (let a = addr; a < next; a += PAGE_SIZE) {
          const i = Math.floor(a / PAGE_SIZE) & 511;
          const pte = table[i];
          /* clear_soft_dirty */
          if (pte_none(pte)) continue;
          if (!pte_present(pte)) table[i] = pte_swp_clear_soft_dirty(pte);
          else if (!pte_is_pinned(m, vma, a, pte)) table[i] = pte_clear_soft_dirty(pte_wrprotect(pte));
        }
      }
      addr = next;
    }
  }
  mmu_notifier_invalidate_range_end(range);
}
