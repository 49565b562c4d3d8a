/**
 * The int patterns the kernel's selftests write and check, in the engine's
 * one-word-per-page model of a page's contents.
 *
 * hmm-tests.c fills a buffer with `ptr[i] = i` (or `-i`, or `i + c`), and
 * fills the mirror with `-i` or with 0xFF bytes, then checks the same
 * formula int by int. The engine keeps one contents word per page, so a
 * page's word here encodes which formula its 1024 ints follow and for which
 * page they were written: a page moved by migration, mremap or CoW keeps
 * its word, and a check at a page that holds another page's ints, or the
 * wrong formula, fails, as the C test's check would. The encoding is
 * invertible, so `ptr[i]++` over every int (hmm-tests.c `exclusive`) is a
 * word-to-word function, and one int can be read back (`ptr[2048] == 2048`).
 *
 *   0x00000000  every int 0 (a fresh or zero page)
 *   0xffffffff  every byte 0xFF (the tests' "mirror[i] = -1" fill)
 *   bits 31-30 11 (other than 0xffffffff): one int set on a zero page, as
 *               `*ptr = val` leaves it: bits 29-20 the int j, bits 19-0 its
 *               value (0 to 0xffffe); every other int 0
 *   otherwise   bits 31-30 sign (01: +i, 10: -i), bits 29-20 the constant c
 *               (0-1023), bits 19-0 the page index k in the buffer:
 *               int j of the page holds sign·(1024·k + j) + c
 */

export const INTS_PER_PAGE = 1024;
const PAGE_BITS = 20;
const MAX_PAGES = 1 << PAGE_BITS;
const MAX_CONSTANT = 1 << 10;
const ALL_FF = 0xffffffff;

/** A formula for ptr[i]: sign·i + constant, or every int 0, or every byte 0xFF. */
export type IntPattern =
  | { readonly kind: 'linear'; readonly sign: 1 | -1; readonly constant: number }
  | { readonly kind: 'zero' }
  | { readonly kind: 'ff' };

/** The pattern written in a step: `i`, `-i`, `i + 3`, `0`, or `0xFF bytes`. */
export function parsePattern(text: string): IntPattern {
  if (text === '0') return { kind: 'zero' };
  if (text === '0xFF bytes') return { kind: 'ff' };
  const m = /^(-?)i(?: \+ (\d+))?$/.exec(text);
  if (!m) throw new Error(`"${text}" is not an int pattern: write i, -i, i + c, 0 or 0xFF bytes`);
  const constant = m[2] === undefined ? 0 : Number(m[2]);
  if (constant >= MAX_CONSTANT)
    throw new Error(`i + ${constant}: the constant must be below ${MAX_CONSTANT}`);
  return { kind: 'linear', sign: m[1] ? -1 : 1, constant };
}

export function describePattern(p: IntPattern): string {
  if (p.kind === 'zero') return '0';
  if (p.kind === 'ff') return '0xFF bytes';
  return `${p.sign < 0 ? '-' : ''}i${p.constant ? ` + ${p.constant}` : ''}`;
}

/** The word of page `page` (index in its buffer) of a buffer that follows the pattern. */
export function patternWord(p: IntPattern, page: number): number {
  if (p.kind === 'zero') return 0;
  if (p.kind === 'ff') return ALL_FF;
  if (page < 0 || page >= MAX_PAGES)
    throw new RangeError(`page ${page} is beyond what a pattern word can name`);
  return (((p.sign > 0 ? 1 : 2) << 30) | (p.constant << PAGE_BITS) | page) >>> 0;
}

const ONE_INT = 3;
const ONE_INT_MAX = (1 << PAGE_BITS) - 2;

/** `ptr[j] = value` on a page whose word is `word`: the word that follows (only a zero page, or one with just int j set, has one). */
export function storeInt(word: number, j: number, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > ONE_INT_MAX)
    throw new RangeError(`a single int can hold 0 to ${ONE_INT_MAX} here, not ${value}`);
  if (word !== 0 && !(word >>> 30 === ONE_INT && word !== ALL_FF && ((word >>> PAGE_BITS) & 1023) === j))
    throw new Error(`a page holding ${describeWord(word)} has no word once int ${j} is stored too`);
  return value === 0 ? 0 : ((ONE_INT << 30) | (j << PAGE_BITS) | value) >>> 0;
}

/** The value of int `j` (0-1023) of a page whose word is `word`; what `ptr[k*1024 + j]` reads. */
export function intOf(word: number, j: number): number {
  if (word === 0) return 0;
  if (word === ALL_FF) return -1;
  const kind = word >>> 30;
  if (kind === ONE_INT) return ((word >>> PAGE_BITS) & 1023) === j ? word & ((1 << PAGE_BITS) - 1) : 0;
  if (kind !== 1 && kind !== 2) return Number.NaN;
  const sign = kind === 1 ? 1 : -1;
  const constant = (word >>> PAGE_BITS) & (MAX_CONSTANT - 1);
  const page = word & (MAX_PAGES - 1);
  return sign * (page * INTS_PER_PAGE + j) + constant;
}

/** `ptr[i]++` over every int of a page: the word that follows. */
export function incremented(word: number): number {
  const kind = word >>> 30;
  if (word === 0 || word === ALL_FF || (kind !== 1 && kind !== 2))
    throw new Error(`word 0x${word.toString(16)} is not a linear pattern, so ptr[i]++ has no word for it`);
  const constant = (word >>> PAGE_BITS) & (MAX_CONSTANT - 1);
  if (constant + 1 >= MAX_CONSTANT) throw new RangeError('the pattern constant overflows');
  return ((word & ~((MAX_CONSTANT - 1) << PAGE_BITS)) | ((constant + 1) << PAGE_BITS)) >>> 0;
}

/** A linear pattern word's formula (`i`, `-i + 3`) and the page it was written for; null for any other word. */
export function patternParts(word: number): { formula: string; page: number } | null {
  const w = word >>> 0;
  const kind = w >>> 30;
  if (w === 0 || w === ALL_FF || (kind !== 1 && kind !== 2)) return null;
  const constant = (w >>> PAGE_BITS) & (MAX_CONSTANT - 1);
  return {
    formula: `${kind === 2 ? '-' : ''}i${constant ? ` + ${constant}` : ''}`,
    page: w & (MAX_PAGES - 1),
  };
}

/** A word as a reader would describe it: "-i of page 3", "0", "0xFF bytes". */
export function describeWord(word: number): string {
  if (word === 0) return '0';
  if (word === ALL_FF) return '0xFF bytes';
  const p = patternParts(word);
  return p ? `${p.formula} of page ${p.page}` : `0x${word.toString(16)}`;
}

/**
 * Compare the words of pages `first`.. of a buffer with a pattern; returns
 * the first mismatch, as the C test's ASSERT_EQ in its loop would report it.
 */
export function firstMismatch(
  words: readonly number[],
  p: IntPattern,
  first: number,
): { page: number; got: string; want: string } | null {
  for (let k = 0; k < words.length; k++) {
    const want = patternWord(p, first + k);
    if (words[k] >>> 0 !== want)
      return { page: first + k, got: describeWord(words[k] >>> 0), want: describeWord(want) };
  }
  return null;
}
