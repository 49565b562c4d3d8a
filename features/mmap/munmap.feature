Feature: munmap and MADV_DONTNEED drop mappings and free pages
  Unmapping tears down page-table entries (zap_pte_range): each entry gives
  back its rss count, its mapcount and its reference, and a page nobody
  references any more returns to the page allocator. munmap of part of a
  VMA splits the VMA first; MADV_DONTNEED zaps the pages but keeps the VMA,
  so the next access faults in fresh memory.

  Background:
    Given a process A
    And process A maps 4 pages of private anonymous memory as buffer X
    And process A writes 0x5a to buffer X
    And the page behind page 1 of buffer X in process A is called "p1"

  @kernel:zap_pte_range @kernel:do_vmi_munmap @room:memory
  Rule: munmap drops the references of the unmapped pages, and a page nobody references is freed

    Scenario: unmapping the whole buffer frees its pages
      When process A unmaps buffer X
      Then page "p1" is free
      And process A has 0 anonymous pages
      And process A has 0 VMAs over buffer X

    Scenario: a page still mapped by a child survives the parent's munmap
      Given process A forks process B
      When process A unmaps buffer X
      Then page "p1" has refcount 1 and mapcount 1
      And page 1 of buffer X in process B holds 0x5a

  @kernel:__split_vma @kernel:do_vmi_munmap @room:vma
  Rule: a partial munmap splits the VMA and leaves the rest mapped

    Scenario: unmapping the middle of a buffer leaves two VMAs
      When process A unmaps pages 1-2 of buffer X
      Then process A has 2 VMAs over buffer X
      And page "p1" is free
      And in process A, pages 1-2 of buffer X are not mapped
      And in process A, page 0 of buffer X is mapped writable
      And page 3 of buffer X in process A holds 0x5a
      And process A has 2 anonymous pages

  @kernel:madvise_dontneed_single_vma @kernel:zap_page_range_single @room:madvise
  Rule: MADV_DONTNEED frees the pages but keeps the mapping; the next read sees zeroes

    Scenario: after MADV_DONTNEED the old contents are gone
      When process A advises MADV_DONTNEED on pages 0-1 of buffer X
      Then page "p1" is free
      And process A has 1 VMA over buffer X
      When process A reads page 1 of buffer X
      Then process A read 0x0

  @kernel:mprotect_fixup @kernel:change_protection @room:mprotect
  Rule: mprotect of part of a buffer splits the VMA; restoring the protection merges it again

    Scenario: a read-only middle splits the VMA in three, and read-write merges it back
      When process A makes pages 1-2 of buffer X read-only
      Then process A has 3 VMAs over buffer X
      And in process A, pages 1-2 of buffer X are mapped read-only
      When process A makes pages 1-2 of buffer X read-write
      Then process A has 1 VMA over buffer X
      And in process A, buffer X is mapped writable

    Scenario: PROT_NONE makes the pages inaccessible but keeps them
      When process A makes page 1 of buffer X inaccessible
      Then in process A, page 1 of buffer X is inaccessible
      And page "p1" has refcount 1 and mapcount 1
      When process A reads page 1 of buffer X
      Then the access fails with SIGSEGV
