/*
 * Mirrors mm/memory.c: the fault handlers, fork's page-table copy
 * (copy_page_range → copy_pmd_range → copy_pte_range → copy_present_pte /
 * copy_nonpresent_pte) and zap (unmap_vmas → zap_pmd_range → zap_pte_range).
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: no page-table lock, no per-VMA lock, no fault-around, no
 * mTHP orders, no userfaultfd, no NUMA hinting. PTE batches of large folios are
 * copied and zapped one PTE at a time, which gives the same counts. There is no
 * swap device, so no SWP_SWAPFILE entry is ever created.
 */

import { vma_is_fsdax } from '../include/linux/dax';
import { clear_highpage, copy_highpage } from '../include/linux/highmem';
import {
  EBUSY,
  EFAULT,
  EINVAL,
  ENOMEM,
  FAULT_FLAG_UNSHARE,
  FAULT_FLAG_WRITE,
  folio_get,
  folio_maybe_dma_pinned,
  folio_ref_count,
  folio_test_anon,
  folio_test_large,
  is_cow_mapping,
  is_vm_hugetlb_page,
  is_zero_pfn,
  PageAnonExclusive,
  page_folio,
  VM_ACCESS_FLAGS,
  VM_FAULT_DONE_COW,
  VM_FAULT_ERROR,
  VM_FAULT_NOPAGE,
  VM_FAULT_OOM,
  VM_FAULT_RETRY,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
  VM_MAYSHARE,
  VM_MIXEDMAP,
  VM_PFNMAP,
  VM_SHARED,
  VM_WRITE,
  vma_is_anonymous,
} from '../include/linux/mm';
import {
  type address_space,
  MM_ANONPAGES,
  MM_FILEPAGES,
  MM_SHMEMPAGES,
  MMF_HAS_PINNED,
  PAGE_SIZE,
  PMD_SIZE,
  type vm_area_struct,
} from '../include/linux/mm_types';
import { EngineUsageError, KernelInvariantViolation } from '../include/linux/mmdebug';
import {
  PG_anon,
  PG_anon_exclusive,
  PG_dirty,
  PG_head,
  PG_reserved,
  PG_swapbacked,
  PG_tail,
} from '../include/linux/page-flags';
import { folio_trylock, folio_unlock } from '../include/linux/pagemap';
import { type pfn_t, pfn_t_devmap } from '../include/linux/pfn_t';
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_PRESENT,
  _PAGE_PROTNONE,
  _PAGE_RW,
  _PAGE_SPECIAL,
  PFN_SHIFT,
  pfn_pte,
  pmd_is_table,
  pmd_none,
  pmd_trans_huge,
  pte_devmap,
  pte_dirty,
  pte_index,
  pte_mkclean,
  pte_mkdevmap,
  pte_mkdirty,
  pte_mkold,
  pte_mkspecial,
  pte_mkwrite,
  pte_mkyoung,
  pte_none,
  pte_pfn,
  pte_present,
  pte_protnone,
  pte_special,
  pte_write,
  pte_wrprotect,
} from '../include/linux/pgtable';
import {
  _PAGE_SWP_UFFD_WP,
  is_device_exclusive_entry,
  is_device_private_entry,
  is_migration_entry,
  is_readable_exclusive_migration_entry,
  is_writable_device_private_entry,
  is_writable_migration_entry,
  make_readable_device_private_entry,
  make_readable_migration_entry,
  pte_swp_uffd_wp,
  softleaf_type_of,
  swp_keep_bits,
  swp_offset_pfn,
} from '../include/linux/swapops';
import type { Machine } from '../machine';
import { filemap_fault } from './filemap';
import {
  __split_huge_pmd,
  copy_huge_pmd,
  do_huge_pmd_anonymous_page,
  do_huge_pmd_device_private,
  do_huge_pmd_wp_page,
  huge_pmd_set_accessed,
  thp_vma_allowable_order,
  zap_huge_pmd,
} from './huge_memory';
import { __unmap_hugepage_range, copy_hugetlb_page_range, hugetlb_fault } from './hugetlb';
import { page_pgmap } from './memremap';
import {
  mmu_notifier_invalidate_range_end,
  mmu_notifier_invalidate_range_start,
  mmu_notifier_range_init,
} from './mmu_notifier';
import { __alloc_pages } from './page_alloc';
import { __pte_alloc, pmdp_get, pte_offset_map, ptep_get, set_pte_at } from './pgtable-generic';
import {
  anon_vma_prepare,
  folio_add_file_rmap_ptes,
  folio_add_new_anon_rmap,
  folio_dup_file_rmap_ptes,
  folio_move_anon_rmap,
  folio_remove_rmap_pte,
  folio_try_dup_anon_rmap_ptes,
  RMAP_EXCLUSIVE,
  restore_exclusive_pte,
} from './rmap';
import { folio_put } from './swap';

/** struct vm_fault: what a fault handler needs to know. */
export interface vm_fault {
  readonly vma: vm_area_struct;
  /** Faulting address, rounded down to the page. */
  readonly address: number;
  flags: number;
  /** Page offset within the VMA's file or anon index space (linear_page_index). */
  readonly pgoff: number;
  /** The PTE as read when the fault started (vmf->orig_pte). */
  orig_pte: number;
  /** The page the PTE maps, once looked up (vmf->page); -1 for none. */
  page: number;
  /** do_cow_fault's new anonymous page, for a ->fault that fills it itself (vmf->cow_page). */
  cow_page?: number;
  /** The fault is on a PMD (vmf->pte == NULL): a device-private PMD fault. */
  pmd_fault?: boolean;
}

export const add_mm_counter = (vma: vm_area_struct, member: number, value: number): void => {
  vma.vm_mm.rss_stat[member] += value;
};

/** mm_counter: which rss counter a folio is accounted to. */
export function mm_counter(m: Machine, folio: number): number {
  if (folio_test_anon(m, folio)) return MM_ANONPAGES;
  return m.mem.flags[folio] & PG_swapbacked ? MM_SHMEMPAGES : MM_FILEPAGES;
}

