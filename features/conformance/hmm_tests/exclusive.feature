@hmm-tests @device-exclusive
Feature: hmm-tests.c, device-exclusive (atomic) access to anonymous memory
  HMM_DMIRROR_EXCLUSIVE makes every page of a range device-exclusive
  (make_device_exclusive): the CPU PTE becomes a device-exclusive entry and
  the device maps the page ATOMIC, then the driver reads the range back into
  the mirror. A CPU access restores the PTE (remove_device_exclusive_entry),
  which tells the device to drop its atomic mapping; so does an mprotect or a
  fork. Process T is the test, process C its fork child; buffer B is 1024
  pages, HMM_BUFFER_SIZE. The device exists on both variants, but
  device-exclusive entries only ever map system RAM: the variant changes
  nothing here but the device's memory type.

  @hmm-tests:exclusive @kernel:make_device_exclusive @kernel:remove_device_exclusive_entry
  Scenario Outline: hmm.<variant>.exclusive
    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of private anonymous memory as buffer B
    And process T sets ptr[i] = i over buffer B
    When process T runs HMM_DMIRROR_EXCLUSIVE on buffer B
    Then it returns 0, with cpages 1024
    And mirror[i] == i over buffer B
    And in process T, buffer B is device-exclusive
    When process T post-increments every int of buffer B, reading i before
    Then process T reads ptr[i] == i + 1 over buffer B
    When process T runs HMM_DMIRROR_CHECK_EXCLUSIVE on buffer B
    Then it returns 0

    @device-private
    Examples: private
      | variant             |
      | hmm_device_private  |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |

  @hmm-tests:exclusive_mprotect @kernel:change_protection @kernel:hmm_vma_fault
  Scenario Outline: hmm.<variant>.exclusive_mprotect
    The mprotect invalidates the device's atomic mapping; the WRITE that
    follows must fault for write access, which a read-only VMA refuses.

    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of private anonymous memory as buffer B
    And process T sets ptr[i] = i over buffer B
    When process T runs HMM_DMIRROR_EXCLUSIVE on buffer B
    Then it returns 0, with cpages 1024
    And mirror[i] == i over buffer B
    When process T makes buffer B read-only
    And process T runs HMM_DMIRROR_WRITE on buffer B
    Then it returns -EPERM

    @device-private
    Examples: private
      | variant             |
      | hmm_device_private  |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |

  @hmm-tests:exclusive_cow @kernel:copy_nonpresent_pte @kernel:restore_exclusive_pte @kernel:do_wp_page
  Scenario Outline: hmm.<variant>.exclusive_cow
    Fork restores the parent's PTEs from the device-exclusive entries and
    shares the pages read-only; each process's increment then gets its own
    copy. The C test runs parent and child at once; here the parent
    increments while the child is alive, then the child, then the parent
    waits for it.

    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of private anonymous memory as buffer B
    And process T sets ptr[i] = i over buffer B
    When process T runs HMM_DMIRROR_EXCLUSIVE on buffer B
    Then it returns 0, with cpages 1024
    When process T forks process C
    Then in process C, buffer B is mapped read-only
    When process T post-increments every int of buffer B, reading i before
    Then process T reads ptr[i] == i + 1 over buffer B
    When process C post-increments every int of buffer B, reading i before
    Then process C reads ptr[i] == i + 1 over buffer B
    When process C exits
    Then waitpid for process C returns its pid, and it exited with status 0

    @device-private
    Examples: private
      | variant             |
      | hmm_device_private  |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |
