Feature: The THP mode decides whether a write fault may map a THP
  /sys/kernel/mm/transparent_hugepage/enabled is "always", "madvise" or
  "never". In "always" mode every large enough anonymous range may get a
  THP; in "madvise" mode (what these machines run) only a range marked
  MADV_HUGEPAGE; in "never" mode none, with or without the advice
  (thp_vma_allowable_order, hugepage_global_enabled). MADV_NOHUGEPAGE opts a
  range out in every mode.

  @kernel:thp_vma_allowable_order @kernel:__thp_vma_allowable_orders @room:huge_memory
  Rule: a first write maps a THP only where the mode and the range's advice allow it

    Scenario Outline: in "<mode>" mode, a write to a range <advised> maps <result>
      Given transparent hugepages are <mode>
      And a process A
      And process A maps 2 MiB of private anonymous memory as buffer T
      And process A advises <advice> on buffer T
      When process A writes 0x5a to page 0 of buffer T
      Then in process A, page 0 of buffer T is <state>
      And process A has <rss> anonymous pages

      Examples:
        | mode    | advised                | advice          | result        | state               | rss |
        | always  | given MADV_HUGEPAGE    | MADV_HUGEPAGE   | a THP         | PMD-mapped writable | 512 |
        | madvise | given MADV_HUGEPAGE    | MADV_HUGEPAGE   | a THP         | PMD-mapped writable | 512 |
        | never   | given MADV_HUGEPAGE    | MADV_HUGEPAGE   | a small page  | mapped writable     | 1   |
        | always  | given MADV_NOHUGEPAGE  | MADV_NOHUGEPAGE | a small page  | mapped writable     | 1   |
        | madvise | given MADV_NOHUGEPAGE  | MADV_NOHUGEPAGE | a small page  | mapped writable     | 1   |
