@hmm-tests
Feature: hmm-tests.c, buffers unmapped after or while the device reads them
  The device's page table holds no page references: it relies on the mmu
  interval notifier to forget pages when the CPU's mappings change. munmap()
  takes mmap_lock for writing, and hmm_range_fault() runs under it for
  reading, so a munmap can only come between the driver's steps, and the
  driver's mmu_interval_read_begin/_retry pair notices it and retries.
  Process T, buffer B, ptr[i] and mirror[i] are as in anon_read_write.feature.

  @hmm-tests:anon_read_multiple @kernel:dmirror_interval_invalidate @kernel:hmm_range_fault
  Scenario Outline: hmm.<variant>.anon_read_multiple
    NTIMES = 10 rounds in the one process and open device file, each on a new
    buffer that hmm_buffer_free() unmaps at its end, so each round's buffer
    may take the last one's addresses: a device that still mirrored the old
    pages would read them without a fault and find i + c - 1.
    Given the hmm fixture with variant <variant>
    When process T runs 10 rounds, c = 0 to 9, of: map 4 MiB of private anonymous memory as buffer B, set ptr[i] = i + c, run HMM_DMIRROR_READ on it, unmap it
    Then in every round HMM_DMIRROR_READ returned 0, with cpages 1024 and faults 1, and mirror[i] == i + c

    @device-private
    Examples: private
      | variant            |
      | hmm_device_private |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |

  @hmm-tests:anon_teardown @kernel:dmirror_range_fault @kernel:mmu_interval_read_retry @kernel:do_vmi_munmap
  Scenario Outline: hmm.<variant>.anon_teardown
    The C test starts a thread that sleeps a random time below 32 µs and then
    unmaps the second half of the buffer while HMM_DMIRROR_READ reads it,
    NTIMES = 10 times. Here the munmap lands, one round each, at every point
    where the kernel lets it in: where the reading thread holds neither
    mmap_lock nor the mirror's mutex (the named points of dmirror_read,
    dmirror_fault and dmirror_range_fault), and after the ioctl. The C test
    accepts any error; a READ that returns 0 must have mirrored every page
    and read i + c. A munmap before the last dmirror_do_read fails the READ
    with -EFAULT: hmm_range_fault finds no VMA for the second half, at once,
    or after the invalidation made the driver drop what it mirrored there
    (round 7) or walk again (mmu_interval_read_retry, rounds 2, 3, 5 and 6;
    in round 6 the walk of pages 32-63 had succeeded, and without the retry
    the device would map their freed pages and return 0). Buffers are 64
    pages here, not 1024: two 32-page rounds of hmm_range_fault, one in each
    half, so every kind of point occurs once (1024 pages would make 100
    rounds of the same kinds).
    Given the hmm fixture with variant <variant>
    When process T runs a round, c = 0, 1, …, for each point where another thread can come in during HMM_DMIRROR_READ: map 64 pages of private anonymous memory as buffer B, set ptr[i] = i + c, run HMM_DMIRROR_READ on it while the other thread unmaps pages 32-63 of it at that point, unmap it
    Then every round whose HMM_DMIRROR_READ returned 0 had cpages 64, faults 1 and mirror[i] == i + c
    And the rounds ended so:
      | c | the munmap ran                                                  | HMM_DMIRROR_READ returned |
      | 0 | dmirror_read: before dmirror_do_read, pages 0-63                | -EFAULT                   |
      | 1 | dmirror_read: after dmirror_do_read, pages 0-63                 | -EFAULT                   |
      | 2 | dmirror_range_fault: after mmu_interval_read_begin, pages 0-31  | -EFAULT                   |
      | 3 | dmirror_range_fault: after mmap_read_unlock, pages 0-31         | -EFAULT                   |
      | 4 | dmirror_fault: before the next dmirror_range_fault, pages 32-63 | -EFAULT                   |
      | 5 | dmirror_range_fault: after mmu_interval_read_begin, pages 32-63 | -EFAULT                   |
      | 6 | dmirror_range_fault: after mmap_read_unlock, pages 32-63        | -EFAULT                   |
      | 7 | dmirror_read: before dmirror_do_read, pages 0-63                | -EFAULT                   |
      | 8 | dmirror_read: after dmirror_do_read                             | 0                         |
      | 9 | after HMM_DMIRROR_READ returned                                 | 0                         |

    @device-private
    Examples: private
      | variant            |
      | hmm_device_private |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |
