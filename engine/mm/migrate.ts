/*
 * Mirrors mm/migrate.c (remove_migration_ptes, folio_migrate_mapping,
 * folio_migrate_flags) and the migration half of mm/rmap.c (try_to_migrate,
 * folio_try_share_anon_rmap_pte).
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: PTE-mapped small folios only (PMD migration entries come
 * with device-private THP); no swap cache; migration entries do not record
 * young/dirty (migration_entry_supports_ad is false), so a restored PTE is old
 * and takes its dirty bit from the folio.
 */

import {
  EAGAIN,
  EBUSY,
  folio_maybe_dma_pinned,
  folio_nr_pages,
  folio_test_anon,
  folio_test_large,
  PageAnonExclusive,
} from '../include/linux/mm';
import { PAGE_SIZE, PMD_SIZE, type vm_area_struct } from '../include/linux/mm_types';
import { PG_anon, PG_anon_exclusive, PG_dirty, PG_swapbacked } from '../include/linux/page-flags';
import {
  _PAGE_SOFT_DIRTY,
  pte_dirty,
  pte_none,
  pte_pfn,
  pte_present,
  pte_soft_dirty,
  pte_write,
} from '../include/linux/pgtable';
import {
  _PAGE_SWP_SOFT_DIRTY,
  is_device_exclusive_entry,
  is_device_private_entry,
  is_migration_entry,
  is_readable_exclusive_migration_entry,
  is_writable_device_private_entry,
  is_writable_migration_entry,
  make_readable_device_private_entry,
  make_readable_exclusive_migration_entry,
  make_readable_migration_entry,
  make_writable_device_private_entry,
  make_writable_migration_entry,
  pte_swp_soft_dirty,
  swp_keep_bits,
  swp_offset_pfn,
} from '../include/linux/swapops';
import type { Machine } from '../machine';
import { __split_huge_pmd, remove_migration_pmd, set_pmd_migration_entry } from './huge_memory';
import { maybe_mkwrite, mk_pte } from './memory';
import { is_device_private_page } from './memremap';
import {
  mmu_notifier_invalidate_range_end,
  mmu_notifier_invalidate_range_start,
  mmu_notifier_range_init,
} from './mmu_notifier';
import { pmdp_get, pte_offset_map, ptep_get, set_pte_at } from './pgtable-generic';
import {
  folio_add_anon_rmap_ptes,
  folio_add_file_rmap_ptes,
  folio_remove_rmap_pte,
  page_vma_mapped_pmd,
  RMAP_EXCLUSIVE,
  RMAP_NONE,
  rmap_walk,
} from './rmap';
import { folio_put } from './swap';

/**
 * folio_try_share_anon_rmap_pte: an exclusive anonymous page is about to be
 * unmapped into a non-exclusive form. Refused (-EBUSY) while the folio may be
 * pinned, so that a pin never ends up on a page the process no longer maps.
 */
export function folio_try_share_anon_rmap_pte(m: Machine, folio: number, page: number): number {
  if (folio_maybe_dma_pinned(m, folio)) return -EBUSY;
  m.mem.flags[page] &= ~PG_anon_exclusive;
  return 0;
}

/** The migration entry that replaces a mapping (rule: write > read-exclusive > read). */
export function migration_entry_for(writable: boolean, anon_exclusive: boolean, pfn: number): number {
  if (writable) return make_writable_migration_entry(pfn);
  if (anon_exclusive) return make_readable_exclusive_migration_entry(pfn);
  return make_readable_migration_entry(pfn);
}

/**
 * try_to_migrate_one: replace every mapping of `folio` in one VMA by a
 * migration entry. Present PTEs, device-private and device-exclusive entries
 * are all mappings; an exclusive entry is never "write", so the page comes
 * back read-only (but still exclusive).
 * Returns false if a pinned exclusive page stopped it.
 */
function try_to_migrate_one(
  m: Machine,
  folio: number,
  vma: vm_area_struct,
  address: number,
  flags: number,
): boolean {
  const nr = folio_nr_pages(m, folio);
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', vma.vm_mm, address, address + nr * PAGE_SIZE);
  mmu_notifier_invalidate_range_start(range);
  let ok = true;
  /* page_vma_mapped_walk reports a device-private PMD as well as a present one: both migrate. */
  if (page_vma_mapped_pmd(m, folio, vma, address)) {
    if (flags & TTU_SPLIT_HUGE_PMD) __split_huge_pmd(m, vma, address, true);
    else ok = set_pmd_migration_entry(m, vma, address) === 0;
  }
  for (let i = 0; i < nr && ok; i++) {
    const addr = address + i * PAGE_SIZE;
    if (addr < vma.vm_start || addr >= vma.vm_end) continue;
    const table = pte_offset_map(vma.vm_mm, addr);
    if (!table) continue;
    const pte = ptep_get(table, addr);
    const page = folio + i;
    const present = pte_present(pte);
    /* Device-private and device-exclusive entries are mappings too ("PFN swap PTEs"). */
    const mapping_entry = is_device_private_entry(pte) || is_device_exclusive_entry(pte);
    if (present ? pte_pfn(pte) !== page : !mapping_entry || swp_offset_pfn(pte) !== page) continue;
    const anon_exclusive = folio_test_anon(m, folio) && PageAnonExclusive(m, page);
    set_pte_at(table, addr, 0);
    if (present && pte_dirty(pte)) m.mem.flags[folio] |= PG_dirty;
    if (anon_exclusive && folio_try_share_anon_rmap_pte(m, folio, page) !== 0) {
      set_pte_at(table, addr, pte);
      ok = false;
      break;
    }
    const writable = present ? pte_write(pte) : is_writable_device_private_entry(pte);
    /* try_to_migrate_one: pte_swp_mksoft_dirty for a soft-dirty present PTE; a swap-style entry keeps its bits. */
    const entry = migration_entry_for(writable, anon_exclusive, page);
    set_pte_at(
      table,
      addr,
      present ? entry | (pte_soft_dirty(pte) ? _PAGE_SWP_SOFT_DIRTY : 0) : swp_keep_bits(pte, entry),
    );
    folio_remove_rmap_pte(m, folio, page, vma);
    folio_put(m, folio);
  }
  mmu_notifier_invalidate_range_end(range);
  return ok;
}

