@fs-dax
Feature: How a DAX fault maps a persistent-memory page, in the old and the fixed design
  A file on a DAX filesystem has no page cache. Its blocks are pages of
  persistent memory (a pmem device in fsdax mode, whose struct pages form a
  MEMORY_DEVICE_FS_DAX pagemap), and a fault maps the block's own page into
  the process. In the thread (October 2021) Gunthorpe asked why these
  mappings were "special" and their pages never reference-counted; Williams
  answered that this was a holdover that could now be fixed. Popple's series
  (≈v6.15) made the change. Each scenario chooses the design in its first
  step; the rest of the scenario is the same for both, so switching the
  design shows exactly what changed.

  Background:
    Given a process A

  @seed:003 @claim:S003-1 @kernel:vmf_insert_mixed @kernel:insert_pfn @kernel:vm_normal_page
  Rule: old design: a DAX fault maps the page with a special devmap PTE that holds no reference, no mapcount and no rss count
    The claim also says the VMA is VM_MIXEDMAP. That was true until v4.15:
    "dax: remove VM_MIXEDMAP for fsdax and device dax" (e1fb4a086495)
    dropped the flag, and the mixed-map path (vmf_insert_mixed → insert_pfn)
    went on accepting the page because its pfn was marked devmap: the
    "holdover from page-less DAX" that Williams describes.

    Scenario: a read fault installs a special devmap PTE, and the mm sees no page behind it
      Given the kernel uses the old devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      When process A reads page 0 of buffer D
      Then the PTE of page 0 of buffer D in process A is a special devmap PTE
      And the mm sees no page behind page 0 of buffer D in process A
      And the folio behind page 0 of buffer D in process A has refcount 1 and mapcount 0
      And process A has 0 file pages

    Scenario: a write fault maps the page writable through the mixed-map path, in a VMA that is not VM_MIXEDMAP
      Given the kernel uses the old devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      When process A writes 0x5a to page 0 of buffer D
      Then in process A, page 0 of buffer D is mapped writable
      And page 0 of buffer D in process A holds 0x5a
      And the VMA of buffer D in process A is not VM_MIXEDMAP

    Scenario: GUP still pins the page behind a devmap PTE, found through its pagemap
      Given the kernel uses the old devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      When process A pins page 0 of buffer D for writing
      Then what process A grabbed of page 0 of buffer D is the page mapped there
      And the folio behind page 0 of buffer D in process A has refcount 1025 and mapcount 0
      And the mm sees no page behind page 0 of buffer D in process A

  @seed:003 @claim:S003-2 @kernel:vmf_insert_page_mkwrite @kernel:insert_page @kernel:vm_normal_page
  Rule: fixed design: a DAX fault maps the page with a normal PTE that holds a reference, as for any page-cache page

    Scenario: a read fault installs a normal PTE with a reference, a mapcount and an rss count
      Given the kernel uses the fixed devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      When process A reads page 0 of buffer D
      Then the PTE of page 0 of buffer D in process A is a normal PTE
      And the mm sees the mapped page behind page 0 of buffer D in process A
      And the folio behind page 0 of buffer D in process A has refcount 1 and mapcount 1
      And process A has 1 file page

    Scenario: each process that maps the page holds its own reference, and gives it back on munmap
      Given the kernel uses the fixed devmap refcount design
      And a process B
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      And process B maps file "pm" shared as buffer D
      When process A reads page 0 of buffer D
      And process B reads page 0 of buffer D
      Then the folio behind page 0 of buffer D in process A has refcount 2 and mapcount 2
      When process B unmaps buffer D
      Then the folio behind page 0 of buffer D in process A has refcount 1 and mapcount 1

    Scenario: a write fault maps the page writable with insert_page, in a VMA that is not VM_MIXEDMAP
      Given the kernel uses the fixed devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      When process A writes 0x5a to page 0 of buffer D
      Then in process A, page 0 of buffer D is mapped writable
      And page 0 of buffer D in process A holds 0x5a
      And the VMA of buffer D in process A is not VM_MIXEDMAP

  @seed:003 @claim:S003-4 @kernel:memmap_init_zone_device @kernel:put_devmap_managed_page @kernel:free_zone_device_folio
  Rule: the original sin: an idle ZONE_DEVICE page sat at refcount 1, never 0, and dropping back to 1 meant free
    Every page of memory has a counter of the people using it. For ordinary
    memory, 0 means "nobody; the page is free", and the kernel relies on that
    everywhere: a page at 0 must not be handed out to anyone. Device pages
    were given a different rule from the start: their counter never went
    below 1, so that a field of the page record could be reused for other
    things. "Unused" meant 1, not 0. The DAX mappings were then built on top
    of that rule: mapping a page into a process did not count as a use at all,
    and the 1 is what kept GUP (which refuses pages at 0) working on such
    mapped pages. Every piece of code that asks "is this page busy?" had to
    know the special rule for device pages. The fixed design counts every
    mapping, so an unused page can sit at 0 like any other.

    Scenario Outline: an idle page sits at refcount <idle>, and mapping it <counts> (<design> design)
      Given the kernel uses the <design> devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And the page holding block 0 of file "pm" is called "block 0"
      And process A maps file "pm" shared as buffer D
      Then page "block 0" has refcount <idle> and mapcount 0
      When process A reads page 0 of buffer D
      Then page "block 0" has refcount 1 and mapcount <mapped>
      When process A unmaps buffer D
      Then page "block 0" has refcount <idle> and mapcount 0

      Examples:
        | design | idle | counts                    | mapped |
        | old    | 1    | does not count as a use   | 0      |
        | fixed  | 0    | counts as one             | 1      |

    Scenario Outline: a pin lifts the count; releasing it ends at 1, which <means> (<design> design)
      Given the kernel uses the <design> devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      And process A pins page 0 of buffer D for writing
      When process A releases what it grabbed of page 0 of buffer D
      Then the folio behind page 0 of buffer D in process A has refcount 1 and mapcount <mapcount>
      And the filesystem <told> that the page went idle

      Examples:
        | design | means                                  | mapcount | told           |
        | old    | counts as free                         | 0        | was told once  |
        | fixed  | is the mapping's own reference: in use | 1        | was never told |

  @seed:003 @kernel:dax_iomap_pte_fault @kernel:do_cow_fault @kernel:wp_page_copy
  Rule: a private mapping of a DAX file reads the device page in place, and a write copies it into an anonymous page

    Scenario Outline: the first write to a private mapping copies the block, which keeps its contents (<design> design)
      Given the kernel uses the <design> devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And the page holding block 0 of file "pm" is called "block 0"
      And process A maps file "pm" private as buffer P
      And process A reads page 0 of buffer P
      When process A writes 0x5a to page 0 of buffer P
      Then page 0 of buffer P in process A is in system RAM
      And page 0 of buffer P in process A holds 0x5a
      And page "block 0" holds 0x70
      And page "block 0" has refcount <idle> and mapcount 0

      Examples:
        | design | idle |
        | old    | 1    |
        | fixed  | 0    |

    Scenario: a write fault on a page not yet mapped copies the block straight away
      Given the kernel uses the fixed devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" private as buffer P
      When process A writes 0x5a to page 1 of buffer P
      Then page 1 of buffer P in process A is in system RAM
      And process A has 1 anonymous page
      And process A has 0 file pages
