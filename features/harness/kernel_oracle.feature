@harness
Feature: The oracle reads the real kernel's TAP case by case
  `npm run kernel` boots a real kernel and runs hmm-tests and cow in it. The
  guest's /init frames each program's output with "mmspec: begin" and
  "mmspec: end ... rc=" lines on the second serial port. The oracle reads
  the TAP lines in between (as kselftest.h prints them) and sets each case
  of the conformance table beside the engine's verdict. These scenarios give
  it TAP text and check its verdict, so a parser that misreads a line fails
  here and not in a kernel run.

  Rule: a case agrees when the kernel does what the engine's table says it does, and differs otherwise

    Scenario Outline: the kernel prints "<line>"; the engine's case is <engine>
      Given the guest printed on its test port:
        """
        mmspec: begin hmm-tests
        #  RUN           hmm.hmm_device_private.migrate ...
        <line>
        mmspec: end hmm-tests rc=0
        """
      When the oracle compares it with hmm-tests.c "hmm.hmm_device_private.migrate", which the engine's table marks <engine>
      Then the kernel's outcome is "<kernel>"
      And the oracle's verdict is "<verdict>"

      Examples:
        | line                                                       | engine       | kernel | verdict           |
        | ok 12 hmm.hmm_device_private.migrate                       | passed       | ok     | agree             |
        | not ok 12 hmm.hmm_device_private.migrate                   | passed       | not ok | differs           |
        | not ok 12 hmm.hmm_device_private.migrate                   | kernel fails | not ok | agree             |
        | ok 12 hmm.hmm_device_private.migrate                       | kernel fails | ok     | differs           |
        | ok 12 hmm.hmm_device_private.migrate # SKIP no hmm device  | passed       | skip   | skipped           |
        | ok 12 hmm.hmm_device_private.migrate                       | pending      | ok     | no engine verdict |
        | ok 12 hmm.hmm_device_private.migrate_fault                 | passed       | absent | absent            |

  Rule: cow.c puts its SKIP and XFAIL directives before the name, and an expected failure counts as ok

    Scenario Outline: cow.c prints "<line>"
      Given the guest printed on its test port:
        """
        mmspec: begin cow
        <line>
        mmspec: end cow rc=0
        """
      When the oracle compares it with cow.c "Basic COW after fork() ... with base page", which the engine's table marks passed
      Then the kernel's outcome is "<kernel>"
      And the oracle's verdict is "<verdict>"

      Examples:
        | line                                                  | kernel | verdict |
        | ok 1 Basic COW after fork() ... with base page        | ok     | agree   |
        | ok 1 # SKIP Basic COW after fork() ... with base page | skip   | skipped |
        | ok 1 # XFAIL Basic COW after fork() ... with base page | ok     | agree   |
        | not ok 1 Basic COW after fork() ... with base page    | not ok | differs |

    Scenario: 6.12's cow.c names the case on its [RUN] line and prints the check's message as the result
      Given the guest printed on its test port:
        """
        mmspec: begin cow
        # [RUN] Basic COW after fork() ... with base page
        not ok 1 Leak from parent into child
        mmspec: end cow rc=1
        """
      When the oracle compares it with cow.c "Basic COW after fork() ... with base page", which the engine's table marks passed
      Then the kernel's outcome is "not ok"
      And the oracle's verdict is "differs"
      And the oracle's note mentions "Leak from parent into child"

  Rule: a program that never ended leaves its unreported cases absent, and says so

    Scenario: hmm-tests stops after its first case (an Oops, a hang, the boot timeout)
      Given the guest printed on its test port:
        """
        mmspec: begin hmm-tests
        ok 1 hmm.hmm_device_private.open_close
        #  RUN           hmm.hmm_device_private.anon_read ...
        """
      When the oracle compares it with hmm-tests.c "hmm.hmm_device_private.anon_read", which the engine's table marks passed
      Then the oracle's verdict is "absent"
      And the oracle's note mentions "never finished"

  Rule: a difference kernel-tests.yaml records is reported with its reason and does not fail the run

    Scenario: the coherent THP benchmark fails on 7.2 with -ENOENT, as recorded
      Given the guest printed on its test port:
        """
        mmspec: begin hmm-tests
        # hmm-tests.c:2943:benchmark_thp_migration:Expected run_migration_benchmark(...) (-2) == 0 (0)
        not ok 70 hmm.hmm_device_coherent.benchmark_thp_migration
        mmspec: end hmm-tests rc=1
        """
      And kernel-tests.yaml records a difference for "hmm-tests.c hmm.hmm_device_coherent.benchmark_thp_migration" on "7.2": "one chunk exactly"
      When the oracle compares it with hmm-tests.c "hmm.hmm_device_coherent.benchmark_thp_migration", which the engine's table marks passed
      Then the oracle's verdict is "differs (recorded)"
      And the oracle's note mentions "one chunk exactly"
