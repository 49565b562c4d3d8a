/*
 * Mirrors mm/gup.c: get_user_pages / pin_user_pages (slow path), try_grab_folio,
 * gup_put_folio, and the follow_page_mask walk with its unshare rule.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: only the slow path (no GUP-fast); FOLL_LONGTERM pins of
 * system RAM need no migration because the engine has no ZONE_MOVABLE or CMA.
 * The huge zero folio is never grabbed: a GUP of it pins nothing, like the
 * small zero page.
 */

import {
  EFAULT,
  EINVAL,
  ENOMEM,
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_UNSHARE,
  FAULT_FLAG_WRITE,
  FOLL_FORCE,
  FOLL_GET,
  FOLL_LONGTERM,
  FOLL_PIN,
  FOLL_WRITE,
  folio_has_pincount,
  folio_test_anon,
  GUP_PIN_COUNTING_BIAS,
  is_cow_mapping,
  is_huge_zero_pfn,
  is_zero_pfn,
  PageAnonExclusive,
  page_folio,
  VM_ACCESS_FLAGS,
  VM_FAULT_ERROR,
  VM_FAULT_OOM,
  VM_FAULT_RETRY,
  VM_IO,
  VM_PFNMAP,
  VM_WRITE,
} from '../include/linux/mm';
import {
  HPAGE_PMD_ORDER,
  MMF_HAS_PINNED,
  type mm_struct,
  PAGE_SIZE,
  type vm_area_struct,
} from '../include/linux/mm_types';
import {
  pmd_pfn,
  pmd_trans_huge,
  pte_pfn,
  pte_present,
  pte_protnone,
  pte_write,
} from '../include/linux/pgtable';
import type { Machine } from '../machine';
import { handle_mm_fault, vm_normal_page } from './memory';
import { find_vma } from './mmap';
import { pmdp_get, pte_offset_map, ptep_get } from './pgtable-generic';
import { folio_put_refs } from './swap';

/** follow_page_mask found no usable page: the caller must fault (faultin_page) and retry. */
const NEED_FAULT = -1;
/** -EMLINK from follow_page_mask: a read-only pin of a shared anonymous page must unshare first. */
const MUST_UNSHARE = -2;

/**
 * gup_must_unshare: a FOLL_PIN without FOLL_WRITE must not pin a page that is
 * shared by CoW, or a later write by either process would leave the pin
 * looking at a stale copy. Anonymous pages must be exclusive; in a COW
 * mapping, a long-term pin of a non-anonymous page (file, zero page) unshares too.
 */
export function gup_must_unshare(m: Machine, vma: vm_area_struct, flags: number, page: number): boolean {
  if ((flags & (FOLL_WRITE | FOLL_PIN)) !== FOLL_PIN) return false;
  if (is_zero_pfn(m, page) || !folio_test_anon(m, page_folio(m, page))) {
    if (!(flags & FOLL_LONGTERM)) return false;
    return is_cow_mapping(vma.vm_flags);
  }
  return !PageAnonExclusive(m, page);
}

/**
 * can_follow_write_pte: a FOLL_WRITE lookup needs a writable PTE, except that
 * FOLL_FORCE may write through a read-only private mapping to an exclusive
 * anonymous page (ptrace pokes).
 */
function can_follow_write(
  m: Machine,
  vma: vm_area_struct,
  flags: number,
  writable: boolean,
  page: number,
): boolean {
  if (writable) return true;
  if (!(flags & FOLL_FORCE) || vma.vm_flags & VM_WRITE || !is_cow_mapping(vma.vm_flags)) return false;
  return (
    page >= 0 &&
    !is_zero_pfn(m, page) &&
    folio_test_anon(m, page_folio(m, page)) &&
    PageAnonExclusive(m, page)
  );
}

/** follow_page_mask: the page mapped at addr if GUP may take it as it is. */
function follow_page_mask(m: Machine, vma: vm_area_struct, addr: number, flags: number): number {
  const mm = vma.vm_mm;
  const pmd = pmdp_get(mm, addr);
  if (pmd_trans_huge(pmd)) {
    /* follow_huge_pmd */
    const page = pmd_pfn(pmd) + ((addr >> 12) & ((1 << HPAGE_PMD_ORDER) - 1));
    if (is_huge_zero_pfn(m, pmd_pfn(pmd))) return flags & FOLL_WRITE ? NEED_FAULT : m.zero_pfn;
    if (flags & FOLL_WRITE && !can_follow_write(m, vma, flags, pte_write(pmd), pmd_pfn(pmd)))
      return NEED_FAULT;
    if (!pte_write(pmd) && gup_must_unshare(m, vma, flags, pmd_pfn(pmd))) return MUST_UNSHARE;
    return page;
  }
  const table = pte_offset_map(mm, addr);
  const pte = table ? ptep_get(table, addr) : 0;
  /* None, non-present (device-private, migration, device-exclusive) and PROT_NONE entries all need a fault. */
  if (!pte_present(pte) || pte_protnone(pte)) return NEED_FAULT;
  let page = vm_normal_page(m, vma, addr, pte);
  if (page < 0) {
    if (!is_zero_pfn(m, pte_pfn(pte))) return -EFAULT;
    page = m.zero_pfn;
  }
  if (flags & FOLL_WRITE && !can_follow_write(m, vma, flags, pte_write(pte), page)) return NEED_FAULT;
  if (!pte_write(pte) && gup_must_unshare(m, vma, flags, page)) return MUST_UNSHARE;
  return page;
}

