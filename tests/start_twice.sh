#!/usr/bin/env bash
# Runs a command; if it fails, says so loudly and runs it once more (CTest fixture starts).
"$@" && exit 0
echo "start_twice: '$*' failed (exit $?; output above); retrying once" >&2
sleep 1
exec "$@"
