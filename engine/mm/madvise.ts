/*
 * Mirrors mm/madvise.c: MADV_DONTNEED, MADV_FREE, MADV_HUGEPAGE,
 * MADV_NOHUGEPAGE and MADV_COLLAPSE (the collapse itself is in khugepaged.ts),
 * and the fork advices MADV_DONTFORK, MADV_DOFORK, MADV_WIPEONFORK and
 * MADV_KEEPONFORK (flags dup_mmap reads).
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: no khugepaged registration for MADV_HUGEPAGE; only the
 * advices above are accepted. MADV_FREE clears the young and dirty bits and
 * the folio's dirty flag, but folio_mark_lazyfree has nothing to do: there is
 * no LRU and no reclaim that could discard a lazyfree folio, and no swap.
 */

import {
  EINVAL,
  ENOMEM,
  folio_get,
  folio_is_zone_device,
  folio_mapcount,
  folio_nr_pages,
  folio_test_large,
  is_huge_zero_pfn,
  MADV_COLLAPSE,
  MADV_DOFORK,
  MADV_DONTFORK,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_HUGEPAGE,
  MADV_KEEPONFORK,
  MADV_NOHUGEPAGE,
  MADV_WIPEONFORK,
  page_folio,
  VM_DONTCOPY,
  VM_DONTEXPAND,
  VM_HUGEPAGE,
  VM_IO,
  VM_MIXEDMAP,
  VM_NOHUGEPAGE,
  VM_PFNMAP,
  VM_SHARED,
  VM_WIPEONFORK,
  vma_is_anonymous,
} from '../include/linux/mm';
import { type mm_struct, PAGE_SIZE, PMD_SIZE, type vm_area_struct } from '../include/linux/mm_types';
import { PG_dirty } from '../include/linux/page-flags';
import { folio_trylock, folio_unlock } from '../include/linux/pagemap';
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  pmd_dirty,
  pmd_none,
  pmd_pfn,
  pmd_trans_huge,
  pmd_young,
  pte_dirty,
  pte_none,
  pte_pfn,
  pte_present,
  pte_young,
} from '../include/linux/pgtable';
import type { Machine } from '../machine';
import { split_folio } from './huge_memory';
import { madvise_collapse } from './khugepaged';
import { unmap_page_range, vm_normal_page } from './memory';
import { vma_modify_flags } from './mmap';
import {
  mmu_notifier_invalidate_range_end,
  mmu_notifier_invalidate_range_start,
  mmu_notifier_range_init,
} from './mmu_notifier';
import { pmdp_get, pte_offset_map, ptep_get, set_pmd_at, set_pte_at } from './pgtable-generic';
import { folio_maybe_mapped_shared } from './rmap';
import { folio_put } from './swap';

const FORK_ADVICES = [MADV_DONTFORK, MADV_DOFORK, MADV_WIPEONFORK, MADV_KEEPONFORK];
const ADVICES = [MADV_DONTNEED, MADV_FREE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_COLLAPSE, ...FORK_ADVICES];

/** VM_SPECIAL (include/linux/mm.h): mappings the core mm does not treat as ordinary memory. */
const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;

/**
 * madvise_vma_behavior, the fork advices: the VMA flags the advice sets, or
 * -EINVAL. MADV_DONTFORK sets VM_DONTCOPY (dup_mmap leaves the VMA out of
 * the child), MADV_DOFORK clears it except on a VM_SPECIAL mapping (whose
 * driver set it), MADV_WIPEONFORK sets VM_WIPEONFORK on private anonymous
 * memory only (the child gets the VMA empty), MADV_KEEPONFORK clears it.
 * (VM_DROPPABLE, which refuses MADV_KEEPONFORK, is not modelled.)
 */
function fork_advice_flags(vma: vm_area_struct, advice: number): number {
  const flags = vma.vm_flags;
  if (advice === MADV_DONTFORK) return flags | VM_DONTCOPY;
  if (advice === MADV_DOFORK) return flags & VM_SPECIAL ? -EINVAL : flags & ~VM_DONTCOPY;
  if (advice === MADV_WIPEONFORK) return vma.vm_file || flags & VM_SHARED ? -EINVAL : flags | VM_WIPEONFORK;
  return flags & ~VM_WIPEONFORK;
}

/** do_madvise. */
export function do_madvise(m: Machine, mm: mm_struct, start: number, len: number, advice: number): number {
  if (start % PAGE_SIZE) return -EINVAL;
  if (!ADVICES.includes(advice)) return -EINVAL;
  const end = start + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  return madvise_walk_vmas(mm, start, end, (vma, s, e) => madvise_vma_behavior(m, vma, s, e, advice));
}

