/*
 * Mirrors mm/rmap.c and include/linux/rmap.h: anon_vma chains and the
 * mapcount / PageAnonExclusive bookkeeping done whenever a page table entry
 * starts or stops mapping a folio.
 * Kernel: linux-mm tree, late 2025 (folio rmap API, CONFIG_NO_PAGE_MAPCOUNT=n,
 * large folios tracked per mm through _mm_id[]).
 *
 * Simplified here: an anon_vma is a flat set of the VMAs chained to it (the
 * kernel's interval tree of anon_vma_chain); no anon_vma reuse, no degree
 * bookkeeping, no locking.
 */

import {
  EAGAIN,
  EBUSY,
  EOPNOTSUPP,
  FOLL_SPLIT_PMD,
  FOLL_WRITE,
  folio_is_zone_device,
  folio_maybe_dma_pinned,
  folio_nr_pages,
  folio_test_anon,
  folio_test_large,
  is_cow_mapping,
  PageAnonExclusive,
  page_folio,
  VM_WRITE,
} from '../include/linux/mm';
import {
  type anon_vma,
  HPAGE_PMD_ORDER,
  MMF_HAS_PINNED,
  type mm_struct,
  PAGE_SHIFT,
  PAGE_SIZE,
  PMD_SIZE,
  type vm_area_struct,
} from '../include/linux/mm_types';
import { PG_anon, PG_anon_exclusive, PG_dirty, PG_partially_mapped } from '../include/linux/page-flags';
import { folio_trylock, folio_unlock } from '../include/linux/pagemap';
import {
  _PAGE_SOFT_DIRTY,
  pmd_pfn,
  pmd_trans_huge,
  pte_dirty,
  pte_mkdirty,
  pte_mkold,
  pte_mkwrite,
  pte_pfn,
  pte_present,
  pte_write,
  pte_young,
} from '../include/linux/pgtable';
import {
  _PAGE_SWP_SOFT_DIRTY,
  is_device_private_entry,
  make_device_exclusive_entry,
  pte_swp_soft_dirty,
  swp_offset_pfn,
} from '../include/linux/swapops';
import type { Machine } from '../machine';
import { get_user_pages } from './gup';
import { deferred_split_folio } from './huge_memory';
import { mk_pte } from './memory';
import {
  mmu_notifier_invalidate_range_end,
  mmu_notifier_invalidate_range_start,
  mmu_notifier_range_init,
} from './mmu_notifier';
import { pte_needs_soft_dirty_wp } from './mprotect';
import { pmdp_get, pte_offset_map, ptep_get, set_pte_at } from './pgtable-generic';
import { folio_put } from './swap';

/** rmap_t: the new mapping is exclusive to this process (PageAnonExclusive). */
export const RMAP_NONE = 0;
export const RMAP_EXCLUSIVE = 1;

/* ---- anon_vma chains ---- */

/** __anon_vma_prepare: give a VMA its own anon_vma on the first anonymous fault. */
export function anon_vma_prepare(m: Machine, vma: vm_area_struct): anon_vma {
  if (vma.anon_vma) return vma.anon_vma;
  const av: anon_vma = { id: m.next_anon_vma_id++, vmas: new Set([vma]) };
  m.anon_vmas.set(av.id, av);
  vma.anon_vma = av;
  vma.anon_vma_chain.push(av);
  return av;
}

/**
 * anon_vma_fork: chain the child VMA into every anon_vma of the parent VMA
 * (so rmap walks of the parent's pages find the child's mappings) and give it
 * an anon_vma of its own for the pages it will CoW.
 */
export function anon_vma_fork(m: Machine, dst: vm_area_struct, src: vm_area_struct): void {
  if (!src.anon_vma) return;
  for (const av of src.anon_vma_chain) {
    av.vmas.add(dst);
    dst.anon_vma_chain.push(av);
  }
  const av: anon_vma = { id: m.next_anon_vma_id++, vmas: new Set([dst]) };
  m.anon_vmas.set(av.id, av);
  dst.anon_vma = av;
  dst.anon_vma_chain.push(av);
}

