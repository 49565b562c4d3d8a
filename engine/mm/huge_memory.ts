/*
 * Mirrors mm/huge_memory.c: PMD-mapped anonymous THPs — the huge fault, the
 * huge zero page, write-protect faults on a huge PMD, fork (copy_huge_pmd),
 * zap (zap_huge_pmd), PMD split (__split_huge_pmd) and the deferred-split queue.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: only anonymous THPs of PMD order; no file or shmem THPs,
 * no khugepaged, no mTHP. A PMD split happens at once (no freeze), and the
 * folio split that the deferred-split shrinker would do is not modelled yet.
 */

import {
  EAGAIN,
  FAULT_FLAG_UNSHARE,
  FAULT_FLAG_WRITE,
  folio_get,
  folio_ref_add,
  folio_ref_count,
  folio_test_anon,
  is_huge_zero_pfn,
  PageAnonExclusive,
  VM_HUGEPAGE,
  VM_NOHUGEPAGE,
  VM_WRITE,
  vma_is_anonymous,
} from '../include/linux/mm';
import { HPAGE_PMD_NR, MM_ANONPAGES, PMD_SIZE, type vm_area_struct } from '../include/linux/mm_types';
import { EngineUsageError } from '../include/linux/mmdebug';
import { PG_anon_exclusive, PG_dirty, PG_partially_mapped } from '../include/linux/page-flags';
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_RW,
  _PAGE_SOFT_DIRTY,
  _PAGE_SPECIAL,
  pfn_pmd,
  pfn_pte,
  pmd_dirty,
  pmd_mkold,
  pmd_pfn,
  pmd_trans_huge,
  pmd_wrprotect,
} from '../include/linux/pgtable';
import { softleaf_type_of } from '../include/linux/swapops';
import type { Machine } from '../machine';
import { add_mm_counter, mm_counter, type vm_fault } from './memory';
import {
  mmu_notifier_invalidate_range_end,
  mmu_notifier_invalidate_range_start,
  mmu_notifier_range_init,
} from './mmu_notifier';
import { __alloc_pages } from './page_alloc';
import {
  pgtable_trans_huge_deposit,
  pgtable_trans_huge_withdraw,
  pmd_populate,
  pmdp_get,
  set_pmd_at,
} from './pgtable-generic';
import {
  anon_vma_prepare,
  folio_add_anon_rmap_ptes,
  folio_add_new_anon_rmap,
  folio_move_anon_rmap,
  folio_remove_rmap_pmd,
  folio_try_dup_anon_rmap_pmd,
  RMAP_EXCLUSIVE,
  RMAP_NONE,
} from './rmap';
import { folio_put } from './swap';

const haddr_of = (addr: number): number => addr - (addr % PMD_SIZE);

/**
 * thp_vma_allowable_order: may a fault at addr use a PMD-sized folio? The VMA
 * must be anonymous, cover the whole aligned PMD range, and THP must be
 * enabled ("always", or "madvise" with MADV_HUGEPAGE) and not refused.
 */
export function thp_vma_allowable_order(m: Machine, vma: vm_area_struct, addr: number): boolean {
  const mode = m.config.transparent_hugepage;
  if (mode === 'never' || !vma_is_anonymous(vma) || vma.vm_flags & VM_NOHUGEPAGE) return false;
  if (mode === 'madvise' && !(vma.vm_flags & VM_HUGEPAGE)) return false;
  const haddr = haddr_of(addr);
  return haddr >= vma.vm_start && haddr + PMD_SIZE <= vma.vm_end;
}

/** The PMD value of the huge zero folio (set_huge_zero_folio): read-only, special. */
const huge_zero_pmd = (m: Machine): number => pfn_pmd(m.huge_zero_pfn, _PAGE_SPECIAL);

/**
 * do_huge_pmd_anonymous_page: a read maps the huge zero page; a write maps a
 * new, zeroed, exclusive PMD-order folio. Returns -1 (VM_FAULT_FALLBACK) when
 * no huge folio can be allocated, and the fault is retried with small pages.
 */
export function do_huge_pmd_anonymous_page(m: Machine, vmf: vm_fault): number {
  const { vma } = vmf;
  const haddr = haddr_of(vmf.address);
  const mm = vma.vm_mm;
  anon_vma_prepare(m, vma);
  if (!(vmf.flags & FAULT_FLAG_WRITE) && m.huge_zero_pfn >= 0) {
    pgtable_trans_huge_deposit(mm, haddr);
    set_pmd_at(mm, haddr, huge_zero_pmd(m));
    return 0;
  }
  const folio = __alloc_pages(m, m.zone, 9);
  if (folio < 0) return -1;
  m.mem.data.fill(0, folio, folio + HPAGE_PMD_NR);
  folio_add_new_anon_rmap(m, folio, vma, haddr, RMAP_EXCLUSIVE);
  pgtable_trans_huge_deposit(mm, haddr);
  set_pmd_at(mm, haddr, pfn_pmd(folio, vma.vm_flags & VM_WRITE ? _PAGE_RW | _PAGE_DIRTY : 0));
  add_mm_counter(vma, MM_ANONPAGES, HPAGE_PMD_NR);
  return 0;
}

