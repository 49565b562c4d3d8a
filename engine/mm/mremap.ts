/*
 * Mirrors mm/mremap.c: moving a mapping to a new address (MREMAP_MAYMOVE |
 * MREMAP_FIXED, optionally MREMAP_DONTUNMAP) with move_vma → move_page_tables.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: only moves that keep the size; no growing or shrinking in
 * place. Page tables are moved entry by entry: a huge PMD (present or
 * device-private) moves whole only when both addresses and the extent are
 * PMD-aligned, otherwise it is split first, as move_page_tables does.
 */

import { EINVAL } from '../include/linux/mm';
import { type mm_struct, PAGE_SIZE, PMD_SIZE, type vm_area_struct } from '../include/linux/mm_types';
import { pmd_is_table, pmd_none } from '../include/linux/pgtable';
import type { Machine } from '../machine';
import { __split_huge_pmd } from './huge_memory';
import { do_vmi_munmap, find_vma, vma_insert, vma_split_range } from './mmap';
import {
  mmu_notifier_invalidate_range_end,
  mmu_notifier_invalidate_range_start,
  mmu_notifier_range_init,
} from './mmu_notifier';
import {
  __pte_alloc,
  pgtable_trans_huge_deposit,
  pgtable_trans_huge_withdraw,
  pmdp_get,
  pte_offset_map,
  ptep_get,
  set_pmd_at,
  set_pte_at,
} from './pgtable-generic';
import { anon_vma_clone } from './rmap';

export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

/** copy_vma: a new VMA for [new_addr, new_addr + len) with the same flags, file, offset and anon_vma chain. */
function copy_vma(vma: vm_area_struct, new_addr: number, len: number): vm_area_struct {
  const copy: vm_area_struct = {
    vm_start: new_addr,
    vm_end: new_addr + len,
    vm_flags: vma.vm_flags,
    vm_pgoff: vma.vm_pgoff,
    vm_mm: vma.vm_mm,
    vm_file: vma.vm_file,
    anon_vma: null,
    anon_vma_chain: [],
  };
  anon_vma_clone(copy, vma);
  vma_insert(vma.vm_mm, copy);
  return copy;
}

/** move_huge_pmd: a whole, aligned huge PMD moves with its deposited table. */
function move_huge_pmd(mm: mm_struct, old_addr: number, new_addr: number): void {
  const pmd = pmdp_get(mm, old_addr);
  set_pmd_at(mm, old_addr, 0);
  pgtable_trans_huge_withdraw(mm, old_addr);
  pgtable_trans_huge_deposit(mm, new_addr);
  set_pmd_at(mm, new_addr, pmd);
}

/** move_ptes: each PTE moves to the new address; the pages keep their mappings and references. */
function move_ptes(mm: mm_struct, old_addr: number, new_addr: number, len: number): void {
  const src = pte_offset_map(mm, old_addr);
  if (!src) return;
  for (let off = 0; off < len; off += PAGE_SIZE) {
    const pte = ptep_get(src, old_addr + off);
    if (pte === 0) continue;
    set_pte_at(src, old_addr + off, 0);
    set_pte_at(__pte_alloc(mm, new_addr + off), new_addr + off, pte);
  }
}

/**
 * move_page_tables: move [old_addr, old_addr + len) of `vma` to `new_addr`.
 * Secondary MMUs see MMU_NOTIFY_UNMAP over the old range.
 */
function move_page_tables(
  m: Machine,
  vma: vm_area_struct,
  old_addr: number,
  new_addr: number,
  len: number,
): void {
  const mm = vma.vm_mm;
  const range = mmu_notifier_range_init('MMU_NOTIFY_UNMAP', mm, old_addr, old_addr + len);
  mmu_notifier_invalidate_range_start(range);
  for (let off = 0; off < len; ) {
    const old = old_addr + off;
    const extent = Math.min(PMD_SIZE - (old % PMD_SIZE), PMD_SIZE - ((new_addr + off) % PMD_SIZE), len - off);
    const pmd = pmdp_get(mm, old);
    if (!pmd_none(pmd) && !pmd_is_table(pmd)) {
      if (extent === PMD_SIZE) {
        move_huge_pmd(mm, old, new_addr + off);
        off += extent;
        continue;
      }
      __split_huge_pmd(m, vma, old - (old % PMD_SIZE));
    }
    move_ptes(mm, old, new_addr + off, extent);
    off += extent;
  }
  mmu_notifier_invalidate_range_end(range);
}

/**
 * do_mremap for a same-size move to a fixed address: the target range is
 * unmapped, a new VMA takes over the pages, and the old range is unmapped
 * (or, with MREMAP_DONTUNMAP, kept as an empty mapping). Returns the new
 * address or -errno.
 */
export function do_mremap(
  m: Machine,
  mm: mm_struct,
  addr: number,
  len: number,
  flags: number,
  new_addr: number,
): number {
  if (addr % PAGE_SIZE || new_addr % PAGE_SIZE || len <= 0 || len % PAGE_SIZE) return -EINVAL;
  if (!(flags & MREMAP_FIXED) || !(flags & MREMAP_MAYMOVE)) return -EINVAL;
  if (new_addr < addr + len && addr < new_addr + len) return -EINVAL;
  const vma = find_vma(mm, addr);
  if (!vma || vma.vm_start > addr || vma.vm_end < addr + len) return -EINVAL;
  do_vmi_munmap(m, mm, new_addr, len);
  const [src] = vma_split_range(m, mm, addr, addr + len);
  const dst = copy_vma(src, new_addr, len);
  move_page_tables(m, src, addr, dst.vm_start, len);
  if (!(flags & MREMAP_DONTUNMAP)) do_vmi_munmap(m, mm, addr, len);
  return new_addr;
}
