/*
 * Mirrors mm/filemap.c (filemap_fault, the page cache) and mm/shmem.c
 * (shmem_zero_setup for MAP_SHARED|MAP_ANONYMOUS).
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: a file is a fixed number of pages whose on-disk contents
 * are one word each; reading a page into the cache copies that word. Only
 * order-0 page-cache folios. No writeback: a dirty page stays dirty and its
 * contents stay in the cache for as long as the file exists. read() and
 * write() move whole pages, one word each, and never change the file's size.
 */

import { folio_get } from '../include/linux/mm';
import type { address_space } from '../include/linux/mm_types';
import { PG_dirty, PG_swapbacked, PG_uptodate } from '../include/linux/page-flags';
import type { Machine } from '../machine';
import type { vm_fault } from './memory';
import { __alloc_pages } from './page_alloc';

/** Create a file of `nr_pages` pages whose on-disk page i holds contents[i] (0 if not given). */
export function create_file(
  m: Machine,
  name: string,
  nr_pages: number,
  contents: number[] = [],
): address_space {
  const backing = new Uint32Array(nr_pages);
  backing.set(contents.slice(0, nr_pages));
  const mapping: address_space = {
    id: m.next_mapping_id++,
    name,
    shmem: false,
    i_pages: new Int32Array(nr_pages).fill(-1),
    backing,
    i_mmap: new Set(),
  };
  m.address_spaces.set(mapping.id, mapping);
  return mapping;
}

/** shmem_zero_setup: MAP_SHARED|MAP_ANONYMOUS memory is a zero-filled shmem object. */
export function shmem_zero_setup(m: Machine, nr_pages: number): address_space {
  const mapping: address_space = {
    id: m.next_mapping_id++,
    name: `dev/zero (shmem ${m.next_mapping_id - 1})`,
    shmem: true,
    i_pages: new Int32Array(nr_pages).fill(-1),
    backing: new Uint32Array(nr_pages),
    i_mmap: new Set(),
  };
  m.address_spaces.set(mapping.id, mapping);
  return mapping;
}

/**
 * filemap_get_folio / filemap_add_folio: the page-cache folio for `index`,
 * read in on a miss. The cache holds one reference of its own.
 */
export function filemap_get_folio(m: Machine, mapping: address_space, index: number): number {
  const cached = mapping.i_pages[index];
  if (cached >= 0) return cached;
  const folio = __alloc_pages(m, m.zone, 0);
  if (folio < 0) return -1;
  m.mem.data[folio] = mapping.backing[index];
  m.mem.flags[folio] |= PG_uptodate | (mapping.shmem ? PG_swapbacked : 0);
  m.mem.mapping[folio] = mapping.id;
  m.mem.index[folio] = index;
  mapping.i_pages[index] = folio;
  return folio;
}

/**
 * filemap_fault (or shmem_fault): look the page up, reading it on a miss, and
 * return it with a reference for the caller (which a new PTE takes over).
 * Returns -1 beyond the end of the file (SIGBUS).
 */
export function filemap_fault(m: Machine, vmf: vm_fault): number {
  const mapping = vmf.vma.vm_file;
  if (!mapping || vmf.pgoff >= mapping.i_pages.length) return -1;
  const folio = filemap_get_folio(m, mapping, vmf.pgoff);
  if (folio < 0) return -1;
  folio_get(m, folio);
  return folio;
}

/**
 * generic_perform_write (write() and pwrite() of a page-cache file): for
 * each page, write_begin finds the page-cache folio (reading it in on a
 * miss), the data is copied in, and write_end marks the folio dirty. Every
 * mapping of the file sees the new data at once: it is the same page.
 * Returns the number of pages written; a write stops at the end of the file.
 */
export function generic_perform_write(
  m: Machine,
  mapping: address_space,
  index: number,
  words: readonly number[],
): number {
  let n = 0;
  for (; n < words.length && index + n < mapping.i_pages.length; n++) {
    const folio = filemap_get_folio(m, mapping, index + n);
    if (folio < 0) break;
    m.mem.data[folio] = words[n] >>> 0;
    m.mem.flags[folio] |= PG_dirty;
  }
  return n;
}

/**
 * filemap_read (read() and pread() of a page-cache file): copy out each page
 * of [index, index + nr) from the page cache, reading it in on a miss. A
 * read stops at the end of the file.
 */
export function filemap_read(m: Machine, mapping: address_space, index: number, nr: number): number[] {
  const words: number[] = [];
  for (let k = 0; k < nr && index + k < mapping.i_pages.length; k++) {
    const folio = filemap_get_folio(m, mapping, index + k);
    if (folio < 0) break;
    words.push(m.mem.data[folio]);
  }
  return words;
}
