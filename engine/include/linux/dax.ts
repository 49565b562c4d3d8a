/*
 * Mirrors include/linux/dax.h and the struct dax_device of drivers/dax/super.c:
 * the DAX device a filesystem sits on, the holder callbacks it notifies, the
 * DAX side of an inode, and the DAX predicates the mm asks (vma_is_dax,
 * vma_is_fsdax, dax_page_is_idle).
 * Kernel: linux-mm tree, late 2025, and, where the seed 003 designs differ, the
 * old devmap design (v5.15 to ≈v6.14).
 *
 * Simplified here: a DAX device is one range of one pagemap. An inode's extent
 * map (what ->iomap_begin reports) is an array of device pfns, and its DAX
 * entries are kept beside i_pages rather than in it: a DAX entry holds no page
 * reference, unlike a page-cache entry.
 */
import type { Machine } from '../../machine';
import type { dev_pagemap } from './memremap';
import type { vm_area_struct } from './mm_types';

/** enum mf_flags: MF_MEM_PRE_REMOVE, the device is about to be removed (≈v6.8). */
export const MF_MEM_PRE_REMOVE = 1 << 7;

/** struct dax_holder_operations: what the holder (a filesystem) is told about its device. */
export interface dax_holder_operations {
  /** notify_failure: [offset, offset + len) of the device failed, or is about to go (MF_MEM_PRE_REMOVE). */
  notify_failure(dax_dev: dax_device, offset: number, len: number, mf_flags: number): number;
}

/** struct dax_device. */
export interface dax_device {
  readonly pgmap: dev_pagemap;
  /** First pfn and page count of the memory the device hands out (dax_direct_access). */
  readonly start: number;
  readonly nr_pages: number;
  /** DAXDEV_ALIVE: cleared by kill_dax; dax_direct_access fails from then on. */
  alive: boolean;
  /** The filesystem that registered as holder (fs_dax_get_by_bdev), if it asked to be notified. */
  holder_ops: dax_holder_operations | null;
}

/** DAX entry value of a hole read through the shared zero page (DAX_ZERO_PAGE). */
export const DAX_ZERO_PAGE = -2;
/** No DAX entry at this index. */
export const DAX_NO_ENTRY = -1;

/** The DAX side of an inode (IS_DAX): its blocks on the device and its DAX entries. */
export interface dax_inode {
  readonly dax_dev: dax_device;
  /** S_ISCHR: a device-DAX character device (/dev/daxN.M) rather than a file of a DAX filesystem. */
  readonly chardev: boolean;
  /** The extent map: the device pfn of each page of the file, -1 for a hole. */
  blocks: Int32Array;
  /** The DAX entries of i_pages: a block's pfn, DAX_ZERO_PAGE, or DAX_NO_ENTRY. */
  entries: Int32Array;
  /** A truncate or hole punch holds the invalidate lock over [start, end): faults there wait. */
  invalidate_lock: { start: number; end: number } | null;
}

/** vma_is_dax: the VMA maps a DAX file or a device-DAX device. */
export const vma_is_dax = (vma: vm_area_struct): boolean => vma.vm_file?.dax !== undefined;

/** vma_is_fsdax: the VMA maps a file of a DAX filesystem (not a device-DAX character device). */
export const vma_is_fsdax = (vma: vm_area_struct): boolean =>
  vma.vm_file?.dax !== undefined && !vma.vm_file.dax.chardev;

/**
 * dax_page_is_idle: no one but the filesystem uses the page. The old design's
 * idle count was 1 (the extra ZONE_DEVICE reference); Popple's ≈v6.15 series
 * made it 0.
 */
export const dax_page_is_idle = (m: Machine, pfn: number): boolean =>
  m.mem._refcount[pfn] === (m.config.devmap_refcount === 'old' ? 1 : 0);
