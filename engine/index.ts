/*
 * The engine's front door: a syscall-shaped API (mmap, munmap, mprotect,
 * madvise, fork, exit, user loads and stores, GUP) over one simulated Machine,
 * plus read-only queries for Then-steps and report pictures. Every mutating
 * call runs the debug_vm checker afterwards when CONFIG_DEBUG_VM is on.
 *
 * Nothing here knows about Cucumber; names follow the kernel.
 */
import { user_access, type user_access_result, type user_store } from './arch/sim/fault';
import {
  type daxfs,
  daxfs_create,
  daxfs_mount,
  daxfs_punch_hole,
  daxfs_register_holder,
  daxfs_truncate,
  devdax_open,
  pmem_attach_disk,
  type pmem_device,
  pmem_remove,
} from './fs/dax';
import { clear_refs_soft_dirty, pagemap_read } from './fs/proc/task_mmu';
import { kmap_local_page } from './include/linux/highmem';
import {
  type dev_pagemap,
  MEMORY_DEVICE_FS_DAX,
  MEMORY_DEVICE_GENERIC,
  MEMORY_TYPE_NAMES,
} from './include/linux/memremap';
import type { migrate_vma } from './include/linux/migrate';
import {
  EAGAIN,
  folio_mapcount,
  folio_maybe_dma_pinned,
  folio_nr_pages,
  folio_order,
  folio_test_anon,
  folio_test_large,
  is_huge_zero_pfn,
  is_zero_pfn,
  page_folio,
} from './include/linux/mm';
import {
  type address_space,
  HPAGE_PMD_ORDER,
  MM_ANONPAGES,
  MM_FILEPAGES,
  MM_SHMEMPAGES,
  MM_SWAPENTS,
  type mm_struct,
  PAGE_SIZE,
  PMD_SIZE,
  type task_struct,
} from './include/linux/mm_types';
import { EngineUsageError } from './include/linux/mmdebug';
import {
  PG_anon_exclusive,
  PG_buddy,
  PG_dirty,
  PG_partially_mapped,
  PG_tail,
} from './include/linux/page-flags';
import { folio_trylock, folio_unlock } from './include/linux/pagemap';
import {
  pmd_is_table,
  pmd_none,
  pmd_pfn,
  pmd_trans_huge,
  pte_devmap,
  pte_dirty,
  pte_pfn,
  pte_present,
  pte_protnone,
  pte_special,
  pte_write,
  pte_young,
} from './include/linux/pgtable';
import { type softleaf_type, softleaf_type_of, swp_offset_pfn } from './include/linux/swapops';
import { copy_process, do_exit, kill_pid, wait_task_zombie } from './kernel/fork';
import type { preemption, preemption_point } from './kernel/sched';
import {
  type dmirror,
  dmirror_file,
  dmirror_fops_open,
  dmirror_fops_release,
  dmirror_ioctl,
  dmirror_migrate_to_device_begin,
  dmirror_migrate_to_device_end,
  type hmm_dmirror_cmd,
  hmm_dmirror_init,
  type hmm_dmirror_module,
} from './lib/test_hmm';
import { Machine, type MachineConfig } from './machine';
import { debug_vm_after_op, debug_vm_check, debug_vm_finish } from './mm/debug_vm';
import { create_file, filemap_read, generic_perform_write } from './mm/filemap';
import { get_user_pages, gup_fast_fallback, pin_user_pages, put_page, unpin_user_page } from './mm/gup';
import { type gup_test, gup_test_ioctl } from './mm/gup_test';
import {
  __folio_split,
  __split_huge_pmd,
  advance_split,
  type folio_split_phase,
  start_split,
} from './mm/huge_memory';
import { hugetlb_report_meminfo } from './mm/hugetlb';
import { do_madvise } from './mm/madvise';
import { vm_normal_page } from './mm/memory';
import { do_mmap, do_vmi_munmap, find_vma, mm_alloc, type mmap_args } from './mm/mmap';
import { mmu_interval_notifier_insert, type mmu_notifier_event } from './mm/mmu_notifier';
import { do_mprotect } from './mm/mprotect';
import { do_mremap, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE } from './mm/mremap';
import { pmdp_get, pte_offset_map, ptep_get } from './mm/pgtable-generic';
import { folio_maybe_mapped_shared, folio_referenced, page_vma_mapped_pmd, rmap_walk } from './mm/rmap';
import { folio_put } from './mm/swap';

