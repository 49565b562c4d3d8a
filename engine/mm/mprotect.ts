/*
 * Mirrors mm/mprotect.c: do_mprotect_pkey → mprotect_fixup → change_protection.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: no pkeys, no uffd-wp tracking, no NUMA hinting.
 * Soft-dirty tracking is modelled: where it is on, mprotect leaves an entry
 * that is not soft-dirty write-protected, so the next write faults.
 */

import {
  EACCES,
  EINVAL,
  ENOMEM,
  folio_test_anon,
  is_vm_hugetlb_page,
  PageAnonExclusive,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  page_folio,
  VM_ACCESS_FLAGS,
  VM_EXEC,
  VM_MAYWRITE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  vma_soft_dirty_enabled,
} from '../include/linux/mm';
import { type mm_struct, PAGE_SIZE, PMD_SIZE, type vm_area_struct } from '../include/linux/mm_types';
import {
  _PAGE_PROTNONE,
  _PAGE_RW,
  pmd_is_table,
  pmd_none,
  pmd_pfn,
  pmd_present,
  pmd_trans_huge,
  pte_dirty,
  pte_none,
  pte_present,
  pte_protnone,
  pte_soft_dirty,
  pte_wrprotect,
} from '../include/linux/pgtable';
import {
  is_writable_device_private_entry,
  is_writable_migration_entry,
  make_readable_device_private_entry,
  make_readable_exclusive_migration_entry,
  make_readable_migration_entry,
  swp_keep_bits,
  swp_offset_pfn,
} from '../include/linux/swapops';
import type { Machine } from '../machine';
import { __split_huge_pmd } from './huge_memory';
import { hugetlb_change_protection } from './hugetlb';
import { vm_normal_page } from './memory';
import { range_is_mapped, vma_may_split_range, vma_modify_flags, vma_split_range } from './mmap';
import {
  mmu_notifier_invalidate_range_end,
  mmu_notifier_invalidate_range_start,
  mmu_notifier_range_init,
} from './mmu_notifier';
import { pmdp_get, pte_offset_map, set_pmd_at } from './pgtable-generic';

/** do_mprotect_pkey: change the protection of [start, start + len). */
export function do_mprotect(m: Machine, mm: mm_struct, start: number, len: number, prot: number): number {
  if (start % PAGE_SIZE || prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) return -EINVAL;
  const end = start + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  if (!range_is_mapped(mm, start, end)) return -ENOMEM;
  let newbits = 0;
  if (prot & PROT_READ) newbits |= VM_READ;
  if (prot & PROT_WRITE) newbits |= VM_WRITE;
  if (prot & PROT_EXEC) newbits |= VM_EXEC;
  for (const vma of mm.mmap) {
    if (vma.vm_end <= start || vma.vm_start >= end) continue;
    if (newbits & VM_WRITE && !(vma.vm_flags & VM_MAYWRITE)) return -EACCES;
  }
  const err = vma_may_split_range(mm, start, end);
  if (err) return err;
  for (const vma of vma_split_range(m, mm, start, end))
    mprotect_fixup(m, vma, (vma.vm_flags & ~VM_ACCESS_FLAGS) | newbits);
  return 0;
}

/** mprotect_fixup: set the new flags, then bring the page tables in line (change_protection). */
function mprotect_fixup(m: Machine, vma: vm_area_struct, newflags: number): void {
  const { vm_start, vm_end } = vma;
  const wants_write_upgrade = (newflags & VM_WRITE) !== 0 && !(vma.vm_flags & VM_WRITE);
  vma.vm_flags = newflags;
  change_protection(m, vma, vm_start, vm_end, wants_write_upgrade);
  vma_modify_flags(m, vma, vm_start, vm_end, newflags);
}

/**
 * pte_needs_soft_dirty_wp / pmd_needs_soft_dirty_wp (mm/internal.h): soft-dirty
 * tracking is on for the VMA and the entry has not been written since it was
 * cleared, so a write must fault to set the bit. mprotect, the restore of a
 * device-exclusive entry and a FOLL_FORCE write (can_follow_write_pte) ask.
 */
export const pte_needs_soft_dirty_wp = (vma: vm_area_struct, entry: number): boolean =>
  vma_soft_dirty_enabled(vma) && !pte_soft_dirty(entry);

/**
 * can_change_pte_writable: mprotect may set the write bit directly only on an
 * exclusive anonymous page in a private mapping, or on a dirty PTE in a shared
 * one. A page shared with a child after fork stays read-only and goes through
 * CoW on the next write. Never on an inaccessible entry, nor where soft-dirty
 * tracking needs the write fault (pte_needs_soft_dirty_wp).
 */
function can_change_pte_writable(m: Machine, vma: vm_area_struct, addr: number, pte: number): boolean {
  if (pte_protnone(pte)) return false;
  if (pte_needs_soft_dirty_wp(vma, pte)) return false;
  if (!(vma.vm_flags & VM_SHARED)) {
    const page = vm_normal_page(m, vma, addr, pte);
    return page >= 0 && folio_test_anon(m, page_folio(m, page)) && PageAnonExclusive(m, page);
  }
  return pte_dirty(pte);
}

