/*
 * Mirrors mm/page_alloc.c: the buddy allocator for system RAM.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: one zone, two orders (0 and HPAGE_PMD_ORDER), no per-cpu
 * lists, no watermarks, no migratetypes. Free lists are doubly linked through
 * the free pages' own mapping/index slots, as the kernel reuses page->lru for
 * buddy_list. A pageblock whose 512 pages are all free merges back into one
 * order-9 block. Allocation is deterministic: the free lists are LIFO, and at
 * boot the lowest pfns come out first.
 */

import { HPAGE_PMD_NR, HPAGE_PMD_ORDER } from '../include/linux/mm_types';
import { PG_buddy, PG_head, PG_tail } from '../include/linux/page-flags';
import type { Machine } from '../machine';

const NIL = -1;

/** struct zone with its two free lists. */
export class zone {
  /** First pfn and page count of the RAM this zone manages. */
  constructor(
    readonly zone_start_pfn: number,
    readonly spanned_pages: number,
  ) {
    this.block_free = new Uint16Array(spanned_pages / HPAGE_PMD_NR);
  }
  free_head0 = NIL;
  free_head9 = NIL;
  nr_free_pages = 0;
  /** Free pages per pageblock: 512 means the block is free as a whole (on free_head9). */
  readonly block_free: Uint16Array;
}

function list_add(m: Machine, head: number, pfn: number): number {
  const { mapping: next, index: prev } = m.mem;
  next[pfn] = head;
  prev[pfn] = NIL;
  if (head !== NIL) prev[head] = pfn;
  return pfn;
}

function list_del(m: Machine, z: zone, order: 0 | 9, pfn: number): void {
  const { mapping: next, index: prev } = m.mem;
  const n = next[pfn];
  const p = prev[pfn];
  if (p !== NIL) next[p] = n;
  else if (order === 0) z.free_head0 = n;
  else z.free_head9 = n;
  if (n !== NIL) prev[n] = p;
}

/** free_area_init for the RAM range: every pageblock starts free, lowest pfn first. */
export function zone_init(m: Machine, z: zone): void {
  const blocks = z.spanned_pages / HPAGE_PMD_NR;
  for (let b = blocks - 1; b >= 0; b--) {
    const pfn = z.zone_start_pfn + b * HPAGE_PMD_NR;
    m.mem.flags[pfn] = PG_buddy;
    z.block_free[b] = HPAGE_PMD_NR;
    z.free_head9 = list_add(m, z.free_head9, pfn);
  }
  z.nr_free_pages = z.spanned_pages;
}

/** Takes pageblock `pfn` off the order-9 list and puts its pages on the order-0 list (expand()). */
function expand(m: Machine, z: zone, pfn: number): void {
  for (let i = HPAGE_PMD_NR - 1; i >= 0; i--) {
    m.mem.flags[pfn + i] = PG_buddy;
    z.free_head0 = list_add(m, z.free_head0, pfn + i);
  }
}

/**
 * __alloc_pages: returns the pfn of a free block of 2^order pages with
 * refcount 1 on its head, or -1 when none is left (the caller sees -ENOMEM or
 * falls back to a smaller order).
 */
export function __alloc_pages(m: Machine, z: zone, order: number): number {
  if (order !== 0 && order !== HPAGE_PMD_ORDER)
    throw new RangeError(`no order-${order} allocations: only 0 and ${HPAGE_PMD_ORDER}`);
  let pfn: number;
  if (order === HPAGE_PMD_ORDER) {
    pfn = z.free_head9;
    if (pfn === NIL) return -1;
    list_del(m, z, 9, pfn);
    z.block_free[(pfn - z.zone_start_pfn) >> HPAGE_PMD_ORDER] = 0;
    m.mem.flags[pfn] = PG_head;
    for (let i = 1; i < HPAGE_PMD_NR; i++) m.mem.flags[pfn + i] = PG_tail;
    m.mem.order[pfn] = HPAGE_PMD_ORDER;
    z.nr_free_pages -= HPAGE_PMD_NR;
  } else {
    if (z.free_head0 === NIL) {
      const block = z.free_head9;
      if (block === NIL) return -1;
      list_del(m, z, 9, block);
      expand(m, z, block);
    }
    pfn = z.free_head0;
    list_del(m, z, 0, pfn);
    z.block_free[(pfn - z.zone_start_pfn) >> HPAGE_PMD_ORDER]--;
    m.mem.flags[pfn] = 0;
    m.mem.order[pfn] = 0;
    z.nr_free_pages -= 1;
  }
  m.mem._refcount[pfn] = 1;
  m.mem.mapping[pfn] = 0;
  m.mem.index[pfn] = 0;
  return pfn;
}

/** __free_pages_ok / free_unref_page: return a folio whose refcount reached 0 to the buddy. */
export function __free_pages(m: Machine, z: zone, pfn: number, order: number): void {
  const mem = m.mem;
  const nr = 1 << order;
  for (let i = 0; i < nr; i++) {
    mem.flags[pfn + i] = PG_buddy;
    mem._mapcount[pfn + i] = 0;
    mem.data[pfn + i] = 0;
  }
  mem.order[pfn] = 0;
  z.nr_free_pages += nr;
  const b = (pfn - z.zone_start_pfn) >> HPAGE_PMD_ORDER;
  if (order === HPAGE_PMD_ORDER) {
    z.block_free[b] = HPAGE_PMD_NR;
    z.free_head9 = list_add(m, z.free_head9, pfn);
    return;
  }
  z.free_head0 = list_add(m, z.free_head0, pfn);
  if (++z.block_free[b] === HPAGE_PMD_NR) {
    /* The whole pageblock is free again: merge it, as the buddy would. */
    const start = z.zone_start_pfn + b * HPAGE_PMD_NR;
    for (let i = 0; i < HPAGE_PMD_NR; i++) list_del(m, z, 0, start + i);
    z.free_head9 = list_add(m, z.free_head9, start);
  }
}

/** PageBuddy: the pfn sits on a free list and must not be mapped or referenced. */
export const PageBuddy = (m: Machine, pfn: number): boolean => (m.mem.flags[pfn] & PG_buddy) !== 0;

/**
 * split_page: turn one allocated higher-order block into order-0 pages, each
 * holding one reference (the driver splits its backing folio this way when
 * the core splits the device folio it backs).
 */
export function split_page(m: Machine, pfn: number, order: number): void {
  const nr = 1 << order;
  m.mem.order[pfn] = 0;
  for (let i = 0; i < nr; i++) {
    m.mem.flags[pfn + i] &= ~(PG_head | PG_tail);
    m.mem._refcount[pfn + i] = 1;
  }
}