export * as pagemap from './fs/proc/task_mmu';
export * as mm from './include/linux/mm';
export { EngineUsageError, KernelInvariantViolation } from './include/linux/mmdebug';
export * as test_hmm from './lib/test_hmm';
export type { MachineConfig } from './machine';
export * as gup_test from './mm/gup_test';

/** What one virtual page is mapped by, as a Then-step or a picture sees it. */
export interface entry_view {
  readonly address: number;
  /** 'pmd' when a huge PMD (present or not) covers the address. */
  readonly level: 'pte' | 'pmd';
  readonly kind: 'none' | 'present' | 'zero page' | 'huge zero page' | softleaf_type;
  readonly writable: boolean;
  readonly dirty: boolean;
  readonly young: boolean;
  readonly protnone: boolean;
  /** pte_special: no refcounted page behind the entry as far as the mm is concerned. */
  readonly special?: boolean;
  /** pte_devmap: an old-design DAX entry (special, yet a struct page is behind it). */
  readonly devmap?: boolean;
  /** The page the entry maps (for a huge PMD, the subpage at this address); -1 for none. */
  readonly page: number;
}

export interface folio_view {
  readonly folio: number;
  readonly order: number;
  readonly refcount: number;
  /** folio_mapcount: page-table mappings of the folio (a PMD mapping counts once). */
  readonly mapcount: number;
  readonly entire_mapcount: number;
  readonly pincount: number;
  readonly anon: boolean;
  /** 'system RAM' or the MEMORY_DEVICE_* type of its pagemap. */
  readonly memory: string;
  /** The pagemap owner (a driver's device object), or null for RAM. */
  readonly owner: unknown;
  readonly dirty: boolean;
  readonly maybe_dma_pinned: boolean;
  readonly maybe_mapped_shared: boolean;
  readonly partially_mapped: boolean;
  readonly on_deferred_split_queue: boolean;
}

export interface page_view {
  readonly page: number;
  /** PTE mappings of this page plus PMD mappings of its folio. */
  readonly mapcount: number;
  readonly anon_exclusive: boolean;
  readonly data: number;
  readonly free: boolean;
}

export interface vma_view {
  readonly start: number;
  readonly end: number;
  readonly flags: number;
  readonly file: string | null;
  readonly anonymous: boolean;
}

/** One invalidation an interval notifier saw. */
export interface notifier_event {
  readonly event: mmu_notifier_event;
  readonly start: number;
  readonly end: number;
  readonly owner: unknown;
}

export interface dax_state_view {
  /** memunmap_pages: not started, waiting for references, or done. */
  readonly removal: 'none' | 'pending' | 'completed';
  readonly idle_wakeups: number;
  readonly notifications: number;
  readonly free_blocks: number[];
}

export interface rss_view {
  readonly MM_FILEPAGES: number;
  readonly MM_ANONPAGES: number;
  readonly MM_SWAPENTS: number;
  readonly MM_SHMEMPAGES: number;
}

export class Kernel {
  readonly machine: Machine;

  constructor(config: Partial<MachineConfig> = {}) {
    this.machine = new Machine(config);
  }

  /** Run a mutating operation, then the debug_vm checker (CONFIG_DEBUG_VM). */
  op<T>(fn: () => T): T {
    const result = fn();
    if (this.machine.config.debug_vm) debug_vm_after_op(this.machine);
    return result;
  }

  /**
   * The end of a scenario or an explored sequence: every debug_vm rule against
   * the whole machine, whatever the per-operation mode (but 'off').
   */
  finish(): void {
    if (this.machine.config.debug_vm) debug_vm_finish(this.machine);
  }

  /** Boot a new process with an empty address space. */
  spawn(comm: string): task_struct {
    const m = this.machine;
    const task: task_struct = { pid: m.next_pid++, comm, mm: mm_alloc(m) };
    m.tasks.set(task.pid, task);
    return task;
  }

