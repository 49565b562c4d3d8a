/*
 * Mirrors include/linux/mmdebug.h (VM_BUG_ON*, VM_WARN_ON*) and mm/debug.c.
 * Kernel: linux-mm tree, late 2025 (v6.19-era).
 *
 * Simplified here: the kernel panics on VM_BUG_ON and prints on VM_WARN_ON.
 * The engine throws a KernelInvariantViolation for the first (the spec is
 * violated) and records a KernelWarning for the second, so a scenario can claim
 * an expected warning and the harness fails every unclaimed one.
 */

/** A debug_vm invariant does not hold: the simulated kernel is in a state the real one forbids. */
export class KernelInvariantViolation extends Error {
  override readonly name = 'KernelInvariantViolation';
  constructor(
    /** The invariant's name, as listed in engine/mm/debug_vm.ts. */
    readonly rule: string,
    /** The page frame the violation was found on, or -1 when it is not about one page. */
    readonly pfn: number,
    /** A dump_page-style description of the state that broke the rule. */
    readonly state: string,
  ) {
    super(`debug_vm: invariant "${rule}" violated${pfn >= 0 ? ` at pfn ${pfn}` : ''}: ${state}`);
  }
}

/** The engine was asked to do something that has no meaning: an unknown process, an address with no VMA… */
export class EngineUsageError extends Error {
  override readonly name = 'EngineUsageError';
  constructor(
    /** The rule of use that was broken, in a few words. */
    readonly rule: string,
    detail: string,
  ) {
    super(`engine misuse (${rule}): ${detail}`);
  }
}

/** One VM_WARN_ON that fired. */
export interface KernelWarning {
  /** The kernel function that warns, e.g. "zap_nonpresent_ptes". */
  readonly where: string;
  readonly message: string;
}

/** VM_BUG_ON: an internal consistency check inside an engine function. */
export function VM_BUG_ON(cond: boolean, rule: string, pfn: number, state: string): void {
  if (cond) throw new KernelInvariantViolation(rule, pfn, state);
}
