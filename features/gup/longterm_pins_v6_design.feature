@seed:000 @device-coherent
Feature: Long-term pins of DEVICE_COHERENT memory in the v6 series
  In the v6 DEVICE_COHERENT series (February 2022), "mm/gup: fail
  get_user_pages for LONGTERM dev coherent type" refused a FOLL_LONGTERM
  pin of a coherent page. Popple's follow-up, merged in v6.0, migrates the
  page to system RAM instead. The engine models both; this feature selects
  the v6 design, so the same steps show the other outcome.

  Background:
    Given the kernel refuses long-term pins of device-coherent memory, as the v6 series did
    And the HMM test driver is loaded with device-coherent memory
    And a process A
    And process A maps 2 pages of private anonymous memory as buffer X
    And process A writes 0x5a to buffer X
    And the coherent device migrates buffer X of process A to device memory

  @claim:S000-8 @kernel:check_and_migrate_movable_pages
  Rule: in the v6 series nobody could pin DEVICE_COHERENT memory long-term: the pin failed; an ordinary pin still worked

    Scenario: a long-term pin of a coherent page is refused
      When process A pins page 0 of buffer X long-term for writing
      Then pinning fails with -EFAULT
      And page 0 of buffer X in process A is in device-coherent memory
      And the folio behind page 0 of buffer X in process A has refcount 1 and mapcount 1

    Scenario: a short-term pin of a coherent page still pins it in place
      When process A pins page 0 of buffer X for writing
      Then what process A grabbed of page 0 of buffer X is the page mapped there
      And page 0 of buffer X in process A is in device-coherent memory
