/*
 * Mirrors mm/gup.c: get_user_pages / pin_user_pages (slow path and GUP-fast),
 * try_grab_folio, gup_put_folio, the follow_page_mask walk with its unshare
 * rule, and FOLL_LONGTERM's check_and_migrate_movable_folios.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: system RAM has no ZONE_MOVABLE or CMA, so only
 * ZONE_DEVICE folios are ever unpinnable long-term. The huge zero folio is
 * never grabbed: a GUP of it pins nothing, like the small zero page. Devmap
 * PTEs (the old FS-DAX design, MachineConfig.devmap_refcount) are walked as
 * v5.15 did: through get_dev_pagemap, on both paths.
 */

import { vma_is_fsdax } from '../include/linux/dax';
import {
  type dev_pagemap,
  MEMORY_DEVICE_COHERENT,
  MEMORY_DEVICE_FS_DAX,
  MEMORY_DEVICE_PRIVATE,
} from '../include/linux/memremap';
import {
  EAGAIN,
  EBUSY,
  EFAULT,
  EINVAL,
  ENOMEM,
  EOPNOTSUPP,
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_UNSHARE,
  FAULT_FLAG_WRITE,
  FOLL_FAST_ONLY,
  FOLL_FORCE,
  FOLL_GET,
  FOLL_LONGTERM,
  FOLL_PCI_P2PDMA,
  FOLL_PIN,
  FOLL_SPLIT_PMD,
  FOLL_WRITE,
  folio_has_pincount,
  folio_is_zone_device,
  folio_test_anon,
  folio_test_hugetlb,
  GUP_PIN_COUNTING_BIAS,
  is_cow_mapping,
  is_huge_zero_pfn,
  is_vm_hugetlb_page,
  is_zero_pfn,
  PageAnonExclusive,
  page_folio,
  VM_FAULT_ERROR,
  VM_FAULT_OOM,
  VM_FAULT_RETRY,
  VM_IO,
  VM_MAYREAD,
  VM_PFNMAP,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  vma_is_accessible,
} from '../include/linux/mm';
import {
  HPAGE_PMD_ORDER,
  MMF_HAS_PINNED,
  type mm_struct,
  PAGE_SIZE,
  PMD_SIZE,
  type vm_area_struct,
} from '../include/linux/mm_types';
import {
  pmd_pfn,
  pmd_trans_huge,
  pte_devmap,
  pte_pfn,
  pte_present,
  pte_protnone,
  pte_special,
  pte_write,
} from '../include/linux/pgtable';
import type { Machine } from '../machine';
import { __split_huge_pmd } from './huge_memory';
import { handle_mm_fault, vm_normal_page } from './memory';
import { get_dev_pagemap, page_pgmap, put_dev_pagemap, put_devmap_managed_folio_refs } from './memremap';
import { migrate_device_coherent_folio } from './migrate_device';
import { find_vma } from './mmap';
import { pte_needs_soft_dirty_wp } from './mprotect';
import { pmdp_get, pte_offset_map, ptep_get } from './pgtable-generic';
import { folio_put_refs } from './swap';

/** follow_page_mask found no usable page: the caller must fault (faultin_page) and retry. */
const NEED_FAULT = -1;
/** -EMLINK from follow_page_mask: a read-only pin of a shared anonymous page must unshare first. */
const MUST_UNSHARE = -2;

/**
 * gup_must_unshare: a FOLL_PIN without FOLL_WRITE must not pin a page that is
 * shared by CoW, or a later write by either process would leave the pin
 * looking at a stale copy. Anonymous pages must be exclusive; in a COW
 * mapping, a long-term pin of a non-anonymous page (file, zero page) unshares too.
 * GUP-fast has no VMA (vma null): there a long-term R/O pin of a
 * non-anonymous page always goes to the slow path, which can ask the VMA.
 */
