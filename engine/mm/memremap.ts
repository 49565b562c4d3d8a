/*
 * Mirrors mm/memremap.c: memremap_pages / memunmap_pages,
 * zone_device_page_init and free_zone_device_folio.
 * Kernel: linux-mm tree, late 2025 (free device pages at refcount 0, one pgmap
 * reference per allocated page, as since v6.1).
 *
 * Simplified here: no memory hotplug sections or vmemmap; memremap_pages
 * extends mem_map with the range (aligned to a pageblock). memunmap_pages
 * cannot sleep, so it returns "pending" while references remain and completes
 * when the last one goes (memunmap_pages_complete), which is how a scenario
 * observes the kernel's wait.
 */

import {
  type dev_pagemap,
  MEMORY_DEVICE_COHERENT,
  MEMORY_DEVICE_FS_DAX,
  MEMORY_DEVICE_GENERIC,
  MEMORY_DEVICE_PRIVATE,
} from '../include/linux/memremap';
import { EINVAL, ENOMEM } from '../include/linux/mm';
import { HPAGE_PMD_NR, HPAGE_PMD_ORDER, MAX_PFN } from '../include/linux/mm_types';
import { KernelInvariantViolation } from '../include/linux/mmdebug';
import { PG_anon, PG_anon_exclusive, PG_head, PG_locked, PG_tail } from '../include/linux/page-flags';
import type { Machine } from '../machine';
import { dump_page } from './debug';

/** page_pgmap: the pagemap a ZONE_DEVICE page belongs to. */
export function page_pgmap(m: Machine, pfn: number): dev_pagemap {
  const pgmap = m.pgmaps[m.mem.pgmap[pfn]];
  if (!pgmap)
    throw new KernelInvariantViolation('a device page belongs to a live pagemap', pfn, dump_page(m, pfn));
  return pgmap;
}

export const is_device_private_page = (m: Machine, pfn: number): boolean =>
  m.mem.pgmap[pfn] !== 0 && m.pgmaps[m.mem.pgmap[pfn]]?.type === MEMORY_DEVICE_PRIVATE;
export const is_device_coherent_page = (m: Machine, pfn: number): boolean =>
  m.mem.pgmap[pfn] !== 0 && m.pgmaps[m.mem.pgmap[pfn]]?.type === MEMORY_DEVICE_COHERENT;

/**
 * memremap_pages: give `nr` pages of device memory struct pages in ZONE_DEVICE.
 * Returns the first pfn, or a negative errno. PRIVATE memory gets no kernel
 * linear mapping (it is added with add_pages, not arch_add_memory).
 */
export function memremap_pages(m: Machine, pgmap: dev_pagemap): number {
  const { type, ops, owner } = pgmap;
  if (pgmap.range.nr <= 0) return -EINVAL;
  if (type === MEMORY_DEVICE_PRIVATE && (!ops.migrate_to_ram || !ops.folio_free || owner == null)) {
    m.warn('memremap_pages', 'MEMORY_DEVICE_PRIVATE needs migrate_to_ram, folio_free and an owner');
    return -EINVAL;
  }
  if (type === MEMORY_DEVICE_COHERENT && (!ops.folio_free || owner == null)) {
    m.warn('memremap_pages', 'MEMORY_DEVICE_COHERENT needs folio_free and an owner');
    return -EINVAL;
  }
  if (m.pgmaps.length >= 255) return -ENOMEM;
  const nr = Math.ceil(pgmap.range.nr / HPAGE_PMD_NR) * HPAGE_PMD_NR;
  const start = m.mem.nr_pfns;
  if (start + nr > MAX_PFN) return -ENOMEM;
  m.mem.grow(start + nr);
  pgmap.range = { start, nr };
  pgmap.id = m.pgmaps.length;
  m.pgmaps.push(pgmap);
  m.mem.pgmap.fill(pgmap.id, start, start + nr);
  /* Types other than PRIVATE and COHERENT hold one pgmap reference per page for as long as the map exists. */
  if (type !== MEMORY_DEVICE_PRIVATE && type !== MEMORY_DEVICE_COHERENT) pgmap.ref += nr;
  return start;
}

