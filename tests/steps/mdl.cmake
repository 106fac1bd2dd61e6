# The metadata-lock and open-tables investigations (src/steps/investigate_mdl.*,
# investigate_open_tables.*, dialect/mdl.*): unit tests replaying output captured on MariaDB
# 10.11 and the shared recordings, and integration tests that create an ALTER TABLE pile-up
# (with and without the MDL instrument) for real on the sandbox primary.
dbrunbook_test(steps_mdl_test
  SOURCES mdl_test.cc open_tables_test.cc
  DEPS dbrunbook_steps dbrunbook_report dbrunbook_test_fakes)

dbrunbook_test(steps_mdl_integration_test
  SOURCES mdl_integration_test.cc
  DEPS dbrunbook_steps dbrunbook_collect dbrunbook_test_sandbox nlohmann_json::nlohmann_json
  SANDBOX primary
  TIMEOUT 300)
