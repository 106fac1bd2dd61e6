dbrunbook_test(steps_queries_test
  SOURCES queries_test.cc
  DEPS dbrunbook_steps dbrunbook_test_fakes)

dbrunbook_test(steps_queries_integration_test
  SOURCES queries_integration_test.cc
  DEPS dbrunbook_steps dbrunbook_collect dbrunbook_test_sandbox nlohmann_json::nlohmann_json
  SANDBOX primary
  TIMEOUT 300)
