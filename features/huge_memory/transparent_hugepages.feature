Feature: Transparent huge pages: PMD-mapped anonymous THPs
  With THP enabled for a range (MADV_HUGEPAGE, as these machines run THP in
  "madvise" mode), the first write to an aligned 2 MiB range maps one
  512-page folio with a single PMD. A read maps the huge zero page. fork
  shares the whole THP read-only through the child's PMD. A write after fork
  splits only the writer's PMD and copies one 4 KiB page. Unmapping part of
  a THP splits the PMD into 512 PTEs; the folio itself stays one folio until
  it is split later, and is queued for that deferred split.

    ```
    page:    0 1 2 3 4 5 ... 511
    before:  PPPPPPPPPPPPPPPPPPPP   one PMD maps one 512-page folio
    after:   PPPP  PPPPPPPPPPPPPP   munmap pages 4-5: 510 PTEs, same folio
    ```

  Background:
    Given a process A
    And process A maps 2 MiB of private anonymous memory as buffer T
    And process A advises MADV_HUGEPAGE on buffer T

  @kernel:do_huge_pmd_anonymous_page @room:huge_memory
  Rule: a write fault in a MADV_HUGEPAGE range maps a whole THP with one PMD

    Scenario: the first write maps 512 pages at once
      When process A writes 0x5a to page 3 of buffer T
      Then in process A, buffer T is PMD-mapped writable
      And the THP behind page 0 of buffer T in process A is still one folio of 512 pages
      And the folio behind page 0 of buffer T in process A has refcount 1 and mapcount 1
      And process A has 512 anonymous pages
      And page 3 of buffer T in process A holds 0x5a
      And page 4 of buffer T in process A holds 0x0

    Scenario: without MADV_HUGEPAGE the same write maps one small page
      Given process A maps 2 MiB of private anonymous memory as buffer S
      When process A writes 0x5a to page 3 of buffer S
      Then in process A, page 3 of buffer S is mapped writable
      And process A has 1 anonymous page

    Scenario: a read fault maps the huge zero page
      When process A reads page 7 of buffer T
      Then in process A, buffer T is the huge zero page
      And process A has 0 anonymous pages

    Scenario: a write after the huge zero page replaces it by a THP
      Given process A reads page 7 of buffer T
      When process A writes 0x1 to page 7 of buffer T
      Then in process A, buffer T is PMD-mapped writable
      And process A has 512 anonymous pages

  @kernel:copy_huge_pmd @room:huge_memory
  Rule: fork shares a PMD-mapped THP: one PMD in each process, write-protected on both sides

    Scenario: the child maps the same THP with its own read-only PMD
      Given process A writes 0x5a to buffer T
      When process A forks process B
      Then in process A, buffer T is PMD-mapped read-only
      And in process B, buffer T is PMD-mapped read-only
      And process A and process B map buffer T to the same page
      And the folio behind page 0 of buffer T in process A has refcount 2 and mapcount 2
      And process B has 512 anonymous pages

  @kernel:do_huge_pmd_wp_page @kernel:__split_huge_pmd @kernel:wp_page_copy @room:huge_memory
  Rule: a write to a shared THP splits the writer's PMD and copies only the page written

    Scenario: the child's write copies 4 KiB and leaves the rest shared
      Given process A writes 0x5a to buffer T
      And process A forks process B
      When process B writes 0x77 to page 9 of buffer T
      Then in process B, page 9 of buffer T is mapped writable
      And in process B, pages 0-8 of buffer T are mapped read-only
      And process A and process B map page 9 of buffer T to different pages
      And process A and process B map pages 10-511 of buffer T to the same page
      And in process A, buffer T is PMD-mapped read-only
      And page 9 of buffer T in process A holds 0x5a
      And the folio behind page 0 of buffer T in process A has refcount 512 and mapcount 512

    Scenario: an exclusive THP is reused whole after the child exits
      Given process A writes 0x5a to buffer T
      And process A forks process B
      And process B exits
      When process A writes 0x77 to page 9 of buffer T
      Then in process A, buffer T is PMD-mapped writable
      And the folio behind page 0 of buffer T in process A has refcount 1 and mapcount 1

  @kernel:__split_huge_pmd @kernel:deferred_split_folio @room:huge_memory
  Rule: a partial munmap of a THP splits the PMD; the folio stays whole and waits for a deferred split

    Scenario: unmapping two pages in the middle of a THP
      Given process A writes 0x5a to buffer T
      When process A unmaps pages 4-5 of buffer T
      Then in process A, pages 0-3 of buffer T are mapped writable
      And in process A, pages 6-511 of buffer T are mapped writable
      And the THP behind page 0 of buffer T in process A is still one folio of 512 pages
      And the folio behind page 0 of buffer T in process A has refcount 510 and mapcount 510
      And the THP behind page 0 of buffer T in process A is queued for deferred split
      And process A has 510 anonymous pages
      And process A has 2 VMAs over buffer T

    Scenario: splitting the PMD alone does not queue the THP while every page is still mapped
      Given process A writes 0x5a to buffer T
      When process A makes page 0 of buffer T read-only
      Then in process A, page 0 of buffer T is mapped read-only
      And in process A, pages 1-511 of buffer T are mapped writable
      And the THP behind page 0 of buffer T in process A is not queued for deferred split

  @kernel:copy_huge_pmd @kernel:copy_present_page @room:huge_memory @cow:iouring_fork
  Rule: a pinned THP is not shared at fork: the parent's PMD is split and the child gets copies

    Scenario: fork with a pinned THP copies every pinned page for the child
      Given process A writes 0x5a to buffer T
      And process A pins page 0 of buffer T for writing
      When process A forks process B
      Then the folio behind page 0 of buffer T in process A has pincount 1
      And in process A, buffer T is mapped writable
      And process A and process B map pages 0-511 of buffer T to different pages
      And page 100 of buffer T in process B holds 0x5a
