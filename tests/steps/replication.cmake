# The replication investigation step: unit tests on recorded replica-status outputs of every
# flavor (FakeSession), and integration tests that break and lag the sandbox replica for real.
dbrunbook_test(steps_replication_test
  SOURCES replication_test.cc
  DEPS dbrunbook_steps dbrunbook_report dbrunbook_test_fakes)
dbrunbook_test(steps_replication_integration_test
  SOURCES replication_integration_test.cc
  DEPS dbrunbook_steps dbrunbook_collect dbrunbook_test_sandbox nlohmann_json::nlohmann_json
  SANDBOX primary replica
  TIMEOUT 300)
