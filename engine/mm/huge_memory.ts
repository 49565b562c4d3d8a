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
  EBUSY,
  EINVAL,
  FAULT_FLAG_UNSHARE,
  FAULT_FLAG_WRITE,
  folio_get,
  folio_is_zone_device,
  folio_maybe_dma_pinned,
  folio_ref_add,
  folio_ref_count,
  folio_test_anon,
  folio_test_large,
  is_cow_mapping,
  is_huge_zero_pfn,
  PageAnonExclusive,
  VM_FAULT_RETRY,
  VM_FAULT_SIGBUS,
  VM_HUGEPAGE,
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
import { EngineUsageError, KernelInvariantViolation, VM_BUG_ON } from '../include/linux/mmdebug';
import {
  PG_anon,
  PG_anon_exclusive,
  PG_dirty,
  PG_locked,
  PG_partially_mapped,
  PG_swapbacked,
  PG_uptodate,
} from '../include/linux/page-flags';
import { folio_trylock, folio_unlock } from '../include/linux/pagemap';
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_RW,
  _PAGE_SOFT_DIRTY,
  _PAGE_SPECIAL,
  pfn_pmd,
  pfn_pte,
  pmd_dirty,
  pmd_mkdirty,
  pmd_mkold,
  pmd_pfn,
  pmd_soft_dirty,
  pmd_trans_huge,
  pmd_wrprotect,
  pte_write,
} from '../include/linux/pgtable';
import {
  _PAGE_SWP_SOFT_DIRTY,
  is_device_private_entry,
  is_migration_entry,
  is_readable_exclusive_migration_entry,
  is_writable_device_private_entry,
  is_writable_migration_entry,
  make_readable_device_private_entry,
  make_readable_migration_entry,
  make_writable_device_private_entry,
  pte_swp_soft_dirty,
  softleaf_type_of,
  swp_entry,
  swp_keep_bits,
  swp_offset_pfn,
  swp_type,
} from '../include/linux/swapops';
import { preempt_point } from '../kernel/sched';
import type { Machine } from '../machine';
import { add_mm_counter, mm_counter, type vm_fault } from './memory';
import { is_device_private_page, page_pgmap } from './memremap';
import { migration_entry_for, remove_migration_ptes, TTU_SPLIT_HUGE_PMD, try_to_migrate } from './migrate';
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
  folio_add_rmap_pmd,
  folio_move_anon_rmap,
  folio_remove_rmap_pmd,
  folio_try_dup_anon_rmap_pmd,
  RMAP_EXCLUSIVE,
  RMAP_NONE,
} from './rmap';
import { __folio_put, folio_put } from './swap';

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
  set_pmd_at(
    mm,
    haddr,
    pfn_pmd(folio, vma.vm_flags & VM_WRITE ? _PAGE_RW | _PAGE_DIRTY | _PAGE_SOFT_DIRTY : 0),
  );
  add_mm_counter(vma, MM_ANONPAGES, HPAGE_PMD_NR);
  return 0;
}

