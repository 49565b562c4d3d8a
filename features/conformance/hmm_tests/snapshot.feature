@hmm-tests
Feature: hmm-tests.c, snapshots of the CPU page tables
  HMM_DMIRROR_SNAPSHOT runs hmm_range_fault without asking for any fault
  and turns each page's result into one byte (dmirror_mkentry):
    0xFF  no VMA, or no read access (HMM_PFN_ERROR)
    0x00  nothing the device may see (not valid)
    0x01  read-only, 0x02 writable, each ORed with
    0x04  mapped by a PMD, 0x10 the zero page,
    0x20  device-private memory of this device,
    0x40  device-coherent memory of this device, 0x50 of another device.
  A snapshot never faults, so it changes nothing. Process T is the test;
  fd0 and fd1 (FIXTURE(hmm2)) are its two devices, fd (FIXTURE(hmm)) its one.

  @hmm-tests:mixedmap @kernel:vm_insert_page @kernel:hmm_vma_handle_pte
  Scenario Outline: hmm.<variant>.mixedmap
    The device file's mmap inserts a zeroed kernel page with vm_insert_page
    (VM_MIXEDMAP). In a private mapping that PTE is read-only: a normal,
    valid page, neither zero page nor device memory.

    Given the hmm fixture with variant <variant>
    And process T maps 1 page of the device file behind fd, private, as buffer B
    When process T runs HMM_DMIRROR_SNAPSHOT on buffer B
    Then it returns 0, with cpages 1
    And the snapshot bytes are 0x01

    @device-private
    Examples: private
      | variant             |
      | hmm_device_private  |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |

  @hmm-tests:snapshot @kernel:dmirror_mkentry @kernel:hmm_vma_walk_test @kernel:hmm_vma_handle_pte
  Scenario Outline: hmm2.<variant>.snapshot
    Seven pages, each in another state:
    ```
    page:  0123456
           N RRWDd   N: PROT_NONE, a hole, R: read-only, W: writable,
            ^        D: migrated to fd0's device, d: to fd1's device
            hole     (page 2 the zero page, page 3 a written page)
    ```
    hmm_range_fault reports a device-private page only to its owner: to
    fd0, fd1's private page is not valid (0x00, never 0x30). A coherent page
    is a present PTE, seen by every device (0x52).

    Given the hmm2 fixture with variant <variant>
    And process T maps 7 pages of private anonymous memory with PROT_NONE as buffer B
    When process T unmaps page 1 of buffer B
    And process T makes page 2 of buffer B read-only
    And process T reads ptr[2048] of buffer B
    Then the load returns 0
    When process T makes page 3 of buffer B read-write
    And process T writes 0x3 to page 3 of buffer B
    And process T makes page 3 of buffer B read-only
    And process T makes pages 4-6 of buffer B read-write
    And process T writes 0x3 to page 4 of buffer B
    And process T runs HMM_DMIRROR_MIGRATE_TO_DEV on page 5 of buffer B through fd0
    Then it returns 0, with cpages 1
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on page 6 of buffer B through fd1
    Then it returns 0, with cpages 1
    When process T runs HMM_DMIRROR_SNAPSHOT on buffer B through fd0
    Then it returns 0, with cpages 7
    And the snapshot bytes are <snapshot>

    @device-private
    Examples: private
      | variant              | snapshot                                 |
      | hmm2_device_private  | 0xFF, 0xFF, 0x11, 0x01, 0x02, 0x22, 0x00 |

    @device-coherent
    Examples: coherent
      | variant              | snapshot                                 |
      | hmm2_device_coherent | 0xFF, 0xFF, 0x11, 0x01, 0x02, 0x42, 0x52 |

  @hmm-tests:compound @kernel:hmm_vma_walk_hugetlb_entry @kernel:hugetlb_change_protection
  Scenario Outline: hmm.<variant>.compound
    One 2 MiB hugetlb page, mapped by one PMD: every one of its 512 pages
    reports the PMD level. mprotect(PROT_READ) write-protects the huge
    entry (hugetlb_change_protection), and the access bit follows.

    Given the machine boots with 1 hugetlb page
    And the hmm fixture with variant <variant>
    And the hugetlb pool has 1 free page, 0 reserved
    And process T maps 2 MiB of private anonymous hugetlb memory as buffer B
    And process T sets ptr[i] = i over buffer B
    When process T runs HMM_DMIRROR_SNAPSHOT on buffer B
    Then it returns 0, with cpages 512
    And every snapshot byte is 0x06
    When process T makes buffer B read-only
    And process T runs HMM_DMIRROR_SNAPSHOT on buffer B
    Then it returns 0, with cpages 512
    And every snapshot byte is 0x05
    And process T reads ptr[i] == i over buffer B

    @device-private
    Examples: private
      | variant             |
      | hmm_device_private  |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |
