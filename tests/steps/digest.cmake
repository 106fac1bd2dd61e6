# The statement digest step: snapshots compared (unit) and a real workload on the sandbox.
dbrunbook_test(steps_digest_test
  SOURCES digest_test.cc
  DEPS dbrunbook_steps dbrunbook_report dbrunbook_test_fakes)
dbrunbook_test(steps_digest_integration_test
  SOURCES digest_integration_test.cc
  DEPS dbrunbook_steps dbrunbook_collect dbrunbook_test_sandbox nlohmann_json::nlohmann_json
  SANDBOX primary
  TIMEOUT 300)