export function gup_must_unshare(
  m: Machine,
  vma: vm_area_struct | null,
  flags: number,
  page: number,
): boolean {
  if ((flags & (FOLL_WRITE | FOLL_PIN)) !== FOLL_PIN) return false;
  /* Before v5.19 (a7f226604170) nothing unshared for a R/O pin. */
  if (m.config.ro_pin_unshare === 'none') return false;
  if (is_zero_pfn(m, page) || !folio_test_anon(m, page_folio(m, page))) {
    if (!(flags & FOLL_LONGTERM)) return false;
    if (!vma) return true;
    return is_cow_mapping(vma.vm_flags);
  }
  return !PageAnonExclusive(m, page);
}

/**
 * can_follow_write_pte / can_follow_write_pmd: a FOLL_WRITE lookup needs a
 * writable entry, except that FOLL_FORCE may write through a read-only
 * private mapping to an exclusive anonymous page (ptrace pokes), unless a
 * write fault is due for another reason: soft-dirty tracking wants one on an
 * entry not written since clear_refs (pte_needs_soft_dirty_wp), and the fault
 * sets the bit.
 */
function can_follow_write(
  m: Machine,
  vma: vm_area_struct,
  flags: number,
  entry: number,
  page: number,
): boolean {
  if (pte_write(entry)) return true;
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent here: a read-only PTE of an exclusive anonymous page in a writable VMA comes only from clear_refs, which the soft-dirty check below catches (no uffd-wp in the engine)
  if (!(flags & FOLL_FORCE) || vma.vm_flags & VM_WRITE || !is_cow_mapping(vma.vm_flags)) return false;
  if (
    // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: page < 0 cannot reach here (the PMD path passes pmd_pfn, the PTE path a page or the zero pfn); is_zero_pfn stands for the kernel's !page
    page < 0 ||
    is_zero_pfn(m, page) ||
    !folio_test_anon(m, page_folio(m, page)) ||
    !PageAnonExclusive(m, page)
  )
    return false;
  return !pte_needs_soft_dirty_wp(vma, entry);
}

/** follow_page_context: the pagemap reference a walk holds while it hands out devmap pages. */
interface follow_page_context {
  pgmap: dev_pagemap | null;
}

/**
 * get_dev_pagemap with a cached pagemap, as GUP calls it: keep the reference
 * already held if it covers pfn, else trade it for one on pfn's pagemap.
 */
function gup_get_dev_pagemap(m: Machine, pfn: number, ctx: follow_page_context): dev_pagemap | null {
  const cached = ctx.pgmap;
  if (cached && pfn >= cached.range.start && pfn < cached.range.start + cached.range.nr) return cached;
  if (cached) put_dev_pagemap(m, cached);
  ctx.pgmap = get_dev_pagemap(m, pfn);
  return ctx.pgmap;
}

/**
 * gup_can_follow_protnone, with FOLL_HONOR_NUMA_FAULT, which
 * is_valid_gup_args sets for every GUP (NUMA hinting is not modelled): a
 * PROT_NONE entry in an accessible VMA is a NUMA hint to fault on, one in a
 * PROT_NONE VMA (reached with FOLL_FORCE, check_vma_flags) is followed, so
 * that ptrace can read it. The engine's PROT_NONE entries are all of the
 * second kind.
 */
function gup_can_follow_protnone(vma: vm_area_struct): boolean {
  return !vma_is_accessible(vma);
}

