@hmm-tests
Feature: hmm-tests.c, migrating anonymous memory to the device and back
  HMM_DMIRROR_MIGRATE_TO_DEV moves the pages with migrate_vma_setup(),
  _pages() and _finalize() into the device's memory: device-private pages
  behind non-present entries (private variant), or device-coherent pages the
  CPU still maps (coherent variant). It succeeds only if the device then
  mirrors every page of the range, and copies what it mirrors into the
  mirror. Process T, buffer B, ptr[i] and mirror[i] are as in
  anon_read_write.feature.

  @hmm-tests:migrate @kernel:migrate_vma_setup @kernel:migrate_vma_pages
  Scenario Outline: hmm.<variant>.migrate
    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of private anonymous memory as buffer B
    And process T sets ptr[i] = i over buffer B
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages 1024
    And mirror[i] == i over buffer B

    @device-private
    Examples: private
      | variant            |
      | hmm_device_private |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |

  @hmm-tests:migrate_fault @kernel:do_swap_page @kernel:dmirror_devmem_fault
  Scenario Outline: hmm.<variant>.migrate_fault
    The CPU's loads fault the first half back to system memory (private
    variant; coherent pages are read in place), and the second migration
    moves those pages again while the rest already sits in the device.
    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of private anonymous memory as buffer B
    And process T sets ptr[i] = i over buffer B
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages 1024
    And mirror[i] == i over buffer B
    And process T reads ptr[i] == i over pages 0-511 of buffer B
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages 1024
    And mirror[i] == i over buffer B

    @device-private
    Examples: private
      | variant            |
      | hmm_device_private |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |

  @hmm-tests:migrate_release @kernel:dmirror_device_remove_chunks @kernel:migrate_device_range
  Scenario Outline: hmm.<variant>.migrate_release
    HMM_DMIRROR_RELEASE evicts every page of the device to system memory and
    frees its memory; the data stays, and the CPU reads it there.
    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of private anonymous memory as buffer B
    And process T sets ptr[i] = i over buffer B
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages 1024
    And mirror[i] == i over buffer B
    When process T runs HMM_DMIRROR_RELEASE on buffer B
    Then it returns 0
    And process T reads ptr[i] == i over pages 0-511 of buffer B

    @device-private
    Examples: private
      | variant            |
      | hmm_device_private |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |

  @hmm-tests:migrate_shared @kernel:migrate_vma_collect_pmd @kernel:migrate_vma_pages
  Scenario Outline: hmm.<variant>.migrate_shared
    Shared anonymous memory is shmem, not anonymous: no page is migrated, so
    the device mirrors none and the command fails.
    Given the hmm fixture with variant <variant>
    And process T maps 4 MiB of shared anonymous memory as buffer B
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns -ENOENT

    @device-private
    Examples: private
      | variant            |
      | hmm_device_private |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |

  @hmm-tests:migrate_multiple @kernel:dmirror_devmem_fault @kernel:dmirror_interval_invalidate
  Scenario Outline: hmm.<variant>.migrate_multiple
    NTIMES = 10 rounds in the one process and open device file, each on a new
    buffer that hmm_buffer_free() unmaps at its end. On device-private memory
    the CPU's loads bring the pages back; the C test migrates back explicitly
    only on a coherent device, whose pages the CPU reads in place.
    Given the hmm fixture with variant <variant>
    When process T runs 10 rounds of: map 4 MiB of private anonymous memory as buffer B, set ptr[i] = i, run HMM_DMIRROR_MIGRATE_TO_DEV on it, read ptr[i] back, unmap it
    Then in every round HMM_DMIRROR_MIGRATE_TO_DEV returned 0, with cpages 1024, and mirror[i] == i
    And in every round process T read ptr[i] == i

    @device-private
    Examples: private
      | variant            |
      | hmm_device_private |

  @hmm-tests:migrate_multiple @kernel:dmirror_migrate_to_system @kernel:dmirror_interval_invalidate
  Scenario Outline: hmm.<variant>.migrate_multiple
    The coherent variant of the rounds above: each migrates its buffer back
    with HMM_DMIRROR_MIGRATE_TO_SYS before the CPU reads it.
    Given the hmm fixture with variant <variant>
    When process T runs 10 rounds of: map 4 MiB of private anonymous memory as buffer B, set ptr[i] = i, run HMM_DMIRROR_MIGRATE_TO_DEV and then HMM_DMIRROR_MIGRATE_TO_SYS on it, read ptr[i] back, unmap it
    Then in every round HMM_DMIRROR_MIGRATE_TO_DEV returned 0, with cpages 1024, and mirror[i] == i
    And in every round HMM_DMIRROR_MIGRATE_TO_SYS returned 0, with cpages 1024
    And in every round process T read ptr[i] == i

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |
