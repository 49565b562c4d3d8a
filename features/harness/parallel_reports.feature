@runner @harness
Feature: The parallel profile reports every scenario
  The parallel profile of cucumber.js runs scenarios in two worker processes.
  Each worker reports to the coordinator, which alone writes the reports, so
  no scenario may go missing from Cucumber's messages or from the Allure
  results, and none may be reported twice. This scenario runs cucumber-js
  itself with that profile on a scratch project of six scenarios in three
  files, using this project's real steps, and counts what it wrote.

  Rule: with the parallel profile, every scenario gets exactly one Allure result

    Scenario: six scenarios in three files give six Allure results
      Given a scratch project
      And a feature file "reads.feature" with:
        """gherkin
        Feature: reads
          Background:
            Given a process A
            And process A maps 4 pages of private anonymous memory as buffer X

          Scenario: a read maps the zero page
            When process A reads buffer X
            Then in process A, buffer X is the zero page

          Scenario: a read allocates nothing
            When process A reads buffer X
            Then process A has 0 anonymous pages
        """
      And a feature file "writes.feature" with:
        """gherkin
        Feature: writes
          Background:
            Given a process A
            And process A maps 4 pages of private anonymous memory as buffer X

          Scenario: a write maps a writable page
            When process A writes 0x5a to page 0 of buffer X
            Then in process A, page 0 of buffer X is mapped writable

          Scenario: a write allocates one page per page written
            When process A writes 0x5a to pages 0-1 of buffer X
            Then process A has 2 anonymous pages
        """
      And a feature file "faults.feature" with:
        """gherkin
        Feature: faults
          Background:
            Given a process A
            And process A maps 4 pages of private anonymous memory as buffer X

          Scenario: the zero page is copied on write
            Given process A reads page 0 of buffer X
            When process A writes 0x77 to page 0 of buffer X
            Then page 0 of buffer X in process A holds 0x77

          Scenario: unmapped memory raises SIGSEGV
            Given process A unmaps buffer X
            When process A reads page 2 of buffer X
            Then the access fails with SIGSEGV
        """
      When the scratch project is run with the parallel profile
      Then the run passes
      And the run executed 6 scenarios
      And every scenario ran in one of 2 worker processes
      And the scratch project holds one Allure result per scenario
