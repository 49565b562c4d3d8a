@hmm-tests
Feature: hmm-tests.c, GUP and copy-on-write of pages in device memory
  Four pages of process T (buffer B) are migrated to the fixture's device,
  then reached by the CPU side of the kernel: through the gup_test debugfs
  ioctls of mm/gup_test.c (each takes one page and gives it back before it
  returns), or by a write after fork. A device-private page is never
  reachable by the CPU, so any GUP or fault brings it back to system RAM; a
  device-coherent page stays where it is for a short-term GUP, and leaves
  device memory only for a long-term pin (FOLL_LONGTERM) or a copy-on-write.
  The SNAPSHOT bytes say where each page ended: 0x02 a writable page of
  system RAM, 0x42 a writable page of this device's coherent memory.

  @hmm-tests:hmm_gup_test @kernel:__gup_test_ioctl @kernel:check_and_migrate_movable_folios @kernel:do_swap_page
  Scenario Outline: hmm.<variant>.hmm_gup_test
    Given the hmm fixture with variant <variant>
    And process T maps 4 pages of private anonymous memory as buffer B
    And process T sets ptr[i] = i over buffer B
    And process T opens the gup_test debugfs file
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages 4
    And mirror[i] == i over buffer B
    When process T runs the gup_test ioctl GUP_BASIC_TEST on page 0 of buffer B with FOLL_WRITE
    Then the gup_test ioctl returns 0, having taken 1 page
    When process T runs the gup_test ioctl GUP_FAST_BENCHMARK on page 1 of buffer B with FOLL_WRITE
    Then the gup_test ioctl returns 0, having taken 1 page
    When process T runs the gup_test ioctl PIN_FAST_BENCHMARK on page 2 of buffer B with FOLL_WRITE | FOLL_LONGTERM
    Then the gup_test ioctl returns 0, having taken 1 page
    When process T runs the gup_test ioctl PIN_LONGTERM_BENCHMARK on page 3 of buffer B with FOLL_WRITE
    Then the gup_test ioctl returns 0, having taken 1 page
    And no page of buffer B in process T is pinned or held by GUP
    When process T runs HMM_DMIRROR_SNAPSHOT on buffer B
    Then it returns 0, with cpages 4
    And the snapshot bytes are <snapshot>
    And process T reads ptr[i] == i over buffer B

    @device-private
    Examples: private
      | variant             | snapshot               |
      | hmm_device_private  | 0x02, 0x02, 0x02, 0x02 |

    @device-coherent
    Examples: coherent
      | variant             | snapshot               |
      | hmm_device_coherent | 0x42, 0x42, 0x02, 0x02 |

  @hmm-tests:hmm_cow_in_device @kernel:copy_nonpresent_pte @kernel:do_swap_page @kernel:wp_page_copy
  Scenario Outline: hmm.<variant>.hmm_cow_in_device
    The child busy-loops until the parent kills it, so the parent writes
    while both processes map the pages. A device-private page is first
    migrated back to RAM (its read-only entries in both processes become
    PTEs of the new page), then copied; a device-coherent page is copied
    straight from device memory.

    Given the hmm fixture with variant <variant>
    And process T maps 4 pages of private anonymous memory as buffer B
    And process T sets ptr[i] = i over buffer B
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages 4
    When process T forks process C
    Then in process T, buffer B is <after fork>
    And in process C, buffer B is <after fork>
    When process T sets ptr[i] = i over buffer B
    And process T sends SIGKILL to process C
    Then kill returns 0
    And waitpid for process C returns its pid, and it was killed by SIGKILL
    When process T runs HMM_DMIRROR_SNAPSHOT on buffer B
    Then it returns 0, with cpages 4
    And every snapshot byte is 0x02

    @device-private
    Examples: private
      | variant             | after fork                |
      | hmm_device_private  | device-private, read-only |

    @device-coherent
    Examples: coherent
      | variant             | after fork       |
      | hmm_device_coherent | mapped read-only |