/** huge_pmd_set_accessed: a CPU access that the huge PMD already allows. */
export function huge_pmd_set_accessed(vmf: vm_fault, pmd: number): void {
  let entry = pmd | _PAGE_ACCESSED;
  if (vmf.flags & FAULT_FLAG_WRITE) entry |= _PAGE_DIRTY;
  set_pmd_at(vmf.vma.vm_mm, vmf.address, entry);
}

/**
 * do_huge_pmd_wp_page: write fault on a read-only huge PMD. An exclusive THP
 * (AE head, or the only reference) is reused whole; otherwise the PMD is split
 * and the fault is handled per PTE (returns -1 for that fallback). The huge
 * zero page is replaced by a fresh THP (do_huge_zero_wp_pmd).
 */
export function do_huge_pmd_wp_page(m: Machine, vmf: vm_fault, pmd: number): number {
  const { vma } = vmf;
  const haddr = haddr_of(vmf.address);
  const unshare = (vmf.flags & FAULT_FLAG_UNSHARE) !== 0;
  const pfn = pmd_pfn(pmd);
  if (is_huge_zero_pfn(m, pfn)) {
    if (!unshare && do_huge_zero_wp_pmd(m, vmf) === 0) return 0;
    __split_huge_pmd(m, vma, haddr);
    return -1;
  }
  const folio = pfn;
  if (!PageAnonExclusive(m, folio)) {
    if (!folio_test_anon(m, folio) || folio_ref_count(m, folio) !== 1) {
      __split_huge_pmd(m, vma, haddr);
      return -1;
    }
    folio_move_anon_rmap(m, folio, vma);
    m.mem.flags[folio] |= PG_anon_exclusive;
  }
  if (unshare) return 0;
  let entry = pmd | _PAGE_ACCESSED | _PAGE_DIRTY;
  if (vma.vm_flags & VM_WRITE) entry |= _PAGE_RW;
  set_pmd_at(vma.vm_mm, haddr, entry);
  return 0;
}

/** do_huge_zero_wp_pmd: replace the huge zero PMD by a new THP; -1 when none can be allocated. */
function do_huge_zero_wp_pmd(m: Machine, vmf: vm_fault): number {
  const { vma } = vmf;
  const haddr = haddr_of(vmf.address);
  const folio = __alloc_pages(m, m.zone, 9);
  if (folio < 0) return -1;
  m.mem.data.fill(0, folio, folio + HPAGE_PMD_NR);
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', vma.vm_mm, haddr, haddr + PMD_SIZE);
  mmu_notifier_invalidate_range_start(range);
  folio_add_new_anon_rmap(m, folio, vma, haddr, RMAP_EXCLUSIVE);
  set_pmd_at(vma.vm_mm, haddr, pfn_pmd(folio, _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED));
  add_mm_counter(vma, MM_ANONPAGES, HPAGE_PMD_NR);
  mmu_notifier_invalidate_range_end(range);
  return 0;
}

/**
 * copy_huge_pmd: fork of a huge PMD. The child shares the THP read-only; a
 * possibly pinned THP is instead split in the parent (-EAGAIN), so
 * copy_pte_range copies the pinned pages one by one. File THPs are refaulted.
 */
export function copy_huge_pmd(
  m: Machine,
  dst_vma: vm_area_struct,
  src_vma: vm_area_struct,
  addr: number,
): number {
  if (!vma_is_anonymous(dst_vma)) return 0;
  const src_mm = src_vma.vm_mm;
  const dst_mm = dst_vma.vm_mm;
  const haddr = haddr_of(addr);
  const pmd = pmdp_get(src_mm, haddr);
  if (!pmd_trans_huge(pmd))
    throw new EngineUsageError('not modelled', `fork of a ${softleaf_type_of(pmd)} PMD`);
  const folio = pmd_pfn(pmd);
  if (is_huge_zero_pfn(m, folio)) {
    pgtable_trans_huge_deposit(dst_mm, haddr);
    set_pmd_at(dst_mm, haddr, pmd);
    return 0;
  }
  folio_get(m, folio);
  if (folio_try_dup_anon_rmap_pmd(m, folio, dst_vma, src_vma) !== 0) {
    folio_put(m, folio);
    __split_huge_pmd(m, src_vma, haddr);
    return -EAGAIN;
  }
  add_mm_counter(dst_vma, MM_ANONPAGES, HPAGE_PMD_NR);
  pgtable_trans_huge_deposit(dst_mm, haddr);
  set_pmd_at(src_mm, haddr, pmd_wrprotect(pmd));
  set_pmd_at(dst_mm, haddr, pmd_mkold(pmd_wrprotect(pmd)));
  return 0;
}

