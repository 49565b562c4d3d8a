/*
 * The simulated machine: the global state the kernel keeps in file-scope
 * variables (mem_map, the zone, the zero pages, the task list, the
 * deferred-split queue) gathered in one object, so that every scenario can
 * boot a fresh, independent kernel.
 * Kernel: linux-mm tree, late 2025 (mm/mm_init.c, mm/huge_memory.c, kernel/fork.c).
 *
 * Simplified here: one NUMA node, one zone. RAM starts at pfn 0. The first
 * pageblock holds the huge zero folio, the first page of the second the
 * shared zero page; a hugetlb pool (hugepages=N) takes its pageblocks after them.
 */

import type { dev_pagemap } from './include/linux/memremap';
import {
  type address_space,
  type anon_vma,
  HPAGE_PMD_NR,
  HPAGE_PMD_ORDER,
  MAX_PFN,
  mem_map,
  type mm_struct,
  type task_struct,
} from './include/linux/mm_types';
import type { KernelWarning } from './include/linux/mmdebug';
import { PG_reserved } from './include/linux/page-flags';
import type { preemption } from './kernel/sched';
import type { folio_split_phase } from './mm/huge_memory';
import { type hstate, hugetlb_init } from './mm/hugetlb';
import { __alloc_pages, zone, zone_init } from './mm/page_alloc';

export interface MachineConfig {
  /** System RAM in pages; rounded up to whole pageblocks (512 pages). */
  ram_pages: number;
  /** /sys/kernel/mm/transparent_hugepage/enabled. These machines run "madvise". */
  transparent_hugepage: 'always' | 'madvise' | 'never';
  /** /sys/kernel/mm/transparent_hugepage/use_zero_page: a THP read fault maps the huge zero page. */
  use_huge_zero_page: boolean;
  /** CONFIG_DEBUG_VM: check every debug_vm invariant after each operation. */
  debug_vm: boolean;
  /**
   * What FOLL_LONGTERM does to a DEVICE_COHERENT page: the merged kernel
   * (v6.0) migrates it to system RAM and pins the copy; the v6 series
   * (February 2022, "mm/gup: fail get_user_pages for LONGTERM dev coherent
   * type") refused the pin with -EFAULT.
   */
  coherent_longterm_pin: 'migrate' | 'fail';
  /**
   * How FS-DAX pages are reference-counted (seed 003). 'old': the design from
   * v4.15 to ≈v6.14, as in the thread's v5.15 kernel: DAX faults install
   * special devmap PTEs (vmf_insert_mixed → insert_pfn, pte_mkdevmap) that
   * vm_normal_page skips and that hold no page reference or mapcount; an idle
   * page sits at refcount 1 and is free again when it drops back to 1
   * (put_devmap_managed_page); GUP finds the page through get_dev_pagemap; and
   * memunmap_pages drops each page's idle reference (put_page per pfn), so it
   * waits for GUP references but not for mappings. 'fixed': Gunthorpe's
   * proposal in the thread, merged in Popple's FS-DAX series (≈v6.15): normal,
   * refcounted and rmapped PTEs (vmf_insert_page_mkwrite → insert_page), idle
   * pages at 0, and removal that waits until every page is idle.
   */
  devmap_refcount: 'old' | 'fixed';
  /**
   * Whether removing an FS-DAX device waits for its pages (fixed devmap
   * design only). 'no-wait', as the kernel does since Popple's FS-DAX series
   * (≈v6.15) and still in 7.2: memunmap_pages drops the pfn_len references
   * memremap_pages took (percpu_ref_put_many) and FS-DAX page references
   * never count in pgmap->ref (free_zone_device_folio only wakes waiters), so
   * the removal completes with pages still mapped or pinned; the filesystem
   * is expected to unmap them first (MF_MEM_PRE_REMOVE, dax_break_layout_final).
   * 'wait': the design the October 2021 thread describes (S003-5), where the
   * pagemap waits until every FS-DAX page is idle; proposed, never merged.
   */
  fsdax_removal: 'no-wait' | 'wait';
  /**
   * How a device-private THP is split when its PMD is split: the merged
   * design unmaps it into migration entries, freezes, splits and remaps (as
   * __folio_split does for every THP); the v2 patch of the series
   * (split_device_private_folio) froze and split it while still mapped.
   */
  device_private_split: 'merged' | 'v2';
  /**
   * How migrate_vma_collect_huge_pmd collects a THP that another mm maps
   * (after fork): 'compound', as 7.x does since device-private THP
   * migration (≈v6.19), as one MIGRATE_PFN_COMPOUND entry, although only the
   * migrating mm's PMD is split if the destination falls back to small
   * pages (the bug of issue 13); 'split-shared', the fix proposed in
   * kernel/patches/0001-mm-migrate_device-do-not-collect-a-shared-THP-as-one-entry.patch:
   * a folio that folio_maybe_mapped_shared() says another mm may map is
   * split first, and its pages migrate one by one.
   */
  shared_thp_migration: 'compound' | 'split-shared';
  /**
   * The CONFIG_DEBUG_VM check remove_migration_pmd makes of a restored PMD
   * (VM_BUG_ON(pmd_write(pmde) && anon && !PageAnonExclusive(new))):
   * 'swap-pmd', as 7.x makes it (since device-private THP migration, ≈v6.19),
   * after a device-private pmde has become a swap PMD, where pmd_write()
   * reads the x86 soft-dirty bit; 'present-pmd', the check made on the
   * present pmde before the conversion, which a soft-dirty entry cannot trip.
   */
  device_private_pmd_write_check: 'swap-pmd' | 'present-pmd';
  /**
   * What a FOLL_PIN without FOLL_WRITE does with a possibly shared anonymous
   * page (gup_must_unshare): 'unshare', since v5.19 (a7f226604170, "mm/gup:
   * trigger FAULT_FLAG_UNSHARE when R/O-pinning a possibly shared anonymous
   * page"), faults to make it exclusive first; 'none', before it, pins the
   * shared page as it is, so the pinning process's next write copies away
   * from the page the pin holds (the bug cow.c's R/O pin tests exist for).
   */
  ro_pin_unshare: 'unshare' | 'none';
  /**
   * hugepages=N on the kernel command line: how many default-size (2 MiB)
   * hugetlb folios the pool takes from the buddy allocator at boot.
   */
  nr_hugepages: number;
}

