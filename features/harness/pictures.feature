@runner @harness
Feature: The pictures mark only what the last When-step changed
  Each state picture draws in red what the scenario's latest When-step
  changed, and its text table lists those rows. Rows are compared by their
  cells: a new, longer row pads every line of the table anew, which once
  made every row red. This runs a scratch scenario with the project's
  profile and reads the picture's table from its Allure results.

  Rule: a row the When-step did not change is not marked changed, whatever the other rows' widths

    Scenario: writing to buffer X marks buffer X's row, not buffer Y's
      Given a scratch project
      And a feature file "two.feature" with:
        """gherkin
        Feature: two buffers
          Scenario: one write
            Given a process A
            And process A maps 1 page of private anonymous memory as buffer X
            And process A maps 1 page of private anonymous memory as buffer Y
            And process A reads buffer X
            And process A reads buffer Y
            When process A writes 0x5a to page 0 of buffer X
            Then page 0 of buffer X in process A holds 0x5a
        """
      When the scratch project is run with the default profile and ''
      Then the run passes
      And the last picture's list of changes names buffer X and not buffer Y
