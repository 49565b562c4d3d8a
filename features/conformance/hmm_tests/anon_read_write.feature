@hmm-tests
Feature: hmm-tests.c, the device reading and writing anonymous memory
  tools/testing/selftests/mm/hmm-tests.c drives lib/test_hmm.c, a fake
  device that mirrors a process's page tables through hmm_range_fault().
  Every test runs twice: on device-private memory (/dev/hmm_dmirror0 and 1)
  and on device-coherent memory (/dev/hmm_dmirror2 and 3). Process T is the
  test; buffer B is its hmm_buffer, ptr[i] the ints the CPU sees there and
  mirror[i] the ioctl's bounce buffer. HMM_BUFFER_SIZE is 4 MiB, 1024 pages.
  A READ or WRITE reports cpages (pages it mirrored) and faults (rounds of
  hmm_range_fault that had to fault pages in, not pages).

  @hmm-tests:open_close @kernel:dmirror_fops_open @kernel:dmirror_fops_release
  Scenario Outline: hmm.<variant>.open_close
    Given the hmm fixture with variant <variant>
    Then process T's mm has 1 MMU interval notifier
    When process T closes fd
    Then process T's mm has 0 MMU interval notifiers

    @device-private
    Examples: private
      | variant             |
      | hmm_device_private  |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |

  @hmm-tests:anon_read @kernel:hmm_range_fault @kernel:hmm_vma_handle_pte
  Scenario Outline: hmm.<variant>.anon_read
    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of private anonymous memory as buffer B
    And process T sets ptr[i] = i over pages 2-1023 of buffer B
    And process T makes buffer B read-only
    When process T reads ptr[1024] of buffer B
    Then the load returns 0
    And in process T, page 1 of buffer B is the zero page
    When process T runs HMM_DMIRROR_READ on buffer B
    Then it returns 0, with cpages 1024 and faults 1
    And mirror[i] == 0 over pages 0-1 of buffer B
    And mirror[i] == i over pages 2-1023 of buffer B

    @device-private
    Examples: private
      | variant             |
      | hmm_device_private  |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |

  @hmm-tests:anon_read_prot @kernel:hmm_vma_walk_test
  Scenario Outline: hmm.<variant>.anon_read_prot
    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of private anonymous memory as buffer B
    And process T sets ptr[i] = i over buffer B
    And mirror[i] = -i over buffer B
    And process T makes buffer B inaccessible
    When process T runs HMM_DMIRROR_READ on buffer B
    Then it returns -EFAULT
    When process T makes buffer B read-only
    Then process T reads ptr[i] == i over buffer B
    And mirror[i] == -i over buffer B

    @device-private
    Examples: private
      | variant             |
      | hmm_device_private  |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |

  @hmm-tests:anon_write @kernel:hmm_range_fault @kernel:do_anonymous_page
  Scenario Outline: hmm.<variant>.anon_write
    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of private anonymous memory as buffer B
    And mirror[i] = i over buffer B
    When process T runs HMM_DMIRROR_WRITE on buffer B
    Then it returns 0, with cpages 1024 and faults 1
    And process T reads ptr[i] == i over buffer B

    @device-private
    Examples: private
      | variant             |
      | hmm_device_private  |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |

  @hmm-tests:anon_write_prot @kernel:hmm_vma_handle_pte @kernel:do_wp_page
  Scenario Outline: hmm.<variant>.anon_write_prot
    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of read-only private anonymous memory as buffer B
    When process T runs HMM_DMIRROR_READ on page 0 of buffer B
    Then it returns 0, with cpages 1 and faults 1
    Given mirror[i] = i over buffer B
    When process T runs HMM_DMIRROR_WRITE on buffer B
    Then it returns -EPERM
    And process T reads ptr[i] == 0 over buffer B
    When process T makes buffer B read-write
    And process T runs HMM_DMIRROR_WRITE on buffer B
    Then it returns 0, with cpages 1024 and faults 1
    And process T reads ptr[i] == i over buffer B

    @device-private
    Examples: private
      | variant             |
      | hmm_device_private  |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |
