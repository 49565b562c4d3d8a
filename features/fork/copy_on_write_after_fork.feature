Feature: Copy-on-write after fork
  fork() does not copy private memory. copy_page_range gives the child the
  parent's page tables, write-protects both copies of every writable PTE of
  a private mapping, and clears PageAnonExclusive: the page is now shared.
  Whichever process writes first gets its own copy; the other keeps the
  original. Shared mappings are not copy-on-write: both processes keep
  writing to the same page.

  Background:
    Given a process A
    And process A maps 2 pages of private anonymous memory as buffer X
    And process A writes 0x11 to buffer X
    And the page behind page 0 of buffer X in process A is called "original"

  @kernel:copy_present_pte @kernel:copy_pte_range @room:memory
  Rule: after fork, parent and child share each private page read-only

    Scenario: fork shares the page, write-protects both PTEs and drops exclusivity
      When process A forks process B
      Then process A and process B map buffer X to the same page
      And in process A, buffer X is mapped read-only
      And in process B, buffer X is mapped read-only
      And buffer X in process A is shared, not exclusive
      And the folio behind page 0 of buffer X in process A has refcount 2 and mapcount 2
      And process B has 2 anonymous pages

  @kernel:do_wp_page @kernel:wp_page_copy @room:memory @cow:basic
  Rule: the first writer after fork gets a private copy; the other process keeps the original

    Scenario Outline: <writer> writes first after fork and <other> does not see it
      Given process A forks process B
      When process <writer> writes 0x22 to page 0 of buffer X
      Then page 0 of buffer X in process <writer> holds 0x22
      And page 0 of buffer X in process <other> holds 0x11
      And page 0 of buffer X in process <writer> is no longer page "original"
      And page 0 of buffer X in process <other> is page "original"
      And process A and process B map page 1 of buffer X to the same page

      Examples:
        | writer | other |
        | A      | B     |
        | B      | A     |

    Scenario: once the copy is made, the original's last mapper reuses it without a copy
      Given process A forks process B
      And process B writes 0x22 to page 0 of buffer X
      When process A writes 0x33 to page 0 of buffer X
      Then page 0 of buffer X in process A is page "original"
      And page "original" has refcount 1 and mapcount 1
      And page 0 of buffer X in process B holds 0x22

  @kernel:copy_present_pte @room:memory @cow:basic_mprotect
  Rule: mprotect back to read-write does not make a page shared after fork writable

    Scenario: the parent's mprotect round trip still ends in a copy
      Given process A forks process B
      And process A makes buffer X read-only
      And process A makes buffer X read-write
      Then in process A, page 0 of buffer X is mapped read-only
      When process A writes 0x22 to page 0 of buffer X
      Then page 0 of buffer X in process B holds 0x11

  @kernel:copy_page_range @kernel:vma_needs_copy @room:memory
  Rule: shared anonymous memory is not copy-on-write: writes by either process are seen by both

    Scenario: parent and child keep writing to the same shared page
      Given process A maps 1 page of shared anonymous memory as buffer S
      And process A writes 0x11 to buffer S
      And process A forks process B
      When process B writes 0x22 to buffer S
      Then process A and process B map buffer S to the same page
      And buffer S in process A holds 0x22
      And in process B, buffer S is mapped writable
      And process A has 1 shmem page

  @kernel:copy_present_page @kernel:folio_needs_cow_for_dma @room:memory @cow:iouring_fork
  Rule: a possibly pinned exclusive page is copied for the child at fork, so the pin keeps the parent's page

    Scenario: fork copies the pinned page for the child and leaves the parent's mapping writable
      Given process A pins page 0 of buffer X for writing
      When process A forks process B
      Then process A and process B map page 0 of buffer X to different pages
      And page 0 of buffer X in process A is page "original"
      And in process A, page 0 of buffer X is mapped writable
      And page 0 of buffer X in process A is exclusive
      And page 0 of buffer X in process B holds 0x11
      And process A and process B map page 1 of buffer X to the same page

    Scenario: the parent's later writes are seen through the pin, and not by the child
      Given process A pins page 0 of buffer X for writing
      And process A forks process B
      When process A writes 0x22 to page 0 of buffer X
      Then what process A grabbed of page 0 of buffer X holds 0x22
      And page 0 of buffer X in process B holds 0x11