/** mk_pte with the VMA's protection: present, writable only where a caller adds it, PROT_NONE kept. */
export function mk_pte(vma: vm_area_struct, pfn: number): number {
  return pfn_pte(pfn, vma.vm_flags & VM_ACCESS_FLAGS ? 0 : _PAGE_PROTNONE);
}

/** maybe_mkwrite: make a PTE writable only if the VMA allows writes. */
export const maybe_mkwrite = (pte: number, vma: vm_area_struct): number =>
  vma.vm_flags & VM_WRITE ? pte_mkwrite(pte) : pte;

/**
 * vm_normal_page: the refcounted page a present PTE maps, or -1 for a
 * "special" mapping: the shared zero page, PFN and mixed maps, and (the old
 * design, until ≈v6.15) devmap PTEs of FS-DAX and device-DAX, whose pages the
 * PTE does not reference-count. Any other special PTE is a bug (print_bad_pte).
 */
export function vm_normal_page(m: Machine, vma: vm_area_struct, addr: number, pte: number): number {
  const pfn = pte_pfn(pte);
  if (pte_special(pte)) {
    if (vma.vm_flags & (VM_PFNMAP | VM_MIXEDMAP)) return -1;
    if (is_zero_pfn(m, pfn)) return -1;
    if (pte_devmap(pte)) return -1;
    m.warn('vm_normal_page', `bad page map: special PTE of pfn ${pfn} at 0x${addr.toString(16)}`);
    return -1;
  }
  if (is_zero_pfn(m, pfn)) return -1;
  return pfn;
}

/* ------------------------------------------------------------------ */
/* Faults                                                               */
/* ------------------------------------------------------------------ */

/**
 * handle_mm_fault → __handle_mm_fault: pick the PMD-level or PTE-level handler.
 * Returns a vm_fault_t; 0 means the access can be retried and will succeed.
 */
export function handle_mm_fault(m: Machine, vma: vm_area_struct, address: number, flags: number): number {
  const mm = vma.vm_mm;
  const addr = address - (address % PAGE_SIZE);
  m.vm_events.PGFAULT++;
  if (is_vm_hugetlb_page(vma)) return hugetlb_fault(m, vma, addr, flags);
  /* sanitize_fault_flags: UNSHARE only means something in a COW mapping, and never with WRITE. */
  if (flags & FAULT_FLAG_UNSHARE) {
    if (flags & FAULT_FLAG_WRITE) return VM_FAULT_SIGSEGV;
    if (!is_cow_mapping(vma.vm_flags)) flags &= ~FAULT_FLAG_UNSHARE;
  }
  const vmf: vm_fault = {
    vma,
    address: addr,
    flags,
    pgoff: vma.vm_pgoff + (addr - vma.vm_start) / PAGE_SIZE,
    orig_pte: 0,
    page: -1,
  };
  const pmd = pmdp_get(mm, addr);
  if (pmd_none(pmd) && thp_vma_allowable_order(m, vma, addr)) {
    const ret = do_huge_pmd_anonymous_page(m, vmf);
    if (ret !== -1) return ret;
  } else if (pmd_trans_huge(pmd)) {
    if (flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE) && !(pmd & _PAGE_RW)) {
      const ret = do_huge_pmd_wp_page(m, vmf, pmd);
      if (ret !== -1) return ret;
    } else {
      huge_pmd_set_accessed(vmf, pmd);
      return 0;
    }
  } else if (!pmd_none(pmd) && !pmd_is_table(pmd)) {
    /* A non-present PMD: wait for a migration, or bring a device-private THP back. */
    if (is_migration_entry(pmd)) return migration_entry_wait(m, vmf);
    if (is_device_private_entry(pmd)) return do_huge_pmd_device_private(m, vmf, pmd);
    throw new KernelInvariantViolation(
      'PMD non-present entries are migration or device-private',
      -1,
      softleaf_type_of(pmd),
    );
  }
  return handle_pte_fault(m, vmf);
}

/** handle_pte_fault: none → anonymous or file fault; non-present → do_swap_page; write-protected → do_wp_page. */
export function handle_pte_fault(m: Machine, vmf: vm_fault): number {
  const table = pte_offset_map(vmf.vma.vm_mm, vmf.address);
  const pte = table ? ptep_get(table, vmf.address) : 0;
  vmf.orig_pte = pte;
  if (pte_none(pte)) return vma_is_anonymous(vmf.vma) ? do_anonymous_page(m, vmf) : do_fault(m, vmf);
  if (!pte_present(pte)) return do_swap_page(m, vmf);
  if (pte_protnone(pte)) return VM_FAULT_SIGSEGV;
  if (vmf.flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE) && !pte_write(pte)) return do_wp_page(m, vmf);
  /* A write to a writable PTE only needs the dirty and young bits. */
  const t = table as Uint32Array;
  set_pte_at(t, vmf.address, vmf.flags & FAULT_FLAG_WRITE ? pte_mkdirty(pte_mkyoung(pte)) : pte_mkyoung(pte));
  return 0;
}

/**
 * do_anonymous_page: a read maps the shared zero page read-only (a special
 * PTE, no reference); a write allocates a zeroed, exclusive anonymous page.
 */
export function do_anonymous_page(m: Machine, vmf: vm_fault): number {
  const { vma, address } = vmf;
  if (vma.vm_flags & VM_SHARED) return VM_FAULT_SIGBUS;
  const table = __pte_alloc(vma.vm_mm, address);
  if (!(vmf.flags & FAULT_FLAG_WRITE)) {
    set_pte_at(table, address, pfn_pte(m.zero_pfn, _PAGE_SPECIAL));
    return 0;
  }
  anon_vma_prepare(m, vma);
  const folio = __alloc_pages(m, m.zone, 0);
  if (folio < 0) return VM_FAULT_OOM;
  clear_highpage(m, folio);
  let entry = mk_pte(vma, folio);
  if (vma.vm_flags & VM_WRITE) entry = pte_mkwrite(pte_mkdirty(entry));
  add_mm_counter(vma, MM_ANONPAGES, 1);
  folio_add_new_anon_rmap(m, folio, vma, address, RMAP_EXCLUSIVE);
  set_pte_at(table, address, entry);
  return 0;
}

