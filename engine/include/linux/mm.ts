/*
 * Mirrors include/linux/mm.h (and mm_types.h enums, page_ref.h): VMA flags,
 * FOLL_*, FAULT_FLAG_*, VM_FAULT_*, and the folio accessors.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: a folio is its head pfn; accessors take the Machine whose
 * mem_map holds it, where the kernel reaches the global mem_map.
 */
import type { Machine } from '../../machine';
import { HPAGE_PMD_ORDER, type vm_area_struct } from './mm_types';
import {
  PG_anon,
  PG_anon_exclusive,
  PG_head,
  PG_hugetlb,
  PG_locked,
  PG_reserved,
  PG_tail,
} from './page-flags';

/* vm_flags */
export const VM_NONE = 0;
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_PFNMAP = 0x400;
export const VM_IO = 0x4000;
export const VM_DONTCOPY = 0x20000;
/** MADV_WIPEONFORK: the child gets this VMA empty (zero-filled on fault), not a copy. */
export const VM_WIPEONFORK = 0x02000000;
/** The VMA may not grow by mremap (hugetlbfs sets it); part of VM_SPECIAL, so such a VMA never merges. */
export const VM_DONTEXPAND = 0x40000;
/** A hugetlbfs mapping (is_vm_hugetlb_page). */
export const VM_HUGETLB = 0x400000;
/** The VMA is new or grew since the last clear of soft-dirty bits (CONFIG_MEM_SOFT_DIRTY); sticky across merges. */
export const VM_SOFTDIRTY = 0x08000000;
export const VM_MIXEDMAP = 0x10000000;
export const VM_HUGEPAGE = 0x20000000;
export const VM_NOHUGEPAGE = 0x40000000;
export const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;

/**
 * vma_soft_dirty_enabled: soft-dirty tracking is on for a VMA once its
 * VM_SOFTDIRTY was cleared (echo 4 > /proc/pid/clear_refs) and until the
 * VMA is recreated or grows; then writes must fault to set the PTE bit.
 */
export const vma_soft_dirty_enabled = (vma: { vm_flags: number }): boolean => !(vma.vm_flags & VM_SOFTDIRTY);

