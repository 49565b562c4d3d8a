@explorer @device-private
Feature: A partial munmap of a device-private THP that a child shares, under both split designs
  npm run explore found this under the v2 split design by itself (seed 1,
  60 s, 6045 sequences; 6 steps): the v2 patch splits a device-private folio
  as soon as its PMD is split, without unmapping it, so a munmap of one page
  of a THP that parent and child both map through device-private PMDs
  leaves the page tables and the rss counters apart. The merged design
  (unmap into migration entries, freeze, split, remap) keeps them.

  @kernel:__split_huge_pmd @kernel:split_device_private_folio @room:huge_memory
  Rule: unmapping one page of a fork-shared device-private THP keeps every mm's rss counters

    Scenario: merged design: the counters hold, and the device finds nothing left to read
      Given the HMM test driver is loaded
      And a process A
      And process A maps 4 MiB of private anonymous memory, buffer X being its first 2 MiB-aligned 2 MiB, advised MADV_HUGEPAGE
      And private device 1 migrates buffer X of process A to device memory
      And process A forks process B
      When "the private device reads page 0 of buffer X of process A" is interrupted at preemption point 1 by "process A unmaps page 0 of buffer X"
      Then the interruption came at "dmirror_read: before dmirror_do_read"
      And the command fails with -EFAULT
      And debug_vm finds every invariant holding

    Scenario: v2 design: the split breaks the rss counters
      Given device-private THPs are split as the v2 patch did
      And the HMM test driver is loaded
      And a process A
      And process A maps 4 MiB of private anonymous memory, buffer X being its first 2 MiB-aligned 2 MiB, advised MADV_HUGEPAGE
      And private device 1 migrates buffer X of process A to device memory
      And process A forks process B
      When "the private device reads page 0 of buffer X of process A" is interrupted at preemption point 1 by "process A unmaps page 0 of buffer X"
      Then debug_vm reports "rss counters match the page tables"