/**
 * madvise_walk_vmas (mm/madvise.c): the advice goes to every VMA in the
 * range, each looked up again after the one before it was advised (a
 * behaviour may split or merge VMAs, as MADV_HUGEPAGE does through
 * madvise_update_vma). A hole in the range does not stop the walk: the walk
 * carries on and returns -ENOMEM at its end; an error of the behaviour
 * itself ends it at once. Until a04aa49's explorer run the engine looped
 * over a VMA list taken before the loop (overlapping VMAs after a split),
 * and returned -ENOMEM for a hole before advising anything.
 */
export function madvise_walk_vmas(
  mm: mm_struct,
  start: number,
  end: number,
  behavior: (vma: vm_area_struct, start: number, end: number) => number,
): number {
  let unmapped_error = 0;
  let addr = start;
  while (addr < end) {
    /* find_vma: the first VMA that ends above addr. */
    const vma = mm.mmap.find((v) => v.vm_end > addr);
    if (!vma) return -ENOMEM;
    if (addr < vma.vm_start) {
      unmapped_error = -ENOMEM;
      addr = vma.vm_start;
      if (addr >= end) break;
    }
    const e = Math.min(vma.vm_end, end);
    const error = behavior(vma, addr, e);
    if (error) return error;
    addr = e;
  }
  return unmapped_error;
}