/** is_cow_mapping: private and may become writable. */
export const is_cow_mapping = (flags: number): boolean => (flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
/** vma_is_accessible: the VMA allows some access (it is not PROT_NONE). */
export const vma_is_accessible = (vma: { vm_flags: number }): boolean =>
  (vma.vm_flags & VM_ACCESS_FLAGS) !== 0;

/** is_vm_hugetlb_page: the VMA maps hugetlb folios, one huge PTE (here a PMD) each. */
export const is_vm_hugetlb_page = (vma: { vm_flags: number }): boolean => (vma.vm_flags & VM_HUGETLB) !== 0;
/** vma_is_anonymous: no file behind it (MAP_SHARED|MAP_ANONYMOUS is shmem, so not anonymous). */
export const vma_is_anonymous = (vma: vm_area_struct): boolean => vma.vm_file === null;

/* PROT_* and MAP_* as passed to mmap/mprotect. */
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
/** Back an anonymous mapping with hugetlb pages of the default size. */
export const MAP_HUGETLB = 0x40000;

/* madvise advice */
export const MADV_DONTNEED = 4;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;
export const MADV_WIPEONFORK = 18;
export const MADV_KEEPONFORK = 19;
export const MADV_FREE = 8;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;
export const MADV_COLLAPSE = 25;

/* enum fault_flag */
export const FAULT_FLAG_WRITE = 1 << 0;
export const FAULT_FLAG_MKWRITE = 1 << 1;
export const FAULT_FLAG_ALLOW_RETRY = 1 << 2;
export const FAULT_FLAG_TRIED = 1 << 5;
export const FAULT_FLAG_USER = 1 << 6;
export const FAULT_FLAG_REMOTE = 1 << 7;
export const FAULT_FLAG_UNSHARE = 1 << 10;

/* vm_fault_t */
export const VM_FAULT_OOM = 0x000001;
export const VM_FAULT_SIGBUS = 0x000002;
export const VM_FAULT_HWPOISON = 0x000010;
export const VM_FAULT_SIGSEGV = 0x000040;
export const VM_FAULT_NOPAGE = 0x000100;
export const VM_FAULT_RETRY = 0x000400;
export const VM_FAULT_FALLBACK = 0x000800;
/** The ->fault handler filled vmf->cow_page itself (DAX's copy of a private write fault). */
export const VM_FAULT_DONE_COW = 0x001000;
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | VM_FAULT_HWPOISON;

/* enum foll_flags (include/linux/mm_types.h) and the internal ones from mm/internal.h */
export const FOLL_WRITE = 1 << 0;
export const FOLL_GET = 1 << 1;
export const FOLL_FORCE = 1 << 3;
export const FOLL_NOFAULT = 1 << 5;
export const FOLL_LONGTERM = 1 << 8;
export const FOLL_SPLIT_PMD = 1 << 9;
export const FOLL_PCI_P2PDMA = 1 << 10;
export const FOLL_TOUCH = 1 << 16;
export const FOLL_TRIED = 1 << 17;
export const FOLL_REMOTE = 1 << 18;
export const FOLL_PIN = 1 << 19;
export const FOLL_FAST_ONLY = 1 << 20;

/** GUP_PIN_COUNTING_BIAS: what one FOLL_PIN adds to the refcount of a folio without a pincount. */
export const GUP_PIN_COUNTING_BIAS = 1 << 10;

/* errno values returned as negative numbers, as the kernel does. */
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const ECHILD = 10;
export const EIO = 5;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EINVAL = 22;
export const EAGAIN = 11;
export const EMLINK = 31;
export const EOPNOTSUPP = 95;
export const ENXIO = 6;
export const ENOSPC = 28;
export const EREMOTEIO = 121;

/* ---- folio and page accessors ---- */

export const page_folio = (m: Machine, page: number): number =>
  m.mem.flags[page] & PG_tail ? page & ~((1 << HPAGE_PMD_ORDER) - 1) : page;
export const folio_test_large = (m: Machine, folio: number): boolean => (m.mem.flags[folio] & PG_head) !== 0;
export const folio_order = (m: Machine, folio: number): number => m.mem.order[folio];
export const folio_nr_pages = (m: Machine, folio: number): number => 1 << m.mem.order[folio];
export const folio_ref_count = (m: Machine, folio: number): number => m.mem._refcount[folio];
export const folio_test_anon = (m: Machine, folio: number): boolean => (m.mem.flags[folio] & PG_anon) !== 0;
export const folio_test_locked = (m: Machine, folio: number): boolean =>
  (m.mem.flags[folio] & PG_locked) !== 0;
export const PageAnonExclusive = (m: Machine, page: number): boolean =>
  (m.mem.flags[page] & PG_anon_exclusive) !== 0;
export const is_zero_pfn = (m: Machine, pfn: number): boolean => pfn === m.zero_pfn;
export const is_huge_zero_pfn = (m: Machine, pfn: number): boolean =>
  m.huge_zero_pfn >= 0 && pfn === m.huge_zero_pfn;
export const folio_is_reserved = (m: Machine, folio: number): boolean =>
  (m.mem.flags[folio] & PG_reserved) !== 0;
/** folio_is_zone_device: the folio belongs to a dev_pagemap rather than to RAM. */
export const folio_is_zone_device = (m: Machine, folio: number): boolean => m.mem.pgmap[folio] !== 0;
/** folio_test_hugetlb: a folio of the hugetlb pool, free or in use. */
export const folio_test_hugetlb = (m: Machine, folio: number): boolean =>
  (m.mem.flags[folio] & PG_hugetlb) !== 0;

/** folio_has_pincount: on 64-bit every large folio keeps an exact _pincount. */
export const folio_has_pincount = (m: Machine, folio: number): boolean => folio_test_large(m, folio);

/**
 * folio_mapcount: for a small folio its page's mapcount; for a large folio
 * the large mapcount, where each PTE mapping and each PMD mapping counts 1.
 */
export function folio_mapcount(m: Machine, folio: number): number {
  if (!folio_test_large(m, folio)) return m.mem._mapcount[folio];
  return m.mem._large_mapcount[folio >> HPAGE_PMD_ORDER];
}
export const folio_entire_mapcount = (m: Machine, folio: number): number =>
  folio_test_large(m, folio) ? m.mem._entire_mapcount[folio >> HPAGE_PMD_ORDER] : 0;
export const folio_mapped = (m: Machine, folio: number): boolean => folio_mapcount(m, folio) > 0;
/** folio_precise_page_mapcount: PTE mappings of this page plus PMD mappings of its folio. */
export const page_mapcount = (m: Machine, page: number): number =>
  m.mem._mapcount[page] + folio_entire_mapcount(m, page_folio(m, page));

/**
 * folio_maybe_dma_pinned: exact for folios with a pincount; otherwise a
 * refcount of GUP_PIN_COUNTING_BIAS or more looks pinned (false positives allowed).
 */
export function folio_maybe_dma_pinned(m: Machine, folio: number): boolean {
  if (folio_has_pincount(m, folio)) return m.mem._pincount[folio >> HPAGE_PMD_ORDER] > 0;
  return folio_ref_count(m, folio) >= GUP_PIN_COUNTING_BIAS;
}

/** folio_get: take a reference; the folio must already hold one. */
export function folio_ref_add(m: Machine, folio: number, nr: number): void {
  m.mem._refcount[folio] += nr;
}
export const folio_get = (m: Machine, folio: number): void => folio_ref_add(m, folio, 1);
export const EACCES = 13;
