/*
 * Mirrors mm/hugetlb.c, with the pieces of fs/hugetlbfs/inode.c
 * (hugetlb_file_setup, hugetlbfs_file_mmap) and include/linux/hugetlb.h that
 * an anonymous MAP_HUGETLB mapping goes through: the pool of hugetlb folios,
 * its reservations, and the fault, fork, mprotect and zap of huge PTEs.
 * Kernel: linux-mm tree, 2026 (mm/hugetlb.c @ 01af3bb0d66b).
 *
 * Simplified here:
 * - One hstate, the default: 2 MiB pages (PMD order). No gigantic pages, no
 *   surplus pages (nr_overcommit_hugepages stays 0), no subpools, no cgroup
 *   charges, one NUMA node, no vmemmap optimisation, no hwpoison, no
 *   userfaultfd, no migration of hugetlb folios.
 * - The pool is filled at boot (hugepages=N: MachineConfig.nr_hugepages).
 * - Only private mappings. A MAP_HUGETLB mapping is backed, as in the
 *   kernel, by an unlinked hugetlbfs file, but nothing ever enters its page
 *   cache: MAP_SHARED hugetlb memory (and so PMD sharing) is not modelled.
 * - A huge PTE is the PMD entry, as on x86 (pfn_pmd, _PAGE_PSE). PROT_NONE
 *   is not modelled for hugetlb: the engine's PMD has no protnone bit of its
 *   own (it would alias _PAGE_PSE).
 * - The reservation map of a private mapping (resv_map) is the set of huge
 *   page indices whose reservation a fault consumed, which is what
 *   region_add/region_del record for a private mapping.
 * - mremap of a hugetlb mapping and unmap_ref_private (the owner of a
 *   private mapping taking a shared page back from its children when the
 *   pool is empty) are not modelled.
 */

import {
  EINVAL,
  ENOMEM,
  ENOSPC,
  FAULT_FLAG_UNSHARE,
  FAULT_FLAG_WRITE,
  folio_get,
  folio_mapcount,
  folio_test_anon,
  is_cow_mapping,
  PageAnonExclusive,
  VM_ACCESS_FLAGS,
  VM_DONTEXPAND,
  VM_FAULT_RETRY,
  VM_FAULT_SIGBUS,
  VM_HUGETLB,
  VM_MAYSHARE,
  VM_SHARED,
  VM_WRITE,
} from '../include/linux/mm';
import {
  type address_space,
  HPAGE_PMD_NR,
  HPAGE_PMD_ORDER,
  type mm_struct,
  PAGE_SIZE,
  PMD_SIZE,
  type vm_area_struct,
} from '../include/linux/mm_types';
import { EngineUsageError } from '../include/linux/mmdebug';
import { PG_anon_exclusive, PG_dirty, PG_head, PG_hugetlb, PG_tail } from '../include/linux/page-flags';
import { folio_trylock, folio_unlock } from '../include/linux/pagemap';
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_RW,
  pfn_pmd,
  pmd_dirty,
  pmd_none,
  pmd_pfn,
  pmd_trans_huge,
  pte_write,
  pte_wrprotect,
} from '../include/linux/pgtable';
import type { Machine } from '../machine';
import {
  mmu_notifier_invalidate_range_end,
  mmu_notifier_invalidate_range_start,
  mmu_notifier_range_init,
} from './mmu_notifier';
import { __alloc_pages } from './page_alloc';
import { pmdp_get, set_pmd_at } from './pgtable-generic';
import {
  anon_vma_prepare,
  folio_move_anon_rmap,
  hugetlb_add_new_anon_rmap,
  hugetlb_remove_rmap,
  hugetlb_try_dup_anon_rmap,
} from './rmap';
import { folio_put } from './swap';

