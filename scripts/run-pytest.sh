#!/usr/bin/env bash
# The whole suite in two lanes at once (make pytest). The live-stack tests (tests/e2e, then the
# e2e suite again on bookworm's tools, and tests/runbook's real parts) spend their time waiting
# on time-scaled rule windows, not on the CPU; everything else is mostly promtool and the build,
# CPU-bound. Run in turn they add up, beside each other they overlap. Every test runs exactly as
# before; the waiting lane's output (with its own durations report) is printed after the other.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
WAITING=(tests/e2e tests/runbook)
log=$(mktemp "${TMPDIR:-/tmp}/bzzzmon-pytest-lane.XXXXXX")

# Its own process group (setsid), so an interrupted run stops the whole lane.
setsid bash -c '
    "$0/pytest" -q "${@}"; sid=$?
    BZZZMON_TOOLS_SUITE=bookworm "$0/pytest" -q -m e2e tests/e2e; bookworm=$?
    [ "$sid" -eq 0 ] && [ "$bookworm" -eq 0 ]
' "$BIN" "${WAITING[@]}" >"$log" 2>&1 &
lane=$!
trap 'kill -- "-$lane" 2>/dev/null; rm -f "$log"' INT TERM
trap 'rm -f "$log"' EXIT

ignores=()
for dir in "${WAITING[@]}"; do ignores+=("--ignore=$dir"); done
"$BIN/pytest" -q "${ignores[@]}" "$@"
rest=$?
wait "$lane"
waiting=$?
echo "=== ${WAITING[*]}, then tests/e2e on bookworm's tools ==="
cat "$log"
echo "pytest: the rest exited $rest, the live-stack lane $waiting"
[ "$rest" -eq 0 ] && [ "$waiting" -eq 0 ]