export const DEFAULT_CONFIG: MachineConfig = {
  ram_pages: 16 * HPAGE_PMD_NR,
  transparent_hugepage: 'madvise',
  use_huge_zero_page: true,
  debug_vm: true,
  coherent_longterm_pin: 'migrate',
  devmap_refcount: 'fixed',
  fsdax_removal: 'no-wait',
  device_private_split: 'merged',
  shared_thp_migration: 'compound',
  device_private_pmd_write_check: 'swap-pmd',
  ro_pin_unshare: 'unshare',
  nr_hugepages: 0,
};

export class Machine {
  readonly config: MachineConfig;
  readonly mem = new mem_map();
  readonly zone: zone;
  /** The shared zero page (ZERO_PAGE(0)). */
  readonly zero_pfn: number;
  /** The huge zero folio, or -1 when use_zero_page is off. */
  readonly huge_zero_pfn: number;
  readonly tasks = new Map<number, task_struct>();
  readonly mms = new Set<mm_struct>();
  readonly anon_vmas = new Map<number, anon_vma>();
  readonly address_spaces = new Map<number, address_space>();
  /** The default hstate: the hugetlb pool of 2 MiB folios. */
  readonly hstate: hstate;
  /** The deferred-split queue (ds_queue): head pfns of partially mapped anon THPs. */
  readonly deferred_split_queue = new Set<number>();
  /** Pagemaps by id (mem_map.pgmap); slot 0 is ordinary RAM. */
  readonly pgmaps: (dev_pagemap | null)[] = [null];
  /**
   * Checks that drivers add to debug_vm (their own free lists and tables):
   * `dirty` lists the pfns whose fields changed since the last check (sorted),
   * or is null for a check of everything.
   */
  readonly driver_checks: ((m: Machine, dirty: readonly number[] | null) => void)[] = [];
  /** vm_event counters (include/linux/vm_event_item.h) the scenarios read. */
  readonly vm_events = {
    PGFAULT: 0,
    PGMIGRATE_SUCCESS: 0,
    PGMIGRATE_FAIL: 0,
    THP_FAULT_ALLOC: 0,
    THP_FAULT_FALLBACK: 0,
  };
  /**
   * The pins GUP handed out, by folio, for the debug_vm checks (the kernel's
   * own debugging keeps no such count: a small folio's pins hide in its
   * refcount bias). `longterm` counts the FOLL_LONGTERM ones.
   */
  readonly debug_pins = new Map<number, { pins: number; longterm: number }>();
  /** The FOLL_GET references GUP handed out, by folio, for the same checks. */
  readonly debug_gets = new Map<number, number>();
  /** A scenario asked the next device-private folio split to stop at this phase. */
  split_pause: folio_split_phase | null = null;
  /** A folio split stopped at a phase, waiting for the scenario to continue it. */
  pending_split: {
    folio: number;
    gen: Generator<folio_split_phase, number>;
    finish: (ret: number) => number;
    stop_at: folio_split_phase | null;
  } | null = null;
  /** Another thread's operation a scenario wants run at a preemption point of the next one (kernel/sched.ts). */
  preemption: preemption | null = null;
  /** VM_WARN_ON_ONCE reports since boot, for the harness to claim or reject. */
  readonly warnings: KernelWarning[] = [];
  next_pid = 1;
  next_mm_id = 1;
  next_anon_vma_id = 1;
  next_mapping_id = 1;

  constructor(config: Partial<MachineConfig> = {}) {
    this.config = { ...DEFAULT_CONFIG, ...config };
    const blocks = Math.max(2, Math.ceil(this.config.ram_pages / HPAGE_PMD_NR));
    const ram = blocks * HPAGE_PMD_NR;
    if (ram > MAX_PFN)
      throw new RangeError(`${ram} pages of RAM exceed the ${MAX_PFN}-pfn limit of the entry encoding`);
    this.mem.grow(ram);
    this.zone = new zone(0, ram);
    zone_init(this, this.zone);
    this.huge_zero_pfn = -1;
    if (this.config.use_huge_zero_page) {
      this.huge_zero_pfn = __alloc_pages(this, this.zone, HPAGE_PMD_ORDER);
      this.mem.flags[this.huge_zero_pfn] |= PG_reserved;
    }
    this.zero_pfn = __alloc_pages(this, this.zone, 0);
    this.mem.flags[this.zero_pfn] |= PG_reserved;
    this.hstate = hugetlb_init(this, this.config.nr_hugepages);
  }

  /** VM_WARN_ON_ONCE: record a warning; the harness fails any scenario that does not claim it. */
  warn(where: string, message: string): void {
    this.warnings.push({ where, message });
  }
}
