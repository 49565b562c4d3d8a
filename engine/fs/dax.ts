/*
 * Mirrors fs/dax.c: the DAX fault path (dax_iomap_pte_fault, dax_fault_iter,
 * dax_load_hole), the DAX entries of a mapping (dax_insert_entry,
 * dax_associate_entry) and the layout break that truncate and hole punch go
 * through (dax_layout_busy_page_range, dax_break_layout). Around it, what a
 * DAX file needs to exist: the pmem driver that creates the pagemap
 * (drivers/nvdimm/pmem.c), the DAX device and its removal (drivers/dax/super.c
 * kill_dax), device-DAX (drivers/dax/device.c), and a small DAX filesystem that
 * stands for ext4 or xfs mounted with -o dax (ext4_dax_fault,
 * ext4_break_layouts, xfs_dax_notify_failure).
 * Kernel: linux-mm tree, late 2025, for the fixed devmap design; v5.15 (the
 * seed 003 thread, October 2021) for the old one. MachineConfig.devmap_refcount
 * selects which.
 *
 * Simplified here: PTE-sized entries only (no PMD faults, no DAX_PMD entries),
 * no reflink sharing (folio->share), no MAP_SYNC, no dirty tags or writeback.
 * A filesystem allocates blocks lowest pfn first, when a file is created or on
 * a write fault to a hole, and zeroes them. Once its device is dead every
 * fault on a DAX file fails with SIGBUS (dax_direct_access returns -ENXIO; the
 * kernel could still map a hole to the zero page). Nothing sleeps: a truncate
 * or hole punch that finds a busy page waits by registering with the
 * filesystem (dax_break_layout's wait_page_idle) and finishes when that page's
 * idle wakeup runs; faults in the range it holds the invalidate lock over
 * return VM_FAULT_RETRY; a device removal that must wait returns "pending".
 */

import {
  DAX_NO_ENTRY,
  DAX_ZERO_PAGE,
  type dax_device,
  type dax_inode,
  dax_page_is_idle,
  MF_MEM_PRE_REMOVE,
} from '../include/linux/dax';
import { type dev_pagemap, MEMORY_DEVICE_FS_DAX, MEMORY_DEVICE_GENERIC } from '../include/linux/memremap';
import {
  EINVAL,
  ENOSPC,
  FAULT_FLAG_WRITE,
  folio_mapcount,
  folio_ref_add,
  folio_ref_count,
  VM_FAULT_DONE_COW,
  VM_FAULT_RETRY,
  VM_FAULT_SIGBUS,
  VM_MAYSHARE,
} from '../include/linux/mm';
import type { address_space, vm_area_struct, vm_operations_struct } from '../include/linux/mm_types';
import { PFN_DEV, PFN_MAP } from '../include/linux/pfn_t';
import type { Machine } from '../machine';
import {
  unmap_mapping_pages,
  type vm_fault,
  vmf_insert_mixed,
  vmf_insert_mixed_mkwrite,
  vmf_insert_page_mkwrite,
} from '../mm/memory';
import { memremap_pages, memunmap_pages } from '../mm/memremap';
import { folio_put } from '../mm/swap';

/** A pmem namespace with struct pages: fsdax mode (MEMORY_DEVICE_FS_DAX) or devdax mode (MEMORY_DEVICE_GENERIC). */
export interface pmem_device {
  readonly name: string;
  readonly mode: 'fsdax' | 'devdax';
  readonly pgmap: dev_pagemap;
  readonly dax_dev: dax_device;
  /** Wakeups of a page that went idle (the pmem driver's page_free, later free_zone_device_folio's wake_up_var). */
  idle_wakeups: number;
  /** The DAX filesystem mounted on it (fsdax mode). */
  fs: daxfs | null;
  /** The device-DAX character device /dev/daxN.0 (devdax mode). */
  chardev: address_space | null;
}

/** A truncate or hole punch waiting in dax_break_layout for a busy page. */
interface layout_break {
  readonly mapping: address_space;
  readonly start: number;
  readonly end: number;
  /** The busy page it waits on (wait_page_idle). */
  page: number;
  /** What the filesystem does once the layout is broken: free the blocks. */
  readonly finish: () => void;
}

/** A DAX filesystem on a pmem device in fsdax mode. */
export interface daxfs {
  readonly pmem: pmem_device;
  /** Free blocks, as device pfns, lowest first. */
  readonly free_blocks: number[];
  readonly files: address_space[];
  readonly waiting: layout_break[];
  /** MF_MEM_PRE_REMOVE notifications received (only a filesystem that registered as holder gets them). */
  notifications: number;
  /** An idle wakeup is being handled (the engine runs the woken truncate in the waker's stead). */
  waking: boolean;
}

