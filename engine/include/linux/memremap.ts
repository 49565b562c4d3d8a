/*
 * Mirrors include/linux/memremap.h: the ZONE_DEVICE memory types, struct
 * dev_pagemap and its ops.
 * Kernel: linux-mm tree, late 2025 (folio_free naming, ≈v6.19).
 *
 * Simplified here: one range per pagemap; the percpu ref is a counter plus a
 * "dying" flag.
 */
import type { vm_fault } from '../../mm/memory';

/** enum memory_type. */
export const MEMORY_DEVICE_PRIVATE = 1;
export const MEMORY_DEVICE_COHERENT = 2;
export const MEMORY_DEVICE_FS_DAX = 3;
export const MEMORY_DEVICE_GENERIC = 4;
export const MEMORY_DEVICE_PCI_P2PDMA = 5;
export type memory_type = 1 | 2 | 3 | 4 | 5;
export const MEMORY_TYPE_NAMES: Record<memory_type, string> = {
  1: 'MEMORY_DEVICE_PRIVATE',
  2: 'MEMORY_DEVICE_COHERENT',
  3: 'MEMORY_DEVICE_FS_DAX',
  4: 'MEMORY_DEVICE_GENERIC',
  5: 'MEMORY_DEVICE_PCI_P2PDMA',
};

/** struct dev_pagemap_ops. */
export interface dev_pagemap_ops {
  /** Called when a folio's refcount reaches 0 (free_zone_device_folio); was page_free before ≈v6.19. */
  folio_free?(folio: number): void;
  /** CPU fault on a device-private entry: migrate the page back to system memory. Returns a vm_fault_t. */
  migrate_to_ram?(vmf: vm_fault): number;
  /** A large device-private folio was split; `tail` is each new piece (then null for the original). */
  folio_split?(head: number, tail: number | null): void;
}

/** struct dev_pagemap. */
export interface dev_pagemap {
  readonly type: memory_type;
  /** First pfn and page count of the range (struct range, in pages). */
  range: { start: number; nr: number };
  /** pgmap->owner: identifies the driver for migrate_vma and hmm_range_fault. */
  readonly owner: unknown;
  readonly ops: dev_pagemap_ops;
  /** Index in Machine.pgmaps, stored in mem_map.pgmap of each page. */
  id: number;
  /** pgmap->ref: one per allocated (PRIVATE/COHERENT) or per mapped (others) page. */
  ref: number;
  /** percpu_ref_kill was called: get_dev_pagemap fails, removal waits for ref to reach 0. */
  dying: boolean;
  /** memunmap_pages has completed: the pfns are gone. */
  removed: boolean;
}