/** huge_pmd_set_accessed: a CPU access that the huge PMD already allows. */
export function huge_pmd_set_accessed(vmf: vm_fault, pmd: number): void {
  let entry = pmd | _PAGE_ACCESSED;
  if (vmf.flags & FAULT_FLAG_WRITE) entry = pmd_mkdirty(entry);
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
  let entry = pmd_mkdirty(pmd | _PAGE_ACCESSED);
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
  set_pmd_at(vma.vm_mm, haddr, pfn_pmd(folio, _PAGE_RW | _PAGE_DIRTY | _PAGE_SOFT_DIRTY | _PAGE_ACCESSED));
  add_mm_counter(vma, MM_ANONPAGES, HPAGE_PMD_NR);
  mmu_notifier_invalidate_range_end(range);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Non-present PMDs: migration and device-private entries               */
/* ------------------------------------------------------------------ */

/** The folio a huge PMD maps, present or not (a non-present PMD's pfn is decoded from its swap entry). */
export function pmd_folio(pmd: number): number {
  return pmd_trans_huge(pmd) ? pmd_pfn(pmd) : swp_offset_pfn(pmd);
}

/** folio_try_share_anon_rmap_pmd: an exclusive THP is about to lose its exclusive mapping; refused while it may be pinned. */
function folio_try_share_anon_rmap_pmd(m: Machine, folio: number): number {
  if (folio_maybe_dma_pinned(m, folio)) return -EBUSY;
  for (let i = 0; i < HPAGE_PMD_NR; i++) m.mem.flags[folio + i] &= ~PG_anon_exclusive;
  return 0;
}

/**
 * set_pmd_migration_entry: replace a PMD mapping (a present THP or a
 * device-private PMD) by a PMD migration entry: write if the mapping was
 * writable, read-exclusive if exclusive, else read. The PMD's mapcount and
 * reference go. A pinned exclusive THP refuses (-EBUSY).
 */
export function set_pmd_migration_entry(m: Machine, vma: vm_area_struct, haddr: number): number {
  const mm = vma.vm_mm;
  const pmd = pmdp_get(mm, haddr);
  const present = pmd_trans_huge(pmd);
  const folio = pmd_folio(pmd);
  const anon_exclusive = PageAnonExclusive(m, folio);
  set_pmd_at(mm, haddr, 0);
  if (anon_exclusive && folio_try_share_anon_rmap_pmd(m, folio) !== 0) {
    set_pmd_at(mm, haddr, pmd);
    return -EBUSY;
  }
  if (present && pmd_dirty(pmd)) m.mem.flags[folio] |= PG_dirty;
  const writable = present ? pte_write(pmd) : is_writable_device_private_entry(pmd);
  const entry = migration_entry_for(writable, anon_exclusive, folio);
  /* pmdswp = pmd_swp_mksoft_dirty(pmdswp) when the present PMD was soft-dirty, as for a device-private one. */
  const softdirty = present && pmd_soft_dirty(pmd) ? _PAGE_SWP_SOFT_DIRTY : 0;
  set_pmd_at(mm, haddr, present ? (entry | softdirty) >>> 0 : swp_keep_bits(pmd, entry));
  folio_remove_rmap_pmd(m, folio, vma);
  folio_put(m, folio);
  return 0;
}

/**
 * remove_migration_pmd: a PMD migration entry for `src` becomes a mapping of
 * the PMD-order folio `dst`: a present PMD, or a device-private PMD when dst
 * is device-private; writable iff the entry was migration-write.
 */
export function remove_migration_pmd(m: Machine, vma: vm_area_struct, haddr: number, dst: number): void {
  const mm = vma.vm_mm;
  const old = pmdp_get(mm, haddr);
  const write = is_writable_migration_entry(old);
  const exclusive = write || is_readable_exclusive_migration_entry(old);
  folio_get(m, dst);
  let entry: number;
  const device_private = is_device_private_page(m, dst);
  if (device_private)
    entry = swp_keep_bits(
      old,
      write ? make_writable_device_private_entry(dst) : make_readable_device_private_entry(dst),
    );
  else
    entry = pfn_pmd(
      dst,
      (write && vma.vm_flags & VM_WRITE ? _PAGE_RW : 0) | (pte_swp_soft_dirty(old) ? _PAGE_SOFT_DIRTY : 0),
    );
  folio_add_rmap_pmd(m, dst, vma, folio_test_anon(m, dst) && exclusive ? RMAP_EXCLUSIVE : RMAP_NONE);
  /*
   * VM_BUG_ON(pmd_write(pmde) && folio_test_anon(folio) && !PageAnonExclusive(new)).
   * 7.x makes the check after pmde has become the device-private swap PMD,
   * where pmd_write() reads _PAGE_RW: on x86 the bit _PAGE_SWP_SOFT_DIRTY
   * lives in. So a soft-dirty device-private PMD of a page that is not
   * exclusive (a fork-shared THP written since the last clear_refs)
   * trips it under CONFIG_DEBUG_VM: kernel BUG at mm/huge_memory.c:5114 on
   * 7.2.13 (docs/upstream/shared-thp-migration.md). MachineConfig
   * .device_private_pmd_write_check 'swap-pmd' models it; 'present-pmd' is
   * the check made on the present pmde before the conversion.
   */
  VM_BUG_ON(
    device_private &&
      m.config.device_private_pmd_write_check === 'swap-pmd' &&
      pte_swp_soft_dirty(entry) &&
      folio_test_anon(m, dst) &&
      !PageAnonExclusive(m, dst),
    'VM_BUG_ON(pmd_write(pmde) && folio_test_anon(folio) && !PageAnonExclusive(new))',
    dst,
    'remove_migration_pmd: a soft-dirty device-private PMD of a shared anonymous THP reads as writable',
  );
  set_pmd_at(mm, haddr, entry);
}

/**
 * do_huge_pmd_device_private: a CPU fault on a device-private PMD. Like the
 * PTE case, the folio is locked and referenced and the pagemap's
 * migrate_to_ram moves it back (the driver sees vmf->pte == NULL, so the
 * whole folio). A folio someone else holds locked means wait and retry.
 */
export function do_huge_pmd_device_private(m: Machine, vmf: vm_fault, pmd: number): number {
  const folio = swp_offset_pfn(pmd);
  vmf.page = folio;
  vmf.pmd_fault = true;
  if (!folio_trylock(m, folio)) return VM_FAULT_RETRY;
  folio_get(m, folio);
  const ret = page_pgmap(m, folio).ops.migrate_to_ram?.(vmf) ?? VM_FAULT_SIGBUS;
  folio_unlock(m, folio);
  folio_put(m, folio);
  return ret;
}

/**
 * copy_huge_pmd: fork of a huge PMD. The child shares the THP read-only; a
 * possibly pinned THP is instead split in the parent (-EAGAIN), so
 * copy_pte_range copies the pinned pages one by one. File THPs are refaulted.
 * Non-present PMDs go to copy_huge_non_present_pmd.
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
  if (!pmd_trans_huge(pmd)) return copy_huge_non_present_pmd(m, dst_vma, src_vma, haddr, pmd);
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

/**
 * copy_huge_non_present_pmd: a PMD migration entry is copied (write and
 * read-exclusive become read on both sides); a device-private PMD is a real
 * mapping: reference and entire mapcount +1, and in a COW mapping write
 * becomes read in parent and child. The child's rss gains 512 pages.
 */
function copy_huge_non_present_pmd(
  m: Machine,
  dst_vma: vm_area_struct,
  src_vma: vm_area_struct,
  haddr: number,
  pmd: number,
): number {
  const cow = is_cow_mapping(src_vma.vm_flags);
  const folio = swp_offset_pfn(pmd);
  let entry = pmd;
  if (is_migration_entry(pmd)) {
    if (cow && (is_writable_migration_entry(pmd) || is_readable_exclusive_migration_entry(pmd))) {
      entry = swp_keep_bits(pmd, make_readable_migration_entry(folio));
      set_pmd_at(src_vma.vm_mm, haddr, entry);
    }
  } else if (is_device_private_entry(pmd)) {
    folio_get(m, folio);
    /* Device-private folios cannot be pinned, so the dup cannot fail. */
    folio_try_dup_anon_rmap_pmd(m, folio, dst_vma, src_vma);
    if (cow && is_writable_device_private_entry(pmd)) {
      entry = swp_keep_bits(pmd, make_readable_device_private_entry(folio));
      set_pmd_at(src_vma.vm_mm, haddr, entry);
    }
  } else
    throw new KernelInvariantViolation(
      'PMD non-present entries are migration or device-private',
      folio,
      `fork of a ${softleaf_type_of(pmd)} PMD`,
    );
  add_mm_counter(dst_vma, MM_ANONPAGES, HPAGE_PMD_NR);
  pgtable_trans_huge_deposit(dst_vma.vm_mm, haddr);
  set_pmd_at(dst_vma.vm_mm, haddr, entry);
  return 0;
}

/**
 * zap_huge_pmd: unmap a whole huge PMD: one PMD mapcount, one reference, 512
 * rss pages. A device-private PMD drops its mapping at once; a migration
 * entry only its rss.
 */
export function zap_huge_pmd(m: Machine, vma: vm_area_struct, addr: number): void {
  const mm = vma.vm_mm;
  const haddr = haddr_of(addr);
  const pmd = pmdp_get(mm, haddr);
  set_pmd_at(mm, haddr, 0);
  pgtable_trans_huge_withdraw(mm, haddr);
  const folio = pmd_folio(pmd);
  if (!pmd_trans_huge(pmd)) {
    add_mm_counter(vma, mm_counter(m, folio), -HPAGE_PMD_NR);
    if (is_device_private_entry(pmd)) {
      folio_remove_rmap_pmd(m, folio, vma);
      folio_put(m, folio);
    }
    return;
  }
  if (is_huge_zero_pfn(m, folio)) return;
  if (pmd_dirty(pmd)) m.mem.flags[folio] |= PG_dirty;
  folio_remove_rmap_pmd(m, folio, vma);
  add_mm_counter(vma, mm_counter(m, folio), -HPAGE_PMD_NR);
  folio_put(m, folio);
}

/**
 * __split_huge_pmd: replace a huge PMD by a table of 512 PTEs mapping the same
 * pages (or the zero page, for the huge zero PMD). Secondary MMUs see
 * MMU_NOTIFY_CLEAR over the PMD. With `freeze` (try_to_migrate, a migration's
 * split) the PTEs are migration entries instead. The folio itself stays
 * large; only the v2 design of device-private THP split it here.
 */
export function __split_huge_pmd(m: Machine, vma: vm_area_struct, haddr: number, freeze = false): void {
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', vma.vm_mm, haddr, haddr + PMD_SIZE);
  mmu_notifier_invalidate_range_start(range);
  const pmd = pmdp_get(vma.vm_mm, haddr);
  __split_huge_pmd_locked(m, vma, haddr, freeze);
  mmu_notifier_invalidate_range_end(range);
  /*
   * The v2 patch split a device-private folio right here, still mapped. The
   * merged kernel leaves it large and PTE-mapped (never queued for deferred
   * split); it is split through __folio_split when a fault or migration meets it.
   */
  if (!freeze && is_device_private_entry(pmd) && m.config.device_private_split === 'v2')
    v2_split_after_pmd_split(m, swp_offset_pfn(pmd));
}

/**
 * __split_huge_pmd_locked: each PTE inherits the PMD's permission bits. A
 * present or device-private PMD gives every page a reference and a PTE
 * mapcount (the folio's exclusivity copied to each page) unless frozen; a
 * frozen split installs migration entries and drops the PMD's reference
 * (refused, and done unfrozen, if the THP may be pinned).
 */
function __split_huge_pmd_locked(m: Machine, vma: vm_area_struct, haddr: number, freeze: boolean): void {
  const mm = vma.vm_mm;
  const pmd = pmdp_get(mm, haddr);
  const table = pgtable_trans_huge_withdraw(mm, haddr);
  if (pmd_trans_huge(pmd) && is_huge_zero_pfn(m, pmd_pfn(pmd))) {
    /* __split_huge_zero_page_pmd: 512 PTEs of the small zero page. */
    for (let i = 0; i < HPAGE_PMD_NR; i++) table[i] = pfn_pte(m.zero_pfn, _PAGE_SPECIAL);
    pmd_populate(mm, haddr, table);
    return;
  }
  const folio = pmd_folio(pmd);
  if (is_migration_entry(pmd)) {
    /* A PMD migration entry becomes 512 PTE migration entries; freeze drops the caller's extra reference. */
    for (let i = 0; i < HPAGE_PMD_NR; i++) table[i] = swp_keep_bits(pmd, swp_entry(swp_type(pmd), folio + i));
    pmd_populate(mm, haddr, table);
    if (freeze) folio_put(m, folio);
    return;
  }
  const device_private = is_device_private_entry(pmd);
  const writable = device_private ? is_writable_device_private_entry(pmd) : pte_write(pmd);
  const anon_exclusive = PageAnonExclusive(m, folio);
  if (freeze && anon_exclusive && folio_try_share_anon_rmap_pmd(m, folio) !== 0) freeze = false;
  if (freeze) {
    for (let i = 0; i < HPAGE_PMD_NR; i++) {
      const entry = migration_entry_for(writable, anon_exclusive, folio + i);
      /* __split_huge_pmd_locked: soft_dirty = pmd_soft_dirty(old_pmd), then pte_swp_mksoft_dirty on each entry. */
      table[i] = device_private
        ? swp_keep_bits(pmd, entry)
        : entry | (pmd_soft_dirty(pmd) ? _PAGE_SWP_SOFT_DIRTY : 0);
    }
  } else {
    folio_ref_add(m, folio, HPAGE_PMD_NR - 1);
    folio_add_anon_rmap_ptes(m, folio, folio, HPAGE_PMD_NR, vma, anon_exclusive ? RMAP_EXCLUSIVE : RMAP_NONE);
    const bits = pmd & (_PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_SOFT_DIRTY);
    for (let i = 0; i < HPAGE_PMD_NR; i++) {
      /* Device-private PTEs keep write, soft-dirty and uffd-wp; young and dirty do not exist for them. */
      table[i] = device_private
        ? swp_keep_bits(
            pmd,
            writable
              ? make_writable_device_private_entry(folio + i)
              : make_readable_device_private_entry(folio + i),
          )
        : pfn_pte(folio + i, bits);
    }
  }
  pmd_populate(mm, haddr, table);
  folio_remove_rmap_pmd(m, folio, vma);
  if (freeze) folio_put(m, folio);
}

/**
 * vma_adjust_trans_huge: a VMA boundary is about to be placed at `addr`; a
 * huge PMD straddling it must be split first.
 */
export function vma_adjust_trans_huge(m: Machine, vma: vm_area_struct, addr: number): void {
  if (addr % PMD_SIZE === 0) return;
  const haddr = haddr_of(addr);
  const pmd = pmdp_get(vma.vm_mm, haddr);
  if (pmd_trans_huge(pmd) || is_device_private_entry(pmd)) __split_huge_pmd(m, vma, haddr);
}

/**
 * deferred_split_folio: queue a partly unmapped anonymous THP so the shrinker
 * can split it later (deferred_split_scan) and free the unmapped part.
 * Device-private folios are never queued: their faults go through migration
 * entries, which expect the folio sizes to match (seed 004).
 */
export function deferred_split_folio(m: Machine, folio: number, partially_mapped: boolean): void {
  if (folio_is_zone_device(m, folio)) return;
  if (partially_mapped) m.mem.flags[folio] |= PG_partially_mapped;
  m.deferred_split_queue.add(folio);
}

/* ------------------------------------------------------------------ */
/* Folio split                                                          */
/* ------------------------------------------------------------------ */

/** The points at which a folio split can be interleaved with other operations. */
export type folio_split_phase = 'unmap' | 'freeze' | 'split' | 'remap';

/**
 * __split_unmapped_folio: turn one frozen PMD-order folio into 512 order-0
 * folios. Each page keeps its data, exclusivity, pagemap and index; a
 * device-private piece is handed to the driver's folio_split callback
 * (zone_device_private_split_cb). Pieces stay locked, as the original was.
 */
export function __split_unmapped_folio(m: Machine, folio: number): void {
  const mem = m.mem;
  const b = folio >> HPAGE_PMD_ORDER;
  const keep = PG_anon | PG_anon_exclusive | PG_dirty | PG_locked | PG_swapbacked | PG_uptodate;
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const page = folio + i;
    mem.flags[page] = (mem.flags[folio] & ~PG_anon_exclusive & keep) | (mem.flags[page] & PG_anon_exclusive);
    mem.order[page] = 0;
    mem.mapping[page] = mem.mapping[folio];
    mem.index[page] = mem.index[folio] + i;
  }
  mem._entire_mapcount[b] = mem._large_mapcount[b] = mem._pincount[b] = 0;
  mem._mm_id0[b] = mem._mm_id1[b] = mem._mm_id_mapcount0[b] = mem._mm_id_mapcount1[b] = 0;
  mem._mm_ids_shared[b] = 0;
  m.deferred_split_queue.delete(folio);
  if (is_device_private_page(m, folio)) {
    const ops = page_pgmap(m, folio).ops;
    for (let i = 1; i < HPAGE_PMD_NR; i++) ops.folio_split?.(folio, folio + i);
    ops.folio_split?.(folio, null);
  }
}

