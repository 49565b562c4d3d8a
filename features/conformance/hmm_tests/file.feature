@hmm-tests
Feature: hmm-tests.c, the device and file-backed memory
  The tests make a file with hmm_create_file(): open(O_TMPFILE) in /tmp and
  ftruncate() to the buffer's size, so every page starts as a hole of zeroes.
  pwrite() and pread() go through the page cache, as the MAP_SHARED mappings
  of the file do; a MAP_PRIVATE mapping gets anonymous copies of the pages it
  writes. Process T, buffer B, ptr[i] and mirror[i] are as in
  anon_read_write.feature.

  @hmm-tests:file_read @kernel:generic_perform_write @kernel:filemap_fault @kernel:hmm_range_fault
  Scenario Outline: hmm.<variant>.file_read
    Given the hmm fixture with variant <variant>
    And a temporary file "f" of 4 MiB
    And process T writes 4 MiB of ints i to file "f" with pwrite
    And process T maps file "f" read-only shared as buffer B
    And mirror[i] = 0 over buffer B
    When process T runs HMM_DMIRROR_READ on buffer B
    Then it returns 0, with cpages 1024 and faults 1
    And mirror[i] == i over buffer B

    @device-private
    Examples: private
      | variant            |
      | hmm_device_private |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |

  @hmm-tests:file_write @kernel:do_shared_fault @kernel:hmm_range_fault @kernel:filemap_read
  Scenario Outline: hmm.<variant>.file_write
    The device writes the page-cache pages through the shared mapping, so
    pread() sees them. (The C test preads into the mirror, which still holds
    the i it wrote from; what the pread brings is what this checks.)
    Given the hmm fixture with variant <variant>
    And a temporary file "f" of 4 MiB
    And process T maps file "f" shared as buffer B
    And mirror[i] = i over buffer B
    When process T runs HMM_DMIRROR_WRITE on buffer B
    Then it returns 0, with cpages 1024 and faults 1
    And process T reads ptr[i] == i over buffer B
    When process T reads 4 MiB of file "f" into the mirror of buffer B with pread
    Then mirror[i] == i over buffer B

    @device-private
    Examples: private
      | variant            |
      | hmm_device_private |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |

  @hmm-tests:migrate_file_private @kernel:do_cow_fault @kernel:migrate_vma_setup @kernel:zap_nonpresent_ptes
  Scenario Outline: hmm.<variant>.migrate_file_private
    Writing a MAP_PRIVATE file mapping gives every page an anonymous copy,
    which migrates like any anonymous page, although the VMA is not
    anonymous. hmm_buffer_free() then unmaps device-private entries in a file
    VMA: zap_nonpresent_ptes used to warn there (WARN_ON_ONCE(!vma_is_anonymous)),
    until commit be3f38d05cc5 tested the folio (folio_test_anon) instead, the
    fix this test came with.
    Given the hmm fixture with variant <variant>
    And a temporary file "f" of 4 MiB
    And process T maps file "f" private as buffer B
    And process T sets ptr[i] = i over buffer B
    When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
    Then it returns 0, with cpages 1024
    And mirror[i] == i over buffer B
    When process T unmaps buffer B
    Then the kernel has not warned

    @device-private
    Examples: private
      | variant            |
      | hmm_device_private |

    @device-coherent
    Examples: coherent
      | variant             |
      | hmm_device_coherent |
