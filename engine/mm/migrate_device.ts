/*
 * Mirrors mm/migrate_device.c: migrate_vma_setup (collect, unmap),
 * migrate_vma_pages, migrate_vma_finalize, and migrate_device_range for
 * driver teardown.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: PTE-level only so far. A PMD-mapped THP or a large device
 * folio met during collect is reported as not modelled (device-private THP
 * and MIGRATE_VMA_SELECT_COMPOUND come with the THP work). Folio locks never
 * contend except when a scenario holds one: a trylock on a locked folio fails.
 */

import { copy_highpage } from '../include/linux/highmem';
import {
  MIGRATE_PFN_COMPOUND,
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_VALID,
  MIGRATE_PFN_WRITE,
  MIGRATE_VMA_SELECT_COMPOUND,
  MIGRATE_VMA_SELECT_DEVICE_COHERENT,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  MIGRATE_VMA_SELECT_SYSTEM,
  migrate_pfn,
  migrate_pfn_clear,
  migrate_pfn_flags,
  migrate_pfn_set,
  migrate_pfn_to_page,
  type migrate_vma,
} from '../include/linux/migrate';
import {
  EAGAIN,
  EBUSY,
  EINVAL,
  ENOENT,
  folio_is_zone_device,
  folio_mapcount,
  folio_nr_pages,
  folio_ref_count,
  folio_test_anon,
  folio_test_large,
  is_huge_zero_pfn,
  is_vm_hugetlb_page,
  is_zero_pfn,
  PageAnonExclusive,
  page_folio,
  VM_IO,
  VM_MIXEDMAP,
  VM_PFNMAP,
  VM_WRITE,
  vma_is_anonymous,
} from '../include/linux/mm';
import {
  HPAGE_PMD_NR,
  MM_ANONPAGES,
  PAGE_SIZE,
  PMD_SIZE,
  type vm_area_struct,
} from '../include/linux/mm_types';
import { PG_dirty, PG_locked } from '../include/linux/page-flags';
import { folio_trylock, folio_unlock } from '../include/linux/pagemap';
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  _PAGE_SOFT_DIRTY,
  pfn_pmd,
  pfn_pte,
  pmd_is_table,
  pmd_none,
  pmd_pfn,
  pmd_trans_huge,
  pte_dirty,
  pte_none,
  pte_pfn,
  pte_present,
  pte_soft_dirty,
  pte_write,
} from '../include/linux/pgtable';
import {
  _PAGE_SWP_SOFT_DIRTY,
  is_device_private_entry,
  is_writable_device_private_entry,
  make_readable_device_private_entry,
  make_writable_device_private_entry,
  swp_keep_bits,
  swp_offset_pfn,
} from '../include/linux/swapops';
import type { Machine } from '../machine';
import { __split_huge_pmd, folio_split_unmapped, set_pmd_migration_entry, split_folio } from './huge_memory';
import { add_mm_counter, vm_normal_page } from './memory';
import { is_device_coherent_page, is_device_private_page, page_pgmap } from './memremap';
import {
  folio_migrate_flags,
  folio_migrate_mapping,
  folio_try_share_anon_rmap_pte,
  migration_entry_for,
  remove_migration_ptes,
  try_to_migrate,
} from './migrate';
import {
  mmu_notifier_invalidate_range_end,
  mmu_notifier_invalidate_range_start,
  mmu_notifier_range_init,
} from './mmu_notifier';
import { __alloc_pages } from './page_alloc';
import {
  __pte_alloc,
  pgtable_trans_huge_deposit,
  pmdp_get,
  pte_offset_map,
  ptep_get,
  set_pmd_at,
  set_pte_at,
} from './pgtable-generic';
import {
  anon_vma_prepare,
  folio_add_new_anon_rmap,
  folio_maybe_mapped_shared,
  folio_remove_rmap_pte,
  RMAP_EXCLUSIVE,
} from './rmap';
import { folio_put } from './swap';

const VM_SPECIAL = VM_IO | VM_PFNMAP | VM_MIXEDMAP;

/**
 * migrate_vma_setup: check the arguments, collect the pages of the range
 * (replacing their mappings by migration entries), then unmap them from every
 * other process. Returns 0 even if nothing will migrate; src[] says what will.
 */
