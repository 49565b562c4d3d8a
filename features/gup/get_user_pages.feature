Feature: get_user_pages: which mappings GUP may use, and what it faults in first
  __get_user_pages asks check_vma_flags whether the VMA allows the access at
  all, then walks the page table (follow_page_mask) and takes the page only
  if the entry already allows it; otherwise faultin_page faults as a user
  access would and the walk retries. FOLL_FORCE is ptrace's flag: it may read
  a PROT_NONE mapping and write a read-only private one, but the write must
  break CoW first (the Dirty COW class, CVE-2016-5195: commit 9ae0f87d009c,
  "mm/gup: ... can_follow_write_pte"), and it may never write a shared one.
  GUP-fast (gup_fast_pte_range) walks without the mmap lock and without the
  VMA; it takes only what the entry already allows and leaves the rest to the
  slow path, which continues where it stopped.

  @kernel:check_vma_flags @kernel:can_follow_write_pte @room:gup
  Rule: FOLL_FORCE writes through a read-only private mapping, to an exclusive anonymous page only; a shared mapping is refused

    Scenario: a forced write to an exclusive page takes it in place
      Given a process A
      And process A maps 1 page of private anonymous memory as buffer X
      And process A writes 0x11 to buffer X
      And the page behind buffer X in process A is called "mine"
      And process A makes buffer X read-only
      When process A calls get_user_pages with FOLL_WRITE | FOLL_FORCE on buffer X
      Then what process A grabbed of buffer X is the page mapped there
      And buffer X in process A is page "mine"
      And in process A, buffer X is mapped read-only

    Scenario: without FOLL_FORCE, a write GUP of a read-only mapping is refused
      Given a process A
      And process A maps 1 page of private anonymous memory as buffer X
      And process A writes 0x11 to buffer X
      And process A makes buffer X read-only
      When process A calls get_user_pages with FOLL_WRITE on buffer X
      Then pinning fails with -EFAULT

    Scenario: a read GUP of a read-only mapping needs no FOLL_FORCE
      Given a process A
      And process A maps 1 page of read-only private anonymous memory as buffer R
      When process A takes a GUP reference on buffer R, as vmsplice does
      Then in process A, buffer R is the zero page
      And what process A grabbed of buffer R holds 0x0

    Scenario: a forced write to a page shared after fork copies it first (Dirty COW)
      Given a process A
      And process A maps 1 page of private anonymous memory as buffer X
      And process A writes 0x11 to buffer X
      And process A forks process B
      And process A makes buffer X read-only
      When process A calls get_user_pages with FOLL_WRITE | FOLL_FORCE on buffer X
      Then process A and process B map buffer X to different pages
      And what process A grabbed of buffer X is the page mapped there
      And buffer X in process A is exclusive
      And buffer X in process B holds 0x11

    Scenario: a forced write to the zero page gets a new anonymous page
      Given a process A
      And process A maps 1 page of read-only private anonymous memory as buffer R
      And process A reads buffer R
      When process A calls get_user_pages with FOLL_WRITE | FOLL_FORCE on buffer R
      Then in process A, buffer R is mapped read-only
      And buffer R in process A is exclusive
      And what process A grabbed of buffer R is the page mapped there
      And what process A grabbed of buffer R holds 0x0

    Scenario: a forced write to a read-only private file mapping copies the page; the file keeps its data
      Given a process A
      And a file "data" of 1 pages, page i holding 0xf0 + i
      And process A maps file "data" read-only private as buffer F
      And process A reads buffer F
      And the page behind buffer F in process A is called "cached"
      When process A calls get_user_pages with FOLL_WRITE | FOLL_FORCE on buffer F
      Then buffer F in process A is no longer page "cached"
      And what process A grabbed of buffer F is the page mapped there
      And page "cached" holds 0xf0

    Scenario: a forced write to a read-only shared mapping is refused
      Given a process A
      And process A maps 1 page of read-only shared anonymous memory as buffer S
      When process A calls get_user_pages with FOLL_WRITE | FOLL_FORCE on buffer S
      Then pinning fails with -EFAULT

  @kernel:check_vma_flags @kernel:gup_can_follow_protnone @kernel:follow_page_pte @room:gup
  Rule: a PROT_NONE mapping is read only with FOLL_FORCE, as ptrace reads it, and GUP then takes the page behind the PROT_NONE entry

    Scenario: without FOLL_FORCE, GUP of a PROT_NONE mapping is refused
      Given a process A
      And process A maps 1 page of private anonymous memory as buffer X
      And process A writes 0x11 to buffer X
      And process A makes buffer X inaccessible
      When process A takes a GUP reference on buffer X, as vmsplice does
      Then pinning fails with -EFAULT

    Scenario: a forced read takes the page a PROT_NONE entry maps
      Given a process A
      And process A maps 1 page of private anonymous memory as buffer X
      And process A writes 0x11 to buffer X
      And the page behind buffer X in process A is called "mine"
      And process A makes buffer X inaccessible
      When process A calls get_user_pages with FOLL_FORCE on buffer X
      Then what process A grabbed of buffer X holds 0x11
      And buffer X in process A is page "mine"
      And in process A, buffer X is inaccessible

  @kernel:follow_page_mask @kernel:check_vma_flags @kernel:__split_huge_pmd @room:gup
  Rule: FOLL_SPLIT_PMD splits a PMD-mapped THP before GUP takes a page of it; a hugetlb page cannot be split, so it is refused

    Scenario: FOLL_SPLIT_PMD maps the THP by PTEs and keeps the folio whole
      Given a process A
      And process A maps 4 MiB of private anonymous memory, buffer T being its first 2 MiB-aligned 2 MiB, advised MADV_HUGEPAGE
      And process A writes 0x5a to buffer T
      When process A calls get_user_pages with FOLL_SPLIT_PMD on page 3 of buffer T
      Then in process A, page 3 of buffer T is mapped writable
      And the rmap walk finds the THP behind page 0 of buffer T in process A mapped by 0 PMDs and 512 PTEs
      And the THP behind page 0 of buffer T in process A is still one folio of 512 pages
      And what process A grabbed of page 3 of buffer T is the page mapped there

    Scenario: FOLL_SPLIT_PMD on a hugetlb mapping fails with -EOPNOTSUPP
      Given the machine boots with 1 hugetlb page
      And a process A
      And process A maps 2 MiB of private anonymous hugetlb memory as buffer H
      And process A writes 0x5a to buffer H
      When process A calls get_user_pages with FOLL_SPLIT_PMD on page 0 of buffer H
      Then pinning fails with -EOPNOTSUPP

    Scenario: FOLL_FORCE cannot write a read-only hugetlb mapping
      Given the machine boots with 1 hugetlb page
      And a process A
      And process A maps 2 MiB of private anonymous hugetlb memory as buffer H
      And process A writes 0x5a to buffer H
      And process A makes buffer H read-only
      When process A calls get_user_pages with FOLL_WRITE | FOLL_FORCE on page 0 of buffer H
      Then pinning fails with -EFAULT

  @kernel:faultin_page @kernel:vm_fault_to_errno @room:gup
  Rule: faultin_page turns a fault that fails into an errno: VM_FAULT_OOM is -ENOMEM, VM_FAULT_SIGBUS -EFAULT

    Scenario: GUP past the end of a truncated file fails with -EFAULT
      Given a process A
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer F
      And file "pm" is truncated to 1 page
      When process A pins page 1 of buffer F read-only
      Then pinning fails with -EFAULT

    Scenario: GUP that needs a page when none is free fails with -ENOMEM
      Given the machine has 512 pages of RAM
      And a process A
      And process A maps 511 pages of private anonymous memory as buffer X
      And process A writes 0x11 to buffer X
      And process A maps 1 page of private anonymous memory as buffer Y
      When process A pins buffer Y for writing
      Then pinning fails with -ENOMEM
      And 0 pages of RAM are free

  @kernel:gup_fast_pte_range @kernel:gup_fast_fallback @room:gup
  Rule: GUP-fast takes a write pin only from a writable entry; the slow path breaks CoW for the rest, from where GUP-fast stopped

    Scenario: a write pin of a page shared after fork is left to the slow path, which copies it
      Given a process A
      And process A maps 1 page of private anonymous memory as buffer X
      And process A writes 0x11 to buffer X
      And process A forks process B
      When process A pins buffer X for writing with GUP-fast
      Then GUP-fast took 0 pages and the slow path the rest
      And process A and process B map buffer X to different pages
      And what process A grabbed of buffer X is the page mapped there
      And what process A grabbed of buffer X holds 0x11

    Scenario: the slow path continues at the first page GUP-fast left
      Given a process A
      And process A maps 3 pages of private anonymous memory as buffer X
      And process A writes 0x11 to page 0 of buffer X
      And process A reads page 1 of buffer X
      And process A writes 0x33 to page 2 of buffer X
      When process A pins buffer X for writing with GUP-fast
      Then GUP-fast took 1 page and the slow path the rest
      And what process A grabbed of buffer X is the page mapped there
      And in process A, buffer X is mapped writable
      And page 2 of buffer X in process A holds 0x33

    Scenario: GUP-fast takes the page at its offset in a PMD-mapped THP
      Given a process A
      And process A maps 4 MiB of private anonymous memory, buffer T being its first 2 MiB-aligned 2 MiB, advised MADV_HUGEPAGE
      And process A writes 0x5a to buffer T
      When process A pins page 3 of buffer T for writing with GUP-fast
      Then GUP-fast took 1 page and the slow path the rest
      And what process A grabbed of page 3 of buffer T is the page mapped there
      And the folio behind page 0 of buffer T in process A has pincount 1
      When process A releases what it grabbed of page 3 of buffer T
      Then the folio behind page 0 of buffer T in process A has pincount 0
      And the folio behind page 0 of buffer T in process A has refcount 1 and mapcount 1

    Scenario: a write pin of a THP shared after fork copies it first
      Given a process A
      And process A maps 4 MiB of private anonymous memory, buffer T being its first 2 MiB-aligned 2 MiB, advised MADV_HUGEPAGE
      And process A writes 0x5a to buffer T
      And process A forks process B
      When process A pins page 3 of buffer T for writing
      Then process A and process B map page 3 of buffer T to different pages
      And what process A grabbed of page 3 of buffer T is the page mapped there
      And page 3 of buffer T in process B holds 0x5a

    Scenario: GUP-fast leaves the huge zero page to the slow path
      Given a process A
      And process A maps 4 MiB of private anonymous memory, buffer T being its first 2 MiB-aligned 2 MiB, advised MADV_HUGEPAGE
      And process A reads buffer T
      When process A pins page 3 of buffer T read-only with GUP-fast
      Then GUP-fast took 0 pages and the slow path the rest
      And in process A, page 3 of buffer T is the huge zero page

  @kernel:gup_fast_fallback @kernel:copy_present_pte @kernel:page_needs_cow_for_dma @room:gup
  Rule: a GUP-fast pin marks the mm MMF_HAS_PINNED as the slow path does, so a later fork copies the pinned page

    Scenario: fork after a GUP-fast pin gives the child a copy
      Given a process A
      And process A maps 1 page of private anonymous memory as buffer X
      And process A writes 0x11 to buffer X
      And process A pins buffer X for writing with GUP-fast
      When process A forks process B
      Then process A and process B map buffer X to different pages
      And what process A grabbed of buffer X is the page mapped there
      And buffer X in process B holds 0x11

  @kernel:gup_fast_folio_allowed @kernel:writable_file_mapping_allowed @room:gup
  Rule: GUP-fast takes a long-term writable pin of anonymous, shmem and hugetlb memory itself; of a page-cache page it asks the slow path, which refuses it

    Scenario Outline: GUP-fast takes a long-term writable pin of <memory>
      Given <machine>
      And a process A
      And <mapping> as buffer X
      And process A writes 0x11 to buffer X
      When process A pins page 0 of buffer X long-term for writing with GUP-fast
      Then GUP-fast took 1 page and the slow path the rest
      And what process A grabbed of page 0 of buffer X is the page mapped there

      Examples:
        | memory                   | machine                                 | mapping                                                       |
        | private anonymous memory | the machine has 4096 pages of RAM       | process A maps 1 page of private anonymous memory             |
        | shmem                    | the machine has 4096 pages of RAM       | process A maps 1 page of shared anonymous memory              |
        | hugetlb memory           | the machine boots with 1 hugetlb page   | process A maps 2 MiB of private anonymous hugetlb memory      |

    Scenario: a long-term writable pin of a shared file page is refused
      Given a process A
      And a file "data" of 1 pages, page i holding 0xf0 + i
      And process A maps file "data" shared as buffer F
      And process A writes 0x11 to buffer F
      When process A pins buffer F long-term for writing with GUP-fast
      Then pinning fails with -EFAULT
      And GUP-fast took 0 pages and the slow path the rest

  @kernel:gup_must_unshare @kernel:gup_fast_pte_range @room:gup
  Rule: GUP-fast has no VMA, so it leaves every long-term read-only pin of a file page to the slow path, which pins it in place in a shared mapping

    Scenario: a long-term read-only pin of a shared file page comes from the slow path
      Given a process A
      And a file "data" of 1 pages, page i holding 0xf0 + i
      And process A maps file "data" shared as buffer F
      And process A reads buffer F
      And the page behind buffer F in process A is called "cached"
      When process A pins buffer F long-term read-only with GUP-fast
      Then GUP-fast took 0 pages and the slow path the rest
      And buffer F in process A is page "cached"
      And what process A grabbed of buffer F is the page mapped there

  @kernel:gup_must_unshare @room:gup
  Rule: a short-term read-only pin of a MAP_PRIVATE file page pins the page-cache page; a long-term one unshares it into an anonymous copy first

    Scenario: a short-term read-only pin takes the page-cache page
      Given a process A
      And a file "data" of 1 pages, page i holding 0xf0 + i
      And process A maps file "data" private as buffer F
      And process A reads buffer F
      And the page behind buffer F in process A is called "cached"
      When process A pins buffer F read-only
      Then buffer F in process A is page "cached"
      And what process A grabbed of buffer F is the page mapped there

    Scenario: a long-term read-only pin copies the page first
      Given a process A
      And a file "data" of 1 pages, page i holding 0xf0 + i
      And process A maps file "data" private as buffer F
      And process A reads buffer F
      And the page behind buffer F in process A is called "cached"
      When process A pins buffer F long-term read-only
      Then buffer F in process A is no longer page "cached"
      And what process A grabbed of buffer F is the page mapped there
      And what process A grabbed of buffer F holds 0xf0
      And process A has 1 anonymous page

  @kernel:try_grab_folio @kernel:gup_put_folio @room:gup
  Rule: a pin of the shared zero page takes nothing, and unpinning it gives nothing back

    Scenario: pinning and unpinning the zero page leaves its refcount alone
      Given a process A
      And process A maps 1 page of private anonymous memory as buffer Z
      And process A reads buffer Z
      And the page behind buffer Z in process A is called "zero"
      When process A pins buffer Z read-only
      Then in process A, buffer Z is the zero page
      And page "zero" has refcount 1 and mapcount 0
      When process A releases what it grabbed of buffer Z
      Then page "zero" has refcount 1 and mapcount 0
