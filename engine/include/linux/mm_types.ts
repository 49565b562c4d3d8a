/*
 * Mirrors include/linux/mm_types.h: struct page / struct folio (as typed arrays),
 * vm_area_struct, mm_struct, anon_vma and address_space.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here:
 * - struct page is struct-of-arrays indexed by pfn (mem_map). A page or folio
 *   is passed around as its pfn; a folio is named by its head pfn.
 * - _mapcount is kept without the kernel's -1 bias: 0 means unmapped.
 * - The large-folio fields the kernel keeps in the first tail pages
 *   (_entire_mapcount, _large_mapcount, _pincount, _mm_id[]) live in arrays
 *   indexed by pfn >> HPAGE_PMD_ORDER. Large folios are PMD order and
 *   naturally aligned, so each pageblock holds at most one.
 * - `data` stands for the page's contents: one 32-bit word that copies and
 *   migrations must carry over.
 * - The maple tree is a sorted array; page tables are Maps of PMD index to a
 *   PMD value, plus one Uint32Array of 512 PTEs per PTE table.
 *
 * Memory per simulated page (issue 17; figures from `npm run bench`, which
 * measures heapUsed + arrayBuffers on a Kernel with N + 4096 pages of RAM,
 * all first-touched): today 24 bytes of struct page per pfn plus 4 of PTE.
 *
 *   field            width  per          why this width
 *   _refcount        4      pfn          a pin adds GUP_PIN_COUNTING_BIAS (1024): 16 bits hold only 63 pins
 *   _mapcount        4      pfn          could be 2 (a page mapped by > 32767 PTEs is rare: a side table)
 *   flags            2      pfn          14 PG_* bits in use
 *   order            1      pfn          only a head page needs it: could live per pageblock (large folios are PMD order)
 *   pgmap            1      pfn          ZONE_DEVICE ranges are contiguous: could be a range table
 *   data             4      pfn          the page's contents word, which copies and migrations carry
 *   mapping          4      pfn          anon_vma or address_space id; buddy "next" while free
 *   index            4      pfn          page offset; buddy "prev" while free
 *   large-folio      29     pageblock    _entire/_large_mapcount, _pincount, _mm_id*: 0.06 B per pfn
 *   PTE              4      mapped page  pfn in 24 bits, 8 flag bits (pgtable.ts)
 *
 * The target of 16 bytes in all is not met: order and pgmap out of the
 * per-pfn arrays and a 16-bit mapcount give 20 + 4 = 24; below that the
 * mapping and index words (8 bytes) would have to go too, e.g. an anonymous
 * folio's index derived from the one VMA that maps an exclusive page and
 * kept in a side table only once the page is shared or moved (mremap).
 */
import type { vm_fault } from '../../mm/memory';
import type { mmu_notifier_subscriptions } from '../../mm/mmu_notifier';
import type { dax_inode } from './dax';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const PMD_SHIFT = 21;
export const PMD_SIZE = 1 << PMD_SHIFT;
export const HPAGE_PMD_ORDER = PMD_SHIFT - PAGE_SHIFT;
export const HPAGE_PMD_NR = 1 << HPAGE_PMD_ORDER;
export const PTRS_PER_PTE = 512;
/** Page table entries keep the pfn in 24 bits: 64 GiB of simulated physical memory. */
export const MAX_PFN = 1 << 24;