/**
 * change_protection: rewrite every entry of the range for the VMA's new flags.
 * Secondary MMUs see one MMU_NOTIFY_PROTECTION_VMA range, from the first
 * populated PMD to the end, as change_pmd_range starts it lazily.
 */
function change_protection(
  m: Machine,
  vma: vm_area_struct,
  start: number,
  end: number,
  try_write: boolean,
): void {
  /* change_protection: a hugetlb VMA has huge PTEs of its own (hugetlb_change_protection). */
  if (is_vm_hugetlb_page(vma)) {
    hugetlb_change_protection(vma, start, end);
    return;
  }
  const mm = vma.vm_mm;
  const inaccessible = !(vma.vm_flags & VM_ACCESS_FLAGS);
  let range = null;
  for (let addr = start; addr < end; ) {
    const next = Math.min(addr - (addr % PMD_SIZE) + PMD_SIZE, end);
    let pmd = pmdp_get(mm, addr);
    if (!pmd_none(pmd) && !range) {
      range = mmu_notifier_range_init('MMU_NOTIFY_PROTECTION_VMA', mm, addr, end);
      mmu_notifier_invalidate_range_start(range);
    }
    /* A partly covered huge PMD is split; so is one made PROT_NONE (the engine has no huge protnone bit). */
    const huge = pmd_trans_huge(pmd) || (!pmd_none(pmd) && !pmd_is_table(pmd) && !pmd_present(pmd));
    if (
      huge &&
      (addr % PMD_SIZE !== 0 || next - addr !== PMD_SIZE || (inaccessible && pmd_trans_huge(pmd)))
    ) {
      __split_huge_pmd(m, vma, addr - (addr % PMD_SIZE));
      pmd = pmdp_get(mm, addr);
    }
    if (!pmd_none(pmd) && !pmd_present(pmd)) {
      /* change_non_present_huge_pmd: a writable migration or device-private PMD loses write, whatever the new protection. */
      set_pmd_at(mm, addr, downgrade_nonpresent(m, pmd));
    } else if (pmd_trans_huge(pmd)) change_huge_pmd(m, vma, addr, pmd, try_write);
    else if (pmd_is_table(pmd)) change_pte_range(m, vma, addr, next, inaccessible, try_write);
    addr = next;
  }
  if (range) mmu_notifier_invalidate_range_end(range);
}

/** change_pte_range: per PTE; non-present entries lose write as the kernel downgrades them. */
function change_pte_range(
  m: Machine,
  vma: vm_area_struct,
  addr: number,
  end: number,
  inaccessible: boolean,
  try_write: boolean,
): void {
  const table = pte_offset_map(vma.vm_mm, addr) as Uint32Array;
  for (; addr < end; addr += PAGE_SIZE) {
    const i = Math.floor(addr / PAGE_SIZE) & 511;
    const pte = table[i];
    if (pte_none(pte)) continue;
    if (!pte_present(pte)) {
      if (!(vma.vm_flags & VM_WRITE)) table[i] = downgrade_nonpresent(m, pte);
      continue;
    }
    let entry = inaccessible ? (pte | _PAGE_PROTNONE) >>> 0 : (pte & ~_PAGE_PROTNONE) >>> 0;
    if (!(vma.vm_flags & VM_WRITE)) entry = pte_wrprotect(entry);
    else if (try_write && can_change_pte_writable(m, vma, addr, entry)) entry = (entry | _PAGE_RW) >>> 0;
    table[i] = entry;
  }
}

/** Write-protecting a non-present entry: device-private and migration entries lose write. */
function downgrade_nonpresent(m: Machine, entry: number): number {
  const pfn = () => swp_offset_pfn(entry);
  if (is_writable_device_private_entry(entry))
    return swp_keep_bits(entry, make_readable_device_private_entry(pfn()));
  if (is_writable_migration_entry(entry)) {
    const anon = folio_test_anon(m, page_folio(m, pfn()));
    return swp_keep_bits(
      entry,
      anon ? make_readable_exclusive_migration_entry(pfn()) : make_readable_migration_entry(pfn()),
    );
  }
  return entry;
}

/** change_huge_pmd: the same for a whole huge PMD (can_change_pmd_writable). */
function change_huge_pmd(
  m: Machine,
  vma: vm_area_struct,
  addr: number,
  pmd: number,
  try_write: boolean,
): void {
  let entry = pmd;
  if (!(vma.vm_flags & VM_WRITE)) entry = pte_wrprotect(entry);
  else if (
    try_write &&
    !pte_needs_soft_dirty_wp(vma, pmd) &&
    !(vma.vm_flags & VM_SHARED) &&
    PageAnonExclusive(m, pmd_pfn(pmd))
  )
    entry = (entry | _PAGE_RW) >>> 0;
  set_pmd_at(vma.vm_mm, addr, entry);
}