/** try_to_unmap/try_to_migrate flag: split a PMD mapping into PTE migration entries instead of a PMD migration entry. */
export const TTU_SPLIT_HUGE_PMD = 1 << 2;

/** try_to_migrate: unmap the folio from every process, leaving migration entries. */
export function try_to_migrate(m: Machine, folio: number, flags = 0): void {
  let ok = true;
  rmap_walk(m, folio, (vma, address) => {
    if (ok) ok = try_to_migrate_one(m, folio, vma, address, flags);
  });
}

/**
 * remove_migration_pte: turn each migration entry for `src` in this VMA back
 * into a mapping of `dst`: writable iff the entry was migration-write,
 * exclusive unless it was plain migration-read. A device-private `dst` gets a
 * device-private entry instead of a present PTE.
 */
function remove_migration_pte(
  m: Machine,
  dst: number,
  src: number,
  vma: vm_area_struct,
  address: number,
): void {
  const nr = folio_nr_pages(m, dst);
  for (let i = 0; i < nr; i++) {
    const addr = address + i * PAGE_SIZE;
    if (addr < vma.vm_start || addr >= vma.vm_end) continue;
    const table = pte_offset_map(vma.vm_mm, addr);
    if (!table) continue;
    const old = ptep_get(table, addr);
    if (pte_none(old) || !is_migration_entry(old) || swp_offset_pfn(old) !== src + i) continue;
    const page = dst + i;
    m.mem._refcount[dst]++;
    const write = is_writable_migration_entry(old);
    let pte: number;
    if (is_device_private_page(m, page)) {
      pte = swp_keep_bits(
        old,
        write ? make_writable_device_private_entry(page) : make_readable_device_private_entry(page),
      );
    } else {
      /* remove_migration_pte: pte_mksoft_dirty if the migration entry was soft-dirty, else pte_clear_soft_dirty. */
      pte = mk_pte(vma, page);
      if (pte_swp_soft_dirty(old)) pte |= _PAGE_SOFT_DIRTY;
      if (write) pte = maybe_mkwrite(pte, vma);
    }
    const exclusive = write || is_readable_exclusive_migration_entry(old);
    if (folio_test_anon(m, dst))
      folio_add_anon_rmap_ptes(m, dst, page, 1, vma, exclusive ? RMAP_EXCLUSIVE : RMAP_NONE);
    else folio_add_file_rmap_ptes(m, dst, page, 1, vma);
    set_pte_at(table, addr, pte >>> 0);
  }
}

/** remove_migration_ptes: restore every migration entry of `src` as a mapping of `dst` (dst may be src). */
export function remove_migration_ptes(m: Machine, src: number, dst: number): void {
  rmap_walk(m, dst, (vma, address) => {
    /* A PMD migration entry comes back as a PMD mapping (remove_migration_pmd). */
    const pmd = folio_test_large(m, dst) && address % PMD_SIZE === 0 ? pmdp_get(vma.vm_mm, address) : 0;
    if (is_migration_entry(pmd) && swp_offset_pfn(pmd) === src) remove_migration_pmd(m, vma, address, dst);
    else remove_migration_pte(m, dst, src, vma, address);
  });
}

/**
 * folio_migrate_mapping for an anonymous folio without swap cache: the source
 * must hold exactly the references expected (its unmapped self plus the
 * caller's), else -EAGAIN. The destination takes over mapping and index.
 */
export function folio_migrate_mapping(m: Machine, dst: number, src: number, extra_count: number): number {
  const expected = 1 + extra_count;
  if (m.mem._refcount[src] !== expected || m.mem._mapcount[src] !== 0) return -EAGAIN;
  m.mem.mapping[dst] = m.mem.mapping[src];
  m.mem.index[dst] = m.mem.index[src];
  return 0;
}

/** folio_migrate_flags: the flags that travel with the data (anon, dirty, swapbacked). */
export function folio_migrate_flags(m: Machine, dst: number, src: number): void {
  m.mem.flags[dst] |= m.mem.flags[src] & (PG_anon | PG_dirty | PG_swapbacked);
}