/** follow_page_mask: the page mapped at addr if GUP may take it as it is. */
function follow_page_mask(
  m: Machine,
  vma: vm_area_struct,
  addr: number,
  flags: number,
  ctx: follow_page_context,
): number {
  const mm = vma.vm_mm;
  let pmd = pmdp_get(mm, addr);
  if (pmd_trans_huge(pmd) && flags & FOLL_SPLIT_PMD) {
    __split_huge_pmd(m, vma, addr - (addr % PMD_SIZE));
    pmd = pmdp_get(mm, addr);
  }
  if (pmd_trans_huge(pmd)) {
    /* follow_huge_pmd */
    const page = pmd_pfn(pmd) + ((addr >> 12) & ((1 << HPAGE_PMD_ORDER) - 1));
    if (flags & FOLL_WRITE && !can_follow_write(m, vma, flags, pmd, pmd_pfn(pmd))) return NEED_FAULT;
    /*
     * The huge zero page is followed as any PMD is (follow_huge_pmd): a
     * long-term R/O pin in a COW mapping unshares it (gup_must_unshare: not
     * an anonymous folio), and otherwise the subpage at addr is what GUP
     * takes. The engine used to hand back the 4 KiB zero page here without
     * the unshare check, so a long-term R/O pin never saw the process's
     * later write (npm run explore, 5 steps).
     */
    if (!pte_write(pmd) && gup_must_unshare(m, vma, flags, pmd_pfn(pmd))) return MUST_UNSHARE;
    return page;
  }
  const table = pte_offset_map(mm, addr);
  const pte = table ? ptep_get(table, addr) : 0;
  /* None and non-present (device-private, migration, device-exclusive) entries need a fault. */
  if (!pte_present(pte)) return NEED_FAULT;
  // Stryker disable next-line ConditionalExpression: equivalent: the engine has no NUMA hinting, so every PROT_NONE entry is in a PROT_NONE VMA
  if (pte_protnone(pte) && !gup_can_follow_protnone(vma)) return NEED_FAULT;
  let page = vm_normal_page(m, vma, addr, pte);
  if (pte_devmap(pte) && flags & (FOLL_GET | FOLL_PIN)) {
    /*
     * follow_page_pte, old design: a devmap page holds no reference for its
     * PTE, so it is valid only while the walk holds its pagemap; a dying
     * pagemap makes the page unreachable (no_page).
     */
    if (!gup_get_dev_pagemap(m, pte_pfn(pte), ctx)) return NEED_FAULT;
    page = pte_pfn(pte);
    // Stryker disable next-line EqualityOperator: pfn 0 is reserved, never a user page
  } else if (page < 0) {
    if (!is_zero_pfn(m, pte_pfn(pte))) return -EFAULT;
    page = m.zero_pfn;
  }
  if (flags & FOLL_WRITE && !can_follow_write(m, vma, flags, pte, page)) return NEED_FAULT;
  if (!pte_write(pte) && gup_must_unshare(m, vma, flags, page)) return MUST_UNSHARE;
  return page;
}

/**
 * try_grab_folio: FOLL_GET adds one reference per ref; FOLL_PIN adds
 * GUP_PIN_COUNTING_BIAS per ref to a small folio, or one reference and one
 * pincount to a large one. The shared zero page is never counted.
 */
export function try_grab_folio(m: Machine, folio: number, refs: number, flags: number): number {
  if (m.mem._refcount[folio] <= 0) return -ENOMEM;
  if (flags & FOLL_GET) m.mem._refcount[folio] += refs;
  // Stryker disable next-line ConditionalExpression: equivalent: every GUP entry point sets FOLL_GET or FOLL_PIN (is_valid_gup_args)
  else if (flags & FOLL_PIN) {
    if (is_zero_pfn(m, folio)) return 0;
    if (folio_has_pincount(m, folio)) {
      m.mem._refcount[folio] += refs;
      m.mem._pincount[folio >> HPAGE_PMD_ORDER] += refs;
    } else m.mem._refcount[folio] += refs * GUP_PIN_COUNTING_BIAS;
  }
  return 0;
}

/** gup_put_folio: undo try_grab_folio (an old-design FS-DAX page goes through put_devmap_managed_folio_refs). */
export function gup_put_folio(m: Machine, folio: number, refs: number, flags: number): void {
  if (flags & FOLL_PIN) {
    // Stryker disable next-line ConditionalExpression: equivalent: folio_put_refs ignores the PG_reserved zero page
    if (is_zero_pfn(m, folio)) return;
    if (folio_has_pincount(m, folio)) m.mem._pincount[folio >> HPAGE_PMD_ORDER] -= refs;
    else refs *= GUP_PIN_COUNTING_BIAS;
  }
  if (!put_devmap_managed_folio_refs(m, folio, refs)) folio_put_refs(m, folio, refs);
}

