/*
 * Mirrors mm/mmap.c and mm/vma.c: do_mmap, munmap (do_vmi_munmap), VMA
 * splitting and merging, find_vma, exit_mmap and free_pgtables.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: the maple tree is a sorted array; get_unmapped_area is a
 * deterministic bottom-up search from TASK_UNMAPPED_BASE, with anonymous
 * mappings of at least PMD_SIZE aligned to PMD_SIZE (as
 * thp_get_unmapped_area does). Merging is done only when a VMA's flags change
 * (vma_modify_flags), with the neighbours that are then identical.
 */

import {
  EINVAL,
  ENOMEM,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_HUGETLB,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  VM_EXEC,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_READ,
  VM_SHARED,
  VM_SOFTDIRTY,
  VM_WRITE,
} from '../include/linux/mm';
import {
  type address_space,
  type mm_struct,
  NR_MM_COUNTERS,
  PAGE_SIZE,
  PMD_SIZE,
  type vm_area_struct,
} from '../include/linux/mm_types';
import { EngineUsageError } from '../include/linux/mmdebug';
import { pmd_index } from '../include/linux/pgtable';
import type { Machine } from '../machine';
import { shmem_zero_setup } from './filemap';
import { vma_adjust_trans_huge } from './huge_memory';
import { hugetlb_file_setup } from './hugetlb';
import { unmap_page_range } from './memory';
import {
  mmu_notifier_invalidate_range_end,
  mmu_notifier_invalidate_range_start,
  mmu_notifier_range_init,
  mmu_notifier_release,
  new_mmu_notifier_subscriptions,
} from './mmu_notifier';
import { free_pte_range } from './pgtable-generic';
import { anon_vma_clone, unlink_anon_vmas } from './rmap';

/** TASK_UNMAPPED_BASE for the engine's deterministic address-space layout. */
export const TASK_UNMAPPED_BASE = 0x10000000;
export const TASK_SIZE = 0x7fff_ffff_f000;

export function mm_alloc(m: Machine): mm_struct {
  const mm: mm_struct = {
    id: m.next_mm_id++,
    mmap: [],
    pmd: new Map(),
    pte_tables: new Map(),
    deposited: new Map(),
    rss_stat: new Int32Array(NR_MM_COUNTERS),
    hugetlb_usage: 0,
    flags: 0,
    write_protect_seq: 0,
    notifier_subscriptions: new_mmu_notifier_subscriptions(),
    alive: true,
  };
  m.mms.add(mm);
  return mm;
}

/** find_vma: the VMA containing addr, or null. */
export function find_vma(mm: mm_struct, addr: number): vm_area_struct | null {
  for (const vma of mm.mmap) {
    if (addr < vma.vm_start) return null;
    if (addr < vma.vm_end) return vma;
  }
  return null;
}

export function vma_insert(mm: mm_struct, vma: vm_area_struct): void {
  const i = mm.mmap.findIndex((v) => v.vm_start > vma.vm_start);
  if (i < 0) mm.mmap.push(vma);
  else mm.mmap.splice(i, 0, vma);
  vma.vm_file?.i_mmap.add(vma);
}

/** calc_vm_prot_bits + calc_vm_flag_bits: the VM_* flags an mmap() asks for. */
export function calc_vm_flags(prot: number, flags: number): number {
  let vm_flags = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (prot & PROT_READ) vm_flags |= VM_READ;
  if (prot & PROT_WRITE) vm_flags |= VM_WRITE;
  if (prot & PROT_EXEC) vm_flags |= VM_EXEC;
  if (flags & MAP_SHARED) vm_flags |= VM_SHARED | VM_MAYSHARE;
  return vm_flags;
}

/** get_unmapped_area: the lowest free, suitably aligned range of `len` bytes. */
function get_unmapped_area(mm: mm_struct, len: number, align: number): number {
  let addr = TASK_UNMAPPED_BASE;
  for (const vma of mm.mmap) {
    if (vma.vm_end <= addr) continue;
    if (addr + len <= vma.vm_start) break;
    addr = Math.ceil(vma.vm_end / align) * align;
  }
  if (addr + len > TASK_SIZE) return -ENOMEM;
  return addr;
}

export interface mmap_args {
  addr?: number;
  len: number;
  prot: number;
  flags: number;
  file?: address_space;
  /** Offset into the file, in pages. */
  pgoff?: number;
}

