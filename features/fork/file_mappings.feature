Feature: File-backed mappings: private copy-on-write versus shared write-through
  A private mapping of a file starts out mapping the page-cache pages
  read-only. The first write copies the page into a new anonymous page
  (do_cow_fault, or do_wp_page later), so the file never changes. A shared
  mapping writes straight into the page cache, and every process mapping the
  file sees the write.

  Background:
    Given a file "data" of 2 pages, page i holding 0xf0 + i
    And a process A

  @kernel:do_read_fault @kernel:filemap_fault @room:memory
  Rule: a read of a file mapping maps the page-cache page read-only

    Scenario: reading a private file mapping maps the cached page
      Given process A maps file "data" private as buffer F
      When process A reads buffer F
      Then in process A, buffer F is mapped read-only
      And page 1 of buffer F in process A holds 0xf1
      And process A has 2 file pages
      And the folio behind page 0 of buffer F in process A has refcount 2 and mapcount 1

  @kernel:do_cow_fault @kernel:wp_page_copy @room:memory
  Rule: writing a private file mapping copies the page; the file and other mappers are untouched

    Scenario: a write to a private mapping gets an anonymous copy
      Given process A maps file "data" private as buffer F
      And a process B
      And process B maps file "data" shared as buffer G
      When process A writes 0x99 to page 0 of buffer F
      Then page 0 of buffer F in process A holds 0x99
      And process A has 1 anonymous page
      When process B reads page 0 of buffer G
      Then process B read 0xf0

    Scenario: a read first and a write later still copies
      Given process A maps file "data" private as buffer F
      And process A reads page 0 of buffer F
      And the page behind page 0 of buffer F in process A is called "cached"
      When process A writes 0x99 to page 0 of buffer F
      Then page 0 of buffer F in process A is no longer page "cached"
      And page "cached" has refcount 1 and mapcount 0
      And process A has 1 anonymous page
      And process A has 0 file pages

  @kernel:do_shared_fault @kernel:wp_page_shared @room:memory
  Rule: writes through a shared file mapping go to the page cache and every mapper sees them

    Scenario: two processes sharing a file see each other's writes
      Given process A maps file "data" shared as buffer F
      And a process B
      And process B maps file "data" shared as buffer G
      When process A writes 0x99 to page 1 of buffer F
      And process B reads page 1 of buffer G
      Then process B read 0x99
      And in process A, page 1 of buffer F is mapped writable

  @kernel:vma_needs_copy @kernel:copy_page_range @room:memory
  Rule: fork does not copy page tables of a file mapping without anonymous pages; the child faults them in

    Scenario: the child of a shared file mapping starts with empty page tables
      Given process A maps file "data" shared as buffer F
      And process A writes 0x99 to page 0 of buffer F
      When process A forks process B
      Then in process B, buffer F is not mapped
      When process B reads page 0 of buffer F
      Then process B read 0x99
      And process A and process B map page 0 of buffer F to the same page