/** struct hstate: the pool of one huge page size and its counters (HugePages_* in /proc/meminfo). */
export interface hstate {
  readonly order: number;
  nr_huge_pages: number;
  free_huge_pages: number;
  resv_huge_pages: number;
  /** hugepage_freelists: the free folios (head pfns), last freed first out. */
  readonly hugepage_freelist: number[];
  /**
   * folio_test_hugetlb_restore_reserve (the kernel keeps it in folio->private):
   * the folio still stands for a reservation, which freeing it gives back.
   */
  readonly restore_reserve: Set<number>;
}

/** struct resv_map of a private mapping: the huge page indices whose reservation was consumed. */
export interface resv_map {
  readonly consumed: Set<number>;
}

/** What vm_private_data holds for a hugetlb VMA: its resv_map and the HPAGE_RESV_OWNER flag. */
interface hugetlb_vma_private {
  readonly resv: resv_map;
  readonly owner: boolean;
}

const huge_page_size = PMD_SIZE;
const pages_per_huge_page = HPAGE_PMD_NR;
const haddr_of = (addr: number): number => addr - (addr % huge_page_size);

const vma_private = (vma: vm_area_struct): hugetlb_vma_private | null =>
  (vma.vm_private_data as hugetlb_vma_private | undefined) ?? null;

/** is_vma_resv_set(vma, HPAGE_RESV_OWNER): the private mapping that made the reservation (not a fork child). */
const is_resv_owner = (vma: vm_area_struct): boolean => vma_private(vma)?.owner === true;

/** vma_hugecache_offset: the huge page index of addr in the mapping's file. */
export const vma_hugecache_offset = (vma: vm_area_struct, addr: number): number =>
  Math.floor((addr - vma.vm_start) / huge_page_size) + (vma.vm_pgoff >> HPAGE_PMD_ORDER);

/* ------------------------------------------------------------------ */
/* The pool                                                             */
/* ------------------------------------------------------------------ */

/**
 * hugetlb_init → hugetlb_hstate_alloc_pages: fill the default hstate's pool
 * with nr folios from the buddy allocator. A pool that cannot be filled
 * stays smaller ("HugeTLB: allocating N of page size 2.00 MiB failed").
 */
export function hugetlb_init(m: Machine, nr: number): hstate {
  const h: hstate = {
    order: HPAGE_PMD_ORDER,
    nr_huge_pages: 0,
    free_huge_pages: 0,
    resv_huge_pages: 0,
    hugepage_freelist: [],
    restore_reserve: new Set(),
  };
  for (let i = 0; i < nr; i++) {
    const folio = alloc_pool_huge_folio(m, h);
    if (folio < 0) {
      m.warn('hugetlb_hstate_alloc_pages', `HugeTLB: allocating ${nr} of page size 2.00 MiB failed`);
      break;
    }
  }
  return h;
}

/**
 * alloc_pool_huge_folio: a fresh PMD-order folio from the buddy allocator,
 * made a hugetlb folio (init_new_hugetlb_folio) and freed into the pool,
 * where it sits at refcount 0.
 */
function alloc_pool_huge_folio(m: Machine, h: hstate): number {
  const folio = __alloc_pages(m, m.zone, h.order);
  if (folio < 0) return -1;
  m.mem.flags[folio] |= PG_hugetlb;
  m.mem._refcount[folio] = 0;
  h.nr_huge_pages++;
  enqueue_hugetlb_folio(h, folio);
  return folio;
}

function enqueue_hugetlb_folio(h: hstate, folio: number): void {
  h.hugepage_freelist.push(folio);
  h.free_huge_pages++;
}

/** dequeue_hugetlb_folio_node_exact: take a free folio out of the pool, at refcount 1. */
function dequeue_hugetlb_folio(m: Machine, h: hstate): number {
  const folio = h.hugepage_freelist.pop();
  if (folio === undefined) return -1;
  h.free_huge_pages--;
  m.mem._refcount[folio] = 1;
  return folio;
}

