@fs-dax
Feature: Pins of FS-DAX pages, and truncating a file whose page is pinned
  When a regular file is truncated, the page cache simply lets go of its
  pages; a page that a pin still holds lives on, disconnected from the file,
  until the pin is released. A DAX file cannot do that: its page is a block
  of the filesystem, and the block must not be reused while DMA may still
  target it. So truncate waits for the pin (dax_break_layout), and a pin that
  may last forever (FOLL_LONGTERM) is refused. Williams: GUP-fast, which never
  looks at the VMA, "must be able to tell" too. In the old design it could
  only see the devmap bit of the PTE; in the fixed design it asks the page.

  Background:
    Given a process A

  @seed:003 @claim:S003-7 @kernel:check_vma_flags @kernel:folio_is_longterm_pinnable @kernel:gup_fast_pte_range @kernel:gup_fast_folio_allowed
  Rule: a long-term pin of an FS-DAX page is refused on both GUP paths; an ordinary pin is allowed

    Scenario Outline: FOLL_LONGTERM on an FS-DAX page is refused by the slow path (<design> design)
      Given the kernel uses the <design> devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      And process A writes 0x5a to page 0 of buffer D
      When process A pins page 0 of buffer D long-term for writing
      Then pinning fails with -EOPNOTSUPP

      Examples:
        | design |
        | old    |
        | fixed  |

    Scenario Outline: GUP-fast leaves a long-term pin of an FS-DAX page alone; the slow path refuses it (<design> design, <how>)
      Given the kernel uses the <design> devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      And process A writes 0x5a to page 0 of buffer D
      When process A pins page 0 of buffer D long-term <how> with GUP-fast
      Then pinning fails with -EOPNOTSUPP
      And GUP-fast took 0 pages and the slow path the rest
      And the PTE of page 0 of buffer D in process A is <pte>

      # A writable long-term pin of any file that is not shmem is left to the slow
      # path anyway (gup_fast_folio_allowed); a read-only one shows that GUP-fast
      # itself tells FS-DAX apart: by the devmap bit (old), by the page (fixed).
      Examples:
        | design | how         | pte                  |
        | old    | read-only   | a special devmap PTE |
        | old    | for writing | a special devmap PTE |
        | fixed  | read-only   | a normal PTE         |
        | fixed  | for writing | a normal PTE         |

    Scenario Outline: an ordinary pin of an FS-DAX page is allowed (<design> design, <path>)
      Given the kernel uses the <design> devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      And process A writes 0x5a to page 0 of buffer D
      When process A pins page 0 of buffer D <pin>
      Then what process A grabbed of page 0 of buffer D is the page mapped there
      And the folio behind page 0 of buffer D in process A is maybe DMA-pinned
      And what process A grabbed of page 0 of buffer D holds 0x5a

      Examples:
        | design | path     | pin                           |
        | old    | slow GUP | for writing                   |
        | old    | GUP-fast | for writing with GUP-fast     |
        | fixed  | slow GUP | for writing                   |
        | fixed  | GUP-fast | for writing with GUP-fast     |

    Scenario Outline: device-DAX memory may be pinned long-term; GUP-fast leaves a writable one to the slow path (<design> design, <how>)
      Given the kernel uses the <design> devmap refcount design
      And a pmem device of 4 pages in device-DAX mode
      And process A maps the device-DAX device as buffer V
      And process A writes 0x5a to page 0 of buffer V
      When process A pins page 0 of buffer V long-term <how> with GUP-fast
      Then what process A grabbed of page 0 of buffer V is the page mapped there
      And the folio behind page 0 of buffer V in process A is maybe DMA-pinned
      And GUP-fast took <fast> pages and the slow path the rest

      # GUP-fast has no VMA: gup_fast_folio_allowed asks folio->mapping, and a
      # device-DAX page carries the /dev/dax file's (dax_set_mapping), which is
      # neither anonymous nor shmem, so a writable long-term pin goes to the slow
      # path, whose VMA check (no dirty tracking for device-DAX) allows it. The
      # old design's GUP-fast left every devmap page to the slow path.
      Examples:
        | design | how         | fast |
        | old    | read-only   | 0    |
        | old    | for writing | 0    |
        | fixed  | read-only   | 1    |
        | fixed  | for writing | 0    |

  @seed:003 @claim:S003-7 @kernel:dax_break_layout @kernel:dax_layout_busy_page_range
  Rule: truncate and hole punch wait for a pinned DAX page instead of dropping it, in either design

    Scenario Outline: truncating the file unmaps the page but waits for the pin before freeing its block (<design> design)
      Given the kernel uses the <design> devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And the page holding block 0 of file "pm" is called "block 0"
      And process A maps file "pm" shared as buffer D
      And process A pins page 0 of buffer D for writing
      When file "pm" is truncated to 0 pages
      Then the filesystem waits for the busy page
      And in process A, buffer D is not mapped
      And page "block 0" is still block 0 of file "pm"

      Examples:
        | design |
        | old    |
        | fixed  |

    Scenario Outline: releasing the pin lets the truncate finish and free the block (<design> design)
      Given the kernel uses the <design> devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And the page holding block 0 of file "pm" is called "block 0"
      And process A maps file "pm" shared as buffer D
      And process A pins page 0 of buffer D for writing
      When file "pm" is truncated to 0 pages
      Then the filesystem waits for the busy page
      When process A releases what it grabbed of page 0 of buffer D
      Then file "pm" has 0 pages
      And page "block 0" is back in the filesystem's free space

      Examples:
        | design |
        | old    |
        | fixed  |

    Scenario Outline: a punched hole reads back through the zero page, and a write fills it with a new block (<design> design)
      Given the kernel uses the <design> devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      And a hole is punched over page 0 of file "pm"
      When process A reads page 0 of buffer D
      Then in process A, page 0 of buffer D is the zero page
      When process A writes 0x5a to page 0 of buffer D
      Then the PTE of page 0 of buffer D in process A is <pte>
      And page 0 of buffer D in process A holds 0x5a

      Examples:
        | design | pte                  |
        | old    | a special devmap PTE |
        | fixed  | a normal PTE         |

    Scenario: without a pin, truncate frees the blocks at once
      Given the kernel uses the fixed devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And the page holding block 0 of file "pm" is called "block 0"
      And process A maps file "pm" shared as buffer D
      And process A reads buffer D
      When file "pm" is truncated to 0 pages
      Then file "pm" has 0 pages
      And page "block 0" is back in the filesystem's free space

    Scenario Outline: punching a hole waits for the pin the same way (<design> design)
      Given the kernel uses the <design> devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      And process A pins page 0 of buffer D for writing
      When a hole is punched over page 0 of file "pm"
      Then the filesystem waits for the busy page
      When process A releases what it grabbed of page 0 of buffer D
      Then page 0 of file "pm" is a hole
      And file "pm" has 2 pages

      Examples:
        | design |
        | old    |
        | fixed  |
