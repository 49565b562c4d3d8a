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
