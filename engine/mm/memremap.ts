/*
 * Mirrors mm/memremap.c: memremap_pages / memunmap_pages,
 * zone_device_page_init and free_zone_device_folio.
 * Kernel: linux-mm tree, late 2025 (free device pages at refcount 0, one pgmap
 * reference per allocated page, as since v6.1). FS-DAX pages follow the devmap
 * design the machine selects (MachineConfig.devmap_refcount): the old one, as
 * in v5.15 (idle at 1, put_devmap_managed_page, put_page per pfn on removal),
 * or the fixed one of ≈v6.15 (idle at 0).
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
  memmap_init_zone_device(m, pgmap);
  /* Types other than PRIVATE and COHERENT hold one pgmap reference per page for as long as the map exists. */
  if (type !== MEMORY_DEVICE_PRIVATE && type !== MEMORY_DEVICE_COHERENT) pgmap.ref += nr;
  return start;
}

/**
 * Whether the pagemap's idle pages sit at refcount 1 (the "extra" ZONE_DEVICE
 * reference): device-DAX (GENERIC) pages always, and FS-DAX pages in the old
 * devmap design. mm_init.c __init_zone_device_page leaves these at the 1 that
 * __init_single_page set, and sets the others to 0.
 */
export const pgmap_idle_at_one = (m: Machine, pgmap: dev_pagemap): boolean =>
  pgmap.type === MEMORY_DEVICE_GENERIC ||
  (pgmap.type === MEMORY_DEVICE_FS_DAX && m.config.devmap_refcount === 'old');

/** memmap_init_zone_device → __init_zone_device_page: the starting refcount of each new device page. */
function memmap_init_zone_device(m: Machine, pgmap: dev_pagemap): void {
  const { start, nr } = pgmap.range;
  m.mem._refcount.fill(pgmap_idle_at_one(m, pgmap) ? 1 : 0, start, start + nr);
}

/**
 * put_devmap_managed_folio_refs (the old design; __put_devmap_managed_page in
 * v5.15): drop `refs` references of an FS-DAX page, which is free again when
 * its count falls back to 1: the pmem driver's page_free wakes whoever waits
 * for the page to go idle (a truncate in dax_break_layout). Only a page whose
 * idle reference memunmap_pages already dropped reaches 0, and then gives back
 * its pgmap reference (__put_page of a ZONE_DEVICE page). Returns false for
 * every page it does not manage, which the caller puts as usual.
 */
export function put_devmap_managed_folio_refs(m: Machine, folio: number, refs: number): boolean {
  if (m.config.devmap_refcount !== 'old' || m.mem.pgmap[folio] === 0) return false;
  const pgmap = m.pgmaps[m.mem.pgmap[folio]];
  if (!pgmap || pgmap.type !== MEMORY_DEVICE_FS_DAX) return false;
  m.mem._refcount[folio] -= refs;
  const count = m.mem._refcount[folio];
  if (count < 0)
    throw new KernelInvariantViolation(
      'refcount never underflows',
      folio,
      `put_page: ${dump_page(m, folio)}`,
    );
  if (count === 1) pgmap.ops.folio_free?.(folio);
  else if (count === 0) put_dev_pagemap(m, pgmap);
  return true;
}

/**
 * The wait the October 2021 thread asks of removal under the fixed design
 * (S003-5, MachineConfig.fsdax_removal 'wait'): with PTE-held references, the
 * pagemap cannot go while any of its FS-DAX pages is in use. Each page going
 * idle wakes the waiter (free_zone_device_folio). The kernel (≈v6.15 to 7.2,
 * 'no-wait') does not wait here: memunmap_pages only puts the pfn_len
 * references memremap_pages took, and leaves the unmapping to the filesystem
 * (MF_MEM_PRE_REMOVE, dax_break_layout_final).
 */
function pagemap_pages_idle(m: Machine, pgmap: dev_pagemap): boolean {
  if (pgmap.type !== MEMORY_DEVICE_FS_DAX || m.config.devmap_refcount === 'old') return true;
  if (m.config.fsdax_removal !== 'wait') return true;
  const { start, nr } = pgmap.range;
  for (let pfn = start; pfn < start + nr; pfn++) if (m.mem._refcount[pfn] !== 0) return false;
  return true;
}

/**
 * memunmap_pages: kill the pagemap (get_dev_pagemap fails from now on), drop
 * the per-page references of non-PRIVATE/COHERENT types, and wait for every
 * reference to go. Returns true when the removal completed, false while it waits.
 */
export function memunmap_pages(m: Machine, pgmap: dev_pagemap): boolean {
  if (!pgmap.dying) {
    pgmap.dying = true;
    if (pgmap_idle_at_one(m, pgmap) && m.config.devmap_refcount === 'old') memunmap_put_idle_pages(m, pgmap);
    else if (pgmap.type !== MEMORY_DEVICE_PRIVATE && pgmap.type !== MEMORY_DEVICE_COHERENT)
      pgmap.ref -= pgmap.range.nr;
  }
  return memunmap_pages_complete(m, pgmap);
}

/**
 * memunmap_pages as in v5.15 (the old design): put_page on every pfn drops the
 * idle reference; each page that reaches 0 drops its pgmap reference. A page
 * that GUP still holds keeps the pagemap (and the removal) alive; a page that
 * a devmap PTE maps does not, because that PTE holds nothing (S003-3).
 */
function memunmap_put_idle_pages(m: Machine, pgmap: dev_pagemap): void {
  const { start, nr } = pgmap.range;
  for (let pfn = start; pfn < start + nr; pfn++) {
    if (put_devmap_managed_folio_refs(m, pfn, 1)) continue;
    if (--m.mem._refcount[pfn] === 0) put_dev_pagemap(m, pgmap);
  }
}

/** The tail of memunmap_pages: once pgmap->ref reached 0 (and, fixed design, every FS-DAX page is idle), the memory is removed. */
export function memunmap_pages_complete(m: Machine, pgmap: dev_pagemap): boolean {
  if (!pgmap.dying || pgmap.ref > 0 || !pagemap_pages_idle(m, pgmap)) return pgmap.removed;
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
 * their pgmap references; GENERIC goes back to refcount 1; FS_DAX wakes waiters
 * (only in the fixed devmap design: the old one never lets an FS-DAX page reach
 * 0 while its pagemap lives, see put_devmap_managed_folio_refs).
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
    case MEMORY_DEVICE_FS_DAX:
      /* wake_up_var: the page is idle (the pmem driver's page_free stands for the wakeup); a removal may be waiting for it. */
      pgmap.ops.folio_free?.(folio);
      memunmap_pages_complete(m, pgmap);
      break;
    default:
      pgmap.ops.folio_free?.(folio);
  }
}