/** do_fault: dispatch a fault on a none PTE of a file (or shmem) mapping. */
export function do_fault(m: Machine, vmf: vm_fault): number {
  if (!(vmf.flags & FAULT_FLAG_WRITE)) return do_read_fault(m, vmf);
  if (!(vmf.vma.vm_flags & VM_SHARED)) return do_cow_fault(m, vmf);
  return do_shared_fault(m, vmf);
}

/**
 * __do_fault: ask the file for the page. A file with vm_ops (a DAX file) runs
 * its ->fault, which may install the PTE itself (VM_FAULT_NOPAGE) or fill
 * vmf->cow_page (VM_FAULT_DONE_COW); otherwise filemap_fault returns the
 * page-cache page in vmf->page with a reference for the caller.
 */
function __do_fault(m: Machine, vmf: vm_fault): number {
  const fault = vmf.vma.vm_file?.vm_ops?.fault;
  if (fault) return fault(vmf);
  vmf.page = filemap_fault(m, vmf);
  return vmf.page < 0 ? VM_FAULT_SIGBUS : 0;
}

/** finish_fault → set_pte_range: map a page-cache folio; the PTE takes over the fault's reference. */
function finish_fault(m: Machine, vmf: vm_fault, folio: number, write: boolean): void {
  const { vma, address } = vmf;
  const table = __pte_alloc(vma.vm_mm, address);
  let entry = mk_pte(vma, folio);
  if (write) entry = pte_mkwrite(pte_mkdirty(entry));
  folio_add_file_rmap_ptes(m, folio, folio, 1, vma);
  add_mm_counter(vma, mm_counter(m, folio), 1);
  set_pte_at(table, address, entry);
}

/** do_read_fault: map the page-cache page read-only. */
function do_read_fault(m: Machine, vmf: vm_fault): number {
  const ret = __do_fault(m, vmf);
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) return ret;
  finish_fault(m, vmf, vmf.page, false);
  return 0;
}

/** do_cow_fault: a write to a private file mapping copies the page-cache page into a new anonymous page. */
function do_cow_fault(m: Machine, vmf: vm_fault): number {
  const { vma, address } = vmf;
  anon_vma_prepare(m, vma);
  const cow = __alloc_pages(m, m.zone, 0);
  if (cow < 0) return VM_FAULT_OOM;
  vmf.cow_page = cow;
  const ret = __do_fault(m, vmf);
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) {
    folio_put(m, cow);
    return ret;
  }
  if (!(ret & VM_FAULT_DONE_COW)) {
    copy_highpage(m, cow, vmf.page);
    folio_put(m, vmf.page);
  }
  const table = __pte_alloc(vma.vm_mm, address);
  add_mm_counter(vma, MM_ANONPAGES, 1);
  folio_add_new_anon_rmap(m, cow, vma, address, RMAP_EXCLUSIVE);
  set_pte_at(table, address, maybe_mkwrite(pte_mkdirty(mk_pte(vma, cow)), vma));
  return 0;
}

/** do_shared_fault: a write to a shared mapping writes through to the page-cache page. */
function do_shared_fault(m: Machine, vmf: vm_fault): number {
  const ret = __do_fault(m, vmf);
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) return ret;
  m.mem.flags[vmf.page] |= PG_dirty;
  finish_fault(m, vmf, vmf.page, true);
  return 0;
}

/**
 * do_swap_page: a fault on a non-present entry. A migration entry makes the
 * fault wait for the migration to finish (the engine reports VM_FAULT_RETRY:
 * the access cannot complete while the migration is in progress). A
 * device-private entry calls the pagemap's migrate_to_ram with the page
 * locked and referenced; the driver moves the data back to system memory.
 */
export function do_swap_page(m: Machine, vmf: vm_fault): number {
  const entry = vmf.orig_pte;
  if (is_migration_entry(entry)) return migration_entry_wait(m, vmf);
  if (is_device_exclusive_entry(entry)) return remove_device_exclusive_entry(m, vmf);
  if (is_device_private_entry(entry)) {
    vmf.page = swp_offset_pfn(entry);
    /* Somebody else holds the page lock (a migration in progress): wait for it, then retry. */
    if (!folio_trylock(m, page_folio(m, vmf.page))) return migration_entry_wait(m, vmf);
    folio_get(m, page_folio(m, vmf.page));
    const ret = page_pgmap(m, vmf.page).ops.migrate_to_ram?.(vmf) ?? VM_FAULT_SIGBUS;
    /* The driver may have split a large folio meanwhile: the lock and reference are the piece's now. */
    folio_unlock(m, page_folio(m, vmf.page));
    folio_put(m, page_folio(m, vmf.page));
    return ret;
  }
  throw new EngineUsageError('not modelled', `fault on a ${softleaf_type_of(entry)} entry`);
}

/**
 * remove_device_exclusive_entry: the CPU wants the page back from the device.
 * Lock the folio (or retry), tell secondary MMUs for this one page
 * (MMU_NOTIFY_CLEAR with no owner, so the device drops its atomic mapping),
 * and restore the original PTE.
 */
function remove_device_exclusive_entry(m: Machine, vmf: vm_fault): number {
  const { vma, address } = vmf;
  const folio = page_folio(m, swp_offset_pfn(vmf.orig_pte));
  if (m.mem._refcount[folio] === 0) return 0;
  folio_get(m, folio);
  if (!folio_trylock(m, folio)) {
    folio_put(m, folio);
    return VM_FAULT_RETRY;
  }
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', vma.vm_mm, address, address + PAGE_SIZE);
  mmu_notifier_invalidate_range_start(range);
  const table = pte_offset_map(vma.vm_mm, address);
  if (table && ptep_get(table, address) === vmf.orig_pte)
    restore_exclusive_pte(m, vma, table, address, vmf.orig_pte);
  mmu_notifier_invalidate_range_end(range);
  folio_unlock(m, folio);
  folio_put(m, folio);
  return 0;
}

/** migration_entry_wait: sleep until the folio is unlocked; the caller retries the access. */
function migration_entry_wait(_m: Machine, _vmf: vm_fault): number {
  return VM_FAULT_RETRY;
}