/** do_mmap: create a mapping and return its start address, or a negative errno. */
export function do_mmap(m: Machine, mm: mm_struct, args: mmap_args): number {
  const { prot, flags } = args;
  if (args.len <= 0 || args.len % PAGE_SIZE) return -EINVAL;
  if (!(flags & (MAP_SHARED | MAP_PRIVATE)) || (flags & MAP_SHARED && flags & MAP_PRIVATE)) return -EINVAL;
  if (!(flags & MAP_ANONYMOUS) && !args.file) return -EINVAL;
  let file = flags & MAP_ANONYMOUS ? null : (args.file ?? null);
  let pgoff = args.pgoff ?? 0;
  let len = args.len;
  /*
   * ksys_mmap_pgoff: MAP_HUGETLB backs an anonymous mapping with an unlinked
   * hugetlbfs file, the length rounded up to the huge page size.
   */
  if (flags & MAP_HUGETLB) {
    if (!(flags & MAP_ANONYMOUS)) return -EINVAL;
    len = Math.ceil(len / PMD_SIZE) * PMD_SIZE;
    file = hugetlb_file_setup(m, len);
  }
  if (file && pgoff + len / PAGE_SIZE > file.i_pages.length)
    throw new EngineUsageError(
      'mapping past the end of a file',
      `${file.name} has ${file.i_pages.length} pages`,
    );
  let addr: number;
  if (flags & MAP_FIXED) {
    if (args.addr === undefined || args.addr % PAGE_SIZE) return -EINVAL;
    addr = args.addr;
    do_vmi_munmap(m, mm, addr, len);
  } else {
    /* hugetlb_get_unmapped_area aligns to the huge page size. */
    const align = (!file || flags & MAP_HUGETLB) && len >= PMD_SIZE ? PMD_SIZE : PAGE_SIZE;
    addr = get_unmapped_area(mm, len, align);
    if (addr < 0) return addr;
  }
  if (flags & MAP_SHARED && flags & MAP_ANONYMOUS && !(flags & MAP_HUGETLB)) {
    file = shmem_zero_setup(m, len / PAGE_SIZE);
    pgoff = 0;
  }
  /* Anonymous VMAs index their pages by virtual page number (vm_pgoff = addr >> PAGE_SHIFT). */
  const vma: vm_area_struct = {
    vm_start: addr,
    vm_end: addr + len,
    /* __mmap_region: a new VMA is soft-dirty as a whole, so a tracker sees it as new data. */
    vm_flags: calc_vm_flags(prot, flags) | VM_SOFTDIRTY,
    vm_pgoff: file ? pgoff : addr / PAGE_SIZE,
    vm_mm: mm,
    vm_file: file,
    anon_vma: null,
    anon_vma_chain: [],
  };
  vma_insert(mm, vma);
  /* call_mmap: a device file sets the VMA up itself (dmirror inserts its pages with vm_insert_page). */
  if (file?.f_op_mmap) {
    const ret = file.f_op_mmap(vma);
    if (ret) {
      do_vmi_munmap(m, mm, vma.vm_start, vma.vm_end - vma.vm_start);
      return ret;
    }
  }
  return addr;
}

/**
 * __split_vma: split a VMA at `addr`; the new VMA is the upper part. A huge
 * PMD straddling the boundary is split first.
 */
export function __split_vma(m: Machine, vma: vm_area_struct, addr: number): vm_area_struct {
  vma_adjust_trans_huge(m, vma, addr);
  const upper: vm_area_struct = {
    vm_start: addr,
    vm_end: vma.vm_end,
    vm_flags: vma.vm_flags,
    vm_pgoff: vma.vm_pgoff + (addr - vma.vm_start) / PAGE_SIZE,
    vm_mm: vma.vm_mm,
    vm_file: vma.vm_file,
    anon_vma: null,
    anon_vma_chain: [],
    /* vm_area_dup copies it; hugetlb_vm_op_open shares the resv_map between the halves. */
    vm_private_data: vma.vm_private_data,
  };
  anon_vma_clone(upper, vma);
  vma.vm_end = addr;
  vma_insert(vma.vm_mm, upper);
  return upper;
}

/** Split VMAs so that [start, end) begins and ends on VMA boundaries; returns the VMAs inside. */
export function vma_split_range(m: Machine, mm: mm_struct, start: number, end: number): vm_area_struct[] {
  const first = find_vma(mm, start);
  if (first && first.vm_start < start) __split_vma(m, first, start);
  const last = find_vma(mm, end - 1);
  if (last && last.vm_end > end) __split_vma(m, last, end);
  return mm.mmap.filter((v) => v.vm_start >= start && v.vm_end <= end);
}

/**
 * The vm_ops->may_split check __split_vma makes before it splits: 0, or the
 * -errno with which a VMA straddling start or end refuses (hugetlb: -EINVAL
 * off a huge page boundary).
 */
export function vma_may_split_range(mm: mm_struct, start: number, end: number): number {
  for (const addr of [start, end]) {
    const vma = find_vma(mm, addr - (addr === end ? 1 : 0));
    if (!vma || vma.vm_start >= addr || vma.vm_end <= addr) continue;
    const err = vma.vm_file?.vm_ops?.may_split?.(vma, addr) ?? 0;
    if (err) return err;
  }
  return 0;
}

/** True if every byte of [start, end) is covered by some VMA. */
export function range_is_mapped(mm: mm_struct, start: number, end: number): boolean {
  let addr = start;
  for (const vma of mm.mmap) {
    if (vma.vm_end <= addr) continue;
    if (vma.vm_start > addr) return false;
    addr = vma.vm_end;
    if (addr >= end) return true;
  }
  return addr >= end;
}

