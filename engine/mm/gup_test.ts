/*
 * Mirrors mm/gup_test.c (CONFIG_GUP_TEST): the debugfs file
 * /sys/kernel/debug/gup_test, whose ioctls take a range of the caller's
 * pages with one of the GUP entry points and give every page back before
 * they return. The selftests use it to drive GUP from user space.
 * Kernel: linux-mm tree, 2026 (mm/gup_test.c @ 163177a569ab).
 *
 * Simplified here: a command is its _IOWR number (GUP_FAST_BENCHMARK is 1,
 * …, DUMP_USER_PAGES_TEST 6), not the whole encoded ioctl value. Nothing is
 * timed (get_delta_usec and put_delta_usec stay 0: the engine has no clock),
 * and DUMP_USER_PAGES_TEST dumps nothing (no console). The
 * PIN_LONGTERM_TEST_START/STOP/READ commands, which keep a long-term pin
 * across ioctls, are not modelled; they return -EINVAL.
 */

import { EINVAL, FOLL_LONGTERM, folio_maybe_dma_pinned, page_folio } from '../include/linux/mm';
import { type mm_struct, PAGE_SIZE } from '../include/linux/mm_types';
import type { Machine } from '../machine';
import {
  folio_is_longterm_pinnable,
  get_user_pages,
  get_user_pages_fast,
  pin_user_pages,
  pin_user_pages_fast,
  put_page,
  unpin_user_page,
} from './gup';

/* mm/gup_test.h: the commands' _IOWR('g', n, struct gup_test) numbers. */
export const GUP_FAST_BENCHMARK = 1;
export const PIN_FAST_BENCHMARK = 2;
export const PIN_LONGTERM_BENCHMARK = 3;
export const GUP_BASIC_TEST = 4;
export const PIN_BASIC_TEST = 5;
export const DUMP_USER_PAGES_TEST = 6;
export const GUP_TEST_FLAG_DUMP_PAGES_USE_PIN = 0x1;

/** struct gup_test, the ioctl's argument, read and written back. */
export interface gup_test {
  get_delta_usec: number;
  put_delta_usec: number;
  addr: number;
  size: number;
  nr_pages_per_call: number;
  gup_flags: number;
  test_flags: number;
}

/** put_back_pages: every page goes back the way it was taken: put_page or unpin_user_pages. */
function put_back_pages(m: Machine, cmd: number, pages: number[], test_flags: number): void {
  const pinned =
    cmd === PIN_FAST_BENCHMARK ||
    cmd === PIN_BASIC_TEST ||
    cmd === PIN_LONGTERM_BENCHMARK ||
    (cmd === DUMP_USER_PAGES_TEST && test_flags & GUP_TEST_FLAG_DUMP_PAGES_USE_PIN);
  for (const page of pages) {
    if (pinned) unpin_user_page(m, page);
    else put_page(m, page);
  }
}

/**
 * verify_dma_pinned: a WARN for a pinned page that is not dma-pinned, or a
 * long-term pinned one that should not be pinnable at all.
 */
function verify_dma_pinned(m: Machine, cmd: number, pages: number[]): void {
  if (cmd !== PIN_FAST_BENCHMARK && cmd !== PIN_BASIC_TEST && cmd !== PIN_LONGTERM_BENCHMARK) return;
  for (const [i, page] of pages.entries()) {
    const folio = page_folio(m, page);
    if (!folio_maybe_dma_pinned(m, folio)) {
      m.warn('verify_dma_pinned', `pages[${i}] is NOT dma-pinned`);
      return;
    }
    if (cmd === PIN_LONGTERM_BENCHMARK && !folio_is_longterm_pinnable(m, folio)) {
      m.warn('verify_dma_pinned', `pages[${i}] is NOT pinnable but pinned`);
      return;
    }
  }
}

/**
 * __gup_test_ioctl: take [addr, addr + size) nr_pages_per_call pages at a
 * time with the command's GUP call, stop at the first call that takes fewer
 * than asked (or fails), record in size what was taken, check the pins, and
 * give everything back. Returns 0 or -errno; the caller's struct is updated
 * on success, as copy_to_user does.
 */
export function gup_test_ioctl(m: Machine, mm: mm_struct, cmd: number, user: gup_test): number {
  const gup = { ...user };
  if (cmd < GUP_FAST_BENCHMARK || cmd > DUMP_USER_PAGES_TEST) return -EINVAL;
  if (!gup.size || !gup.nr_pages_per_call || gup.size % PAGE_SIZE) return -EINVAL;
  const end = gup.addr + gup.size;
  const pages: number[] = [];
  let nr = gup.nr_pages_per_call;
  for (let addr = gup.addr; addr < end; ) {
    if (nr !== gup.nr_pages_per_call) break;
    nr = Math.min(nr, (end - addr) / PAGE_SIZE);
    const next = addr + nr * PAGE_SIZE;
    const taken: number[] = [];
    switch (cmd) {
      case GUP_FAST_BENCHMARK:
        nr = get_user_pages_fast(m, mm, addr, nr, gup.gup_flags, taken);
        break;
      case GUP_BASIC_TEST:
        nr = get_user_pages(m, mm, addr, nr, gup.gup_flags, taken);
        break;
      case PIN_FAST_BENCHMARK:
        nr = pin_user_pages_fast(m, mm, addr, nr, gup.gup_flags, taken);
        break;
      case PIN_BASIC_TEST:
        nr = pin_user_pages(m, mm, addr, nr, gup.gup_flags, taken);
        break;
      case PIN_LONGTERM_BENCHMARK:
        nr = pin_user_pages(m, mm, addr, nr, gup.gup_flags | FOLL_LONGTERM, taken);
        break;
      case DUMP_USER_PAGES_TEST:
        nr =
          gup.test_flags & GUP_TEST_FLAG_DUMP_PAGES_USE_PIN
            ? pin_user_pages(m, mm, addr, nr, gup.gup_flags, taken)
            : get_user_pages(m, mm, addr, nr, gup.gup_flags, taken);
        break;
    }
    pages.push(...taken);
    if (nr <= 0) break;
    addr = next;
  }
  /* Shifting the meaning of nr_pages: now it is the number actually taken. */
  gup.size = pages.length * PAGE_SIZE;
  verify_dma_pinned(m, cmd, pages);
  put_back_pages(m, cmd, pages, gup.test_flags);
  Object.assign(user, gup);
  return 0;
}