/**
 * wp_can_reuse_anon_folio: may a write fault reuse this (not AE) anonymous
 * folio instead of copying it? Only if nobody else holds a reference.
 */
export function wp_can_reuse_anon_folio(m: Machine, folio: number, vma: vm_area_struct): boolean {
  if (folio_test_large(m, folio)) return __wp_can_reuse_large_anon_folio(m, folio, vma);
  /* Any extra reference (a GUP pin, a pipe holding the page after vmsplice) forces a copy. */
  if (folio_ref_count(m, folio) > 1) return false;
  folio_move_anon_rmap(m, folio, vma);
  return true;
}

/**
 * __wp_can_reuse_large_anon_folio: a PTE-mapped large folio is reused only if
 * every reference is a mapping in this mm, and more than one page is mapped
 * ("let's just free up a large folio if only a single page is mapped").
 */
function __wp_can_reuse_large_anon_folio(m: Machine, folio: number, vma: vm_area_struct): boolean {
  const b = folio >> 9;
  const mapcount = m.mem._large_mapcount[b];
  if (mapcount <= 1) return false;
  if (m.mem._mm_ids_shared[b]) return false;
  if (mapcount !== folio_ref_count(m, folio)) return false;
  folio_move_anon_rmap(m, folio, vma);
  return true;
}

/**
 * do_wp_page: a write (or unshare) fault on a present read-only PTE. Shared
 * mappings are made writable in place; private anonymous pages that are
 * exclusive (or can become so) are reused; everything else is copied.
 */
export function do_wp_page(m: Machine, vmf: vm_fault): number {
  const { vma, address } = vmf;
  const unshare = (vmf.flags & FAULT_FLAG_UNSHARE) !== 0;
  const table = pte_offset_map(vma.vm_mm, address) as Uint32Array;
  vmf.page = vm_normal_page(m, vma, address, vmf.orig_pte);

  if (vma.vm_flags & (VM_SHARED | VM_MAYSHARE)) {
    /* wp_pfn_shared: a PFN or FS-DAX mapping asks ->pfn_mkwrite (DAX dirties its entry and upgrades the PTE). */
    const pfn_mkwrite = vma.vm_file?.vm_ops?.pfn_mkwrite;
    if (pfn_mkwrite && (vmf.page < 0 || vma_is_fsdax(vma))) {
      const ret = pfn_mkwrite(vmf);
      if (ret & (VM_FAULT_ERROR | VM_FAULT_RETRY) || ptep_get(table, address) !== vmf.orig_pte) return ret;
    }
    /* wp_page_shared: no CoW in a shared mapping. */
    if (vmf.page >= 0) m.mem.flags[page_folio(m, vmf.page)] |= PG_dirty;
    set_pte_at(table, address, pte_mkyoung(pte_mkdirty(pte_mkwrite(vmf.orig_pte))));
    return 0;
  }
  const folio = vmf.page >= 0 ? page_folio(m, vmf.page) : -1;
  if (
    folio >= 0 &&
    folio_test_anon(m, folio) &&
    (PageAnonExclusive(m, vmf.page) || wp_can_reuse_anon_folio(m, folio, vma))
  ) {
    m.mem.flags[vmf.page] |= PG_anon_exclusive;
    if (unshare) return 0;
    wp_page_reuse(vmf, table);
    return 0;
  }
  return wp_page_copy(m, vmf, table);
}

/** wp_page_reuse: the page is ours alone: make the PTE writable, dirty and young. */
function wp_page_reuse(vmf: vm_fault, table: Uint32Array): void {
  set_pte_at(table, vmf.address, pte_mkyoung(maybe_mkwrite(pte_mkdirty(vmf.orig_pte), vmf.vma)));
}

/**
 * wp_page_copy: break CoW. Allocate a new exclusive anonymous page (zeroed
 * when the old one was the zero page), copy the data, invalidate secondary
 * MMUs for the page, switch the PTE, then drop the old mapping.
 */
export function wp_page_copy(m: Machine, vmf: vm_fault, table: Uint32Array): number {
  const { vma, address } = vmf;
  const unshare = (vmf.flags & FAULT_FLAG_UNSHARE) !== 0;
  const old_folio = vmf.page >= 0 ? page_folio(m, vmf.page) : -1;
  anon_vma_prepare(m, vma);
  const new_folio = __alloc_pages(m, m.zone, 0);
  if (new_folio < 0) return VM_FAULT_OOM;
  if (vmf.page >= 0) copy_highpage(m, new_folio, vmf.page);
  else if (is_zero_pfn(m, pte_pfn(vmf.orig_pte))) clear_highpage(m, new_folio);
  else __wp_page_copy_user(m, new_folio, vmf);

  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', vma.vm_mm, address, address + PAGE_SIZE);
  mmu_notifier_invalidate_range_start(range);
  if (old_folio >= 0 && !folio_test_anon(m, old_folio)) add_mm_counter(vma, mm_counter(m, old_folio), -1);
  if (old_folio < 0 || !folio_test_anon(m, old_folio)) add_mm_counter(vma, MM_ANONPAGES, 1);
  let entry = mk_pte(vma, new_folio);
  entry = unshare ? entry : maybe_mkwrite(pte_mkdirty(entry), vma);
  folio_add_new_anon_rmap(m, new_folio, vma, address, RMAP_EXCLUSIVE);
  set_pte_at(table, address, entry);
  if (old_folio >= 0) {
    folio_remove_rmap_pte(m, old_folio, vmf.page, vma);
    folio_put(m, old_folio);
  }
  mmu_notifier_invalidate_range_end(range);
  return 0;
}

/**
 * __wp_page_copy_user with no source page: copy what the special PTE maps
 * (an old-design devmap PTE) through the user mapping, as copy_from_user would.
 */
function __wp_page_copy_user(m: Machine, dst: number, vmf: vm_fault): void {
  m.mem.data[dst] = m.mem.data[pte_pfn(vmf.orig_pte)];
}

/**
 * vm_insert_page: a driver maps one of its own kernel pages into a user VMA,
 * which becomes VM_MIXEDMAP. The PTE holds a reference and a file-style
 * mapcount; it is writable only in a shared writable mapping.
 */
