Feature: Pin accounting: FOLL_GET references versus FOLL_PIN pins
  get_user_pages (FOLL_GET) takes one plain reference per page.
  pin_user_pages (FOLL_PIN) marks the page as possibly under DMA: a small
  folio gets GUP_PIN_COUNTING_BIAS (1024) references per pin, a large folio
  one reference plus one in its exact pincount. The shared zero page is never
  counted. A read-only pin of a page shared after fork must not pin the
  shared page: GUP unshares it first, so the pin and the page tables agree.

  Background:
    Given a process A
    And process A maps 1 page of private anonymous memory as buffer X
    And process A writes 0x11 to buffer X

  @kernel:try_grab_folio @room:gup
  Rule: a FOLL_PIN on a small folio adds GUP_PIN_COUNTING_BIAS references; unpinning takes them back

    Scenario: one pin adds 1024 references
      When process A pins buffer X for writing
      Then the folio behind buffer X in process A has refcount 1025 and mapcount 1
      And the folio behind buffer X in process A is maybe DMA-pinned
      When process A releases what it grabbed of buffer X
      Then the folio behind buffer X in process A has refcount 1 and mapcount 1

    Scenario: a FOLL_GET reference adds one
      When process A takes a GUP reference on buffer X, as vmsplice does
      Then the folio behind buffer X in process A has refcount 2 and mapcount 1

  @kernel:try_grab_folio @kernel:folio_has_pincount @room:gup
  Rule: a large folio keeps an exact pincount instead of the bias

    Scenario: pinning one page of a THP
      Given process A maps 2 MiB of private anonymous memory as buffer T
      And process A advises MADV_HUGEPAGE on buffer T
      And process A writes 0x5a to buffer T
      When process A pins page 3 of buffer T for writing
      Then the folio behind page 0 of buffer T in process A has refcount 2 and mapcount 1
      And the folio behind page 0 of buffer T in process A has pincount 1

  @kernel:gup_must_unshare @kernel:do_wp_page @room:gup @cow:ro_pin_shared
  Rule: a read-only pin of a page shared after fork unshares it first, so later writes are seen through the pin

    Scenario: the pinned page is the one the parent keeps writing to
      Given process A forks process B
      When process A pins buffer X read-only
      Then buffer X in process A is exclusive
      And what process A grabbed of buffer X is the page mapped there
      And in process A, buffer X is mapped read-only
      When process A writes 0x22 to buffer X
      Then what process A grabbed of buffer X holds 0x22
      And buffer X in process B holds 0x11

  @kernel:try_grab_folio @room:gup
  Rule: the shared zero page is never counted by a pin

    Scenario: pinning the zero page read-only changes nothing
      Given process A maps 1 page of private anonymous memory as buffer Z
      And process A reads buffer Z
      When process A pins buffer Z read-only
      Then in process A, buffer Z is the zero page
      And what process A grabbed of buffer Z holds 0x0