/**
 * try_grab_folio: FOLL_GET adds one reference per ref; FOLL_PIN adds
 * GUP_PIN_COUNTING_BIAS per ref to a small folio, or one reference and one
 * pincount to a large one. The shared zero page is never counted.
 */
export function try_grab_folio(m: Machine, folio: number, refs: number, flags: number): number {
  if (m.mem._refcount[folio] <= 0) return -ENOMEM;
  if (flags & FOLL_GET) m.mem._refcount[folio] += refs;
  else if (flags & FOLL_PIN) {
    if (is_zero_pfn(m, folio)) return 0;
    if (folio_has_pincount(m, folio)) {
      m.mem._refcount[folio] += refs;
      m.mem._pincount[folio >> HPAGE_PMD_ORDER] += refs;
    } else m.mem._refcount[folio] += refs * GUP_PIN_COUNTING_BIAS;
  }
  return 0;
}

/** gup_put_folio: undo try_grab_folio. */
export function gup_put_folio(m: Machine, folio: number, refs: number, flags: number): void {
  if (flags & FOLL_PIN) {
    if (is_zero_pfn(m, folio)) return;
    if (folio_has_pincount(m, folio)) m.mem._pincount[folio >> HPAGE_PMD_ORDER] -= refs;
    else refs *= GUP_PIN_COUNTING_BIAS;
  }
  folio_put_refs(m, folio, refs);
}

/** check_vma_flags: may GUP use this VMA with these flags? */
function check_vma_flags(vma: vm_area_struct, flags: number): number {
  if (vma.vm_flags & (VM_IO | VM_PFNMAP)) return -EFAULT;
  if (flags & FOLL_WRITE) {
    if (!(vma.vm_flags & VM_WRITE) && !(flags & FOLL_FORCE && is_cow_mapping(vma.vm_flags))) return -EFAULT;
  } else if (!(vma.vm_flags & VM_ACCESS_FLAGS) && !(flags & FOLL_FORCE)) return -EFAULT;
  return 0;
}

/** faultin_page: fault the page in (or unshare it) as a user access would. */
function faultin_page(
  m: Machine,
  vma: vm_area_struct,
  addr: number,
  flags: number,
  unshare: boolean,
): number {
  let fault_flags = FAULT_FLAG_REMOTE;
  if (flags & FOLL_WRITE) fault_flags |= FAULT_FLAG_WRITE;
  if (unshare) fault_flags |= FAULT_FLAG_UNSHARE;
  const ret = handle_mm_fault(m, vma, addr, fault_flags);
  if (ret & VM_FAULT_OOM) return -ENOMEM;
  if (ret & VM_FAULT_ERROR) return -EFAULT;
  if (ret & VM_FAULT_RETRY) return -EFAULT;
  return 0;
}

/**
 * is_valid_gup_args: FOLL_GET and FOLL_PIN exclude each other, and
 * FOLL_LONGTERM only makes sense with FOLL_PIN.
 */
function is_valid_gup_args(flags: number): boolean {
  if (flags & FOLL_GET && flags & FOLL_PIN) return false;
  if (flags & FOLL_LONGTERM && !(flags & FOLL_PIN)) return false;
  return true;
}

/**
 * __get_user_pages: look up (faulting in where needed) and grab nr_pages pages
 * from start. Returns how many were grabbed, or a negative errno if none was.
 */
export function __get_user_pages(
  m: Machine,
  mm: mm_struct,
  start: number,
  nr_pages: number,
  flags: number,
  pages: number[],
): number {
  if (!is_valid_gup_args(flags)) return -EINVAL;
  if (flags & FOLL_PIN) mm.flags |= MMF_HAS_PINNED;
  for (let i = 0; i < nr_pages; i++) {
    const addr = start + i * PAGE_SIZE;
    const vma = find_vma(mm, addr);
    const err = vma ? check_vma_flags(vma, flags) : -EFAULT;
    if (err) return i ? i : err;
    const v = vma as vm_area_struct;
    let page = follow_page_mask(m, v, addr, flags);
    for (let tries = 0; page < 0 && tries < 3; tries++) {
      if (page !== NEED_FAULT && page !== MUST_UNSHARE) return i ? i : page;
      const ret = faultin_page(m, v, addr, flags, page === MUST_UNSHARE);
      if (ret) return i ? i : ret;
      page = follow_page_mask(m, v, addr, flags);
    }
    if (page < 0) return i ? i : -EFAULT;
    const ret = try_grab_folio(m, page_folio(m, page), 1, flags);
    if (ret) return i ? i : ret;
    pages.push(page);
  }
  return nr_pages;
}

/** get_user_pages: FOLL_GET references (for struct page access). */
export const get_user_pages = (
  m: Machine,
  mm: mm_struct,
  start: number,
  nr: number,
  flags: number,
  pages: number[],
) => __get_user_pages(m, mm, start, nr, flags | FOLL_GET, pages);

/** pin_user_pages: FOLL_PIN pins (for DMA to or from the page contents). */
export const pin_user_pages = (
  m: Machine,
  mm: mm_struct,
  start: number,
  nr: number,
  flags: number,
  pages: number[],
) => __get_user_pages(m, mm, start, nr, flags | FOLL_PIN, pages);

/** unpin_user_page. */
export const unpin_user_page = (m: Machine, page: number): void =>
  gup_put_folio(m, page_folio(m, page), 1, FOLL_PIN);

/** put_page for a FOLL_GET reference. */
export const put_page = (m: Machine, page: number): void =>
  gup_put_folio(m, page_folio(m, page), 1, FOLL_GET);
