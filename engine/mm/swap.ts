/*
 * Mirrors mm/swap.c (__folio_put and friends) and include/linux/mm.h folio_put.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: no LRU, no per-cpu batching; a folio whose refcount
 * reaches zero goes straight back to its allocator.
 */

import { folio_is_zone_device, folio_order, folio_test_hugetlb, folio_test_large } from '../include/linux/mm';
import { KernelInvariantViolation } from '../include/linux/mmdebug';
import { PG_reserved } from '../include/linux/page-flags';
import type { Machine } from '../machine';
import { dump_page } from './debug';
import { free_huge_folio } from './hugetlb';
import { free_zone_device_folio } from './memremap';
import { __free_pages } from './page_alloc';

/** folio_put: drop a reference; the last one frees the folio. */
export function folio_put(m: Machine, folio: number): void {
  folio_put_refs(m, folio, 1);
}

/** folio_put_refs: drop `refs` references at once. */
export function folio_put_refs(m: Machine, folio: number, refs: number): void {
  const mem = m.mem;
  if (mem.flags[folio] & PG_reserved) return;
  mem._refcount[folio] -= refs;
  const ref = mem._refcount[folio];
  if (ref < 0)
    throw new KernelInvariantViolation(
      'refcount never underflows',
      folio,
      `folio_put: ${dump_page(m, folio)}`,
    );
  if (ref === 0) __folio_put(m, folio);
}

/** __folio_put: the refcount reached zero. */
export function __folio_put(m: Machine, folio: number): void {
  if (folio_is_zone_device(m, folio)) {
    free_zone_device_folio(m, folio);
    return;
  }
  /* A hugetlb folio goes back to its pool, not to the buddy allocator. */
  if (folio_test_hugetlb(m, folio)) {
    free_huge_folio(m, folio);
    return;
  }
  if (folio_test_large(m, folio)) m.deferred_split_queue.delete(folio);
  __free_pages(m, m.zone, folio, folio_order(m, folio));
}
