/*
 * Mirrors include/linux/swapops.h (and the newer include/linux/leafops.h):
 * the non-present ("swap-style") PTE and PMD entries and their predicates.
 * Kernel: linux-mm tree, late 2025. The type names follow swapops.h; the
 * softleaf_type() names follow leafops.h.
 *
 * Simplified here: a non-present entry is bit 0 clear, the type in bits 1-4,
 * swap soft-dirty / uffd-wp / exclusive in bits 5-7, and the offset (swap
 * slot or pfn) in bits 8-31. Device-exclusive has one type, as since ≈v6.15.
 * The migration entry's young/dirty bits (migration_entry_supports_ad) are not
 * kept: a restored PTE is old and takes its dirty bit from the folio.
 */
import { MAX_PFN } from './mm_types';
import { PFN_SHIFT as PFN_SHIFT_NONPRESENT } from './pgtable';

export const SWP_SWAPFILE = 1;
export const SWP_MIGRATION_READ = 2;
export const SWP_MIGRATION_READ_EXCLUSIVE = 3;
export const SWP_MIGRATION_WRITE = 4;
export const SWP_DEVICE_READ = 5;
export const SWP_DEVICE_WRITE = 6;
export const SWP_DEVICE_EXCLUSIVE = 7;
export const SWP_HWPOISON = 8;
export const SWP_PTE_MARKER = 9;

export const _PAGE_SWP_SOFT_DIRTY = 1 << 5;
export const _PAGE_SWP_UFFD_WP = 1 << 6;
export const _PAGE_SWP_EXCLUSIVE = 1 << 7;

/** swp_entry(type, offset) as a PTE value (swp_entry_to_pte). */
export function swp_entry(type: number, offset: number): number {
  if (offset < 0 || offset >= MAX_PFN) throw new RangeError(`swap offset ${offset} does not fit an entry`);
  return ((offset << PFN_SHIFT_NONPRESENT) | (type << 1)) >>> 0;
}
/** The type of a non-present, non-none entry. */
export const swp_type = (entry: number): number => (entry >>> 1) & 0xf;
export const swp_offset = (entry: number): number => entry >>> PFN_SHIFT_NONPRESENT;
export const is_swap_pte = (pte: number): boolean => pte !== 0 && (pte & 1) === 0;

export const is_migration_entry = (e: number): boolean =>
  is_swap_pte(e) && swp_type(e) >= SWP_MIGRATION_READ && swp_type(e) <= SWP_MIGRATION_WRITE;
export const is_writable_migration_entry = (e: number): boolean =>
  is_swap_pte(e) && swp_type(e) === SWP_MIGRATION_WRITE;
export const is_readable_exclusive_migration_entry = (e: number): boolean =>
  is_swap_pte(e) && swp_type(e) === SWP_MIGRATION_READ_EXCLUSIVE;
export const is_device_private_entry = (e: number): boolean =>
  is_swap_pte(e) && (swp_type(e) === SWP_DEVICE_READ || swp_type(e) === SWP_DEVICE_WRITE);
export const is_writable_device_private_entry = (e: number): boolean =>
  is_swap_pte(e) && swp_type(e) === SWP_DEVICE_WRITE;
export const is_device_exclusive_entry = (e: number): boolean =>
  is_swap_pte(e) && swp_type(e) === SWP_DEVICE_EXCLUSIVE;
export const is_hwpoison_entry = (e: number): boolean => is_swap_pte(e) && swp_type(e) === SWP_HWPOISON;
export const is_pte_marker = (e: number): boolean => is_swap_pte(e) && swp_type(e) === SWP_PTE_MARKER;
/** is_pfn_swap_entry: migration, device-private, device-exclusive and hwpoison entries carry a pfn. */
export const is_pfn_swap_entry = (e: number): boolean =>
  is_migration_entry(e) || is_device_private_entry(e) || is_device_exclusive_entry(e) || is_hwpoison_entry(e);
export function swp_offset_pfn(e: number): number {
  if (!is_pfn_swap_entry(e)) throw new RangeError('swp_offset_pfn() on an entry that carries no pfn');
  return swp_offset(e);
}

