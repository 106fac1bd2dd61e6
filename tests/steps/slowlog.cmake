# The slow log step, its statements, and the --enable-slow-log / --restore-slow-log action.
dbrunbook_test(steps_slowlog_test
  SOURCES slowlog_test.cc
  DEPS dbrunbook_app dbrunbook_steps dbrunbook_report dbrunbook_test_fakes)
# On the sandbox primary: the step, and the action through the real binary (as root over the
# socket, and as the monitor account that may not SET GLOBAL).
dbrunbook_test(steps_slowlog_integration_test
  SOURCES slowlog_integration_test.cc
  DEPS dbrunbook_steps dbrunbook_collect dbrunbook_test_sandbox nlohmann_json::nlohmann_json
  SANDBOX primary
  TIMEOUT 300)
