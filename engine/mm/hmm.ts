/*
 * Mirrors mm/hmm.c: hmm_range_fault, the walk a device driver uses to mirror
 * a range of a process's page tables, faulting pages in where asked.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: hmm_pfns[] entries are numbers, pfn * 16 + flags, built
 * with arithmetic; PMD-mapped THPs report each subpage with the PMD order.
 * The walk goes page by page and faults where it stands instead of
 * restarting (walk_page_range returning -EBUSY after hmm_vma_fault); the
 * check for an invalidation that the kernel makes at each restart is made
 * after each fault.
 */

import {
  EBUSY,
  EFAULT,
  EPERM,
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_WRITE,
  is_huge_zero_pfn,
  is_vm_hugetlb_page,
  VM_FAULT_ERROR,
  VM_FAULT_RETRY,
  VM_IO,
  VM_PFNMAP,
  VM_READ,
  VM_WRITE,
} from '../include/linux/mm';
import { HPAGE_PMD_ORDER, type mm_struct, PAGE_SIZE } from '../include/linux/mm_types';
import {
  pmd_pfn,
  pmd_trans_huge,
  pte_none,
  pte_pfn,
  pte_present,
  pte_protnone,
  pte_write,
} from '../include/linux/pgtable';
import {
  is_device_private_entry,
  is_migration_entry,
  is_writable_device_private_entry,
  swp_offset_pfn,
} from '../include/linux/swapops';
import type { Machine } from '../machine';
import { handle_mm_fault } from './memory';
import { page_pgmap } from './memremap';
import { find_vma } from './mmap';
import { mmu_interval_check_retry, type mmu_interval_notifier } from './mmu_notifier';
import { pmdp_get, pte_offset_map, ptep_get } from './pgtable-generic';

export const HMM_PFN_VALID = 1;
export const HMM_PFN_WRITE = 2;
export const HMM_PFN_ERROR = 4;
/** The entry maps a PMD-order folio at PMD level (hmm_pfn_to_map_order() == HPAGE_PMD_ORDER). */
export const HMM_PFN_ORDER_PMD = 8;
/** Input flags: fault the page in (for writing). */
export const HMM_PFN_REQ_FAULT = HMM_PFN_VALID;
export const HMM_PFN_REQ_WRITE = HMM_PFN_WRITE;
const MUL = 16;

export const hmm_pfn_to_page = (hmm_pfn: number): number => Math.floor(hmm_pfn / MUL);
export const hmm_pfn_flags = (hmm_pfn: number): number => hmm_pfn % MUL;
const make = (pfn: number, flags: number): number => pfn * MUL + flags;

/** struct hmm_range. */
export interface hmm_range {
  start: number;
  end: number;
  hmm_pfns: number[];
  /** HMM_PFN_REQ_FAULT, optionally with HMM_PFN_REQ_WRITE. */
  default_flags: number;
  /** Device-private pages of this owner are reported as they are instead of being migrated back. */
  dev_private_owner: unknown;
  /** The caller's interval notifier and its mmu_interval_read_begin count (none for a walk outside a driver). */
  notifier?: mmu_interval_notifier | null;
  notifier_seq?: number;
}

/** The range was invalidated since the caller's mmu_interval_read_begin: the walk must be done again. */
const range_invalidated = (range: hmm_range): boolean =>
  !!range.notifier && mmu_interval_check_retry(range.notifier, range.notifier_seq ?? 0);

/**
 * hmm_range_fault: fill hmm_pfns[] for [start, end). With REQ_FAULT, missing
 * or insufficient mappings are faulted in first (write faults with REQ_WRITE);
 * a device-private page of another owner is faulted, which migrates it back
 * to system memory; one of the caller's own is reported as it is. Returns 0, -EFAULT, -EPERM (a write fault in a VMA without
 * VM_WRITE, hmm_vma_fault), or -EBUSY when a fault could not complete or
 * the range was invalidated since the caller's mmu_interval_read_begin (the
 * caller retries).
 */
export function hmm_range_fault(m: Machine, mm: mm_struct, range: hmm_range): number {
  range.hmm_pfns.length = 0;
  if (range_invalidated(range)) return -EBUSY;
  const want_fault = (range.default_flags & HMM_PFN_REQ_FAULT) !== 0;
  const want_write = (range.default_flags & HMM_PFN_REQ_WRITE) !== 0;
  for (let addr = range.start; addr < range.end; addr += PAGE_SIZE) {
    const vma = find_vma(mm, addr);
    if (!vma || vma.vm_flags & (VM_IO | VM_PFNMAP) || !(vma.vm_flags & VM_READ)) {
      if (want_fault) return -EFAULT;
      range.hmm_pfns.push(make(0, HMM_PFN_ERROR));
      continue;
    }
    for (let tries = 0; ; tries++) {
      /* walk_page_range hands a hugetlb VMA to hmm_vma_walk_hugetlb_entry, anything else to the PMD walk. */
      const entry = is_vm_hugetlb_page(vma)
        ? hmm_vma_walk_hugetlb_entry(mm, addr, want_write)
        : hmm_vma_handle(m, mm, addr, range, want_write);
      if (entry >= 0 && (!want_fault || (entry % MUL) & HMM_PFN_VALID)) {
        range.hmm_pfns.push(entry);
        break;
      }
      if (entry === -EFAULT || !want_fault) {
        if (want_fault) return -EFAULT;
        range.hmm_pfns.push(make(0, 0));
        break;
      }
      if (tries === 2) return -EBUSY;
      /* hmm_vma_fault: a write fault the VMA does not allow is refused before any fault is taken. */
      if (want_write && !(vma.vm_flags & VM_WRITE)) return -EPERM;
      const ret = handle_mm_fault(m, vma, addr, FAULT_FLAG_REMOTE | (want_write ? FAULT_FLAG_WRITE : 0));
      if (ret & VM_FAULT_ERROR) return -EFAULT;
      if (ret & VM_FAULT_RETRY) return -EBUSY;
      /* The fault itself may have invalidated the range (a copy-on-write, a migration back to RAM). */
      if (range_invalidated(range)) return -EBUSY;
    }
  }
  return 0;
}

