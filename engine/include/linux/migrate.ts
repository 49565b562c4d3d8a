/*
 * Mirrors include/linux/migrate.h: struct migrate_vma and the MIGRATE_PFN_*
 * encoding of its src/dst arrays.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: src/dst entries are plain numbers, pfn * 2^MIGRATE_PFN_SHIFT
 * + flags, built with arithmetic because JS bit operators stop at 32 bits.
 */
import type { vm_area_struct } from './mm_types';

export const MIGRATE_PFN_VALID = 1 << 0;
export const MIGRATE_PFN_MIGRATE = 1 << 1;
export const MIGRATE_PFN_WRITE = 1 << 3;
export const MIGRATE_PFN_COMPOUND = 1 << 4;
export const MIGRATE_PFN_SHIFT = 6;
const MUL = 1 << MIGRATE_PFN_SHIFT;

/** migrate_pfn: a VALID entry for pfn. */
export const migrate_pfn = (pfn: number): number => pfn * MUL + MIGRATE_PFN_VALID;
/** migrate_pfn_to_page: the pfn of a VALID entry, or -1. */
export const migrate_pfn_to_page = (mpfn: number): number =>
  (mpfn % MUL) & MIGRATE_PFN_VALID ? Math.floor(mpfn / MUL) : -1;
/** The flag bits of an entry. */
export const migrate_pfn_flags = (mpfn: number): number => mpfn % MUL;
/** Set flag bits on an entry. */
export const migrate_pfn_set = (mpfn: number, flags: number): number => mpfn + (flags & ~(mpfn % MUL));
/** Clear flag bits from an entry. */
export const migrate_pfn_clear = (mpfn: number, flags: number): number => mpfn - ((mpfn % MUL) & flags);

/** enum migrate_vma_direction. */
export const MIGRATE_VMA_SELECT_SYSTEM = 1 << 0;
export const MIGRATE_VMA_SELECT_DEVICE_PRIVATE = 1 << 1;
export const MIGRATE_VMA_SELECT_DEVICE_COHERENT = 1 << 2;
export const MIGRATE_VMA_SELECT_COMPOUND = 1 << 3;

/** struct migrate_vma. */
export interface migrate_vma {
  vma: vm_area_struct;
  src: number[];
  dst: number[];
  cpages: number;
  npages: number;
  start: number;
  end: number;
  pgmap_owner: unknown;
  flags: number;
  /** The locked device-private page a migrate_to_ram() call is faulting on, or -1. */
  fault_page: number;
}