/**
 * writable_file_mapping_allowed: a long-term writable pin of a file page that
 * needs dirty tracking (a shared, non-shmem file mapping) is refused.
 */
function writable_file_mapping_allowed(vma: vm_area_struct, flags: number): boolean {
  if ((flags & (FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE)) !== (FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE))
    return true;
  if (!vma.vm_file || vma.vm_file.shmem) return true;
  /* A device-DAX character device neither writes pages back nor asks for write notification. */
  if (vma.vm_file.dax?.chardev) return true;
  return !(vma.vm_flags & VM_SHARED);
}

/**
 * check_vma_flags: may GUP use this VMA with these flags? A long-term pin of
 * an FS-DAX file is refused outright: truncate must be able to take a DAX
 * block back, and cannot while a pin holds its page indefinitely (S003-7).
 * FOLL_SPLIT_PMD cannot split a hugetlb page. A write needs VM_WRITE, or
 * FOLL_FORCE in a private (COW) mapping that is not hugetlb; a read needs
 * VM_READ, or FOLL_FORCE and VM_MAYREAD.
 */
function check_vma_flags(vma: vm_area_struct, flags: number): number {
  if (vma.vm_flags & (VM_IO | VM_PFNMAP)) return -EFAULT;
  if (flags & FOLL_LONGTERM && vma_is_fsdax(vma)) return -EOPNOTSUPP;
  if (flags & FOLL_SPLIT_PMD && is_vm_hugetlb_page(vma)) return -EOPNOTSUPP;
  if (flags & FOLL_WRITE) {
    if (!writable_file_mapping_allowed(vma, flags)) return -EFAULT;
    if (!(vma.vm_flags & VM_WRITE)) {
      if (!(flags & FOLL_FORCE)) return -EFAULT;
      if (is_vm_hugetlb_page(vma)) return -EFAULT;
      if (!is_cow_mapping(vma.vm_flags)) return -EFAULT;
    }
  } else if (!(vma.vm_flags & VM_READ)) {
    if (!(flags & FOLL_FORCE)) return -EFAULT;
    // Stryker disable next-line ConditionalExpression: equivalent: every engine VMA has VM_MAYREAD (do_mmap)
    if (!(vma.vm_flags & VM_MAYREAD)) return -EFAULT;
  }
  return 0;
}

/** faultin_page: fault the page in (or unshare it) as a user access would. */
function faultin_page(
  m: Machine,
  vma: vm_area_struct,
  addr: number,
  flags: number,
  unshare: boolean,
): number {
  let fault_flags = FAULT_FLAG_REMOTE;
  if (flags & FOLL_WRITE) fault_flags |= FAULT_FLAG_WRITE;
  if (unshare) fault_flags |= FAULT_FLAG_UNSHARE;
  const ret = handle_mm_fault(m, vma, addr, fault_flags);
  if (ret & VM_FAULT_OOM) return -ENOMEM;
  // Stryker disable next-line ConditionalExpression: equivalent: without it the retry bound in __get_user_pages also ends in -EFAULT
  if (ret & VM_FAULT_ERROR) return -EFAULT;
  if (ret & VM_FAULT_RETRY) return -EAGAIN;
  return 0;
}

/**
 * is_valid_gup_args: FOLL_GET and FOLL_PIN exclude each other, FOLL_LONGTERM
 * needs FOLL_PIN, and cannot be combined with FOLL_PCI_P2PDMA.
 */
function is_valid_gup_args(flags: number): boolean {
  if (flags & FOLL_GET && flags & FOLL_PIN) return false;
  if (flags & FOLL_LONGTERM && !(flags & FOLL_PIN)) return false;
  if (flags & FOLL_LONGTERM && flags & FOLL_PCI_P2PDMA) return false;
  return true;
}

