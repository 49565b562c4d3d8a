/*
 * Mirrors mm/khugepaged.c, the part MADV_COLLAPSE uses (mm/madvise.c
 * madvise_collapse): scan one PMD range of PTEs (hpage_collapse_scan_pmd)
 * and collapse it into a new PMD-mapped THP (collapse_huge_page).
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: only anonymous VMAs (file and shmem collapse are not
 * modelled); no khugepaged thread, so no max_ptes_* limits, no
 * referenced-page requirement (MADV_COLLAPSE has neither), no uffd. There is
 * no swap, so a non-present PTE always ends the scan (SCAN_PTE_NON_PRESENT).
 * No LRU: a page off the LRU is one whose refcount says someone holds it.
 */

import { clear_highpage, copy_highpage } from '../include/linux/highmem';
import {
  EAGAIN,
  EINVAL,
  ENOMEM,
  folio_is_zone_device,
  folio_mapcount,
  folio_ref_count,
  folio_test_anon,
  is_zero_pfn,
  page_folio,
  VM_NOHUGEPAGE,
  VM_WRITE,
  vma_is_anonymous,
} from '../include/linux/mm';
import {
  HPAGE_PMD_NR,
  HPAGE_PMD_ORDER,
  MM_ANONPAGES,
  PAGE_SIZE,
  PMD_SIZE,
  type vm_area_struct,
} from '../include/linux/mm_types';
import { EngineUsageError } from '../include/linux/mmdebug';
import { PG_locked } from '../include/linux/page-flags';
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  pfn_pmd,
  pmd_is_table,
  pmd_none,
  pmd_trans_huge,
  pte_none,
  pte_pfn,
  pte_present,
} from '../include/linux/pgtable';
import type { Machine } from '../machine';
import { add_mm_counter, vm_normal_page } from './memory';
import {
  mmu_notifier_invalidate_range_end,
  mmu_notifier_invalidate_range_start,
  mmu_notifier_range_init,
} from './mmu_notifier';
import { __alloc_pages } from './page_alloc';
import {
  pgtable_trans_huge_deposit,
  pmdp_collapse_flush,
  pmdp_get,
  pte_offset_map,
  set_pmd_at,
} from './pgtable-generic';
import { anon_vma_prepare, folio_add_new_anon_rmap, folio_remove_rmap_pte, RMAP_EXCLUSIVE } from './rmap';
import { folio_put } from './swap';

/** enum scan_result, the values this model can reach. */
type scan_result =
  | 'SCAN_SUCCEED'
  | 'SCAN_NO_PTE_TABLE'
  | 'SCAN_PMD_MAPPED'
  | 'SCAN_PTE_NON_PRESENT'
  | 'SCAN_PAGE_NULL'
  | 'SCAN_PAGE_ANON'
  | 'SCAN_PAGE_LOCK'
  | 'SCAN_PAGE_COUNT'
  | 'SCAN_ALLOC_HUGE_PAGE_FAIL';

/** madvise_collapse_errno: what each failure tells the caller. */
function madvise_collapse_errno(r: scan_result): number {
  switch (r) {
    case 'SCAN_ALLOC_HUGE_PAGE_FAIL':
      return -ENOMEM;
    case 'SCAN_PAGE_COUNT':
    case 'SCAN_PAGE_LOCK':
      return -EAGAIN;
    default:
      return -EINVAL;
  }
}

/**
 * madvise_collapse: collapse every PMD-aligned 2 MiB range inside
 * [start, end) of one VMA. MADV_COLLAPSE ignores the sysfs THP mode
 * (TVA_FORCED_COLLAPSE) but not VM_NOHUGEPAGE. A range already PMD-mapped
 * counts as done. Returns 0 when every range is a THP afterwards, else the
 * errno of the last failure.
 */
export function madvise_collapse(m: Machine, vma: vm_area_struct, start: number, end: number): number {
  if (!vma_is_anonymous(vma))
    throw new EngineUsageError('not modelled', 'MADV_COLLAPSE of a file or shmem mapping');
  if (vma.vm_flags & VM_NOHUGEPAGE) return -EINVAL;
  const hstart = Math.ceil(start / PMD_SIZE) * PMD_SIZE;
  const hend = Math.floor(end / PMD_SIZE) * PMD_SIZE;
  if (hstart >= hend) return 0;
  let thps = 0;
  let last_fail: scan_result = 'SCAN_NO_PTE_TABLE';
  for (let addr = hstart; addr < hend; addr += PMD_SIZE) {
    let result = hpage_collapse_scan_pmd(m, vma, addr);
    if (result === 'SCAN_SUCCEED') result = collapse_huge_page(m, vma, addr);
    if (result === 'SCAN_SUCCEED' || result === 'SCAN_PMD_MAPPED') thps++;
    else last_fail = result;
  }
  return thps === (hend - hstart) / PMD_SIZE ? 0 : madvise_collapse_errno(last_fail);
}

