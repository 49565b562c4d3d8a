/**
 * Helpers for the steps' C translations (support/vocabulary.ts): how the
 * vocabulary's values are written in the C of kernel/scenario/mmspec.h, and
 * how the engine's view is projected onto what userspace can see.
 */
import { mm } from '../engine';
import type { MappingState } from './parameter_types';
import type { IntPattern } from './patterns';
import type { Translator } from './vocabulary';
import type { PageRange } from './world';

export const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** `b, first, count` of a page range, as mmspec.h's functions take it. */
export function cRange(c: Translator, r: PageRange): string {
  return `${c.buf(r.buffer.name)}, ${r.first}, ${r.count}`;
}

/** `kind, sign, constant` of an int pattern (mmspec.h mm_pattern). */
export function cPattern(p: IntPattern): string {
  if (p.kind === 'zero') return '0, 0, 0';
  if (p.kind === 'ff') return '1, 0, 0';
  return `2, ${p.sign}, ${p.constant}`;
}

export function cProt(prot: number): string {
  if (prot === mm.PROT_NONE) return 'PROT_NONE';
  return [prot & mm.PROT_READ ? 'PROT_READ' : '', prot & mm.PROT_WRITE ? 'PROT_WRITE' : '']
    .filter(Boolean)
    .join(' | ');
}

export const cSharing = (flags: number): string => (flags & mm.MAP_SHARED ? 'MAP_SHARED' : 'MAP_PRIVATE');

/** A C string literal of a name a feature file gave (a file name, a THP mode). */
export function cString(s: string): string {
  if (!/^[\w .,:+-]*$/.test(s)) throw new Error(`"${s}" cannot be written as a C string here`);
  return `"${s}"`;
}

/** The name of a negative errno, as mmspec.h's mm_errname prints it: -16 → "-EBUSY". */
export function errnoName(ret: number): string {
  if (ret === 0) return '0';
  const names = Object.entries(mm as unknown as Record<string, unknown>).filter(
    ([k, v]) => /^E[A-Z]+$/.test(k) && v === -ret,
  );
  if (!names.length) throw new Error(`no errno has the value ${-ret}`);
  return `-${names[0][0]}`;
}

/** One string per page, runs folded as mmspec.h mm_obs_pages prints them: ["mapped x512"]. */
export function folded(states: readonly string[]): string[] {
  const out: string[] = [];
  let run = '';
  let n = 0;
  for (const s of [...states, '\0']) {
    if (run && s !== run) {
      out.push(`${run} x${n}`);
      n = 0;
    }
    run = s;
    n++;
  }
  return out;
}

/**
 * What userspace sees of a mapping state (mmspec.h mm_state): pagemap and
 * PAGEMAP_SCAN show presence, the zero pages, a PMD mapping and the swap
 * type of a non-present entry, but not whether a present PTE is writable
 * or PROT_NONE, nor whether a device-private or migration entry is a PMD.
 */
export function visibleState(state: MappingState | string): string {
  switch (state) {
    case 'mapped read-only':
    case 'mapped writable':
    case 'inaccessible':
      return 'mapped';
    case 'PMD-mapped read-only':
    case 'PMD-mapped writable':
      return 'PMD-mapped';
    case 'PMD-mapped device-private, writable':
      return 'device-private, writable';
    case 'PMD-mapped device-private, read-only':
      return 'device-private, read-only';
    case 'a PMD migration entry':
      return 'a migration entry';
    default:
      return state;
  }
}

/** How mmspec.h mm_memory names where a page's memory is, from the engine's folio memory type. */
export function visibleMemory(memory: string): string {
  if (memory === 'MEMORY_DEVICE_PRIVATE') return 'device-private memory';
  if (memory === 'MEMORY_DEVICE_COHERENT') return 'device-coherent memory';
  return memory;
}

/** `mm_addr(b, first)`: the address of a page range's first page in the C program. */
export function cAddr(c: Translator, r: PageRange): string {
  return `mm_addr(${c.buf(r.buffer.name)}, ${r.first})`;
}
