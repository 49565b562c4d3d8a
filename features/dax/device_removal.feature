@fs-dax
Feature: Removing a pmem device while its DAX pages are in use
  When a pmem device is unbound, memunmap_pages takes its pagemap away: the
  struct pages of its memory stop existing. It kills the pagemap, drops the
  references the pagemap holds on itself, and waits for the rest. What it
  waits for depends on who holds references. In the old design a DAX mapping
  holds none, so the wait cannot cover it (Gunthorpe: "FS-DAX is installing 0
  refcount pages into PTEs"); in the fixed design every mapping does. The
  debug checks name the outcome the old design allows: a PTE that still maps
  memory whose pagemap is gone. The merged fixed design (≈v6.15) does not
  wait either: its page references never count in the pagemap's. Here the
  engine's removal does not sleep: where it waits, it reports that it is
  waiting, and completes when the last reference goes.

  Background:
    Given a process A

  @seed:003 @claim:S003-3 @kernel:memunmap_pages @kernel:insert_pfn
  Rule: old design: removal does not wait for DAX mappings, so a PTE outlives the pagemap it points into
    Gunthorpe's "0 refcount pages" counts what a mapping adds: nothing. The
    page itself sits at the idle 1, which memunmap_pages (v5.15) drops with one
    put_page per pfn; only a page that GUP still holds keeps the removal
    waiting. The PTE is left pointing at memory that no longer exists.

    Scenario: the device goes while process A still maps its page, and the debug checks catch the dangling PTE
      Given the kernel uses the old devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      And process A reads page 0 of buffer D
      When the pmem device is removed
      Then the device removal has completed
      And the debug checks report "a PTE never maps memory whose pagemap is gone"
      And the PTE of page 0 of buffer D in process A is a special devmap PTE

  @seed:003 @claim:S003-5 @kernel:memunmap_pages @kernel:free_zone_device_folio
  Rule: fixed design, as merged: removal does not wait for mapped or pinned FS-DAX pages; only the design the thread describes does
    The thread's design has the pagemap wait for its pages' references to
    go. The merged kernel (≈v6.15, still 7.2) counts FS-DAX page references
    in the folio only, never in pgmap->ref: memunmap_pages puts the pfn_len
    references memremap_pages took and completes. It relies on the filesystem
    to unmap first (the notification below, dax_break_layout_final at
    unmount). Without that, the debug checks name what is left behind.

    Scenario: the merged kernel removes the device while process A maps a page, leaving a PTE to memory that is gone
      Given the kernel uses the fixed devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      And process A reads page 0 of buffer D
      When the pmem device is removed
      Then the device removal has completed
      And the debug checks report "a PTE never maps memory whose pagemap is gone"

    Scenario: the merged kernel removes the device under a pin, leaving a pinned page whose pagemap is gone
      Given the kernel uses the fixed devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      And process A pins page 0 of buffer D for writing
      And process A unmaps buffer D
      When the pmem device is removed
      Then the device removal has completed
      And the debug checks report "a device page lies in its pagemap range"

    Scenario: the thread's design: removal waits while process A maps a page, and completes once the mapping is gone
      Given the kernel uses the fixed devmap refcount design
      And FS-DAX device removal waits for pages still in use, as the October 2021 thread proposed
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      And process A reads page 0 of buffer D
      When the pmem device is removed
      Then the device removal waits for pages still in use
      And in process A, page 0 of buffer D is mapped read-only
      When process A unmaps buffer D
      Then the device removal has completed

    Scenario: the thread's design: a pin holds the removal back until it is released
      Given the kernel uses the fixed devmap refcount design
      And FS-DAX device removal waits for pages still in use, as the October 2021 thread proposed
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      And process A pins page 0 of buffer D for writing
      And process A unmaps buffer D
      When the pmem device is removed
      Then the device removal waits for pages still in use
      When process A releases what it grabbed of page 0 of buffer D
      Then the device removal has completed

    Scenario: old design (v5.15): a pin holds the removal back, through the pagemap reference GUP took, until it is released
      Given the kernel uses the old devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And process A maps file "pm" shared as buffer D
      And process A pins page 0 of buffer D for writing
      And process A unmaps buffer D
      When the pmem device is removed
      Then the device removal waits for pages still in use
      When process A releases what it grabbed of page 0 of buffer D
      Then the device removal has completed

  @seed:003 @claim:S003-6 @kernel:kill_dax @kernel:dax_holder_notify_failure
  Rule: a filesystem told that its device is going away unmaps its files first, so removal need not wait: an improvement, not a requirement

    Scenario Outline: told in time, the filesystem unmaps buffer D and removal completes at once (<design> design)
      Given the kernel uses the <design> devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And the DAX filesystem is told before its device goes away
      And process A maps file "pm" shared as buffer D
      And process A reads page 0 of buffer D
      When the pmem device is removed
      Then the device removal has completed
      And the filesystem was told the device is going away
      And in process A, buffer D is not mapped

      Examples:
        | design |
        | old    |
        | fixed  |

    Scenario: after the device is gone, a fault on the file fails with SIGBUS
      Given the kernel uses the fixed devmap refcount design
      And a DAX file "pm" of 2 pages, page i holding 0x70 + i
      And the DAX filesystem is told before its device goes away
      And process A maps file "pm" shared as buffer D
      And the pmem device is removed
      When process A reads page 0 of buffer D
      Then the access fails with SIGBUS