export function migrate_vma_setup(m: Machine, args: migrate_vma): number {
  const nr = (args.end - args.start) / PAGE_SIZE;
  const { vma } = args;
  if (args.start % PAGE_SIZE || args.end % PAGE_SIZE) return -EINVAL;
  if (!vma || is_vm_hugetlb_page(vma) || vma.vm_flags & VM_SPECIAL) return -EINVAL;
  if (nr <= 0 || args.start < vma.vm_start || args.start >= vma.vm_end || args.end > vma.vm_end)
    return -EINVAL;
  if (!args.src || !args.dst) return -EINVAL;
  if (
    args.fault_page >= 0 &&
    (!is_device_private_page(m, args.fault_page) ||
      !(m.mem.flags[page_folio(m, args.fault_page)] & PG_locked))
  )
    return -EINVAL;
  args.src.length = 0;
  args.dst.length = 0;
  args.npages = 0;
  args.cpages = 0;
  migrate_vma_collect(m, args);
  if (args.cpages) migrate_vma_unmap(m, args);
  return 0;
}

/**
 * migrate_vma_collect: walk the range under one MMU_NOTIFY_MIGRATE
 * invalidation carrying the caller's pgmap_owner, so the caller's own device
 * can ignore it. The walk goes PMD by PMD (walk_page_range's pmd_entry and
 * pte_hole), then PTE by PTE.
 */
function migrate_vma_collect(m: Machine, migrate: migrate_vma): void {
  const mm = migrate.vma.vm_mm;
  const range = mmu_notifier_range_init(
    'MMU_NOTIFY_MIGRATE',
    mm,
    migrate.start,
    migrate.end,
    migrate.pgmap_owner,
  );
  mmu_notifier_invalidate_range_start(range);
  for (let start = migrate.start; start < migrate.end; ) {
    const end = Math.min(start - (start % PMD_SIZE) + PMD_SIZE, migrate.end);
    const pmd = pmdp_get(mm, start);
    if (pmd_none(pmd)) migrate_vma_collect_hole(migrate, start, end);
    else if (pmd_is_table(pmd) || migrate_vma_collect_huge_pmd(m, migrate, start, end) !== 0)
      for (let addr = start; addr < end; ) addr = migrate_vma_collect_pte(m, migrate, addr, end);
    start = end;
  }
  mmu_notifier_invalidate_range_end(range);
  migrate.end = migrate.start + migrate.npages * PAGE_SIZE;
}

/** Record src[npages] = mpfn (and an empty dst); returns mpfn. */
function collect_skip(migrate: migrate_vma, mpfn: number): number {
  migrate.dst[migrate.npages] = 0;
  migrate.src[migrate.npages++] = mpfn;
  return mpfn;
}

/** migrate_vma_collect_skip over a range. */
function collect_skip_range(migrate: migrate_vma, start: number, end: number): void {
  for (let addr = start; addr < end; addr += PAGE_SIZE) collect_skip(migrate, 0);
}

/**
 * migrate_vma_collect_hole: an empty range of an anonymous VMA migrates as
 * "no source page". A whole, aligned PMD range with MIGRATE_VMA_SELECT_COMPOUND
 * is one COMPOUND entry (cpages 1) followed by 511 empty ones.
 */
function migrate_vma_collect_hole(migrate: migrate_vma, start: number, end: number): void {
  if (!vma_is_anonymous(migrate.vma)) {
    collect_skip_range(migrate, start, end);
    return;
  }
  if (migrate.flags & MIGRATE_VMA_SELECT_COMPOUND && start % PMD_SIZE === 0 && end % PMD_SIZE === 0) {
    collect_skip(migrate, MIGRATE_PFN_MIGRATE + MIGRATE_PFN_COMPOUND);
    migrate.cpages++;
    collect_skip_range(migrate, start + PAGE_SIZE, end);
    return;
  }
  for (let addr = start; addr < end; addr += PAGE_SIZE) {
    collect_skip(migrate, MIGRATE_PFN_MIGRATE);
    migrate.cpages++;
  }
}

/**
 * migrate_vma_split_folio: a large folio met through its PTEs is split
 * (split_folio), keeping the fault page's lock on the piece that now holds it.
 */
