@device-private @device-coherent
Feature: Device migration of a THP that another process maps after fork
  After fork, parent and child map the same anonymous THP with a PMD each.
  When a device migrates one process's THP with MIGRATE_VMA_SELECT_COMPOUND,
  migrate_vma_collect_huge_pmd collects it as one compound entry behind a
  PMD migration entry, and try_to_migrate makes the other process's PMD a
  PMD migration entry too. If the device then offers only small pages (the
  coherent device, whose chunk is cut into single pages; the private one
  with HMM_DMIRROR_FLAG_FAIL_ALLOC), migrate_vma_split_unmapped_folio splits
  the migrating process's PMD only, and remove_migration_ptes restores the
  other process's PMD migration entry as a PMD over one order-0 page. On a
  real 7.2.13 the other process then reads the migrating process's new
  pages in the wrong order, the two share writes, and the kernel reports
  bad rss counters at exit or takes a GPF in the rmap walk
  (docs/upstream/shared-thp-migration.md). kernel/patches/0001 splits a THP
  that another mm may map before collecting it.

    ```
    process A:  PMD ──┐                     7.x, small-page fallback:
    process B:  PMD ──┴─ THP (512 pages)    B's PMD split, A's PMD rebuilt over one small page
    ```

  Background:
    Given the HMM test driver is loaded with device-coherent memory
    And a process A
    And process A maps 2 MiB of private anonymous memory as buffer T
    And process A advises MADV_HUGEPAGE on buffer T
    And process A sets ptr[i] = i over buffer T
    And process A forks process B

  @claim:M001-1 @kernel:migrate_vma_collect_huge_pmd @kernel:migrate_device_unmap @kernel:migrate_vma_split_unmapped_folio @kernel:remove_migration_pmd
  Rule: migrating a THP that another process maps never changes what that process sees

    @kernel-fails
    Scenario Outline: 7.x: the <device> migrates process <who>'s shared THP into small pages
      Kernel fails: only the migrating process's PMD migration entry is split; the other process's is rebuilt as a PMD over an order-0 page, so its rss counters no longer match its page tables (and on a real 7.2.13 it reads the wrong data).

      Given device migration splits a THP another process maps, as 7.x does not
      And <small pages only>
      When the <device> migrates buffer T of process <who> to device memory
      Then debug_vm reports "rss counters match the page tables"

      Examples:
        | device          | who | small pages only                                                 |
        | coherent device | B   | the coherent device has no free PMD-order folio                  |
        | coherent device | A   | the coherent device has no free PMD-order folio                  |
        | private device  | B   | the next allocation of the private device for process B fails    |
        | private device  | A   | the next allocation of the private device for process A fails    |

    @kernel-needs-patch:0001
    Scenario Outline: with kernel/patches/0001, the <device> migrates process <who>'s shared THP page by page and neither process loses its data
      Given device migration splits a THP another process maps, as kernel/patches/0001 proposes
      When the <device> migrates buffer T of process <who> to device memory
      Then the command succeeds with cpages 512 and faults 0
      And process A reads ptr[i] == i over buffer T
      And process B reads ptr[i] == i over buffer T
      When process A writes 0x77 to page 0 of buffer T
      Then process B reads ptr[i] == i over page 0 of buffer T

      Examples:
        | device          | who |
        | coherent device | B   |
        | coherent device | A   |
        | private device  | B   |
        | private device  | A   |

  @claim:M001-2 @kernel:remove_migration_pmd @kernel:set_pmd_migration_entry
  Rule: a device-private PMD restored from a migration entry is writable only where the entry was; its soft-dirty bit is no write bit

    remove_migration_pmd builds the device-private PMD from the present pmde
    (make_writable_device_private_entry only when pmd_write(pmde)), carries
    the soft-dirty bit over, and only then makes its DEBUG_VM check
    VM_BUG_ON(pmd_write(pmde) && folio_test_anon(folio) && !PageAnonExclusive(new)).
    On the swap PMD, pmd_write() reads _PAGE_RW, which on x86 is
    _PAGE_SWP_SOFT_DIRTY. A fork-shared THP is not exclusive, and it is
    soft-dirty once written since the last clear_refs, so migrating it whole to
    device-private memory takes kernel BUG at mm/huge_memory.c:5114 on a
    CONFIG_DEBUG_VM kernel (7.2.13 under qemu). Only the check is wrong: the
    entry it built is right.

    @kernel-fails
    Scenario Outline: 7.x with CONFIG_DEBUG_VM: the private device migrates process <who>'s whole shared THP while it is soft-dirty
      Kernel fails: the DEBUG_VM check reads the soft-dirty bit of the device-private swap PMD as its write bit, and the page of a fork-shared THP is not exclusive, so VM_BUG_ON fires (kernel BUG at mm/huge_memory.c:5114 on 7.2.13).

      Given remove_migration_pmd checks the write bit of the swap PMD, as 7.x does
      When the private device migrates buffer T of process <who> to device memory
      Then debug_vm reports "VM_BUG_ON(pmd_write(pmde) && folio_test_anon(folio) && !PageAnonExclusive(new))"

      Examples:
        | who |
        | B   |
        | A   |

    Scenario Outline: once both processes have cleared their soft-dirty bits, the private device migrates process <who>'s whole shared THP and neither loses its data
      Given remove_migration_pmd checks the write bit of the swap PMD, as 7.x does
      And process A clears its soft-dirty bits
      And process B clears its soft-dirty bits
      When the private device migrates buffer T of process <who> to device memory
      Then the command succeeds with cpages 512 and faults 0
      And process A reads ptr[i] == i over buffer T
      And process B reads ptr[i] == i over buffer T

      Examples:
        | who |
        | B   |
        | A   |

    Scenario Outline: with the check made on the present PMD, the private device migrates process <who>'s whole soft-dirty shared THP and neither loses its data
      Given remove_migration_pmd checks the write bit of the present PMD, before the conversion
      When the private device migrates buffer T of process <who> to device memory
      Then the command succeeds with cpages 512 and faults 0
      And process A reads ptr[i] == i over buffer T
      And process B reads ptr[i] == i over buffer T

      Examples:
        | who |
        | B   |
        | A   |