/**
 * hugetlb_acct_memory → gather_surplus_pages: reserve delta more pages of the
 * pool, or give delta back. With no overcommit, a reservation needs that many
 * free pages nobody has reserved yet.
 */
function hugetlb_acct_memory(h: hstate, delta: number): number {
  if (delta > 0 && h.resv_huge_pages + delta > h.free_huge_pages) return -ENOMEM;
  h.resv_huge_pages += delta;
  return 0;
}

/**
 * vma_needs_reservation for a private mapping: 0 while the owner still holds
 * the reservation for this index, 1 once a fault consumed it, and always 1
 * for a VMA without reserves (a fork child, or one whose owner split off).
 */
function vma_needs_reservation(vma: vm_area_struct, addr: number): number {
  const p = vma_private(vma);
  if (!p?.owner) return 1;
  return p.resv.consumed.has(vma_hugecache_offset(vma, addr)) ? 1 : 0;
}

/**
 * alloc_hugetlb_folio: a folio for a fault at addr. It uses the mapping's
 * reservation if it still has one for this index (not for the owner's own
 * CoW, cow_from_owner), and otherwise only a free page nobody reserved
 * (dequeue_hugetlb_folio_vma: a child must not steal its parent's reserve).
 * Returns the folio at refcount 1, or -ENOSPC.
 */
export function alloc_hugetlb_folio(
  m: Machine,
  vma: vm_area_struct,
  addr: number,
  cow_from_owner: boolean,
): number {
  const h = m.hstate;
  const use_reserve = !cow_from_owner && vma_needs_reservation(vma, addr) === 0;
  if (!use_reserve && h.free_huge_pages - h.resv_huge_pages <= 0) return -ENOSPC;
  const folio = dequeue_hugetlb_folio(m, h);
  if (folio < 0) return -ENOSPC;
  if (use_reserve) {
    h.resv_huge_pages--;
    h.restore_reserve.add(folio);
  }
  /* vma_commit_reservation: the owner's index is consumed now. */
  const p = vma_private(vma);
  if (p?.owner) p.resv.consumed.add(vma_hugecache_offset(vma, addr));
  return folio;
}

/**
 * free_huge_folio: the last reference went (folio_put → __folio_put). The
 * folio goes back to the pool, with its reservation if it still stood for one.
 */
export function free_huge_folio(m: Machine, folio: number): void {
  const h = m.hstate;
  if (h.restore_reserve.delete(folio)) h.resv_huge_pages++;
  const mem = m.mem;
  mem.flags[folio] = PG_head | PG_hugetlb;
  for (let i = 1; i < pages_per_huge_page; i++) mem.flags[folio + i] = PG_tail;
  mem.mapping[folio] = 0;
  mem.index[folio] = 0;
  enqueue_hugetlb_folio(h, folio);
}

/* ------------------------------------------------------------------ */
/* Mappings: mmap, close, split                                         */
/* ------------------------------------------------------------------ */

/**
 * hugetlb_file_setup (fs/hugetlbfs/inode.c), as ksys_mmap_pgoff calls it for
 * MAP_HUGETLB: an unlinked hugetlbfs file of len bytes (already a multiple of
 * the huge page size), whose mmap is hugetlbfs_file_mmap and whose VMAs get
 * hugetlb_vm_ops.
 */
export function hugetlb_file_setup(m: Machine, len: number): address_space {
  const nr = len / PAGE_SIZE;
  const file: address_space = {
    id: m.next_mapping_id++,
    name: 'anon_hugepage',
    shmem: false,
    i_pages: new Int32Array(nr).fill(-1),
    backing: new Uint32Array(nr),
    i_mmap: new Set(),
    f_op_mmap: (vma) => hugetlbfs_file_mmap(m, vma),
    vm_ops: {
      close: (vma) => hugetlb_vm_op_close(m, vma),
      may_split: hugetlb_vm_op_split,
    },
  };
  m.address_spaces.set(file.id, file);
  return file;
}