function migrate_vma_split_folio(m: Machine, folio: number, fault_page: number): number {
  const fault_folio = fault_page >= 0 ? page_folio(m, fault_page) : -1;
  if (folio !== fault_folio) {
    m.mem._refcount[folio]++;
    if (!folio_trylock(m, folio)) {
      folio_put(m, folio);
      return -EAGAIN;
    }
  }
  const ret = split_folio(m, folio);
  if (ret) {
    if (folio !== fault_folio) {
      folio_unlock(m, folio);
      folio_put(m, folio);
    }
    return ret;
  }
  const new_fault_folio = fault_page >= 0 ? page_folio(m, fault_page) : -1;
  if (new_fault_folio < 0) {
    folio_unlock(m, folio);
    folio_put(m, folio);
  } else if (folio !== new_fault_folio) {
    if (new_fault_folio !== fault_folio) {
      m.mem._refcount[new_fault_folio]++;
      folio_trylock(m, new_fault_folio);
    }
    folio_unlock(m, folio);
    folio_put(m, folio);
  }
  return 0;
}

/**
 * migrate_vma_collect_huge_pmd: a PMD-mapped THP or device-private THP. With
 * MIGRATE_VMA_SELECT_COMPOUND over the whole aligned PMD it is collected as
 * one COMPOUND entry behind a PMD migration entry; otherwise (or if it is
 * pinned) it is split and the walk goes on PTE by PTE (returns non-zero).
 */
function migrate_vma_collect_huge_pmd(m: Machine, migrate: migrate_vma, start: number, end: number): number {
  const vma = migrate.vma;
  const pmd = pmdp_get(vma.vm_mm, start);
  const fault_folio = migrate.fault_page >= 0 ? page_folio(m, migrate.fault_page) : -1;
  let write = 0;
  let folio: number;
  /* kernel/patches/0001 (MachineConfig.shared_thp_migration): a system-memory THP another mm may map is split, not collected whole. */
  let shared = false;
  if (pmd_trans_huge(pmd)) {
    if (!(migrate.flags & MIGRATE_VMA_SELECT_SYSTEM)) {
      collect_skip_range(migrate, start, end);
      return 0;
    }
    folio = pmd_pfn(pmd);
    if (is_huge_zero_pfn(m, folio)) {
      migrate_vma_collect_hole(migrate, start, end);
      return 0;
    }
    if (pte_write(pmd)) write = MIGRATE_PFN_WRITE;
    shared = m.config.shared_thp_migration === 'split-shared' && folio_maybe_mapped_shared(m, folio);
  } else {
    folio = swp_offset_pfn(pmd);
    if (
      !is_device_private_entry(pmd) ||
      !(migrate.flags & MIGRATE_VMA_SELECT_DEVICE_PRIVATE) ||
      page_pgmap(m, folio).owner !== migrate.pgmap_owner
    ) {
      collect_skip_range(migrate, start, end);
      return 0;
    }
    if (is_writable_device_private_entry(pmd)) write = MIGRATE_PFN_WRITE;
  }
  m.mem._refcount[folio]++;
  if (folio !== fault_folio && !folio_trylock(m, folio)) {
    folio_put(m, folio);
    collect_skip_range(migrate, start, end);
    return 0;
  }
  if (
    migrate.flags & MIGRATE_VMA_SELECT_COMPOUND &&
    start % PMD_SIZE === 0 &&
    end % PMD_SIZE === 0 &&
    !shared
  ) {
    if (set_pmd_migration_entry(m, vma, start) === 0) {
      collect_skip(migrate, migrate_pfn(folio) + write + MIGRATE_PFN_MIGRATE + MIGRATE_PFN_COMPOUND);
      migrate.cpages++;
      collect_skip_range(migrate, start + PAGE_SIZE, end);
      return 0;
    }
  }
  /* fallback: split the folio, then look at the PTEs. */
  const ret = split_folio(m, folio);
  if (folio !== fault_folio) folio_unlock(m, folio);
  folio_put(m, folio);
  if (ret) {
    collect_skip_range(migrate, start, end);
    return 0;
  }
  if (pmd_none(pmdp_get(vma.vm_mm, start))) {
    migrate_vma_collect_hole(migrate, start, end);
    return 0;
  }
  return -ENOENT;
}

/**
 * migrate_vma_collect_pmd, PTE by PTE: decide what each entry contributes and
 * lock it in with a migration entry. Returns the next address to look at: the
 * same one again after a large folio was split under it, or the rest of the
 * range if that split failed.
 */
