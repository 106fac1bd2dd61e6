# CTest fixtures for the sandbox servers (scripts/sandbox), in ${DBRUNBOOK_SANDBOX_DIR}.
#
#   sandbox_primary   sandbox_primary_start (setup) ... sandbox_primary_stop (cleanup)
#   sandbox_replica   sandbox_replica_start (setup) ... sandbox_replica_stop (cleanup);
#                     a GTID replica of the primary
#   sandbox_fo_primary, sandbox_fo_replica
#                     a second pair, for `mitigate failover` only (it promotes the replica and
#                     fences the primary: the shared pair must never be failed over)
#   sandbox_wfo_primary, sandbox_wfo_replica
#                     a third pair, for the watch daemon's failover (watch_actions_test)
#
# Tests declare what they need with FIXTURES_REQUIRED (dbrunbook_test(... SANDBOX primary
# replica) does it); CTest then adds the setup and cleanup tests to the run, even with -R.
# Every run starts its servers --fresh: no test depends on a server left from an earlier run.
#
# Ordering: a fixture's cleanup runs after every test that requires the fixture. Both replica
# tests require sandbox_primary, so the primary starts before the replica and stops only after
# the replica has stopped (requiring sandbox_replica pulls in sandbox_primary transitively).
# If the primary fails to start, the replica tests are not run.

set(_sandbox ${PROJECT_SOURCE_DIR}/scripts/sandbox)
# Fixture starts try twice: a server start is infrastructure here (scripts/sandbox's own tests
# in tests/scripts test it strictly), and a rare failure must not cancel every integration
# test. The first attempt's output stays in the log.
set(_start_twice ${CMAKE_CURRENT_SOURCE_DIR}/start_twice.sh)
set(_sandbox_env "DBRUNBOOK_SANDBOX_DIR=${DBRUNBOOK_SANDBOX_DIR}")

add_test(NAME sandbox_primary_start COMMAND ${_start_twice} ${_sandbox} start primary --fresh)
set_tests_properties(sandbox_primary_start PROPERTIES
  FIXTURES_SETUP sandbox_primary
  ENVIRONMENT "${_sandbox_env}"
  TIMEOUT 120
  LABELS "integration;sandbox")

add_test(NAME sandbox_primary_stop COMMAND ${_sandbox} stop primary)
set_tests_properties(sandbox_primary_stop PROPERTIES
  FIXTURES_CLEANUP sandbox_primary
  ENVIRONMENT "${_sandbox_env}"
  TIMEOUT 120
  LABELS "integration;sandbox")

add_test(NAME sandbox_replica_start
  COMMAND ${_start_twice} ${_sandbox} start replica --replica-of primary --fresh)
set_tests_properties(sandbox_replica_start PROPERTIES
  FIXTURES_SETUP sandbox_replica
  FIXTURES_REQUIRED sandbox_primary
  ENVIRONMENT "${_sandbox_env}"
  TIMEOUT 120
  LABELS "integration;sandbox")

add_test(NAME sandbox_replica_stop COMMAND ${_sandbox} stop replica)
set_tests_properties(sandbox_replica_stop PROPERTIES
  FIXTURES_CLEANUP sandbox_replica
  FIXTURES_REQUIRED sandbox_primary
  ENVIRONMENT "${_sandbox_env}"
  TIMEOUT 120
  LABELS "integration;sandbox")

# The failover test's own pair (tests/app/failover_cli_test.cc): started --fresh, never shared.
add_test(NAME sandbox_fo_primary_start COMMAND ${_start_twice} ${_sandbox} start fo_primary --fresh)
set_tests_properties(sandbox_fo_primary_start PROPERTIES
  FIXTURES_SETUP sandbox_fo_primary
  ENVIRONMENT "${_sandbox_env}"
  TIMEOUT 120
  LABELS "integration;sandbox")

add_test(NAME sandbox_fo_primary_stop COMMAND ${_sandbox} stop fo_primary)
set_tests_properties(sandbox_fo_primary_stop PROPERTIES
  FIXTURES_CLEANUP sandbox_fo_primary
  ENVIRONMENT "${_sandbox_env}"
  TIMEOUT 120
  LABELS "integration;sandbox")

add_test(NAME sandbox_fo_replica_start
  COMMAND ${_start_twice} ${_sandbox} start fo_replica --replica-of fo_primary --fresh)
