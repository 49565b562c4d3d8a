@runner @harness
Feature: The runner explains bad input
  These scenarios run cucumber-js itself, the way cucumber-js's own features
  do: each writes a scratch project into a temporary folder, runs the runner
  on it with this project's real support and step code, and reads what it
  printed. A feature file Gherkin cannot parse, a step no definition matches,
  a step two definitions match, and a step that misuses the engine must each
  fail the run with a message that says where and why, so that an author can
  fix the mistake without reading the harness code.

  Background:
    Given a scratch project

  Rule: a feature file that is not valid Gherkin fails the run, naming the file, line and column

    Scenario: a stray line among the steps is a parse error at that line
      Given a feature file "bad.feature" with:
        """gherkin
        Feature: bad
          Scenario: a stray line
            Given a process A
            process A does something
        """
      When the scratch project is run
      Then the run fails
      And the output mentions 'Parse error in "features/bad.feature" (4:5)'
      And the output mentions "got 'process A does something'"

  Rule: a step that no definition matches fails the run and shows a snippet to implement it

    Scenario: the snippet uses the project's parameter types
      Given a feature file "undefined.feature" with:
        """gherkin
        Feature: undefined
          Scenario: a step nobody wrote
            Given a process A
            And process A maps 4 pages of private anonymous memory as buffer X
            When process A defragments buffer X
        """
      When the scratch project is run
      Then the run fails
      And the output mentions "Undefined. Implement with the following snippet:"
      And the output mentions "When('{process} defragments {pages}', function"

  Rule: a step that two definitions match fails the run and names both definitions

    Scenario: a project step defined a second time is ambiguous
      Given a step file "extra_steps.ts" with:
        """typescript
        import { Given } from '@cucumber/cucumber';

        Given('a process {word}', () => {});
        """
      And a feature file "ambiguous.feature" with:
        """gherkin
        Feature: ambiguous
          Scenario: one step, two definitions
            Given a process A
        """
      When the scratch project is run
      Then the run fails
      And the output mentions "Multiple step definitions match:"
      And the output mentions "extra_steps/extra_steps.ts:3"
      And the output mentions "steps/process_steps.ts:"

  Rule: a step that misuses the engine fails its scenario and names the rule it broke

    Scenario: a process no step created
      Given a feature file "unknown_process.feature" with:
        """gherkin
        Feature: unknown process
          Scenario: process Z was never created
            Given a process A
            And process A maps 4 pages of private anonymous memory as buffer X
            When process Z reads buffer X
        """
      When the scratch project is run
      Then the run fails
      And the output mentions 'unknown process "Z": no step created it (known: A)'

    Scenario: a process that has exited
      Given a feature file "exited.feature" with:
        """gherkin
        Feature: exited process
          Scenario: process A touches memory after exit
            Given a process A
            And process A maps 4 pages of private anonymous memory as buffer X
            When process A exits
            And process A reads buffer X
        """
      When the scratch project is run
      Then the run fails
      And the output mentions "engine misuse (process has exited): A (pid"

  Rule: a failing scenario fails the run, but the other scenarios still run and are counted

    Scenario: one failing and one passing scenario
      Given a feature file "mixed.feature" with:
        """gherkin
        Feature: mixed
          Background:
            Given a process A
            And process A maps 4 pages of private anonymous memory as buffer X
            When process A writes 0x5a to page 0 of buffer X

          Scenario: claims the wrong count
            Then process A has 2 anonymous pages

          Scenario: claims the right count
            Then process A has 1 anonymous page
        """
      When the scratch project is run
      Then the run fails
      And the output mentions "2 scenarios (1 failed, 1 passed)"

  Rule: a failure message says what it compared, in the words and numbers of the pictures

    Scenario: a wrong refcount names the folio, its pfn, and both counts in one line
      Given a feature file "refcount.feature" with:
        """gherkin
        Feature: refcount
          Scenario: one mapping, one reference
            Given a process A
            And process A maps 1 page of private anonymous memory as buffer X
            When process A writes 0x5a to page 0 of buffer X
            Then the folio behind page 0 of buffer X in process A has refcount 2 and mapcount 1
        """
      When the scratch project is run
      Then the run fails
      And the output mentions "behind page 0 of buffer X in process A (pfn 0x"
      And the output mentions "refcount 1, expected 2; mapcount 1 as expected"

    Scenario: an errno is shown by its name and its number
      Given a feature file "errno.feature" with:
        """gherkin
        Feature: errno
          Scenario: a command that succeeds, claimed to fail
            Given the HMM test driver is loaded
            And a process A
            And process A maps 1 page of private anonymous memory as buffer X
            And process A writes 0x5a to buffer X
            When the private device reads buffer X of process A
            Then the command fails with -EFAULT
        """
      When the scratch project is run
      Then the run fails
      And the output mentions "expected the last operation to end in errno -EFAULT (-14)"

    Scenario: what a process read is labelled
      Given a feature file "read.feature" with:
        """gherkin
        Feature: read
          Scenario: a read of the zero page, claimed to be 0x5a
            Given a process A
            And process A maps 1 page of private anonymous memory as buffer X
            When process A reads page 0 of buffer X
            Then process A read 0x5a
        """
      When the scratch project is run
      Then the run fails
      And the output mentions "the value of each page process A read last (expected 0x5a on each)"

    Scenario: a broken invariant names its pfn in hex, as the pictures do
      Given a feature file "pfn.feature" with:
        """gherkin
        Feature: pfn
          Scenario: the old DAX design's removal, the broken rule not claimed
            Given a process A
            And the kernel uses the old devmap refcount design
            And a DAX file "pm" of 2 pages, page i holding 0x70 + i
            And process A maps file "pm" shared as buffer D
            And process A reads page 0 of buffer D
            When the pmem device is removed
            Then the device removal has completed
        """
      When the scratch project is run
      Then the run fails
      And the output mentions 'invariant "a PTE never maps memory whose pagemap is gone" violated at pfn 0x'

  Rule: an undefined step gets a snippet that is valid JavaScript, and the closest existing phrases

    Scenario: a parameter type's name makes a valid JavaScript parameter
      Given a feature file "mremap.feature" with:
        """gherkin
        Feature: mremap
          Scenario: a step nobody wrote, with mremap flags in it
            Given a process A
            And process A maps 4 pages of private anonymous memory as buffer X
            When process A folds buffer X after an mremap(MREMAP_MAYMOVE | MREMAP_FIXED) of it
        """
      When the scratch project is run
      Then the run fails
      And the output mentions "{mremap_flags}"
      And the output mentions ", mremap_flags) {"

    Scenario: a misspelt step is shown the three phrases closest to it
      Given a feature file "misspelt.feature" with:
        """gherkin
        Feature: misspelt
          Scenario: bufer for buffer
            Given a process A
            And process A maps 4 pages of private anonymous memory as buffer X
            When process A writes 0x5a to page 0 of bufer X
        """
      When the scratch project is run with the default profile and ''
      Then the run fails
      And the output mentions 'Undefined step "process A writes 0x5a to page 0 of bufer X" (features/misspelt.feature): the closest existing phrases are'
      And the output mentions "  {process} writes {value} to {pages}    ("
      And the output mentions "reports/site/steps.html"
