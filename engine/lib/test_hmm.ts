/*
 * Mirrors lib/test_hmm.c: the "dmirror" test driver behind the kernel's HMM
 * selftests. It mirrors a process's address space into a simulated device
 * page table, and migrates pages to and from simulated device memory.
 * Kernel: linux-mm tree, late 2025 (lib/test_hmm.c with folio_free,
 * FLAGS/FAIL_ALLOC and evict-on-close).
 *
 * Simplified here:
 * - Device memory comes in chunks of `devmem_chunk_pages` (the driver uses
 *   256 MiB); private chunks are added on demand, a coherent device has one.
 * - As in the driver, a device-private page is a dummy struct page whose data
 *   lives in a hidden system "backing" page (BACKING_PAGE); a coherent page
 *   holds its data itself.
 * - Device-private THP (large device folios) is not modelled yet.
 * - The device's fault policy and a traffic cost model are additions for the
 *   seed claims (S000-6, S001-7); the default policy is the driver's own.
 */

import { clear_highpage, copy_highpage, kmap_local_page } from '../include/linux/highmem';
import { type dev_pagemap, MEMORY_DEVICE_COHERENT, MEMORY_DEVICE_PRIVATE } from '../include/linux/memremap';
import {
  MIGRATE_PFN_COMPOUND,
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_VALID,
  MIGRATE_PFN_WRITE,
  MIGRATE_VMA_SELECT_COMPOUND,
  MIGRATE_VMA_SELECT_DEVICE_COHERENT,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  MIGRATE_VMA_SELECT_SYSTEM,
  migrate_pfn,
  migrate_pfn_to_page,
  type migrate_vma,
} from '../include/linux/migrate';
import {
  EBUSY,
  EFAULT,
  EINVAL,
  ENOENT,
  ENOMEM,
  EPERM,
  page_folio,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_READ,
} from '../include/linux/mm';
import {
  type address_space,
  HPAGE_PMD_NR,
  HPAGE_PMD_ORDER,
  type mm_struct,
  PAGE_SIZE,
  PTRS_PER_PTE,
} from '../include/linux/mm_types';
import { KernelInvariantViolation } from '../include/linux/mmdebug';
import { PG_locked } from '../include/linux/page-flags';
import { folio_unlock } from '../include/linux/pagemap';
import { preempt_point } from '../kernel/sched';
import type { Machine } from '../machine';
import {
  HMM_PFN_ERROR,
  HMM_PFN_ORDER_PMD,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  hmm_pfn_flags,
  hmm_pfn_to_page,
  type hmm_range,
  hmm_range_fault,
} from '../mm/hmm';
import { type vm_fault, vm_insert_page } from '../mm/memory';
import {
  is_device_coherent_page,
  is_device_private_page,
  memremap_pages,
  memunmap_pages,
  page_pgmap,
  zone_device_page_init,
} from '../mm/memremap';
import {
  migrate_device_finalize,
  migrate_device_pages,
  migrate_device_range,
  migrate_vma_finalize,
  migrate_vma_pages,
  migrate_vma_setup,
} from '../mm/migrate_device';
import { find_vma } from '../mm/mmap';
import {
  type mmu_interval_notifier,
  mmu_interval_notifier_insert,
  mmu_interval_notifier_remove,
  mmu_interval_read_begin,
  mmu_interval_read_retry,
  mmu_interval_set_seq,
} from '../mm/mmu_notifier';
import { __alloc_pages, split_page } from '../mm/page_alloc';
import { make_device_exclusive } from '../mm/rmap';
import { folio_put } from '../mm/swap';

/* test_hmm_uapi.h */
export const HMM_DMIRROR_READ = 0x00;
export const HMM_DMIRROR_WRITE = 0x01;
export const HMM_DMIRROR_MIGRATE_TO_DEV = 0x02;
export const HMM_DMIRROR_MIGRATE_TO_SYS = 0x03;
export const HMM_DMIRROR_SNAPSHOT = 0x04;
export const HMM_DMIRROR_EXCLUSIVE = 0x05;
export const HMM_DMIRROR_CHECK_EXCLUSIVE = 0x06;
export const HMM_DMIRROR_RELEASE = 0x07;
export const HMM_DMIRROR_FLAGS = 0x08;
export const HMM_DMIRROR_FLAG_FAIL_ALLOC = 1;
export const HMM_DMIRROR_MEMORY_DEVICE_PRIVATE = 1;
export const HMM_DMIRROR_MEMORY_DEVICE_COHERENT = 2;

/* enum HMM_DMIRROR_PROT_* (the SNAPSHOT byte) */
export const HMM_DMIRROR_PROT_ERROR = 0xff;
export const HMM_DMIRROR_PROT_NONE = 0x00;
export const HMM_DMIRROR_PROT_READ = 0x01;
export const HMM_DMIRROR_PROT_WRITE = 0x02;
export const HMM_DMIRROR_PROT_PMD = 0x04;
export const HMM_DMIRROR_PROT_PUD = 0x08;
export const HMM_DMIRROR_PROT_ZERO = 0x10;
export const HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL = 0x20;
export const HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE = 0x30;
export const HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL = 0x40;
export const HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE = 0x50;

const DPT_XA_TAG_ATOMIC = 1;
const DPT_XA_TAG_WRITE = 3;

/** struct hmm_dmirror_cmd. `ptr` is the bounce buffer: one contents word per page (one byte per page for SNAPSHOT). */
export interface hmm_dmirror_cmd {
  addr: number;
  ptr: number[];
  npages: number;
  cpages: number;
  faults: number;
}

/**
 * How the device asks for pages on a device fault. The driver's own
 * behaviour mirrors the CPU permission: a read fault requests read access
 * only. The other policy requests write access on every fault, as the amdgpu
 * driver of seed 000 usually did.
 */
export type dmirror_fault_policy = 'read-only on read faults' | 'write on every fault';

/** Traffic the device caused, for the cost model of seed 001. */
export interface dmirror_stats {
  /** Pages copied into device memory by migration, and back to system memory. */
  pages_to_device: number;
  pages_to_system: number;
  /** CPU faults on this device's private pages (migrate_to_ram calls). */
  cpu_faults: number;
  /** Device accesses served from its own memory, and from system memory over the link. */
  local_pages: number;
  remote_pages: number;
  /** Device page faults (fault rounds, as cmd.faults counts them). */
  device_faults: number;
}

/** Device memory bandwidth over the link's, "about 10x" (seed 001). */
export const DEVICE_TO_LINK_BANDWIDTH = 10;

/**
 * The cost model of seed 001, in units of one page access from device
 * memory: a page that crosses the link (a migration copy, or a device access
 * to system memory) costs DEVICE_TO_LINK_BANDWIDTH units.
 */
