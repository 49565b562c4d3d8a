/*
 * Mirrors mm/madvise.c: MADV_DONTNEED, MADV_HUGEPAGE and MADV_NOHUGEPAGE.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: no khugepaged registration for MADV_HUGEPAGE; only the
 * three advices above are accepted.
 */

import {
  EINVAL,
  ENOMEM,
  MADV_DONTNEED,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  VM_HUGEPAGE,
  VM_MIXEDMAP,
  VM_NOHUGEPAGE,
  VM_PFNMAP,
} from '../include/linux/mm';
import { type mm_struct, PAGE_SIZE } from '../include/linux/mm_types';
import type { Machine } from '../machine';
import { unmap_page_range } from './memory';
import { range_is_mapped, vma_modify_flags } from './mmap';
import {
  mmu_notifier_invalidate_range_end,
  mmu_notifier_invalidate_range_start,
  mmu_notifier_range_init,
} from './mmu_notifier';

/** do_madvise. */
export function do_madvise(m: Machine, mm: mm_struct, start: number, len: number, advice: number): number {
  if (start % PAGE_SIZE) return -EINVAL;
  if (advice !== MADV_DONTNEED && advice !== MADV_HUGEPAGE && advice !== MADV_NOHUGEPAGE) return -EINVAL;
  const end = start + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  if (!range_is_mapped(mm, start, end)) return -ENOMEM;
  for (const vma of mm.mmap.filter((v) => v.vm_end > start && v.vm_start < end)) {
    const s = Math.max(start, vma.vm_start);
    const e = Math.min(end, vma.vm_end);
    if (advice === MADV_DONTNEED) {
      if (vma.vm_flags & (VM_PFNMAP | VM_MIXEDMAP)) return -EINVAL;
      madvise_dontneed_single_vma(m, vma, s, e);
    } else {
      /* hugepage_madvise */
      const flags =
        advice === MADV_HUGEPAGE
          ? (vma.vm_flags & ~VM_NOHUGEPAGE) | VM_HUGEPAGE
          : (vma.vm_flags & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
      vma_modify_flags(m, vma, s, e, flags);
    }
  }
  return 0;
}

/**
 * madvise_dontneed_single_vma → zap_page_range_single: drop the mappings of
 * the range (the VMA stays); secondary MMUs see MMU_NOTIFY_CLEAR. The next
 * access faults in fresh zero-filled (anonymous) or page-cache (file) pages.
 */
function madvise_dontneed_single_vma(
  m: Machine,
  vma: Parameters<typeof unmap_page_range>[1],
  start: number,
  end: number,
): void {
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', vma.vm_mm, start, end);
  mmu_notifier_invalidate_range_start(range);
  unmap_page_range(m, vma, start, end);
  mmu_notifier_invalidate_range_end(range);
}