/**
 * hmm_vma_handle_pte / hmm_vma_handle_pmd: the hmm_pfn for addr, or -1 when
 * the entry does not satisfy the request and needs a fault, or -EFAULT.
 */
function hmm_vma_handle(
  m: Machine,
  mm: mm_struct,
  addr: number,
  range: hmm_range,
  want_write: boolean,
): number {
  const pmd = pmdp_get(mm, addr);
  if (is_device_private_entry(pmd)) {
    /*
     * hmm_vma_handle_absent_pmd: the owner's own device-private THP is
     * reported whole, at PMD order, as it is: writable or not, whatever the
     * caller asked, never faulted.
     */
    const head = swp_offset_pfn(pmd);
    if (page_pgmap(m, head).owner !== range.dev_private_owner) return -1;
    const write = is_writable_device_private_entry(pmd);
    const page = head + ((addr / PAGE_SIZE) & ((1 << HPAGE_PMD_ORDER) - 1));
    return make(page, HMM_PFN_VALID | (write ? HMM_PFN_WRITE : 0) | HMM_PFN_ORDER_PMD);
  }
  if (is_migration_entry(pmd)) return -1;
  if (pmd_trans_huge(pmd)) {
    const head = pmd_pfn(pmd);
    if (want_write && !pte_write(pmd)) return -1;
    const page = is_huge_zero_pfn(m, head)
      ? m.zero_pfn
      : head + ((addr / PAGE_SIZE) & ((1 << HPAGE_PMD_ORDER) - 1));
    return make(page, HMM_PFN_VALID | (pte_write(pmd) ? HMM_PFN_WRITE : 0) | HMM_PFN_ORDER_PMD);
  }
  const table = pte_offset_map(mm, addr);
  const pte = table ? ptep_get(table, addr) : 0;
  if (pte_none(pte)) return -1;
  if (!pte_present(pte)) {
    if (is_device_private_entry(pte)) {
      const page = swp_offset_pfn(pte);
      /*
       * hmm_vma_handle_pte: "Don't fault in device private pages owned by the
       * caller, just report the PFN", before hmm_pte_need_fault is asked, so
       * a write request meets a read-only entry (after fork) unfaulted; a
       * driver that needs write access must migrate the page itself
       * (test_hmm's dmirror_do_fault WARNs and returns -EFAULT).
       */
      if (page_pgmap(m, page).owner === range.dev_private_owner) {
        const write = is_writable_device_private_entry(pte);
        return make(page, HMM_PFN_VALID | (write ? HMM_PFN_WRITE : 0));
      }
    }
    /* Another device's page, a device-exclusive or migration entry: fault (or wait) for it. */
    return -1;
  }
  if (pte_protnone(pte)) return -EFAULT;
  if (want_write && !pte_write(pte)) return -1;
  return make(pte_pfn(pte), HMM_PFN_VALID | (pte_write(pte) ? HMM_PFN_WRITE : 0));
}

/**
 * hmm_vma_walk_hugetlb_entry: a page of a hugetlb VMA reports its huge PTE:
 * valid (and writable) as the entry is, and always the huge page's order
 * (hmm_pfn_flags_order(huge_page_order)), whatever subpage it is. Returns -1
 * when write access is asked of a read-only entry (hmm_pte_need_fault).
 */
function hmm_vma_walk_hugetlb_entry(mm: mm_struct, addr: number, want_write: boolean): number {
  const entry = pmdp_get(mm, addr);
  /* pte_to_hmm_pfn_flags: nothing is valid in an empty entry; a fault is needed if one was asked for. */
  if (!pmd_trans_huge(entry)) return make(0, HMM_PFN_ORDER_PMD);
  if (want_write && !pte_write(entry)) return -1;
  const pfn = pmd_pfn(entry) + ((addr / PAGE_SIZE) & ((1 << HPAGE_PMD_ORDER) - 1));
  return make(pfn, HMM_PFN_VALID | (pte_write(entry) ? HMM_PFN_WRITE : 0) | HMM_PFN_ORDER_PMD);
}