export function dmirror_modelled_cost(s: dmirror_stats): number {
  return DEVICE_TO_LINK_BANDWIDTH * (s.pages_to_device + s.pages_to_system + s.remote_pages) + s.local_pages;
}

export interface dmirror_chunk {
  readonly pagemap: dev_pagemap;
  readonly mdevice: dmirror_device;
  remove: boolean;
  /** zone_device_data of each device page: its backing system page (private devices), or -1. */
  readonly backing: Int32Array;
  /** The mirror that migrated each page (the driver keeps it in the backing page). */
  readonly mirror: (dmirror | null)[];
}

export interface dmirror_device {
  readonly id: number;
  readonly zone_device_type: number;
  readonly chunks: dmirror_chunk[];
  /** Free device pages, a stack as the driver's zone_device_data list. */
  free_pages: number[];
  /** Free PMD-order device folios (head pfns), carved only from chunks a large allocation created. */
  free_folios: number[];
  /** System pages that back this device's private memory (the driver's rpage), for the cost model. */
  readonly backing_pfns: Set<number>;
  calloc: number;
  cfree: number;
  fault_policy: dmirror_fault_policy;
  readonly stats: dmirror_stats;
}

/** struct dmirror: one open file, mirroring the opener's mm. */
export interface dmirror {
  readonly mdevice: dmirror_device;
  readonly mm: mm_struct;
  /** The device page table: virtual page number → page * 4 + tag (none = read-only, 3 = write, 1 = atomic). */
  readonly pt: Map<number, number>;
  notifier: mmu_interval_notifier | null;
  flags: number;
}

export interface hmm_dmirror_module {
  readonly devices: dmirror_device[];
  readonly chunk_pages: number;
}

const entry_page = (entry: number): number => Math.floor(entry / 4);
const entry_tag = (entry: number): number => entry % 4;
const vpn = (addr: number): number => Math.floor(addr / PAGE_SIZE);

function chunk_of(m: Machine, mod: hmm_dmirror_module, page: number): dmirror_chunk {
  const pgmap = page_pgmap(m, page);
  for (const d of mod.devices) for (const c of d.chunks) if (c.pagemap === pgmap) return c;
  throw new KernelInvariantViolation(
    'a device page belongs to a live pagemap',
    page,
    'no dmirror chunk owns it',
  );
}

/** BACKING_PAGE: where a device page's data lives (for a page of a large device folio, the matching page of its backing folio). */
function backing_page(m: Machine, mod: hmm_dmirror_module, page: number): number {
  if (!is_device_private_page(m, page)) return page;
  const c = chunk_of(m, mod, page);
  const head = page_folio(m, page);
  return c.backing[head - c.pagemap.range.start] + (page - head);
}

/* ---------------- device memory ---------------- */

/**
 * dmirror_allocate_chunk: memremap one more chunk and put its pages on the
 * free lists; a chunk made for a large allocation is carved into PMD-order
 * folios where they fit.
 */
function dmirror_allocate_chunk(
  m: Machine,
  mod: hmm_dmirror_module,
  mdevice: dmirror_device,
  is_large: boolean,
): number {
  const type =
    mdevice.zone_device_type === HMM_DMIRROR_MEMORY_DEVICE_PRIVATE
      ? MEMORY_DEVICE_PRIVATE
      : MEMORY_DEVICE_COHERENT;
  /* A coherent device's memory is a fixed special-purpose range: there is no second chunk. */
  if (type === MEMORY_DEVICE_COHERENT && mdevice.chunks.length > 0) return -ENOMEM;
  const chunk: dmirror_chunk = {
    pagemap: {
      type,
      range: { start: 0, nr: mod.chunk_pages },
      owner: mdevice,
      ops: {
        folio_free: (folio) => dmirror_devmem_free(m, mod, folio),
        migrate_to_ram: (vmf) => dmirror_devmem_fault(m, mod, vmf),
        folio_split: (head, tail) => dmirror_devmem_folio_split(m, mod, head, tail),
      },
      id: 0,
      ref: 0,
      dying: false,
      removed: false,
    },
    mdevice,
    remove: false,
    backing: new Int32Array(mod.chunk_pages).fill(-1),
    mirror: new Array(mod.chunk_pages).fill(null),
  };
  const start = memremap_pages(m, chunk.pagemap);
  if (start < 0) return start;
  mdevice.chunks.push(chunk);
  const end = start + mod.chunk_pages;
  const pages: number[] = [];
  for (let pfn = start; pfn < end; ) {
    if (is_large && pfn % HPAGE_PMD_NR === 0 && pfn + HPAGE_PMD_NR <= end) {
      mdevice.free_folios.unshift(pfn);
      pfn += HPAGE_PMD_NR;
    } else pages.push(pfn++);
  }
  for (let i = pages.length - 1; i >= 0; i--) mdevice.free_pages.push(pages[i]);
  return 0;
}

/**
 * dmirror_devmem_alloc_page: a device page, or with is_large a PMD-order
 * device folio (refcount 1, locked); private memory also gets a hidden system
 * backing page (folio) of the same order.
 */
function dmirror_devmem_alloc_page(
  m: Machine,
  mod: hmm_dmirror_module,
  dmirror: dmirror,
  is_large: boolean,
): number {
  const mdevice = dmirror.mdevice;
  const order = is_large ? HPAGE_PMD_ORDER : 0;
  let rpage = -1;
  if (mdevice.zone_device_type === HMM_DMIRROR_MEMORY_DEVICE_PRIVATE) {
    rpage = __alloc_pages(m, m.zone, order);
    if (rpage < 0) return -1;
  }
  const list = is_large ? mdevice.free_folios : mdevice.free_pages;
  if (list.length === 0 && dmirror_allocate_chunk(m, mod, mdevice, is_large) !== 0) {
    if (rpage >= 0) folio_put(m, rpage);
    return -1;
  }
  const dpage = list.pop();
  if (dpage === undefined) {
    if (rpage >= 0) folio_put(m, rpage);
    return -1;
  }
  mdevice.calloc += 1 << order;
  zone_device_page_init(m, dpage, order);
  const c = chunk_of(m, mod, dpage);
  c.backing[dpage - c.pagemap.range.start] = rpage;
  if (rpage >= 0) for (let i = 0; i < 1 << order; i++) mdevice.backing_pfns.add(rpage + i);
  return dpage;
}