function migrate_vma_collect_pte(m: Machine, migrate: migrate_vma, addr: number, end: number): number {
  const next = addr + PAGE_SIZE;
  const vma = migrate.vma;
  const table = pte_offset_map(vma.vm_mm, addr) as Uint32Array;
  const pte = ptep_get(table, addr);
  if (pte_none(pte)) {
    migrate_vma_collect_hole(migrate, addr, next);
    return next;
  }
  let page: number;
  let mpfn: number;
  if (!pte_present(pte)) {
    /* Only device-private entries of the caller's own device are migrated; swap, migration and exclusive entries are skipped. */
    if (!is_device_private_entry(pte)) {
      collect_skip(migrate, 0);
      return next;
    }
    page = swp_offset_pfn(pte);
    if (
      !(migrate.flags & MIGRATE_VMA_SELECT_DEVICE_PRIVATE) ||
      page_pgmap(m, page).owner !== migrate.pgmap_owner
    ) {
      collect_skip(migrate, 0);
      return next;
    }
    mpfn =
      migrate_pfn(page) +
      MIGRATE_PFN_MIGRATE +
      (is_writable_device_private_entry(pte) ? MIGRATE_PFN_WRITE : 0);
  } else {
    const pfn = pte_pfn(pte);
    if (is_zero_pfn(m, pfn)) {
      if (!(migrate.flags & MIGRATE_VMA_SELECT_SYSTEM)) {
        collect_skip(migrate, 0);
        return next;
      }
      migrate.cpages++;
      collect_skip(migrate, MIGRATE_PFN_MIGRATE);
      return next;
    }
    page = vm_normal_page(m, vma, addr, pte);
    if (page < 0) {
      collect_skip(migrate, 0);
      return next;
    }
    if (!folio_is_zone_device(m, page) && !(migrate.flags & MIGRATE_VMA_SELECT_SYSTEM)) {
      collect_skip(migrate, 0);
      return next;
    }
    if (
      is_device_coherent_page(m, page) &&
      (!(migrate.flags & MIGRATE_VMA_SELECT_DEVICE_COHERENT) ||
        page_pgmap(m, page).owner !== migrate.pgmap_owner)
    ) {
      collect_skip(migrate, 0);
      return next;
    }
    mpfn = migrate_pfn(page) + MIGRATE_PFN_MIGRATE + (pte_write(pte) ? MIGRATE_PFN_WRITE : 0);
  }
  const folio = page_folio(m, page);
  if (folio_test_large(m, folio)) {
    if (migrate_vma_split_folio(m, folio, migrate.fault_page) !== 0) {
      collect_skip_range(migrate, addr, end);
      return end;
    }
    return addr;
  }
  if (m.mem.mapping[folio] === 0) {
    collect_skip(migrate, 0);
    return next;
  }

  /* By taking a reference on the folio we pin it, which blocks any other migration. */
  m.mem._refcount[folio]++;
  const fault_folio = migrate.fault_page >= 0 ? page_folio(m, migrate.fault_page) : -1;
  if (folio !== fault_folio && !folio_trylock(m, folio)) {
    folio_put(m, folio);
    collect_skip(migrate, 0);
    return next;
  }
  const anon_exclusive = folio_test_anon(m, folio) && PageAnonExclusive(m, page);
  set_pte_at(table, addr, 0);
  if (anon_exclusive && folio_try_share_anon_rmap_pte(m, folio, page) !== 0) {
    /* A pinned exclusive page: put the PTE back and leave it alone. */
    set_pte_at(table, addr, pte);
    if (folio !== fault_folio) folio_unlock(m, folio);
    folio_put(m, folio);
    collect_skip(migrate, 0);
    return next;
  }
  migrate.cpages++;
  if (pte_present(pte) && pte_dirty(pte)) m.mem.flags[folio] |= PG_dirty;
  const entry = migration_entry_for((mpfn & MIGRATE_PFN_WRITE) !== 0, anon_exclusive, page);
  /*
   * migrate_vma_collect_pmd: a present PTE's soft-dirty bit becomes the swap
   * soft-dirty bit (pte_swp_mksoft_dirty), a non-present entry's is carried over.
   */
  set_pte_at(
    table,
    addr,
    pte_present(pte) ? entry | (pte_soft_dirty(pte) ? _PAGE_SWP_SOFT_DIRTY : 0) : swp_keep_bits(pte, entry),
  );
  /* Like a regular unmap: drop the rmap and the mapping's reference; ours keeps the folio alive. */
  folio_remove_rmap_pte(m, folio, page, vma);
  folio_put(m, folio);
  collect_skip(migrate, mpfn);
  return next;
}

/**
 * migrate_vma_check_page: may this unmapped folio migrate? Every reference
 * must be accounted for: ours, the fault's, a mapping's, and, for ZONE_DEVICE
 * folios, one extra left over from the days they idled at refcount 1.
 */
