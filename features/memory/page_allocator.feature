Feature: Every page a process used goes back to the page allocator
  The engine boots with a given amount of RAM; the huge zero folio takes
  the first pageblock (512 pages) and the shared zero page the first page
  of the next, so a machine of 2048 pages starts with 1535 free. Faults
  take pages from the buddy allocator; CoW takes one more per copy; munmap
  and exit give every page back once its last reference is gone
  (free_unref_folios). A leak shows here as a count that does not return.

  @kernel:exit_mmap @kernel:zap_pte_range @kernel:free_unref_folios @room:page_alloc
  Rule: after fork, CoW and exit of both processes, the free count is what it was at boot

    Scenario: pages faulted, copied and freed come back to the allocator
      Given the machine has 2048 pages of RAM
      And processes A and B
      Then 1535 pages of RAM are free
      When process A maps 8 pages of private anonymous memory as buffer X
      And process A writes 0x5a to buffer X
      And process B maps 4 pages of private anonymous memory as buffer Y
      And process B writes 0x11 to buffer Y
      Then 1523 pages of RAM are free
      When process A forks process C
      And process C writes 0x66 to pages 0-3 of buffer X
      Then 1519 pages of RAM are free
      When process A exits
      Then 1523 pages of RAM are free
      When process C exits
      Then 1531 pages of RAM are free
      When process B exits
      Then 1535 pages of RAM are free