/**
 * hugetlbfs_file_mmap: mark the VMA VM_HUGETLB | VM_DONTEXPAND and reserve
 * the pool pages it may ever need (hugetlb_reserve_pages); -ENOMEM when the
 * pool cannot cover them.
 */
function hugetlbfs_file_mmap(m: Machine, vma: vm_area_struct): number {
  if (vma.vm_flags & VM_MAYSHARE)
    throw new EngineUsageError('not modelled', 'a shared hugetlb mapping (the hugetlbfs page cache)');
  if (!(vma.vm_flags & VM_ACCESS_FLAGS))
    throw new EngineUsageError('not modelled', 'a PROT_NONE hugetlb mapping');
  vma.vm_flags |= VM_HUGETLB | VM_DONTEXPAND;
  const from = vma_hugecache_offset(vma, vma.vm_start);
  const to = vma_hugecache_offset(vma, vma.vm_end);
  return hugetlb_reserve_pages(m, vma, from, to);
}

/**
 * hugetlb_reserve_pages, private mapping: the whole range is reserved up
 * front ("Private mappings need to reserve the full area even if read-only
 * as mprotect() may be called to make the mapping read-write"), and the VMA
 * becomes the owner of a fresh resv_map.
 */
function hugetlb_reserve_pages(m: Machine, vma: vm_area_struct, from: number, to: number): number {
  const ret = hugetlb_acct_memory(m.hstate, to - from);
  if (ret) return ret;
  const p: hugetlb_vma_private = { resv: { consumed: new Set() }, owner: true };
  vma.vm_private_data = p;
  return 0;
}

/**
 * hugetlb_vm_op_close: the owner's VMA goes; the reservations no fault
 * consumed go back to the pool.
 */
function hugetlb_vm_op_close(m: Machine, vma: vm_area_struct): void {
  const p = vma_private(vma);
  if (!p?.owner) return;
  const start = vma_hugecache_offset(vma, vma.vm_start);
  const end = vma_hugecache_offset(vma, vma.vm_end);
  let consumed = 0;
  for (const idx of p.resv.consumed) if (idx >= start && idx < end) consumed++;
  const reserve = end - start - consumed;
  if (reserve) hugetlb_acct_memory(m.hstate, -reserve);
}

/** hugetlb_vm_op_split: a hugetlb VMA splits only at a huge page boundary. */
function hugetlb_vm_op_split(_vma: vm_area_struct, addr: number): number {
  return addr % huge_page_size ? -EINVAL : 0;
}

/** hugetlb_count_add / hugetlb_count_sub: mm->hugetlb_usage, not rss. */
const hugetlb_count_add = (mm: mm_struct, nr: number): void => {
  mm.hugetlb_usage += nr;
};
const hugetlb_count_sub = (mm: mm_struct, nr: number): void => {
  mm.hugetlb_usage -= nr;
};

/* ------------------------------------------------------------------ */
/* Faults                                                               */
/* ------------------------------------------------------------------ */

/** struct vm_fault as hugetlb_fault fills it: the huge page address and the huge PTE read at the start. */
interface hugetlb_vm_fault {
  readonly vma: vm_area_struct;
  readonly address: number;
  readonly flags: number;
  orig_pte: number;
}

/**
 * make_huge_pte: the huge PTE for a folio: writable (and dirty) only when
 * asked and the VMA allows writes, always young.
 */
function make_huge_pte(vma: vm_area_struct, folio: number, try_mkwrite: boolean): number {
  const write = try_mkwrite && vma.vm_flags & VM_WRITE;
  return pfn_pmd(folio, _PAGE_ACCESSED | (write ? _PAGE_RW | _PAGE_DIRTY : 0));
}

/**
 * hugetlb_fault: handle_mm_fault's path for a hugetlb VMA. An empty entry
 * goes to hugetlb_no_page; a write (or unshare) to a read-only one to
 * hugetlb_wp, with an anonymous folio locked; anything else only sets the
 * young (and, for a write, dirty) bit.
 */
