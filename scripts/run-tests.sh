#!/usr/bin/env bash
# The suite (with coverage) and the API fuzz (without: coverage's tracer made it about 2.5 times
# slower) run side by side: each waits on its databases about half the time, and the machine
# has two cores. The fuzz's output is printed after the suite's; the run fails if either fails.
# Usage: scripts/run-tests.sh UV  (PYTEST_ARGS and FUZZ_ARGS from the environment, as in make)
set -uo pipefail
UV=${1:-uv}
FUZZ=tests/test_schemathesis.py
fuzz_log=$(mktemp)
trap 'kill "$fuzz_pid" 2>/dev/null; rm -f "$fuzz_log"' EXIT

# shellcheck disable=SC2086
$UV run pytest $FUZZ ${FUZZ_ARGS:-} >"$fuzz_log" 2>&1 &
fuzz_pid=$!

# shellcheck disable=SC2086
$UV run pytest --cov --cov-report=term --ignore=$FUZZ ${PYTEST_ARGS:-}
suite=$?

wait "$fuzz_pid"
fuzz=$?
echo
echo "=== API fuzz ($FUZZ), run alongside the suite ==="
cat "$fuzz_log"
if [ "$suite" -ne 0 ]; then exit "$suite"; fi
exit "$fuzz"