  mm_of(task: task_struct): mm_struct {
    if (!task.mm || !this.machine.tasks.has(task.pid))
      throw new EngineUsageError('process has exited', `${task.comm} (pid ${task.pid}) has no address space`);
    return task.mm;
  }

  mmap(task: task_struct, args: mmap_args): number {
    return this.op(() => do_mmap(this.machine, this.mm_of(task), args));
  }
  munmap(task: task_struct, addr: number, len: number): number {
    return this.op(() => do_vmi_munmap(this.machine, this.mm_of(task), addr, len));
  }
  mprotect(task: task_struct, addr: number, len: number, prot: number): number {
    return this.op(() => do_mprotect(this.machine, this.mm_of(task), addr, len, prot));
  }
  madvise(task: task_struct, addr: number, len: number, advice: number): number {
    return this.op(() => do_madvise(this.machine, this.mm_of(task), addr, len, advice));
  }
  /** mremap(addr, len, len, MREMAP_MAYMOVE | MREMAP_FIXED [| MREMAP_DONTUNMAP], new_addr): the new address or -errno. */
  mremap(task: task_struct, addr: number, len: number, new_addr: number, dontunmap = false): number {
    const flags = MREMAP_MAYMOVE | MREMAP_FIXED | (dontunmap ? MREMAP_DONTUNMAP : 0);
    return this.op(() => do_mremap(this.machine, this.mm_of(task), addr, len, flags, new_addr));
  }
  /** fork(): returns the child, or a negative errno. */
  fork(task: task_struct, comm: string): task_struct | number {
    this.mm_of(task);
    return this.op(() => copy_process(this.machine, task, comm));
  }
  exit(task: task_struct): void {
    this.mm_of(task);
    this.op(() => do_exit(this.machine, task));
  }
  /** kill(pid, SIGKILL): 0, or -ESRCH; the task dies at once. */
  kill(task: task_struct, sig: number): number {
    return this.op(() => kill_pid(this.machine, task, sig));
  }
  /** waitpid(pid, &status, 0) on an exited task: its pid and wait status, or -ECHILD. */
  waitpid(task: task_struct): { pid: number; status: number } | number {
    return wait_task_zombie(this.machine, task);
  }
  /** echo 4 > /proc/pid/clear_refs: clear the soft-dirty bits, so that writes fault again. */
  clear_soft_dirty(task: task_struct): void {
    this.op(() => clear_refs_soft_dirty(this.machine, this.mm_of(task)));
  }
  /** A user load or store of one word in each page of the range (see user_store for what a store writes). */
  access(
    task: task_struct,
    addr: number,
    nr_pages: number,
    write: boolean,
    value: user_store = 0,
  ): user_access_result {
    return this.op(() => user_access(this.machine, this.mm_of(task), addr, nr_pages, write, value));
  }
  /** get_user_pages: FOLL_GET references; returns the count (or -errno) and the pages. */
  get_user_pages(
    task: task_struct,
    addr: number,
    nr_pages: number,
    flags: number,
  ): { ret: number; pages: number[] } {
    const pages: number[] = [];
    const ret = this.op(() => get_user_pages(this.machine, this.mm_of(task), addr, nr_pages, flags, pages));
    return { ret, pages };
  }
  /** pin_user_pages: FOLL_PIN pins; returns the count (or -errno) and the pages. */
  pin_user_pages(
    task: task_struct,
    addr: number,
    nr_pages: number,
    flags: number,
  ): { ret: number; pages: number[] } {
    const pages: number[] = [];
    const ret = this.op(() => pin_user_pages(this.machine, this.mm_of(task), addr, nr_pages, flags, pages));
    return { ret, pages };
  }
  /** pin_user_pages_fast / get_user_pages_fast: also says how many pages the lockless walk took. */
  gup_fast(
    task: task_struct,
    addr: number,
    nr_pages: number,
    flags: number,
  ): { ret: number; fast: number; pages: number[] } {
    const pages: number[] = [];
    const r = this.op(() => gup_fast_fallback(this.machine, this.mm_of(task), addr, nr_pages, flags, pages));
    return { ...r, pages };
  }
  /** ioctl(gup_fd, cmd, &gup) on /sys/kernel/debug/gup_test (mm/gup_test.c), in the task's context. */
  gup_test_ioctl(task: task_struct, cmd: number, gup: gup_test): number {
    return this.op(() => gup_test_ioctl(this.machine, this.mm_of(task), cmd, gup));
  }
  unpin_user_page(page: number): void {
    this.page(page);
    this.op(() => unpin_user_page(this.machine, page));
  }
  put_page(page: number): void {
    this.page(page);
    this.op(() => put_page(this.machine, page));
  }
  create_file(name: string, nr_pages: number, contents: number[] = []): address_space {
    return create_file(this.machine, name, nr_pages, contents);
  }
  /** pwrite() of one word per page into a file from page `index`: the number of pages written. */
  pwrite(file: address_space, index: number, words: readonly number[]): number {
    return this.op(() => generic_perform_write(this.machine, file, index, words));
  }
  /** pread() of nr_pages pages of a file from page `index`: one word per page read. */
  pread(file: address_space, index: number, nr_pages: number): number[] {
    return this.op(() => filemap_read(this.machine, file, index, nr_pages));
  }