// Stryker disable all: debug_vm's own count of pins and references, the checker's bookkeeping, not the kernel's
/** Keeps debug_vm's own count of pins and FOLL_GET references (see Machine.debug_pins, debug_gets). */
function debug_count_pin(m: Machine, folio: number, flags: number, delta: number): void {
  if (flags & FOLL_GET) {
    const gets = (m.debug_gets.get(folio) ?? 0) + delta;
    if (gets <= 0) m.debug_gets.delete(folio);
    else m.debug_gets.set(folio, gets);
  }
  if (!(flags & FOLL_PIN) || is_zero_pfn(m, folio)) return;
  const c = m.debug_pins.get(folio) ?? { pins: 0, longterm: 0 };
  c.pins += delta;
  if (flags & FOLL_LONGTERM) c.longterm += delta;
  if (c.pins <= 0) m.debug_pins.delete(folio);
  else m.debug_pins.set(folio, c);
}
// Stryker restore all

/**
 * __get_user_pages: look up (faulting in where needed) and grab nr_pages pages
 * from start. Returns how many were grabbed, or a negative errno if none was.
 */
export function __get_user_pages(
  m: Machine,
  mm: mm_struct,
  start: number,
  nr_pages: number,
  flags: number,
  pages: number[],
): number {
  // Stryker disable next-line ObjectLiteral: equivalent: an undefined pgmap is as falsy as null
  const ctx: follow_page_context = { pgmap: null };
  try {
    return __get_user_pages_walk(m, mm, start, nr_pages, flags, pages, ctx);
  } finally {
    if (ctx.pgmap) put_dev_pagemap(m, ctx.pgmap);
  }
}

/** The loop of __get_user_pages; the caller drops the walk's pagemap reference at the end (out:). */
function __get_user_pages_walk(
  m: Machine,
  mm: mm_struct,
  start: number,
  nr_pages: number,
  flags: number,
  pages: number[],
  ctx: follow_page_context,
): number {
  for (let i = 0; i < nr_pages; i++) {
    const addr = start + i * PAGE_SIZE;
    const vma = find_vma(mm, addr);
    const err = vma ? check_vma_flags(vma, flags) : -EFAULT;
    if (err) return i ? i : err;
    const v = vma as vm_area_struct;
    let page = follow_page_mask(m, v, addr, flags, ctx);
    // Stryker disable next-line all: the kernel retries without bound; the engine's bound of 3 only stops a livelock, and every fault the engine takes makes progress or fails
    for (let tries = 0; page < 0 && tries < 3; tries++) {
      if (page !== NEED_FAULT && page !== MUST_UNSHARE) return i ? i : page;
      const ret = faultin_page(m, v, addr, flags, page === MUST_UNSHARE);
      if (ret) return i ? i : ret;
      page = follow_page_mask(m, v, addr, flags, ctx);
    }
    // Stryker disable next-line ConditionalExpression,EqualityOperator: the livelock guard of the bound above; pfn 0 is never a user page
    if (page < 0) return i ? i : -EFAULT;
    const folio = page_folio(m, page);
    const ret = try_grab_folio(m, folio, 1, flags);
    if (ret) return i ? i : ret;
    debug_count_pin(m, folio, flags, 1);
    pages.push(page);
  }
  return nr_pages;
}

/**
 * folio_is_longterm_pinnable: may this folio be pinned indefinitely? Not
 * DEVICE_COHERENT memory (its driver must be able to evict it), and not
 * FS-DAX (truncate cannot leave a DAX page pinned). The FS-DAX clause came
 * with Popple's series (≈v6.15, the fixed devmap design), when the pte_devmap
 * checks it replaced were about to go; before it, only those checks and
 * check_vma_flags kept long-term pins off FS-DAX.
 */
