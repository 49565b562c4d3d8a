@explorer
Feature: madvise walks every VMA of its range, and a hole does not stop it
  madvise_walk_vmas (mm/madvise.c) looks up each VMA of the range again
  after advising the one before it, since advice such as MADV_HUGEPAGE
  splits and merges VMAs. A gap between VMAs does not end the walk: the
  advice still reaches every mapped part, and the call returns -ENOMEM at
  the end. The engine used to return -ENOMEM before advising anything.
  npm run explore found that by itself (seed 2, 6113 sequences, 73k
  operations; shrunk to 10 steps): a page MADV_DONTNEED had zapped still
  held its data.

  @kernel:madvise_walk_vmas @kernel:madvise_dontneed_single_vma @room:vma
  Rule: MADV_DONTNEED over a range with a hole still zaps every mapped page, then fails with -ENOMEM

    Scenario: the pages after the hole read zero again
      Given a process A
      And process A maps 4 pages of private anonymous memory as buffer X
      And process A unmaps page 0 of buffer X
      And process A writes 0x101 to pages 1-3 of buffer X
      When process A advises MADV_DONTNEED on buffer X
      Then the call fails with -ENOMEM
      When process A reads pages 1-3 of buffer X
      Then process A read 0x0

    Scenario: a child forked before keeps its own copy
      Given a process A
      And process A maps 4 pages of private anonymous memory as buffer X
      And process A unmaps page 2 of buffer X
      And process A writes 0x101 to page 3 of buffer X
      And process A forks process B
      When process A advises MADV_DONTNEED on buffer X
      Then the call fails with -ENOMEM
      When process A reads page 3 of buffer X
      Then process A read 0x0
      When process B reads page 3 of buffer X
      Then process B read 0x101

  @kernel:madvise_walk_vmas @kernel:madvise_update_vma @room:vma
  Rule: advice that splits VMAs leaves them sorted and disjoint

    Scenario: MADV_HUGEPAGE over part of a buffer whose middle page is read-only
      Given a process A
      And process A maps 4 pages of private anonymous memory as buffer X
      And process A makes page 1 of buffer X read-only
      When process A advises MADV_HUGEPAGE on pages 0-2 of buffer X
      Then process A has 4 VMAs over buffer X
      And debug_vm finds every invariant holding