  /**
   * Run `op` (a call on this Kernel) while another thread of the machine runs
   * `other` (another call) when op reaches its nth preemption point
   * (kernel/sched.ts, counting from 1), or after op if op passes fewer.
   * Returns op's result, the point where `other` ran (null: after op) and
   * every point op passed.
   */
  interleave<T>(
    op: () => T,
    nth: number,
    other: () => void,
  ): { result: T; landed: preemption_point | null; points: preemption_point[] } {
    const m = this.machine;
    if (m.preemption) throw new EngineUsageError('interleave', 'an interleaving is already in progress');
    const p: preemption = { nth, other, passed: [], landed: null };
    m.preemption = p;
    let result: T;
    try {
      result = op();
    } finally {
      m.preemption = null;
    }
    if (p.landed === null) other();
    return { result, landed: p.landed, points: [...p.passed] };
  }

  /** Subscribe an interval notifier over [start, start + len) that records every invalidation. */
  watch(task: task_struct, start: number, len: number): notifier_event[] {
    const events: notifier_event[] = [];
    mmu_interval_notifier_insert(this.mm_of(task), start, len, {
      invalidate: (_sub, range) => {
        events.push({ event: range.event, start: range.start, end: range.end, owner: range.owner });
        return true;
      },
    });
    return events;
  }

  /* ---------------- queries ---------------- */

  /** The entry mapping `addr` in the task's page tables. */
  lookup(task: task_struct, addr: number): entry_view {
    const m = this.machine;
    const mm = this.mm_of(task);
    const address = addr - (addr % PAGE_SIZE);
    const none: entry_view = {
      address,
      level: 'pte',
      kind: 'none',
      writable: false,
      dirty: false,
      young: false,
      protnone: false,
      page: -1,
    };
    const pmd = pmdp_get(mm, address);
    if (pmd_none(pmd)) return none;
    if (pmd_trans_huge(pmd)) {
      const head = pmd_pfn(pmd);
      return {
        address,
        level: 'pmd',
        kind: is_huge_zero_pfn(m, head) ? 'huge zero page' : 'present',
        writable: pte_write(pmd),
        dirty: pte_dirty(pmd),
        young: pte_young(pmd),
        protnone: false,
        page: head + ((address / PAGE_SIZE) & ((1 << HPAGE_PMD_ORDER) - 1)),
      };
    }
    if (!pmd_is_table(pmd)) {
      const head = swp_offset_pfn(pmd);
      return {
        ...none,
        level: 'pmd',
        kind: softleaf_type_of(pmd),
        page: head + ((address / PAGE_SIZE) & ((1 << HPAGE_PMD_ORDER) - 1)),
      };
    }
    const pte = ptep_get(pte_offset_map(mm, address) as Uint32Array, address);
    if (pte === 0) return none;
    if (!pte_present(pte)) return { ...none, kind: softleaf_type_of(pte), page: swp_offset_pfn(pte) };
    const pfn = pte_pfn(pte);
    return {
      address,
      level: 'pte',
      kind: is_zero_pfn(m, pfn) ? 'zero page' : 'present',
      writable: pte_write(pte),
      dirty: pte_dirty(pte),
      young: pte_young(pte),
      protnone: pte_protnone(pte),
      special: pte_special(pte),
      devmap: pte_devmap(pte),
      page: pte_special(pte) && !is_zero_pfn(m, pfn) && !pte_devmap(pte) ? -1 : pfn,
    };
  }

