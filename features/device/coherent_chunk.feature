@device-coherent
Feature: test_hmm's device-coherent memory is one fixed chunk
  lib/test_hmm.c gives each device-coherent dmirror device the special-purpose
  memory range its module parameter names (test_hmm.spm_addr_dev0 and
  spm_addr_dev1, over a memmap=! range), DEVMEM_CHUNK_SIZE long: 256 MiB,
  65536 pages. A device-private device memremaps another chunk from free
  physical address space whenever its free list runs dry; a coherent device
  cannot.

  @kernel:dmirror_allocate_chunk @kernel:memremap_pages @kernel:dmirror_do_read
  Rule: a coherent dmirror device has one 256 MiB chunk, and a migration that needs one page more than is free fails with -ENOENT

    This is why hmm.hmm_device_coherent.benchmark_thp_migration fails on a
    real 7.2 kernel in some runs and passes in others (npm run kernel). Its
    last size is 128 THPs, 256 MiB: 65536 pages, exactly the device's one
    chunk (DEVMEM_CHUNK_SIZE over the memmap=! range given as
    test_hmm.spm_addr_dev0). When a single page of that chunk is not back on
    the free list, dmirror_devmem_alloc_page asks dmirror_allocate_chunk for
    a second chunk, which calls memremap_pages over the same special-purpose
    range: the kernel warns "Conflicting mapping in same section" and the
    allocation fails. The page stays in system memory, so dmirror_do_read
    finds no device page for it and the ioctl returns -ENOENT (-2), the
    value the C test's ASSERT_EQ prints; the ioctl copies no cpages back on
    an error. A private device would memremap a
    new chunk from free physical address space instead.

    Scenario: 256 MiB fits the coherent device's one chunk exactly
      Given the machine has 73728 pages of RAM
      And the hmm fixture with variant hmm_device_coherent, its chunks 256 MiB each
      And process T maps 256 MiB of private anonymous memory as buffer B
      And process T sets ptr[i] = i over buffer B
      When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
      Then it returns 0, with cpages 65536

    Scenario: with one page of the chunk still in use, the same 256 MiB migration fails with -ENOENT
      Given the machine has 73728 pages of RAM
      And the hmm fixture with variant hmm_device_coherent, its chunks 256 MiB each
      And process T maps 4 KiB of private anonymous memory as buffer A
      And process T sets ptr[i] = i over buffer A
      When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer A
      Then it returns 0, with cpages 1
      Given process T maps 256 MiB of private anonymous memory as buffer B
      And process T sets ptr[i] = i over buffer B
      When process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B
      Then it returns -ENOENT
      And pages 0-65534 of buffer B in process T are in device-coherent memory
      And page 65535 of buffer B in process T is in system RAM
