# mitigate kill-queries: matching, guardrails, re-check and verification over a fake session.
dbrunbook_test(steps_mitigate_kill_test
  SOURCES mitigate_kill_test.cc
  DEPS dbrunbook_steps dbrunbook_test_fakes)

# The same against the primary sandbox: a reused connection id (the victim's statement replaced
# between plan and kill) is not killed.
dbrunbook_test(steps_mitigate_kill_integration_test
  SOURCES mitigate_kill_integration_test.cc
  DEPS dbrunbook_steps dbrunbook_collect dbrunbook_test_sandbox
  SANDBOX primary
  TIMEOUT 120)

# mitigate tune: each advice rule on chosen counters and on recorded variables of real servers
# (no query cache advice on MySQL 8, redo capacity on 8.0.30+, no redo advice on Aurora), the
# bounds, the SET statements and the apply/verify loop over a fake session.
dbrunbook_test(steps_mitigate_tune_test
  SOURCES mitigate_tune_test.cc
  DEPS dbrunbook_steps dbrunbook_test_fakes)

# mitigate index: the WHERE-clause analysis, plans captured on MariaDB 10.11, the candidate
# derivation, names, guardrails and statements per flavor (pure, no server).
dbrunbook_test(steps_mitigate_index_test
  SOURCES mitigate_index_test.cc
  DEPS dbrunbook_steps dbrunbook_test_fakes)

# mitigate index against the primary sandbox: an index created between plan and apply (same
# name, or covering the columns) is not added again; unchanged, it is added and verified.
dbrunbook_test(steps_mitigate_index_integration_test
  SOURCES mitigate_index_integration_test.cc
  DEPS dbrunbook_steps dbrunbook_collect dbrunbook_test_sandbox
  SANDBOX primary
  TIMEOUT 120)