  /** The page at pfn; an error if the pfn does not exist. */
  page(pfn: number): page_view {
    const mem = this.machine.mem;
    if (!Number.isInteger(pfn) || pfn < 0 || pfn >= mem.nr_pfns)
      throw new EngineUsageError(
        'no such page',
        `pfn ${pfn} is outside the ${mem.nr_pfns} pages of this machine`,
      );
    const folio = page_folio(this.machine, pfn);
    const entire =
      mem.flags[pfn] & PG_tail || folio_test_large(this.machine, folio)
        ? mem._entire_mapcount[folio >> HPAGE_PMD_ORDER]
        : 0;
    return {
      page: pfn,
      mapcount: mem._mapcount[pfn] + entire,
      anon_exclusive: (mem.flags[pfn] & PG_anon_exclusive) !== 0,
      data: mem.data[pfn],
      free: (mem.flags[pfn] & PG_buddy) !== 0,
    };
  }

  /** The folio containing pfn; an error for a free page, which belongs to no folio. */
  folio(pfn: number): folio_view {
    const m = this.machine;
    if (this.page(pfn).free) throw new EngineUsageError('no such folio', `pfn ${pfn} is free`);
    const folio = page_folio(m, pfn);
    const b = folio >> HPAGE_PMD_ORDER;
    const large = folio_test_large(m, folio);
    return {
      folio,
      order: folio_order(m, folio),
      refcount: m.mem._refcount[folio],
      mapcount: folio_mapcount(m, folio),
      entire_mapcount: large ? m.mem._entire_mapcount[b] : 0,
      pincount: large ? m.mem._pincount[b] : 0,
      anon: folio_test_anon(m, folio),
      memory: !m.mem.pgmap[folio]
        ? 'system RAM'
        : (m.pgmaps[m.mem.pgmap[folio]] ?? null) === null
          ? 'removed device memory'
          : MEMORY_TYPE_NAMES[(m.pgmaps[m.mem.pgmap[folio]] as dev_pagemap).type],
      owner: m.pgmaps[m.mem.pgmap[folio]]?.owner ?? null,
      dirty: (m.mem.flags[folio] & PG_dirty) !== 0,
      maybe_dma_pinned: folio_maybe_dma_pinned(m, folio),
      maybe_mapped_shared: folio_maybe_mapped_shared(m, folio),
      partially_mapped: (m.mem.flags[folio] & PG_partially_mapped) !== 0,
      on_deferred_split_queue: m.deferred_split_queue.has(folio),
    };
  }

  folio_nr_pages(pfn: number): number {
    return folio_nr_pages(this.machine, page_folio(this.machine, pfn));
  }

  rss(task: task_struct): rss_view {
    const r = this.mm_of(task).rss_stat;
    return {
      MM_FILEPAGES: r[MM_FILEPAGES],
      MM_ANONPAGES: r[MM_ANONPAGES],
      MM_SWAPENTS: r[MM_SWAPENTS],
      MM_SHMEMPAGES: r[MM_SHMEMPAGES],
    };
  }

  vmas(task: task_struct): vma_view[] {
    return this.mm_of(task).mmap.map((v) => ({
      start: v.vm_start,
      end: v.vm_end,
      flags: v.vm_flags,
      file: v.vm_file?.name ?? null,
      anonymous: v.vm_file === null,
    }));
  }

  vma_at(task: task_struct, addr: number): vma_view | null {
    const v = find_vma(this.mm_of(task), addr);
    return v
      ? {
          start: v.vm_start,
          end: v.vm_end,
          flags: v.vm_flags,
          file: v.vm_file?.name ?? null,
          anonymous: !v.vm_file,
        }
      : null;
  }

