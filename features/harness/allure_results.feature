@runner @harness
Feature: Allure shows each scenario's claim, memory kind, kernel functions and verdict
  A reviewer reads Allure by claim (story), memory kind (epic) and topic
  (feature). The claims and kernel functions are tagged on Rule: lines, which
  allure-cucumberjs does not read, so support/allure_reporter.js gives every
  result the tags its pickle inherits. A scenario whose expectation is that
  its design breaks a kernel rule must not show as a plain pass. This runs
  cucumber-js with the project's profile on a scratch project and reads the
  Allure results it wrote.

  Background:
    Given a scratch project
    And the scratch project has the project's claims registry
    And a feature file "removal.feature" with:
      """gherkin
      @fs-dax
      Feature: Removing a pmem device
        Background:
          Given a process A

        @claim:S003-3 @kernel:memunmap_pages @kernel:insert_pfn
        Rule: old design: removal does not wait for DAX mappings
          The PTE is left pointing at memory that no longer exists.

          Scenario: the device goes while process A still maps its page
            Given the kernel uses the old devmap refcount design
            And a DAX file "pm" of 2 pages, page i holding 0x70 + i
            And process A maps file "pm" shared as buffer D
            And process A reads page 0 of buffer D
            When the pmem device is removed
            Then the device removal has completed
            And the debug checks report "a PTE never maps memory whose pagemap is gone"

        @claim:S003-5 @kernel:memunmap_pages
        Rule: fixed design: removal waits until no process maps the device's pages

          Scenario: removal waits while process A maps a page
            Given the kernel uses the fixed devmap refcount design
            And FS-DAX device removal waits for pages still in use, as the October 2021 thread proposed
            And a DAX file "pm" of 2 pages, page i holding 0x70 + i
            And process A maps file "pm" shared as buffer D
            And process A reads page 0 of buffer D
            When the pmem device is removed
            Then the device removal waits for pages still in use
      """
    When the scratch project is run with the default profile and ''
    Then the run passes

  Rule: a claim tagged on a Rule is the story of each of its scenarios, with a link to its source message

    Scenario: the story label and the claim's source link come from the Rule's @claim tag
      Then the Allure result "the device goes while process A still maps its page" has the label story "S003-3"
      And the Allure result "removal waits while process A maps a page" has the label story "S003-5"
      And the Allure result "the device goes while process A still maps its page" links to "../threads/003_"

  Rule: @fs-dax files a scenario under the FS-DAX epic

    Scenario: both scenarios are in the FS-DAX epic
      Then the Allure result "the device goes while process A still maps its page" has the label epic "FS-DAX memory"
      And the Allure result "removal waits while process A maps a page" has the label epic "FS-DAX memory"

  Rule: every @kernel tag of the Rule is a link, and the Rule's claim is the description

    Scenario: kernel links and the Rule's text
      Then the Allure result "the device goes while process A still maps its page" links to "https://elixir.bootlin.com/linux/latest/A/ident/insert_pfn"
      And the Allure result "the device goes while process A still maps its page" links to "https://elixir.bootlin.com/linux/latest/A/ident/memunmap_pages"
      And the Allure result "the device goes while process A still maps its page" has a description with "**Rule:** old design: removal does not wait for DAX mappings"
      And the Allure result "the device goes while process A still maps its page" has a description with "The PTE is left pointing at memory that no longer exists."
      And the Allure result "the device goes while process A still maps its page" has the label subSuite "old design: removal does not wait for DAX mappings"

  Rule: a design that breaks is marked as such, never a plain pass

    Scenario: the old design's scenario carries the verdict and the broken rule; the fixed one does not
      Then the Allure result "the device goes while process A still maps its page" has the label verdict "design breaks"
      And the Allure result "the device goes while process A still maps its page" has the status message "design breaks: a PTE never maps memory whose pagemap is gone"
      And the Allure result "removal waits while process A maps a page" has no label verdict
      And the scratch project's Allure categories file the broken design under "Design breaks (claimed)"