/** dmirror_devmem_free (ops->folio_free): free the backing memory; the device page or folio goes back on its free list. */
function dmirror_devmem_free(m: Machine, mod: hmm_dmirror_module, folio: number): void {
  const c = chunk_of(m, mod, folio);
  const off = folio - c.pagemap.range.start;
  const rpage = c.backing[off];
  const order = rpage >= 0 ? m.mem.order[rpage] : m.mem.order[folio];
  if (rpage >= 0) {
    for (let i = 0; i < 1 << order; i++) c.mdevice.backing_pfns.delete(rpage + i);
    folio_put(m, rpage);
  }
  c.backing[off] = -1;
  c.mirror[off] = null;
  if (!c.remove) {
    c.mdevice.cfree += 1 << order;
    if (order) c.mdevice.free_folios.push(folio);
    else c.mdevice.free_pages.push(folio);
  }
}

/**
 * dmirror_devmem_folio_split (ops->folio_split): the core mm split a large
 * device-private folio; each new piece gets the matching page of the backing
 * folio and the same mirror, and the final call splits the backing folio too.
 */
function dmirror_devmem_folio_split(
  m: Machine,
  mod: hmm_dmirror_module,
  head: number,
  tail: number | null,
): void {
  const c = chunk_of(m, mod, head);
  const start = c.pagemap.range.start;
  const rpage = c.backing[head - start];
  if (rpage < 0) return;
  if (tail === null) {
    split_page(m, rpage, m.mem.order[rpage]);
    return;
  }
  c.backing[tail - start] = rpage + (tail - head);
  c.mirror[tail - start] = c.mirror[head - start];
}

/* ---------------- CPU fault on device-private memory ---------------- */

/**
 * dmirror_devmem_fault_alloc_and_copy: system pages for each source (a
 * PMD-order folio for a PMD-order source, falling back to base pages if that
 * allocation fails), the data copied back, the device's entries erased.
 */
function dmirror_devmem_fault_alloc_and_copy(
  m: Machine,
  mod: hmm_dmirror_module,
  args: migrate_vma,
  dmirror: dmirror,
): number {
  for (let i = 0; i < args.npages; ) {
    const spage = migrate_pfn_to_page(args.src[i]);
    if (spage < 0 || !(args.src[i] & MIGRATE_PFN_MIGRATE)) {
      i++;
      continue;
    }
    if (!is_device_private_page(m, spage) && !is_device_coherent_page(m, spage)) {
      m.warn('dmirror_devmem_fault_alloc_and_copy', `pfn ${spage} is not device memory`);
      i++;
      continue;
    }
    const rpage = backing_page(m, mod, spage);
    const order = m.mem.order[page_folio(m, rpage)];
    const nr = 1 << order;
    let compound = order ? MIGRATE_PFN_COMPOUND : 0;
    let dpage = -1;
    if (dmirror.flags & HMM_DMIRROR_FLAG_FAIL_ALLOC) {
      dmirror.flags &= ~HMM_DMIRROR_FLAG_FAIL_ALLOC;
      compound = 0;
    } else dpage = __alloc_pages(m, m.zone, order);
    if (dpage < 0 && !order) return VM_FAULT_OOM;
    if (dpage >= 0) {
      m.mem.flags[dpage] |= PG_locked;
      args.dst[i] = migrate_pfn(dpage) + compound + (args.src[i] & MIGRATE_PFN_WRITE);
    }
    const owner =
      chunk_of(m, mod, spage).mirror[page_folio(m, spage) - chunk_of(m, mod, spage).pagemap.range.start] ??
      dmirror;
    for (let k = 0; k < nr; k++) {
      let dst_page: number;
      if (dpage < 0) {
        /* Try with smaller pages if the large allocation failed. */
        const small = __alloc_pages(m, m.zone, 0);
        if (small < 0) {
          for (let j = i; j < i + k; j++) {
            const f = migrate_pfn_to_page(args.dst[j]);
            folio_unlock(m, f);
            folio_put(m, f);
          }
          for (let j = i; j < i + nr; j++) args.dst[j] = 0;
          return VM_FAULT_OOM;
        }
        m.mem.flags[small] |= PG_locked;
        args.dst[i + k] = migrate_pfn(small) + (args.src[i] & MIGRATE_PFN_WRITE);
        dst_page = small;
      } else dst_page = dpage + k;
      owner.pt.delete(vpn(args.start + (i + k) * PAGE_SIZE));
      copy_highpage(m, dst_page, rpage + k);
      dmirror.mdevice.stats.pages_to_system++;
    }
    i += nr;
  }
  return 0;
}

/**
 * dmirror_devmem_fault (ops->migrate_to_ram): migrate the faulting page back
 * to system memory; a PMD-mapped folio moves whole, a PTE-mapped one (perhaps
 * not split yet) one page at a time.
 */
function dmirror_devmem_fault(m: Machine, mod: hmm_dmirror_module, vmf: vm_fault): number {
  const c = chunk_of(m, mod, vmf.page);
  const dmirror = c.mirror[page_folio(m, vmf.page) - c.pagemap.range.start];
  if (!dmirror)
    throw new KernelInvariantViolation(
      'a mapped device page has an owner mirror',
      vmf.page,
      'migrate_to_ram',
    );
  const order = vmf.pmd_fault ? m.mem.order[page_folio(m, vmf.page)] : 0;
  const size = PAGE_SIZE << order;
  const start = vmf.address - (vmf.address % size);
  const args: migrate_vma = {
    vma: vmf.vma,
    src: [],
    dst: [],
    cpages: 0,
    npages: 0,
    start,
    end: start + size,
    pgmap_owner: dmirror.mdevice,
    flags: dmirror_select_device(dmirror) | (order ? MIGRATE_VMA_SELECT_COMPOUND : 0),
    fault_page: vmf.page,
  };
  dmirror.mdevice.stats.cpu_faults++;
  if (migrate_vma_setup(m, args)) return VM_FAULT_SIGBUS;
  const ret = dmirror_devmem_fault_alloc_and_copy(m, mod, args, dmirror);
  if (ret) {
    migrate_vma_finalize(m, args);
    return ret;
  }
  migrate_vma_pages(m, args);
  migrate_vma_finalize(m, args);
  return 0;
}

const dmirror_select_device = (d: dmirror): number =>
  d.mdevice.zone_device_type === HMM_DMIRROR_MEMORY_DEVICE_PRIVATE
    ? MIGRATE_VMA_SELECT_DEVICE_PRIVATE
    : MIGRATE_VMA_SELECT_DEVICE_COHERENT;

/* ---------------- module and file operations ---------------- */

