/*
 * Mirrors kernel/fork.c (copy_process → copy_mm → dup_mm) and mm/mmap.c
 * dup_mmap: the child gets a copy of each VMA and, where needed, of its page
 * tables; and the end of a task (kernel/exit.c do_exit and wait, a fatal
 * kill from kernel/signal.c).
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: a task is only a pid, a name, an mm and its exit code.
 * MMF_HAS_PINNED is not inherited, as it is not in MMF_INIT_MASK. No
 * parent links: any task may wait for any exited one. Only SIGKILL is sent.
 */

import {
  ECHILD,
  ENOMEM,
  ESRCH,
  VM_DONTCOPY,
  VM_MIXEDMAP,
  VM_PFNMAP,
  VM_WIPEONFORK,
} from '../include/linux/mm';
import type { mm_struct, task_struct, vm_area_struct } from '../include/linux/mm_types';
import { EngineUsageError } from '../include/linux/mmdebug';
import type { Machine } from '../machine';
import { copy_page_range } from '../mm/memory';
import { exit_mmap, mm_alloc } from '../mm/mmap';
import { anon_vma_fork } from '../mm/rmap';

/**
 * vma_needs_copy: page tables are copied only where the child could not
 * simply fault the pages in again: PFN/mixed maps, and VMAs with anonymous
 * pages (an anon_vma). Shared and untouched private file mappings start empty.
 */
function vma_needs_copy(dst_vma: vm_area_struct, src_vma: vm_area_struct): boolean {
  if (dst_vma.vm_flags & (VM_PFNMAP | VM_MIXEDMAP)) return true;
  return src_vma.anon_vma !== null;
}

/** dup_mmap: copy every VMA except VM_DONTCOPY ones, and VM_WIPEONFORK ones without their pages. Returns 0 or a negative errno. */
function dup_mmap(m: Machine, mm: mm_struct, oldmm: mm_struct): number {
  for (const src of oldmm.mmap) {
    if (src.vm_flags & VM_DONTCOPY) continue;
    const dst: vm_area_struct = {
      vm_start: src.vm_start,
      vm_end: src.vm_end,
      vm_flags: src.vm_flags,
      vm_pgoff: src.vm_pgoff,
      vm_mm: mm,
      vm_file: src.vm_file,
      anon_vma: null,
      anon_vma_chain: [],
    };
    /* VM_WIPEONFORK gets a clean slate in the child: no anon_vma until it faults, no pages copied. */
    const wipe = (src.vm_flags & VM_WIPEONFORK) !== 0;
    if (!wipe) anon_vma_fork(m, dst, src);
    mm.mmap.push(dst);
    dst.vm_file?.i_mmap.add(dst);
    if (!wipe && vma_needs_copy(dst, src) && copy_page_range(m, dst, src) !== 0) return -ENOMEM;
  }
  return 0;
}

/** copy_process with CLONE_VM clear: the child gets its own copy of the parent's address space. */
export function copy_process(m: Machine, parent: task_struct, comm: string): task_struct | number {
  if (!parent.mm) throw new Error(`task ${parent.comm} has no mm`);
  const mm = mm_alloc(m);
  const ret = dup_mmap(m, mm, parent.mm);
  if (ret !== 0) {
    exit_mmap(m, mm);
    return ret;
  }
  const child: task_struct = { pid: m.next_pid++, comm, mm };
  m.tasks.set(child.pid, child);
  return child;
}

/**
 * do_exit (kernel/exit.c) → exit_mm → mmput → exit_mmap. The task stays a
 * zombie holding its wait status until its parent reaps it: code is
 * (status & 0xff) << 8 for exit(status), or the number of the fatal signal.
 */
export function do_exit(m: Machine, task: task_struct, code = 0): void {
  if (task.mm) exit_mmap(m, task.mm);
  task.mm = null;
  task.exit_code = code;
  m.tasks.delete(task.pid);
}

/** SIGKILL: the one signal the engine delivers. */
export const SIGKILL = 9;

/**
 * kill(2) of a task with SIGKILL (kernel/signal.c): 0, or -ESRCH when it is
 * gone. A fatal signal makes the task die at once: get_signal →
 * do_group_exit(SIGKILL) → do_exit(SIGKILL).
 */
export function kill_pid(m: Machine, task: task_struct, sig: number): number {
  if (sig !== SIGKILL) throw new EngineUsageError('not modelled', `signal ${sig}: only SIGKILL is delivered`);
  if (!m.tasks.has(task.pid)) return -ESRCH;
  do_exit(m, task, sig);
  return 0;
}

/**
 * waitpid(pid, &status, 0) on an exited child (wait_task_zombie): reaps it
 * and returns its pid and wait status; -ECHILD when there is no such zombie.
 * A child still running would make waitpid sleep, which a scenario cannot.
 */
export function wait_task_zombie(m: Machine, task: task_struct): { pid: number; status: number } | number {
  if (m.tasks.has(task.pid))
    throw new EngineUsageError('would block', `waitpid for ${task.comm}, which is still running`);
  if (task.exit_code === undefined || task.reaped) return -ECHILD;
  task.reaped = true;
  return { pid: task.pid, status: task.exit_code };
}
