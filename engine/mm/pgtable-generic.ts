/*
 * Mirrors mm/pgtable-generic.c and the page-table walking helpers of
 * include/linux/pgtable.h (pmd_off, pte_offset_map, set_pte_at, __pte_alloc,
 * pgtable_trans_huge_deposit/withdraw).
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: only the PMD and PTE levels exist; there is no page-table
 * lock, so no PTL and no pte_offset_map_lock retry.
 */
import { type mm_struct, PTRS_PER_PTE } from '../include/linux/mm_types';
import { PMD_TABLE, pmd_index, pmd_is_table, pte_index } from '../include/linux/pgtable';

export const pmdp_get = (mm: mm_struct, addr: number): number => mm.pmd.get(pmd_index(addr)) ?? 0;

export function set_pmd_at(mm: mm_struct, addr: number, pmd: number): void {
  if (pmd === 0) mm.pmd.delete(pmd_index(addr));
  else mm.pmd.set(pmd_index(addr), pmd >>> 0);
}

/** pte_offset_map: the PTE table under the PMD covering addr, or null when that PMD is none or a leaf. */
export function pte_offset_map(mm: mm_struct, addr: number): Uint32Array | null {
  const idx = pmd_index(addr);
  return pmd_is_table(mm.pmd.get(idx) ?? 0) ? (mm.pte_tables.get(idx) ?? null) : null;
}

/** __pte_alloc: populate a none PMD with an empty PTE table. */
export function __pte_alloc(mm: mm_struct, addr: number): Uint32Array {
  const idx = pmd_index(addr);
  const existing = pte_offset_map(mm, addr);
  if (existing) return existing;
  const table = new Uint32Array(PTRS_PER_PTE);
  mm.pte_tables.set(idx, table);
  mm.pmd.set(idx, PMD_TABLE);
  return table;
}

export const ptep_get = (table: Uint32Array, addr: number): number => table[pte_index(addr)];
export function set_pte_at(table: Uint32Array, addr: number, pte: number): void {
  table[pte_index(addr)] = pte;
}

/** pgtable_trans_huge_deposit: keep a PTE table aside for when the huge PMD is split. */
export function pgtable_trans_huge_deposit(mm: mm_struct, addr: number): void {
  mm.deposited.set(pmd_index(addr), new Uint32Array(PTRS_PER_PTE));
}

/** pgtable_trans_huge_withdraw. */
export function pgtable_trans_huge_withdraw(mm: mm_struct, addr: number): Uint32Array {
  const idx = pmd_index(addr);
  const table = mm.deposited.get(idx) ?? new Uint32Array(PTRS_PER_PTE);
  mm.deposited.delete(idx);
  return table;
}

/** pmdp_collapse_flush: clear a PMD that points at a PTE table and hand the table back (khugepaged collapse). */
export function pmdp_collapse_flush(mm: mm_struct, addr: number): Uint32Array {
  const idx = pmd_index(addr);
  const table = mm.pte_tables.get(idx) ?? new Uint32Array(PTRS_PER_PTE);
  mm.pte_tables.delete(idx);
  mm.pmd.delete(idx);
  return table;
}

/** pmd_populate: make the PMD point at `table`. */
export function pmd_populate(mm: mm_struct, addr: number, table: Uint32Array): void {
  const idx = pmd_index(addr);
  mm.pte_tables.set(idx, table);
  mm.pmd.set(idx, PMD_TABLE);
}

/** free_pte_range: drop an (empty) PTE table and clear its PMD. */
export function free_pte_range(mm: mm_struct, idx: number): void {
  mm.pte_tables.delete(idx);
  mm.deposited.delete(idx);
  mm.pmd.delete(idx);
}
