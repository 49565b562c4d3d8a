@seed:004 @device-private
Feature: Device-private THPs: PMD-level device-private entries, and how such a folio is split
  Balbir Singh's series (2025) lets a whole THP migrate to device-private
  memory as one PMD-order device folio, mapped by a single device-private PMD
  entry. The review of its v2 (Hildenbrand, Zi Yan, Penttilä, July 2025)
  asked how such a folio is split when only part of it is unmapped. v2 split
  the folio while it was still mapped by device-private entries, freezing its
  refcount at what it expected. The reviewers asked why that freeze cannot
  meet a reference nobody expected, and asked for the usual path instead:
  unmap into migration entries, freeze, split, unfreeze, remap. The merged
  kernel leaves a PTE-mapped device-private THP large, never queues it for
  deferred split, and splits it through __folio_split when a fault or a
  migration meets it.

    ```
    page:     0 1 2 3 4 5 6 7 ... 511
    migrated: DDDDDDDDDDDDDDDDDDDDDDDDD   one device-private PMD, one device folio
    munmap:   DDDD  DDDDDDDDDDDDDDDDDDD   pages 4-5: the PMD is split into PTEs
    ```

  Background:
    Given the HMM test driver is loaded
    And a process A
    And process A maps 2 MiB of private anonymous memory as buffer T
    And process A advises MADV_HUGEPAGE on buffer T
    And process A writes 0x5a to buffer T
    And the private device migrates buffer T of process A to device memory

  @claim:S004-1 @kernel:migrate_vma_collect_huge_pmd @kernel:migrate_vma_insert_huge_pmd_page
  Rule: a device-private THP is one PMD-order device folio, mapped by one device-private PMD entry

    Scenario: a PMD-mapped THP migrates whole and is mapped by a device-private PMD
      Then the command succeeds with cpages 512 and faults 0
      And in process A, buffer T is PMD-mapped device-private, writable
      And the THP behind page 0 of buffer T in process A is still one folio of 512 pages
      And buffer T in process A is in device-private memory
      And process A has 512 anonymous pages
      When the private device takes a snapshot of buffer T of process A
      Then the snapshot shows 0x26 for every page

    Scenario: a CPU fault on the PMD brings the whole THP back
      When process A reads page 300 of buffer T
      Then process A read 0x5a
      And in process A, buffer T is PMD-mapped writable
      And buffer T in process A is in system RAM
      And the private device took 0 device faults and the CPU 1 fault on its memory

  @claim:S004-2 @kernel:page_vma_mapped_walk @kernel:folio_referenced
  Rule: merged: page_vma_mapped_walk reports a device-private PMD to every walker but PVMW_MIGRATION; page idle and DAMON miss it only because they take LRU folios
    v2 reported it only to callers passing PVMW_THP_DEVICE_PRIVATE; that flag
    did not merge (S004-2 is superseded).

    Scenario: page idle tracking skips it, the rmap walk finds its PMD
      Then page idle tracking sees 0 mappings of the THP behind page 0 of buffer T in process A
      And the rmap walk finds the THP behind page 0 of buffer T in process A mapped by 1 PMD and 0 PTEs

  @claim:S004-3 @kernel:pmd_pfn @kernel:softleaf_to_pfn
  Rule: pmd_pfn() is not valid on a device-private PMD; the pfn must be decoded from the swap entry

    Scenario: a kernel path that takes pmd_pfn() of a device-private PMD is caught
      When a kernel path takes pmd_pfn() of page 0 of buffer T in process A
      Then debug_vm reports "pmd_pfn() only on a present huge PMD"
      And page 0 of buffer T in process A is in device-private memory

  @claim:S004-4 @kernel:__split_huge_pmd @kernel:migrate_vma_split_folio
  Rule: a partial munmap splits the PMD; the folio must be split too, never by deferred split

    Scenario: merged kernel: the folio stays large until a fault splits it through __folio_split
      When process A unmaps pages 4-5 of buffer T
      Then in process A, page 0 of buffer T is device-private, writable
      And the THP behind page 0 of buffer T in process A is still one folio of 512 pages
      And the THP behind page 0 of buffer T in process A is not queued for deferred split
      And the private device has been told 0 pages were freed
      When process A reads page 7 of buffer T
      Then process A read 0x5a
      And the THP behind pages 0-3 of buffer T in process A is in small folios
      And page 7 of buffer T in process A is in system RAM
      And the private device has been told 3 pages were freed

    Scenario: v2 patch: the folio is split as soon as its PMD is
      Given device-private THPs are split as the v2 patch did
      When process A unmaps pages 4-5 of buffer T
      Then the THP behind pages 0-3 of buffer T in process A is in small folios
      And the private device has been told 2 pages were freed
      When process A reads page 7 of buffer T
      Then process A read 0x5a
      And page 7 of buffer T in process A is in system RAM

    Scenario Outline: mremap to an address <offset> KiB past a 2 MiB boundary splits the PMD; every page still faults back
      When process A moves buffer T with mremap to <offset> KiB past its end
      Then in process A, buffer T is device-private, writable
      And the THP behind page 0 of buffer T in process A is not queued for deferred split
      When process A reads buffer T
      Then process A read 0x5a
      And buffer T in process A is in system RAM

      Examples:
        | offset |
        | 512    |
        | 1024   |

  @claim:S004-5 @kernel:__split_huge_pmd_locked @kernel:copy_huge_non_present_pmd
  Rule: device-private entries, PMD or PTE, are rmap-tracked mappings: they hold mapcount and references, like PROT_NONE PTEs

    Scenario: the PMD entry, then fork, then a PMD split, all count
      Then the folio behind page 0 of buffer T in process A has refcount 1 and mapcount 1
      When process A forks process B
      Then the folio behind page 0 of buffer T in process A has refcount 2 and mapcount 2
      And in process B, buffer T is PMD-mapped device-private, read-only
      And process B has 512 anonymous pages
      When the kernel splits the PMD of page 0 of buffer T in process A
      Then in process A, buffer T is device-private, read-only
      And the folio behind page 0 of buffer T in process A has refcount 513 and mapcount 513

  @claim:S004-6 @claim:S004-7 @kernel:split_device_private_folio @kernel:__folio_split @kernel:folio_ref_freeze
  Rule: the review's race: a reference taken while the folio is still mapped meets v2's freeze unaccounted; the merged design's unmap detects it

    Scenario: v2 freezes while still mapped: the extra reference is lost, and dropping it later frees a mapped page
      Given device-private THPs are split as the v2 patch did
      And the next THP split stops at the freeze
      When the kernel splits the PMD of page 0 of buffer T in process A
      Then the folio behind page 0 of buffer T in process A has refcount 513 and mapcount 512
      When the device driver takes a reference to the THP behind page 0 of buffer T in process A
      And the split continues
      Then the split succeeds
      And the THP behind page 0 of buffer T in process A is in small folios
      And the folio behind page 0 of buffer T in process A has refcount 1 and mapcount 1
      When the device driver drops its reference
      Then debug_vm reports "a mapped page is never at refcount 0"

    Scenario: merged design: the unmap drives the mapcount to 0, and the freeze detects the extra reference
      Given the next THP split stops at the freeze
      When the kernel splits the THP behind page 0 of buffer T in process A
      Then in process A, buffer T is a migration entry
      And the rmap walk finds the THP behind page 0 of buffer T in process A mapped by 0 PMDs and 0 PTEs
      When the device driver takes a reference to the THP behind page 0 of buffer T in process A
      And the split continues
      Then the split fails with -EAGAIN
      And the THP behind page 0 of buffer T in process A is still one folio of 512 pages
      And in process A, buffer T is device-private, writable
      And the folio behind page 0 of buffer T in process A has refcount 513 and mapcount 512
      When the device driver drops its reference
      Then the folio behind page 0 of buffer T in process A has refcount 512 and mapcount 512

    Scenario: merged design: once frozen, nobody can take a reference at all
      Given the next THP split stops at the split
      When the kernel splits the THP behind page 0 of buffer T in process A
      And the device driver takes a reference to the THP behind page 0 of buffer T in process A
      Then the reference is refused, because the refcount is frozen
      When the split continues
      Then the split succeeds
      And the THP behind page 0 of buffer T in process A is in small folios
      And in process A, buffer T is device-private, writable

    Scenario: merged design: a CPU fault in the middle of the split waits on the migration entry, then brings its page back
      Given the next THP split stops at the split
      When the kernel splits the THP behind page 0 of buffer T in process A
      And process A reads page 3 of buffer T
      Then the access waits for the migration
      When the split continues
      Then the split succeeds
      When process A reads page 3 of buffer T
      Then process A read 0x5a
      And page 3 of buffer T in process A is in system RAM
      And in process A, page 4 of buffer T is device-private, writable

  @claim:S004-8 @kernel:set_pmd_migration_entry @kernel:folio_mapcount
  Rule: a migration entry is not a CPU mapping: a folio mapped only by migration entries has mapcount 0

    Scenario: while a device-private THP is split, migration entries replace its device-private entries and its mapcount is 0; the remap restores them
      Given the page behind page 0 of buffer T in process A is called "device THP"
      And page "device THP" has refcount 1 and mapcount 1
      And the next THP split stops at the split
      When the kernel splits the THP behind page 0 of buffer T in process A
      Then in process A, buffer T is a migration entry
      And page "device THP" has refcount 0 and mapcount 0
      When the split continues
      Then the split succeeds
      And in process A, buffer T is device-private, writable
      And page "device THP" has refcount 1 and mapcount 1

  @claim:S004-9 @kernel:make_device_exclusive @kernel:page_vma_mapped_walk
  Rule: device-exclusive entries are rmap-tracked mappings too, although they are non-present

    Scenario: the rmap walk finds a device-exclusive entry as a mapping
      Given process A maps 1 page of private anonymous memory as buffer E
      And process A writes 0x11 to buffer E
      When the private device takes exclusive access to buffer E of process A
      Then in process A, buffer E is device-exclusive
      And the folio behind page 0 of buffer E in process A has refcount 1 and mapcount 1
      And the rmap walk finds the THP behind page 0 of buffer E in process A mapped by 0 PMDs and 1 PTE
