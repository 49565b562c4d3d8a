Feature: Soft-dirty tracking: clear_refs, and the write fault that marks a page again
  Writing 4 to /proc/pid/clear_refs starts soft-dirty tracking: every VMA
  loses VM_SOFTDIRTY, every present PTE is write-protected and loses its
  soft-dirty bit, and a swap-style entry loses its swap soft-dirty bit
  (clear_refs_write, clear_soft_dirty). The next write to a page faults and
  sets the bit again, which /proc/pid/pagemap shows as PM_SOFT_DIRTY. cow.c
  relies on this to keep mprotect() from mapping a page writable by itself.

  Background:
    Given a process A
    And process A maps 2 pages of private anonymous memory as buffer X
    And process A writes 0x11 to buffer X

  @kernel:clear_refs_write @kernel:clear_soft_dirty @kernel:pte_to_pagemap_entry @room:fs
  Rule: clear_refs write-protects and cleans every present PTE; the next write faults and marks its page again

    Scenario: a written page loses its soft-dirty bit, and the next write faults to set it
      When process A reads /proc/self/pagemap over buffer X
      Then every pagemap entry has PM_SOFT_DIRTY set and PM_SWAP clear
      When process A clears its soft-dirty bits
      Then in process A, buffer X is mapped read-only
      When process A reads /proc/self/pagemap over buffer X
      Then every pagemap entry has PM_PRESENT set and PM_SOFT_DIRTY clear
      When process A writes 0x22 to page 0 of buffer X
      Then process A took 1 page fault in that access
      And in process A, page 0 of buffer X is mapped writable
      When process A reads /proc/self/pagemap over page 0 of buffer X
      Then every pagemap entry has PM_SOFT_DIRTY set and PM_SWAP clear
      When process A reads /proc/self/pagemap over page 1 of buffer X
      Then every pagemap entry has PM_PRESENT set and PM_SOFT_DIRTY clear

  @kernel:clear_refs_write @kernel:clear_soft_dirty @kernel:make_device_exclusive @room:fs
  Rule: a swap-style entry keeps the soft-dirty bit of the PTE it replaced, and clear_refs clears it too

    Scenario: a device-exclusive entry of a written page is soft-dirty until clear_refs
      Given the HMM test driver is loaded
      When the private device takes exclusive access to page 0 of buffer X of process A
      And process A reads /proc/self/pagemap over page 0 of buffer X
      Then every pagemap entry has PM_SOFT_DIRTY set and PM_PRESENT clear
      When process A clears its soft-dirty bits
      And process A reads /proc/self/pagemap over page 0 of buffer X
      Then every pagemap entry has PM_SWAP set and PM_SOFT_DIRTY clear
      And in process A, page 0 of buffer X is device-exclusive