/** anon_vma_clone (for __split_vma): the new VMA joins every anon_vma of the old one. */
export function anon_vma_clone(dst: vm_area_struct, src: vm_area_struct): void {
  dst.anon_vma = src.anon_vma;
  for (const av of src.anon_vma_chain) {
    av.vmas.add(dst);
    dst.anon_vma_chain.push(av);
  }
}

/** unlink_anon_vmas: drop the VMA from every chain; an anon_vma nobody uses any more is freed. */
export function unlink_anon_vmas(m: Machine, vma: vm_area_struct): void {
  for (const av of vma.anon_vma_chain) {
    av.vmas.delete(vma);
    if (av.vmas.size === 0) m.anon_vmas.delete(av.id);
  }
  vma.anon_vma_chain = [];
  vma.anon_vma = null;
}

/** linear_page_index: the offset, in pages, that `address` has in the VMA's index space. */
export const linear_page_index = (vma: vm_area_struct, address: number): number =>
  vma.vm_pgoff + Math.floor((address - vma.vm_start) / 4096);

/* ---- per-mm tracking of large folios (folio_add/sub_large_mapcount, _mm_id[]) ---- */

function large_mapcount_add(m: Machine, folio: number, diff: number, vma: vm_area_struct): void {
  const mem = m.mem;
  const b = folio >> HPAGE_PMD_ORDER;
  const id = vma.vm_mm.id;
  if (mem._mm_id0[b] === id) mem._mm_id_mapcount0[b] += diff;
  else if (mem._mm_id1[b] === id) mem._mm_id_mapcount1[b] += diff;
  else if (mem._mm_id0[b] === 0) {
    mem._mm_id0[b] = id;
    mem._mm_id_mapcount0[b] = diff;
  } else if (mem._mm_id1[b] === 0) {
    mem._mm_id1[b] = id;
    mem._mm_id_mapcount1[b] = diff;
  }
  mem._large_mapcount[b] += diff;
  const total = mem._large_mapcount[b];
  /* A third mm, or two mms each holding mappings: the folio may be shared. */
  if (total !== mem._mm_id_mapcount0[b] && total !== mem._mm_id_mapcount1[b]) mem._mm_ids_shared[b] = 1;
}

function large_mapcount_sub(m: Machine, folio: number, diff: number, vma: vm_area_struct): void {
  const mem = m.mem;
  const b = folio >> HPAGE_PMD_ORDER;
  const id = vma.vm_mm.id;
  if (mem._mm_id0[b] === id) {
    mem._mm_id_mapcount0[b] -= diff;
    if (mem._mm_id_mapcount0[b] === 0) mem._mm_id0[b] = 0;
  } else if (mem._mm_id1[b] === id) {
    mem._mm_id_mapcount1[b] -= diff;
    if (mem._mm_id_mapcount1[b] === 0) mem._mm_id1[b] = 0;
  }
  mem._large_mapcount[b] -= diff;
  const total = mem._large_mapcount[b];
  if (total === mem._mm_id_mapcount0[b] || total === mem._mm_id_mapcount1[b]) mem._mm_ids_shared[b] = 0;
}

/** folio_maybe_mapped_shared: might another mm map this folio? */
export function folio_maybe_mapped_shared(m: Machine, folio: number): boolean {
  if (!folio_test_large(m, folio)) return m.mem._mapcount[folio] > 1;
  return m.mem._mm_ids_shared[folio >> HPAGE_PMD_ORDER] !== 0;
}

/* ---- adding mappings ---- */

function set_anon_mapping(m: Machine, folio: number, vma: vm_area_struct, address: number): void {
  const av = vma.anon_vma;
  if (!av) throw new Error('anon rmap on a VMA without anon_vma: anon_vma_prepare() was not called');
  m.mem.flags[folio] |= PG_anon;
  m.mem.mapping[folio] = av.id;
  m.mem.index[folio] = linear_page_index(vma, address);
}

/**
 * folio_add_new_anon_rmap: map a newly allocated folio for the first time.
 * A PMD-order folio mapped at `address` (aligned) gets its entire mapcount;
 * a small folio gets one PTE mapcount. With RMAP_EXCLUSIVE every page is AE.
 */