/** hmm_dmirror_init: devices 0 and 1 are private; 2 and 3 (coherent) exist only with special-purpose memory. */
export function hmm_dmirror_init(
  m: Machine,
  opts: { coherent: boolean; chunk_pages?: number },
): hmm_dmirror_module {
  const mod: hmm_dmirror_module = { devices: [], chunk_pages: opts.chunk_pages ?? 1024 };
  const types = [HMM_DMIRROR_MEMORY_DEVICE_PRIVATE, HMM_DMIRROR_MEMORY_DEVICE_PRIVATE];
  if (opts.coherent) types.push(HMM_DMIRROR_MEMORY_DEVICE_COHERENT, HMM_DMIRROR_MEMORY_DEVICE_COHERENT);
  types.forEach((zone_device_type, id) => {
    const mdevice: dmirror_device = {
      id,
      zone_device_type,
      chunks: [],
      free_pages: [],
      free_folios: [],
      backing_pfns: new Set(),
      calloc: 0,
      cfree: 0,
      fault_policy: 'read-only on read faults',
      stats: {
        pages_to_device: 0,
        pages_to_system: 0,
        cpu_faults: 0,
        local_pages: 0,
        remote_pages: 0,
        device_faults: 0,
      },
    };
    mod.devices.push(mdevice);
    const ret = dmirror_allocate_chunk(m, mod, mdevice, false);
    if (ret) throw new Error(`dmirror: device ${id} has no memory (${ret})`);
  });
  const seen = new Map<dmirror_device, dmirror_debug_seen>();
  m.driver_checks.push((mm, dirty) => dmirror_debug_check(mm, mod, dirty, seen));
  return mod;
}

/** dmirror_fops_open: a mirror of the opener's whole address space, with its interval notifier. */
export function dmirror_fops_open(mdevice: dmirror_device, mm: mm_struct): dmirror {
  const d: dmirror = { mdevice, mm, pt: new Map(), notifier: null, flags: 0 };
  d.notifier = mmu_interval_notifier_insert(mm, 0, Number.MAX_SAFE_INTEGER, {
    invalidate: (sub, range, cur_seq) => {
      /* Migrations by this very device update the device page table themselves. */
      if (range.event === 'MMU_NOTIFY_MIGRATE' && range.owner === d.mdevice) return true;
      /* mutex_lock(&dmirror->mutex) */
      mmu_interval_set_seq(sub, cur_seq);
      for (let v = vpn(range.start); v < vpn(range.end - 1) + 1 && d.pt.size > 0; v++) d.pt.delete(v);
      return true;
    },
  });
  return d;
}

/**
 * The device file itself, for mmap: dmirror_fops_mmap gives every page of the
 * VMA a zeroed kernel page with vm_insert_page, making a VM_MIXEDMAP mapping.
 */
export function dmirror_file(m: Machine, mdevice: dmirror_device, nr_pages: number): address_space {
  const file: address_space = {
    id: m.next_mapping_id++,
    name: `/dev/hmm_dmirror${mdevice.id}`,
    shmem: false,
    i_pages: new Int32Array(nr_pages).fill(-1),
    backing: new Uint32Array(nr_pages),
    i_mmap: new Set(),
    f_op_mmap: (vma) => {
      for (let addr = vma.vm_start; addr < vma.vm_end; addr += PAGE_SIZE) {
        const page = __alloc_pages(m, m.zone, 0);
        if (page < 0) return -ENOMEM;
        clear_highpage(m, page);
        const ret = vm_insert_page(m, vma, addr, page);
        folio_put(m, page);
        if (ret) return ret;
      }
      return 0;
    },
  };
  m.address_spaces.set(file.id, file);
  return file;
}

/** dmirror_fops_release: drop the notifier, then evict every page of the device back to system memory. */
export function dmirror_fops_release(m: Machine, mod: hmm_dmirror_module, d: dmirror): void {
  if (d.notifier) mmu_interval_notifier_remove(d.notifier);
  d.notifier = null;
  for (const chunk of d.mdevice.chunks) dmirror_device_evict_chunk(m, mod, chunk);
  d.pt.clear();
}

/** dmirror_device_evict_chunk: migrate_device_range over the chunk, copying each page (or folio) into new system memory. */
function dmirror_device_evict_chunk(m: Machine, mod: hmm_dmirror_module, chunk: dmirror_chunk): void {
  const { start, nr } = chunk.pagemap.range;
  const src: number[] = [];
  const dst: number[] = new Array(nr).fill(0);
  migrate_device_range(m, src, start, nr);
  for (let i = 0; i < nr; i++) {
    const spage = migrate_pfn_to_page(src[i]);
    if (spage < 0 || !(src[i] & MIGRATE_PFN_MIGRATE)) continue;
    const compound = src[i] & MIGRATE_PFN_COMPOUND;
    const order = compound ? m.mem.order[page_folio(m, spage)] : 0;
    const dpage = __alloc_pages(m, m.zone, order);
    if (dpage < 0)
      throw new Error('dmirror: no system memory left to evict device memory into (__GFP_NOFAIL)');
    m.mem.flags[dpage] |= PG_locked;
    dst[i] = migrate_pfn(dpage) + (src[i] & MIGRATE_PFN_WRITE) + (order ? MIGRATE_PFN_COMPOUND : 0);
    for (let k = 0; k < 1 << order; k++) copy_highpage(m, dpage + k, backing_page(m, mod, spage + k));
    chunk.mdevice.stats.pages_to_system += 1 << order;
  }
  migrate_device_pages(m, src, dst, nr);
  migrate_device_finalize(m, src, dst, nr);
}

/** dmirror_device_remove_chunks (the RELEASE command): evict and memunmap every chunk. */
function dmirror_device_remove_chunks(m: Machine, mod: hmm_dmirror_module, mdevice: dmirror_device): void {
  for (const chunk of mdevice.chunks) {
    chunk.remove = true;
    const { start, nr } = chunk.pagemap.range;
    mdevice.free_pages = mdevice.free_pages.filter((p) => p < start || p >= start + nr);
    mdevice.free_folios = mdevice.free_folios.filter((p) => p < start || p >= start + nr);
    dmirror_device_evict_chunk(m, mod, chunk);
    memunmap_pages(m, chunk.pagemap);
  }
  mdevice.chunks.length = 0;
  mdevice.free_pages = [];
  mdevice.free_folios = [];
}

/* ---------------- device page table: read, write, fault ---------------- */

function count_access(m: Machine, d: dmirror, page: number): void {
  const local =
    m.mem.pgmap[page] !== 0 ? page_pgmap(m, page).owner === d.mdevice : d.mdevice.backing_pfns.has(page);
  if (local) d.mdevice.stats.local_pages++;
  else d.mdevice.stats.remote_pages++;
}