function migrate_vma_check_page(m: Machine, folio: number, fault_page: number): boolean {
  let extra = 1 + (folio === fault_page ? 1 : 0);
  if (folio_is_zone_device(m, folio)) extra++;
  if (!folio_test_anon(m, folio) && m.mem.mapping[folio] !== 0) extra++;
  return folio_ref_count(m, folio) - extra <= folio_mapcount(m, folio);
}

/**
 * migrate_device_unmap: unmap the collected pages from every other process
 * (try_to_migrate), and give up on any page still mapped or holding unexpected
 * references, restoring its mappings. Returns how many pages are ready.
 */
export function migrate_device_unmap(m: Machine, src: number[], npages: number, fault_page: number): number {
  const fault_folio = fault_page >= 0 ? page_folio(m, fault_page) : -1;
  let unmapped = 0;
  let restore = 0;
  for (let i = 0; i < npages; ) {
    const page = migrate_pfn_to_page(src[i]);
    if (page < 0) {
      if (src[i] & MIGRATE_PFN_MIGRATE) unmapped++;
      i++;
      continue;
    }
    const folio = page_folio(m, page);
    const nr = folio_nr_pages(m, folio);
    if (nr > 1 && !(src[i] & MIGRATE_PFN_COMPOUND)) src[i] += MIGRATE_PFN_COMPOUND;
    /* Non-device folios are isolated from the LRU, whose reference replaces the collect reference. */
    if (folio_mapcount(m, folio) > 0) try_to_migrate(m, folio);
    if (folio_mapcount(m, folio) > 0 || !migrate_vma_check_page(m, folio, fault_folio)) {
      src[i] = migrate_pfn_clear(src[i], MIGRATE_PFN_MIGRATE);
      restore++;
    } else unmapped++;
    i += nr;
  }
  for (let i = 0; i < npages && restore; i++) {
    const page = migrate_pfn_to_page(src[i]);
    if (page < 0 || src[i] & MIGRATE_PFN_MIGRATE) continue;
    const folio = page_folio(m, page);
    remove_migration_ptes(m, folio, folio);
    src[i] = 0;
    if (folio !== fault_folio) folio_unlock(m, folio);
    folio_put(m, folio);
    restore--;
  }
  return unmapped;
}

/** migrate_vma_unmap: cpages becomes the number of entries still marked MIGRATE, holes included. */
function migrate_vma_unmap(m: Machine, migrate: migrate_vma): void {
  migrate.cpages = migrate_device_unmap(m, migrate.src, migrate.npages, migrate.fault_page);
}

/**
 * migrate_vma_insert_page: fill a hole (none or zero-page PTE, or a page of a
 * huge zero PMD, which is split first) of an anonymous VMA with the
 * destination page: a device-private entry (write if VM_WRITE) or a present
 * PTE (writable and dirty if VM_WRITE) for coherent or system memory.
 */
function migrate_vma_insert_page(m: Machine, migrate: migrate_vma, addr: number, i: number): boolean {
  const vma: vm_area_struct = migrate.vma;
  const page = migrate_pfn_to_page(migrate.dst[i]);
  const abort = (): boolean => {
    migrate.src[i] = migrate_pfn_clear(migrate.src[i], MIGRATE_PFN_MIGRATE);
    return false;
  };
  if (!vma_is_anonymous(vma)) return abort();
  if (migrate.dst[i] & MIGRATE_PFN_COMPOUND) return migrate_vma_insert_huge_pmd_page(m, migrate, addr, i);
  const pmd = pmdp_get(vma.vm_mm, addr);
  if (!pmd_none(pmd) && !pmd_is_table(pmd)) {
    /* A huge zero PMD is split (split_huge_pmd): its zero-page PTEs are then replaced one by one. */
    if (!pmd_trans_huge(pmd) || !is_huge_zero_pfn(m, pmd_pfn(pmd))) return abort();
    __split_huge_pmd(m, vma, addr - (addr % PMD_SIZE));
  }
  anon_vma_prepare(m, vma);
  let entry: number;
  if (is_device_private_page(m, page)) {
    entry =
      vma.vm_flags & VM_WRITE
        ? make_writable_device_private_entry(page)
        : make_readable_device_private_entry(page);
  } else {
    if (folio_is_zone_device(m, page) && !is_device_coherent_page(m, page)) {
      m.warn('migrate_vma_insert_page', 'Unsupported ZONE_DEVICE page type.');
      return abort();
    }
    entry = pfn_pte(page, vma.vm_flags & VM_WRITE ? _PAGE_RW | _PAGE_DIRTY | _PAGE_SOFT_DIRTY : 0);
  }
  const table = __pte_alloc(vma.vm_mm, addr);
  const orig = ptep_get(table, addr);
  if (pte_present(orig) ? !is_zero_pfn(m, pte_pfn(orig)) : !pte_none(orig)) return abort();
  add_mm_counter(vma, MM_ANONPAGES, 1);
  folio_add_new_anon_rmap(m, page, vma, addr, RMAP_EXCLUSIVE);
  m.mem._refcount[page]++;
  set_pte_at(table, addr, entry);
  migrate.src[i] = MIGRATE_PFN_MIGRATE;
  return true;
}