export function hugetlb_fault(m: Machine, vma: vm_area_struct, address: number, flags: number): number {
  const mm = vma.vm_mm;
  const vmf: hugetlb_vm_fault = { vma, address: haddr_of(address), flags, orig_pte: 0 };
  vmf.orig_pte = pmdp_get(mm, vmf.address);
  if (pmd_none(vmf.orig_pte)) return hugetlb_no_page(m, vmf);
  if (!pmd_trans_huge(vmf.orig_pte))
    throw new EngineUsageError('not modelled', 'a non-present huge PTE (hugetlb migration or hwpoison)');
  let entry = vmf.orig_pte;
  if (flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE)) {
    if (!pte_write(entry)) {
      const folio = pmd_pfn(entry);
      const anon = folio_test_anon(m, folio);
      /* Anonymous folios are locked, since hugetlb_wp() checks whether it may reuse them. */
      if (anon && !folio_trylock(m, folio)) return VM_FAULT_RETRY;
      folio_get(m, folio);
      const ret = hugetlb_wp(m, vmf);
      if (anon) folio_unlock(m, folio);
      folio_put(m, folio);
      return ret;
    }
    if (flags & FAULT_FLAG_WRITE) entry |= _PAGE_DIRTY;
  }
  set_pmd_at(mm, vmf.address, entry | _PAGE_ACCESSED);
  return 0;
}

/**
 * hugetlb_no_page: the first touch of a huge page of a private mapping. A
 * folio comes from the pool (on the mapping's reservation), is zeroed and
 * mapped read-only as a new exclusive anonymous folio; a write fault then
 * makes it writable at once ("do the COW without a second fault").
 */
function hugetlb_no_page(m: Machine, vmf: hugetlb_vm_fault): number {
  const { vma, address } = vmf;
  const mm = vma.vm_mm;
  anon_vma_prepare(m, vma);
  const folio = alloc_hugetlb_folio(m, vma, address, false);
  /* vmf_error(-ENOSPC): the faulting task gets SIGBUS. */
  if (folio < 0) return VM_FAULT_SIGBUS;
  m.mem.data.fill(0, folio, folio + pages_per_huge_page);
  /* A new folio nobody else can see: folio_lock cannot wait. */
  folio_trylock(m, folio);
  hugetlb_add_new_anon_rmap(m, folio, vma, address);
  /* hugetlb_add_new_anon_rmap: the reservation is spent on this mapping. */
  m.hstate.restore_reserve.delete(folio);
  set_pmd_at(mm, address, make_huge_pte(vma, folio, (vma.vm_flags & VM_SHARED) !== 0));
  hugetlb_count_add(mm, pages_per_huge_page);
  vmf.orig_pte = pmdp_get(mm, address);
  let ret = 0;
  if (vmf.flags & FAULT_FLAG_WRITE && !(vma.vm_flags & VM_SHARED)) ret = hugetlb_wp(m, vmf);
  folio_unlock(m, folio);
  return ret;
}

/**
 * hugetlb_wp: a write (or unshare) fault on a read-only huge PTE of a
 * private mapping. A folio mapped once and anonymous is reused (made
 * exclusive, and writable unless unsharing); anything else is copied into
 * a folio from the pool, the owner's CoW not using its reserve.
 */
