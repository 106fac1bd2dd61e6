# The locks investigation (src/steps/investigate_locks.*, lock_tree.*, dialect/locks.*,
# collect/innodb_status.*): unit tests with recorded outputs, the InnoDB status parser against
# every recorded format, and integration tests that create lock chains and a deadlock for real.
dbrunbook_test(steps_locks_test
  SOURCES locks_test.cc locks_tree_test.cc
  DEPS dbrunbook_steps dbrunbook_report dbrunbook_test_fakes)

dbrunbook_test(collect_innodb_status_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/../collect/innodb_status_test.cc
  DEPS dbrunbook_collect dbrunbook_test_fakes)

dbrunbook_test(steps_locks_integration_test
  SOURCES locks_integration_test.cc
  DEPS dbrunbook_steps dbrunbook_collect dbrunbook_test_sandbox nlohmann_json::nlohmann_json
  SANDBOX primary
  TIMEOUT 300)
