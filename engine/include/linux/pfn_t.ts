/*
 * Mirrors include/linux/pfn_t.h as it was before ≈v6.16, when pfn_t and the
 * devmap PTE bit were removed: a pfn with flags that tell the mm how to map it.
 * Kernel: v5.15 (the seed 003 thread, October 2021) to v6.15.
 *
 * Simplified here: only the two flags the DAX drivers set. pmem and
 * device-DAX memory with struct pages were PFN_DEV | PFN_MAP, which is what
 * pfn_t_devmap() tests.
 */

/** PFN_DEV: the pfn is device memory. */
export const PFN_DEV = 1 << 0;
/** PFN_MAP: the device memory has struct pages (a ZONE_DEVICE pagemap). */
export const PFN_MAP = 1 << 1;

/** pfn_t: a pfn and its PFN_* flags. */
export interface pfn_t {
  readonly pfn: number;
  readonly flags: number;
}

/** pfn_t_devmap: map this pfn with a devmap PTE (pte_mkdevmap) in insert_pfn. */
export const pfn_t_devmap = (pfn: pfn_t): boolean =>
  (pfn.flags & (PFN_DEV | PFN_MAP)) === (PFN_DEV | PFN_MAP);