/* ------------------------------------------------------------------ */
/* The pmem driver and the DAX device                                   */
/* ------------------------------------------------------------------ */

/**
 * pmem_attach_disk: memremap_pages a namespace of nr_pages and create its DAX
 * device (alloc_dax). Returns the device, or a negative errno.
 */
export function pmem_attach_disk(
  m: Machine,
  name: string,
  nr_pages: number,
  mode: 'fsdax' | 'devdax',
): pmem_device | number {
  const holder: { pmem: pmem_device | null } = { pmem: null };
  const pgmap: dev_pagemap = {
    type: mode === 'fsdax' ? MEMORY_DEVICE_FS_DAX : MEMORY_DEVICE_GENERIC,
    range: { start: 0, nr: nr_pages },
    owner: name,
    ops: { folio_free: (folio) => holder.pmem && pmem_pagemap_page_free(m, holder.pmem, folio) },
    id: 0,
    ref: 0,
    dying: false,
    removed: false,
  };
  const start = memremap_pages(m, pgmap);
  if (start < 0) return start;
  const dax_dev: dax_device = { pgmap, start, nr_pages, alive: true, holder_ops: null };
  const pmem: pmem_device = { name, mode, pgmap, dax_dev, idle_wakeups: 0, fs: null, chardev: null };
  holder.pmem = pmem;
  return pmem;
}

/**
 * The pmem driver's page_free (v5.15 fsdax_pagemap_ops; from v5.18 the same
 * wake_up_var moved into the mm): a page went idle, so wake whoever waits for
 * it, a truncate in dax_break_layout.
 */
function pmem_pagemap_page_free(m: Machine, pmem: pmem_device, folio: number): void {
  pmem.idle_wakeups++;
  if (pmem.fs) dax_wake_page(m, pmem.fs, folio);
}

/**
 * kill_dax: the device is going away. A holder that asked to be told gets
 * MF_MEM_PRE_REMOVE first (≈v6.8); then dax_direct_access fails for good.
 */
export function kill_dax(dax_dev: dax_device): void {
  if (dax_dev.holder_ops) dax_dev.holder_ops.notify_failure(dax_dev, 0, dax_dev.nr_pages, MF_MEM_PRE_REMOVE);
  dax_dev.alive = false;
  dax_dev.holder_ops = null;
}

/**
 * The pmem device is unbound: kill_dax, then (devm) memunmap_pages. Device-DAX
 * first unmaps its character device (kill_dev_dax). Returns true when the
 * removal completed, false while memunmap_pages waits.
 */
export function pmem_remove(m: Machine, pmem: pmem_device): boolean {
  kill_dax(pmem.dax_dev);
  if (pmem.chardev) unmap_mapping_pages(m, pmem.chardev, 0, pmem.chardev.i_pages.length);
  return memunmap_pages(m, pmem.pgmap);
}

/* ------------------------------------------------------------------ */
/* fs/dax.c: entries                                                    */
/* ------------------------------------------------------------------ */

/** dax_associate_entry: the block's page now belongs to this file at this index (folio->mapping, ->index). */
function dax_associate_entry(m: Machine, pfn: number, mapping: address_space, index: number): void {
  if (m.mem.mapping[pfn] !== 0) m.warn('dax_associate_entry', `pfn ${pfn} already belongs to a mapping`);
  m.mem.mapping[pfn] = mapping.id;
  m.mem.index[pfn] = index;
}

/**
 * dax_disassociate_entry: the entry leaves the file. The old design warns if a
 * truncate gets here while someone still holds the page (refcount above 1);
 * the fixed one just clears the folio (dax_folio_put).
 */
function dax_disassociate_entry(m: Machine, entry: number, trunc: boolean): void {
  if (entry < 0) return;
  if (m.config.devmap_refcount === 'old' && trunc && folio_ref_count(m, entry) > 1)
    m.warn('dax_disassociate_entry', `pfn ${entry} is still in use (refcount ${folio_ref_count(m, entry)})`);
  m.mem.mapping[entry] = 0;
  m.mem.index[entry] = 0;
}

/**
 * dax_insert_entry: record the block (or the zero page) at the fault's index.
 * A block replacing a zero-page entry first unmaps the zero page everywhere.
 */