/** dmirror_do_read: copy each mirrored page; -ENOENT at the first page the device does not map. */
function dmirror_do_read(
  m: Machine,
  d: dmirror,
  start: number,
  end: number,
  bounce: { data: number[]; cpages: number },
): number {
  for (let v = vpn(start); v < vpn(end); v++) {
    const entry = d.pt.get(v);
    if (entry === undefined) return -ENOENT;
    const page = entry_page(entry);
    count_access(m, d, page);
    /* memcpy_from_page: through the linear map, which a device-private page does not have. */
    bounce.data[bounce.cpages] = m.mem.data[kmap_local_page(m, page)];
    bounce.cpages++;
  }
  return 0;
}

/** dmirror_do_write: write each page the device maps writable; -ENOENT at the first it does not. */
function dmirror_do_write(
  m: Machine,
  d: dmirror,
  start: number,
  end: number,
  bounce: { data: number[]; cpages: number },
): number {
  for (let v = vpn(start); v < vpn(end); v++) {
    const entry = d.pt.get(v);
    if (entry === undefined || entry_tag(entry) !== DPT_XA_TAG_WRITE) return -ENOENT;
    const page = entry_page(entry);
    count_access(m, d, page);
    /* memcpy_to_page, likewise. */
    m.mem.data[kmap_local_page(m, page)] = bounce.data[bounce.cpages];
    bounce.cpages++;
  }
  return 0;
}

/**
 * dmirror_do_fault: store what hmm_range_fault found in the device page
 * table, writable where the CPU's entry is (under the mirror's mutex).
 */
function dmirror_do_fault(m: Machine, d: dmirror, range: hmm_range, want_write: boolean): number {
  for (const [i, hpfn] of range.hmm_pfns.entries()) {
    const page = hmm_pfn_to_page(hpfn);
    const writable = (hmm_pfn_flags(hpfn) & HMM_PFN_WRITE) !== 0;
    /* Write access was asked for and hmm_range_fault did not grant it. */
    if (!writable && want_write) {
      m.warn('dmirror_do_fault', 'hmm_range_fault returned a read-only page for a write fault');
      return -EFAULT;
    }
    /*
     * lib/test_hmm.c stores hmm_pfn_to_page() as it is, a page of this
     * device's own private memory included (hmm_range_fault reports those
     * unfaulted): not its BACKING_PAGE, as dmirror_migrate_finalize_and_map
     * does. dmirror_do_read and dmirror_do_write then memcpy through it.
     */
    d.pt.set(vpn(range.start) + i, page * 4 + (writable ? DPT_XA_TAG_WRITE : 0));
  }
  return 0;
}

/**
 * dmirror_range_fault: hmm_range_fault under mmap_read_lock, bracketed by
 * mmu_interval_read_begin and, under the mirror's mutex,
 * mmu_interval_read_retry: if the CPU's page tables changed meanwhile (this
 * mirror's notifier recorded an invalidation), the walk is done again, so
 * the device never maps what the CPU no longer does. The preemption points
 * are where the driver holds neither mmap_lock nor the mutex. (A munmap
 * downgrades to a read lock before it zaps (vms_complete_munmap_vmas), so
 * its invalidation can also come while hmm_range_fault walks; the walk then
 * returns -EBUSY or mmu_interval_read_retry catches it: the same retry as a
 * munmap at "after mmu_interval_read_begin".)
 */
/** The engine's stand-in for HMM_RANGE_DEFAULT_TIMEOUT: rounds of dmirror_range_fault before -EBUSY. */
const HMM_RANGE_RETRIES = 64;

function dmirror_range_fault(m: Machine, d: dmirror, range: hmm_range, want_write: boolean): number {
  const notifier = d.notifier as mmu_interval_notifier;
  /*
   * The kernel gives up after HMM_RANGE_DEFAULT_TIMEOUT (1000 ms) of retries
   * and returns -EBUSY. The engine has no clock: it allows a bounded number of
   * rounds instead. Without a bound, a fault that invalidates the range each
   * time (another device's page that a held reference keeps from migrating
   * back) retried forever (npm run explore, under the v2 split design).
   */
  for (let round = 0; ; round++) {
    if (round === HMM_RANGE_RETRIES) return -EBUSY;
    range.notifier_seq = mmu_interval_read_begin(notifier);
    preempt_point(m, 'dmirror_range_fault: after mmu_interval_read_begin', range.start, range.end);
    /* mmap_read_lock(mm) … mmap_read_unlock(mm) */
    const ret = hmm_range_fault(m, d.mm, range);
    preempt_point(m, 'dmirror_range_fault: after mmap_read_unlock', range.start, range.end);
    if (ret) {
      /*
       * -EBUSY: the range was invalidated under the walk, so walk again;
       * or a fault could not complete. The kernel retries that until
       * HMM_RANGE_DEFAULT_TIMEOUT; nothing else runs in the engine while
       * the driver spins, so it would time out: return -EBUSY at once.
       */
      if (ret === -EBUSY && mmu_interval_read_retry(notifier, range.notifier_seq)) continue;
      return ret;
    }
    /* mutex_lock(&dmirror->mutex) */
    if (mmu_interval_read_retry(notifier, range.notifier_seq)) continue;
    break;
  }
  const ret = dmirror_do_fault(m, d, range, want_write);
  /* mutex_unlock(&dmirror->mutex) */
  return ret;
}

/** dmirror_fault: dmirror_range_fault over [start, end), 32 pages at a time. */
function dmirror_fault(m: Machine, d: dmirror, start: number, end: number, write: boolean): number {
  const want_write = write || d.mdevice.fault_policy === 'write on every fault';
  for (let addr = start; addr < end; ) {
    const next = Math.min(addr + 32 * PAGE_SIZE, end);
    if (addr !== start) preempt_point(m, 'dmirror_fault: before the next dmirror_range_fault', addr, next);
    const range: hmm_range = {
      start: addr,
      end: next,
      hmm_pfns: [],
      default_flags: HMM_PFN_REQ_FAULT | (want_write ? HMM_PFN_REQ_WRITE : 0),
      dev_private_owner: d.mdevice,
      notifier: d.notifier,
      notifier_seq: 0,
    };
    const ret = dmirror_range_fault(m, d, range, want_write);
    if (ret) return ret;
    addr = next;
  }
  return 0;
}

/**
 * dmirror_read: copy what the device mirrors; at the first page it does not,
 * fault the rest in (one round, counted in cmd.faults) and copy again. The
 * mirror's mutex is held only while copying.
 */
