#!/usr/bin/env bash
# Tests of scripts/sandbox. Fails loudly (exit 1, "FAIL: ..." on stderr) at the first problem.
#
#   sandbox_test.sh fixtures   against the servers the CTest fixtures started (sandbox_primary,
#                              sandbox_replica) in $DBRUNBOOK_SANDBOX_DIR
#   sandbox_test.sh usage      bad usage and error messages; starts no server
#   sandbox_test.sh lifecycle  starts, restarts and stops its own servers in
#                              $DBRUNBOOK_SANDBOX_DIR (not the fixtures' dir), and checks that
#                              no password is ever on a command line (strace) or in a file
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sandbox=${DBRUNBOOK_SOURCE_DIR:-$here/../..}/scripts/sandbox
[ -x "$sandbox" ] || {
  echo "FAIL: $sandbox is not executable" >&2
  exit 1
}
: "${DBRUNBOOK_SANDBOX_DIR:?DBRUNBOOK_SANDBOX_DIR must be set (ctest sets it)}"
export DBRUNBOOK_SANDBOX_DIR

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 700 "$tmp"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
ok() { echo "ok: $*"; }
expect_eq() { # got want what
  [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

readonly env_keys=(
  SANDBOX_NAME SANDBOX_HOST SANDBOX_PORT SANDBOX_SOCKET SANDBOX_DATADIR SANDBOX_DIR
  SANDBOX_SERVER_ID SANDBOX_MONITOR_USER SANDBOX_MONITOR_PASSWORD_FILE SANDBOX_DSN
  SANDBOX_SOCKET_DSN SANDBOX_TLS_CA SANDBOX_TLS_CERT SANDBOX_TLS_KEY SANDBOX_SLOW_LOG
  SANDBOX_ERROR_LOG SANDBOX_REPLICA_OF
)

# load NAME PREFIX: checks `scripts/sandbox env NAME` and sets PREFIX_PORT, PREFIX_SOCKET, ...
load() {
  local name=$1 prefix=$2 out vars
  out=$("$sandbox" env "$name") || fail "scripts/sandbox env $name failed"
  # Sourceable by a POSIX shell, with nounset: every line is a plain quoted assignment.
  env -i /bin/sh -euc "$out" || fail "env $name output is not sourceable by sh: $out"
  vars=$(
    eval "$out"
    for k in "${env_keys[@]}"; do
      [ -n "${!k+set}" ] || {
        echo "env $name lacks $k" >&2
        exit 1
      }
      printf '%s_%s=%q\n' "$prefix" "${k#SANDBOX_}" "${!k}"
    done
  ) || fail "env $name is incomplete"
  eval "$vars"
  local file_var=${prefix}_DIR
  diff <(printf '%s\n' "$out") "${!file_var}/env" >/dev/null ||
    fail "env $name output differs from ${!file_var}/env"
  local n
  n=$(grep -cv '^SANDBOX_[A-Z_]*=' <<<"$out" || true)
  expect_eq "$n" 0 "lines of env $name that are not KEY=value"
}

# Option file with the monitor credentials, so that the password is never on a command line.
# --defaults-file (rather than --defaults-extra-file) also keeps /etc/mysql out of the test.
monitor_cnf() { # PREFIX -> path
  local prefix=$1 user_var=${1}_MONITOR_USER pw_var=${1}_MONITOR_PASSWORD_FILE f
  f=$tmp/$prefix-monitor.cnf
  (
    umask 077
    printf '[client]\nuser=%s\npassword=' "${!user_var}"
    cat "${!pw_var}"
    printf '\n'
  ) >"$f"
  printf '%s' "$f"
}

# mon PREFIX [client args]: the monitor user over TCP.
mon() {
  local prefix=$1 port_var=${1}_PORT
  shift
  mariadb --defaults-file="$(monitor_cnf "$prefix")" --batch --skip-column-names \
    --host=127.0.0.1 --port="${!port_var}" "$@"
}

# root NAME [client args]: root over the socket, through scripts/sandbox sql.
root() {
  local name=$1
  shift
  "$sandbox" sql "$name" --batch --skip-column-names "$@"
}

var() { # NAME VARIABLE
  root "$1" -e "SELECT @@GLOBAL.$2"
}

slave_field() { # NAME FIELD
  "$sandbox" sql "$1" --vertical -e 'SHOW SLAVE STATUS' |
    awk -v f="$2" -F': ' '{ sub(/^ +/, "") } $1 == f { print substr($0, length(f) + 3); exit }'
}

# The password files (and repl's) must not show up in `ps` or any file but their own.
check_no_password_leak() {
  local f
  for f in "$@"; do
    [ -s "$f" ] || fail "password file $f is missing or empty"
    # -f: the pattern comes from the file; putting it on grep's command line would leak it.
    # No -q: an early exit of grep would fail ps with SIGPIPE and, with pipefail, hide a match.
    # shellcheck disable=SC2009 # pgrep matches names, not every argument
    if ps -eo args | grep -F -f "$f" >/dev/null; then
      fail "a password from $f appears in ps -eo args"
    fi
  done
}

check_password_file() { # FILE
  local mode
  mode=$(stat -c %a "$1")
  expect_eq "$mode" 600 "mode of $1"
  [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" != '\n' ] || fail "$1 ends with a newline"
}

mode_fixtures() {
  load primary P
  load replica R
  ok "env output of both servers parses and has every key"

  expect_eq "$P_NAME" primary "SANDBOX_NAME"
  expect_eq "$P_HOST" 127.0.0.1 "SANDBOX_HOST"
  expect_eq "$P_REPLICA_OF" "" "SANDBOX_REPLICA_OF of the primary"
  expect_eq "$R_REPLICA_OF" primary "SANDBOX_REPLICA_OF of the replica"
  expect_eq "$P_MONITOR_USER" monitor "SANDBOX_MONITOR_USER"
  expect_eq "$P_DSN" "mysql://monitor@127.0.0.1:$P_PORT/" "SANDBOX_DSN"
  expect_eq "$P_SOCKET_DSN" "mysql://monitor@localhost/?socket=$P_SOCKET" "SANDBOX_SOCKET_DSN"
  [ "$P_PORT" != "$R_PORT" ] || fail "primary and replica share port $P_PORT"
  [ "$P_SERVER_ID" != "$R_SERVER_ID" ] || fail "primary and replica share server_id"
  [ -S "$P_SOCKET" ] || fail "the primary's socket $P_SOCKET is missing"
  [ -S "$R_SOCKET" ] || fail "the replica's socket $R_SOCKET is missing"
  for f in "$P_TLS_CA" "$P_TLS_CERT" "$P_TLS_KEY" "$P_ERROR_LOG" "$P_DIR/my.cnf"; do
    [ -s "$f" ] || fail "$f is missing or empty"
  done
  check_password_file "$P_MONITOR_PASSWORD_FILE"
  check_password_file "$P_DIR/repl.password"
  cmp -s "$P_MONITOR_PASSWORD_FILE" "$R_MONITOR_PASSWORD_FILE" ||
    fail "the replica's monitor password differs from the primary's"
  ok "env values are consistent; password files are 0600 without a trailing newline"

  local s
  for s in primary replica; do
    expect_eq "$(root $s -e 'SELECT 1')" 1 "SELECT 1 on $s as root"
  done
  expect_eq "$(var primary server_id)" "$P_SERVER_ID" "server_id of the primary"
  expect_eq "$(var replica server_id)" "$R_SERVER_ID" "server_id of the replica"
  expect_eq "$(var primary port)" "$P_PORT" "port of the primary"
  ok "both servers answer"

  for p in P R; do
    expect_eq "$(mon $p -e 'SELECT CURRENT_USER()')" "monitor@%" "monitor over TCP ($p)"
    local sock_var=${p}_SOCKET
    expect_eq "$(mariadb --defaults-file="$(monitor_cnf $p)" --batch --skip-column-names \
      --socket="${!sock_var}" -e 'SELECT CURRENT_USER()')" "monitor@%" "monitor over the socket ($p)"
  done
  ok "monitor logs in over TCP and the socket on both servers"

  local want got
  # shellcheck disable=SC2016 # backquotes are SQL identifier quotes
  want=$(printf '%s\n' \
    'GRANT PROCESS, BINLOG MONITOR, SLAVE MONITOR ON *.* TO `monitor`@`%`' \
    'GRANT SELECT ON `performance_schema`.* TO `monitor`@`%`' \
    'GRANT SELECT, EXECUTE ON `sys`.* TO `monitor`@`%`' | sort)
  for p in P R; do
    got=$(mon $p -e 'SHOW GRANTS' | sed "s/ IDENTIFIED BY PASSWORD '[^']*'//" | sort)
    [ "$got" = "$want" ] || fail "SHOW GRANTS for monitor ($p):"$'\n'"$got"$'\n'"want:"$'\n'"$want"
  done
  # The grants work as documented: sys views (they need EXECUTE for sys functions), replication
  # status; and nothing beyond: no mysql.* reads, no writes.
  mon P -e 'SELECT COUNT(*) FROM sys.processlist' >/dev/null || fail "monitor cannot read sys.processlist"
  mon R -e 'SHOW SLAVE STATUS' >/dev/null || fail "monitor cannot run SHOW SLAVE STATUS"
  mon P -e 'SHOW MASTER STATUS' >/dev/null || fail "monitor cannot run SHOW MASTER STATUS"
  if mon P -e 'SELECT COUNT(*) FROM mysql.user' >/dev/null 2>&1; then
    fail "monitor can read mysql.user"
  fi
  if mon P -e 'CREATE DATABASE sandbox_monitor_must_not' >/dev/null 2>&1; then
    fail "monitor can create a database"
  fi
  ok "monitor has exactly the documented grants"

  for s in primary replica; do
    expect_eq "$(var $s performance_schema)" 1 "performance_schema on $s"
    expect_eq "$(root $s -e "SELECT ENABLED FROM performance_schema.setup_instruments
      WHERE NAME = 'wait/lock/metadata/sql/mdl'")" YES "MDL instrument on $s"
    expect_eq "$(root $s -e "SELECT GROUP_CONCAT(NAME ORDER BY NAME) FROM performance_schema.setup_consumers
      WHERE ENABLED = 'YES' AND NAME IN ('statements_digest', 'events_statements_current', 'events_statements_history')")" \
      "events_statements_current,events_statements_history,statements_digest" "statement consumers on $s"
    expect_eq "$(var $s userstat)" 1 "userstat on $s"
    expect_eq "$(var $s log_bin)" 1 "log_bin on $s"
    expect_eq "$(var $s binlog_format)" ROW "binlog_format on $s"
    expect_eq "$(var $s gtid_strict_mode)" 1 "gtid_strict_mode on $s"
    expect_eq "$(var $s log_slave_updates)" 1 "log_slave_updates on $s"
    expect_eq "$(var $s have_ssl)" YES "have_ssl on $s"
    expect_eq "$(var $s slow_query_log)" 0 "slow_query_log on $s"
    expect_eq "$(var $s character_set_server)" utf8mb4 "character_set_server on $s"
    expect_eq "$(var $s skip_name_resolve)" 1 "skip_name_resolve on $s"
    expect_eq "$(var $s bind_address)" 127.0.0.1 "bind_address on $s"
  done
  expect_eq "$(var primary slow_query_log_file)" "$P_SLOW_LOG" "slow_query_log_file"
  expect_eq "$(var primary read_only)" 0 "read_only on the primary"
  expect_eq "$(var replica read_only)" 1 "read_only on the replica"
  ok "server settings (performance_schema, MDL instrument, userstat, binlog, GTID, TLS, read_only)"

  for p in P R; do
    local ca_var=${p}_TLS_CA
    got=$(mon $p --ssl-ca="${!ca_var}" --ssl-verify-server-cert \
      -e "SHOW SESSION STATUS LIKE 'Ssl_cipher'" | cut -f2)
    [ -n "$got" ] || fail "no TLS cipher on a verified connection ($p)"
  done
  # Each server has its own CA: the replica's CA must not verify the primary.
  if mon P --ssl-ca="$R_TLS_CA" --ssl-verify-server-cert -e 'SELECT 1' >/dev/null 2>&1; then
    fail "the primary's certificate verified against the replica's CA"
  fi
  ok "TLS: verified connections succeed, a foreign CA is refused"

  expect_eq "$(slave_field replica Slave_IO_Running)" Yes "Slave_IO_Running"
  expect_eq "$(slave_field replica Slave_SQL_Running)" Yes "Slave_SQL_Running"
  expect_eq "$(slave_field replica Using_Gtid)" Slave_Pos "Using_Gtid"
  expect_eq "$(slave_field replica Master_Port)" "$P_PORT" "Master_Port"
  local table=t_$$_$RANDOM i
  root primary <<SQL
CREATE DATABASE IF NOT EXISTS sandbox_test;
CREATE TABLE sandbox_test.$table (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB;
INSERT INTO sandbox_test.$table VALUES (1, 'replicated');
SQL
  got=""
  for ((i = 0; i < 100; i++)); do
    got=$(root replica -e "SELECT v FROM sandbox_test.$table WHERE id = 1" 2>/dev/null) || got=""
    [ "$got" = replicated ] && break
    sleep 0.1
  done
  expect_eq "$got" replicated "row replicated to the replica within 10 s"
  root primary -e "DROP DATABASE sandbox_test"
  ok "the replica replicates (GTID, Slave_Pos)"

  local out pid_before pid_after
  out=$("$sandbox" stop no-such-sandbox-$$ 2>&1) || fail "stop of an unknown server failed: $out"
  expect_eq "$out" "" "output of stop of an unknown server"
  ok "stop of an unknown name succeeds quietly"

  pid_before=$(<"$P_DIR/mysqld.pid")
  out=$("$sandbox" start primary 2>&1) || fail "start of the running primary failed: $out"
  [[ $out == *"already running"* ]] || fail "start of a running server said: $out"
  out=$("$sandbox" start replica --replica-of primary 2>&1) ||
    fail "start of the running replica failed: $out"
  [[ $out == *"already running"* ]] || fail "start of a running replica said: $out"
  pid_after=$(<"$P_DIR/mysqld.pid")
  expect_eq "$pid_after" "$pid_before" "primary pid after a second start"
  expect_eq "$("$sandbox" env primary | grep '^SANDBOX_PORT=')" "SANDBOX_PORT='$P_PORT'" "port after a second start"
  if out=$("$sandbox" start primary --replica-of replica 2>&1); then
    fail "start of the running primary as a replica succeeded: $out"
  fi
  [[ $out == *"use --fresh"* ]] || fail "unhelpful message for a role change: $out"
  ok "start of a running server is a no-op"

  check_no_password_leak "$P_MONITOR_PASSWORD_FILE" "$P_DIR/repl.password"
  local leaks
  leaks=$(grep -rlF -f "$P_DIR/repl.password" "$P_DIR" "$R_DIR" \
    --exclude='*.password' --exclude=master.info || true)
  [ -z "$leaks" ] || fail "the repl password appears in: $leaks"
  leaks=$(grep -rlF -f "$P_MONITOR_PASSWORD_FILE" "$P_DIR" "$R_DIR" --exclude='*.password' || true)
  [ -z "$leaks" ] || fail "the monitor password appears in: $leaks"
  if "$sandbox" env primary | grep -F -f "$P_MONITOR_PASSWORD_FILE" >/dev/null; then
    fail "env prints the password"
  fi
  ok "no password in ps, env output, logs or binlogs"
}

mode_usage() {
  local out rc
  run() { # expected-rc message-substring args...
    local want_rc=$1 want_msg=$2
    shift 2
    rc=0
    out=$("$sandbox" "$@" 2>&1) || rc=$?
    expect_eq "$rc" "$want_rc" "exit status of 'sandbox $*' (output: $out)"
    [[ $out == *"$want_msg"* ]] || fail "'sandbox $*' said '$out', want it to mention '$want_msg'"
  }
  run 2 "unknown command 'frobnicate'" frobnicate
  run 2 "Usage:"
  run 0 "Usage: scripts/sandbox" --help
  run 2 "missing NAME" start
  run 2 "unknown option '--bogus'" start x --bogus
  run 2 "invalid server name" start '../escape'
  run 2 "needs the name" start x --replica-of
  run 2 "cannot replicate from itself" start x --replica-of x
  run 2 "exactly one NAME" stop
  run 2 "takes no arguments" stop-all now
  run 2 "exactly one NAME" env
  run 0 "" stop "never-started-$$"
  run 1 "no sandbox named 'never-started-$$'" env "never-started-$$"
  run 1 "no sandbox named 'never-started-$$'" sql "never-started-$$" -e 'SELECT 1'
  run 1 "--replica-of missing-$$: no such sandbox" start "r-$$" --replica-of "missing-$$"
  [ ! -e "$DBRUNBOOK_SANDBOX_DIR/r-$$" ] || fail "a failed --replica-of left $DBRUNBOOK_SANDBOX_DIR/r-$$"
  # A server that exists but is not running (never started here: no process has its my.cnf).
  mkdir -p "$DBRUNBOOK_SANDBOX_DIR/stopped-$$"
  printf '[mariadbd]\nport=1\n' >"$DBRUNBOOK_SANDBOX_DIR/stopped-$$/my.cnf"
  run 1 "--replica-of stopped-$$: that sandbox is not running" start "r-$$" --replica-of "stopped-$$"
  run 1 "sandbox 'stopped-$$' is not running" env "stopped-$$"
  run 0 "stopped-$$" status
  rm -rf "${DBRUNBOOK_SANDBOX_DIR:?}/stopped-$$"
  ok "bad usage exits 2 with a message; missing servers fail clearly"
}

mode_lifecycle() {
  local base=$DBRUNBOOK_SANDBOX_DIR out a_port b_port
  # A base dir too long for sun_path (checked at the end).
  long_base=$base/$(printf 'd%.0s' {1..100})
  cleanup_lifecycle() {
    "$sandbox" stop-all >/dev/null 2>&1 || true
    DBRUNBOOK_SANDBOX_DIR=$long_base "$sandbox" stop-all >/dev/null 2>&1 || true
    rm -rf "$tmp"
  }
  # Servers left by an interrupted run must not serve this one.
  cleanup_lifecycle
  tmp=$(mktemp -d)
  trap cleanup_lifecycle EXIT

  # Every command the script runs is recorded with its arguments (strace -b execve detaches
  # at each exec, so the servers it starts are not traced), then searched for the passwords.
  local trace=()
  if command -v strace >/dev/null && strace -f -o /dev/null true 2>/dev/null; then
    # bash directly: through the #! line, `env` would exec bash and strace would detach there.
    trace=(strace -f -b execve -e trace=execve -s 4096 -qq -o "$tmp/exec.log" bash)
  else
    echo "note: strace unavailable; the command-line check is limited to ps snapshots"
  fi

  local t0 t1
  t0=$(date +%s%3N)
  "${trace[@]}" "$sandbox" start a --fresh || fail "start a failed"
  t1=$(date +%s%3N)
  echo "start a: $((t1 - t0)) ms"
  [ -z "${trace[*]}" ] || mv "$tmp/exec.log" "$tmp/exec-a.log"
  t0=$(date +%s%3N)
  "${trace[@]}" "$sandbox" start b --replica-of a || fail "start b --replica-of a failed"
  t1=$(date +%s%3N)
  echo "start b --replica-of a: $((t1 - t0)) ms"
  if [ -n "${trace[*]}" ]; then
    for f in "$base/a/monitor.password" "$base/a/repl.password"; do
      if grep -qF -f "$f" "$tmp/exec-a.log" "$tmp/exec.log"; then
        fail "a password from $f was on a command line (see strace log)"
      fi
    done
    grep -q 'execve(.*mariadb' "$tmp/exec.log" || fail "strace recorded no mariadb client run"
  fi
  check_no_password_leak "$base/a/monitor.password" "$base/a/repl.password"
  ok "start a; start b --replica-of a: no password on any command line"

  a_port=$("$sandbox" env a | sed -n "s/^SANDBOX_PORT='\(.*\)'$/\1/p")
  b_port=$("$sandbox" env b | sed -n "s/^SANDBOX_PORT='\(.*\)'$/\1/p")
  out=$("$sandbox" status)
  grep -qE "^a +running +$a_port .*primary" <<<"$out" || fail "status: $out"
  grep -qE "^b +running +$b_port .*replica of a" <<<"$out" || fail "status: $out"

  # Restart the primary: it keeps its data, port and users; the replica catches up.
  "$sandbox" stop a >/dev/null
  [ ! -e "$base/a/mysqld.pid" ] || fail "stop left a's pid file"
  out=$("$sandbox" status)
  grep -qE "^a +stopped" <<<"$out" || fail "status after stop a: $out"
  "$sandbox" stop a >/dev/null || fail "second stop a failed"
  "$sandbox" start a >/dev/null || fail "restart of a failed"
  expect_eq "$("$sandbox" env a | sed -n "s/^SANDBOX_PORT='\(.*\)'$/\1/p")" "$a_port" "a's port after a restart"
  "$sandbox" sql a <<'SQL'
CREATE DATABASE lifecycle;
CREATE TABLE lifecycle.t (id INT PRIMARY KEY);
INSERT INTO lifecycle.t VALUES (42);
SQL
  local got="" i
  for ((i = 0; i < 100; i++)); do
    got=$("$sandbox" sql b -N -e 'SELECT id FROM lifecycle.t' 2>/dev/null) || got=""
    [ "$got" = 42 ] && break
    sleep 0.1
  done
  expect_eq "$got" 42 "row replicated after the primary restarted"
  ok "a restarted primary keeps its port and data; the replica follows"

  # A restarted replica is re-pointed at its primary and resumes from its GTID position.
  "$sandbox" stop b >/dev/null
  "$sandbox" sql a -e 'INSERT INTO lifecycle.t VALUES (43)'
  "$sandbox" start b >/dev/null || fail "restart of b failed"
  for ((i = 0; i < 100; i++)); do
    got=$("$sandbox" sql b -N -e 'SELECT COUNT(*) FROM lifecycle.t' 2>/dev/null) || got=""
    [ "$got" = 2 ] && break
    sleep 0.1
  done
  expect_eq "$got" 2 "rows on the restarted replica"
  ok "a restarted replica resumes replication"

  # --fresh wipes the data.
  "$sandbox" start a --fresh >/dev/null || fail "start a --fresh failed"
  out=$("$sandbox" sql a -N -e "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'lifecycle'")
  expect_eq "$out" 0 "lifecycle database after --fresh"
  ok "--fresh recreates the server"

  "$sandbox" stop-all >/dev/null
  out=$("$sandbox" status)
  if grep -q running <<<"$out"; then fail "stop-all left servers running: $out"; fi
  [ ! -S "$base/a/mysqld.sock" ] || fail "stop-all left a's socket behind"
  "$sandbox" stop-all >/dev/null || fail "a second stop-all failed"
  ok "stop-all stops everything and is idempotent"

  # A base dir too long for sun_path: the socket goes under /tmp, recorded in env.
  DBRUNBOOK_SANDBOX_DIR=$long_base "$sandbox" start long --fresh >/dev/null || fail "start with a long base dir failed"
  out=$(DBRUNBOOK_SANDBOX_DIR=$long_base "$sandbox" env long | sed -n "s/^SANDBOX_SOCKET='\(.*\)'$/\1/p")
  [[ $out == /tmp/dbrunbook-sandbox-*/long.sock ]] || fail "socket for a long base dir: $out"
  ((${#out} < 107)) || fail "socket path too long: $out"
  expect_eq "$(DBRUNBOOK_SANDBOX_DIR=$long_base "$sandbox" sql long -N -e 'SELECT @@socket')" "$out" "@@socket"
  DBRUNBOOK_SANDBOX_DIR=$long_base "$sandbox" stop-all >/dev/null
  ok "long base dirs get a short socket path"
}

case ${1:-} in
  fixtures) mode_fixtures ;;
  usage) mode_usage ;;
  lifecycle) mode_lifecycle ;;
  *)
    echo "usage: $0 fixtures|usage|lifecycle" >&2
    exit 2
    ;;
esac
echo "PASS: sandbox_test.sh ${1}"
