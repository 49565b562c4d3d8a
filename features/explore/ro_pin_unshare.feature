@explorer
Feature: A read-only pin stays coherent with the pinning process's later writes
  A FOLL_PIN without FOLL_WRITE must not hold a page that copy-on-write may
  later copy away from: gup_must_unshare makes the page exclusive first
  (FAULT_FLAG_UNSHARE), so a write by the pinning process lands in the
  pinned page. Anonymous pages must be exclusive; in a COW mapping a
  long-term pin unshares a non-anonymous page too (a file page, the zero
  page, the huge zero page). Before v5.19 (a7f226604170) nothing unshared.
  npm run explore found both rows below by itself: with every variant off,
  the engine pinned the 4 KiB zero page for a page the huge zero page
  mapped (5 steps, seed 1); with the pre-5.19 variant, the fork case
  (7 steps, seed 1, 3222 sequences).

  @kernel:follow_huge_pmd @kernel:gup_must_unshare @room:gup
  Rule: a long-term read-only pin of a page the huge zero page maps unshares it, as follow_huge_pmd does for any PMD

    Scenario: the pin sees what the process writes there afterwards
      Given a process A
      And process A maps 4 MiB of private anonymous memory, buffer X being its first 2 MiB-aligned 2 MiB, advised MADV_HUGEPAGE
      And process A reads page 0 of buffer X
      When process A pins page 0 of buffer X long-term read-only
      And process A writes 0x101 to page 0 of buffer X
      Then what process A grabbed of page 0 of buffer X holds 0x101
      And what process A grabbed of page 0 of buffer X is the page mapped there

  @kernel:gup_must_unshare @kernel:do_wp_page @room:gup
  Rule: a read-only pin of a page shared with a child after fork sees the pinning process's next write

    Scenario Outline: <kernel>: the parent pins, then writes
      Given <design>
      And a process A
      And process A maps 4 pages of private anonymous memory as buffer X
      And process A writes 0x101 to page 0 of buffer X
      And process A forks process B
      When process A pins page 0 of buffer X long-term read-only
      And process A writes 0x102 to page 0 of buffer X
      Then what process A grabbed of page 0 of buffer X holds <pinned>
      When process B reads page 0 of buffer X
      Then process B read 0x101

      Examples:
        | kernel              | design                                                                      | pinned |
        | since 5.19          | transparent hugepages are madvise                                           | 0x102  |
        | before 5.19 (a bug) | read-only pins do not unshare a shared anonymous page, as before Linux 5.19 | 0x101  |