function dax_insert_entry(
  m: Machine,
  vmf: vm_fault,
  mapping: address_space,
  inode: dax_inode,
  entry: number,
): void {
  const index = vmf.pgoff;
  const old = inode.entries[index];
  if (old === DAX_ZERO_PAGE && entry !== DAX_ZERO_PAGE) unmap_mapping_pages(m, mapping, index, 1);
  if (old !== DAX_NO_ENTRY && old !== DAX_ZERO_PAGE) return;
  dax_disassociate_entry(m, old, false);
  if (entry !== DAX_ZERO_PAGE) dax_associate_entry(m, entry, mapping, index);
  inode.entries[index] = entry;
}

/** dax_delete_mapping_range: drop the entries of [start, end) for a truncate or hole punch. */
function dax_delete_mapping_range(m: Machine, inode: dax_inode, start: number, end: number): void {
  for (let index = start; index < end; index++) {
    dax_disassociate_entry(m, inode.entries[index], true);
    inode.entries[index] = DAX_NO_ENTRY;
  }
}

/* ------------------------------------------------------------------ */
/* fs/dax.c: faults                                                     */
/* ------------------------------------------------------------------ */

/** What ->iomap_begin reports for one page: a mapped block (new if just allocated), a hole, or -errno. */
export type dax_iomap = { type: 'mapped'; pfn: number } | { type: 'hole' } | number;

/**
 * dax_iomap_pte_fault: a fault on a page of a DAX file. Beyond i_size it is
 * SIGBUS; a write that is not a private copy (vmf->cow_page) asks the
 * filesystem for a block (IOMAP_WRITE), allocating one in a hole.
 */
export function dax_iomap_pte_fault(
  m: Machine,
  vmf: vm_fault,
  iomap_begin: (write: boolean) => dax_iomap,
): number {
  const mapping = vmf.vma.vm_file as address_space;
  const inode = mapping.dax as dax_inode;
  if (vmf.pgoff >= mapping.i_pages.length) return VM_FAULT_SIGBUS;
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0 && vmf.cow_page === undefined;
  const iomap = iomap_begin(write);
  if (typeof iomap === 'number') return VM_FAULT_SIGBUS;
  return dax_fault_iter(m, vmf, mapping, inode, iomap, write);
}

/**
 * dax_fault_iter: copy for a private write (dax_fault_cow_page), the zero page
 * for a read of a hole (dax_load_hole), else map the block's page. The old
 * design maps it with a devmap PTE that takes no reference (vmf_insert_mixed
 * of a PFN_DEV|PFN_MAP pfn); the fixed design with a refcounted PTE
 * (vmf_insert_page_mkwrite), holding a reference of its own across the call
 * because an idle page sits at 0 and insert_page refuses a page nobody holds.
 */
function dax_fault_iter(
  m: Machine,
  vmf: vm_fault,
  mapping: address_space,
  inode: dax_inode,
  iomap: Exclude<dax_iomap, number>,
  write: boolean,
): number {
  if (!inode.dax_dev.alive) return VM_FAULT_SIGBUS;
  if (vmf.cow_page !== undefined) return dax_fault_cow_page(m, vmf, iomap);
  if (iomap.type === 'hole') return dax_load_hole(m, vmf, mapping, inode);
  const pfn = iomap.pfn;
  dax_insert_entry(m, vmf, mapping, inode, pfn);
  if (m.config.devmap_refcount === 'old') {
    const devmap = { pfn, flags: PFN_DEV | PFN_MAP };
    return write
      ? vmf_insert_mixed_mkwrite(m, vmf.vma, vmf.address, devmap)
      : vmf_insert_mixed(m, vmf.vma, vmf.address, devmap);
  }
  folio_ref_add(m, pfn, 1);
  const ret = vmf_insert_page_mkwrite(m, vmf, pfn, write);
  folio_put(m, pfn);
  return ret;
}

/** dax_load_hole: a read of a hole maps the shared zero page, a special PTE, in both designs. */
function dax_load_hole(m: Machine, vmf: vm_fault, mapping: address_space, inode: dax_inode): number {
  dax_insert_entry(m, vmf, mapping, inode, DAX_ZERO_PAGE);
  if (m.config.devmap_refcount === 'old')
    return vmf_insert_mixed(m, vmf.vma, vmf.address, { pfn: m.zero_pfn, flags: 0 });
  return vmf_insert_page_mkwrite(m, vmf, m.zero_pfn, false);
}