/**
 * migrate_vma_insert_huge_pmd_page: fill an empty, aligned PMD range with a
 * PMD-order destination folio, as __do_huge_pmd_anonymous_page would: a
 * device-private PMD (write if VM_WRITE), or a present PMD for coherent or
 * system memory; new exclusive anon rmap, 512 rss pages, a deposited table.
 * On failure all 512 entries lose MIGRATE.
 */
function migrate_vma_insert_huge_pmd_page(
  m: Machine,
  migrate: migrate_vma,
  addr: number,
  i: number,
): boolean {
  const vma = migrate.vma;
  const folio = migrate_pfn_to_page(migrate.dst[i]);
  const abort = (): boolean => {
    for (let j = 0; j < HPAGE_PMD_NR && i + j < migrate.npages; j++)
      migrate.src[i + j] = migrate_pfn_clear(migrate.src[i + j], MIGRATE_PFN_MIGRATE);
    return false;
  };
  if (addr % PMD_SIZE !== 0 || addr < vma.vm_start || addr + PMD_SIZE > vma.vm_end) return abort();
  const pmd = pmdp_get(vma.vm_mm, addr);
  if (!pmd_none(pmd) && !(pmd_trans_huge(pmd) && is_huge_zero_pfn(m, pmd_pfn(pmd)))) return abort();
  anon_vma_prepare(m, vma);
  let entry: number;
  if (is_device_private_page(m, folio))
    entry =
      vma.vm_flags & VM_WRITE
        ? make_writable_device_private_entry(folio)
        : make_readable_device_private_entry(folio);
  else {
    if (folio_is_zone_device(m, folio) && !is_device_coherent_page(m, folio)) return abort();
    entry = pfn_pmd(folio, vma.vm_flags & VM_WRITE ? _PAGE_RW | _PAGE_DIRTY | _PAGE_SOFT_DIRTY : 0);
  }
  add_mm_counter(vma, MM_ANONPAGES, HPAGE_PMD_NR);
  folio_add_new_anon_rmap(m, folio, vma, addr, RMAP_EXCLUSIVE);
  m.mem._refcount[folio]++;
  if (pmd_none(pmd)) pgtable_trans_huge_deposit(vma.vm_mm, addr);
  set_pmd_at(vma.vm_mm, addr, entry);
  m.vm_events.THP_FAULT_ALLOC++;
  return true;
}

/**
 * __migrate_device_pages: move struct page state from each source to its
 * destination (folio_migrate_mapping), or fill holes. Entries the kernel
 * cannot migrate lose MIGRATE_PFN_MIGRATE.
 */
