/*
 * Mirrors arch/x86/mm/fault.c (do_user_addr_fault) and the CPU's own page
 * walk: how a user-space load or store reaches handle_mm_fault, and what
 * signal it gets when it cannot be satisfied.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: no stack expansion, no pkeys. A store sets the page's
 * contents word; a load returns it. The hardware sets the young and dirty bits.
 */

import {
  FAULT_FLAG_USER,
  FAULT_FLAG_WRITE,
  VM_ACCESS_FLAGS,
  VM_FAULT_HWPOISON,
  VM_FAULT_OOM,
  VM_FAULT_RETRY,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
  VM_WRITE,
} from '../../include/linux/mm';
import { HPAGE_PMD_ORDER, type mm_struct, PAGE_SIZE } from '../../include/linux/mm_types';
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  pmd_pfn,
  pmd_trans_huge,
  pte_pfn,
  pte_present,
  pte_protnone,
  pte_write,
} from '../../include/linux/pgtable';
import type { Machine } from '../../machine';
import { handle_mm_fault } from '../../mm/memory';
import { find_vma } from '../../mm/mmap';
import { pmdp_get, pte_offset_map, set_pmd_at } from '../../mm/pgtable-generic';

/** What a user access ended in, when it did not complete. */
export type user_access_fault = 'SIGSEGV' | 'SIGBUS' | 'OOM' | 'waiting on migration' | 'no progress';

/** The CPU's page walk: do the access if the TLB-visible entry allows it; otherwise -1. */
function hw_access(m: Machine, mm: mm_struct, addr: number, write: boolean, value: number): number {
  const pmd = pmdp_get(mm, addr);
  if (pmd_trans_huge(pmd)) {
    if (write && !pte_write(pmd)) return -1;
    set_pmd_at(mm, addr, pmd | _PAGE_ACCESSED | (write ? _PAGE_DIRTY : 0));
    return touch(m, pmd_pfn(pmd) + ((addr / PAGE_SIZE) & ((1 << HPAGE_PMD_ORDER) - 1)), write, value);
  }
  const table = pte_offset_map(mm, addr);
  if (!table) return -1;
  const i = (addr / PAGE_SIZE) & 511;
  const pte = table[i];
  if (!pte_present(pte) || pte_protnone(pte) || (write && !pte_write(pte))) return -1;
  table[i] = (pte | _PAGE_ACCESSED | (write ? _PAGE_DIRTY : 0)) >>> 0;
  return touch(m, pte_pfn(pte), write, value);
}

function touch(m: Machine, pfn: number, write: boolean, value: number): number {
  if (write) m.mem.data[pfn] = value;
  return m.mem.data[pfn];
}

/** do_user_addr_fault: bad_area checks, then handle_mm_fault; returns a signal or null. */
function do_user_addr_fault(
  m: Machine,
  mm: mm_struct,
  addr: number,
  write: boolean,
): user_access_fault | null {
  const vma = find_vma(mm, addr);
  if (!vma) return 'SIGSEGV';
  /* access_error */
  if (write ? !(vma.vm_flags & VM_WRITE) : !(vma.vm_flags & VM_ACCESS_FLAGS)) return 'SIGSEGV';
  const ret = handle_mm_fault(m, vma, addr, FAULT_FLAG_USER | (write ? FAULT_FLAG_WRITE : 0));
  if (ret & VM_FAULT_OOM) return 'OOM';
  if (ret & (VM_FAULT_SIGBUS | VM_FAULT_HWPOISON)) return 'SIGBUS';
  if (ret & VM_FAULT_SIGSEGV) return 'SIGSEGV';
  if (ret & VM_FAULT_RETRY) return 'waiting on migration';
  return null;
}

export interface user_access_result {
  /** The word each page held (after a store, the stored word). */
  readonly values: number[];
  /** Set when the access stopped early, with the address it stopped at. */
  readonly fault: user_access_fault | null;
  readonly fault_address: number;
}

/**
 * What a store writes into each page: one word for every page, a word per
 * page, or a read-modify-write of each page's word (a load, then a store, as
 * `ptr[i]++` does).
 */
export type user_store = number | readonly number[] | ((old: number, page: number) => number);

/**
 * One access to one page, faulting it in as the CPU would. A fault handler
 * that returns 0 without mapping the page makes the CPU run the instruction
 * again, and fault again: on a kernel the task spins until something changes
 * (a device driver's migrate_to_ram that could not migrate the page, because
 * someone else holds a reference, returns 0 so). The engine tries three
 * times and reports 'no progress'; it used to report SIGSEGV, which the
 * kernel never sends there (npm run explore, 7 steps).
 */
function access_one(
  m: Machine,
  mm: mm_struct,
  va: number,
  write: boolean,
  value: number,
): number | { fault: user_access_fault } {
  let v = hw_access(m, mm, va, write, value);
  for (let tries = 0; v < 0 && tries < 3; tries++) {
    const fault = do_user_addr_fault(m, mm, va, write);
    if (fault) return { fault };
    v = hw_access(m, mm, va, write, value);
  }
  return v < 0 ? { fault: 'no progress' } : v;
}

/** A user load (write = false) or store of one word into each of nr_pages pages from addr. */
export function user_access(
  m: Machine,
  mm: mm_struct,
  addr: number,
  nr_pages: number,
  write: boolean,
  value: user_store = 0,
): user_access_result {
  if (Array.isArray(value) && value.length !== nr_pages)
    throw new RangeError(`a store of ${value.length} words to ${nr_pages} pages`);
  const values: number[] = [];
  for (let i = 0; i < nr_pages; i++) {
    const va = addr + i * PAGE_SIZE;
    let word: number;
    if (!write) word = 0;
    else if (typeof value === 'number') word = value;
    else if (typeof value === 'function') {
      const old = access_one(m, mm, va, false, 0);
      if (typeof old !== 'number') return { values, fault: old.fault, fault_address: va };
      word = value(old, i) >>> 0;
    } else word = (value as readonly number[])[i] >>> 0;
    const v = access_one(m, mm, va, write, word);
    if (typeof v !== 'number') return { values, fault: v.fault, fault_address: va };
    values.push(v);
  }
  return { values, fault: null, fault_address: -1 };
}
