/*
 * Mirrors the folio lock helpers of include/linux/pagemap.h.
 * Kernel: linux-mm tree, late 2025.
 *
 * Simplified here: nothing sleeps. A trylock on a locked folio fails, and a
 * caller that would wait reports that it is waiting instead.
 */
import type { Machine } from '../../machine';
import { PG_locked } from './page-flags';

export function folio_trylock(m: Machine, folio: number): boolean {
  if (m.mem.flags[folio] & PG_locked) return false;
  m.mem.flags[folio] |= PG_locked;
  return true;
}

export function folio_unlock(m: Machine, folio: number): void {
  m.mem.flags[folio] &= ~PG_locked;
}
