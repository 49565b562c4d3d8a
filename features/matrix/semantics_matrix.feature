@seed:000 @seed:001 @seed:002 @matrix
Feature: The semantics matrix: what each operation does to each kind of memory
  One screen for a reviewer: six kinds of memory a process page can live
  in, seven things that can happen to it, and what the kernel then does.
  Each row sets up one page of process A holding data, performs the
  operation, and states the outcome in words; the engine derives the sentence
  from what it sees before and after, so a row fails if the kernel model
  ever behaves differently.

  Kinds of memory: "system anonymous" is ordinary malloc'd memory; "zero
  page" is untouched memory that was only read; "device-private memory" has
  been migrated to a GPU's private memory; "device-coherent memory" to
  CPU-coherent device memory; a "device-exclusive entry" is ordinary memory
  a device holds for atomic access; "private file" is a private mapping of a
  file that was only read. "Pins" means FOLL_PIN for writing;
  "long-term" adds FOLL_LONGTERM.

  @claim:S001-3 @claim:S001-4 @claim:S000-1 @claim:S000-2 @claim:S000-8 @claim:S002-2 @claim:S002-3 @claim:S002-4
  @kernel:handle_mm_fault @kernel:copy_page_range @kernel:__get_user_pages @kernel:migrate_vma_setup
  Rule: every kind of memory behaves as the thread and the kernel say, for every operation

    Scenario Outline: <memory> + <operation>: <outcome>
      Given process A has one page of <memory> as buffer X
      When process A <operation> it
      Then the outcome is: "<outcome>"

      Examples:
        | memory                 | operation                      | outcome                                                                                                |
        | system anonymous       | reads                          | read in place in system RAM                                                                            |
        | system anonymous       | writes                         | written in place in system RAM                                                                         |
        | system anonymous       | forks process B, then A writes | A gets a new page in system RAM; B keeps the original in system RAM                                    |
        | system anonymous       | forks process B, then B writes | B gets a new page in system RAM; A keeps the original in system RAM                                    |
        | system anonymous       | pins                           | pinned in place in system RAM                                                                          |
        | system anonymous       | pins long-term                 | pinned in place in system RAM                                                                          |
        | system anonymous       | has the private device migrate | moved to device-private memory                                                                         |
        | zero page              | reads                          | read in place in the zero page                                                                         |
        | zero page              | writes                         | copied to a new page in system RAM, then written                                                       |
        | zero page              | forks process B, then A writes | A gets a new page in system RAM; B has not faulted it in                                               |
        | zero page              | forks process B, then B writes | B gets a new page in system RAM; A keeps the original in the zero page                                 |
        | zero page              | pins                           | pinned a new page in system RAM                                                                        |
        | zero page              | pins long-term                 | pinned a new page in system RAM                                                                        |
        | zero page              | has the private device migrate | moved to device-private memory                                                                         |
        | device-private memory  | reads                          | migrated to system RAM, then read                                                                      |
        | device-private memory  | writes                         | migrated to system RAM, then written                                                                   |
        | device-private memory  | forks process B, then A writes | A gets a new page in system RAM; B's page moved to system RAM                                          |
        | device-private memory  | forks process B, then B writes | B gets a new page in system RAM; A's page moved to system RAM                                          |
        | device-private memory  | pins                           | pinned after moving to system RAM                                                                      |
        | device-private memory  | pins long-term                 | pinned after moving to system RAM                                                                      |
        | device-private memory  | has the private device migrate | stays in device-private memory                                                                         |
        | device-coherent memory | reads                          | read in place in device-coherent memory                                                                |
        | device-coherent memory | writes                         | written in place in device-coherent memory                                                             |
        | device-coherent memory | forks process B, then A writes | A gets a new page in system RAM; B keeps the original in device-coherent memory                        |
        | device-coherent memory | forks process B, then B writes | B gets a new page in system RAM; A keeps the original in device-coherent memory                        |
        | device-coherent memory | pins                           | pinned in place in device-coherent memory                                                              |
        | device-coherent memory | pins long-term                 | pinned after moving to system RAM                                                                      |
        | device-coherent memory | has the private device migrate | stays in device-coherent memory                                                                        |
        | device-exclusive entry | reads                          | read in place in system RAM; the device loses exclusive access                                         |
        | device-exclusive entry | writes                         | written in place in system RAM; the device loses exclusive access                                      |
        | device-exclusive entry | forks process B, then A writes | A gets a new page in system RAM; B keeps the original in system RAM; the device loses exclusive access |
        | device-exclusive entry | forks process B, then B writes | B gets a new page in system RAM; A keeps the original in system RAM; the device loses exclusive access |
        | device-exclusive entry | pins                           | pinned in place in system RAM; the device loses exclusive access                                       |
        | device-exclusive entry | pins long-term                 | pinned in place in system RAM; the device loses exclusive access                                       |
        | device-exclusive entry | has the private device migrate | stays in system RAM                                                                                    |
        | private file           | reads                          | read in place in system RAM                                                                            |
        | private file           | writes                         | copied to a new page in system RAM, then written                                                       |
        | private file           | forks process B, then A writes | A gets a new page in system RAM; B has not faulted it in                                               |
        | private file           | forks process B, then B writes | B gets a new page in system RAM; A keeps the original in system RAM                                    |
        | private file           | pins                           | pinned a new page in system RAM                                                                        |
        | private file           | pins long-term                 | pinned a new page in system RAM                                                                        |
        | private file           | has the private device migrate | stays in system RAM                                                                                    |
