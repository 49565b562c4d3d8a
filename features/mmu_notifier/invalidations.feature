Feature: MMU notifier invalidations fired by each operation
  A device that mirrors a process's page tables (HMM, an IOMMU, a GPU)
  subscribes an interval notifier on a range and must drop its copy of a
  mapping whenever the CPU's mapping changes. Each mm operation announces the
  change with invalidate_range_start/end and an event saying why.

  Background:
    Given a process A
    And process A maps 4 pages of private anonymous memory as buffer X
    And process A writes 0x5a to buffer X
    And an MMU interval notifier on buffer X in process A

  @kernel:copy_page_range @room:mmu_notifier
  Rule: fork write-protects the parent's private pages: MMU_NOTIFY_PROTECTION_PAGE over the whole VMA

    Scenario: fork fires one PROTECTION_PAGE invalidation on the parent
      When process A forks process B
      Then the notifier on buffer X in process A saw exactly:
        | event                      | pages |
        | MMU_NOTIFY_PROTECTION_PAGE | 0-3   |

  @kernel:wp_page_copy @room:mmu_notifier
  Rule: breaking CoW invalidates the one page that changes: MMU_NOTIFY_CLEAR

    Scenario: the parent's write after fork clears one page
      Given process A forks process B
      When process A writes 0x1 to page 2 of buffer X
      Then the notifier on buffer X in process A saw MMU_NOTIFY_CLEAR over page 2 of buffer X

  @kernel:do_vmi_munmap @kernel:madvise_dontneed_single_vma @kernel:change_protection @room:mmu_notifier
  Rule: each operation names itself in the event

    Scenario Outline: <operation> fires <event>
      When process A <operation>
      Then the notifier on buffer X in process A saw exactly:
        | event   | pages   |
        | <event> | <pages> |

      Examples:
        | operation                                  | event                     | pages |
        | unmaps pages 1-2 of buffer X               | MMU_NOTIFY_UNMAP          | 1-2   |
        | advises MADV_DONTNEED on buffer X          | MMU_NOTIFY_CLEAR          | 0-3   |
        | makes buffer X read-only                   | MMU_NOTIFY_PROTECTION_VMA | 0-3   |
        | exits                                      | MMU_NOTIFY_RELEASE        | 0-3   |

  @kernel:do_anonymous_page @room:mmu_notifier
  Rule: populating a page that was not mapped needs no invalidation

    Scenario: a first-touch write fires nothing
      Given process A maps 2 pages of private anonymous memory as buffer Y
      And an MMU interval notifier on buffer Y in process A
      When process A writes 0x1 to buffer Y
      Then the notifier on buffer Y in process A saw nothing