/** unmap_folio: try_to_migrate with TTU_SPLIT_HUGE_PMD: every mapping, PMD or PTE, becomes a migration entry. */
function unmap_folio(m: Machine, folio: number): void {
  try_to_migrate(m, folio, TTU_SPLIT_HUGE_PMD);
}

/**
 * __folio_split (uniform split to order 0), phase by phase: unmap every
 * mapping into migration entries (so mapcount reaches 0 and rmap cannot
 * change), freeze the refcount (it must be exactly the caller's reference,
 * else -EAGAIN and the mappings come back), split, unfreeze each piece, and
 * remap the pieces from the migration entries. Device-private folios take
 * the same path (the design the seed 004 review asked for). The caller holds
 * the folio lock and one reference; it keeps both on the head afterwards.
 * Each yield is a point where a scenario may run something else.
 */
export function* __folio_split(m: Machine, folio: number): Generator<folio_split_phase, number> {
  if (!folio_test_large(m, folio)) return -EINVAL;
  if (is_huge_zero_pfn(m, folio)) return -EINVAL;
  yield 'unmap';
  unmap_folio(m, folio);
  yield 'freeze';
  if (!folio_ref_freeze(m, folio, 1)) {
    remove_migration_ptes(m, folio, folio);
    return -EAGAIN;
  }
  yield 'split';
  __split_unmapped_folio(m, folio);
  for (let i = 0; i < HPAGE_PMD_NR; i++) m.mem._refcount[folio + i] = 1;
  yield 'remap';
  for (let i = 0; i < HPAGE_PMD_NR; i++) remove_migration_ptes(m, folio + i, folio + i);
  for (let i = 1; i < HPAGE_PMD_NR; i++) {
    folio_unlock(m, folio + i);
    folio_put(m, folio + i);
  }
  return 0;
}