  /** read() of /proc/pid/pagemap: one 64-bit entry per page from addr (PM_* bits, fs/proc/task_mmu.ts). */
  pagemap(task: task_struct, addr: number, nr_pages: number): bigint[] {
    return pagemap_read(this.machine, this.mm_of(task), addr, nr_pages);
  }

  /** The hugetlb pool as /proc/meminfo shows it: HugePages_Total, HugePages_Free, HugePages_Rsvd. */
  hugetlb_meminfo(): { total: number; free: number; reserved: number } {
    return hugetlb_report_meminfo(this.machine);
  }

  /** Free pages in the buddy allocator. */
  nr_free_pages(): number {
    return this.machine.zone.nr_free_pages;
  }

  /* ---------------- the dmirror test driver (lib/test_hmm.c) ---------------- */

  /** Load lib/test_hmm.c: private devices 0 and 1, and coherent devices 2 and 3 when asked for. */
  load_hmm_dmirror(opts: { coherent: boolean; chunk_pages?: number }): hmm_dmirror_module {
    return this.op(() => hmm_dmirror_init(this.machine, opts));
  }
  /** open("/dev/hmm_dmirrorN") by a task: a mirror of that task's mm. */
  dmirror_open(mod: hmm_dmirror_module, device: number, task: task_struct): dmirror {
    const mdevice = mod.devices[device];
    if (!mdevice)
      throw new EngineUsageError(
        'no such device',
        `/dev/hmm_dmirror${device} does not exist (${mod.devices.length} devices)`,
      );
    return this.op(() => dmirror_fops_open(mdevice, this.mm_of(task)));
  }
  dmirror_close(mod: hmm_dmirror_module, d: dmirror): void {
    this.op(() => dmirror_fops_release(this.machine, mod, d));
  }
  dmirror_ioctl(mod: hmm_dmirror_module, d: dmirror, command: number, cmd: hmm_dmirror_cmd): number {
    return this.op(() => dmirror_ioctl(this.machine, mod, d, command, cmd));
  }
  /** The device file /dev/hmm_dmirrorN, to mmap (an address_space whose mmap inserts driver pages). */
  dmirror_file(mod: hmm_dmirror_module, device: number, nr_pages: number): address_space {
    return dmirror_file(this.machine, mod.devices[device], nr_pages);
  }
  /** MIGRATE_TO_DEV stopped after migrate_vma_setup and the copy: the pages sit behind migration entries. */
  dmirror_migrate_begin(
    mod: hmm_dmirror_module,
    d: dmirror,
    addr: number,
    nr_pages: number,
  ): migrate_vma | number {
    return this.op(() =>
      dmirror_migrate_to_device_begin(this.machine, mod, d, addr, addr + nr_pages * PAGE_SIZE),
    );
  }
  dmirror_migrate_end(mod: hmm_dmirror_module, d: dmirror, args: migrate_vma): void {
    this.op(() => dmirror_migrate_to_device_end(this.machine, mod, d, args));
  }
  /** The kernel reads a page through its linear map (kmap_local_page), as a driver's CPU copy would. */
  kmap(pfn: number): number {
    this.page(pfn);
    return this.machine.mem.data[kmap_local_page(this.machine, pfn)];
  }

  /* ---------------- DAX: pmem, a DAX filesystem, device-DAX (fs/dax.c) ---------------- */

  /**
   * Choose the FS-DAX refcount design (MachineConfig.devmap_refcount). Only
   * before any DAX pagemap exists: the design decides how its pages start.
   */
  select_devmap_design(design: 'old' | 'fixed'): void {
    if (
      this.machine.pgmaps.some(
        (p) => p && (p.type === MEMORY_DEVICE_FS_DAX || p.type === MEMORY_DEVICE_GENERIC),
      )
    )
      throw new EngineUsageError('devmap design', 'choose the design before any pmem device is attached');
    this.machine.config.devmap_refcount = design;
  }