/** The simulated struct page array: one slot per pfn in each typed array. */
export class mem_map {
  nr_pfns = 0;
  /** page->_refcount (tail pages stay at 0, as in the kernel). */
  _refcount = new Int32Array(0);
  /** Number of PTE-level mappings of this page (the kernel's _mapcount + 1). */
  _mapcount = new Int32Array(0);
  flags = new Uint16Array(0);
  /** folio_order(), kept on the head page. */
  order = new Uint8Array(0);
  /** Index into Machine.pgmaps; 0 for ordinary RAM (page_pgmap()). */
  pgmap = new Uint8Array(0);
  /** The page's contents, reduced to one word. */
  data = new Uint32Array(0);
  /** folio->mapping: anon_vma id (PG_anon) or address_space id; buddy list "next" while free. */
  mapping = new Int32Array(0);
  /** folio->index (page offset in the anon_vma or file); buddy list "prev" while free. */
  index = new Int32Array(0);
  /* Large-folio fields, indexed by pfn >> HPAGE_PMD_ORDER. */
  _entire_mapcount = new Int32Array(0);
  _large_mapcount = new Int32Array(0);
  _pincount = new Int32Array(0);
  _mm_id0 = new Int32Array(0);
  _mm_id1 = new Int32Array(0);
  _mm_id_mapcount0 = new Int32Array(0);
  _mm_id_mapcount1 = new Int32Array(0);
  /** The folio may be mapped by more than one mm (the kernel's FOLIO_MM_IDS_SHARED bit). */
  _mm_ids_shared = new Uint8Array(0);

  /** Extends the array to hold `nr` pfns (memory hot-add, memremap_pages). */
  grow(nr: number): void {
    if (nr <= this.nr_pfns) return;
    const blocks = Math.ceil(nr / HPAGE_PMD_NR);
    const g32 = (a: Int32Array, n: number) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this._refcount = g32(this._refcount, nr);
    this._mapcount = g32(this._mapcount, nr);
    this.mapping = g32(this.mapping, nr);
    this.index = g32(this.index, nr);
    const flags = new Uint16Array(nr);
    flags.set(this.flags);
    this.flags = flags;
    const order = new Uint8Array(nr);
    order.set(this.order);
    this.order = order;
    const pgmap = new Uint8Array(nr);
    pgmap.set(this.pgmap);
    this.pgmap = pgmap;
    const data = new Uint32Array(nr);
    data.set(this.data);
    this.data = data;
    this._entire_mapcount = g32(this._entire_mapcount, blocks);
    this._large_mapcount = g32(this._large_mapcount, blocks);
    this._pincount = g32(this._pincount, blocks);
    this._mm_id0 = g32(this._mm_id0, blocks);
    this._mm_id1 = g32(this._mm_id1, blocks);
    this._mm_id_mapcount0 = g32(this._mm_id_mapcount0, blocks);
    this._mm_id_mapcount1 = g32(this._mm_id_mapcount1, blocks);
    const shared = new Uint8Array(blocks);
    shared.set(this._mm_ids_shared);
    this._mm_ids_shared = shared;
    this.nr_pfns = nr;
  }

  /** Bytes held by the arrays, for the benchmark's bytes-per-page figure. */
  byteLength(): number {
    return [
      this._refcount,
      this._mapcount,
      this.flags,
      this.order,
      this.pgmap,
      this.data,
      this.mapping,
      this.index,
      this._entire_mapcount,
      this._large_mapcount,
      this._pincount,
      this._mm_id0,
      this._mm_id1,
      this._mm_id_mapcount0,
      this._mm_id_mapcount1,
      this._mm_ids_shared,
    ].reduce((sum, a) => sum + a.byteLength, 0);
  }
}

/** Per-mm rss counters (enum mm_counter_type in the kernel). */
export const MM_FILEPAGES = 0;
export const MM_ANONPAGES = 1;
export const MM_SWAPENTS = 2;
export const MM_SHMEMPAGES = 3;
export const NR_MM_COUNTERS = 4;
export const MM_COUNTER_NAMES = ['MM_FILEPAGES', 'MM_ANONPAGES', 'MM_SWAPENTS', 'MM_SHMEMPAGES'] as const;

/** struct anon_vma: the set of VMAs whose page tables may map pages of this anon_vma. */
export interface anon_vma {
  readonly id: number;
  /** The anon_vma_chain entries pointing here (the kernel's rb_root interval tree). */
  readonly vmas: Set<vm_area_struct>;
}