export function vm_insert_page(m: Machine, vma: vm_area_struct, addr: number, page: number): number {
  if (vma.vm_flags & VM_PFNMAP) return -EINVAL;
  vma.vm_flags |= VM_MIXEDMAP;
  const table = __pte_alloc(vma.vm_mm, addr);
  if (!pte_none(ptep_get(table, addr))) return -EBUSY;
  folio_get(m, page);
  add_mm_counter(vma, mm_counter(m, page), 1);
  folio_add_file_rmap_ptes(m, page, page, 1, vma);
  let pte = mk_pte(vma, page);
  if ((vma.vm_flags & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE)) pte = pte_mkwrite(pte);
  set_pte_at(table, addr, pte);
  return 0;
}

/**
 * vm_mixed_ok as before ≈v6.16: a mixed-map insertion needs a VM_MIXEDMAP VMA,
 * except for a devmap pfn (since v4.15, e1fb4a086495 "dax: remove VM_MIXEDMAP
 * for fsdax and device dax": DAX VMAs lost the flag, and pfn_t_devmap stood in
 * for it) and the zero page.
 */
function vm_mixed_ok(m: Machine, vma: vm_area_struct, pfn: pfn_t): boolean {
  if (vma.vm_flags & VM_MIXEDMAP) return true;
  if (pfn_t_devmap(pfn)) return true;
  return is_zero_pfn(m, pfn.pfn);
}

/**
 * insert_pfn: map a pfn with a special PTE that holds no reference, no
 * mapcount and no rss count. A devmap pfn gets a devmap PTE (pte_mkdevmap,
 * old design). With mkwrite, an existing PTE of the same pfn is made writable.
 */
function insert_pfn(vma: vm_area_struct, addr: number, pfn: pfn_t, mkwrite: boolean): number {
  const table = __pte_alloc(vma.vm_mm, addr);
  let entry = ptep_get(table, addr);
  if (!pte_none(entry)) {
    if (mkwrite && pte_pfn(entry) === pfn.pfn)
      set_pte_at(table, addr, maybe_mkwrite(pte_mkdirty(pte_mkyoung(entry)), vma));
    return VM_FAULT_NOPAGE;
  }
  entry = pfn_t_devmap(pfn) ? pte_mkdevmap(mk_pte(vma, pfn.pfn)) : pte_mkspecial(mk_pte(vma, pfn.pfn));
  if (mkwrite) entry = maybe_mkwrite(pte_mkdirty(pte_mkyoung(entry)), vma);
  set_pte_at(table, addr, entry);
  return VM_FAULT_NOPAGE;
}

/** __vm_insert_mixed: the old DAX fault's way in (ARCH_HAS_PTE_SPECIAL, so always insert_pfn). */
function __vm_insert_mixed(
  m: Machine,
  vma: vm_area_struct,
  addr: number,
  pfn: pfn_t,
  mkwrite: boolean,
): number {
  if (!vm_mixed_ok(m, vma, pfn)) return VM_FAULT_SIGBUS;
  if (addr < vma.vm_start || addr >= vma.vm_end) return VM_FAULT_SIGBUS;
  return insert_pfn(vma, addr, pfn, mkwrite);
}

/** vmf_insert_mixed: map pfn read-only (or as the VMA allows) without a page reference. */
export const vmf_insert_mixed = (m: Machine, vma: vm_area_struct, addr: number, pfn: pfn_t): number =>
  __vm_insert_mixed(m, vma, addr, pfn, false);

/** vmf_insert_mixed_mkwrite: the same for a write fault: writable, dirty, young. */
export const vmf_insert_mixed_mkwrite = (m: Machine, vma: vm_area_struct, addr: number, pfn: pfn_t): number =>
  __vm_insert_mixed(m, vma, addr, pfn, true);

/**
 * validate_page_before_insert: only a referenced, non-anonymous page may be
 * inserted; the zero page only where vm_mixed_zeropage_allowed (COW mappings,
 * read-only ones, and FS-DAX).
 */
function validate_page_before_insert(m: Machine, vma: vm_area_struct, page: number): number {
  const folio = page_folio(m, page);
  if (is_zero_pfn(m, page))
    return is_cow_mapping(vma.vm_flags) || !(vma.vm_flags & VM_WRITE) || vma_is_fsdax(vma) ? 0 : -EINVAL;
  if (!folio_ref_count(m, folio)) return -EINVAL;
  if (folio_test_anon(m, folio)) return -EINVAL;
  return 0;
}

/**
 * insert_page_into_pte_locked: a normal PTE that holds a reference, a file
 * mapcount and an rss count, as for any page-cache page (the zero page stays
 * special). With mkwrite, an existing PTE of the same page is made writable.
 */
function insert_page_into_pte_locked(
  m: Machine,
  vma: vm_area_struct,
  table: Uint32Array,
  addr: number,
  page: number,
  mkwrite: boolean,
): number {
  const folio = page_folio(m, page);
  let pteval = ptep_get(table, addr);
  if (!pte_none(pteval)) {
    if (!mkwrite) return -EBUSY;
    if (pte_pfn(pteval) !== page) {
      if (!is_zero_pfn(m, pte_pfn(pteval)))
        m.warn('insert_page_into_pte_locked', 'a different page is mapped');
      return -EFAULT;
    }
    set_pte_at(table, addr, pte_mkyoung(maybe_mkwrite(pteval, vma)));
    return 0;
  }
  if (is_zero_pfn(m, page)) pteval = pte_mkspecial(mk_pte(vma, page));
  else {
    folio_get(m, folio);
    pteval = mk_pte(vma, page);
    if (mkwrite) pteval = maybe_mkwrite(pte_mkdirty(pte_mkyoung(pteval)), vma);
    add_mm_counter(vma, mm_counter(m, folio), 1);
    folio_add_file_rmap_ptes(m, folio, page, 1, vma);
  }
  set_pte_at(table, addr, pteval);
  return 0;
}

