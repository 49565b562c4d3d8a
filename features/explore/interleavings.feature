@explorer
Feature: Two operations interleaved at a preemption point
  A step can run another operation at a preemption point of the first
  (engine/kernel/sched.ts: a stretch where the task holds no lock the
  other operation waits for), as another thread or a driver would come in
  there; the explorer draws such interleavings itself. Where the first
  passes fewer points, the second runs after it.

  Background:
    Given the HMM test driver is loaded
    And a process A
    And process A maps 4 pages of private anonymous memory as buffer X
    And process A writes 0x5a to buffer X

  @kernel:dmirror_read @kernel:hmm_range_fault @room:hmm
  Rule: a munmap that comes in before the device's copy leaves the device nothing to read

    Scenario: HMM_DMIRROR_READ interrupted by a munmap of its buffer
      When "the private device reads buffer X of process A" is interrupted at preemption point 1 by "process A unmaps buffer X"
      Then the interruption came at "dmirror_read: before dmirror_do_read"
      And the command fails with -EFAULT

  @kernel:do_swap_page @kernel:dmirror_devmem_fault @room:memory
  Rule: a CPU fault on a device-private page that someone else holds a reference to makes no progress until the reference goes

    Scenario: the driver's reference keeps the page on the device
      Given the private device migrates page 0 of buffer X of process A to device memory
      And the device driver takes a reference to the THP behind page 0 of buffer X in process A
      When process A reads page 0 of buffer X
      Then the access keeps faulting without making progress
      When the device driver drops its reference
      And process A reads page 0 of buffer X
      Then process A read 0x5a
