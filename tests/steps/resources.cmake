# The resources investigation (src/steps/investigate_resources.*, index_analysis.*,
# dialect/resources.*): unit tests of the redundancy rules and of the step replaying output
# captured on MariaDB 10.11 (statement choice per flavor), and integration tests that build a
# schema with unused, duplicate and redundant indexes on the sandbox primary and compare the
# duplicates with pt-duplicate-key-checker.
dbrunbook_test(steps_resources_test
  SOURCES resources_test.cc index_analysis_test.cc
  DEPS dbrunbook_steps dbrunbook_report dbrunbook_test_fakes)

dbrunbook_test(steps_resources_integration_test
  SOURCES resources_integration_test.cc
  DEPS dbrunbook_steps dbrunbook_collect dbrunbook_test_sandbox nlohmann_json::nlohmann_json
  SANDBOX primary
  TIMEOUT 300)
