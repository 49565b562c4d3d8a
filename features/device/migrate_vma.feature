@device-private
Feature: migrate_vma: how pages move between system and device memory
  A driver migrates a range of a process in three calls. migrate_vma_setup
  collects the pages and replaces their mappings by migration entries (so
  nobody can touch them while they move), the driver allocates destination
  pages and copies, migrate_vma_pages moves the struct-page state, and
  migrate_vma_finalize points the entries at the new pages. A page that
  cannot move - one that somebody else holds a reference to, or pins - gets
  its old mapping back. Secondary MMUs hear MMU_NOTIFY_MIGRATE with the
  migrating driver as owner, so that driver alone may ignore it.

  Background:
    Given the HMM test driver is loaded
    And a process A
    And process A maps 4 pages of private anonymous memory as buffer X
    And process A writes 0x5a to buffer X

  @kernel:migrate_vma_collect_pmd @kernel:do_swap_page @kernel:migration_entry_wait
  Rule: while a page migrates it is mapped by a migration entry, and a CPU access waits for the migration to finish

    Scenario: a CPU read during the migration waits, and succeeds after it
      When the private device starts migrating buffer X of process A to device memory
      Then in process A, buffer X is a migration entry
      When process A reads page 0 of buffer X
      Then the access waits for the migration
      When the migration finishes
      Then in process A, buffer X is device-private, writable
      When process A reads page 0 of buffer X
      Then process A read 0x5a

  @kernel:migrate_vma_check_page @kernel:migrate_device_unmap @kernel:remove_migration_ptes
  Rule: a page with references nobody accounts for does not migrate; its mapping is restored

    Scenario Outline: a page with <reference> stays in system memory
      Given process A <grab>
      When the private device migrates buffer X of process A to device memory
      Then the command fails with -ENOENT
      And page 1 of buffer X in process A is in system RAM
      And in process A, page 1 of buffer X is mapped writable
      And page 1 of buffer X in process A is exclusive
      And in process A, page 2 of buffer X is device-private, writable

      Examples:
        | reference       | grab                                                          |
        | a GUP reference | takes a GUP reference on page 1 of buffer X, as vmsplice does |
        | a DMA pin       | pins page 1 of buffer X for writing                           |

  @kernel:migrate_vma_collect @kernel:dmirror_interval_invalidate
  Rule: migration invalidations carry their driver as owner: that driver keeps its mirror, every other mirror drops the range

    Scenario: device 0 migrating a buffer invalidates device 1's mirror, not its own
      Given private device 1 reads buffer X of process A
      And an MMU interval notifier on buffer X in process A
      When the private device migrates buffer X of process A to device memory
      Then the notifier on buffer X in process A saw MMU_NOTIFY_MIGRATE over buffer X
      And the private device mirrors buffer X of process A
      And private device 1 no longer mirrors buffer X of process A

  @kernel:hmm_range_fault @kernel:dmirror_mkentry
  Rule: hmm_range_fault reports a device's own private pages as they are; another device's are invisible without a fault

    Scenario Outline: <who> takes a snapshot of migrated pages
      Given the private device migrates buffer X of process A to device memory
      When <who> takes a snapshot of buffer X of process A
      Then the snapshot shows <byte> for every page
      And buffer X in process A is in device-private memory

      Examples:
        | who                | byte | meaning                       |
        | the private device | 0x22 | PROT_DEV_PRIVATE_LOCAL, WRITE |
        | private device 1   | 0x0  | PROT_NONE: not valid          |

  @kernel:hmm_range_fault @kernel:migrate_to_ram
  Rule: a device reading another device's private memory faults it back to system memory

    Scenario: device 1 reads pages that live in device 0's memory
      Given the private device migrates buffer X of process A to device memory
      When private device 1 reads buffer X of process A
      Then the device saw 0x5a in every page
      And buffer X in process A is in system RAM
      And the private device took 0 device faults and the CPU 4 faults on its memory
      And the private device no longer mirrors buffer X of process A

  @kernel:copy_nonpresent_pte
  Rule: fork duplicates device-private entries, with write permission dropped in parent and child

    Scenario: parent and child share the device page through read-only device-private entries
      Given the private device migrates buffer X of process A to device memory
      When process A forks process B
      Then in process A, buffer X is device-private, read-only
      And in process B, buffer X is device-private, read-only
      And process A and process B map buffer X to the same page
      And the folio behind page 0 of buffer X in process A has refcount 2 and mapcount 2
      And process B has 4 anonymous pages
      And the private device no longer mirrors buffer X of process A

    Scenario: a CPU access by either process migrates the shared page back for both
      Given the private device migrates buffer X of process A to device memory
      And process A forks process B
      When process B writes 0x77 to page 0 of buffer X
      Then page 0 of buffer X in process B holds 0x77
      And page 0 of buffer X in process A is in system RAM
      And in process A, page 0 of buffer X is mapped read-only
      And page 0 of buffer X in process A holds 0x5a
      And in process A, page 1 of buffer X is device-private, read-only

  @kernel:migrate_device_range @kernel:memunmap_pages
  Rule: when the device goes away, migrate_device_range brings every page back, in every process that maps it

    Scenario: releasing the device memory evicts the pages of parent and child
      Given the private device migrates buffer X of process A to device memory
      And process A forks process B
      When the private device releases its memory
      Then buffer X in process A is in system RAM
      And buffer X in process B is in system RAM
      And buffer X in process B holds 0x5a
      And the private device has been told 0 pages were freed

    Scenario: closing the device file evicts its pages too
      Given the private device migrates buffer X of process A to device memory
      When process A closes the private device
      Then buffer X in process A is in system RAM
      And buffer X in process A holds 0x5a
      And the private device has been told 4 pages were freed

  @kernel:migrate_vma_pages @kernel:dmirror_migrate_alloc_and_copy
  Rule: a page the driver could not allocate a destination for stays where it was

    Scenario: a one-shot allocation failure leaves the first page in system memory
      Given the next allocation of the private device for process A fails
      When the private device migrates buffer X of process A to device memory
      Then the command fails with -ENOENT
      And page 0 of buffer X in process A is in system RAM
      And pages 1-3 of buffer X in process A are in device-private memory