/** struct address_space with its page cache, for a file (or a shmem object behind MAP_SHARED|MAP_ANONYMOUS). */
export interface address_space {
  readonly id: number;
  readonly name: string;
  /** shmem (anonymous shared memory): its pages are swap-backed and counted in MM_SHMEMPAGES. */
  readonly shmem: boolean;
  /** Page cache: pfn of the cached page for each page offset, -1 when not cached (the xarray i_pages). */
  i_pages: Int32Array;
  /** Contents of pages not in the cache: what a read from "disk" returns. */
  readonly backing: Uint32Array;
  /** VMAs mapping this file (i_mmap). */
  readonly i_mmap: Set<vm_area_struct>;
  /** file->f_op->mmap of a device file: populates the new VMA itself. Returns 0 or -errno. */
  readonly f_op_mmap?: (vma: vm_area_struct) => number;
  /**
   * The vm_ops that the file's f_op->mmap installs in each of its VMAs (kept on
   * the file, so a split or forked VMA keeps them). Absent: filemap_fault.
   */
  readonly vm_ops?: vm_operations_struct;
  /** IS_DAX: the file's pages are device pages mapped directly (fs/dax.c). */
  readonly dax?: dax_inode;
}

/** struct vm_operations_struct: the fault callbacks a file provides. Each returns a vm_fault_t. */
export interface vm_operations_struct {
  fault?(vmf: vm_fault): number;
  /** A write to a read-only PTE of a shared mapping that maps a page (wp_page_shared). */
  page_mkwrite?(vmf: vm_fault): number;
  /** A write to a read-only PTE of a shared mapping without a normal page, or of FS-DAX (wp_pfn_shared). */
  pfn_mkwrite?(vmf: vm_fault): number;
  /** The VMA is going away (remove_vma → vma_close); hugetlb returns its unused reservations. */
  close?(vma: vm_area_struct): void;
  /** __split_vma asks first: 0, or -errno to refuse a split at addr (hugetlb: not huge-page aligned). */
  may_split?(vma: vm_area_struct, addr: number): number;
}

export interface vm_area_struct {
  vm_start: number;
  vm_end: number;
  vm_flags: number;
  /** Offset, in pages, of vm_start within the file or anon_vma index space. */
  vm_pgoff: number;
  readonly vm_mm: mm_struct;
  vm_file: address_space | null;
  anon_vma: anon_vma | null;
  /** Every anon_vma this VMA is chained into (anon_vma_chain). */
  anon_vma_chain: anon_vma[];
  /** The driver's or filesystem's own data (hugetlb: the reservation map of a private mapping). */
  vm_private_data?: unknown;
}

export interface mm_struct {
  readonly id: number;
  /** VMAs sorted by vm_start (the maple tree). */
  mmap: vm_area_struct[];
  /** PMD index (addr >> PMD_SHIFT) to PMD value; absent means pmd_none. */
  readonly pmd: Map<number, number>;
  /** PTE tables, by PMD index, for PMDs that point to a table. */
  readonly pte_tables: Map<number, Uint32Array>;
  /** Page tables deposited for huge PMDs (pgtable_trans_huge_deposit). */
  readonly deposited: Map<number, Uint32Array>;
  readonly rss_stat: Int32Array;
  /** hugetlb_usage: pages of hugetlb folios mapped, which rss_stat does not count. */
  hugetlb_usage: number;
  /** MMF_* bits. */
  flags: number;
  /** write_protect_seq: odd while fork write-protects this mm. */
  write_protect_seq: number;
  readonly notifier_subscriptions: mmu_notifier_subscriptions;
  /** Cleared by exit_mmap. */
  alive: boolean;
}

/** MMF_HAS_PINNED: some FOLL_PIN ever succeeded on this mm; never cleared. */
export const MMF_HAS_PINNED = 1 << 0;

export interface task_struct {
  readonly pid: number;
  readonly comm: string;
  mm: mm_struct | null;
  /** Set by do_exit: the wait status a parent's waitpid reads (exit status << 8, or the fatal signal). */
  exit_code?: number;
  /** The parent's wait reaped this zombie. */
  reaped?: boolean;
}