/**
 * split_device_private_folio, as the v2 patch of the device-private THP
 * series had it: split a folio still mapped by device-private entries
 * without unmapping it. It freezes the refcount at 1 + the expected count
 * and does not check that the freeze succeeded - the review's question: a
 * reference taken meanwhile goes unaccounted, and the unfreeze of each piece
 * overwrites it. Caller holds the lock and one reference.
 */
export function* split_device_private_folio(m: Machine, folio: number): Generator<folio_split_phase, number> {
  yield 'freeze';
  const expected = 1 + folio_expected_ref_count(m, folio);
  folio_ref_freeze(m, folio, expected);
  yield 'split';
  const mapcounts = Array.from({ length: HPAGE_PMD_NR }, (_, i) => m.mem._mapcount[folio + i]);
  __split_unmapped_folio(m, folio);
  /* folio_ref_unfreeze of each piece: its expected count (its mappings), plus the caller's on the head. */
  for (let i = 0; i < HPAGE_PMD_NR; i++) m.mem._refcount[folio + i] = mapcounts[i] + (i === 0 ? 1 : 0);
  for (let i = 1; i < HPAGE_PMD_NR; i++) {
    folio_unlock(m, folio + i);
    if (m.mem._refcount[folio + i] === 0) __folio_put(m, folio + i);
  }
  return 0;
}

