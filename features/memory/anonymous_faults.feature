Feature: Anonymous page faults
  A process's first touch of private anonymous memory goes through
  do_anonymous_page. A read needs no memory of its own: it maps the one
  shared zero page, read-only. A write allocates a zeroed page that belongs
  to this process alone (PageAnonExclusive), mapped writable.

  Background:
    Given a process A
    And process A maps 4 pages of private anonymous memory as buffer X

  @kernel:do_anonymous_page @room:memory
  Rule: a read fault on untouched anonymous memory maps the shared zero page

    Scenario: reading untouched memory maps the zero page and allocates nothing
      When process A reads buffer X
      Then process A read 0x0
      And in process A, buffer X is the zero page
      And process A has 0 anonymous pages

  @kernel:do_anonymous_page @room:memory
  Rule: a write fault allocates a new page, exclusive to the writer and mapped writable

    Scenario: writing untouched memory allocates one exclusive page per page written
      When process A writes 0x5a to pages 0-1 of buffer X
      Then in process A, pages 0-1 of buffer X are mapped writable
      And pages 0-1 of buffer X in process A are exclusive
      And the folio behind page 0 of buffer X in process A has refcount 1 and mapcount 1
      And process A has 2 anonymous pages
      And in process A, pages 2-3 of buffer X are not mapped

  @kernel:do_wp_page @kernel:wp_page_copy @room:memory
  Rule: writing a page that maps the zero page replaces it with a new page

    Scenario: the zero page is copied, never written
      Given process A reads page 0 of buffer X
      When process A writes 0x77 to page 0 of buffer X
      Then in process A, page 0 of buffer X is mapped writable
      And page 0 of buffer X in process A holds 0x77
      And process A has 1 anonymous page

  @kernel:do_user_addr_fault @room:arch
  Rule: an access the VMA does not allow is a SIGSEGV, not a crash

    Scenario: writing read-only anonymous memory raises SIGSEGV
      Given process A maps 1 page of read-only private anonymous memory as buffer R
      When process A writes 0x1 to buffer R
      Then the access fails with SIGSEGV
      And in process A, buffer R is not mapped

    Scenario: touching memory after munmap raises SIGSEGV
      Given process A unmaps buffer X
      When process A reads page 2 of buffer X
      Then the access fails with SIGSEGV
