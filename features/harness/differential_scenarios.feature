@harness
Feature: The differential scenarios set each observation of the real kernel beside the engine's
  `npm run kernel -- --scenarios` runs the scenarios whose steps all have a
  C translation as one program in the guest. Each translated Then-step
  prints what the kernel showed as one JSON line; the engine's value for the
  same step is kept with the translation. These scenarios give the oracle a
  translated step and the guest's output, and check its verdict, so a
  comparison that cannot tell a difference fails here and not in a kernel run.

  Rule: a scenario agrees when every observation the kernel printed equals the engine's, and all of them were printed

    Scenario Outline: the engine saw <want>; the guest printed <output>
      Given a translated scenario whose step "Then process A read 0x5a" the engine saw as <want>
      And the guest printed for it:
        """
        mmspec-scenario: begin 0
        <output>
        mmspec-scenario: end 0 rc=0
        """
      When the oracle compares the scenario with what the guest printed
      Then its real-kernel verdict is "<verdict>"

      Examples:
        | want                | output                                                   | verdict        |
        | {"read":["0x5a"]}   | {"scenario":0,"step":0,"got":{"read":["0x5a"]}}          | agree          |
        | {"read":["0x5a"]}   | {"scenario":0,"step":0,"got":{"read":["mixed"]}}         | differs        |
        | {"read":["0x5a"]}   | {"scenario":0,"step":0,"error":"mmap of 4 pages: ENOMEM"} | differs        |
        | {"read":["0x5a"]}   | {"scenario":1,"step":0,"got":{"read":["0x5a"]}}          | did not finish |
        | {"mismatch":null}   | {"scenario":0,"step":0,"got":{"mismatch":null}}          | agree          |
        | {"mismatch":null}   | {"scenario":0,"step":0,"got":{"mismatch":{"page":3,"int":4,"value":0}}} | differs |

  Rule: a scenario the guest never finished, because the kernel went down, is not counted as agreeing

    Scenario: the guest began the scenario and never ended it
      Given a translated scenario whose step "Then process A read 0x5a" the engine saw as {"read":["0x5a"]}
      And the guest printed for it:
        """
        mmspec-scenario: begin 0
        {"scenario":0,"step":0,"got":{"read":["0x5a"]}}
        """
      When the oracle compares the scenario with what the guest printed
      Then its real-kernel verdict is "did not finish"

  Rule: a difference is accepted only where the scenario is tagged @kernel-differs with its reason, or states a patch the kernel does not carry

    Scenario Outline: a scenario tagged <tag>, on which the kernel <does>
      Given a translated scenario whose step "Then process A read 0x5a" the engine saw as {"read":["0x5a"]}
      And the scenario is tagged <tag>
      And the guest printed for it:
        """
        mmspec-scenario: begin 0
        {"scenario":0,"step":0,"got":{"read":["<read>"]}}
        mmspec-scenario: end 0 rc=0
        """
      When the oracle compares the scenario with what the guest printed
      Then its real-kernel verdict is "<verdict>"

      Examples:
        | tag                                      | does      | read | verdict          |
        | @kernel-differs:the-v2-patch-design      | differs   | mixed | differs (tagged) |
        | @kernel-differs:the-v2-patch-design      | agrees    | 0x5a | differs          |
        | @kernel-needs-patch:0001                 | differs   | mixed | differs (unpatched) |
        | @kernel-needs-patch:0001                 | agrees    | 0x5a | agree            |

  Rule: a kernel that reports a BUG, an Oops or a GPF while a scenario runs differs from the engine, whose debug_vm found nothing wrong

    Scenario Outline: the kernel logged "<log>" during the scenario
      Given a translated scenario whose step "Then process A read 0x5a" the engine saw as {"read":["0x5a"]}
      And the guest printed for it:
        """
        mmspec-scenario: begin 0
        {"scenario":0,"step":0,"got":{"read":["0x5a"]}}
        {"scenario":0,"kmsg":"<log>"}
        mmspec-scenario: end 0 rc=0
        """
      When the oracle compares the scenario with what the guest printed
      Then its real-kernel verdict is "<verdict>"

      Examples:
        | log                                                                            | verdict |
        | BUG: Bad rss-counter state mm:00000000 type:MM_ANONPAGES val:512 Comm:a Pid:1  | differs |
        | BUG: non-zero pgtables_bytes on freeing mm: 4096                               | differs |
        | Oops: general protection fault, probably for non-canonical address 0xdead      | differs |
        | WARNING: mm/memremap.c:158 at memremap_pages+0x518/0x5e0, CPU#0: scenarios/453 | agree   |

    Scenario: a scenario that states the kernel fails may see the kernel say BUG
      Given a translated scenario whose step "Then process A read 0x5a" the engine saw as {"read":["0x5a"]}
      And the scenario is tagged @kernel-fails
      And the guest printed for it:
        """
        mmspec-scenario: begin 0
        {"scenario":0,"step":0,"got":{"read":["0x5a"]}}
        {"scenario":0,"kmsg":"BUG: Bad rss-counter state mm:00000000 type:MM_ANONPAGES val:512 Comm:a Pid:1"}
        mmspec-scenario: end 0 rc=0
        """
      When the oracle compares the scenario with what the guest printed
      Then its real-kernel verdict is "agree"

  Rule: an Oops that ends the boot is told to the scenario whose markers surround it on the console

    Scenario Outline: the console shows "kernel BUG at mm/migrate.c:368!" after scenario 0 began, in a scenario tagged <tag>
      Given a translated scenario whose step "Then process A read 0x5a" the engine saw as {"read":["0x5a"]}
      And the scenario is tagged <tag>
      And the guest printed for it:
        """
        mmspec-scenario: begin 0
        """
      And the kernel's console printed:
        """
        [  101.0] mmspec-scenario: end 4
        [  101.5] WARNING: an earlier scenario's
        [  102.0] mmspec-scenario: begin 0
        [  102.1] page dumped because: VM_BUG_ON_FOLIO(folio_test_hugetlb(folio) || !folio_test_pmd_mappable(folio))
        [  102.2] kernel BUG at mm/migrate.c:368!
        [  102.3] Oops: invalid opcode: 0000 [#1] SMP NOPTI
        """
      When the oracle compares the scenario with what the guest printed
      Then its real-kernel verdict is "<verdict>"
      And its kernel log is "<first line>" and 2 more

      Examples:
        | tag                      | verdict             | first line                                                                                        |
        | @device-private          | did not finish      | page dumped because: VM_BUG_ON_FOLIO(folio_test_hugetlb(folio) \|\| !folio_test_pmd_mappable(folio)) |
        | @kernel-needs-patch:0001 | differs (unpatched) | page dumped because: VM_BUG_ON_FOLIO(folio_test_hugetlb(folio) \|\| !folio_test_pmd_mappable(folio)) |
