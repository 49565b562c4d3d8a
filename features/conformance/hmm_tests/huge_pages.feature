@hmm-tests
Feature: hmm-tests.c, the device writing huge pages
  A device write (HMM_DMIRROR_WRITE) faults its range in through
  hmm_range_fault, which must handle memory mapped by one PMD: a
  transparent huge page allocated by the fault itself, or a hugetlb page.
  The test binary reserves one default-size (2 MiB) hugetlb page before it
  runs (HUGETLB_SETUP_DEFAULT_PAGES(1)); here the machine boots with it.
  Process T is the test, buffer B its 2 MiB, 512-page buffer.

  @hmm-tests:anon_write_huge @kernel:hmm_vma_handle_pmd @kernel:do_huge_pmd_anonymous_page
  Scenario Outline: hmm.<variant>.anon_write_huge
    The C test maps 4 MiB and uses the 2 MiB window at the first 2 MiB
    boundary, with MADV_HUGEPAGE, so that the write fault can map a THP.

    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of private anonymous memory, buffer B being its first 2 MiB-aligned 2 MiB
    And process T advises MADV_HUGEPAGE on buffer B
    And mirror[i] = i over buffer B
    When process T runs HMM_DMIRROR_WRITE on buffer B
    Then it returns 0, with cpages 512 and faults 1
    And in process T, buffer B is PMD-mapped writable
    And process T reads ptr[i] == i over buffer B

    @device-private
    Examples: private
      | variant             |
      | hmm_device_private  |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |

  @hmm-tests:anon_write_hugetlbfs @kernel:hmm_vma_walk_hugetlb_entry @kernel:hugetlb_no_page @kernel:hugetlb_reserve_pages @kernel:__unmap_hugepage_range
  Scenario Outline: hmm.<variant>.anon_write_hugetlbfs
    The C test skips unless a default-size hugetlb page is free, then maps
    2 MiB with MAP_HUGETLB, which reserves the pool's page for the mapping.
    The device's write fault takes it (hugetlb_no_page) and maps it at PMD
    level; munmap gives it back to the pool.

    Given the machine boots with 1 hugetlb page
    And the hmm fixture with variant <variant>
    And the hugetlb pool has 1 free page, 0 reserved
    And process T maps 2 MiB of private anonymous hugetlb memory as buffer B
    Then the hugetlb pool has 1 free page, 1 reserved
    Given mirror[i] = i over buffer B
    When process T runs HMM_DMIRROR_WRITE on buffer B
    Then it returns 0, with cpages 512 and faults 1
    And in process T, buffer B is PMD-mapped writable
    And process T reads ptr[i] == i over buffer B
    And the hugetlb pool has 0 free pages, 0 reserved
    When process T unmaps buffer B
    Then the hugetlb pool has 1 free page, 0 reserved

    @device-private
    Examples: private
      | variant             |
      | hmm_device_private  |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |
