@runner @harness
Feature: Focused runs leave the published results alone
  An author runs one scenario, or a few, many times while writing them; a
  reviewer reads the report of the last full run. A focused run (a
  file:LINE, --name, --tags, --dry-run, a shard) runs just what it names and
  writes its results to reports/last/, and the full run's results in
  reports/ stay as they were, so `npm run report` and the checks keep
  describing the whole suite. These scenarios run cucumber-js itself with the
  project's own cucumber.js on a scratch project of three scenarios.

  Background:
    Given a scratch project
    And a feature file "reads.feature" with:
      """gherkin
      Feature: reads
        Background:
          Given a process A
          And process A maps 4 pages of private anonymous memory as buffer X

        @zero
        Scenario: a read maps the zero page
          When process A reads buffer X
          Then in process A, buffer X is the zero page

        Scenario: a read allocates nothing
          When process A reads buffer X
          Then process A has 0 anonymous pages

        Scenario: a write allocates a page
          When process A writes 0x5a to page 0 of buffer X
          Then process A has 1 anonymous pages
      """

  Rule: a file:LINE runs that scenario alone, even though the profile has a default path

    Scenario: features/reads.feature:11 runs the scenario at line 11
      When the scratch project is run with the default profile and 'features/reads.feature:11'
      Then the run passes
      And the focused run's results hold the scenarios "a read allocates nothing"

  Rule: a focused run writes reports/last/ and never replaces the full run's results

    Scenario Outline: a run with <focus> leaves reports/ as the full run left it
      Given the scratch project is run with the default profile and ""
      When the scratch project is run with the default profile and '<focus>'
      Then the run passes
      And the published results hold the scenarios "a read maps the zero page, a read allocates nothing, a write allocates a page"
      And the focused run's results hold the scenarios "<ran>"

      Examples:
        | focus                             | ran                                         |
        | features/reads.feature:7          | a read maps the zero page                   |
        | --name "allocates a page"         | a write allocates a page                    |
        | --tags @zero                      | a read maps the zero page                   |
        | --shard 2/2                       | a read allocates nothing                    |
        | --tags "not @zero" --fail-fast    | a read allocates nothing, a write allocates a page |

    Scenario: a dry run leaves reports/ alone too
      Given the scratch project is run with the default profile and ""
      When the scratch project is run with the default profile and "--dry-run"
      Then the run passes
      And the published results hold the scenarios "a read maps the zero page, a read allocates nothing, a write allocates a page"

  Rule: npm run features passes its arguments to cucumber-js

    Scenario: npm run features -- --tags @zero runs the tagged scenario only
      When npm run features is run in the scratch project with "--tags @zero"
      Then the output mentions "partial run (--tags (@zero))"
      And the output mentions "1 passed, 0 failed"
      And the focused run's results hold the scenarios "a read maps the zero page"

  Rule: a shard that does not exist is an error that says so, and runs nothing

    Scenario Outline: --shard <shard> is refused
      When the scratch project is run with the default profile and "--shard <shard>"
      Then the run fails
      And the output mentions "<message>"
      And the output shows no stack trace
      And the scratch project has no "reports/last/messages.ndjson"

      Examples:
        | shard | message                                                  |
        | 3/2   | --shard 3/2: shard 3 of 2 does not exist                 |
        | 0/2   | --shard 0/2: shard 0 of 2 does not exist                 |
        | two   | --shard two: a shard is INDEX/TOTAL, two whole numbers   |

  Rule: npm run report builds from whole results only, and says in one sentence what is wrong

    Scenario: a killed worker's empty usage.json is one sentence, and no site is written
      Given the scratch project is run with the default profile and ""
      And the scratch project's "reports/usage.json" is emptied
      When npm run report is run in the scratch project
      Then the run fails
      And the output mentions "npm run report: reports/usage.json is empty: the run that wrote it did not finish its reports"
      And the output shows no stack trace
      And the scratch project has no "reports/site"

    Scenario: a full run stopped by a parse error is one sentence, and no site is written
      Given a feature file "zz_bad.feature" with:
        """gherkin
        Feature: bad
          Scenario: a stray line
            Given a process A
            process A does something
        """
      And the scratch project is run with the default profile and ""
      When npm run report is run in the scratch project
      Then the run fails
      And the output mentions "npm run report: the last run could not parse a feature file (features/zz_bad.feature"
      And the output shows no stack trace
      And the scratch project has no "reports/site"