export function folio_is_longterm_pinnable(m: Machine, folio: number): boolean {
  // Stryker disable next-line ConditionalExpression,BooleanLiteral: equivalent: the zero page is not ZONE_DEVICE, so the next line says true too
  if (is_zero_pfn(m, folio)) return true;
  if (!folio_is_zone_device(m, folio)) return true;
  const type = page_pgmap(m, folio).type;
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent in GUP's callers: check_vma_flags refuses FS-DAX long-term pins first, and GUP-fast leaves them to it (devmap bit, gup_must_unshare, gup_fast_folio_allowed)
  if (type === MEMORY_DEVICE_FS_DAX) return m.config.devmap_refcount === 'old';
  // Stryker disable next-line ConditionalExpression: device-private pages are never mapped present: GUP faults them back to RAM before it gets here
  return type !== MEMORY_DEVICE_COHERENT && type !== MEMORY_DEVICE_PRIVATE;
}

/** unpin_user_pages / put_page on every grabbed page (the error path of a GUP call). */
function release_pages(m: Machine, pages: number[], flags: number): void {
  for (const page of pages) {
    const folio = page_folio(m, page);
    debug_count_pin(m, folio, flags, -1);
    gup_put_folio(m, folio, 1, flags);
  }
  pages.length = 0;
}

/**
 * check_and_migrate_movable_folios: a long-term pin must not hold a folio
 * that has to stay movable. If any is found, every pin is dropped; each
 * device-coherent folio is migrated to system RAM (migrate_device_coherent_folio)
 * and the caller pins the whole range again (-EAGAIN). The v6-series design
 * refused the pin instead (-EFAULT).
 */
function check_and_migrate_movable_folios(m: Machine, pages: number[], flags: number): number {
  const unpinnable = [...new Set(pages.map((p) => page_folio(m, p)))].filter(
    (f) => !folio_is_longterm_pinnable(m, f),
  );
  if (unpinnable.length === 0) return 0;
  // Stryker disable next-line MethodExpression,ConditionalExpression: equivalent: only DEVICE_COHERENT folios can be unpinnable here (FS-DAX is refused by check_vma_flags, device-private never mapped)
  const coherent = unpinnable.filter((f) => page_pgmap(m, f).type === MEMORY_DEVICE_COHERENT);
  // Stryker disable next-line ConditionalExpression: the same: coherent is always all of unpinnable
  if (coherent.length !== unpinnable.length || m.config.coherent_longterm_pin === 'fail') {
    release_pages(m, pages, flags);
    return -EFAULT;
  }
  /* Turn the pins on the coherent folios into plain references, which the migration consumes. */
  for (const folio of coherent) m.mem._refcount[folio]++;
  release_pages(m, pages, flags);
  let ret = -EAGAIN;
  for (const folio of coherent) {
    if (ret === -EAGAIN && migrate_device_coherent_folio(m, folio) !== 0) ret = -EBUSY;
    else if (ret !== -EAGAIN) folio_put_refs(m, folio, 1);
  }
  return ret;
}

/**
 * __gup_longterm_locked: pin, then make sure nothing pinned must stay
 * movable; if something had to move, pin the whole range again.
 */
function __gup_longterm_locked(
  m: Machine,
  mm: mm_struct,
  start: number,
  nr_pages: number,
  flags: number,
  pages: number[],
): number {
  if (!(flags & FOLL_LONGTERM)) return __get_user_pages(m, mm, start, nr_pages, flags, pages);
  for (;;) {
    const rc = __get_user_pages(m, mm, start, nr_pages, flags, pages);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: with rc <= 0 nothing was pinned, and check_and_migrate_movable_folios of no page returns 0
    if (rc <= 0) return rc;
    const ret = check_and_migrate_movable_folios(m, pages, flags);
    if (ret === 0) return rc;
    if (ret !== -EAGAIN) return ret;
  }
}