function dmirror_read(m: Machine, d: dmirror, cmd: hmm_dmirror_cmd): number {
  const start = cmd.addr;
  const end = start + cmd.npages * PAGE_SIZE;
  const bounce = { data: new Array(cmd.npages).fill(0), cpages: 0 };
  let ret: number;
  let stalled = { cpages: -1, rounds: 0 };
  for (;;) {
    preempt_point(m, 'dmirror_read: before dmirror_do_read', start + bounce.cpages * PAGE_SIZE, end);
    /* mutex_lock(&dmirror->mutex) */
    ret = dmirror_do_read(m, d, start + bounce.cpages * PAGE_SIZE, end, bounce);
    /* mutex_unlock(&dmirror->mutex) */
    preempt_point(m, 'dmirror_read: after dmirror_do_read', start + bounce.cpages * PAGE_SIZE, end);
    if (ret !== -ENOENT) break;
    stalled = no_progress(stalled, bounce.cpages, 'dmirror_read', start);
    ret = dmirror_fault(m, d, start + bounce.cpages * PAGE_SIZE, end, false);
    if (ret) break;
    cmd.faults++;
  }
  if (ret === 0) cmd.ptr = bounce.data;
  cmd.cpages = bounce.cpages;
  return ret;
}

/**
 * dmirror_read and dmirror_write copy what the mirror holds, fault the rest
 * in, and copy again, for as long as the fault succeeds. In the kernel each
 * successful fault stores every page it faulted (dmirror_do_fault), so the
 * next copy gets further; a round that gets no further after a successful
 * fault would repeat forever. The engine stops there with a named rule
 * instead of hanging (the explorer found such a loop).
 */
function no_progress(
  prev: { cpages: number; rounds: number },
  cpages: number,
  where: string,
  start: number,
): { cpages: number; rounds: number } {
  const rounds = cpages === prev.cpages ? prev.rounds + 1 : 0;
  if (rounds >= 3)
    throw new KernelInvariantViolation(
      'a driver fault-and-copy loop makes progress',
      -1,
      `${where} at 0x${start.toString(16)}: ${rounds} successful faults, and the copy still stops at page ${cpages}`,
    );
  return { cpages, rounds };
}

function dmirror_write(m: Machine, d: dmirror, cmd: hmm_dmirror_cmd): number {
  const start = cmd.addr;
  const end = start + cmd.npages * PAGE_SIZE;
  if (cmd.ptr.length < cmd.npages) return -EFAULT;
  const bounce = { data: cmd.ptr, cpages: 0 };
  let ret: number;
  let stalled = { cpages: -1, rounds: 0 };
  for (;;) {
    ret = dmirror_do_write(m, d, start + bounce.cpages * PAGE_SIZE, end, bounce);
    if (ret !== -ENOENT) break;
    stalled = no_progress(stalled, bounce.cpages, 'dmirror_write', start);
    ret = dmirror_fault(m, d, start + bounce.cpages * PAGE_SIZE, end, true);
    if (ret) break;
    cmd.faults++;
  }
  cmd.cpages = bounce.cpages;
  return ret;
}

/* ---------------- migration ---------------- */

/**
 * dmirror_migrate_alloc_and_copy: a device page for every source, or a
 * PMD-order device folio for a COMPOUND source; the data is copied (or
 * zeroed for a hole). When the large allocation fails, the source is spread
 * over base device pages and the core splits it.
 */
function dmirror_migrate_alloc_and_copy(
  m: Machine,
  mod: hmm_dmirror_module,
  args: migrate_vma,
  d: dmirror,
): void {
  for (let i = 0; i < args.npages; ) {
    const is_large = (args.src[i] & MIGRATE_PFN_COMPOUND) !== 0;
    const write = args.src[i] & MIGRATE_PFN_WRITE;
    if (!(args.src[i] & MIGRATE_PFN_MIGRATE)) {
      i++;
      continue;
    }
    const spage = migrate_pfn_to_page(args.src[i]);
    if (spage >= 0 && m.mem.pgmap[spage] !== 0) {
      m.warn('dmirror_migrate_alloc_and_copy', `page already in device spage pfn: 0x${spage.toString(16)}`);
      i++;
      continue;
    }
    let dpage = -1;
    if (d.flags & HMM_DMIRROR_FLAG_FAIL_ALLOC) d.flags &= ~HMM_DMIRROR_FLAG_FAIL_ALLOC;
    else dpage = dmirror_devmem_alloc_page(m, mod, d, is_large);
    const nr = is_large ? (spage < 0 ? HPAGE_PMD_NR : 1 << m.mem.order[spage]) : 1;
    if (dpage < 0) {
      if (!is_large) {
        i++;
        continue;
      }
      for (let k = 0; k < nr && i + k < args.npages; k++) {
        const small = dmirror_devmem_alloc_page(m, mod, d, false);
        if (small < 0) continue;
        const c = chunk_of(m, mod, small);
        c.mirror[small - c.pagemap.range.start] = d;
        args.dst[i + k] = migrate_pfn(small) + write;
        const rpage = backing_page(m, mod, small);
        if (spage >= 0) copy_highpage(m, rpage, spage + k);
        else clear_highpage(m, rpage);
        d.mdevice.stats.pages_to_device++;
      }
      i += nr;
      continue;
    }
    const c = chunk_of(m, mod, dpage);
    c.mirror[dpage - c.pagemap.range.start] = d;
    args.dst[i] = migrate_pfn(dpage) + write + (is_large ? MIGRATE_PFN_COMPOUND : 0);
    const rpage = backing_page(m, mod, dpage);
    for (let k = 0; k < nr; k++) {
      if (spage >= 0) copy_highpage(m, rpage + k, spage + k);
      else clear_highpage(m, rpage + k);
      d.mdevice.stats.pages_to_device++;
    }
    i += nr;
  }
}

/** dmirror_migrate_finalize_and_map: the device maps what migrated (all pages of a folio), writable if the source was. */
function dmirror_migrate_finalize_and_map(
  m: Machine,
  mod: hmm_dmirror_module,
  args: migrate_vma,
  d: dmirror,
): void {
  for (let i = 0; i < args.npages; i++) {
    if (!(args.src[i] & MIGRATE_PFN_MIGRATE)) continue;
    const dpage = migrate_pfn_to_page(args.dst[i]);
    if (dpage < 0) continue;
    const nr = args.dst[i] & MIGRATE_PFN_COMPOUND ? 1 << m.mem.order[page_folio(m, dpage)] : 1;
    const tag = args.dst[i] & MIGRATE_PFN_WRITE ? DPT_XA_TAG_WRITE : 0;
    for (let k = 0; k < nr; k++) d.pt.set(vpn(args.start) + i + k, backing_page(m, mod, dpage + k) * 4 + tag);
  }
}