  /** A pmem namespace with struct pages, in fsdax (MEMORY_DEVICE_FS_DAX) or devdax (MEMORY_DEVICE_GENERIC) mode. */
  pmem_attach(name: string, nr_pages: number, mode: 'fsdax' | 'devdax'): pmem_device {
    const pmem = this.op(() => pmem_attach_disk(this.machine, name, nr_pages, mode));
    if (typeof pmem === 'number')
      throw new EngineUsageError('pmem device', `${name}: memremap_pages failed (${pmem})`);
    return pmem;
  }
  /** mount -o dax. */
  daxfs_mount(pmem: pmem_device): daxfs {
    const fs = this.op(() => daxfs_mount(pmem));
    if (typeof fs === 'number')
      throw new EngineUsageError('DAX filesystem', `${pmem.name} is not a free fsdax device`);
    return fs;
  }
  /** The filesystem registers as holder of its DAX device, to be told before the device goes. */
  daxfs_register_holder(fs: daxfs): void {
    this.op(() => daxfs_register_holder(this.machine, fs));
  }
  daxfs_create(fs: daxfs, name: string, nr_pages: number, contents: number[] = []): address_space {
    const mapping = this.op(() => daxfs_create(this.machine, fs, name, nr_pages, contents));
    if (typeof mapping === 'number')
      throw new EngineUsageError('DAX filesystem', `no room for ${nr_pages} blocks of ${name}`);
    return mapping;
  }
  /** truncate(2): true when done, false while it waits for a busy page. */
  dax_truncate(fs: daxfs, mapping: address_space, nr_pages: number): boolean {
    return this.op(() => daxfs_truncate(this.machine, fs, mapping, nr_pages));
  }
  /** fallocate(FALLOC_FL_PUNCH_HOLE): true when done, false while it waits for a busy page. */
  dax_punch_hole(fs: daxfs, mapping: address_space, start: number, nr_pages: number): boolean {
    return this.op(() => daxfs_punch_hole(this.machine, fs, mapping, start, nr_pages));
  }
  /** Unbind the pmem device: true when memunmap_pages completed, false while it waits. */
  pmem_remove(pmem: pmem_device): boolean {
    return this.op(() => pmem_remove(this.machine, pmem));
  }
  /** open("/dev/daxN.0") of a devdax namespace. */
  devdax_open(pmem: pmem_device): address_space {
    const mapping = this.op(() => devdax_open(this.machine, pmem));
    if (typeof mapping === 'number')
      throw new EngineUsageError('device-DAX', `${pmem.name} is not in devdax mode`);
    return mapping;
  }
  /** A DAX device's state: its removal, idle-page wakeups, holder notifications and free blocks. */
  dax_state(pmem: pmem_device): dax_state_view {
    const { pgmap } = pmem;
    return {
      removal: pgmap.removed ? 'completed' : pgmap.dying ? 'pending' : 'none',
      idle_wakeups: pmem.idle_wakeups,
      notifications: pmem.fs?.notifications ?? 0,
      free_blocks: [...(pmem.fs?.free_blocks ?? [])],
    };
  }
  /** A DAX file's size in pages and the device pfn of each block (-1 for a hole). */
  dax_file(mapping: address_space): { pages: number; blocks: number[] } {
    if (!mapping.dax) throw new EngineUsageError('not a DAX file', mapping.name);
    return { pages: mapping.i_pages.length, blocks: [...mapping.dax.blocks] };
  }
  /** The page vm_normal_page finds behind the PTE at addr, or -1 (none, or a special PTE). */
  normal_page(task: task_struct, addr: number): number {
    const vma = find_vma(this.mm_of(task), addr);
    const table = pte_offset_map(this.mm_of(task), addr);
    const pte = table ? ptep_get(table, addr) : 0;
    if (!vma || !pte_present(pte)) return -1;
    return vm_normal_page(this.machine, vma, addr, pte);
  }

  /* ---------------- THP splits, phase by phase ---------------- */