/**
 * hpage_collapse_scan_pmd (collapse_scan_pmd): may the 512 PTEs at addr be
 * collapsed? None and zero-page PTEs may (MADV_COLLAPSE takes any number);
 * every other PTE must map an anonymous, unlocked page of system RAM whose
 * references are all its mappings (is_refcount_suitable).
 */
function hpage_collapse_scan_pmd(m: Machine, vma: vm_area_struct, addr: number): scan_result {
  const pmd = pmdp_get(vma.vm_mm, addr);
  if (pmd_trans_huge(pmd)) return 'SCAN_PMD_MAPPED';
  /* find_pmd_or_thp_or_none: no table (none, or a non-present huge PMD) */
  if (pmd_none(pmd) || !pmd_is_table(pmd)) return 'SCAN_NO_PTE_TABLE';
  const table = pte_offset_map(vma.vm_mm, addr) as Uint32Array;
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const pte = table[i];
    if (pte_none(pte) || (pte_present(pte) && is_zero_pfn(m, pte_pfn(pte)))) continue;
    if (!pte_present(pte)) return 'SCAN_PTE_NON_PRESENT';
    const page = vm_normal_page(m, vma, addr + i * PAGE_SIZE, pte);
    if (page < 0 || folio_is_zone_device(m, page)) return 'SCAN_PAGE_NULL';
    const folio = page_folio(m, page);
    if (!folio_test_anon(m, folio)) return 'SCAN_PAGE_ANON';
    if (m.mem.flags[folio] & PG_locked) return 'SCAN_PAGE_LOCK';
    if (folio_ref_count(m, folio) !== folio_mapcount(m, folio)) return 'SCAN_PAGE_COUNT';
  }
  return 'SCAN_SUCCEED';
}

/**
 * collapse_huge_page: allocate a PMD-order folio, take the PTE table out
 * (pmdp_collapse_flush, under MMU_NOTIFY_CLEAR), copy each page into it
 * (zero for none and zero-page PTEs) and release the old pages
 * (__collapse_huge_page_copy_succeeded, which counts each filled hole in
 * MM_ANONPAGES), deposit the table and map the new THP: exclusive, dirty,
 * writable if the VMA is.
 */
function collapse_huge_page(m: Machine, vma: vm_area_struct, addr: number): scan_result {
  const mm = vma.vm_mm;
  const folio = __alloc_pages(m, m.zone, HPAGE_PMD_ORDER);
  if (folio < 0) return 'SCAN_ALLOC_HUGE_PAGE_FAIL';
  anon_vma_prepare(m, vma);
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', mm, addr, addr + PMD_SIZE);
  mmu_notifier_invalidate_range_start(range);
  const table = pmdp_collapse_flush(mm, addr);
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const pte = table[i];
    const va = addr + i * PAGE_SIZE;
    if (pte_none(pte) || is_zero_pfn(m, pte_pfn(pte))) {
      clear_highpage(m, folio + i);
      add_mm_counter(vma, MM_ANONPAGES, 1);
      continue;
    }
    const page = vm_normal_page(m, vma, va, pte);
    const src = page_folio(m, page);
    copy_highpage(m, folio + i, page);
    /* The page's MM_ANONPAGES count passes to the THP page that replaces it. */
    folio_remove_rmap_pte(m, src, page, vma);
    folio_put(m, src);
  }
  folio_add_new_anon_rmap(m, folio, vma, addr, RMAP_EXCLUSIVE);
  pgtable_trans_huge_deposit(mm, addr);
  set_pmd_at(mm, addr, pfn_pmd(folio, _PAGE_DIRTY | (vma.vm_flags & VM_WRITE ? _PAGE_RW : 0)));
  mmu_notifier_invalidate_range_end(range);
  return 'SCAN_SUCCEED';
}