/**
 * Run a phased split to completion. Each phase boundary is a preemption
 * point (kernel/sched.ts): the caller holds the folio lock, but not the
 * page-table locks another thread's fault, GUP or driver reference needs, so
 * `When "…" is interrupted at preemption point N by "…"` and the explorer can
 * put another operation there without a hand-placed pause.
 */
export function run_split(m: Machine, folio: number, gen: Generator<folio_split_phase, number>): number {
  const start = folio * PAGE_SIZE;
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
    preempt_point(m, `folio split: before the ${r.value} phase`, start, start + HPAGE_PMD_NR * PAGE_SIZE);
  }
}

/**
 * Start a phased split of `folio` (locked, with a reference the caller owns),
 * pausing at `m.split_pause` if a scenario asked for it; otherwise run it to
 * the end. `finish` releases the caller's lock and reference afterwards.
 */
export function start_split(
  m: Machine,
  folio: number,
  gen: Generator<folio_split_phase, number>,
  finish: (ret: number) => number,
): number {
  if (m.split_pause) {
    m.pending_split = { folio, gen, finish, stop_at: m.split_pause };
    m.split_pause = null;
    return advance_split(m).ret;
  }
  return finish(run_split(m, folio, gen));
}

/** The v2 patch: a device-private folio is split as soon as its PMD is. */
function v2_split_after_pmd_split(m: Machine, folio: number): void {
  folio_get(m, folio);
  if (!folio_trylock(m, folio)) {
    folio_put(m, folio);
    return;
  }
  start_split(m, folio, split_device_private_folio(m, folio), (ret) => {
    folio_unlock(m, folio);
    folio_put(m, folio);
    return ret;
  });
}