/** The common entry: argument checks, MMF_HAS_PINNED, then the (long-term) slow path. */
function gup_common(
  m: Machine,
  mm: mm_struct,
  start: number,
  nr: number,
  flags: number,
  pages: number[],
): number {
  if (!is_valid_gup_args(flags)) {
    // Stryker disable next-line StringLiteral: the warning's text, not its condition
    m.warn('is_valid_gup_args', `invalid gup_flags 0x${flags.toString(16)}`);
    return -EINVAL;
  }
  // Stryker disable next-line ConditionalExpression: equivalent: MMF_HAS_PINNED only matters with folio_maybe_dma_pinned, which FOLL_GET references never make true short of 1024 of them
  if (flags & FOLL_PIN) mm.flags |= MMF_HAS_PINNED;
  return __gup_longterm_locked(m, mm, start, nr, flags, pages);
}

/** get_user_pages: FOLL_GET references (for struct page access). */
export const get_user_pages = (
  m: Machine,
  mm: mm_struct,
  start: number,
  nr: number,
  flags: number,
  pages: number[],
) => gup_common(m, mm, start, nr, flags | FOLL_GET, pages);

/** pin_user_pages: FOLL_PIN pins (for DMA to or from the page contents). */
export const pin_user_pages = (
  m: Machine,
  mm: mm_struct,
  start: number,
  nr: number,
  flags: number,
  pages: number[],
) => gup_common(m, mm, start, nr, flags | FOLL_PIN, pages);

/**
 * gup_fast_pte_range: the lockless walk. It only takes pages whose PTE already
 * allows the access: it stops at none, non-present, special (zero page),
 * PROT_NONE and read-only-for-write entries, at pages that must be unshared,
 * at folios a long-term pin may not hold, and for FOLL_PIN while fork is
 * write-protecting the mm (write_protect_seq odd). Returns pages taken.
 */
function gup_fast(
  m: Machine,
  mm: mm_struct,
  start: number,
  nr_pages: number,
  flags: number,
  pages: number[],
): number {
  if (flags & FOLL_PIN && mm.write_protect_seq & 1) return 0;
  for (let i = 0; i < nr_pages; i++) {
    const addr = start + i * PAGE_SIZE;
    let page: number;
    let writable: boolean;
    let devmap = false;
    const pmd = pmdp_get(mm, addr);
    if (pmd_trans_huge(pmd)) {
      if (is_huge_zero_pfn(m, pmd_pfn(pmd))) return i;
      page = pmd_pfn(pmd) + ((addr / PAGE_SIZE) & ((1 << HPAGE_PMD_ORDER) - 1));
      writable = pte_write(pmd);
    } else {
      const table = pte_offset_map(mm, addr);
      const pte = table ? ptep_get(table, addr) : 0;
      if (!pte_present(pte) || pte_protnone(pte)) return i;
      /*
       * Old design: a devmap PTE is special but has a page behind it. The
       * walk cannot tell FS-DAX from device-DAX by the PTE, so it leaves
       * every devmap page to the slow path for FOLL_LONGTERM.
       */
      devmap = pte_devmap(pte);
      if (devmap ? flags & FOLL_LONGTERM : pte_special(pte)) return i;
      page = pte_pfn(pte);
      writable = pte_write(pte);
    }
    const folio = page_folio(m, page);
    if (flags & FOLL_WRITE && !writable) return i;
    if (flags & FOLL_LONGTERM && !folio_is_longterm_pinnable(m, folio)) return i;
    /* gup_fast_pte_range asks with no VMA (gup_must_unshare(NULL, ...)). */
    if (!writable && gup_must_unshare(m, null, flags, page)) return i;
    if (!gup_fast_folio_allowed(m, folio, flags)) return i;
    /* The devmap page is valid only under a live pagemap reference, held while it is grabbed. */
    const pgmap = devmap ? get_dev_pagemap(m, page) : null;
    if (devmap && !pgmap) return i;
    const grabbed = try_grab_folio(m, folio, 1, flags) === 0;
    if (pgmap) put_dev_pagemap(m, pgmap);
    if (!grabbed) return i;
    debug_count_pin(m, folio, flags, 1);
    pages.push(page);
  }
  return nr_pages;
}

