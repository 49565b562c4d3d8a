Feature: What fork copies, as madvise and mremap set it up
  fork() copies every VMA of the parent (dup_mmap), with two exceptions a
  process can ask for: MADV_DONTFORK marks a range VM_DONTCOPY, and the
  child has nothing there (a driver's pinned DMA buffer is the classic
  user); MADV_WIPEONFORK marks private anonymous memory VM_WIPEONFORK, and
  the child gets the range, empty, zero-filled where it touches it (a
  random-number generator's state, which must never be shared). MADV_DOFORK
  and MADV_KEEPONFORK undo them. mremap's MREMAP_DONTUNMAP moves the pages
  and leaves the old range mapped and empty.

  Background:
    Given a process A
    And process A maps 2 pages of private anonymous memory as buffer X
    And process A writes 0x11 to buffer X

  @kernel:madvise_vma_behavior @kernel:dup_mmap @room:madvise
  Rule: MADV_DONTFORK leaves a range out of the child; MADV_DOFORK puts it back

    Scenario: the child of a MADV_DONTFORK parent has no VMA there, and a later child has it again
      When process A advises MADV_DONTFORK on buffer X
      And process A forks process B
      Then process B has 0 VMAs over buffer X
      And process A has 1 VMA over buffer X
      When process A advises MADV_DOFORK on buffer X
      And process A forks process C
      Then process C has 1 VMA over buffer X
      When process C reads page 1 of buffer X
      Then process C read 0x11

    Scenario: MADV_DONTFORK on one page splits the VMA, and only that page is left out
      When process A advises MADV_DONTFORK on page 0 of buffer X
      Then process A has 2 VMAs over buffer X
      When process A forks process B
      Then process B has 1 VMA over buffer X
      When process B reads page 1 of buffer X
      Then process B read 0x11

  @kernel:madvise_vma_behavior @kernel:dup_mmap @room:madvise
  Rule: MADV_WIPEONFORK gives the child the range empty, zero-filled on touch; MADV_KEEPONFORK copies it again

    Scenario: the child of a MADV_WIPEONFORK parent reads zeros, and the parent keeps its data
      When process A advises MADV_WIPEONFORK on buffer X
      And process A forks process B
      Then process B has 1 VMA over buffer X
      And process B has 0 anonymous pages
      When process B reads page 0 of buffer X
      Then process B read 0x0
      When process A reads page 0 of buffer X
      Then process A read 0x11

    Scenario: after MADV_KEEPONFORK the child shares the parent's pages again
      When process A advises MADV_WIPEONFORK on buffer X
      And process A advises MADV_KEEPONFORK on buffer X
      And process A forks process B
      Then process A and process B map buffer X to the same page
      And buffer X in process B holds 0x11

  @kernel:move_vma @kernel:mremap_to @room:mremap
  Rule: MREMAP_DONTUNMAP moves the pages and leaves the old range mapped, empty

    Scenario: after a DONTUNMAP move the old range reads zeros and the new one holds the data
      Given process A keeps a pointer to buffer X, as buffer O
      When process A moves buffer X with mremap(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) to 0 KiB past its end
      Then buffer X in process A holds 0x11
      And process A has 1 VMA over buffer O
      When process A reads page 0 of buffer O
      Then process A read 0x0