/** insert_page: validate, then install the page in the PTE at addr. Returns 0 or -errno. */
function insert_page(m: Machine, vma: vm_area_struct, addr: number, page: number, mkwrite: boolean): number {
  const ret = validate_page_before_insert(m, vma, page);
  if (ret) return ret;
  return insert_page_into_pte_locked(m, vma, __pte_alloc(vma.vm_mm, addr), addr, page, mkwrite);
}

/**
 * vmf_insert_page_mkwrite (≈v6.15, Popple): how FS-DAX and device-DAX faults
 * map a page since the conversion: a normal, refcounted PTE, in a VMA that is
 * not VM_MIXEDMAP.
 */
export function vmf_insert_page_mkwrite(m: Machine, vmf: vm_fault, page: number, write: boolean): number {
  const { vma, address } = vmf;
  if (address < vma.vm_start || address >= vma.vm_end) return VM_FAULT_SIGBUS;
  const err = insert_page(m, vma, address, page, write);
  if (err === -ENOMEM) return VM_FAULT_OOM;
  if (err < 0 && err !== -EBUSY) return VM_FAULT_SIGBUS;
  return VM_FAULT_NOPAGE;
}

/* ------------------------------------------------------------------ */
/* fork: copy_page_range                                                */
/* ------------------------------------------------------------------ */

/**
 * copy_page_range: copy the parent VMA's page tables into the child's. For a
 * COW mapping, secondary MMUs are told the parent's range loses write access
 * (MMU_NOTIFY_PROTECTION_PAGE) and write_protect_seq is held odd, so a
 * concurrent GUP-fast pin backs off.
 */
export function copy_page_range(m: Machine, dst_vma: vm_area_struct, src_vma: vm_area_struct): number {
  if (is_vm_hugetlb_page(src_vma)) return copy_hugetlb_page_range(m, dst_vma, src_vma);
  const src_mm = src_vma.vm_mm;
  const cow = is_cow_mapping(src_vma.vm_flags);
  let range = null;
  if (cow) {
    range = mmu_notifier_range_init('MMU_NOTIFY_PROTECTION_PAGE', src_mm, src_vma.vm_start, src_vma.vm_end);
    mmu_notifier_invalidate_range_start(range);
    src_mm.write_protect_seq++;
  }
  let ret = 0;
  for (let addr = src_vma.vm_start; addr < src_vma.vm_end && ret === 0; ) {
    const next = Math.min(addr - (addr % PMD_SIZE) + PMD_SIZE, src_vma.vm_end);
    ret = copy_pmd_range(m, dst_vma, src_vma, addr, next);
    addr = next;
  }
  if (range) {
    src_mm.write_protect_seq++;
    mmu_notifier_invalidate_range_end(range);
  }
  return ret;
}

/** copy_pmd_range: a huge PMD goes to copy_huge_pmd; -EAGAIN from it (a pinned THP) means "split and copy PTEs". */
function copy_pmd_range(
  m: Machine,
  dst_vma: vm_area_struct,
  src_vma: vm_area_struct,
  addr: number,
  end: number,
): number {
  const pmd = pmdp_get(src_vma.vm_mm, addr);
  if (pmd_none(pmd)) return 0;
  if (!pmd_is_table(pmd)) {
    const err = copy_huge_pmd(m, dst_vma, src_vma, addr);
    if (err === -ENOMEM) return -ENOMEM;
    if (err === 0) return 0;
    /* -EAGAIN: the PMD was split; fall through to the PTE level. */
  }
  return copy_pte_range(m, dst_vma, src_vma, addr, end);
}

/** copy_pte_range: copy each PTE of [addr, end). */
export function copy_pte_range(
  m: Machine,
  dst_vma: vm_area_struct,
  src_vma: vm_area_struct,
  addr: number,
  end: number,
): number {
  const src_table = pte_offset_map(src_vma.vm_mm, addr);
  if (!src_table) return 0;
  const dst_table = __pte_alloc(dst_vma.vm_mm, addr);
  if (is_cow_mapping(src_vma.vm_flags) && !(src_vma.vm_flags & (VM_SHARED | VM_PFNMAP | VM_MIXEDMAP)))
    return copy_anon_ptes(m, dst_vma, src_vma, dst_table, src_table, addr, end);
  for (; addr < end; addr += PAGE_SIZE) {
    const pte = ptep_get(src_table, addr);
    if (pte_none(pte)) continue;
    const ret = pte_present(pte)
      ? copy_present_pte(m, dst_vma, src_vma, dst_table, src_table, addr, pte)
      : copy_nonpresent_pte(m, dst_vma, src_vma, dst_table, src_table, addr, pte);
    if (ret !== 0) return ret;
  }
  return 0;
}

/**
 * copy_pte_range for a private (COW) mapping, as the kernel's copy_present_ptes
 * batches a run of PTEs: a present, not special PTE of a small anonymous folio
 * is shared in place (PageAnonExclusive cleared, mapcount and reference taken,
 * both PTEs write-protected, the child's old), and the rss counter is added
 * once for the table. Anything else (a possibly pinned exclusive page, the
 * zero page, a large folio, a file page, a swap-style entry) goes through
 * copy_present_pte / copy_nonpresent_pte one PTE at a time, exactly as before.
 * The same states as the per-PTE path, in one loop over typed arrays.
 */
