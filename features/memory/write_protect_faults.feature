Feature: Write faults on read-only pages: reuse or copy
  When a process writes to a present page that is mapped read-only,
  do_wp_page decides. A page that only this process can see is reused in
  place (the PTE just becomes writable again). A page that anybody else
  might see, through another mapping or through a reference such as a GUP
  pin or a pipe buffer, is copied. That rule is what keeps the parent's
  writes out of the child and out of the child's pipe (CVE-2020-29374).

  Background:
    Given a process A
    And process A maps 1 page of private anonymous memory as buffer X
    And process A writes 0x11 to buffer X
    And the page behind buffer X in process A is called "original"

  @kernel:do_wp_page @kernel:wp_can_reuse_anon_folio @room:memory
  Rule: a page that is exclusive again, once the child has gone, is reused and not copied

    Scenario: the parent reuses its page after the child exits
      Given process A forks process B
      And process B exits
      When process A writes 0x22 to buffer X
      Then buffer X in process A is page "original"
      And in process A, buffer X is mapped writable
      And buffer X in process A is exclusive

    Scenario: mprotect read-only and back keeps an exclusive page, and the next write reuses it
      Given process A makes buffer X read-only
      And process A makes buffer X read-write
      When process A writes 0x22 to buffer X
      Then buffer X in process A is page "original"

  @kernel:wp_can_reuse_anon_folio @kernel:wp_page_copy @room:memory @cow:vmsplice_in_child
  Rule: any extra reference on a shared page forces a copy, so a reader through that reference keeps the old contents

    Scenario: a page the child referenced through vmsplice before unmapping it is copied when the parent writes
      Given process A forks process B
      And process B takes a GUP reference on buffer X, as vmsplice does
      And process B unmaps buffer X
      When process A writes 0x22 to buffer X
      Then buffer X in process A is no longer page "original"
      And what process B grabbed of buffer X holds 0x11
      And page "original" has refcount 1 and mapcount 0

    Scenario: once the reference is dropped, the parent reuses its page
      Given process A forks process B
      And process B takes a GUP reference on buffer X, as vmsplice does
      And process B unmaps buffer X
      When process B releases what it grabbed of buffer X
      And process A writes 0x22 to buffer X
      Then buffer X in process A is page "original"