/**
 * dax_fault_cow_page: a write fault in a private mapping copies the block (or
 * zeroes, for a hole) into do_cow_fault's new page. The kernel then maps it
 * with finish_fault; the engine's do_cow_fault maps it on VM_FAULT_DONE_COW.
 */
function dax_fault_cow_page(m: Machine, vmf: vm_fault, iomap: Exclude<dax_iomap, number>): number {
  const cow = vmf.cow_page as number;
  m.mem.data[cow] = iomap.type === 'hole' ? 0 : m.mem.data[iomap.pfn];
  return VM_FAULT_DONE_COW;
}

/* ------------------------------------------------------------------ */
/* fs/dax.c: breaking the layout for truncate and hole punch             */
/* ------------------------------------------------------------------ */

/**
 * dax_busy_page: is someone other than the filesystem using the page? The old
 * design: anything above the idle refcount 1. The fixed design: any reference
 * that is not a mapping (refcount - mapcount).
 */
function dax_busy_page(m: Machine, pfn: number): boolean {
  if (m.config.devmap_refcount === 'old') return folio_ref_count(m, pfn) > 1;
  return folio_ref_count(m, pfn) - folio_mapcount(m, pfn) !== 0;
}

/**
 * dax_layout_busy_page_range: unmap [start, end) of the file from every
 * process, then return the first page still in use (a GUP reference or pin),
 * or -1.
 */
export function dax_layout_busy_page_range(
  m: Machine,
  mapping: address_space,
  start: number,
  end: number,
): number {
  const inode = mapping.dax as dax_inode;
  unmap_mapping_pages(m, mapping, start, end - start);
  for (let index = start; index < end; index++) {
    const entry = inode.entries[index];
    if (entry >= 0 && dax_busy_page(m, entry)) return entry;
  }
  return -1;
}

/**
 * dax_break_layout: unmap the range and wait until none of its pages is
 * busy, then delete its entries and let the filesystem free the blocks
 * (finish). A truncate cannot simply drop a DAX page the way the page cache
 * drops a pinned page: the block would go back to the filesystem while DMA
 * still targets it. Returns true if it finished now, false if it waits.
 */
function dax_break_layout(
  m: Machine,
  fs: daxfs,
  mapping: address_space,
  start: number,
  end: number,
  finish: () => void,
): boolean {
  const page = dax_layout_busy_page_range(m, mapping, start, end);
  if (page < 0) {
    dax_delete_mapping_range(m, mapping.dax as dax_inode, start, end);
    finish();
    return true;
  }
  fs.waiting.push({ mapping, start, end, page, finish });
  return false;
}

/** The wake_up_var of a page that went idle: resume the layout breaks waiting on it. */
function dax_wake_page(m: Machine, fs: daxfs, page: number): void {
  if (fs.waking) return;
  fs.waking = true;
  for (const w of [...fs.waiting]) {
    if (w.page !== page || !dax_page_is_idle(m, page)) continue;
    const busy = dax_layout_busy_page_range(m, w.mapping, w.start, w.end);
    if (busy >= 0) {
      w.page = busy;
      continue;
    }
    fs.waiting.splice(fs.waiting.indexOf(w), 1);
    dax_delete_mapping_range(m, w.mapping.dax as dax_inode, w.start, w.end);
    w.finish();
  }
  fs.waking = false;
}

/* ------------------------------------------------------------------ */
/* The DAX filesystem (ext4 / xfs with -o dax)                          */
/* ------------------------------------------------------------------ */

/** mount -o dax on a pmem device in fsdax mode. */
export function daxfs_mount(pmem: pmem_device): daxfs | number {
  if (pmem.mode !== 'fsdax' || pmem.fs) return -EINVAL;
  const { start, nr_pages } = pmem.dax_dev;
  const fs: daxfs = {
    pmem,
    free_blocks: Array.from({ length: nr_pages }, (_, i) => start + i),
    files: [],
    waiting: [],
    notifications: 0,
    waking: false,
  };
  pmem.fs = fs;
  return fs;
}

/**
 * A filesystem that handles device failure registers as holder of its DAX
 * device (fs_dax_get_by_bdev with holder_ops, as xfs does since ≈v6.0), and so
 * is told before the device is removed. ext4 does not.
 */
export function daxfs_register_holder(m: Machine, fs: daxfs): void {
  fs.pmem.dax_dev.holder_ops = {
    notify_failure: (_dev, _off, _len, flags) => daxfs_notify_failure(m, fs, flags),
  };
}

