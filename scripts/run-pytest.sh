#!/usr/bin/env bash
# The whole suite in five lanes at once (make pytest). The live-stack tests spend their time
# waiting on time-scaled rule windows, not on the CPU: tests/e2e and tests/runbook's real parts
# on the newest tools in one lane, the e2e suite again on bookworm's tools in a second, the
# incidents on VictoriaMetrics (tests/versions/test_vm_e2e.py) in a third. The rest is CPU-bound,
# mostly promtool over the generated tests, in two lanes of about the same length: the version
# matrix and vmalert-tool (tests/versions) in one, everything else in the other, so the cores stay
# busy where one lane is down to its last promtool process or to Python. Run in
# turn they add up, beside each other they overlap; each stack has its own free ports and
# directories, and every lane shares one cache of passed promtool runs (tests/conftest.py), so a
# pass one lane made is not made again. Every test runs exactly as before; the rest prints as it
# runs, each other lane's output (with its own durations report) after it.
#
# Each lane has a time budget (below; README.md, "Test budget"): a lane still running at its budget is
# stopped and named, and the run fails. The budgets sit well above the lanes' measured times, so
# they catch a test that climbs, not a slow machine.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
WAITING=(tests/e2e tests/runbook)
VM=(tests/versions/test_vm_e2e.py)
VERSIONS=(tests/versions)
# Seconds per lane: 1.5-2x the lanes of the 3 Dec CI run on a loaded machine (rest 2,218 s,
# tests/versions 2,612 s, live 1,163 s, bookworm 991 s, VictoriaMetrics 633 s; BENCHMARKS.md).
REST_BUDGET=${REST_BUDGET:-3300}
VERSIONS_BUDGET=${VERSIONS_BUDGET:-4200}
WAITING_BUDGET=${WAITING_BUDGET:-2000}
BOOKWORM_BUDGET=${BOOKWORM_BUDGET:-1800}
VM_BUDGET=${VM_BUDGET:-1200}

versions_log=$(mktemp "${TMPDIR:-/tmp}/bzzzmon-pytest-lane.XXXXXX")
waiting_log=$(mktemp "${TMPDIR:-/tmp}/bzzzmon-pytest-lane.XXXXXX")
bookworm_log=$(mktemp "${TMPDIR:-/tmp}/bzzzmon-pytest-lane.XXXXXX")
vm_log=$(mktemp "${TMPDIR:-/tmp}/bzzzmon-pytest-lane.XXXXXX")
logs=("$versions_log" "$waiting_log" "$bookworm_log" "$vm_log")
cache=$(mktemp -d "${TMPDIR:-/tmp}/bzzzmon-rule-test-cache.XXXXXX")
export BZZZMON_RULE_TEST_CACHE=$cache

# Each lane in its own process group (setsid, and timeout signals its whole group), so an
# interrupted or overrunning run stops the whole lane, its tools included. A lane without a log
# prints as it runs.
lane() {
    local budget=$1 log=$2
    shift 2
    if [ -n "$log" ]; then
        setsid timeout -k 30 "$budget" "$@" >"$log" 2>&1 &
    else
        setsid timeout -k 30 "$budget" "$@" &
    fi
}
ignores=()
for path in "${WAITING[@]}" "${VM[@]}" "${VERSIONS[@]}"; do ignores+=("--ignore=$path"); done
lane "$REST_BUDGET" "" "$BIN/pytest" -q "${ignores[@]}" "$@"
rest_lane=$!
lane "$VERSIONS_BUDGET" "$versions_log" "$BIN/pytest" -q "${VERSIONS[@]}" "--ignore=${VM[0]}"
versions_lane=$!
lane "$WAITING_BUDGET" "$waiting_log" "$BIN/pytest" -q "${WAITING[@]}"
waiting_lane=$!
BZZZMON_TOOLS_SUITE=bookworm lane "$BOOKWORM_BUDGET" "$bookworm_log" "$BIN/pytest" -q -m e2e tests/e2e
bookworm_lane=$!
lane "$VM_BUDGET" "$vm_log" "$BIN/pytest" -q "${VM[@]}"
vm_lane=$!
lanes=("$rest_lane" "$versions_lane" "$waiting_lane" "$bookworm_lane" "$vm_lane")
trap 'for l in "${lanes[@]}"; do kill -- "-$l" 2>/dev/null; done; rm -rf "${logs[@]}" "$cache"' INT TERM
trap 'rm -rf "${logs[@]}" "$cache"' EXIT

status=0
summary=()
# name, budget, log, pid: print the lane's output, and its exit status or its overrun.
report() {
    local name=$1 budget=$2 log=$3 pid=$4 code
    wait "$pid"
    code=$?
    if [ -n "$log" ]; then
        echo "=== $name ==="
        cat "$log"
    fi
    if [ "$code" -eq 124 ] || [ "$code" -eq 137 ]; then
        summary+=("$name OVERRAN its budget of ${budget}s and was stopped")
        status=1
    else
        summary+=("$name exited $code")
        [ "$code" -eq 0 ] || status=1
    fi
}
report "the rest" "$REST_BUDGET" "" "$rest_lane"
report "the version matrix lane (${VERSIONS[*]})" "$VERSIONS_BUDGET" "$versions_log" "$versions_lane"
report "the live-stack lane (${WAITING[*]})" "$WAITING_BUDGET" "$waiting_log" "$waiting_lane"
report "tests/e2e on bookworm's tools" "$BOOKWORM_BUDGET" "$bookworm_log" "$bookworm_lane"
report "the VictoriaMetrics lane (${VM[*]})" "$VM_BUDGET" "$vm_log" "$vm_lane"
printf 'pytest: %s\n' "${summary[@]}"
exit "$status"
