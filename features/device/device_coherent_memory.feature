@seed:000 @device-coherent
Feature: Device-coherent memory and copy-on-write at fork
  DEVICE_COHERENT memory (Sierra's v6 series, February 2022) is device
  memory that CPU and device both reach coherently, over a bus like CXL. Any
  page of a process can be migrated there, and the CPU keeps using it in
  place through an ordinary PTE. Hildenbrand asked what copy-on-write means
  for such pages after fork(); Kuehling answered that they are shared
  read-only like any anonymous page, and that the first writer gets an
  ordinary system-memory copy, so fork in effect moves the parent's
  device-written memory back to system RAM.

  These scenarios use lib/test_hmm.c with its coherent devices (2 and 3).

  Background:
    Given the HMM test driver is loaded with device-coherent memory
    And a process A
    And process A maps 4 pages of private anonymous memory as buffer X
    And process A writes 0x5a to buffer X

  @claim:S000-1 @kernel:migrate_vma_insert_page @kernel:do_numa_page
  Rule: any page of a process can be migrated to coherent memory, and the CPU then accesses it in place, without a fault

    Scenario: CPU reads and writes of coherent pages stay in device memory
      Given the coherent device migrates buffer X of process A to device memory
      When process A writes 0x66 to buffer X
      Then process A took 0 page faults in that access
      And buffer X in process A is in device-coherent memory
      And in process A, buffer X is mapped writable
      When the coherent device reads buffer X of process A
      Then the device saw 0x66 in every page
      And the coherent device's accesses were 8 local and 0 over the link

    Scenario: an untouched hole is filled with a new, zeroed coherent page
      Given process A maps 2 pages of private anonymous memory as buffer H
      When the coherent device migrates buffer H of process A to device memory
      Then the command succeeds with cpages 2 and faults 0
      And buffer H in process A is in device-coherent memory
      And buffer H in process A holds 0x0

    Scenario: the shared zero page is replaced by a new coherent page
      Given process A maps 2 pages of private anonymous memory as buffer H
      And process A reads buffer H
      When the coherent device migrates buffer H of process A to device memory
      Then buffer H in process A is in device-coherent memory
      And in process A, buffer H is mapped writable
      And buffer H in process A holds 0x0

    Scenario: the kernel reads a coherent page through its linear map, as it reads RAM
      Given the coherent device migrates buffer X of process A to device memory
      When the kernel reads page 0 of buffer X of process A through its linear map
      Then the kernel read 0x5a
      And buffer X in process A is in device-coherent memory

  @claim:S000-2 @kernel:copy_present_pte @kernel:wp_page_copy
  Rule: at fork, coherent anonymous pages are shared read-only like other anonymous pages; the first to write gets an ordinary system-memory copy

    Scenario Outline: <writer> writes first and gets a system-memory page; <other> keeps the coherent page
      Given the coherent device migrates buffer X of process A to device memory
      And process A forks process B
      Then process A and process B map buffer X to the same page
      And in process B, buffer X is mapped read-only
      When process <writer> writes 0x77 to page 0 of buffer X
      Then page 0 of buffer X in process <writer> is in system RAM
      And page 0 of buffer X in process <writer> holds 0x77
      And page 0 of buffer X in process <other> is in device-coherent memory
      And page 0 of buffer X in process <other> holds 0x5a

      Examples:
        | writer | other |
        | A      | B     |
        | B      | A     |

  @claim:S000-3 @kernel:copy_page_range
  Rule: marking a page for CoW write-protects the CPU PTE, and that fires an MMU notifier which invalidates the device's mapping

    Scenario: fork takes the parent's pages out of the device's page table
      Given the coherent device migrates buffer X of process A to device memory
      And an MMU interval notifier on buffer X in process A
      Then the coherent device mirrors buffer X of process A
      When process A forks process B
      Then the notifier on buffer X in process A saw MMU_NOTIFY_PROTECTION_PAGE over buffer X
      And the coherent device no longer mirrors buffer X of process A

  @claim:S000-4 @kernel:hmm_range_fault @kernel:do_wp_page
  Rule: the parent's next device write faults, and the fault breaks CoW: the parent gets a system copy, the child keeps the coherent page

    Scenario: a device write after fork copies the page into system memory for the parent
      Given the coherent device migrates buffer X of process A to device memory
      And process A forks process B
      When the coherent device writes 0x77 to page 0 of buffer X of process A
      Then the command succeeds with cpages 1 and faults 1
      And page 0 of buffer X in process A is in system RAM
      And page 0 of buffer X in process A holds 0x77
      And page 0 of buffer X in process B is in device-coherent memory
      And page 0 of buffer X in process B holds 0x5a

    Scenario: the driver may migrate the parent's copy back to coherent memory
      Given the coherent device migrates buffer X of process A to device memory
      And process A forks process B
      And the coherent device writes 0x77 to page 0 of buffer X of process A
      When the coherent device migrates page 0 of buffer X of process A to device memory
      Then page 0 of buffer X in process A is in device-coherent memory
      And page 0 of buffer X in process A holds 0x77
      And process A and process B map page 0 of buffer X to different pages

  @claim:S000-5 @kernel:wp_page_copy
  Rule: so fork in effect migrates all the coherent memory the parent's device writes to system memory: N pages written, N new system pages

    Scenario Outline: the device writes <n> of the parent's coherent pages after fork
      Given process A maps 8 pages of private anonymous memory as buffer Y
      And process A writes 0x5a to buffer Y
      And the coherent device migrates buffer Y of process A to device memory
      And process A forks process B
      When the coherent device writes 0x77 to pages 0-<last> of buffer Y of process A
      Then pages 0-<last> of buffer Y in process A are in system RAM
      And pages 0-<last> of buffer Y in process B are in device-coherent memory
      And buffer Y in process B holds 0x5a
      And the coherent device's modelled cost is <cost> units

      Examples:
        | n | last | cost |
        | 1 | 0    | 98   |
        | 4 | 3    | 128  |
        | 8 | 7    | 168  |

  @claim:S000-6 @kernel:hmm_range_fault
  Rule: a driver that maps pages read-only on device read faults avoids the copy for reads, at the cost of a second fault to write

    Scenario Outline: after fork the parent's device reads, then writes, buffer X with the "<policy>" policy
      Given the coherent device <policy>
      And the coherent device migrates buffer X of process A to device memory
      And process A forks process B
      When the coherent device reads buffer X of process A
      Then buffer X in process A is in <memory after the read>
      And the coherent device took <faults after read> device faults and the CPU 0 faults on its memory
      When the coherent device writes 0x77 to buffer X of process A
      Then buffer X in process A is in system RAM
      And the coherent device took <faults after write> device faults and the CPU 0 faults on its memory

      Examples:
        | policy                     | memory after the read  | faults after read | faults after write |
        | maps every fault writable  | system RAM             | 1                 | 1                  |
        | maps read faults read-only | device-coherent memory | 1                 | 2                  |

  @claim:S000-7 @kernel:free_zone_device_folio
  Rule: anonymous ZONE_DEVICE pages are freed through the pagemap's free callback, which releases the device memory

    Scenario Outline: unmapping migrated pages hands them back to the <kind> device
      Given the <kind> device migrates buffer X of process A to device memory
      When process A unmaps buffer X
      Then the <kind> device has been told 4 pages were freed

      Examples:
        | kind     |
        | coherent |
        | private  |