function new_migrate(
  vma: migrate_vma['vma'],
  start: number,
  end: number,
  owner: dmirror_device,
  flags: number,
): migrate_vma {
  return {
    vma,
    src: [],
    dst: [],
    cpages: 0,
    npages: 0,
    start,
    end,
    pgmap_owner: owner,
    flags,
    fault_page: -1,
  };
}

/** The first half of MIGRATE_TO_DEV for one chunk: setup, allocate and copy. Scenarios may stop here to look. */
export function dmirror_migrate_to_device_begin(
  m: Machine,
  mod: hmm_dmirror_module,
  d: dmirror,
  addr: number,
  end: number,
): migrate_vma | number {
  const vma = find_vma(d.mm, addr);
  if (!vma || !(vma.vm_flags & VM_READ)) return -EINVAL;
  const next = Math.min(end, addr + PTRS_PER_PTE * PAGE_SIZE, vma.vm_end);
  const args = new_migrate(
    vma,
    addr,
    next,
    d.mdevice,
    MIGRATE_VMA_SELECT_SYSTEM | MIGRATE_VMA_SELECT_COMPOUND,
  );
  const ret = migrate_vma_setup(m, args);
  if (ret) return ret;
  dmirror_migrate_alloc_and_copy(m, mod, args, d);
  return args;
}

/** The second half: migrate_vma_pages, map into the device, migrate_vma_finalize. */
export function dmirror_migrate_to_device_end(
  m: Machine,
  mod: hmm_dmirror_module,
  d: dmirror,
  args: migrate_vma,
): void {
  migrate_vma_pages(m, args);
  dmirror_migrate_finalize_and_map(m, mod, args, d);
  migrate_vma_finalize(m, args);
}

function dmirror_migrate_to_device(
  m: Machine,
  mod: hmm_dmirror_module,
  d: dmirror,
  cmd: hmm_dmirror_cmd,
): number {
  const start = cmd.addr;
  const end = start + cmd.npages * PAGE_SIZE;
  for (let addr = start; addr < end; ) {
    const args = dmirror_migrate_to_device_begin(m, mod, d, addr, end);
    if (typeof args === 'number') return args;
    dmirror_migrate_to_device_end(m, mod, d, args);
    addr = args.start + args.npages * PAGE_SIZE;
  }
  /* Return the migrated data for verification, from the device page table. */
  const bounce = { data: new Array(cmd.npages).fill(0), cpages: 0 };
  const ret = dmirror_do_read(m, d, start, end, bounce);
  if (ret === 0) cmd.ptr = bounce.data;
  cmd.cpages = bounce.cpages;
  return ret;
}

function dmirror_migrate_to_system(
  m: Machine,
  mod: hmm_dmirror_module,
  d: dmirror,
  cmd: hmm_dmirror_cmd,
): number {
  const start = cmd.addr;
  const end = start + cmd.npages * PAGE_SIZE;
  cmd.cpages = 0;
  for (let addr = start; addr < end; ) {
    const vma = find_vma(d.mm, addr);
    if (!vma || !(vma.vm_flags & VM_READ)) return -EINVAL;
    const next = Math.min(end, addr + PTRS_PER_PTE * PAGE_SIZE, vma.vm_end);
    const args = new_migrate(
      vma,
      addr,
      next,
      d.mdevice,
      dmirror_select_device(d) | MIGRATE_VMA_SELECT_COMPOUND,
    );
    const ret = migrate_vma_setup(m, args);
    if (ret) return ret;
    if (dmirror_devmem_fault_alloc_and_copy(m, mod, args, d)) {
      migrate_vma_finalize(m, args);
      return -ENOMEM;
    }
    migrate_vma_pages(m, args);
    for (let i = 0; i < args.npages; i++)
      if (args.src[i] & MIGRATE_PFN_VALID && args.src[i] & MIGRATE_PFN_MIGRATE) cmd.cpages++;
    migrate_vma_finalize(m, args);
    addr = next;
  }
  return 0;
}

/* ---------------- snapshot ---------------- */

/** dmirror_mkentry: the HMM_DMIRROR_PROT_* byte for one hmm_pfn. */
function dmirror_mkentry(m: Machine, d: dmirror, hpfn: number): number {
  const flags = hmm_pfn_flags(hpfn);
  if (flags & HMM_PFN_ERROR) return HMM_DMIRROR_PROT_ERROR;
  if (!(flags & HMM_PFN_VALID)) return HMM_DMIRROR_PROT_NONE;
  const page = hmm_pfn_to_page(hpfn);
  let perm: number;
  if (is_device_private_page(m, page))
    perm =
      page_pgmap(m, page).owner === d.mdevice
        ? HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL
        : HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE;
  else if (is_device_coherent_page(m, page))
    perm =
      page_pgmap(m, page).owner === d.mdevice
        ? HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL
        : HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE;
  else if (page === m.zero_pfn) perm = HMM_DMIRROR_PROT_ZERO;
  else perm = HMM_DMIRROR_PROT_NONE;
  perm |= flags & HMM_PFN_WRITE ? HMM_DMIRROR_PROT_WRITE : HMM_DMIRROR_PROT_READ;
  if (flags & HMM_PFN_ORDER_PMD) perm |= HMM_DMIRROR_PROT_PMD;
  return perm;
}

function dmirror_snapshot(m: Machine, d: dmirror, cmd: hmm_dmirror_cmd): number {
  const start = cmd.addr;
  const end = start + cmd.npages * PAGE_SIZE;
  const out: number[] = [];
  for (let addr = start; addr < end; ) {
    const next = Math.min(addr + 32 * PAGE_SIZE, end);
    const range = {
      start: addr,
      end: next,
      hmm_pfns: [] as number[],
      default_flags: 0,
      dev_private_owner: d.mdevice,
    };
    const ret = hmm_range_fault(m, d.mm, range);
    if (ret) return ret;
    for (const h of range.hmm_pfns) out.push(dmirror_mkentry(m, d, h));
    cmd.cpages += (next - addr) / PAGE_SIZE;
    addr = next;
  }
  cmd.ptr = out;
  return 0;
}

/* ---------------- exclusive (atomic) access ---------------- */

/** dmirror_exclusive: make_device_exclusive on each page, then map it ATOMIC in the device page table. */
function dmirror_exclusive(m: Machine, d: dmirror, cmd: hmm_dmirror_cmd): number {
  const start = cmd.addr;
  const end = start + cmd.npages * PAGE_SIZE;
  for (let addr = start; addr < end; addr += PAGE_SIZE) {
    const page = make_device_exclusive(m, d.mm, addr, null);
    if (page < 0) return page;
    d.pt.set(vpn(addr), page * 4 + DPT_XA_TAG_ATOMIC);
    folio_unlock(m, page_folio(m, page));
    folio_put(m, page_folio(m, page));
  }
  const bounce = { data: new Array(cmd.npages).fill(0), cpages: 0 };
  const ret = dmirror_do_read(m, d, start, end, bounce);
  if (ret === 0) cmd.ptr = bounce.data;
  cmd.cpages = bounce.cpages;
  return ret;
}

