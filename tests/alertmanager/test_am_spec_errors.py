"""Bad routing input is a spec error with file:line and exit status 2, and nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from am_testkit import TEST_SPECS, bzzzmon


def _mutated(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the teams spec with one edit in service.yaml."""
    spec = tmp_path / "spec"
    shutil.copytree(TEST_SPECS / "teams", spec)
    path = spec / "service.yaml"
    text = path.read_text()
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    path.write_text(text)
    return spec


CASES = [
    pytest.param(
        "      receivers: [db-team]",
        "      receivers: [db-tem]",
        "unknown receiver 'db-tem'",
        id="team-receiver-unknown",
    ),
    pytest.param(
        "    receivers: [oncall-pager, chat]",
        "    receivers: [oncall-pager, chatt]",
        "unknown receiver 'chatt'",
        id="severity-receiver-unknown",
    ),
    pytest.param(
        "    escalate_to: [manager]\n  P1:",
        "    escalate_to: [boss]\n  P1:",
        "unknown receiver 'boss'",
        id="escalate-to-unknown",
    ),
    pytest.param(
        "  heartbeat_receiver: deadman",
        "  heartbeat_receiver: deadmen",
        "unknown receiver 'deadmen'",
        id="heartbeat-unknown",
    ),
    pytest.param(
        "      source: {alertname: ShopDatabaseDown}",
        "      source: {alertname: ShopDatabaseGone}",
        "unknown alert 'ShopDatabaseGone'",
        id="inhibition-unknown-alert",
    ),
    pytest.param(
        "      target: {components: [cart, checkout]}",
        "      target: {components: [cart, checkin]}",
        "unknown component 'checkin'",
        id="inhibition-unknown-component",
    ),
    pytest.param(
        "    receivers: [tickets]",
        "    receivers: []",
        "severities.P2.receivers: list should have at least 1 item",
        id="severity-without-a-route",
    ),
    pytest.param(
        "  escalate: [P0]",
        "  escalate: [P2]",
        "severity P2 is escalated but has no escalate_to receivers",
        id="escalate-without-receivers",
    ),
    pytest.param(
        "  - name: deadman",
        "  - name: blackhole",
        "receiver name 'blackhole' is reserved",
        id="reserved-receiver-name",
    ),
    pytest.param(
        '          start: "06:00"\n          end: "08:00"',
        '          start: "06:00"\n          end: "05:00"',
        "end 05:00 is not after start 06:00",
        id="empty-time-range",
    ),
    pytest.param(
        "      cause: {alertname: ShopCartErrors}",
        "      cause: {alertname: ShopCartError}",
        "unknown alert 'ShopCartError'",
        id="explanation-unknown-cause",
    ),
    pytest.param(
        "      explains: {alertnames: [ShopCheckoutSlow]}",
        "      explains: {alertnames: [ShopCheckoutSlower]}",
        "unknown alert 'ShopCheckoutSlower'",
        id="explanation-unknown-target",
    ),
    pytest.param(
        "    - name: cart-errors-explain-checkout",
        "    - name: p0-silences-p3",
        "duplicate inhibition or explanation name 'p0-silences-p3'",
        id="explanation-name-taken",
    ),
    pytest.param(
        "  catch_all: [chat]",
        "  catch_all: [chatt]",
        "unknown receiver 'chatt'",
        id="catch-all-unknown",
    ),
    pytest.param(
        "          location: Europe/Berlin",
        "          location: Europe/Atlantis",
        "unknown time zone 'Europe/Atlantis'",
        id="unknown-time-zone",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), CASES)
def test_bad_routing_input_is_a_spec_error(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    spec = _mutated(tmp_path, old, new)
    out = tmp_path / "generated"
    result = bzzzmon("build", "--specs", str(spec), "--out", str(out), "--no-verify")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    error = next((ln for ln in result.stderr.splitlines() if message in ln), None)
    assert error is not None, result.stderr
    # file:line:column of the offending value: the edited line that differs from the original.
    original = (TEST_SPECS / "teams" / "service.yaml").read_text().splitlines()
    edited = (spec / "service.yaml").read_text().splitlines()
    (line,) = [i + 1 for i, (a, b) in enumerate(zip(original, edited, strict=True)) if a != b]
    assert error.startswith(f"spec/service.yaml:{line}:"), (error, line)
    assert not out.exists()