function __migrate_device_pages(
  m: Machine,
  src: number[],
  dst: number[],
  npages: number,
  migrate: migrate_vma | null,
): void {
  let range = null;
  for (let i = 0; i < npages; ) {
    const newpage = migrate_pfn_to_page(dst[i]);
    const page = migrate_pfn_to_page(src[i]);
    let nr = 1;
    if (newpage < 0) {
      src[i] = migrate_pfn_clear(src[i], MIGRATE_PFN_MIGRATE);
      i++;
      continue;
    }
    if (page < 0) {
      if (src[i] & MIGRATE_PFN_MIGRATE && migrate) {
        const addr = migrate.start + i * PAGE_SIZE;
        if (!range) {
          range = mmu_notifier_range_init(
            'MMU_NOTIFY_MIGRATE',
            migrate.vma.vm_mm,
            addr,
            migrate.end,
            migrate.pgmap_owner,
          );
          mmu_notifier_invalidate_range_start(range);
        }
        /* A COMPOUND hole with small destinations is filled page by page. */
        if (src[i] & MIGRATE_PFN_COMPOUND && !(dst[i] & MIGRATE_PFN_COMPOUND)) {
          nr = HPAGE_PMD_NR;
          src[i] = migrate_pfn_clear(src[i], MIGRATE_PFN_COMPOUND);
        }
        for (let j = 0; j < nr && i + j < npages; j++) {
          src[i + j] = migrate_pfn_set(src[i + j], MIGRATE_PFN_MIGRATE);
          migrate_vma_insert_page(m, migrate, addr + j * PAGE_SIZE, i + j);
        }
      }
      i += nr;
      continue;
    }
    let folio = page_folio(m, page);
    if (src[i] & MIGRATE_PFN_MIGRATE && src[i] & MIGRATE_PFN_COMPOUND && !(dst[i] & MIGRATE_PFN_COMPOUND)) {
      /* A PMD-order source meets small destinations: split it while unmapped. */
      if (!migrate) {
        src[i] = migrate_pfn_clear(src[i], MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND);
        i++;
        continue;
      }
      nr = folio_nr_pages(m, folio);
      if (migrate_vma_split_unmapped_folio(m, migrate, i, migrate.start + i * PAGE_SIZE, folio) !== 0) {
        src[i] = migrate_pfn_clear(src[i], MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND);
        i++;
        continue;
      }
    } else if (
      src[i] & MIGRATE_PFN_MIGRATE &&
      dst[i] & MIGRATE_PFN_COMPOUND &&
      !(src[i] & MIGRATE_PFN_COMPOUND)
    ) {
      src[i] = migrate_pfn_clear(src[i], MIGRATE_PFN_MIGRATE);
    }
    if (is_device_private_page(m, newpage) || is_device_coherent_page(m, newpage)) {
      /* Only anonymous memory migrates to device memory. */
      if (!folio_test_anon(m, folio) && m.mem.mapping[folio] !== 0) {
        src[i] = migrate_pfn_clear(src[i], MIGRATE_PFN_MIGRATE);
        i += nr;
        continue;
      }
    } else if (folio_is_zone_device(m, newpage)) {
      src[i] = migrate_pfn_clear(src[i], MIGRATE_PFN_MIGRATE);
      i += nr;
      continue;
    }
    const extra = migrate && migrate.fault_page >= 0 && page_folio(m, migrate.fault_page) === folio ? 1 : 0;
    for (let j = 0; j < nr && i + j < npages; j++) {
      folio = page_folio(m, migrate_pfn_to_page(src[i + j]));
      const newfolio = page_folio(m, migrate_pfn_to_page(dst[i + j]));
      if (!(src[i + j] & MIGRATE_PFN_MIGRATE)) continue;
      if (folio_migrate_mapping(m, newfolio, folio, extra) !== 0) {
        src[i + j] = migrate_pfn_clear(src[i + j], MIGRATE_PFN_MIGRATE);
        m.vm_events.PGMIGRATE_FAIL++;
      } else folio_migrate_flags(m, newfolio, folio);
    }
    i += nr;
  }
  if (range) mmu_notifier_invalidate_range_end(range);
}

/**
 * migrate_vma_split_unmapped_folio: split the source's PMD migration entry
 * into 512 PTE migration entries and the folio into 512 order-0 folios
 * (folio_split_unmapped), then give every page its own src entry.
 */
function migrate_vma_split_unmapped_folio(
  m: Machine,
  migrate: migrate_vma,
  idx: number,
  addr: number,
  folio: number,
): number {
  /* A reference for split_huge_pmd_address(freeze), which drops one at the end. */
  m.mem._refcount[folio]++;
  __split_huge_pmd(m, migrate.vma, addr - (addr % PMD_SIZE), true);
  const ret = folio_split_unmapped(m, folio);
  if (ret) return ret;
  migrate.src[idx] = migrate_pfn_clear(migrate.src[idx], MIGRATE_PFN_COMPOUND);
  const flags = migrate_pfn_flags(migrate.src[idx]);
  for (let i = 1; i < HPAGE_PMD_NR; i++)
    migrate.src[idx + i] = migrate_pfn(folio + i) - MIGRATE_PFN_VALID + flags;
  return 0;
}

export const migrate_vma_pages = (m: Machine, migrate: migrate_vma): void =>
  __migrate_device_pages(m, migrate.src, migrate.dst, migrate.npages, migrate);
