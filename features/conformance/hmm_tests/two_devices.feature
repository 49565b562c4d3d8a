@hmm-tests
Feature: hmm-tests.c, two devices on the same memory
  FIXTURE(hmm2) opens two devices of the same kind: fd0 is /dev/hmm_dmirror0
  and fd1 /dev/hmm_dmirror1 (device-private), or /dev/hmm_dmirror2 and 3
  (device-coherent). Each device owns its memory: neither selects the
  other's pages for migration, and each mirror drops what it mirrors when
  the other device migrates the pages (MMU_NOTIFY_MIGRATE from another
  owner). Process T, buffer B, ptr[i] and mirror[i] are as in
  anon_read_write.feature.

  @hmm-tests:migrate_mixed @kernel:dmirror_migrate_to_device @kernel:migrate_vma_collect_pmd
  Scenario Outline: hmm2.<variant>.migrate_mixed
    Pages 0-5 of a PROT_NONE mapping become: page 0 inaccessible, page 1 a
    hole, page 2 the zero page (read-only), page 3 a read-only anonymous page,
    pages 4-5 writable ones; `val = *ptr + 3` loads 0 from page 2, and
    `*ptr = val` stores 3 in the first int of pages 3, 4 and 5. Every chunk
    of a migration must lie in a VMA with VM_READ, and device 0 does not
    select a page of device 1.
    Given the hmm2 fixture with variant <variant>
    And process T maps 6 pages of inaccessible private anonymous memory as buffer B
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B through fd1
    Then it returns -EINVAL
    When process T unmaps page 1 of buffer B
    And process T runs HMM_DMIRROR_MIGRATE_TO_DEV on pages 0-2 of buffer B through fd1
    Then it returns -EINVAL
    When process T makes page 2 of buffer B read-only
    And process T reads ptr[2048] of buffer B
    Then the load returns 0
    When process T makes page 3 of buffer B read-write
    And process T stores 3 to ptr[3072] of buffer B
    And process T makes page 3 of buffer B read-only
    And process T makes pages 4-5 of buffer B read-write
    And process T stores 3 to ptr[4096] of buffer B
    And process T stores 3 to ptr[5120] of buffer B
    And process T runs HMM_DMIRROR_MIGRATE_TO_DEV on pages 2-5 of buffer B through fd1
    Then it returns 0, with cpages 4
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on page 5 of buffer B through fd0
    Then it returns -ENOENT

    @device-private
    Examples: private
      | variant             |
      | hmm2_device_private |

    @device-coherent
    Examples: coherent
      | variant              |
      | hmm2_device_coherent |

  @hmm-tests:double_map @kernel:dmirror_interval_invalidate @kernel:hmm_vma_handle_pte
  Scenario Outline: hmm2.<variant>.double_map
    Both devices mirror the same read-only pages. Device 1's migration drops
    device 0's mirror, so device 0's next READ faults again (faults 1): it
    brings device-private pages of device 1 back to system memory, and reads
    device-coherent pages of device 3 where they are.
    Given the hmm2 fixture with variant <variant>
    And process T maps 6 pages of private anonymous memory as buffer B
    And process T sets ptr[i] = i over buffer B
    And process T makes buffer B read-only
    When process T runs HMM_DMIRROR_READ on buffer B through fd0
    Then it returns 0, with cpages 6 and faults 1
    And mirror[i] == i over buffer B
    When process T runs HMM_DMIRROR_READ on buffer B through fd1
    Then it returns 0, with cpages 6 and faults 1
    And mirror[i] == i over buffer B
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B through fd1
    Then it returns 0, with cpages 6
    When process T runs HMM_DMIRROR_READ on buffer B through fd0
    Then it returns 0, with cpages 6 and faults 1
    And mirror[i] == i over buffer B

    @device-private
    Examples: private
      | variant             |
      | hmm2_device_private |

    @device-coherent
    Examples: coherent
      | variant              |
      | hmm2_device_coherent |
