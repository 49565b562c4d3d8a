/*
 * Mirrors include/linux/highmem.h: the kernel's own CPU accesses to page
 * contents through the linear map (kmap_local_page, copy_highpage,
 * clear_highpage, folio_copy).
 * Kernel: linux-mm tree, late 2025.
 *
 * The engine adds the check the hardware would make: device-private memory
 * has struct pages but no linear mapping (memremap_pages adds it with
 * add_pages, not arch_add_memory), so any CPU access to it is a bug.
 */
import type { Machine } from '../../machine';
import { MEMORY_DEVICE_PRIVATE } from './memremap';
import { KernelInvariantViolation } from './mmdebug';

/** The rule a CPU access to device-private memory breaks. */
export const NOT_CPU_ADDRESSABLE = 'device-private memory is not CPU-addressable';

/** kmap_local_page: the linear-map address of a page, here its contents word. */
export function kmap_local_page(m: Machine, pfn: number): number {
  const id = m.mem.pgmap[pfn];
  if (id !== 0 && m.pgmaps[id]?.type === MEMORY_DEVICE_PRIVATE)
    throw new KernelInvariantViolation(
      NOT_CPU_ADDRESSABLE,
      pfn,
      'kmap of a MEMORY_DEVICE_PRIVATE pfn: it has no linear mapping',
    );
  return pfn;
}

/** copy_highpage: CPU copy of one page. */
export function copy_highpage(m: Machine, to: number, from: number): void {
  m.mem.data[kmap_local_page(m, to)] = m.mem.data[kmap_local_page(m, from)];
}

/** clear_highpage: CPU zeroing of one page. */
export function clear_highpage(m: Machine, pfn: number): void {
  m.mem.data[kmap_local_page(m, pfn)] = 0;
}