export const migrate_device_pages = (m: Machine, src: number[], dst: number[], npages: number): void =>
  __migrate_device_pages(m, src, dst, npages, null);

/**
 * __migrate_device_finalize: point every migration entry at the destination
 * (or back at the source where migration failed), unlock, and drop the
 * collect and allocation references. A source nobody references is freed.
 */
function __migrate_device_finalize(
  m: Machine,
  src: number[],
  dst: number[],
  npages: number,
  fault_page: number,
): void {
  for (let i = 0; i < npages; i++) {
    const page = migrate_pfn_to_page(src[i]);
    let newpage = migrate_pfn_to_page(dst[i]);
    if (page < 0) {
      if (newpage >= 0) {
        folio_unlock(m, newpage);
        folio_put(m, newpage);
      }
      continue;
    }
    const folio = page_folio(m, page);
    if (!(src[i] & MIGRATE_PFN_MIGRATE) || newpage < 0) {
      if (newpage >= 0) {
        folio_unlock(m, newpage);
        folio_put(m, newpage);
      }
      newpage = page;
    }
    const dst_folio = page_folio(m, newpage);
    remove_migration_ptes(m, folio, dst_folio);
    if (dst_folio !== folio) m.vm_events.PGMIGRATE_SUCCESS++;
    if (folio !== fault_page) folio_unlock(m, folio);
    folio_put(m, folio);
    if (dst_folio !== folio) {
      folio_unlock(m, dst_folio);
      folio_put(m, dst_folio);
    }
  }
}

export const migrate_vma_finalize = (m: Machine, migrate: migrate_vma): void =>
  __migrate_device_finalize(m, migrate.src, migrate.dst, migrate.npages, migrate.fault_page);
export const migrate_device_finalize = (m: Machine, src: number[], dst: number[], npages: number): void =>
  __migrate_device_finalize(m, src, dst, npages, -1);

/**
 * migrate_device_range: collect device pages by pfn, whoever maps them, for
 * a driver that is going away: take a reference and the lock on every page in
 * use, then unmap it from every process into migration entries.
 */
export function migrate_device_range(m: Machine, src: number[], start_pfn: number, npages: number): number {
  src.length = 0;
  for (let i = 0; i < npages; i++) {
    const pfn = start_pfn + i;
    const folio = page_folio(m, pfn);
    if (folio !== pfn || m.mem._refcount[folio] === 0) {
      src.push(0);
      continue;
    }
    m.mem._refcount[folio]++;
    if (!folio_trylock(m, folio)) {
      folio_put(m, folio);
      src.push(0);
      continue;
    }
    const nr = folio_nr_pages(m, folio);
    src.push(migrate_pfn(pfn) + MIGRATE_PFN_MIGRATE + (nr > 1 ? MIGRATE_PFN_COMPOUND : 0));
    for (let j = 1; j < nr && i + j < npages; j++) src.push(0);
    i += nr - 1;
  }
  migrate_device_unmap(m, src, npages, -1);
  return 0;
}

/**
 * migrate_device_coherent_folio: move one DEVICE_COHERENT folio to a new
 * system page, wherever it is mapped (for a FOLL_LONGTERM pin). The caller's
 * reference plays the collect reference and is consumed. Returns 0 or -EBUSY
 * (still pinned or mapped, or no memory).
 */
export function migrate_device_coherent_folio(m: Machine, folio: number): number {
  if (folio_test_large(m, folio)) m.warn('migrate_device_coherent_folio', 'large folio');
  if (!folio_trylock(m, folio)) {
    folio_put(m, folio);
    return -EBUSY;
  }
  const src = [migrate_pfn(folio) + MIGRATE_PFN_MIGRATE];
  const dst = [0];
  migrate_device_unmap(m, src, 1, -1);
  if (!(src[0] & MIGRATE_PFN_MIGRATE)) return -EBUSY;
  const dfolio = __alloc_pages(m, m.zone, 0);
  if (dfolio >= 0) {
    m.mem.flags[dfolio] |= PG_locked;
    dst[0] = migrate_pfn(dfolio);
  }
  migrate_device_pages(m, src, dst, 1);
  if (src[0] & MIGRATE_PFN_MIGRATE) copy_highpage(m, dfolio, folio);
  migrate_device_finalize(m, src, dst, 1);
  return src[0] & MIGRATE_PFN_MIGRATE ? 0 : -EBUSY;
}