export function folio_add_new_anon_rmap(
  m: Machine,
  folio: number,
  vma: vm_area_struct,
  address: number,
  flags: number,
): void {
  set_anon_mapping(m, folio, vma, address);
  const nr = folio_nr_pages(m, folio);
  if (folio_test_large(m, folio)) {
    m.mem._entire_mapcount[folio >> HPAGE_PMD_ORDER] = 1;
    large_mapcount_add(m, folio, 1, vma);
  } else {
    m.mem._mapcount[folio] = 1;
  }
  if (flags & RMAP_EXCLUSIVE) for (let i = 0; i < nr; i++) m.mem.flags[folio + i] |= PG_anon_exclusive;
}

/** folio_add_anon_rmap_ptes: nr pages of an existing anon folio become PTE-mapped (e.g. after a PMD split). */
export function folio_add_anon_rmap_ptes(
  m: Machine,
  folio: number,
  page: number,
  nr: number,
  vma: vm_area_struct,
  flags: number,
): void {
  for (let i = 0; i < nr; i++) {
    m.mem._mapcount[page + i]++;
    if (flags & RMAP_EXCLUSIVE) m.mem.flags[page + i] |= PG_anon_exclusive;
  }
  if (folio_test_large(m, folio)) large_mapcount_add(m, folio, nr, vma);
}

/** folio_add_file_rmap_ptes / folio_add_file_rmap_pte. */
export function folio_add_file_rmap_ptes(
  m: Machine,
  folio: number,
  page: number,
  nr: number,
  vma: vm_area_struct,
): void {
  for (let i = 0; i < nr; i++) m.mem._mapcount[page + i]++;
  if (folio_test_large(m, folio)) large_mapcount_add(m, folio, nr, vma);
}

/* ---- removing mappings ---- */

/** Pages of a large folio mapped by anything (PTE or PMD). */
function nr_pages_mapped(m: Machine, folio: number): number {
  if (m.mem._entire_mapcount[folio >> HPAGE_PMD_ORDER] > 0) return folio_nr_pages(m, folio);
  let n = 0;
  const nr = folio_nr_pages(m, folio);
  for (let i = 0; i < nr; i++) if (m.mem._mapcount[folio + i] > 0) n++;
  return n;
}

/**
 * __folio_remove_rmap: drop nr PTE mappings (or, with `pmd`, the PMD mapping).
 * An anon large folio left partly mapped and not PMD-mapped is queued for
 * deferred split.
 */
function __folio_remove_rmap(
  m: Machine,
  folio: number,
  page: number,
  nr: number,
  vma: vm_area_struct,
  pmd: boolean,
): void {
  const mem = m.mem;
  if (!folio_test_large(m, folio)) {
    mem._mapcount[folio]--;
    return;
  }
  if (pmd) mem._entire_mapcount[folio >> HPAGE_PMD_ORDER]--;
  else for (let i = 0; i < nr; i++) mem._mapcount[page + i]--;
  large_mapcount_sub(m, folio, pmd ? 1 : nr, vma);
  if (!folio_test_anon(m, folio) || mem.flags[folio] & PG_partially_mapped) return;
  const mapped = nr_pages_mapped(m, folio);
  if (mapped > 0 && mapped < folio_nr_pages(m, folio)) deferred_split_folio(m, folio, true);
}

export const folio_remove_rmap_ptes = (
  m: Machine,
  folio: number,
  page: number,
  nr: number,
  vma: vm_area_struct,
) => __folio_remove_rmap(m, folio, page, nr, vma, false);
export const folio_remove_rmap_pte = (m: Machine, folio: number, page: number, vma: vm_area_struct) =>
  __folio_remove_rmap(m, folio, page, 1, vma, false);
export const folio_remove_rmap_pmd = (m: Machine, folio: number, vma: vm_area_struct) =>
  __folio_remove_rmap(m, folio, folio, 0, vma, true);