/** madvise_vma_behavior: one VMA's part of the range. */
function madvise_vma_behavior(m: Machine, vma: vm_area_struct, s: number, e: number, advice: number): number {
  if (advice === MADV_DONTNEED) {
    if (vma.vm_flags & (VM_PFNMAP | VM_MIXEDMAP)) return -EINVAL;
    madvise_dontneed_single_vma(m, vma, s, e);
  } else if (advice === MADV_FREE) {
    /* madvise_dontneed_free_valid_vma, then madvise_free_single_vma */
    if (vma.vm_flags & VM_PFNMAP) return -EINVAL;
    return madvise_free_single_vma(m, vma, s, e);
  } else if (FORK_ADVICES.includes(advice)) {
    const flags = fork_advice_flags(vma, advice);
    if (flags < 0) return flags;
    vma_modify_flags(m, vma, s, e, flags);
  } else if (advice === MADV_COLLAPSE) {
    return madvise_collapse(m, vma, s, e);
  } else {
    /* hugepage_madvise, then madvise_update_vma */
    const flags =
      advice === MADV_HUGEPAGE
        ? (vma.vm_flags & ~VM_NOHUGEPAGE) | VM_HUGEPAGE
        : (vma.vm_flags & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
    vma_modify_flags(m, vma, s, e, flags);
  }
  return 0;
}

/**
 * madvise_dontneed_single_vma → zap_page_range_single: drop the mappings of
 * the range (the VMA stays); secondary MMUs see MMU_NOTIFY_CLEAR. The next
 * access faults in fresh zero-filled (anonymous) or page-cache (file) pages.
 */
function madvise_dontneed_single_vma(
  m: Machine,
  vma: Parameters<typeof unmap_page_range>[1],
  start: number,
  end: number,
): void {
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', vma.vm_mm, start, end);
  mmu_notifier_invalidate_range_start(range);
  unmap_page_range(m, vma, start, end);
  mmu_notifier_invalidate_range_end(range);
}

/**
 * madvise_free_single_vma: MADV_FREE works on anonymous VMAs only. Secondary
 * MMUs see MMU_NOTIFY_CLEAR; the page walk calls madvise_free_pte_range for
 * each PMD that is not none (walk_pmd_range skips holes).
 */
function madvise_free_single_vma(m: Machine, vma: vm_area_struct, start: number, end: number): number {
  if (!vma_is_anonymous(vma)) return -EINVAL;
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', vma.vm_mm, start, end);
  mmu_notifier_invalidate_range_start(range);
  for (let addr = start; addr < end; ) {
    const next = Math.min(addr - (addr % PMD_SIZE) + PMD_SIZE, end);
    if (!pmd_none(pmdp_get(vma.vm_mm, addr))) madvise_free_pte_range(m, vma, addr, next);
    addr = next;
  }
  mmu_notifier_invalidate_range_end(range);
  return 0;
}

/**
 * madvise_free_pte_range: a present huge PMD goes to madvise_free_huge_pmd.
 * A non-present huge PMD (a migration or device-private entry) is not a
 * table: ___pte_offset_map gives up on !pmd_present, so it is left alone
 * (pmd_trans_huge() is false for it on x86; where it is true,
 * madvise_free_huge_pmd met it and hit its VM_BUG_ON until Usama Arif's
 * 2026 fix "mm/huge_memory: skip device-private PMDs in madvise_free_huge_pmd").
 * Non-present PTEs are left alone too (no swap here), as are zone-device
 * pages. A large folio only partly inside the range is split first.
 */
function madvise_free_pte_range(m: Machine, vma: vm_area_struct, start: number, end: number): void {
  const mm = vma.vm_mm;
  if (pmd_trans_huge(pmdp_get(mm, start)) && madvise_free_huge_pmd(m, vma, start, end)) return;
  for (let addr = start; addr < end; ) {
    const table = pte_offset_map(mm, addr);
    if (!table) return;
    const pte = ptep_get(table, addr);
    if (pte_none(pte) || !pte_present(pte)) {
      addr += PAGE_SIZE;
      continue;
    }
    const page = vm_normal_page(m, vma, addr, pte);
    if (page < 0 || folio_is_zone_device(m, page)) {
      addr += PAGE_SIZE;
      continue;
    }
    const folio = page_folio(m, page);
    if (folio_test_large(m, folio) && !folio_fully_mapped_in(m, vma, folio, { start, addr, end })) {
      if (folio_maybe_mapped_shared(m, folio) || !folio_trylock(m, folio)) {
        addr += PAGE_SIZE;
        continue;
      }
      folio_get(m, folio);
      const err = split_folio(m, folio);
      folio_unlock(m, folio);
      folio_put(m, folio);
      /* Split: look at the same PTE again, now an order-0 folio. */
      if (err) addr += PAGE_SIZE;
      continue;
    }
    if (m.mem.flags[folio] & PG_dirty) {
      /* Only a folio this mm maps alone may lose its dirty state. */
      if (folio_mapcount(m, folio) === folio_nr_pages(m, folio)) m.mem.flags[folio] &= ~PG_dirty;
    }
    if (pte_young(pte) || pte_dirty(pte))
      set_pte_at(table, addr, (pte & ~(_PAGE_ACCESSED | _PAGE_DIRTY)) >>> 0);
    addr += PAGE_SIZE;
  }
}

/** madvise_folio_pte_batch: do consecutive PTEs inside [start, end), the one at addr among them, map the whole folio? */
function folio_fully_mapped_in(
  m: Machine,
  vma: vm_area_struct,
  folio: number,
  range: { start: number; addr: number; end: number },
): boolean {
  const table = pte_offset_map(vma.vm_mm, range.addr) as Uint32Array;
  const first = range.addr - (pte_pfn(ptep_get(table, range.addr)) - folio) * PAGE_SIZE;
  const nr = folio_nr_pages(m, folio);
  if (first < range.start || first + nr * PAGE_SIZE > range.end) return false;
  for (let i = 0; i < nr; i++) {
    const pte = ptep_get(table, first + i * PAGE_SIZE);
    if (!pte_present(pte) || pte_pfn(pte) !== folio + i) return false;
  }
  return true;
}

/**
 * madvise_free_huge_pmd: a present huge PMD. The huge zero page and a THP
 * another mm may map are skipped; a THP only partly inside the range is split
 * (then its PTEs are handled one by one); otherwise the folio and the PMD
 * lose their dirty state. Returns true when the whole PMD was handled.
 */
function madvise_free_huge_pmd(m: Machine, vma: vm_area_struct, addr: number, next: number): boolean {
  const mm = vma.vm_mm;
  const pmd = pmdp_get(mm, addr);
  const folio = pmd_pfn(pmd);
  if (is_huge_zero_pfn(m, folio)) return false;
  if (folio_maybe_mapped_shared(m, folio) || !folio_trylock(m, folio)) return false;
  if (next - addr !== PMD_SIZE) {
    folio_get(m, folio);
    split_folio(m, folio);
    folio_unlock(m, folio);
    folio_put(m, folio);
    return false;
  }
  m.mem.flags[folio] &= ~PG_dirty;
  folio_unlock(m, folio);
  if (pmd_young(pmd) || pmd_dirty(pmd)) set_pmd_at(mm, addr, (pmd & ~(_PAGE_ACCESSED | _PAGE_DIRTY)) >>> 0);
  return true;
}
