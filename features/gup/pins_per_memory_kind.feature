Feature: What GUP and PUP do to each kind of memory
  get_user_pages takes references and pin_user_pages takes pins, but what
  they are allowed to hold depends on the memory. Device-private memory can
  never be pinned: GUP faults it back to system RAM first. DEVICE_COHERENT
  memory may be pinned for a short while in place, but a long-term pin
  (FOLL_LONGTERM) would stop its driver from ever evicting it, so the
  kernel moves the page to system RAM first. The shared zero page is never
  pinned writable, and a long-term writable pin of a file page that needs
  dirty tracking is refused.

  Background:
    Given the HMM test driver is loaded with device-coherent memory
    And a process A
    And process A maps 2 pages of private anonymous memory as buffer X
    And process A writes 0x5a to buffer X

  @seed:000 @claim:S000-8 @kernel:check_and_migrate_movable_folios @kernel:folio_is_longterm_pinnable @device-coherent
  Rule: nobody may pin DEVICE_COHERENT memory long-term; an ordinary FOLL_PIN pins it in place

    Scenario: a short-term pin leaves the page in coherent memory
      Given the coherent device migrates buffer X of process A to device memory
      And the page behind page 0 of buffer X in process A is called "coherent"
      When process A pins page 0 of buffer X for writing
      Then what process A grabbed of page 0 of buffer X is the page mapped there
      And page 0 of buffer X in process A is page "coherent"
      And page 0 of buffer X in process A is in device-coherent memory
      And the folio behind page 0 of buffer X in process A is maybe DMA-pinned

    Scenario Outline: a long-term pin (<path>) moves the page to system RAM, as the merged kernel does
      Given the coherent device migrates buffer X of process A to device memory
      When process A pins page 0 of buffer X <pin>
      Then page 0 of buffer X in process A is in system RAM
      And what process A grabbed of page 0 of buffer X is the page mapped there
      And what process A grabbed of page 0 of buffer X holds 0x5a
      And page 1 of buffer X in process A is in device-coherent memory
      And the coherent device has been told 1 page was freed

      Examples:
        | path     | pin                                 |
        | slow GUP | long-term for writing               |
        | GUP-fast | long-term for writing with GUP-fast |

    Scenario: a coherent page that is pinned short-term cannot be moved for a long-term pin
      Given the coherent device migrates buffer X of process A to device memory
      And process A pins page 0 of buffer X for writing
      When process A pins page 0 of buffer X long-term for writing
      Then pinning fails with -EBUSY
      And page 0 of buffer X in process A is in device-coherent memory

    Scenario: when the first coherent page cannot move, the others stay where they are, with no reference left behind
      Given the coherent device migrates buffer X of process A to device memory
      And process A pins page 0 of buffer X for writing
      When process A pins buffer X long-term for writing
      Then pinning fails with -EBUSY
      And page 1 of buffer X in process A is in device-coherent memory
      And the folio behind page 1 of buffer X in process A has refcount 1 and mapcount 1

  @kernel:gup_fast_pte_range @kernel:gup_fast_fallback
  Rule: GUP-fast takes only what the page table already allows; it leaves the rest to the slow path

    Scenario Outline: GUP-fast <what>
      Given <setup>
      When process A pins buffer X <pin> with GUP-fast
      Then GUP-fast took <fast> pages and the slow path the rest
      And what process A grabbed of buffer X is the page mapped there

      Examples:
        | what                                        | setup                                                                | pin                        | fast |
        | takes present writable pages                 | process A reads buffer X                                            | for writing                | 2    |
        | leaves device-private entries to the slow path | the private device migrates buffer X of process A to device memory | for writing                | 0    |
        | leaves coherent pages to a long-term slow path | the coherent device migrates buffer X of process A to device memory | long-term for writing      | 0    |
        | leaves shared pages to be unshared             | process A forks process B                                          | long-term read-only        | 0    |

  @kernel:follow_page_mask @kernel:gup_must_unshare @kernel:do_wp_page
  Rule: the shared zero page is never pinned writable; a write pin breaks CoW first

    Scenario: a writable pin of the zero page pins a new page instead
      Given process A maps 1 page of private anonymous memory as buffer Z
      And process A reads buffer Z
      When process A pins buffer Z for writing
      Then in process A, buffer Z is mapped writable
      And what process A grabbed of buffer Z is the page mapped there
      And what process A grabbed of buffer Z holds 0x0

    Scenario: a long-term read-only pin of the zero page in a private mapping unshares it
      Given process A maps 1 page of private anonymous memory as buffer Z
      And process A reads buffer Z
      When process A pins buffer Z long-term read-only
      Then in process A, buffer Z is mapped read-only
      And buffer Z in process A is exclusive
      And what process A grabbed of buffer Z is the page mapped there

  @kernel:check_vma_flags @kernel:writable_file_mapping_allowed @kernel:gup_must_unshare
  Rule: file pages: a long-term writable pin of a dirty-tracked shared file mapping is refused; a read-only long-term pin in a private mapping unshares

    Scenario: long-term writable pin of a shared file mapping
      Given a file "data" of 2 pages, page i holding 0xf0 + i
      And process A maps file "data" shared as buffer F
      When process A pins page 0 of buffer F long-term for writing
      Then pinning fails with -EFAULT

    Scenario: short-term writable pin of a shared file mapping pins the page-cache page
      Given a file "data" of 2 pages, page i holding 0xf0 + i
      And process A maps file "data" shared as buffer F
      When process A pins page 0 of buffer F for writing
      Then what process A grabbed of page 0 of buffer F is the page mapped there
      And in process A, page 0 of buffer F is mapped writable

    Scenario: long-term read-only pin of a private file mapping copies the page first
      Given a file "data" of 2 pages, page i holding 0xf0 + i
      And process A maps file "data" private as buffer F
      And process A reads buffer F
      When process A pins page 0 of buffer F long-term read-only
      Then what process A grabbed of page 0 of buffer F holds 0xf0
      And what process A grabbed of page 0 of buffer F is the page mapped there
      And process A has 1 file page

  @kernel:is_valid_gup_args
  Rule: the API refuses flag combinations that make no sense, with a warning

    Scenario Outline: <api> with <flags> is refused
      When process A calls <api> with <flags> on buffer X
      Then pinning fails with -EINVAL
      And the kernel warns in is_valid_gup_args

      Examples:
        | api            | flags                          |
        | get_user_pages | FOLL_PIN                       |
        | get_user_pages | FOLL_LONGTERM                  |
        | pin_user_pages | FOLL_LONGTERM \| FOLL_PCI_P2PDMA |