/** folio_add_anon_rmap_pmd / folio_add_file_rmap_pmd: one more PMD mapping of a PMD-order folio. */
export function folio_add_rmap_pmd(m: Machine, folio: number, vma: vm_area_struct, flags: number): void {
  m.mem._entire_mapcount[folio >> HPAGE_PMD_ORDER]++;
  large_mapcount_add(m, folio, 1, vma);
  if (flags & RMAP_EXCLUSIVE) {
    const nr = folio_nr_pages(m, folio);
    for (let i = 0; i < nr; i++) m.mem.flags[folio + i] |= PG_anon_exclusive;
  }
}

/* ---- hugetlb folios (mm/rmap.c, include/linux/rmap.h) ---- */

/*
 * A hugetlb folio is only ever mapped whole, by one huge PTE (here a PMD):
 * its entire mapcount and large mapcount move together, and, unlike other
 * large folios, it is not tracked per mm (_mm_id). Its PageAnonExclusive is
 * the head page's bit; the engine sets every page's, so that
 * PageAnonExclusive(subpage) reads the same.
 */

/** hugetlb_add_new_anon_rmap: map a new anonymous hugetlb folio, exclusively. */
export function hugetlb_add_new_anon_rmap(
  m: Machine,
  folio: number,
  vma: vm_area_struct,
  address: number,
): void {
  const b = folio >> HPAGE_PMD_ORDER;
  set_anon_mapping(m, folio, vma, address);
  m.mem._entire_mapcount[b] = 1;
  m.mem._large_mapcount[b] = 1;
  const nr = folio_nr_pages(m, folio);
  for (let i = 0; i < nr; i++) m.mem.flags[folio + i] |= PG_anon_exclusive;
}

/**
 * hugetlb_try_dup_anon_rmap: fork shares the folio with the child; refused
 * (-EBUSY) for an exclusive folio that may be pinned, which fork must copy.
 */
export function hugetlb_try_dup_anon_rmap(m: Machine, folio: number, vma: vm_area_struct): number {
  const b = folio >> HPAGE_PMD_ORDER;
  if (PageAnonExclusive(m, folio)) {
    if (folio_needs_cow_for_dma(m, vma, folio)) return -EBUSY;
    const nr = folio_nr_pages(m, folio);
    for (let i = 0; i < nr; i++) m.mem.flags[folio + i] &= ~PG_anon_exclusive;
  }
  m.mem._entire_mapcount[b]++;
  m.mem._large_mapcount[b]++;
  return 0;
}

/** hugetlb_remove_rmap: one huge PTE less. */
export function hugetlb_remove_rmap(m: Machine, folio: number): void {
  const b = folio >> HPAGE_PMD_ORDER;
  m.mem._entire_mapcount[b]--;
  m.mem._large_mapcount[b]--;
}

/* ---- fork: duplicating mappings ---- */

/**
 * folio_needs_cow_for_dma: fork must copy this folio now rather than share it,
 * because a DMA pin may be writing to it.
 */
export function folio_needs_cow_for_dma(m: Machine, vma: vm_area_struct, folio: number): boolean {
  if (!is_cow_mapping(vma.vm_flags)) return false;
  if (!(vma.vm_mm.flags & MMF_HAS_PINNED)) return false;
  return folio_maybe_dma_pinned(m, folio);
}

/**
 * __folio_try_dup_anon_rmap (PTE and PMD level): the child maps the same
 * pages. Fails with -EBUSY when an AE page may be pinned; otherwise AE is
 * cleared, because the page is now shared.
 */
function __folio_try_dup_anon_rmap(
  m: Machine,
  folio: number,
  page: number,
  nr: number,
  dst_vma: vm_area_struct,
  src_vma: vm_area_struct,
  pmd: boolean,
): number {
  const mem = m.mem;
  let maybe_pinned = false;
  for (let i = 0; i < nr; i++) {
    if (mem.flags[page + i] & PG_anon_exclusive) {
      maybe_pinned = folio_needs_cow_for_dma(m, src_vma, folio);
      break;
    }
  }
  if (maybe_pinned) return -EBUSY;
  for (let i = 0; i < nr; i++) mem.flags[page + i] &= ~PG_anon_exclusive;
  if (pmd) folio_add_rmap_pmd(m, folio, dst_vma, RMAP_NONE);
  else if (folio_test_large(m, folio)) folio_add_anon_rmap_ptes(m, folio, page, nr, dst_vma, RMAP_NONE);
  else mem._mapcount[folio]++;
  return 0;
}

