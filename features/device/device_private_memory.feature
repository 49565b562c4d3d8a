@seed:001 @device-private
Feature: Device-private (unaddressable) memory: HMM migrates ordinary process memory to a device and back
  Glisse's HMM v16 (January 2017) lets a device such as a GPU use any
  ordinary virtual memory of a process, and move it into device memory that
  the CPU cannot address at all. That memory gets struct pages in ZONE_DEVICE
  so the kernel's own migration code can move pages there and back. In the
  CPU page table a migrated page becomes a non-present "device-private
  entry"; a CPU touch faults and the driver migrates the page back.

  These scenarios drive the kernel's test driver lib/test_hmm.c ("dmirror"):
  its private device 0 mirrors a process's page tables and owns 1024 pages
  of simulated device memory.

  Background:
    Given the HMM test driver is loaded
    And a process A
    And process A maps 4 pages of private anonymous memory as buffer X
    And process A writes 0x5a to buffer X

  @claim:S001-1 @kernel:hmm_range_fault @kernel:migrate_vma_setup
  Rule: HMM works on ordinary memory of the process - malloc'd, or a private or shared mmap - and needs no special allocator

    Scenario Outline: the device reads and writes <kind> memory through its mirror of the page tables
      Given process A maps <mapping> as buffer M
      When the private device writes 0x77 to buffer M of process A
      Then the command succeeds with cpages 2 and faults 1
      And buffer M in process A holds 0x77
      When the private device reads buffer M of process A
      Then the device saw 0x77 in every page

      Examples:
        | kind              | mapping                                    |
        | malloc'd          | 2 pages of private anonymous memory        |
        | shared anonymous  | 2 pages of shared anonymous memory         |

    Scenario: malloc'd memory migrates to device memory with no special allocator
      When the private device migrates buffer X of process A to device memory
      Then the command succeeds with cpages 4 and faults 0
      And in process A, buffer X is device-private, writable
      And buffer X in process A is in device-private memory

  @claim:S001-1 @kernel:migrate_vma_setup
  Rule: a VMA that maps a device file is not ordinary memory: migrate_vma refuses it

    Scenario: the driver's own mixed-map mapping cannot be migrated
      Given process A maps 2 pages of the private device's file as buffer D
      When the private device migrates buffer D of process A to device memory
      Then the command fails with -EINVAL
      And in process A, buffer D is mapped writable

  @claim:S001-2 @kernel:memremap_pages @kernel:migrate_vma_pages
  Rule: device memory gets struct pages in ZONE_DEVICE, so the ordinary migration code moves pages there and back

    Scenario: a page migrates to device memory and back with its contents
      Given the page behind page 0 of buffer X in process A is called "system page"
      When the private device migrates buffer X of process A to device memory
      Then the folio behind page 0 of buffer X in process A has refcount 1 and mapcount 1
      And page "system page" is free
      When the private device migrates buffer X of process A back to system memory
      Then the command succeeds with cpages 4 and faults 0
      And buffer X in process A is in system RAM
      And buffer X in process A holds 0x5a
      And in process A, buffer X is mapped writable

  @kernel:hmm_vma_handle_pte @kernel:hmm_vma_handle_absent_pmd @kernel:dmirror_do_fault
  Rule: hmm_range_fault never faults a device-private page its caller owns, even when write access is asked: it reports the entry as it is

    Scenario: after fork the owning device writes a page it holds read-only, and test_hmm refuses the read-only answer
      When the private device migrates buffer X of process A to device memory
      And process A forks process B
      Then in process A, buffer X is device-private, read-only
      When the private device writes 0x77 to page 0 of buffer X of process A
      Then the command fails with -EFAULT
      And the kernel warns in dmirror_do_fault
      And buffer X in process A is in device-private memory
      When process A reads page 0 of buffer X
      Then process A read 0x5a

    Scenario: the same for a device-private THP: its read-only PMD is reported, not faulted
      Given process A maps 4 MiB of private anonymous memory, buffer T being its first 2 MiB-aligned 2 MiB, advised MADV_HUGEPAGE
      And process A writes 0x6b to buffer T
      When the private device migrates buffer T of process A to device memory
      And process A forks process B
      Then in process A, buffer T is PMD-mapped device-private, read-only
      When the private device writes 0x77 to page 0 of buffer T of process A
      Then the command fails with -EFAULT
      And the kernel warns in dmirror_do_fault
      And in process A, buffer T is PMD-mapped device-private, read-only

    @kernel-fails
    Scenario: the owning device reads a page it holds read-only: test_hmm copies from the device-private page itself
      Kernel fails: dmirror_do_fault stores the device-private page hmm_range_fault reported, not its BACKING_PAGE as dmirror_migrate_finalize_and_map does, and dmirror_do_read's memcpy_from_page reads it through a linear map it does not have. On a real 7.2.13 this is "BUG: unable to handle page fault for address: ff1100fcfffff000" in dmirror_do_read+0x68, a kernel panic.

      When the private device migrates buffer X of process A to device memory
      And process A forks process B
      And the private device reads buffer X of process A
      Then the kernel access is refused: "device-private memory is not CPU-addressable"
      And buffer X in process A is in device-private memory

  @claim:S001-3 @kernel:do_swap_page @kernel:migrate_to_ram
  Rule: the CPU cannot access device-private memory: a CPU touch faults and migrates the page back to system memory

    Scenario Outline: the CPU <access> page 1 of a migrated buffer, which brings that page back
      Given the private device migrates buffer X of process A to device memory
      When process A <access> page 1 of buffer X
      Then page 1 of buffer X in process A is in system RAM
      And page 1 of buffer X in process A holds <contents>
      And in process A, page 1 of buffer X is mapped writable
      And in process A, page 2 of buffer X is device-private, writable
      And the private device took 0 device faults and the CPU 1 fault on its memory
      And the private device moved 4 pages to device memory and 1 back to system memory
      And the private device no longer mirrors page 1 of buffer X of process A

      Examples:
        | access          | contents |
        | reads           | 0x5a     |
        | writes 0x66 to  | 0x66     |

  @claim:S001-4 @claim:S000-9 @seed:000 @kernel:__get_user_pages @kernel:migrate_to_ram
  Rule: nobody can pin device-private memory: GUP faults the page back to system memory, as a CPU access does, and pins that

    Scenario Outline: <how> of a migrated page returns a system page
      Given the private device migrates buffer X of process A to device memory
      When process A <gup>
      Then page 0 of buffer X in process A is in system RAM
      And what process A grabbed of page 0 of buffer X is the page mapped there
      And what process A grabbed of page 0 of buffer X holds 0x5a
      And the private device took 0 device faults and the CPU 1 fault on its memory

      Examples:
        | how                | gup                                                           |
        | pin_user_pages     | pins page 0 of buffer X for writing                           |
        | get_user_pages     | takes a GUP reference on page 0 of buffer X, as vmsplice does |

  @claim:S001-5 @kernel:free_zone_device_folio
  Rule: a device-private page is tracked to its last user; the driver hears when it is freed

    Scenario: the driver gets its page back only when the last process unmaps it
      Given the private device migrates buffer X of process A to device memory
      And process A forks process B
      When process A unmaps buffer X
      Then the private device has been told 0 pages were freed
      And the folio behind page 0 of buffer X in process B has refcount 1 and mapcount 1
      When process B exits
      Then the private device has been told 4 pages were freed

  @claim:S001-6 @kernel:memremap_pages @kernel:kmap_local_page
  Rule: unaddressable memory has struct pages but no linear mapping: a CPU access through the kernel's map is a bug

    Scenario: the kernel trying to read a device-private page through its linear map is caught
      Given the private device migrates buffer X of process A to device memory
      When the kernel reads page 0 of buffer X of process A through its linear map
      Then the kernel access is refused: "device-private memory is not CPU-addressable"
      And buffer X in process A is in device-private memory

    Scenario: pfn_to_page works for a device-private pfn: its struct page, added with add_pages, is tracked like any page
      Given the private device migrates buffer X of process A to device memory
      And the page behind page 0 of buffer X in process A is called "device page"
      Then page "device page" has refcount 1 and mapcount 1
      And page 0 of buffer X in process A is in device-private memory

  @claim:S001-7 @kernel:migrate_vma_pages
  Rule: device memory is worth a migration because it is about 10 times faster than the link; mmspec's own cost model, not kernel behaviour, shows when it pays

    Scenario Outline: the engine's cost model: reading a 4-page buffer <reads> times, <where>
      Given <setup>
      When the private device reads buffer X of process A <reads> times
      Then the private device's accesses were <local> local and <remote> over the link
      And the private device's modelled cost is <cost> units

      Examples:
        | where                       | setup                                                              | reads | local | remote | cost |
        | over the link               | the private device reads buffer X of process A                      | 1     | 0     | 8      | 80   |
        | after migrating it          | the private device migrates buffer X of process A to device memory | 1     | 8     | 0      | 48   |
        | over the link, many times   | the private device reads buffer X of process A                      | 9     | 0     | 40     | 400  |
        | after migrating, many times | the private device migrates buffer X of process A to device memory | 9     | 40    | 0      | 80   |