export const make_readable_migration_entry = (pfn: number): number => swp_entry(SWP_MIGRATION_READ, pfn);
export const make_readable_exclusive_migration_entry = (pfn: number): number =>
  swp_entry(SWP_MIGRATION_READ_EXCLUSIVE, pfn);
export const make_writable_migration_entry = (pfn: number): number => swp_entry(SWP_MIGRATION_WRITE, pfn);
export const make_readable_device_private_entry = (pfn: number): number => swp_entry(SWP_DEVICE_READ, pfn);
export const make_writable_device_private_entry = (pfn: number): number => swp_entry(SWP_DEVICE_WRITE, pfn);
export const make_device_exclusive_entry = (pfn: number): number => swp_entry(SWP_DEVICE_EXCLUSIVE, pfn);
export const make_hwpoison_entry = (pfn: number): number => swp_entry(SWP_HWPOISON, pfn);

export const pte_swp_soft_dirty = (e: number): boolean => (e & _PAGE_SWP_SOFT_DIRTY) !== 0;
export const pte_swp_clear_soft_dirty = (e: number): number => (e & ~_PAGE_SWP_SOFT_DIRTY) >>> 0;
export const pte_swp_uffd_wp = (e: number): boolean => (e & _PAGE_SWP_UFFD_WP) !== 0;
/** Carries the swap soft-dirty and uffd-wp bits of `from` over to `to`. */
export const swp_keep_bits = (from: number, to: number): number =>
  (to | (from & (_PAGE_SWP_SOFT_DIRTY | _PAGE_SWP_UFFD_WP))) >>> 0;

/** enum softleaf_type (include/linux/leafops.h). */
export type softleaf_type =
  | 'SOFTLEAF_NONE'
  | 'SOFTLEAF_SWAP'
  | 'SOFTLEAF_MIGRATION_READ'
  | 'SOFTLEAF_MIGRATION_READ_EXCLUSIVE'
  | 'SOFTLEAF_MIGRATION_WRITE'
  | 'SOFTLEAF_DEVICE_PRIVATE_READ'
  | 'SOFTLEAF_DEVICE_PRIVATE_WRITE'
  | 'SOFTLEAF_DEVICE_EXCLUSIVE'
  | 'SOFTLEAF_HWPOISON'
  | 'SOFTLEAF_MARKER';

const SOFTLEAF_BY_TYPE: Record<number, softleaf_type> = {
  [SWP_SWAPFILE]: 'SOFTLEAF_SWAP',
  [SWP_MIGRATION_READ]: 'SOFTLEAF_MIGRATION_READ',
  [SWP_MIGRATION_READ_EXCLUSIVE]: 'SOFTLEAF_MIGRATION_READ_EXCLUSIVE',
  [SWP_MIGRATION_WRITE]: 'SOFTLEAF_MIGRATION_WRITE',
  [SWP_DEVICE_READ]: 'SOFTLEAF_DEVICE_PRIVATE_READ',
  [SWP_DEVICE_WRITE]: 'SOFTLEAF_DEVICE_PRIVATE_WRITE',
  [SWP_DEVICE_EXCLUSIVE]: 'SOFTLEAF_DEVICE_EXCLUSIVE',
  [SWP_HWPOISON]: 'SOFTLEAF_HWPOISON',
  [SWP_PTE_MARKER]: 'SOFTLEAF_MARKER',
};

/** softleaf_type(softleaf_from_pte(pte)): what a non-present entry is. */
export function softleaf_type_of(entry: number): softleaf_type {
  if (!is_swap_pte(entry)) return 'SOFTLEAF_NONE';
  const t = SOFTLEAF_BY_TYPE[swp_type(entry)];
  if (t === undefined) throw new RangeError(`unknown swap entry type ${swp_type(entry)}`);
  return t;
}

/**
 * softleaf_is_valid_pmd_entry: only migration and device-private entries may
 * sit in a non-present PMD; device-exclusive entries exist only at PTE level.
 */
export const is_valid_pmd_softleaf = (e: number): boolean =>
  is_migration_entry(e) || is_device_private_entry(e);