  /** Select how device-private THPs are split (a behaviour, so it can change at any time). */
  select_device_private_split(design: MachineConfig['device_private_split']): void {
    this.machine.config.device_private_split = design;
  }
  /** Select whether FS-DAX device removal waits for its pages (MachineConfig.fsdax_removal). */
  select_fsdax_removal(design: MachineConfig['fsdax_removal']): void {
    this.machine.config.fsdax_removal = design;
  }
  /** Select how a THP that another mm maps is collected for device migration (kernel/patches/0001). */
  select_shared_thp_migration(design: MachineConfig['shared_thp_migration']): void {
    this.machine.config.shared_thp_migration = design;
  }
  /** Select where remove_migration_pmd's DEBUG_VM write check looks (MachineConfig.device_private_pmd_write_check). */
  select_device_private_pmd_write_check(design: MachineConfig['device_private_pmd_write_check']): void {
    this.machine.config.device_private_pmd_write_check = design;
  }
  /** Ask the next folio split to stop when it reaches `phase` (for interleaving). */
  pause_next_split(phase: folio_split_phase): void {
    this.machine.split_pause = phase;
  }
  /** Continue a stopped split to its next requested stop or to the end: the phase reached, or 'done' and its result. */
  continue_split(): { phase: folio_split_phase | 'done'; ret: number } {
    return this.op(() => advance_split(this.machine));
  }
  /** split_huge_pmd_address: split the huge PMD (present or device-private) that maps addr. */
  split_huge_pmd(task: task_struct, addr: number): void {
    const mm = this.mm_of(task);
    const vma = find_vma(mm, addr);
    if (!vma) throw new EngineUsageError('address has no VMA', `0x${addr.toString(16)} in ${task.comm}`);
    const haddr = addr - (addr % PMD_SIZE);
    const pmd = pmdp_get(mm, haddr);
    if (pmd_none(pmd) || pmd_is_table(pmd))
      throw new EngineUsageError(
        'no huge PMD',
        `0x${haddr.toString(16)} in ${task.comm} is not mapped by a PMD`,
      );
    this.op(() => __split_huge_pmd(this.machine, vma, haddr));
  }
  /** split_folio on the large folio containing pfn (locked and referenced for the split, as its callers do). */
  split_folio(pfn: number): number {
    const m = this.machine;
    const folio = page_folio(m, this.page(pfn).page);
    if (!folio_test_large(m, folio))
      throw new EngineUsageError('not a large folio', `pfn ${pfn} is an order-0 folio`);
    return this.op(() => {
      m.mem._refcount[folio]++;
      if (!folio_trylock(m, folio)) {
        m.mem._refcount[folio]--;
        return -EAGAIN;
      }
      return start_split(m, folio, __folio_split(m, folio), (ret) => {
        folio_unlock(m, folio);
        folio_put(m, folio);
        return ret;
      });
    });
  }
  /** A driver takes a reference by pfn (folio_try_get): refused while the refcount is frozen at 0. */
  folio_try_get(pfn: number): boolean {
    const m = this.machine;
    const folio = page_folio(m, this.page(pfn).page);
    return this.op(() => {
      if (m.mem._refcount[folio] === 0) return false;
      m.mem._refcount[folio]++;
      return true;
    });
  }
  /** A driver drops a reference it took by pfn. */
  folio_put(pfn: number): void {
    const m = this.machine;
    this.op(() => folio_put(m, page_folio(m, pfn)));
  }
  /** folio_referenced, as page idle tracking and DAMON call it: how many mappings it saw. */
  folio_referenced(pfn: number): number {
    return folio_referenced(this.machine, page_folio(this.machine, this.page(pfn).page)).mapped;
  }
  /** How the rmap walk (page_vma_mapped_walk, as try_to_migrate uses it) finds the folio mapped: 'pmd' and 'pte' counts. */
  rmap_mappings(pfn: number): { pmd: number; pte: number } {
    const m = this.machine;
    const folio = page_folio(m, this.page(pfn).page);
    let pmd = 0;
    rmap_walk(m, folio, (vma, address) => {
      if (page_vma_mapped_pmd(m, folio, vma, address)) pmd++;
    });
    return { pmd, pte: folio_mapcount(m, folio) - pmd };
  }
  /** A kernel path calling pmd_pfn() on the PMD that maps addr. */
  pmd_pfn_at(task: task_struct, addr: number): number {
    return pmd_pfn(pmdp_get(this.mm_of(task), addr - (addr % PMD_SIZE)));
  }

  /** Run the debug_vm checker now. */
  check(): void {
    debug_vm_check(this.machine);
  }
}