function remove_vma(m: Machine, vma: vm_area_struct): void {
  const mm = vma.vm_mm;
  /* vma_close: the file's vm_ops->close (hugetlb returns unused reservations). */
  vma.vm_file?.vm_ops?.close?.(vma);
  mm.mmap.splice(mm.mmap.indexOf(vma), 1);
  vma.vm_file?.i_mmap.delete(vma);
  unlink_anon_vmas(m, vma);
}

/** free_pgtables: free the page tables of [start, end) that no VMA covers any more. */
function free_pgtables(mm: mm_struct, start: number, end: number): void {
  for (let idx = pmd_index(start); idx <= pmd_index(end - 1); idx++) {
    const lo = idx * PMD_SIZE;
    if (!mm.mmap.some((v) => v.vm_start < lo + PMD_SIZE && v.vm_end > lo)) free_pte_range(mm, idx);
  }
}

/**
 * do_vmi_munmap: unmap [start, start + len). Secondary MMUs see one
 * MMU_NOTIFY_UNMAP over the range; pages lose their mapping and references,
 * and page tables no VMA needs are freed. Unmapping a hole is not an error.
 */
export function do_vmi_munmap(m: Machine, mm: mm_struct, start: number, len: number): number {
  if (start % PAGE_SIZE || len <= 0) return -EINVAL;
  const end = start + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  const err = vma_may_split_range(mm, start, end);
  if (err) return err;
  const vmas = vma_split_range(m, mm, start, end);
  if (vmas.length === 0) return 0;
  const range = mmu_notifier_range_init('MMU_NOTIFY_UNMAP', mm, start, end);
  mmu_notifier_invalidate_range_start(range);
  for (const vma of vmas) unmap_page_range(m, vma, vma.vm_start, vma.vm_end);
  mmu_notifier_invalidate_range_end(range);
  for (const vma of vmas) remove_vma(m, vma);
  free_pgtables(mm, start, end);
  return 0;
}

/**
 * vma_modify_flags: give [start, end) of `vma` new flags, splitting as needed,
 * then merge with identical neighbours (vma_merge_existing_range).
 */
export function vma_modify_flags(
  m: Machine,
  vma: vm_area_struct,
  start: number,
  end: number,
  flags: number,
): vm_area_struct {
  if (vma.vm_start < start) vma = __split_vma(m, vma, start);
  if (vma.vm_end > end) __split_vma(m, vma, end);
  vma.vm_flags = flags;
  return vma_merge_neighbours(m, vma);
}

/**
 * is_mergeable_vma: same flags but those merging ignores (VM_IGNORE_MERGE,
 * i.e. VM_SOFTDIRTY), same file at a contiguous offset, same anon_vma.
 */
function can_merge(a: vm_area_struct, b: vm_area_struct): boolean {
  return (
    a.vm_end === b.vm_start &&
    ((a.vm_flags ^ b.vm_flags) & ~VM_SOFTDIRTY) === 0 &&
    a.vm_file === b.vm_file &&
    /* can_merge_remove_vma: merging would remove b without its vm_ops->close. */
    !b.vm_file?.vm_ops?.close &&
    a.anon_vma === b.anon_vma &&
    a.vm_pgoff + (a.vm_end - a.vm_start) / PAGE_SIZE === b.vm_pgoff
  );
}

function vma_merge_neighbours(m: Machine, vma: vm_area_struct): vm_area_struct {
  const mmap = vma.vm_mm.mmap;
  let i = mmap.indexOf(vma);
  const next = mmap[i + 1];
  /* VM_STICKY: a merged VMA keeps VM_SOFTDIRTY if either part had it. */
  if (next && can_merge(vma, next)) {
    vma.vm_end = next.vm_end;
    vma.vm_flags |= next.vm_flags & VM_SOFTDIRTY;
    remove_vma(m, next);
  }
  i = mmap.indexOf(vma);
  const prev = mmap[i - 1];
  if (prev && can_merge(prev, vma)) {
    prev.vm_end = vma.vm_end;
    prev.vm_flags |= vma.vm_flags & VM_SOFTDIRTY;
    remove_vma(m, vma);
    return prev;
  }
  return vma;
}

/**
 * exit_mmap: the process's address space goes away. Interval notifiers see
 * MMU_NOTIFY_RELEASE first; then every VMA is unmapped and every page table freed.
 */
export function exit_mmap(m: Machine, mm: mm_struct): void {
  mmu_notifier_release(mm);
  for (const vma of [...mm.mmap]) unmap_page_range(m, vma, vma.vm_start, vma.vm_end);
  for (const vma of [...mm.mmap]) remove_vma(m, vma);
  for (const idx of [...mm.pmd.keys()]) free_pte_range(mm, idx);
  mm.alive = false;
  m.mms.delete(mm);
}
