#!/usr/bin/env bash
# The whole suite in four lanes at once (make pytest). The live-stack tests spend their time
# waiting on time-scaled rule windows, not on the CPU: tests/e2e and tests/runbook's real parts
# on the newest tools in one lane, the e2e suite again on bookworm's tools in a second, the
# incidents on VictoriaMetrics (tests/versions/test_vm_e2e.py) in a third. Everything else is
# mostly promtool and the build, CPU-bound. Run in turn they add up, beside each other they
# overlap; each stack has its own free ports and directories. Every test runs exactly as
# before; each waiting lane's output (with its own durations report) is printed after the
# CPU-bound lane's.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
WAITING=(tests/e2e tests/runbook)
VM=(tests/versions/test_vm_e2e.py)
waiting_log=$(mktemp "${TMPDIR:-/tmp}/bzzzmon-pytest-lane.XXXXXX")
bookworm_log=$(mktemp "${TMPDIR:-/tmp}/bzzzmon-pytest-lane.XXXXXX")
vm_log=$(mktemp "${TMPDIR:-/tmp}/bzzzmon-pytest-lane.XXXXXX")

# Each lane in its own process group (setsid), so an interrupted run stops the whole lane.
setsid "$BIN/pytest" -q "${WAITING[@]}" >"$waiting_log" 2>&1 &
waiting_lane=$!
BZZZMON_TOOLS_SUITE=bookworm setsid "$BIN/pytest" -q -m e2e tests/e2e >"$bookworm_log" 2>&1 &
bookworm_lane=$!
setsid "$BIN/pytest" -q "${VM[@]}" >"$vm_log" 2>&1 &
vm_lane=$!
logs=("$waiting_log" "$bookworm_log" "$vm_log")
trap 'kill -- "-$waiting_lane" "-$bookworm_lane" "-$vm_lane" 2>/dev/null; rm -f "${logs[@]}"' INT TERM
trap 'rm -f "${logs[@]}"' EXIT

ignores=()
for path in "${WAITING[@]}" "${VM[@]}"; do ignores+=("--ignore=$path"); done
"$BIN/pytest" -q "${ignores[@]}" "$@"
rest=$?
wait "$waiting_lane"
waiting=$?
wait "$bookworm_lane"
bookworm=$?
wait "$vm_lane"
vm=$?
echo "=== ${WAITING[*]} ==="
cat "$waiting_log"
echo "=== tests/e2e on bookworm's tools ==="
cat "$bookworm_log"
echo "=== ${VM[*]} ==="
cat "$vm_log"
echo "pytest: the rest exited $rest, the live-stack lane $waiting, bookworm's e2e lane $bookworm," \
    "the VictoriaMetrics lane $vm"
[ "$rest" -eq 0 ] && [ "$waiting" -eq 0 ] && [ "$bookworm" -eq 0 ] && [ "$vm" -eq 0 ]