export const folio_try_dup_anon_rmap_ptes = (
  m: Machine,
  folio: number,
  page: number,
  nr: number,
  dst_vma: vm_area_struct,
  src_vma: vm_area_struct,
) => __folio_try_dup_anon_rmap(m, folio, page, nr, dst_vma, src_vma, false);
export const folio_try_dup_anon_rmap_pmd = (
  m: Machine,
  folio: number,
  dst_vma: vm_area_struct,
  src_vma: vm_area_struct,
) => __folio_try_dup_anon_rmap(m, folio, folio, folio_nr_pages(m, folio), dst_vma, src_vma, true);

/** folio_dup_file_rmap_ptes: file pages are simply shared at fork. */
export const folio_dup_file_rmap_ptes = (
  m: Machine,
  folio: number,
  page: number,
  nr: number,
  dst_vma: vm_area_struct,
) => folio_add_file_rmap_ptes(m, folio, page, nr, dst_vma);

/** folio_move_anon_rmap: a reused page now belongs to the faulting VMA's anon_vma. */
export function folio_move_anon_rmap(m: Machine, folio: number, vma: vm_area_struct): void {
  if (vma.anon_vma) m.mem.mapping[folio] = vma.anon_vma.id;
}

/* ---- reverse mapping walk ---- */

/**
 * rmap_walk: call `fn(vma, address)` for every VMA that may map `folio`
 * (anon: the VMAs chained to its anon_vma; file: the i_mmap tree).
 */
export function rmap_walk(
  m: Machine,
  folio: number,
  fn: (vma: vm_area_struct, address: number) => void,
): void {
  const mapping = m.mem.mapping[folio];
  const index = m.mem.index[folio];
  const vmas = folio_test_anon(m, folio)
    ? m.anon_vmas.get(mapping)?.vmas
    : m.address_spaces.get(mapping)?.i_mmap;
  if (!vmas) return;
  for (const vma of [...vmas]) {
    const address = vma.vm_start + (index - vma.vm_pgoff) * (1 << PAGE_SHIFT);
    if (address + folio_nr_pages(m, folio) * 4096 <= vma.vm_start || address >= vma.vm_end) continue;
    fn(vma, address);
  }
}

/* ---- device-exclusive access ---- */

/**
 * make_device_exclusive: give a device exclusive (atomic) access to one
 * page. The page is faulted in writable (breaking CoW, splitting a PMD and
 * undoing any earlier exclusive entry), locked, secondary MMUs are told
 * (MMU_NOTIFY_EXCLUSIVE with the caller as owner), and the CPU PTE is
 * replaced by a device-exclusive entry. The entry stays an rmap-tracked
 * mapping: mapcount, reference and PageAnonExclusive are unchanged. Returns
 * the page, locked and with a reference for the caller, or -errno.
 */
export function make_device_exclusive(m: Machine, mm: mm_struct, addr: number, owner: unknown): number {
  const pages: number[] = [];
  const ret = get_user_pages(m, mm, addr, 1, FOLL_WRITE | FOLL_SPLIT_PMD, pages);
  if (ret < 0) return ret;
  const page = pages[0];
  const folio = page_folio(m, page);
  if (!folio_test_anon(m, folio)) {
    folio_put(m, folio);
    return -EOPNOTSUPP;
  }
  if (!folio_trylock(m, folio)) {
    folio_put(m, folio);
    return -EAGAIN;
  }
  const range = mmu_notifier_range_init('MMU_NOTIFY_EXCLUSIVE', mm, addr, addr + PAGE_SIZE, owner);
  mmu_notifier_invalidate_range_start(range);
  const table = pte_offset_map(mm, addr);
  const pte = table ? ptep_get(table, addr) : 0;
  if (!table || !pte_present(pte) || pte_pfn(pte) !== page || !pte_write(pte)) {
    mmu_notifier_invalidate_range_end(range);
    folio_unlock(m, folio);
    folio_put(m, folio);
    return -EAGAIN;
  }
  if (pte_dirty(pte)) m.mem.flags[folio] |= PG_dirty;
  set_pte_at(
    table,
    addr,
    make_device_exclusive_entry(page) | (pte & _PAGE_SOFT_DIRTY ? _PAGE_SWP_SOFT_DIRTY : 0),
  );
  mmu_notifier_invalidate_range_end(range);
  return page;
}