/**
 * gup_fast_folio_allowed: GUP-fast has no VMA to ask whether a writable
 * long-term pin needs dirty tracking, so it asks the folio: its
 * folio->mapping must be anonymous (or the folio hugetlb, or shmem's).
 * Anything else, a truncated folio (no mapping) included, is left to the
 * slow path. A device-DAX page carries the /dev/dax file's mapping
 * (dax_set_mapping), so GUP-fast refuses it although the slow path, asking
 * the VMA (writable_file_mapping_allowed), pins it. Secretmem is not modelled.
 */
function gup_fast_folio_allowed(m: Machine, folio: number, flags: number): boolean {
  if ((flags & (FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE)) !== (FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE))
    return true;
  if (folio_test_hugetlb(m, folio)) return true;
  const mapping = m.mem.mapping[folio];
  if (mapping === 0) return false;
  if (folio_test_anon(m, folio)) return true;
  return m.address_spaces.get(mapping)?.shmem === true;
}

/**
 * gup_fast_fallback (get_user_pages_fast / pin_user_pages_fast): the lockless
 * walk first; whatever it refused goes through the slow path, unless
 * FOLL_FAST_ONLY. Returns pages grabbed (or -errno) and how many came fast.
 */
export function gup_fast_fallback(
  m: Machine,
  mm: mm_struct,
  start: number,
  nr_pages: number,
  flags: number,
  pages: number[],
): { ret: number; fast: number } {
  if (!is_valid_gup_args(flags & ~FOLL_FAST_ONLY)) return { ret: -EINVAL, fast: 0 };
  // Stryker disable next-line ConditionalExpression: the same as in gup_common: MMF_HAS_PINNED for FOLL_GET changes nothing observable
  if (flags & FOLL_PIN) mm.flags |= MMF_HAS_PINNED;
  const fast = gup_fast(m, mm, start, nr_pages, flags, pages);
  // Stryker disable next-line ConditionalExpression: equivalent when GUP-fast took every page: the slow path over 0 pages adds 0
  if (fast === nr_pages || flags & FOLL_FAST_ONLY) return { ret: fast, fast };
  const rest: number[] = [];
  const ret = __gup_longterm_locked(m, mm, start + fast * PAGE_SIZE, nr_pages - fast, flags, rest);
  pages.push(...rest);
  if (ret < 0) return { ret: fast ? fast : ret, fast };
  return { ret: fast + ret, fast };
}

/** get_user_pages_fast: GUP-fast first, FOLL_GET references. Returns the pages taken, or -errno. */
export const get_user_pages_fast = (
  m: Machine,
  mm: mm_struct,
  start: number,
  nr: number,
  flags: number,
  pages: number[],
): number => gup_fast_fallback(m, mm, start, nr, flags | FOLL_GET, pages).ret;

/** pin_user_pages_fast: GUP-fast first, FOLL_PIN pins. Returns the pages pinned, or -errno. */
export const pin_user_pages_fast = (
  m: Machine,
  mm: mm_struct,
  start: number,
  nr: number,
  flags: number,
  pages: number[],
): number => gup_fast_fallback(m, mm, start, nr, flags | FOLL_PIN, pages).ret;

/** unpin_user_page. */
export function unpin_user_page(m: Machine, page: number): void {
  const folio = page_folio(m, page);
  // Stryker disable next-line all: debug_vm's bookkeeping: which of its counts the pin came from
  const longterm = (m.debug_pins.get(folio)?.longterm ?? 0) > 0;
  debug_count_pin(m, folio, FOLL_PIN | (longterm ? FOLL_LONGTERM : 0), -1);
  gup_put_folio(m, folio, 1, FOLL_PIN);
}

/** put_page for a FOLL_GET reference. */
export function put_page(m: Machine, page: number): void {
  // Stryker disable next-line UnaryOperator: debug_vm's bookkeeping
  debug_count_pin(m, page_folio(m, page), FOLL_GET, -1);
  gup_put_folio(m, page_folio(m, page), 1, FOLL_GET);
}