/** zap_huge_pmd: unmap a whole huge PMD: one PMD mapcount, one reference, 512 rss pages. */
export function zap_huge_pmd(m: Machine, vma: vm_area_struct, addr: number): void {
  const mm = vma.vm_mm;
  const haddr = haddr_of(addr);
  const pmd = pmdp_get(mm, haddr);
  set_pmd_at(mm, haddr, 0);
  pgtable_trans_huge_withdraw(mm, haddr);
  if (!pmd_trans_huge(pmd))
    throw new EngineUsageError('not modelled', `zap of a ${softleaf_type_of(pmd)} PMD`);
  const folio = pmd_pfn(pmd);
  if (is_huge_zero_pfn(m, folio)) return;
  if (pmd_dirty(pmd)) m.mem.flags[folio] |= PG_dirty;
  folio_remove_rmap_pmd(m, folio, vma);
  add_mm_counter(vma, mm_counter(m, folio), -HPAGE_PMD_NR);
  folio_put(m, folio);
}

/**
 * __split_huge_pmd: replace a huge PMD by a table of 512 PTEs mapping the same
 * pages (or the zero page, for the huge zero PMD). Secondary MMUs see
 * MMU_NOTIFY_CLEAR over the PMD. The folio itself stays large: splitting it
 * is a separate step (deferred split or __folio_split).
 */
export function __split_huge_pmd(m: Machine, vma: vm_area_struct, haddr: number): void {
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', vma.vm_mm, haddr, haddr + PMD_SIZE);
  mmu_notifier_invalidate_range_start(range);
  __split_huge_pmd_locked(m, vma, haddr);
  mmu_notifier_invalidate_range_end(range);
}

/** __split_huge_pmd_locked: each PTE inherits write, dirty, young and soft-dirty; every page gains a reference. */
function __split_huge_pmd_locked(m: Machine, vma: vm_area_struct, haddr: number): void {
  const mm = vma.vm_mm;
  const pmd = pmdp_get(mm, haddr);
  if (!pmd_trans_huge(pmd))
    throw new EngineUsageError('not modelled', `split of a ${softleaf_type_of(pmd)} PMD`);
  const table = pgtable_trans_huge_withdraw(mm, haddr);
  const pfn = pmd_pfn(pmd);
  if (is_huge_zero_pfn(m, pfn)) {
    /* __split_huge_zero_page_pmd: 512 PTEs of the small zero page. */
    for (let i = 0; i < HPAGE_PMD_NR; i++) table[i] = pfn_pte(m.zero_pfn, _PAGE_SPECIAL);
    pmd_populate(mm, haddr, table);
    return;
  }
  const folio = pfn;
  const anon_exclusive = PageAnonExclusive(m, folio);
  folio_ref_add(m, folio, HPAGE_PMD_NR - 1);
  folio_add_anon_rmap_ptes(m, folio, folio, HPAGE_PMD_NR, vma, anon_exclusive ? RMAP_EXCLUSIVE : RMAP_NONE);
  const bits = pmd & (_PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_SOFT_DIRTY);
  for (let i = 0; i < HPAGE_PMD_NR; i++) table[i] = pfn_pte(folio + i, bits);
  pmd_populate(mm, haddr, table);
  folio_remove_rmap_pmd(m, folio, vma);
}

/**
 * vma_adjust_trans_huge: a VMA boundary is about to be placed at `addr`; a
 * huge PMD straddling it must be split first.
 */
export function vma_adjust_trans_huge(m: Machine, vma: vm_area_struct, addr: number): void {
  if (addr % PMD_SIZE === 0) return;
  const haddr = haddr_of(addr);
  if (pmd_trans_huge(pmdp_get(vma.vm_mm, haddr))) __split_huge_pmd(m, vma, haddr);
}

/**
 * deferred_split_folio: queue a partly unmapped anonymous THP so the shrinker
 * can split it later (deferred_split_scan) and free the unmapped part.
 */
export function deferred_split_folio(m: Machine, folio: number, partially_mapped: boolean): void {
  if (partially_mapped) m.mem.flags[folio] |= PG_partially_mapped;
  m.deferred_split_queue.add(folio);
}
