@hmm-tests
Feature: hmm-tests.c, device-private THP: migrating whole 2 MiB folios, splitting them, and falling back to small pages
  hmm-tests.c's THP tests map twice the PMD size (P = 2 MiB, 512 pages) and
  use the window that starts at the first 2 MiB boundary, buffer B; the whole
  mapping is buffer B_map. With MIGRATE_VMA_SELECT_COMPOUND a PMD-mapped THP,
  or an empty or huge-zero-page range, migrates as one PMD-order folio: on
  device-private memory it becomes one device-private PMD entry. The
  device-coherent device has no free PMD-order folios (its one chunk is cut
  into single pages), so there the same range migrates as 512 small pages.
  A partial munmap or a misaligned mremap splits the PMD, and each page then
  faults back on its own. HMM_DMIRROR_FLAG_FAIL_ALLOC makes the driver's
  next allocation fail, to force the fallback to small pages in either
  direction.

    ```
    page:      0 ......... 255 256 ........ 511
    migrated:  DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD   one device-private PMD (private variant)
    munmap:    DDDDDDDDDDDDDDDD                    pages 256-511: PMD split into PTEs
    CPU reads: RRRRRRRRRRRRRRRR                    each page faults back on its own
    ```

  @hmm-tests:migrate_anon_huge_empty @kernel:migrate_vma_collect_hole @kernel:migrate_vma_insert_huge_pmd_page
  Scenario Outline: hmm.<variant>.migrate_anon_huge_empty
    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of read-only private anonymous memory, buffer B being its first 2 MiB-aligned 2 MiB
    And process T advises MADV_HUGEPAGE on buffer B
    And mirror[i] = 0xFF bytes over buffer B
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages 512
    And mirror[i] == 0 over buffer B
    And in process T, buffer B is <migrated>

    @device-private
    Examples: private
      | variant             | migrated                             |
      | hmm_device_private  | PMD-mapped device-private, read-only |

    @device-coherent
    Examples: coherent
      | variant             | migrated         |
      | hmm_device_coherent | mapped read-only |

  @hmm-tests:migrate_anon_huge_zero @kernel:do_huge_pmd_anonymous_page @kernel:migrate_vma_collect_huge_pmd
  Scenario Outline: hmm.<variant>.migrate_anon_huge_zero
    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of read-only private anonymous memory, buffer B being its first 2 MiB-aligned 2 MiB
    And process T advises MADV_HUGEPAGE on buffer B
    And mirror[i] = 0xFF bytes over buffer B
    When process T reads ptr[0] of buffer B
    Then the load returns 0
    And in process T, buffer B is the huge zero page
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages 512
    And mirror[i] == 0 over buffer B
    And in process T, buffer B is <migrated>
    And process T reads ptr[i] == 0 over buffer B

    @device-private
    Examples: private
      | variant             | migrated                             |
      | hmm_device_private  | PMD-mapped device-private, read-only |

    @device-coherent
    Examples: coherent
      | variant             | migrated         |
      | hmm_device_coherent | mapped read-only |

  @hmm-tests:migrate_anon_huge_free @kernel:madvise_free_pte_range @kernel:madvise_free_huge_pmd
  Scenario Outline: hmm.<variant>.migrate_anon_huge_free
    MADV_FREE leaves device memory alone: a device-private PMD is no PTE
    table (___pte_offset_map gives up on !pmd_present), and device-coherent
    pages are zone-device folios, which madvise_free_pte_range skips.

    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of private anonymous memory, buffer B being its first 2 MiB-aligned 2 MiB
    And process T advises MADV_HUGEPAGE on buffer B
    And mirror[i] = 0xFF bytes over buffer B
    And process T sets ptr[i] = i over buffer B
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages 512
    And mirror[i] == i over buffer B
    When process T advises MADV_FREE on buffer B
    Then in process T, buffer B is <migrated>

    @device-private
    Examples: private
      | variant             | migrated                            |
      | hmm_device_private  | PMD-mapped device-private, writable |

    @device-coherent
    Examples: coherent
      | variant             | migrated        |
      | hmm_device_coherent | mapped writable |

  @hmm-tests:migrate_anon_huge_fault @kernel:madvise_collapse @kernel:pagemap_pmd_range_thp @kernel:do_huge_pmd_device_private
  Scenario Outline: hmm.<variant>.migrate_anon_huge_fault
    Without MADV_HUGEPAGE the writes fault in small pages; MADV_COLLAPSE
    copies them into one THP. The C test checks SNAPSHOT and pagemap on the
    private variant only (one device-private PMD: 0x26 =
    DEV_PRIVATE_LOCAL | WRITE | PMD, and swapped, not present); the coherent
    row states what the kernel reports there (512 present PTEs of
    device-coherent pages: 0x42 = DEV_COHERENT_LOCAL | WRITE).

    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of private anonymous memory, buffer B being its first 2 MiB-aligned 2 MiB
    And mirror[i] = 0xFF bytes over buffer B
    And process T sets ptr[i] = i over buffer B
    When process T advises MADV_COLLAPSE on buffer B
    Then in process T, buffer B is PMD-mapped writable
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages 512
    And mirror[i] == i over buffer B
    When process T runs HMM_DMIRROR_SNAPSHOT on buffer B
    Then it returns 0, with cpages 512
    And every snapshot byte is <snapshot>
    When process T reads /proc/self/pagemap over buffer B
    Then every pagemap entry has <set> set and <clear> clear
    And process T reads ptr[i] == i over buffer B

    @device-private
    Examples: private
      | variant             | snapshot | set     | clear      |
      | hmm_device_private  | 0x26     | PM_SWAP | PM_PRESENT |

    @device-coherent
    Examples: coherent
      | variant             | snapshot | set        | clear   |
      | hmm_device_coherent | 0x42     | PM_PRESENT | PM_SWAP |

  @hmm-tests:migrate_partial_unmap_fault @kernel:__split_huge_pmd @kernel:migrate_vma_split_folio
  Scenario Outline: hmm.<variant>.migrate_partial_unmap_fault
    The C test's six iterations are the rows: MADV_NOHUGEPAGE or
    MADV_HUGEPAGE, then a hole of P/2 (256 pages) at offset 0, P/4 or P/2.
    Each row runs on a fresh fixture; the C test runs all six on one fd.

    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of private anonymous memory, buffer B being its first 2 MiB-aligned 2 MiB
    And process T advises <thp> on buffer B
    And mirror[i] = 0xFF bytes over buffer B
    And process T sets ptr[i] = i over buffer B
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages 512
    And mirror[i] == i over buffer B
    When process T unmaps pages <hole> of buffer B
    Then process T reads ptr[i] == i over buffer B, except pages <hole>

    @device-private
    Examples: private
      | variant            | thp             | hole    |
      | hmm_device_private | MADV_NOHUGEPAGE | 0-255   |
      | hmm_device_private | MADV_NOHUGEPAGE | 128-383 |
      | hmm_device_private | MADV_NOHUGEPAGE | 256-511 |
      | hmm_device_private | MADV_HUGEPAGE   | 0-255   |
      | hmm_device_private | MADV_HUGEPAGE   | 128-383 |
      | hmm_device_private | MADV_HUGEPAGE   | 256-511 |

    @device-coherent
    Examples: coherent
      | variant             | thp             | hole    |
      | hmm_device_coherent | MADV_NOHUGEPAGE | 0-255   |
      | hmm_device_coherent | MADV_NOHUGEPAGE | 128-383 |
      | hmm_device_coherent | MADV_NOHUGEPAGE | 256-511 |
      | hmm_device_coherent | MADV_HUGEPAGE   | 0-255   |
      | hmm_device_coherent | MADV_HUGEPAGE   | 128-383 |
      | hmm_device_coherent | MADV_HUGEPAGE   | 256-511 |

  @hmm-tests:migrate_remap_fault @kernel:move_page_tables @kernel:move_huge_pmd @kernel:do_swap_page
  Scenario Outline: hmm.<variant>.migrate_remap_fault
    The C test's 24 iterations are the rows. Its `before` is the order:
    before = 1 migrates after the mremap, before = 0 migrates before it, so
    that the mremap moves device-private entries. The target is P + offset
    past the window (offset 0, P/4 or P/2); a misaligned target splits a
    device-private PMD. Each row runs on a fresh fixture; the C test runs all
    24 on one fd.

    Given the hmm fixture with variant <variant>
    And process T maps 16 MiB of private anonymous memory, buffer B being its first 2 MiB-aligned 2 MiB
    And process T advises <thp> on buffer B
    And process T unmaps the 4 MiB after buffer B
    And mirror[i] = 0xFF bytes over buffer B
    And process T sets ptr[i] = i over buffer B
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B <order> an mremap(<flags>) of it to <offset> KiB past its end
    Then it returns 0, with cpages 512
    And mirror[i] == i over buffer B
    And process T reads ptr[i] == i over buffer B

    @device-private
    Examples: private
      | variant            | order  | flags                                            | thp             | offset |
      | hmm_device_private | before | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_NOHUGEPAGE | 0      |
      | hmm_device_private | before | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_NOHUGEPAGE | 512    |
      | hmm_device_private | before | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_NOHUGEPAGE | 1024   |
      | hmm_device_private | before | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_HUGEPAGE   | 0      |
      | hmm_device_private | before | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_HUGEPAGE   | 512    |
      | hmm_device_private | before | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_HUGEPAGE   | 1024   |
      | hmm_device_private | before | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_NOHUGEPAGE | 0      |
      | hmm_device_private | before | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_NOHUGEPAGE | 512    |
      | hmm_device_private | before | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_NOHUGEPAGE | 1024   |
      | hmm_device_private | before | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_HUGEPAGE   | 0      |
      | hmm_device_private | before | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_HUGEPAGE   | 512    |
      | hmm_device_private | before | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_HUGEPAGE   | 1024   |
      | hmm_device_private | after  | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_NOHUGEPAGE | 0      |
      | hmm_device_private | after  | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_NOHUGEPAGE | 512    |
      | hmm_device_private | after  | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_NOHUGEPAGE | 1024   |
      | hmm_device_private | after  | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_HUGEPAGE   | 0      |
      | hmm_device_private | after  | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_HUGEPAGE   | 512    |
      | hmm_device_private | after  | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_HUGEPAGE   | 1024   |
      | hmm_device_private | after  | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_NOHUGEPAGE | 0      |
      | hmm_device_private | after  | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_NOHUGEPAGE | 512    |
      | hmm_device_private | after  | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_NOHUGEPAGE | 1024   |
      | hmm_device_private | after  | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_HUGEPAGE   | 0      |
      | hmm_device_private | after  | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_HUGEPAGE   | 512    |
      | hmm_device_private | after  | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_HUGEPAGE   | 1024   |

    @device-coherent
    Examples: coherent
      | variant             | order  | flags                                            | thp             | offset |
      | hmm_device_coherent | before | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_NOHUGEPAGE | 0      |
      | hmm_device_coherent | before | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_NOHUGEPAGE | 512    |
      | hmm_device_coherent | before | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_NOHUGEPAGE | 1024   |
      | hmm_device_coherent | before | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_HUGEPAGE   | 0      |
      | hmm_device_coherent | before | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_HUGEPAGE   | 512    |
      | hmm_device_coherent | before | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_HUGEPAGE   | 1024   |
      | hmm_device_coherent | before | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_NOHUGEPAGE | 0      |
      | hmm_device_coherent | before | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_NOHUGEPAGE | 512    |
      | hmm_device_coherent | before | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_NOHUGEPAGE | 1024   |
      | hmm_device_coherent | before | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_HUGEPAGE   | 0      |
      | hmm_device_coherent | before | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_HUGEPAGE   | 512    |
      | hmm_device_coherent | before | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_HUGEPAGE   | 1024   |
      | hmm_device_coherent | after  | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_NOHUGEPAGE | 0      |
      | hmm_device_coherent | after  | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_NOHUGEPAGE | 512    |
      | hmm_device_coherent | after  | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_NOHUGEPAGE | 1024   |
      | hmm_device_coherent | after  | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_HUGEPAGE   | 0      |
      | hmm_device_coherent | after  | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_HUGEPAGE   | 512    |
      | hmm_device_coherent | after  | MREMAP_MAYMOVE \| MREMAP_FIXED                   | MADV_HUGEPAGE   | 1024   |
      | hmm_device_coherent | after  | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_NOHUGEPAGE | 0      |
      | hmm_device_coherent | after  | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_NOHUGEPAGE | 512    |
      | hmm_device_coherent | after  | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_NOHUGEPAGE | 1024   |
      | hmm_device_coherent | after  | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_HUGEPAGE   | 0      |
      | hmm_device_coherent | after  | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_HUGEPAGE   | 512    |
      | hmm_device_coherent | after  | MREMAP_MAYMOVE \| MREMAP_FIXED \| MREMAP_DONTUNMAP | MADV_HUGEPAGE   | 1024   |

  @hmm-tests:migrate_anon_huge_err @kernel:dmirror_migrate_alloc_and_copy @kernel:dmirror_devmem_fault_alloc_and_copy @kernel:migrate_vma_split_unmapped_folio
  Scenario Outline: hmm.<variant>.migrate_anon_huge_err
    HMM_DMIRROR_FLAG_FAIL_ALLOC fails the driver's next allocation once.
    Towards the device, the THP then goes to 512 small device pages, and the
    source folio is split while unmapped; back to system memory, the device
    THP goes to small system pages. The C test's mirror is 2P; only its
    first P is used.
    Kernel fails: on the coherent variant the C test expects HMM_DMIRROR_MIGRATE_TO_SYS to return 0, but lib/test_hmm.c returns -ENOMEM there: the coherent device has no free PMD-order folios (its one chunk is cut into single pages at load, and dmirror_allocate_chunk cannot memremap a second chunk over the same special-purpose memory), so the THP went to the device as 512 order-0 pages, and dmirror_devmem_fault_alloc_and_copy answers FAIL_ALLOC on an order-0 page with VM_FAULT_OOM. The scenario states what the kernel does.

    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of private anonymous memory, buffer B being its first 2 MiB-aligned 2 MiB
    And process T advises MADV_HUGEPAGE on buffer B
    And mirror[i] = 0xFF bytes over buffer B
    And process T sets ptr[i] = i over buffer B
    When process T runs HMM_DMIRROR_FLAGS with HMM_DMIRROR_FLAG_FAIL_ALLOC on buffer B
    Then it returns 0
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages 512
    And mirror[i] == i over buffer B
    And in process T, buffer B is <small pages>
    And the THP behind buffer B in process T is in small folios
    When process T reads ptr[2048] of buffer B
    Then the load returns 2048
    When process T unmaps buffer B_map
    And process T maps 4 MiB of private anonymous memory, buffer B being its first 2 MiB-aligned 2 MiB
    And process T advises MADV_HUGEPAGE on buffer B
    And process T sets ptr[i] = i over buffer B
    And process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages 512
    And in process T, buffer B is <THP>
    When process T runs HMM_DMIRROR_FLAGS with HMM_DMIRROR_FLAG_FAIL_ALLOC on buffer B
    Then it returns 0
    When process T runs HMM_DMIRROR_MIGRATE_TO_SYS on buffer B
    Then it returns <to system>
    And buffer B in process T is in <memory after>
    And the THP behind buffer B in process T is in small folios
    When process T reads ptr[2048] of buffer B
    Then the load returns 2048

    @device-private
    Examples: private
      | variant            | small pages              | THP                                 | to system | memory after |
      | hmm_device_private | device-private, writable | PMD-mapped device-private, writable | 0         | system RAM   |

    @device-coherent @kernel-fails
    Examples: coherent
      | variant             | small pages     | THP             | to system | memory after           |
      | hmm_device_coherent | mapped writable | mapped writable | -ENOMEM   | device-coherent memory |

  @hmm-tests:migrate_anon_huge_zero_err @kernel:dmirror_migrate_alloc_and_copy @kernel:migrate_vma_collect_huge_pmd
  Scenario Outline: hmm.<variant>.migrate_anon_huge_zero_err
    After the remap, the C test reads ptr[0] through the pointer it kept from
    the first mapping (`ptr`, here buffer P). That is right only because the
    new mapping lands where the old one was, which the scenario checks.

    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of read-only private anonymous memory, buffer B being its first 2 MiB-aligned 2 MiB
    And process T advises MADV_HUGEPAGE on buffer B
    And mirror[i] = 0xFF bytes over buffer B
    When process T runs HMM_DMIRROR_FLAGS with HMM_DMIRROR_FLAG_FAIL_ALLOC on buffer B
    Then it returns 0
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages 512
    And mirror[i] == 0 over buffer B
    And in process T, buffer B is <small pages>
    Given process T keeps a pointer to buffer B, as buffer P
    When process T reads ptr[2048] of buffer P
    Then the load returns 0
    When process T unmaps buffer B_map
    And process T maps 4 MiB of read-only private anonymous memory, buffer B being its first 2 MiB-aligned 2 MiB
    And process T advises MADV_HUGEPAGE on buffer B
    Then buffer P still points at buffer B
    When process T reads ptr[0] of buffer P
    Then the load returns 0
    And in process T, buffer B is the huge zero page
    When process T runs HMM_DMIRROR_FLAGS with HMM_DMIRROR_FLAG_FAIL_ALLOC on buffer B
    Then it returns 0
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages 512
    And in process T, buffer B is <small pages>
    And process T reads ptr[i] == 0 over buffer B

    @device-private
    Examples: private
      | variant            | small pages               |
      | hmm_device_private | device-private, read-only |

    @device-coherent
    Examples: coherent
      | variant             | small pages      |
      | hmm_device_coherent | mapped read-only |