function copy_anon_ptes(
  m: Machine,
  dst_vma: vm_area_struct,
  src_vma: vm_area_struct,
  dst_table: Uint32Array,
  src_table: Uint32Array,
  addr: number,
  end: number,
): number {
  const flags = m.mem.flags;
  const mapcount = m.mem._mapcount;
  const refcount = m.mem._refcount;
  const zero = m.zero_pfn;
  const has_pinned = (src_vma.vm_mm.flags & MMF_HAS_PINNED) !== 0;
  let anon = 0;
  let ret = 0;
  for (let i = pte_index(addr), e = i + (end - addr) / PAGE_SIZE; i < e; i++) {
    const pte = src_table[i];
    if (pte === 0) continue;
    const pfn = pte >>> PFN_SHIFT;
    if ((pte & (_PAGE_PRESENT | _PAGE_SPECIAL)) === _PAGE_PRESENT && pfn !== zero) {
      const f = flags[pfn];
      if (
        (f & (PG_anon | PG_head | PG_tail)) === PG_anon &&
        !(f & PG_anon_exclusive && has_pinned && folio_maybe_dma_pinned(m, pfn))
      ) {
        /* __folio_try_dup_anon_rmap for a small folio, then folio_get. */
        flags[pfn] = f & ~PG_anon_exclusive;
        mapcount[pfn]++;
        refcount[pfn]++;
        anon++;
        const ro = (pte & ~_PAGE_RW) >>> 0;
        if (pte & _PAGE_RW) src_table[i] = ro;
        dst_table[i] = (ro & ~_PAGE_ACCESSED) >>> 0;
        continue;
      }
    }
    const a = addr + (i - pte_index(addr)) * PAGE_SIZE;
    ret = pte_present(pte)
      ? copy_present_pte(m, dst_vma, src_vma, dst_table, src_table, a, pte)
      : copy_nonpresent_pte(m, dst_vma, src_vma, dst_table, src_table, a, pte);
    if (ret !== 0) break;
  }
  add_mm_counter(dst_vma, MM_ANONPAGES, anon);
  return ret;
}

/**
 * copy_present_pte (copy_present_ptes with nr = 1): share the page with the
 * child, write-protecting both sides in a COW mapping and clearing
 * PageAnonExclusive. A possibly pinned exclusive anonymous page is copied for
 * the child instead (copy_present_page), so the pin keeps seeing the parent's page.
 */
function copy_present_pte(
  m: Machine,
  dst_vma: vm_area_struct,
  src_vma: vm_area_struct,
  dst_table: Uint32Array,
  src_table: Uint32Array,
  addr: number,
  pte: number,
): number {
  const page = vm_normal_page(m, src_vma, addr, pte);
  if (page >= 0) {
    const folio = page_folio(m, page);
    if (folio_test_anon(m, folio)) {
      if (folio_try_dup_anon_rmap_ptes(m, folio, page, 1, dst_vma, src_vma) !== 0)
        return copy_present_page(m, dst_vma, dst_table, addr, page);
      folio_get(m, folio);
    } else {
      folio_get(m, folio);
      folio_dup_file_rmap_ptes(m, folio, page, 1, dst_vma);
    }
    add_mm_counter(dst_vma, mm_counter(m, folio), 1);
  }
  if (is_cow_mapping(src_vma.vm_flags) && pte_write(pte)) {
    set_pte_at(src_table, addr, pte_wrprotect(pte));
    pte = pte_wrprotect(pte);
  }
  if (src_vma.vm_flags & VM_SHARED) pte = pte_mkclean(pte);
  set_pte_at(dst_table, addr, pte_mkold(pte));
  return 0;
}

/** copy_present_page: the eager copy for a possibly pinned page; the parent's PTE is left as it was. */
function copy_present_page(
  m: Machine,
  dst_vma: vm_area_struct,
  dst_table: Uint32Array,
  addr: number,
  page: number,
): number {
  anon_vma_prepare(m, dst_vma);
  const new_folio = __alloc_pages(m, m.zone, 0);
  if (new_folio < 0) return -ENOMEM;
  copy_highpage(m, new_folio, page);
  folio_add_new_anon_rmap(m, new_folio, dst_vma, addr, RMAP_EXCLUSIVE);
  add_mm_counter(dst_vma, MM_ANONPAGES, 1);
  let entry = pte_mkdirty(mk_pte(dst_vma, new_folio));
  entry = maybe_mkwrite(entry, dst_vma);
  set_pte_at(dst_table, addr, entry);
  return 0;
}

/**
 * copy_nonpresent_pte: duplicate a swap-style entry. Migration entries lose
 * write and exclusivity in both parent and child; device-private entries are
 * real mappings (reference and mapcount) and lose write in both.
 */
function copy_nonpresent_pte(
  m: Machine,
  dst_vma: vm_area_struct,
  src_vma: vm_area_struct,
  dst_table: Uint32Array,
  src_table: Uint32Array,
  addr: number,
  entry: number,
): number {
  const cow = is_cow_mapping(src_vma.vm_flags);
  let pte = entry;
  if (is_migration_entry(entry)) {
    const folio = page_folio(m, swp_offset_pfn(entry));
    add_mm_counter(dst_vma, mm_counter(m, folio), 1);
    if ((is_writable_migration_entry(entry) || is_readable_exclusive_migration_entry(entry)) && cow) {
      pte = swp_keep_bits(entry, make_readable_migration_entry(swp_offset_pfn(entry)));
      set_pte_at(src_table, addr, pte);
    }
  } else if (is_device_private_entry(entry)) {
    const page = swp_offset_pfn(entry);
    const folio = page_folio(m, page);
    folio_get(m, folio);
    /* Device-private pages cannot be pinned, so the dup cannot fail. */
    folio_try_dup_anon_rmap_ptes(m, folio, page, 1, dst_vma, src_vma);
    add_mm_counter(dst_vma, mm_counter(m, folio), 1);
    /*
     * copy_nonpresent_pte: "We do not preserve soft-dirty information" here:
     * the read-only entry written back to the parent, and copied to the
     * child, keeps only the uffd-wp bit.
     */
    if (is_writable_device_private_entry(entry) && cow) {
      pte = make_readable_device_private_entry(page) | (pte_swp_uffd_wp(entry) ? _PAGE_SWP_UFFD_WP : 0);
      set_pte_at(src_table, addr, pte);
    }
  } else if (is_device_exclusive_entry(entry)) {
    /*
     * Device-exclusive entries exist only in COW mappings. The parent's
     * original PTE is restored first (no fault, no notifier beyond fork's
     * own), then it is copied as any present PTE. A locked folio fails fork.
     */
    const folio = page_folio(m, swp_offset_pfn(entry));
    if (!folio_trylock(m, folio)) return -EBUSY;
    restore_exclusive_pte(m, src_vma, src_table, addr, entry);
    folio_unlock(m, folio);
    return copy_present_pte(m, dst_vma, src_vma, dst_table, src_table, addr, ptep_get(src_table, addr));
  } else {
    throw new EngineUsageError('not modelled', `fork of a ${softleaf_type_of(entry)} entry`);
  }
  set_pte_at(dst_table, addr, pte);
  return 0;
}