/**
 * xfs_dax_notify_failure with MF_MEM_PRE_REMOVE: before the device goes,
 * unmap and invalidate every file (invalidate_inode_pages2_range), so that
 * no PTE is left to keep the removal waiting (S003-6).
 */
function daxfs_notify_failure(m: Machine, fs: daxfs, mf_flags: number): number {
  if (!(mf_flags & MF_MEM_PRE_REMOVE)) return 0;
  fs.notifications++;
  for (const mapping of fs.files) {
    const size = mapping.i_pages.length;
    unmap_mapping_pages(m, mapping, 0, size);
    dax_delete_mapping_range(m, mapping.dax as dax_inode, 0, size);
  }
  return 0;
}

/** Take the lowest free block, zeroed (a new block reads as zeroes: IOMAP_F_NEW). */
function daxfs_alloc_block(m: Machine, fs: daxfs): number {
  const pfn = fs.free_blocks.shift();
  if (pfn === undefined) return -ENOSPC;
  m.mem.data[pfn] = 0;
  return pfn;
}

function daxfs_free_block(fs: daxfs, pfn: number): void {
  const i = fs.free_blocks.findIndex((p) => p > pfn);
  fs.free_blocks.splice(i < 0 ? fs.free_blocks.length : i, 0, pfn);
}

/** Create a file of nr_pages blocks whose page i holds contents[i]. Returns its mapping, or -ENOSPC. */
export function daxfs_create(
  m: Machine,
  fs: daxfs,
  name: string,
  nr_pages: number,
  contents: number[],
): address_space | number {
  if (fs.free_blocks.length < nr_pages) return -ENOSPC;
  const blocks = new Int32Array(nr_pages);
  for (let i = 0; i < nr_pages; i++) {
    blocks[i] = daxfs_alloc_block(m, fs);
    m.mem.data[blocks[i]] = contents[i] ?? 0;
  }
  const inode: dax_inode = {
    dax_dev: fs.pmem.dax_dev,
    chardev: false,
    blocks,
    entries: new Int32Array(nr_pages).fill(DAX_NO_ENTRY),
    invalidate_lock: null,
  };
  const fault = (vmf: vm_fault): number => daxfs_dax_fault(m, fs, vmf);
  const vm_ops: vm_operations_struct = { fault, page_mkwrite: fault, pfn_mkwrite: fault };
  const mapping: address_space = {
    id: m.next_mapping_id++,
    name,
    shmem: false,
    i_pages: new Int32Array(nr_pages).fill(-1),
    backing: new Uint32Array(nr_pages),
    i_mmap: new Set(),
    vm_ops,
    dax: inode,
  };
  m.address_spaces.set(mapping.id, mapping);
  fs.files.push(mapping);
  return mapping;
}

/**
 * ext4_dax_fault (also its page_mkwrite and pfn_mkwrite): wait out a truncate
 * that holds the invalidate lock over the page, then dax_iomap_fault with the
 * filesystem's iomap_begin.
 */
function daxfs_dax_fault(m: Machine, fs: daxfs, vmf: vm_fault): number {
  const mapping = vmf.vma.vm_file as address_space;
  const inode = mapping.dax as dax_inode;
  const lock = inode.invalidate_lock;
  if (lock && vmf.pgoff >= lock.start && vmf.pgoff < lock.end) return VM_FAULT_RETRY;
  return dax_iomap_pte_fault(m, vmf, (write) => daxfs_iomap_begin(m, fs, inode, vmf.pgoff, write));
}

/** ext4_iomap_begin: the block of a page, allocating one for a write to a hole. */
function daxfs_iomap_begin(
  m: Machine,
  fs: daxfs,
  inode: dax_inode,
  index: number,
  write: boolean,
): dax_iomap {
  if (inode.blocks[index] < 0) {
    if (!write) return { type: 'hole' };
    const pfn = daxfs_alloc_block(m, fs);
    if (pfn < 0) return pfn;
    inode.blocks[index] = pfn;
  }
  return { type: 'mapped', pfn: inode.blocks[index] };
}

/** Give the blocks of [start, end) back to the filesystem. */
function daxfs_free_range(fs: daxfs, inode: dax_inode, start: number, end: number): void {
  for (let index = start; index < end; index++) {
    if (inode.blocks[index] >= 0) daxfs_free_block(fs, inode.blocks[index]);
    inode.blocks[index] = -1;
  }
}

/**
 * ext4_setattr (truncate to new_size pages): break the layout beyond the new
 * size (ext4_break_layouts → dax_break_layout), then truncate_setsize and free
 * the blocks. Returns true if done, false while it waits for a busy page.
 */