/** dmirror_check_atomic: -EPERM while any page of the range is still mapped ATOMIC. */
function dmirror_check_atomic(d: dmirror, start: number, end: number): number {
  for (let v = vpn(start); v < vpn(end); v++) {
    const entry = d.pt.get(v);
    if (entry !== undefined && entry_tag(entry) === DPT_XA_TAG_ATOMIC) return -EPERM;
  }
  return 0;
}

/* ---------------- ioctl ---------------- */

/**
 * dmirror_fops_unlocked_ioctl: run one command. cpages and faults are zeroed
 * first and, as the driver copies them back only on success, the caller's copy
 * is updated only when the return is 0.
 */
export function dmirror_ioctl(
  m: Machine,
  mod: hmm_dmirror_module,
  d: dmirror,
  command: number,
  user: hmm_dmirror_cmd,
): number {
  if (user.addr % PAGE_SIZE) return -EINVAL;
  if (user.npages <= 0) return -EINVAL;
  const cmd: hmm_dmirror_cmd = { ...user, ptr: [...user.ptr], cpages: 0, faults: 0 };
  let ret: number;
  switch (command) {
    case HMM_DMIRROR_READ:
      ret = dmirror_read(m, d, cmd);
      break;
    case HMM_DMIRROR_WRITE:
      ret = dmirror_write(m, d, cmd);
      break;
    case HMM_DMIRROR_MIGRATE_TO_DEV:
      ret = dmirror_migrate_to_device(m, mod, d, cmd);
      break;
    case HMM_DMIRROR_MIGRATE_TO_SYS:
      ret = dmirror_migrate_to_system(m, mod, d, cmd);
      break;
    case HMM_DMIRROR_SNAPSHOT:
      ret = dmirror_snapshot(m, d, cmd);
      break;
    case HMM_DMIRROR_EXCLUSIVE:
      ret = dmirror_exclusive(m, d, cmd);
      break;
    case HMM_DMIRROR_CHECK_EXCLUSIVE:
      ret = dmirror_check_atomic(d, cmd.addr, cmd.addr + cmd.npages * PAGE_SIZE);
      break;
    case HMM_DMIRROR_RELEASE:
      dmirror_device_remove_chunks(m, mod, d.mdevice);
      ret = 0;
      break;
    case HMM_DMIRROR_FLAGS:
      d.flags = cmd.npages;
      ret = 0;
      break;
    default:
      return -EINVAL;
  }
  d.mdevice.stats.device_faults += cmd.faults;
  if (ret) return ret;
  Object.assign(user, cmd);
  return 0;
}

/* ---------------- debug_vm, driver side ---------------- */

/** What dmirror_debug_check last saw of a device: copies of its free lists, and its chunks. */
interface dmirror_debug_seen {
  pages: number[];
  folios: number[];
  chunks: string;
}

/** The pageblocks (pfn >> HPAGE_PMD_ORDER) of the entries that differ between two free lists. */
function dmirror_free_list_changes(
  was: readonly number[],
  now: readonly number[],
  blocks: Set<number>,
): boolean {
  let changed = was.length !== now.length;
  for (let i = 0; i < Math.max(was.length, now.length); i++)
    if (was[i] !== now[i]) {
      changed = true;
      if (was[i] !== undefined) blocks.add(was[i] >> HPAGE_PMD_ORDER);
      if (now[i] !== undefined) blocks.add(now[i] >> HPAGE_PMD_ORDER);
    }
  return changed;
}

/**
 * The driver's own invariants: its free lists hold exactly its free device
 * pages (a free folio's tails count as free), and every other page of a live
 * chunk is in use (a referenced page, or a tail of an allocated folio).
 * With `dirty` (debug_vm's incremental check), only the pageblocks where a
 * page changed or a free-list entry moved are checked; a device whose
 * chunks changed is checked whole.
 */
function dmirror_debug_check(
  m: Machine,
  mod: hmm_dmirror_module,
  dirty: readonly number[] | null,
  seen: Map<dmirror_device, dmirror_debug_seen>,
): void {
  for (const mdevice of mod.devices) {
    const chunks = mdevice.chunks.map((c) => `${c.pagemap.range.start}:${c.remove}`).join(',');
    const was = seen.get(mdevice);
    const all = dirty === null || !was || was.chunks !== chunks;
    const blocks = new Set<number>();
    if (!all) {
      for (const pfn of dirty) blocks.add(pfn >> HPAGE_PMD_ORDER);
      const pages = dmirror_free_list_changes(was.pages, mdevice.free_pages, blocks);
      const folios = dmirror_free_list_changes(was.folios, mdevice.free_folios, blocks);
      if (pages) was.pages = [...mdevice.free_pages];
      if (folios) was.folios = [...mdevice.free_folios];
    } else seen.set(mdevice, { pages: [...mdevice.free_pages], folios: [...mdevice.free_folios], chunks });
    if (!all && blocks.size === 0) continue;
    /* Membership of the free lists, by pfn (a typed array: a Set of every free page cost more than the check). */
    let free: Uint8Array | null = null;
    for (const c of mdevice.chunks) {
      if (c.remove) continue;
      const { start, nr } = c.pagemap.range;
      for (let pfn = start; pfn < start + nr; pfn++) {
        if (!all && !blocks.has(pfn >> HPAGE_PMD_ORDER)) {
          pfn |= HPAGE_PMD_NR - 1;
          continue;
        }
        if (!free) {
          free = new Uint8Array(m.mem.nr_pfns);
          for (const p of mdevice.free_pages) free[p] = 1;
          for (const head of mdevice.free_folios) free.fill(1, head, head + HPAGE_PMD_NR);
        }
        /* A folio frozen by a split also sits at refcount 0, but locked: it is in use, not free. */
        const head = page_folio(m, pfn);
        const idle =
          m.mem._refcount[head] === 0 &&
          !(m.mem.flags[head] & PG_locked) &&
          (head === pfn || m.mem._refcount[pfn] === 0);
        if ((free[pfn] === 1) !== idle)
          throw new KernelInvariantViolation(
            'a free device page is on its device free list',
            pfn,
            `refcount ${m.mem._refcount[page_folio(m, pfn)]}, ${free[pfn] ? 'on' : 'not on'} dmirror${mdevice.id}'s free lists`,
          );
      }
    }
  }
}