/* ------------------------------------------------------------------ */
/* zap                                                                  */
/* ------------------------------------------------------------------ */

/**
 * unmap_page_range → zap_pmd_range: tear down the mappings of [addr, end) in
 * one VMA. A huge PMD only partly covered is split first.
 */
export function unmap_page_range(m: Machine, vma: vm_area_struct, addr: number, end: number): void {
  /* unmap_single_vma: a hugetlb VMA has huge PTEs, not THPs. */
  if (is_vm_hugetlb_page(vma)) {
    __unmap_hugepage_range(m, vma, addr, end);
    return;
  }
  const mm = vma.vm_mm;
  while (addr < end) {
    const next = Math.min(addr - (addr % PMD_SIZE) + PMD_SIZE, end);
    let pmd = pmdp_get(mm, addr);
    if (!pmd_none(pmd) && !pmd_is_table(pmd)) {
      if (next - addr === PMD_SIZE) {
        zap_huge_pmd(m, vma, addr);
        addr = next;
        continue;
      }
      __split_huge_pmd(m, vma, addr - (addr % PMD_SIZE));
      pmd = pmdp_get(mm, addr);
    }
    if (pmd_is_table(pmd)) zap_pte_range(m, vma, addr, next);
    addr = next;
  }
}

/** zap_pte_range: clear each PTE, dropping its rss count, mapcount and reference. */
export function zap_pte_range(m: Machine, vma: vm_area_struct, addr: number, end: number): void {
  const table = pte_offset_map(vma.vm_mm, addr);
  if (!table) return;
  /*
   * zap_present_ptes for a present, not special PTE of a small anonymous
   * RAM folio, inline: the dirty bit goes to the folio, the mapcount and the
   * reference are dropped (folio_put frees it at zero), and the rss counter is
   * subtracted once for the table. Everything else takes zap_present_pte /
   * zap_nonpresent_pte.
   */
  const flags = m.mem.flags;
  const mapcount = m.mem._mapcount;
  const pgmap = m.mem.pgmap;
  const zero = m.zero_pfn;
  let anon = 0;
  for (let i = pte_index(addr), e = i + (end - addr) / PAGE_SIZE; i < e; i++) {
    const pte = table[i];
    if (pte === 0) continue;
    table[i] = 0;
    const pfn = pte >>> PFN_SHIFT;
    if (
      (pte & (_PAGE_PRESENT | _PAGE_SPECIAL)) === _PAGE_PRESENT &&
      pfn !== zero &&
      (flags[pfn] & (PG_anon | PG_head | PG_tail | PG_reserved)) === PG_anon &&
      pgmap[pfn] === 0
    ) {
      if (pte & _PAGE_DIRTY) flags[pfn] |= PG_dirty;
      anon++;
      mapcount[pfn]--;
      folio_put(m, pfn);
      continue;
    }
    const a = addr + (i - pte_index(addr)) * PAGE_SIZE;
    if (pte_present(pte)) zap_present_pte(m, vma, a, pte);
    else zap_nonpresent_pte(m, vma, pte);
  }
  add_mm_counter(vma, MM_ANONPAGES, -anon);
}

/** zap_present_ptes: a special or zero-page PTE is just cleared. */
function zap_present_pte(m: Machine, vma: vm_area_struct, addr: number, pte: number): void {
  const page = vm_normal_page(m, vma, addr, pte);
  if (page < 0) return;
  const folio = page_folio(m, page);
  if (pte_dirty(pte)) m.mem.flags[folio] |= PG_dirty;
  add_mm_counter(vma, mm_counter(m, folio), -1);
  folio_remove_rmap_pte(m, folio, page, vma);
  folio_put(m, folio);
}

/**
 * zap_nonpresent_ptes: device entries drop their mapping at once; migration
 * entries only their rss count. Device-private and device-exclusive entries
 * only ever map anonymous folios, but not only in anonymous VMAs: a
 * MAP_PRIVATE file mapping's copy-on-write pages migrate too (hmm-tests.c
 * migrate_file_private), so the check is on the folio, as in commit
 * be3f38d05cc5 ("mm/memory: fix spurious warning when unmapping
 * device-private/exclusive pages"); it used to be WARN_ON_ONCE(!vma_is_anonymous(vma)).
 */
function zap_nonpresent_pte(m: Machine, vma: vm_area_struct, entry: number): void {
  const page = swp_offset_pfn(entry);
  const folio = page_folio(m, page);
  if (is_device_private_entry(entry) || is_device_exclusive_entry(entry)) {
    if (!folio_test_anon(m, folio))
      m.warn('zap_nonpresent_ptes', 'device entry for a folio that is not anonymous');
    add_mm_counter(vma, mm_counter(m, folio), -1);
    folio_remove_rmap_pte(m, folio, page, vma);
    folio_put(m, folio);
  } else if (is_migration_entry(entry)) {
    add_mm_counter(vma, mm_counter(m, folio), -1);
  } else {
    throw new EngineUsageError('not modelled', `zap of a ${softleaf_type_of(entry)} entry`);
  }
}

/**
 * unmap_mapping_pages: zap the PTEs of pages [start, start + nr) of a file in
 * every VMA that maps them (zap_page_range_single, MMU_NOTIFY_CLEAR).
 * Simplified: even_cows is always true, so private CoW copies go as well.
 */
export function unmap_mapping_pages(m: Machine, mapping: address_space, start: number, nr: number): void {
  for (const vma of [...mapping.i_mmap]) {
    const first = Math.max(start, vma.vm_pgoff);
    const last = Math.min(start + nr, vma.vm_pgoff + (vma.vm_end - vma.vm_start) / PAGE_SIZE);
    if (first >= last) continue;
    const from = vma.vm_start + (first - vma.vm_pgoff) * PAGE_SIZE;
    const to = vma.vm_start + (last - vma.vm_pgoff) * PAGE_SIZE;
    const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', vma.vm_mm, from, to);
    mmu_notifier_invalidate_range_start(range);
    unmap_page_range(m, vma, from, to);
    mmu_notifier_invalidate_range_end(range);
  }
}
