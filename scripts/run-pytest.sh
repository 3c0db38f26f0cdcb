#!/usr/bin/env bash
# The whole suite in three lanes at once (make pytest). The live-stack tests spend their time
# waiting on time-scaled rule windows, not on the CPU: tests/e2e, then the e2e suite again on
# bookworm's tools, and tests/runbook's real parts in one lane; the incidents on VictoriaMetrics
# (tests/versions/test_vm_e2e.py, a third of the whole suite's time run alone) in another.
# Everything else is mostly promtool and the build, CPU-bound. Run in turn they add up, beside
# each other they overlap. Every test runs exactly as before; each waiting lane's output (with
# its own durations report) is printed after the CPU-bound lane's.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
WAITING=(tests/e2e tests/runbook)
VM=(tests/versions/test_vm_e2e.py)
waiting_log=$(mktemp "${TMPDIR:-/tmp}/bzzzmon-pytest-lane.XXXXXX")
vm_log=$(mktemp "${TMPDIR:-/tmp}/bzzzmon-pytest-lane.XXXXXX")

# Each lane in its own process group (setsid), so an interrupted run stops the whole lane.
setsid bash -c '
    "$0/pytest" -q "${@}"; sid=$?
    BZZZMON_TOOLS_SUITE=bookworm "$0/pytest" -q -m e2e tests/e2e; bookworm=$?
    [ "$sid" -eq 0 ] && [ "$bookworm" -eq 0 ]
' "$BIN" "${WAITING[@]}" >"$waiting_log" 2>&1 &
waiting_lane=$!
setsid "$BIN/pytest" -q "${VM[@]}" >"$vm_log" 2>&1 &
vm_lane=$!
trap 'kill -- "-$waiting_lane" "-$vm_lane" 2>/dev/null; rm -f "$waiting_log" "$vm_log"' INT TERM
trap 'rm -f "$waiting_log" "$vm_log"' EXIT

ignores=()
for path in "${WAITING[@]}" "${VM[@]}"; do ignores+=("--ignore=$path"); done
"$BIN/pytest" -q "${ignores[@]}" "$@"
rest=$?
wait "$waiting_lane"
waiting=$?
wait "$vm_lane"
vm=$?
echo "=== ${WAITING[*]}, then tests/e2e on bookworm's tools ==="
cat "$waiting_log"
echo "=== ${VM[*]} ==="
cat "$vm_log"
echo "pytest: the rest exited $rest, the live-stack lane $waiting, the VictoriaMetrics lane $vm"
[ "$rest" -eq 0 ] && [ "$waiting" -eq 0 ] && [ "$vm" -eq 0 ]