function hugetlb_wp(m: Machine, vmf: hugetlb_vm_fault): number {
  const { vma, address } = vmf;
  const mm = vma.vm_mm;
  const unshare = (vmf.flags & FAULT_FLAG_UNSHARE) !== 0;
  const pte = vmf.orig_pte;
  const old_folio = pmd_pfn(pte);
  if (folio_mapcount(m, old_folio) === 1 && folio_test_anon(m, old_folio)) {
    if (!PageAnonExclusive(m, old_folio)) {
      folio_move_anon_rmap(m, old_folio, vma);
      for (let i = 0; i < pages_per_huge_page; i++) m.mem.flags[old_folio + i] |= PG_anon_exclusive;
    }
    /* set_huge_ptep_maybe_writable */
    if (!unshare && vma.vm_flags & VM_WRITE) set_pmd_at(mm, address, pte | _PAGE_RW | _PAGE_DIRTY);
    return 0;
  }
  const cow_from_owner = is_resv_owner(vma) && folio_test_anon(m, old_folio);
  folio_get(m, old_folio);
  const new_folio = alloc_hugetlb_folio(m, vma, address, cow_from_owner);
  if (new_folio < 0) {
    if (cow_from_owner)
      throw new EngineUsageError(
        'not modelled',
        "unmap_ref_private: the owner's CoW found the pool empty and would unmap its children's page",
      );
    folio_put(m, old_folio);
    return VM_FAULT_SIGBUS;
  }
  anon_vma_prepare(m, vma);
  m.mem.data.copyWithin(new_folio, old_folio, old_folio + pages_per_huge_page);
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', mm, address, address + huge_page_size);
  mmu_notifier_invalidate_range_start(range);
  set_pmd_at(mm, address, 0);
  hugetlb_remove_rmap(m, old_folio);
  hugetlb_add_new_anon_rmap(m, new_folio, vma, address);
  m.hstate.restore_reserve.delete(new_folio);
  set_pmd_at(mm, address, make_huge_pte(vma, new_folio, !unshare));
  mmu_notifier_invalidate_range_end(range);
  /* The old folio loses the mapping's reference, then the one taken above. */
  folio_put(m, old_folio);
  folio_put(m, old_folio);
  return 0;
}

/* ------------------------------------------------------------------ */
/* fork, mprotect, zap                                                  */
/* ------------------------------------------------------------------ */

/**
 * copy_hugetlb_page_range: fork's copy of a hugetlb VMA's huge PTEs. In a
 * COW mapping both sides lose write; an exclusive folio that may be pinned
 * is copied for the child instead (from the pool, without a reserve).
 */
export function copy_hugetlb_page_range(
  m: Machine,
  dst_vma: vm_area_struct,
  src_vma: vm_area_struct,
): number {
  const src = src_vma.vm_mm;
  const dst = dst_vma.vm_mm;
  const cow = is_cow_mapping(src_vma.vm_flags);
  let range = null;
  if (cow) {
    range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', src, src_vma.vm_start, src_vma.vm_end);
    mmu_notifier_invalidate_range_start(range);
    src.write_protect_seq++;
  }
  let ret = 0;
  for (let addr = src_vma.vm_start; addr < src_vma.vm_end; addr += huge_page_size) {
    let entry = pmdp_get(src, addr);
    if (pmd_none(entry)) continue;
    if (!pmd_trans_huge(entry)) throw new EngineUsageError('not modelled', 'fork of a non-present huge PTE');
    const folio = pmd_pfn(entry);
    folio_get(m, folio);
    if (hugetlb_try_dup_anon_rmap(m, folio, src_vma) !== 0) {
      const new_folio = alloc_hugetlb_folio(m, dst_vma, addr, false);
      folio_put(m, folio);
      if (new_folio < 0) {
        ret = new_folio;
        break;
      }
      m.mem.data.copyWithin(new_folio, folio, folio + pages_per_huge_page);
      /* hugetlb_install_folio */
      hugetlb_add_new_anon_rmap(m, new_folio, dst_vma, addr);
      m.hstate.restore_reserve.delete(new_folio);
      set_pmd_at(dst, addr, make_huge_pte(dst_vma, new_folio, true));
      hugetlb_count_add(dst, pages_per_huge_page);
      continue;
    }
    if (cow) {
      entry = pte_wrprotect(entry);
      set_pmd_at(src, addr, entry);
    }
    set_pmd_at(dst, addr, entry);
    hugetlb_count_add(dst, pages_per_huge_page);
  }
  if (range) {
    src.write_protect_seq++;
    mmu_notifier_invalidate_range_end(range);
  }
  return ret;
}

