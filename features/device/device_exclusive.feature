@seed:002 @device-exclusive
Feature: Device-exclusive access: special entries, not special pages
  A device that needs atomic access to a page of process memory (for
  example a GPU doing atomics across a link that cannot keep them coherent)
  asks for exclusive access with make_device_exclusive. Popple's answer in
  the DEVICE_COHERENT thread (February 2022): there are no device-exclusive
  pages, only device-exclusive entries. The page stays an ordinary page in
  system memory; its CPU PTE is replaced by a non-present entry, much like a
  migration entry, and any CPU access takes the page back.

  Background:
    Given the HMM test driver is loaded with device-coherent memory
    And a process A
    And process A maps 2 pages of private anonymous memory as buffer X
    And process A writes 0x5a to buffer X
    And the page behind page 0 of buffer X in process A is called "original"

  @claim:S002-1 @kernel:make_device_exclusive @kernel:hmm_range_fault
  Rule: there are no device-exclusive pages, only device-exclusive entries that point at an ordinary page

    Scenario: exclusive access replaces the PTE, and the page stays where it was
      When the private device takes exclusive access to page 0 of buffer X of process A
      Then the command succeeds with cpages 1 and faults 0
      And the device saw 0x5a in every page
      And in process A, page 0 of buffer X is device-exclusive
      And page 0 of buffer X in process A is page "original"
      And page 0 of buffer X in process A is in system RAM
      And page 0 of buffer X in process A is exclusive
      And the folio behind page 0 of buffer X in process A has refcount 1 and mapcount 1
      And the private device still holds exclusive access to page 0 of buffer X of process A

    Scenario: a page in device-private memory is first faulted back to system memory
      Given the private device migrates buffer X of process A to device memory
      When the private device takes exclusive access to page 0 of buffer X of process A
      Then in process A, page 0 of buffer X is device-exclusive
      And page 0 of buffer X in process A is in system RAM
      And the private device took 0 device faults and the CPU 1 fault on its memory

  @claim:S002-2 @kernel:remove_device_exclusive_entry @kernel:restore_exclusive_pte
  Rule: on a CPU fault the original PTE is restored, right after the device is told it lost exclusive access

    Scenario Outline: the CPU <access> page 0, which takes it back from the device
      Given the private device takes exclusive access to page 0 of buffer X of process A
      And an MMU interval notifier on buffer X in process A
      When process A <access> page 0 of buffer X
      Then the notifier on buffer X in process A saw exactly:
        | event            | pages |
        | MMU_NOTIFY_CLEAR | 0-0   |
      And in process A, page 0 of buffer X is mapped writable
      And page 0 of buffer X in process A is page "original"
      And page 0 of buffer X in process A holds <contents>
      And the private device no longer holds exclusive access to page 0 of buffer X of process A

      Examples:
        | access         | contents |
        | reads          | 0x5a     |
        | writes 0x66 to | 0x66     |

  @claim:S002-3 @kernel:copy_nonpresent_pte @kernel:copy_present_pte
  Rule: at fork the exclusive entry is restored to the original PTE, and copy-on-write then proceeds as for any PTE

    Scenario: fork gives both processes the original page, shared read-only
      Given the private device takes exclusive access to page 0 of buffer X of process A
      When process A forks process B
      Then in process A, page 0 of buffer X is mapped read-only
      And process A and process B map page 0 of buffer X to the same page
      And the folio behind page 0 of buffer X in process A has refcount 2 and mapcount 2
      And the private device no longer holds exclusive access to page 0 of buffer X of process A
      When process B writes 0x77 to page 0 of buffer X
      Then page 0 of buffer X in process A holds 0x5a
      And page 0 of buffer X in process A is page "original"

  @claim:S002-4 @kernel:__get_user_pages @kernel:remove_device_exclusive_entry
  Rule: GUP or PUP on a device-exclusive entry faults, restores the original entry, and takes the original page

    Scenario Outline: <how> on an exclusive entry takes the original page
      Given the private device takes exclusive access to page 0 of buffer X of process A
      When process A <gup>
      Then what process A grabbed of page 0 of buffer X is the page mapped there
      And page 0 of buffer X in process A is page "original"
      And in process A, page 0 of buffer X is mapped writable
      And the private device no longer holds exclusive access to page 0 of buffer X of process A

      Examples:
        | how                      | gup                                                            |
        | pin_user_pages           | pins page 0 of buffer X for writing                            |
        | pin_user_pages_fast      | pins page 0 of buffer X for writing with GUP-fast              |
        | get_user_pages           | takes a GUP reference on page 0 of buffer X, as vmsplice does  |

  @claim:S002-5 @kernel:make_device_exclusive
  Rule: a page can be both device-coherent and device-exclusive-mapped: the current kernel allows it, and the page stays in coherent memory

    Scenario: exclusive access to a coherent page
      Given the coherent device migrates buffer X of process A to device memory
      When the coherent device takes exclusive access to page 0 of buffer X of process A
      Then in process A, page 0 of buffer X is device-exclusive
      And page 0 of buffer X in process A is in device-coherent memory
      And the coherent device still holds exclusive access to page 0 of buffer X of process A
      When process A reads page 0 of buffer X
      Then process A read 0x5a
      And in process A, page 0 of buffer X is mapped writable
      And page 0 of buffer X in process A is in device-coherent memory

  @kernel:zap_nonpresent_ptes @kernel:change_protection
  Rule: munmap drops the exclusive entry's mapping; mprotect keeps the entry but the device loses its atomic mapping

    Scenario: unmapping an exclusive entry frees the page
      Given the private device takes exclusive access to page 0 of buffer X of process A
      When process A unmaps buffer X
      Then page "original" is free

    Scenario: after mprotect read-only, the CPU gets the page back read-only
      Given the private device takes exclusive access to page 0 of buffer X of process A
      When process A makes buffer X read-only
      Then in process A, page 0 of buffer X is device-exclusive
      And the private device no longer holds exclusive access to page 0 of buffer X of process A
      When process A reads page 0 of buffer X
      Then in process A, page 0 of buffer X is mapped read-only
      And page 0 of buffer X in process A is page "original"
