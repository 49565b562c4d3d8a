@cow
Feature: cow.c, anonymous memory: copy-on-write with GUP references and pins
  tools/testing/selftests/mm/cow.c (Hildenbrand) checks that copy-on-write
  never lets a write leak between parent and child, and never leaves a GUP
  reference or pin looking at a page the process no longer maps. Each of its
  anonymous cases (anon_test_cases) runs on a base page, a PMD-mapped THP, a
  PTE-mapped THP and a single PTE of a THP; buffer X is the `mem, size` the
  case gets, first filled with 0x01. Process P is the test, process C its
  child. "A GUP reference, as vmsplice does" is the read-only FOLL_GET
  reference vmsplice() takes into a pipe, and "what P grabbed" is what the
  pipe (or the pin) reads back. An io_uring fixed buffer is a read-write
  long-term pin (FOLL_WRITE | FOLL_PIN | FOLL_LONGTERM); the R/O pins are
  gup_test's PIN_LONGTERM_TEST_START, by the slow path or GUP-fast.
  "Clears the soft-dirty bits" is cow.c's clear_softdirty() (echo 4 >
  /proc/self/clear_refs): with soft-dirty tracking on, mprotect() may no
  longer map a page writable by itself, so the next write faults.

  Background:
    Given a process P

  @cow:basic @kernel:do_wp_page @kernel:wp_page_copy
  Scenario Outline: Basic COW after fork() ... with <backing>
    Given process P has <backing> as buffer X, holding 0x01
    When process P forks process C
    And process P writes 0xff to buffer X
    Then buffer X in process C holds 0x01
    And buffer X in process P holds 0xff

    Examples:
      | backing          |
      | a small page     |
      | a PMD-mapped THP |
      | a PTE-mapped THP |
      | one THP PTE      |

  @cow:basic_mprotect @kernel:can_change_pte_writable @kernel:do_wp_page
  Scenario Outline: Basic COW after fork() with mprotect() optimization ... with <backing>
    Given process P has <backing> as buffer X, holding 0x01
    When process P forks process C
    And process P makes buffer X read-only
    And process P makes buffer X read-write
    And process P writes 0xff to buffer X
    Then buffer X in process C holds 0x01
    And buffer X in process P holds 0xff

    Examples:
      | backing          |
      | a small page     |
      | a PMD-mapped THP |
      | a PTE-mapped THP |
      | one THP PTE      |

  @cow:vmsplice_in_child @kernel:wp_can_reuse_anon_folio
  Scenario Outline: vmsplice() + unmap in child ... with <backing>
    CVE-2020-29374: the child's pipe must keep the old bytes when the parent writes.

    Given process P has <backing> as buffer X, holding 0x01
    When process P forks process C
    And process C takes a GUP reference on buffer X, as vmsplice does
    And process C unmaps buffer X
    And process P writes 0xff to buffer X
    Then what process C grabbed of buffer X holds 0x01

    Examples:
      | backing          |
      | a small page     |
      | a PMD-mapped THP |
      | a PTE-mapped THP |
      | one THP PTE      |

  @cow:vmsplice_in_child_mprotect @kernel:wp_can_reuse_anon_folio @kernel:can_change_pte_writable
  Scenario Outline: vmsplice() + unmap in child with mprotect() optimization ... with <backing>
    Given process P has <backing> as buffer X, holding 0x01
    When process P forks process C
    And process C takes a GUP reference on buffer X, as vmsplice does
    And process C unmaps buffer X
    And process P makes buffer X read-only
    And process P makes buffer X read-write
    And process P writes 0xff to buffer X
    Then what process C grabbed of buffer X holds 0x01

    Examples:
      | backing          |
      | a small page     |
      | a PMD-mapped THP |
      | a PTE-mapped THP |
      | one THP PTE      |

  @cow:vmsplice_before_fork @kernel:wp_can_reuse_anon_folio
  Scenario Outline: vmsplice() before fork(), unmap in parent after fork() ... with <backing>
    Given process P has <backing> as buffer X, holding 0x01
    When process P takes a GUP reference on buffer X, as vmsplice does
    And process P forks process C
    And process P unmaps buffer X
    And process C writes 0xff to buffer X
    And process C exits
    Then what process P grabbed of buffer X holds 0x01

    Examples:
      | backing          |
      | a small page     |
      | a PMD-mapped THP |
      | a PTE-mapped THP |
      | one THP PTE      |

  @cow:vmsplice_after_fork @kernel:wp_can_reuse_anon_folio
  Scenario Outline: vmsplice() + unmap in parent after fork() ... with <backing>
    Given process P has <backing> as buffer X, holding 0x01
    When process P forks process C
    And process P takes a GUP reference on buffer X, as vmsplice does
    And process P unmaps buffer X
    And process C writes 0xff to buffer X
    And process C exits
    Then what process P grabbed of buffer X holds 0x01

    Examples:
      | backing          |
      | a small page     |
      | a PMD-mapped THP |
      | a PTE-mapped THP |
      | one THP PTE      |

  @cow:iouring_ro @kernel:can_change_pte_writable @kernel:wp_can_reuse_anon_folio
  Scenario Outline: R/O-mapping a page registered as iouring fixed buffer ... with <backing>
    The write after mprotect() must fault and reuse the pinned page, not copy it.

    Given process P has <backing> as buffer X, holding 0x01
    When process P pins buffer X long-term for writing
    And process P makes buffer X read-only
    And process P clears its soft-dirty bits
    And process P makes buffer X read-write
    Then in process P, buffer X is <read-only>
    When process P writes 0xff to buffer X
    Then what process P grabbed of buffer X holds 0xff
    And what process P grabbed of buffer X is the page mapped there

    Examples:
      | backing          | read-only           |
      | a small page     | mapped read-only    |
      | a PMD-mapped THP | PMD-mapped read-only |
      | a PTE-mapped THP | mapped read-only    |
      | one THP PTE      | mapped read-only    |

  @cow:iouring_fork @kernel:copy_present_pte @kernel:folio_needs_cow_for_dma
  Scenario Outline: fork() with an iouring fixed buffer ... with <backing>
    The pinned page stays the parent's: fork copies it for the child instead of sharing it.

    Given process P has <backing> as buffer X, holding 0x01
    When process P pins buffer X long-term for writing
    And process P forks process C
    And process P writes 0xff to buffer X
    Then what process P grabbed of buffer X holds 0xff
    And what process P grabbed of buffer X is the page mapped there

    Examples:
      | backing          |
      | a small page     |
      | a PMD-mapped THP |
      | a PTE-mapped THP |
      | one THP PTE      |

  @cow:ro_pin_shared @kernel:gup_must_unshare @kernel:do_wp_page
  Scenario Outline: R/O GUP pin on R/O-mapped shared page ... with <backing>
    The read-only pin must unshare first, so the parent's later write shows through it.

    Given process P has <backing> as buffer X, holding 0x01
    When process P forks process C
    And process P pins buffer X long-term read-only
    And process P writes 0xff to buffer X
    Then what process P grabbed of buffer X holds 0xff
    And buffer X in process C holds 0x01

    Examples:
      | backing          |
      | a small page     |
      | a PMD-mapped THP |
      | a PTE-mapped THP |
      | one THP PTE      |

  @cow:ro_fast_pin_shared @kernel:gup_must_unshare @kernel:gup_fast_pte_range
  Scenario Outline: R/O GUP-fast pin on R/O-mapped shared page ... with <backing>
    GUP-fast cannot unshare: it leaves a shared anonymous page to the slow path.

    Given process P has <backing> as buffer X, holding 0x01
    When process P forks process C
    And process P pins buffer X long-term read-only with GUP-fast
    And process P writes 0xff to buffer X
    Then what process P grabbed of buffer X holds 0xff
    And buffer X in process C holds 0x01

    Examples:
      | backing          |
      | a small page     |
      | a PMD-mapped THP |
      | a PTE-mapped THP |
      | one THP PTE      |

  @cow:ro_pin_previously_shared @kernel:gup_must_unshare @kernel:do_wp_page
  Scenario Outline: R/O GUP pin on R/O-mapped previously-shared page ... with <backing>
    Given process P has <backing> as buffer X, holding 0x01
    When process P forks process C, which exits
    And process P pins buffer X long-term read-only
    And process P writes 0xff to buffer X
    Then what process P grabbed of buffer X holds 0xff

    Examples:
      | backing          |
      | a small page     |
      | a PMD-mapped THP |
      | a PTE-mapped THP |
      | one THP PTE      |

  @cow:ro_fast_pin_previously_shared @kernel:gup_must_unshare @kernel:gup_fast_pte_range
  Scenario Outline: R/O GUP-fast pin on R/O-mapped previously-shared page ... with <backing>
    Given process P has <backing> as buffer X, holding 0x01
    When process P forks process C, which exits
    And process P pins buffer X long-term read-only with GUP-fast
    And process P writes 0xff to buffer X
    Then what process P grabbed of buffer X holds 0xff

    Examples:
      | backing          |
      | a small page     |
      | a PMD-mapped THP |
      | a PTE-mapped THP |
      | one THP PTE      |

  @cow:ro_pin_exclusive @kernel:gup_must_unshare @kernel:wp_can_reuse_anon_folio
  Scenario Outline: R/O GUP pin on R/O-mapped exclusive page ... with <backing>
    Given process P has <backing> as buffer X, holding 0x01
    When process P makes buffer X read-only
    And process P clears its soft-dirty bits
    And process P makes buffer X read-write
    Then in process P, buffer X is <read-only>
    When process P pins buffer X long-term read-only
    And process P writes 0xff to buffer X
    Then what process P grabbed of buffer X holds 0xff
    And what process P grabbed of buffer X is the page mapped there

    Examples:
      | backing          | read-only            |
      | a small page     | mapped read-only     |
      | a PMD-mapped THP | PMD-mapped read-only |
      | a PTE-mapped THP | mapped read-only     |
      | one THP PTE      | mapped read-only     |

  @cow:ro_fast_pin_exclusive @kernel:gup_must_unshare @kernel:gup_fast_pte_range
  Scenario Outline: R/O GUP-fast pin on R/O-mapped exclusive page ... with <backing>
    Given process P has <backing> as buffer X, holding 0x01
    When process P makes buffer X read-only
    And process P clears its soft-dirty bits
    And process P makes buffer X read-write
    Then in process P, buffer X is <read-only>
    When process P pins buffer X long-term read-only with GUP-fast
    And process P writes 0xff to buffer X
    Then what process P grabbed of buffer X holds 0xff
    And what process P grabbed of buffer X is the page mapped there

    Examples:
      | backing          | read-only            |
      | a small page     | mapped read-only     |
      | a PMD-mapped THP | PMD-mapped read-only |
      | a PTE-mapped THP | mapped read-only     |
      | one THP PTE      | mapped read-only     |