/**
 * hugetlb_change_protection: mprotect of a hugetlb VMA. Each huge PTE takes
 * the VMA's new page protection (huge_pte_modify), which in a private mapping
 * is never writable: a later write goes through hugetlb_wp. Secondary MMUs
 * see one MMU_NOTIFY_PROTECTION_VMA over the range.
 */
export function hugetlb_change_protection(vma: vm_area_struct, start: number, end: number): void {
  const mm = vma.vm_mm;
  if (!(vma.vm_flags & VM_ACCESS_FLAGS))
    throw new EngineUsageError('not modelled', 'PROT_NONE on a hugetlb mapping');
  const range = mmu_notifier_range_init('MMU_NOTIFY_PROTECTION_VMA', mm, start, end);
  mmu_notifier_invalidate_range_start(range);
  const writable = (vma.vm_flags & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE);
  for (let addr = start; addr < end; addr += huge_page_size) {
    const pte = pmdp_get(mm, addr);
    if (pmd_none(pte)) continue;
    set_pmd_at(mm, addr, writable ? pte | _PAGE_RW : pte_wrprotect(pte));
  }
  mmu_notifier_invalidate_range_end(range);
}

/**
 * __unmap_hugepage_range: zap the huge PTEs of [start, end): hugetlb_usage
 * and the mapping go, and the reference. In the owner of a private mapping,
 * an anonymous folio's reservation is restored (vma_add_reservation), so
 * that its page cannot be stolen before the owner faults here again; it
 * goes back to the pool with the folio.
 */
export function __unmap_hugepage_range(m: Machine, vma: vm_area_struct, start: number, end: number): void {
  const mm = vma.vm_mm;
  if (start % huge_page_size || end % huge_page_size)
    throw new EngineUsageError(
      'hugetlb',
      `zap of [0x${start.toString(16)}, 0x${end.toString(16)}) is not huge page aligned`,
    );
  for (let addr = start; addr < end; addr += huge_page_size) {
    const pte = pmdp_get(mm, addr);
    if (pmd_none(pte)) continue;
    const folio = pmd_pfn(pte);
    set_pmd_at(mm, addr, 0);
    if (pmd_dirty(pte)) m.mem.flags[folio] |= PG_dirty;
    hugetlb_count_sub(mm, pages_per_huge_page);
    hugetlb_remove_rmap(m, folio);
    const p = vma_private(vma);
    if (p?.owner && folio_test_anon(m, folio)) {
      m.hstate.restore_reserve.add(folio);
      p.resv.consumed.delete(vma_hugecache_offset(vma, addr));
    }
    folio_put(m, folio);
  }
}

/** The pool as /proc/meminfo shows it (HugePages_Total, _Free, _Rsvd). */
export function hugetlb_report_meminfo(m: Machine): { total: number; free: number; reserved: number } {
  const h = m.hstate;
  return { total: h.nr_huge_pages, free: h.free_huge_pages, reserved: h.resv_huge_pages };
}

/**
 * For debug_vm: the reservations the live private mappings still hold
 * (each owner VMA's indices no fault consumed), which resv_huge_pages must
 * account for, together with allocated folios that still stand for one.
 */
export function hugetlb_outstanding_reservations(m: Machine): number {
  let n = 0;
  for (const mm of m.mms)
    for (const vma of mm.mmap) {
      const p = vma_private(vma);
      if (!p?.owner) continue;
      const start = vma_hugecache_offset(vma, vma.vm_start);
      const end = vma_hugecache_offset(vma, vma.vm_end);
      for (let idx = start; idx < end; idx++) if (!p.resv.consumed.has(idx)) n++;
    }
  for (const folio of m.hstate.restore_reserve) if (m.mem._refcount[folio] > 0) n--;
  return n;
}
