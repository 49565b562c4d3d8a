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

  @kernel:pagemap_pte_hole @kernel:pte_to_pagemap_entry @kernel:clear_refs_write @room:fs
  Rule: until clear_refs, every page of a VMA marked VM_SOFTDIRTY reads PM_SOFT_DIRTY, mapped or not

    Scenario: a new VMA is soft-dirty as a whole, its unmapped pages too, until clear_refs
      Given process A maps 2 pages of private anonymous memory as buffer Y
      When process A reads /proc/self/pagemap over buffer Y
      Then every pagemap entry has PM_SOFT_DIRTY set and PM_PRESENT clear
      When process A clears its soft-dirty bits
      And process A reads page 0 of buffer Y
      And process A reads /proc/self/pagemap over page 0 of buffer Y
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

  @kernel:migrate_vma_collect_pmd @kernel:remove_migration_pte @room:migrate_device
  Rule: device migration carries a page's soft-dirty bit into the migration entry, and from it into the entry it restores

    Scenario: a page written after clear_refs is still soft-dirty in device-private memory, and back in system RAM
      Given the HMM test driver is loaded
      When process A clears its soft-dirty bits
      And process A writes 0x22 to page 0 of buffer X
      And the private device migrates buffer X of process A to device memory
      And process A reads /proc/self/pagemap over page 0 of buffer X
      Then every pagemap entry has PM_SOFT_DIRTY set and PM_PRESENT clear
      When process A reads /proc/self/pagemap over page 1 of buffer X
      Then every pagemap entry has PM_SWAP set and PM_SOFT_DIRTY clear
      When the private device migrates buffer X of process A back to system memory
      And process A reads /proc/self/pagemap over page 0 of buffer X
      Then every pagemap entry has PM_SOFT_DIRTY set and PM_SWAP clear
      When process A reads /proc/self/pagemap over page 1 of buffer X
      Then every pagemap entry has PM_PRESENT set and PM_SOFT_DIRTY clear

  @kernel:try_to_migrate_one @room:rmap
  Rule: try_to_migrate carries the soft-dirty bit of a present PTE into its migration entry

    Scenario: the other process's soft-dirty PTE of a shared page stays soft-dirty when the page moves to the device
      Given the HMM test driver is loaded
      When process A forks process B
      And the private device migrates page 0 of buffer X of process A to device memory
      And process B reads /proc/self/pagemap over page 0 of buffer X
      Then every pagemap entry has PM_SOFT_DIRTY set and PM_PRESENT clear
      And page 0 of buffer X in process B is in device-private memory

  @kernel:restore_exclusive_pte @kernel:can_change_pte_writable @room:memory
  Rule: restoring a device-exclusive entry keeps its soft-dirty bit, and maps the page writable and dirty only where no soft-dirty write fault is due

    Scenario: a page read back from the device after clear_refs is clean and read-only, so the next write faults and marks it
      Given the HMM test driver is loaded
      When the private device takes exclusive access to page 0 of buffer X of process A
      And process A clears its soft-dirty bits
      And process A reads page 0 of buffer X
      Then in process A, page 0 of buffer X is mapped read-only
      When process A reads /proc/self/pagemap over page 0 of buffer X
      Then every pagemap entry has PM_PRESENT set and PM_SOFT_DIRTY clear
      When process A writes 0x33 to page 0 of buffer X
      Then process A took 1 page fault in that access
      When process A reads /proc/self/pagemap over page 0 of buffer X
      Then every pagemap entry has PM_SOFT_DIRTY set and PM_SWAP clear

    Scenario: a soft-dirty device-exclusive entry comes back soft-dirty and writable
      Given the HMM test driver is loaded
      When the private device takes exclusive access to page 0 of buffer X of process A
      And process A reads page 0 of buffer X
      Then in process A, page 0 of buffer X is mapped writable
      When process A reads /proc/self/pagemap over page 0 of buffer X
      Then every pagemap entry has PM_SOFT_DIRTY set and PM_SWAP clear

  @kernel:copy_nonpresent_pte @room:memory
  Rule: fork write-protects a writable device-private entry of a CoW mapping in both processes, and neither keeps its soft-dirty bit

    Scenario: a soft-dirty device-private page reads back without PM_SOFT_DIRTY in both processes after fork
      Given the HMM test driver is loaded
      When process A clears its soft-dirty bits
      And process A writes 0x22 to page 0 of buffer X
      And the private device migrates page 0 of buffer X of process A to device memory
      And process A reads /proc/self/pagemap over page 0 of buffer X
      Then every pagemap entry has PM_SOFT_DIRTY set and PM_PRESENT clear
      When process A forks process B
      And process A reads /proc/self/pagemap over page 0 of buffer X
      Then every pagemap entry has PM_SWAP set and PM_SOFT_DIRTY clear
      When process B reads /proc/self/pagemap over page 0 of buffer X
      Then every pagemap entry has PM_SWAP set and PM_SOFT_DIRTY clear

  @kernel:__split_huge_pmd_locked @kernel:remove_migration_pte @room:huge_memory
  Rule: a frozen split of a present PMD carries its soft-dirty bit into each migration entry, and the remap back into each PTE

    Scenario: every page of a THP written after clear_refs is soft-dirty while it is split, and after
      Given process A maps 4 MiB of private anonymous memory, buffer T being its first 2 MiB-aligned 2 MiB, advised MADV_HUGEPAGE
      And process A writes 0x44 to buffer T
      When process A clears its soft-dirty bits
      And process A writes 0x55 to page 0 of buffer T
      And the next THP split stops at the split
      And the kernel splits the THP behind page 0 of buffer T in process A
      Then in process A, buffer T is a migration entry
      When process A reads /proc/self/pagemap over buffer T
      Then every pagemap entry has PM_SOFT_DIRTY set and PM_PRESENT clear
      When the split continues
      Then the split succeeds
      When process A reads /proc/self/pagemap over buffer T
      Then every pagemap entry has PM_SOFT_DIRTY set and PM_SWAP clear

  @kernel:can_follow_write_pte @kernel:pte_needs_soft_dirty_wp @room:gup
  Rule: a FOLL_FORCE write through a read-only private mapping faults first where a soft-dirty write fault is due

    Scenario: a forced GUP write after clear_refs marks the page soft-dirty, and leaves it read-only
      Given process A opens the gup_test debugfs file
      When process A makes buffer X read-only
      And process A clears its soft-dirty bits
      And process A runs the gup_test ioctl GUP_BASIC_TEST on page 0 of buffer X with FOLL_WRITE | FOLL_FORCE
      Then the gup_test ioctl returns 0, having taken 1 page
      And in process A, page 0 of buffer X is mapped read-only
      When process A reads /proc/self/pagemap over page 0 of buffer X
      Then every pagemap entry has PM_SOFT_DIRTY set and PM_SWAP clear
      When process A reads /proc/self/pagemap over page 1 of buffer X
      Then every pagemap entry has PM_PRESENT set and PM_SOFT_DIRTY clear
