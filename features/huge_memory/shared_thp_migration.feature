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

  @kernel:migrate_vma_collect_huge_pmd @kernel:migrate_device_unmap @kernel:migrate_vma_split_unmapped_folio @kernel:remove_migration_pmd
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