export function daxfs_truncate(m: Machine, fs: daxfs, mapping: address_space, new_size: number): boolean {
  const inode = mapping.dax as dax_inode;
  const old_size = mapping.i_pages.length;
  const resize = (a: Int32Array, fill: number): Int32Array => {
    const b = new Int32Array(new_size).fill(fill);
    b.set(a.subarray(0, Math.min(a.length, new_size)));
    return b;
  };
  const setsize = (): void => {
    if (new_size < old_size) {
      unmap_mapping_pages(m, mapping, new_size, old_size - new_size);
      daxfs_free_range(fs, inode, new_size, old_size);
    }
    mapping.i_pages = resize(mapping.i_pages, -1);
    inode.blocks = resize(inode.blocks, -1);
    inode.entries = resize(inode.entries, DAX_NO_ENTRY);
    inode.invalidate_lock = null;
  };
  if (new_size >= old_size) {
    setsize();
    return true;
  }
  inode.invalidate_lock = { start: new_size, end: old_size };
  return dax_break_layout(m, fs, mapping, new_size, old_size, setsize);
}

/**
 * ext4_punch_hole over pages [start, start + nr): break the layout there, then
 * truncate_pagecache_range and free the blocks. The file keeps its size.
 */
export function daxfs_punch_hole(
  m: Machine,
  fs: daxfs,
  mapping: address_space,
  start: number,
  nr: number,
): boolean {
  const inode = mapping.dax as dax_inode;
  const end = Math.min(start + nr, mapping.i_pages.length);
  inode.invalidate_lock = { start, end };
  return dax_break_layout(m, fs, mapping, start, end, () => {
    unmap_mapping_pages(m, mapping, start, end - start);
    daxfs_free_range(fs, inode, start, end);
    inode.invalidate_lock = null;
  });
}

/* ------------------------------------------------------------------ */
/* Device-DAX (drivers/dax/device.c)                                     */
/* ------------------------------------------------------------------ */

/**
 * The character device /dev/daxN.0 of a pmem namespace in devdax mode: the
 * whole namespace, page i at the device's pfn start + i. Only shared
 * mappings are allowed (check_vma).
 */
export function devdax_open(m: Machine, pmem: pmem_device): address_space | number {
  if (pmem.mode !== 'devdax') return -EINVAL;
  if (pmem.chardev) return pmem.chardev;
  const { start, nr_pages } = pmem.dax_dev;
  const inode: dax_inode = {
    dax_dev: pmem.dax_dev,
    chardev: true,
    blocks: Int32Array.from({ length: nr_pages }, (_, i) => start + i),
    entries: new Int32Array(nr_pages).fill(DAX_NO_ENTRY),
    invalidate_lock: null,
  };
  const mapping: address_space = {
    id: m.next_mapping_id++,
    name: `/dev/${pmem.name}`,
    shmem: false,
    i_pages: new Int32Array(nr_pages).fill(-1),
    backing: new Uint32Array(nr_pages),
    i_mmap: new Set(),
    f_op_mmap: (vma: vm_area_struct) => (vma.vm_flags & VM_MAYSHARE ? 0 : -EINVAL),
    vm_ops: { fault: (vmf) => dev_dax_fault(m, vmf) },
    dax: inode,
  };
  m.address_spaces.set(mapping.id, mapping);
  pmem.chardev = mapping;
  return mapping;
}

/**
 * __dev_dax_pte_fault: map the device page at the fault's offset and record
 * the file in its folio (dax_set_mapping). The old design inserts a devmap
 * pfn (vmf_insert_mixed); the fixed one a refcounted page.
 */
function dev_dax_fault(m: Machine, vmf: vm_fault): number {
  const mapping = vmf.vma.vm_file as address_space;
  const inode = mapping.dax as dax_inode;
  if (!inode.dax_dev.alive || vmf.pgoff >= inode.blocks.length) return VM_FAULT_SIGBUS;
  const pfn = inode.blocks[vmf.pgoff];
  m.mem.mapping[pfn] = mapping.id;
  m.mem.index[pfn] = vmf.pgoff;
  if (m.config.devmap_refcount === 'old')
    return vmf_insert_mixed(m, vmf.vma, vmf.address, { pfn, flags: PFN_DEV | PFN_MAP });
  return vmf_insert_page_mkwrite(m, vmf, pfn, (vmf.flags & FAULT_FLAG_WRITE) !== 0);
}