/**
 * restore_exclusive_pte: turn a device-exclusive entry back into a present
 * PTE: old, dirty only if the folio is, writable only if the VMA allows it and
 * the page is exclusive. The mapping itself never went away, so no rmap change.
 */
export function restore_exclusive_pte(
  m: Machine,
  vma: vm_area_struct,
  table: Uint32Array,
  addr: number,
  entry: number,
): void {
  const page = swp_offset_pfn(entry);
  let pte = pte_mkold(mk_pte(vma, page));
  if (pte_swp_soft_dirty(entry)) pte |= _PAGE_SOFT_DIRTY;
  /*
   * mm/memory.c restore_exclusive_pte: writable, and dirty with its folio,
   * only where can_change_pte_writable allows it, which refuses while a
   * soft-dirty write fault is due (pte_needs_soft_dirty_wp). x86's
   * pte_mkdirty sets the soft-dirty bit too, so it may not run otherwise.
   */
  if (vma.vm_flags & VM_WRITE && !pte_needs_soft_dirty_wp(vma, pte) && PageAnonExclusive(m, page)) {
    if (m.mem.flags[page_folio(m, page)] & PG_dirty) pte = pte_mkdirty(pte);
    pte = pte_mkwrite(pte);
  }
  set_pte_at(table, addr, pte);
}

/* ---- page_vma_mapped_walk ---- */

/**
 * page_vma_mapped_walk, PMD level: does a PMD at `address` map this PMD-order
 * folio? A present THP PMD and a device-private PMD both do. (The v2 patch
 * reported device-private PMDs only to callers passing
 * PVMW_THP_DEVICE_PRIVATE; the merged kernel dropped the flag, because the
 * young-bit harvesters only ever walk LRU folios, which device folios are not.)
 */
export function page_vma_mapped_pmd(
  m: Machine,
  folio: number,
  vma: vm_area_struct,
  address: number,
): boolean {
  if (!folio_test_large(m, folio) || address % PMD_SIZE !== 0) return false;
  if (address < vma.vm_start || address + PMD_SIZE > vma.vm_end) return false;
  const pmd = pmdp_get(vma.vm_mm, address);
  if (pmd_trans_huge(pmd)) return pmd_pfn(pmd) === folio;
  return is_device_private_entry(pmd) && swp_offset_pfn(pmd) === folio;
}

/**
 * folio_referenced (page idle tracking, DAMON): harvest and clear the young
 * bit of every mapping of the folio; returns how many mappings it saw. Device
 * folios are never on an LRU, so page idle tracking and DAMON never look at
 * one: a device-private THP is invisible to them.
 */
export function folio_referenced(m: Machine, folio: number): { mapped: number; referenced: number } {
  let mapped = 0;
  let referenced = 0;
  /* page_idle_get_folio / damon_get_folio take only LRU folios: a device folio is never walked. */
  if (folio_is_zone_device(m, folio)) return { mapped, referenced };
  rmap_walk(m, folio, (vma, address) => {
    if (page_vma_mapped_pmd(m, folio, vma, address)) {
      mapped++;
      const pmd = pmdp_get(vma.vm_mm, address);
      if (pte_young(pmd)) referenced++;
      return;
    }
    const nr = folio_nr_pages(m, folio);
    for (let i = 0; i < nr; i++) {
      const addr = address + i * PAGE_SIZE;
      if (addr < vma.vm_start || addr >= vma.vm_end) continue;
      const table = pte_offset_map(vma.vm_mm, addr);
      const pte = table ? ptep_get(table, addr) : 0;
      if (!pte_present(pte) || pte_pfn(pte) !== folio + i) continue;
      mapped++;
      if (pte_young(pte)) {
        referenced++;
        set_pte_at(table as Uint32Array, addr, pte_mkold(pte));
      }
    }
  });
  return { mapped, referenced };
}
