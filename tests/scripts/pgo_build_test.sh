#!/usr/bin/env bash
# Tests of scripts/pgo-build's and the DBRUNBOOK_PGO option's refusals: bad arguments, missing
# training logs, an unknown mode, a compiler other than GCC. Each must fail with a message that
# says what is wrong, before anything is built. (The profile-guided build itself takes two
# Release builds, more than the test run's budget: bench/digest runs it, and checks its output.)
# Fails loudly (exit 1, "FAIL: ..." on stderr) at the first problem.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=${DBRUNBOOK_SOURCE_DIR:-$here/../..}
pgo_build=$repo/scripts/pgo-build
[ -x "$pgo_build" ] || {
  echo "FAIL: $pgo_build is not executable" >&2
  exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
ok() { echo "ok: $*"; }

# refused WANT-TEXT COMMAND...: the command fails (exit 1) and says WANT-TEXT on stderr.
refused() {
  local want=$1 rc=0
  shift
  "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  [ "$rc" -ne 0 ] || fail "succeeded, should be refused: $*"
  grep -qF -- "$want" "$tmp/err" || fail "$*: stderr lacks '$want': $(cat "$tmp/err")"
  ok "refused ($want): ${*##*/}"
}

build=$tmp/build
refused "--repeat wants a positive number, got '0'" "$pgo_build" --build-dir "$build" --repeat 0
refused "--repeat wants a positive number, got 'x'" "$pgo_build" --build-dir "$build" --repeat x
refused "unknown argument '--bogus'" "$pgo_build" --build-dir "$build" --bogus
refused "--training wants a value" "$pgo_build" --build-dir "$build" --training ""
refused "no training logs at '$tmp/none'" "$pgo_build" --build-dir "$build" --training "$tmp/none"
refused "bench/digest --no-pgo" "$pgo_build" --build-dir "$build" --training "$tmp/none"
mkdir "$tmp/empty"
refused "no files in $tmp/empty" "$pgo_build" --build-dir "$build" --training "$tmp/empty"
[ ! -e "$build" ] || fail "a refused pgo-build left a build directory"
"$pgo_build" --help | grep -q -- "--training DIR" || fail "--help does not describe --training"
ok "--help"

# The CMake option: an unknown mode, and a compiler whose profiles are not GCC's.
configure() { cmake -S "$repo" -B "$1" -G Ninja -DDBRUNBOOK_BUILD_TESTS=OFF \
  -DDBRUNBOOK_BUILD_BENCH=OFF "${@:2}"; }
refused "DBRUNBOOK_PGO is GENERATE, USE or empty, not 'BOGUS'" \
  configure "$tmp/cmake-bogus" -DCMAKE_CXX_COMPILER=g++ -DDBRUNBOOK_PGO=BOGUS
if command -v clang++ >/dev/null; then
  refused "DBRUNBOOK_PGO is for GCC (its profile format); this is Clang" \
    configure "$tmp/cmake-clang" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DDBRUNBOOK_PGO=USE
fi
echo "pgo_build_test: all passed"