/**
 * split_folio: split a large folio to order 0 (the caller holds its lock and
 * a reference, and keeps both on the head page). Pausable like every split.
 */
export function split_folio(m: Machine, folio: number): number {
  return start_split(m, folio, __folio_split(m, folio), (ret) => ret);
}

/**
 * Advance a paused split to its next stop: the phase a scenario asked for,
 * or the end. Returns the phase reached, or 'done' with the split's result.
 */
export function advance_split(m: Machine): { phase: folio_split_phase | 'done'; ret: number } {
  const p = m.pending_split;
  if (!p) throw new EngineUsageError('no split in progress', 'nothing is waiting to continue');
  for (;;) {
    const r = p.gen.next();
    if (r.done) {
      m.pending_split = null;
      return { phase: 'done', ret: p.finish(r.value) };
    }
    if (r.value === p.stop_at) {
      p.stop_at = null;
      return { phase: r.value, ret: 0 };
    }
  }
}

/** folio_expected_ref_count for an anonymous folio without swap cache: one reference per mapping. */
export const folio_expected_ref_count = (m: Machine, folio: number): number => {
  let n = m.mem._entire_mapcount[folio >> HPAGE_PMD_ORDER];
  for (let i = 0; i < HPAGE_PMD_NR; i++) n += m.mem._mapcount[folio + i];
  return n;
};

/** folio_ref_freeze: set the refcount to 0 if, and only if, it is exactly `count`. */
export function folio_ref_freeze(m: Machine, folio: number, count: number): boolean {
  if (m.mem._refcount[folio] !== count) return false;
  m.mem._refcount[folio] = 0;
  return true;
}

/** folio_split_unmapped: split a locked, unmapped large folio (its mappings are migration entries); no remap. */
export function folio_split_unmapped(m: Machine, folio: number): number {
  if (!folio_ref_freeze(m, folio, 1)) return -EAGAIN;
  __split_unmapped_folio(m, folio);
  for (let i = 0; i < HPAGE_PMD_NR; i++) m.mem._refcount[folio + i] = 1;
  return 0;
}
