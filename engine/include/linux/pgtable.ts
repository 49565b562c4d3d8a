/*
 * Mirrors include/linux/pgtable.h and arch/x86/include/asm/pgtable_types.h:
 * the layout of a PTE or PMD value and its accessors.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: an entry is one unsigned 32-bit word. Bits 0-7 are flags,
 * bits 8-31 the pfn (or, for a non-present entry, the swap offset / pfn; see
 * swapops.ts). pte_present() is bit 0 or _PAGE_PROTNONE, as on x86. A PMD
 * that points to a PTE table is present without _PAGE_PSE.
 */

import { MAX_PFN } from './mm_types';
import { KernelInvariantViolation } from './mmdebug';

export const _PAGE_PRESENT = 1 << 0;
export const _PAGE_RW = 1 << 1;
export const _PAGE_DIRTY = 1 << 2;
export const _PAGE_ACCESSED = 1 << 3;
/** pte_special: the entry has no refcounted struct page behind it (zero page, PFNMAP). */
export const _PAGE_SPECIAL = 1 << 4;
export const _PAGE_SOFT_DIRTY = 1 << 5;
export const _PAGE_UFFD_WP = 1 << 6;
/**
 * pte_devmap (x86 _PAGE_DEVMAP; removed with pfn_t ≈v6.16): the PTE maps a
 * ZONE_DEVICE page of the old FS-DAX / device-DAX design, which the PTE does
 * not reference-count. The engine has only eight flag bits, so it shares bit 6
 * with _PAGE_UFFD_WP, which it never sets on a present PTE (no userfaultfd).
 */
export const _PAGE_DEVMAP = 1 << 6;
/** PTE: PROT_NONE mapping (present to the mm, inaccessible to the CPU). PMD: a huge (leaf) PMD. */
export const _PAGE_PROTNONE = 1 << 7;
export const _PAGE_PSE = 1 << 7;
export const PFN_SHIFT = 8;

export function pfn_pte(pfn: number, flags: number): number {
  if (pfn < 0 || pfn >= MAX_PFN) throw new RangeError(`pfn ${pfn} does not fit a page table entry`);
  return ((pfn << PFN_SHIFT) | flags | _PAGE_PRESENT) >>> 0;
}
export const pte_none = (pte: number): boolean => pte === 0;
export const pte_present = (pte: number): boolean =>
  (pte & (_PAGE_PRESENT | _PAGE_PROTNONE)) !== 0 && (pte & _PAGE_PRESENT) !== 0;
export const pte_protnone = (pte: number): boolean =>
  (pte & (_PAGE_PRESENT | _PAGE_PROTNONE)) === (_PAGE_PRESENT | _PAGE_PROTNONE);
export const pte_pfn = (pte: number): number => pte >>> PFN_SHIFT;
export const pte_write = (pte: number): boolean => (pte & _PAGE_RW) !== 0;
export const pte_dirty = (pte: number): boolean => (pte & _PAGE_DIRTY) !== 0;
export const pte_young = (pte: number): boolean => (pte & _PAGE_ACCESSED) !== 0;
export const pte_special = (pte: number): boolean => (pte & _PAGE_SPECIAL) !== 0;
export const pte_mkspecial = (pte: number): number => (pte | _PAGE_SPECIAL) >>> 0;
/** pte_devmap: only meaningful on a present PTE. */
export const pte_devmap = (pte: number): boolean => (pte & _PAGE_DEVMAP) !== 0;
/** pte_mkdevmap: x86 sets _PAGE_SPECIAL together with _PAGE_DEVMAP, so a devmap PTE is also special. */
export const pte_mkdevmap = (pte: number): number => (pte | _PAGE_SPECIAL | _PAGE_DEVMAP) >>> 0;
export const pte_wrprotect = (pte: number): number => (pte & ~_PAGE_RW) >>> 0;
export const pte_mkwrite = (pte: number): number => (pte | _PAGE_RW) >>> 0;
export const pte_mkdirty = (pte: number): number => (pte | _PAGE_DIRTY | _PAGE_SOFT_DIRTY) >>> 0;
export const pte_mkclean = (pte: number): number => (pte & ~_PAGE_DIRTY) >>> 0;
/** pte_soft_dirty: written since the last clear_refs; set by pte_mkdirty, never by the hardware. */
export const pte_soft_dirty = (pte: number): boolean => (pte & _PAGE_SOFT_DIRTY) !== 0;
export const pte_clear_soft_dirty = (pte: number): number => (pte & ~_PAGE_SOFT_DIRTY) >>> 0;
export const pte_mkyoung = (pte: number): number => (pte | _PAGE_ACCESSED) >>> 0;
export const pte_mkold = (pte: number): number => (pte & ~_PAGE_ACCESSED) >>> 0;

/* A PMD that is a present leaf maps a whole PMD-order folio. */
export const pmd_none = (pmd: number): boolean => pmd === 0;
export const pmd_present = (pmd: number): boolean => (pmd & _PAGE_PRESENT) !== 0;
export const pmd_trans_huge = (pmd: number): boolean =>
  (pmd & (_PAGE_PRESENT | _PAGE_PSE)) === (_PAGE_PRESENT | _PAGE_PSE);
/** A PMD pointing to a PTE table (the engine finds the table in mm.pte_tables). */
export const PMD_TABLE = _PAGE_PRESENT;
export const pmd_is_table = (pmd: number): boolean => pmd === PMD_TABLE;
export const pmd_write = pte_write;
/** pmd_mkdirty: as pte_mkdirty, the software soft-dirty bit with the hardware one. */
export const pmd_mkdirty = pte_mkdirty;
export const pmd_soft_dirty = pte_soft_dirty;
export const pmd_clear_soft_dirty = pte_clear_soft_dirty;
export const pmd_young = pte_young;
export const pmd_dirty = pte_dirty;
export const pmd_wrprotect = pte_wrprotect;
export const pmd_mkold = pte_mkold;
/**
 * pmd_pfn: only meaningful on a present leaf PMD. On a non-present PMD (a
 * migration or device-private entry) the kernel's pmd_pfn returns garbage;
 * callers must decode the swap entry instead (seed 004).
 */
export function pmd_pfn(pmd: number): number {
  if (!pmd_trans_huge(pmd))
    throw new KernelInvariantViolation(
      'pmd_pfn() only on a present huge PMD',
      -1,
      `pmd_pfn() of 0x${pmd.toString(16)}, which is not a present huge PMD: decode its swap entry instead`,
    );
  return pmd >>> PFN_SHIFT;
}
export function pfn_pmd(pfn: number, flags: number): number {
  return pfn_pte(pfn, flags | _PAGE_PSE);
}

/** Index of the PMD covering an address, and of the PTE within its table. */
export const pmd_index = (addr: number): number => Math.floor(addr / (1 << 21));
export const pte_index = (addr: number): number => Math.floor(addr / 4096) & 511;