set_tests_properties(sandbox_fo_replica_start PROPERTIES
  FIXTURES_SETUP sandbox_fo_replica
  FIXTURES_REQUIRED sandbox_fo_primary
  ENVIRONMENT "${_sandbox_env}"
  TIMEOUT 120
  LABELS "integration;sandbox")

add_test(NAME sandbox_fo_replica_stop COMMAND ${_sandbox} stop fo_replica)
set_tests_properties(sandbox_fo_replica_stop PROPERTIES
  FIXTURES_CLEANUP sandbox_fo_replica
  FIXTURES_REQUIRED sandbox_fo_primary
  ENVIRONMENT "${_sandbox_env}"
  TIMEOUT 120
  LABELS "integration;sandbox")

# The watch daemon's test server (tests/daemon/watch_daemon_test.cc): its own, because the
# test stops it to see the daemon call it unavailable.
add_test(NAME sandbox_watchdb_start COMMAND ${_start_twice} ${_sandbox} start watchdb --fresh)
set_tests_properties(sandbox_watchdb_start PROPERTIES
  FIXTURES_SETUP sandbox_watchdb
  ENVIRONMENT "${_sandbox_env}"
  TIMEOUT 120
  LABELS "integration;sandbox")

add_test(NAME sandbox_watchdb_stop COMMAND ${_sandbox} stop watchdb)
set_tests_properties(sandbox_watchdb_stop PROPERTIES
  FIXTURES_CLEANUP sandbox_watchdb
  ENVIRONMENT "${_sandbox_env}"
  TIMEOUT 120
  LABELS "integration;sandbox")

# The server of the daemon's end-to-end tests whose cause is a statement of their own (read
# only: watch_live_test, watch_notify_test, incident_report_e2e_test). Not the shared primary:
# their daemons watch the processlist, which the primary's other tests fill, and the primary's
# tests are the suite's longest serial path.
add_test(NAME sandbox_daemondb_start COMMAND ${_start_twice} ${_sandbox} start daemondb --fresh)
set_tests_properties(sandbox_daemondb_start PROPERTIES
  FIXTURES_SETUP sandbox_daemondb
  ENVIRONMENT "${_sandbox_env}"
  TIMEOUT 120
  LABELS "integration;sandbox")

add_test(NAME sandbox_daemondb_stop COMMAND ${_sandbox} stop daemondb)
set_tests_properties(sandbox_daemondb_stop PROPERTIES
  FIXTURES_CLEANUP sandbox_daemondb
  ENVIRONMENT "${_sandbox_env}"
  TIMEOUT 120
  LABELS "integration;sandbox")

# The watch daemon's failover pair (tests/daemon/watch_actions_test.cc): the daemon fails it
# over, and the test stops and restarts its primary.
add_test(NAME sandbox_wfo_primary_start
  COMMAND ${_start_twice} ${_sandbox} start wfo_primary --fresh)
set_tests_properties(sandbox_wfo_primary_start PROPERTIES
  FIXTURES_SETUP sandbox_wfo_primary
  ENVIRONMENT "${_sandbox_env}"
  TIMEOUT 120
  LABELS "integration;sandbox")

add_test(NAME sandbox_wfo_primary_stop COMMAND ${_sandbox} stop wfo_primary)
set_tests_properties(sandbox_wfo_primary_stop PROPERTIES
  FIXTURES_CLEANUP sandbox_wfo_primary
  ENVIRONMENT "${_sandbox_env}"
  TIMEOUT 120
  LABELS "integration;sandbox")

add_test(NAME sandbox_wfo_replica_start
  COMMAND ${_start_twice} ${_sandbox} start wfo_replica --replica-of wfo_primary --fresh)
set_tests_properties(sandbox_wfo_replica_start PROPERTIES
  FIXTURES_SETUP sandbox_wfo_replica
  FIXTURES_REQUIRED sandbox_wfo_primary
  ENVIRONMENT "${_sandbox_env}"
  TIMEOUT 120
  LABELS "integration;sandbox")

add_test(NAME sandbox_wfo_replica_stop COMMAND ${_sandbox} stop wfo_replica)
set_tests_properties(sandbox_wfo_replica_stop PROPERTIES
  FIXTURES_CLEANUP sandbox_wfo_replica
  FIXTURES_REQUIRED sandbox_wfo_primary
  ENVIRONMENT "${_sandbox_env}"
  TIMEOUT 120
  LABELS "integration;sandbox")
