@cow
Feature: cow.c, anonymous memory: copy-on-write with GUP references and pins
  tools/testing/selftests/mm/cow.c (Hildenbrand) checks that copy-on-write
  never lets a write leak between parent and child, and never leaves a GUP
  reference or pin looking at a page the process no longer maps. Each case
  runs on a small page, a PMD-mapped THP, a PTE-mapped THP and a single PTE
  of a THP. "A pipe" here is a FOLL_GET reference, as vmsplice() takes;
  "io_uring fixed buffer" a read-write long-term pin. The checks look at the
  first page, as cow.c's memcmp of the first bytes does.

  Background:
    Given a process A

  @cow:basic @kernel:do_wp_page
  Rule: after fork, the parent's write never shows in the child

    Scenario Outline: basic CoW on <backing>
      Given process A has <backing> as buffer X, holding 0x5a
      And process A forks process B
      When process A writes 0xff to page 0 of buffer X
      Then page 0 of buffer X in process B holds 0x5a
      And page 0 of buffer X in process A holds 0xff

      Examples:
        | backing          |
        | a small page     |
        | a PMD-mapped THP |
        | a PTE-mapped THP |
        | one THP PTE      |

  @cow:vmsplice_in_child @kernel:wp_can_reuse_anon_folio
  Rule: vmsplice() in the child, then unmap in the child: the parent's write must not reach the child's pipe (CVE-2020-29374)

    Scenario Outline: vmsplice in the child on <backing>
      Given process A has <backing> as buffer X, holding 0x5a
      And process A forks process B
      And process B takes a GUP reference on page 0 of buffer X, as vmsplice does
      And process B unmaps buffer X
      When process A writes 0xff to page 0 of buffer X
      Then what process B grabbed of page 0 of buffer X holds 0x5a

      Examples:
        | backing          |
        | a small page     |
        | a PMD-mapped THP |
        | a PTE-mapped THP |
        | one THP PTE      |

  @cow:vmsplice_before_fork @kernel:wp_can_reuse_anon_folio
  Rule: vmsplice() before fork, unmap in the parent after fork: the child's write must not reach the parent's pipe

    Scenario Outline: vmsplice before fork on <backing>
      Given process A has <backing> as buffer X, holding 0x5a
      And process A takes a GUP reference on page 0 of buffer X, as vmsplice does
      And process A forks process B
      And process A unmaps buffer X
      When process B writes 0xff to page 0 of buffer X
      Then what process A grabbed of page 0 of buffer X holds 0x5a

      Examples:
        | backing          |
        | a small page     |
        | a PMD-mapped THP |
        | a PTE-mapped THP |
        | one THP PTE      |

  @cow:vmsplice_after_fork @kernel:wp_can_reuse_anon_folio
  Rule: vmsplice() after fork, unmap in the parent: the child's write must not reach the parent's pipe

    Scenario Outline: vmsplice after fork on <backing>
      Given process A has <backing> as buffer X, holding 0x5a
      And process A forks process B
      And process A takes a GUP reference on page 0 of buffer X, as vmsplice does
      And process A unmaps buffer X
      When process B writes 0xff to page 0 of buffer X
      Then what process A grabbed of page 0 of buffer X holds 0x5a

      Examples:
        | backing          |
        | a small page     |
        | a PMD-mapped THP |
        | a PTE-mapped THP |
        | one THP PTE      |

  @cow:ro_longterm_pin @kernel:gup_must_unshare
  Rule: a read-only long-term pin unshares first, so the process's later writes are seen through the pin

    Scenario Outline: read-only long-term pin (<path>) of a page that is <state>, on <backing>
      Given process A has <backing> as buffer X, holding 0x5a
      And <setup>
      When process A pins page 0 of buffer X <pin>
      And <restore>
      And process A writes 0xff to page 0 of buffer X
      Then what process A grabbed of page 0 of buffer X holds 0xff

      Examples:
        | state             | path     | backing          | setup                              | pin                                 | restore                             |
        | shared            | slow GUP | a small page     | process A forks process B          | long-term read-only                 | process A reads page 0 of buffer X  |
        | shared            | GUP-fast | a small page     | process A forks process B          | long-term read-only with GUP-fast   | process A reads page 0 of buffer X  |
        | shared            | slow GUP | a PMD-mapped THP | process A forks process B          | long-term read-only                 | process A reads page 0 of buffer X  |
        | shared            | GUP-fast | a PTE-mapped THP | process A forks process B          | long-term read-only with GUP-fast   | process A reads page 0 of buffer X  |
        | previously shared | slow GUP | a small page     | process A forks process B, which exits | long-term read-only             | process A reads page 0 of buffer X  |
        | previously shared | GUP-fast | a PMD-mapped THP | process A forks process B, which exits | long-term read-only with GUP-fast | process A reads page 0 of buffer X  |
        | exclusive         | slow GUP | a small page     | process A makes buffer X read-only | long-term read-only                 | process A makes buffer X read-write |
        | exclusive         | GUP-fast | a PTE-mapped THP | process A makes buffer X read-only | long-term read-only with GUP-fast   | process A makes buffer X read-write |

  @cow:iouring_fixed_buffer @kernel:can_change_pte_writable @kernel:do_wp_page
  Rule: an io_uring fixed buffer (a read-write long-term pin) keeps seeing the process's writes, after mprotect and after fork

    Scenario Outline: mprotect read-only and back keeps the pinned <backing>
      Given process A has <backing> as buffer X, holding 0x5a
      And process A pins page 0 of buffer X long-term for writing
      And process A makes buffer X read-only
      And process A makes buffer X read-write
      When process A writes 0xff to page 0 of buffer X
      Then what process A grabbed of page 0 of buffer X holds 0xff
      And what process A grabbed of page 0 of buffer X is the page mapped there

      Examples:
        | backing          |
        | a small page     |
        | a PMD-mapped THP |
        | a PTE-mapped THP |

    Scenario Outline: fork with a pinned <backing> leaves the pinned page to the parent
      Given process A has <backing> as buffer X, holding 0x5a
      And process A pins page 0 of buffer X long-term for writing
      And process A forks process B
      When process A writes 0xff to page 0 of buffer X
      Then what process A grabbed of page 0 of buffer X holds 0xff
      And page 0 of buffer X in process B holds 0x5a

      Examples:
        | backing          |
        | a small page     |
        | a PMD-mapped THP |
        | a PTE-mapped THP |