/**
 * memunmap_pages: kill the pagemap (get_dev_pagemap fails from now on), drop
 * the per-page references of non-PRIVATE/COHERENT types, and wait for every
 * reference to go. Returns true when the removal completed, false while it waits.
 */
export function memunmap_pages(m: Machine, pgmap: dev_pagemap): boolean {
  if (!pgmap.dying) {
    pgmap.dying = true;
    if (pgmap.type !== MEMORY_DEVICE_PRIVATE && pgmap.type !== MEMORY_DEVICE_COHERENT)
      pgmap.ref -= pgmap.range.nr;
  }
  return memunmap_pages_complete(m, pgmap);
}

/** The tail of memunmap_pages: once pgmap->ref reached 0, the memory is removed. */
export function memunmap_pages_complete(m: Machine, pgmap: dev_pagemap): boolean {
  if (!pgmap.dying || pgmap.ref > 0) return pgmap.removed;
  pgmap.removed = true;
  m.pgmaps[pgmap.id] = null;
  return true;
}

/** get_dev_pagemap: a reference to the live pagemap of pfn, or null once it is dying. */
export function get_dev_pagemap(m: Machine, pfn: number): dev_pagemap | null {
  const pgmap = m.pgmaps[m.mem.pgmap[pfn]];
  if (!pgmap || pgmap.dying) return null;
  pgmap.ref++;
  return pgmap;
}

export function put_dev_pagemap(m: Machine, pgmap: dev_pagemap): void {
  pgmap.ref--;
  memunmap_pages_complete(m, pgmap);
}

/**
 * zone_device_page_init: hand a free device page (refcount 0) to its driver:
 * refcount 1, locked, one pgmap reference per page. `order` 9 makes a PMD-order folio.
 */
export function zone_device_page_init(m: Machine, page: number, order = 0): void {
  const mem = m.mem;
  const pgmap = page_pgmap(m, page);
  const nr = 1 << order;
  if (mem._refcount[page] !== 0)
    m.warn('zone_device_page_init', `pfn ${page} is not free (refcount ${mem._refcount[page]})`);
  if (pgmap.dying) m.warn('zone_device_page_init', `pagemap ${pgmap.id} is being removed`);
  for (let i = 0; i < nr; i++) {
    mem.flags[page + i] = order ? (i === 0 ? PG_head : PG_tail) : 0;
    mem.mapping[page + i] = 0;
    mem.index[page + i] = 0;
    mem._mapcount[page + i] = 0;
  }
  if (order) {
    const b = page >> HPAGE_PMD_ORDER;
    mem._entire_mapcount[b] = mem._large_mapcount[b] = mem._pincount[b] = 0;
    mem._mm_id0[b] = mem._mm_id1[b] = mem._mm_id_mapcount0[b] = mem._mm_id_mapcount1[b] = 0;
    mem._mm_ids_shared[b] = 0;
  }
  mem.order[page] = order;
  mem.flags[page] |= PG_locked;
  pgmap.ref += nr;
  mem._refcount[page] = 1;
}

/**
 * free_zone_device_folio: the refcount of a device folio reached 0. Anon state
 * is cleared, then by type: PRIVATE and COHERENT call ops->folio_free and drop
 * their pgmap references; GENERIC goes back to refcount 1; FS_DAX wakes waiters.
 */
export function free_zone_device_folio(m: Machine, folio: number): void {
  const mem = m.mem;
  const pgmap = page_pgmap(m, folio);
  const nr = 1 << mem.order[folio];
  for (let i = 0; i < nr; i++) mem.flags[folio + i] &= ~(PG_anon_exclusive | PG_anon);
  if (pgmap.type !== MEMORY_DEVICE_FS_DAX && pgmap.type !== MEMORY_DEVICE_GENERIC) mem.mapping[folio] = 0;
  switch (pgmap.type) {
    case MEMORY_DEVICE_PRIVATE:
    case MEMORY_DEVICE_COHERENT:
      pgmap.ops.folio_free?.(folio);
      pgmap.ref -= nr;
      memunmap_pages_complete(m, pgmap);
      break;
    case MEMORY_DEVICE_GENERIC:
      mem._refcount[folio] = 1;
      break;
    default:
      pgmap.ops.folio_free?.(folio);
  }
}
