/*
 * Mirrors include/linux/page-flags.h: the per-page flag bits the engine keeps.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: flags live in one Uint16 per pfn (mem_map.flags). PG_anon
 * stands for the kernel's PAGE_MAPPING_ANON bit in folio->mapping; PG_tail
 * stands for the compound_head pointer (a large folio is naturally aligned, so
 * the head is found by masking the pfn). Only the flags some rule reads exist.
 */

export const PG_locked = 1 << 0;
export const PG_dirty = 1 << 1;
export const PG_lru = 1 << 2;
export const PG_head = 1 << 3;
export const PG_tail = 1 << 4;
/** folio->mapping points at an anon_vma (PAGE_MAPPING_ANON). */
export const PG_anon = 1 << 5;
/** PageAnonExclusive: this anonymous page is mapped by exactly one process and may be written without CoW. */
export const PG_anon_exclusive = 1 << 6;
/** The page sits on a buddy free list (PageBuddy). */
export const PG_buddy = 1 << 7;
/** Never freed and never refcounted by mappings: the shared zero page(s). */
export const PG_reserved = 1 << 8;
export const PG_swapbacked = 1 << 9;
export const PG_uptodate = 1 << 10;
/** The large folio is on the deferred-split queue because only part of it is mapped. */
export const PG_partially_mapped = 1 << 11;
export const PG_large_rmappable = 1 << 12;
/** folio_test_hugetlb: the folio belongs to the hugetlb pool (the kernel's PGTY_hugetlb page type). */
export const PG_hugetlb = 1 << 13;

const NAMES: ReadonlyArray<[number, string]> = [
  [PG_locked, 'locked'],
  [PG_dirty, 'dirty'],
  [PG_lru, 'lru'],
  [PG_head, 'head'],
  [PG_tail, 'tail'],
  [PG_anon, 'anon'],
  [PG_anon_exclusive, 'anon_exclusive'],
  [PG_buddy, 'buddy'],
  [PG_reserved, 'reserved'],
  [PG_swapbacked, 'swapbacked'],
  [PG_uptodate, 'uptodate'],
  [PG_partially_mapped, 'partially_mapped'],
  [PG_large_rmappable, 'large_rmappable'],
  [PG_hugetlb, 'hugetlb'],
];

/** The flag names in the order the kernel's %pGp printer uses, e.g. "anon|anon_exclusive|dirty". */
export function page_flag_names(flags: number): string {
  return NAMES.filter(([bit]) => flags & bit)
    .map(([, name]) => name)
    .join('|');
}
