@hmm-tests
Feature: hmm-tests.c, a device writing memory that a forked child shares
  After fork() the child needs a mirror of its own mm: the fixture's fd still
  mirrors the parent, so the child opens /dev/hmm_dmirror0 itself
  (`child_fd = hmm_open(0)`, a device-private device even in the coherent
  variant), has that device write its buffer B, closes the file and calls
  _exit(0). The parent waits for it (waitpid, WIFEXITED) and then reads its
  own buffer. Process T is the test, process C its child; ptr[i] and
  mirror[i] are as in anon_read_write.feature.

  @hmm-tests:anon_write_child @kernel:copy_present_pte @kernel:wp_page_copy @kernel:hmm_range_fault
  Scenario Outline: hmm.<variant>.anon_write_child
    The iterations with migrate = 0. The device's write faults break
    copy-on-write in the child, so the child sees -i and the parent keeps i.
    With use_thp the buffer is a THP-eligible 2 MiB window (MADV_HUGEPAGE)
    of a 4 MiB mapping; without, the first 4 MiB of an 8 MiB one.
    Given the hmm fixture with variant <variant>
    And process T maps <mapping>
    And process T sets ptr[i] = i over buffer B
    And mirror[i] = -i over buffer B
    When process T forks process C
    Then process C reads ptr[i] == i over buffer B
    And mirror[i] == -i over buffer B
    When process C opens /dev/hmm_dmirror0 as child_fd
    And process C runs HMM_DMIRROR_WRITE on buffer B through child_fd
    Then it returns 0, with cpages <npages> and faults 1
    And process C reads ptr[i] == -i over buffer B
    When process C closes child_fd
    And process C exits
    Then process T reads ptr[i] == i over buffer B

    @device-private
    Examples: private
      | variant            | migrate | use_thp | mapping                                                                                                | npages |
      | hmm_device_private | 0       | 0       | 8 MiB of private anonymous memory, buffer B being its first 4 MiB                                      | 1024   |
      | hmm_device_private | 0       | 1       | 4 MiB of private anonymous memory, buffer B being its first 2 MiB-aligned 2 MiB, advised MADV_HUGEPAGE | 512    |

    @device-coherent
    Examples: coherent
      | variant             | migrate | use_thp | mapping                                                                                                | npages |
      | hmm_device_coherent | 0       | 0       | 8 MiB of private anonymous memory, buffer B being its first 4 MiB                                      | 1024   |
      | hmm_device_coherent | 0       | 1       | 4 MiB of private anonymous memory, buffer B being its first 2 MiB-aligned 2 MiB, advised MADV_HUGEPAGE | 512    |

  @hmm-tests:anon_write_child @kernel:copy_nonpresent_pte @kernel:dmirror_devmem_fault @kernel:hmm_range_fault
  Scenario Outline: hmm.<variant>.anon_write_child
    The iterations with migrate = 1: the buffer moves to the fixture's device
    before the fork, so the child inherits device-private entries (private
    variant; a whole THP as one PMD entry with use_thp) or PTEs of
    device-coherent pages, read-only in both processes. The child's loads
    bring device-private pages back to system memory; the C test does not
    look at the child's buffer after its device wrote it.
    Given the hmm fixture with variant <variant>
    And process T maps <mapping>
    And process T sets ptr[i] = i over buffer B
    And mirror[i] = -i over buffer B
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages <npages>
    When process T forks process C
    Then process C reads ptr[i] == i over buffer B
    When process C opens /dev/hmm_dmirror0 as child_fd
    And process C runs HMM_DMIRROR_WRITE on buffer B through child_fd
    Then it returns 0, with cpages <npages> and faults 1
    When process C closes child_fd
    And process C exits
    Then process T reads ptr[i] == i over buffer B

    @device-private
    Examples: private
      | variant            | migrate | use_thp | mapping                                                                                                | npages |
      | hmm_device_private | 1       | 0       | 8 MiB of private anonymous memory, buffer B being its first 4 MiB                                      | 1024   |
      | hmm_device_private | 1       | 1       | 4 MiB of private anonymous memory, buffer B being its first 2 MiB-aligned 2 MiB, advised MADV_HUGEPAGE | 512    |

    @device-coherent
    Examples: coherent
      | variant             | migrate | use_thp | mapping                                                                                                | npages |
      | hmm_device_coherent | 1       | 0       | 8 MiB of private anonymous memory, buffer B being its first 4 MiB                                      | 1024   |
      | hmm_device_coherent | 1       | 1       | 4 MiB of private anonymous memory, buffer B being its first 2 MiB-aligned 2 MiB, advised MADV_HUGEPAGE | 512    |

  @hmm-tests:anon_write_child_shared @kernel:copy_page_range @kernel:shmem_fault @kernel:hmm_range_fault
  Scenario Outline: hmm.<variant>.anon_write_child_shared
    MAP_SHARED anonymous memory is one shmem object: the child's device
    writes the parent's pages too, so the parent reads -i after the child.
    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of shared anonymous memory as buffer B
    And process T sets ptr[i] = i over buffer B
    And mirror[i] = -i over buffer B
    When process T forks process C
    Then process C reads ptr[i] == i over buffer B
    And mirror[i] == -i over buffer B
    When process C opens /dev/hmm_dmirror0 as child_fd
    And process C runs HMM_DMIRROR_WRITE on buffer B through child_fd
    Then it returns 0, with cpages 1024 and faults 1
    And process C reads ptr[i] == -i over buffer B
    When process C closes child_fd
    And process C exits
    Then process T reads ptr[i] == -i over buffer B

    @device-private
    Examples: private
      | variant            |
      | hmm_device_private |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |
