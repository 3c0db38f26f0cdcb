"""``bzzzmon silence`` against a real Alertmanager 0.25 on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from am_testkit import TEST_SPECS, RunningAlertmanager, bzzzmon, free_port

from bzzzmon.alertmanager_api import (
    AlertmanagerClient,
    AlertmanagerError,
    MatcherError,
    parse_matcher,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def am(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAlertmanager]:
    with RunningAlertmanager(tmp_path_factory.mktemp("am")) as running:
        yield running


def _silences(am: RunningAlertmanager) -> list[dict[str, object]]:
    data = httpx.get(f"{am.url}/api/v2/silences", timeout=10).json()
    assert isinstance(data, list)
    return data


def test_add_list_expire(am: RunningAlertmanager) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    added = bzzzmon(
        "silence",
        "add",
        "service=bzzz",
        'severity=~"P2|P3"',
        "component!=exporter",
        "--start",
        start.isoformat(),
        "--duration",
        "2h",
        "--comment",
        "weekly maintenance",
        "--author",
        "ops",
        "--alertmanager",
        am.url,
    )
    assert added.returncode == 0, added.stderr
    silence_id = added.stdout.strip()
    stored = next(s for s in _silences(am) if s["id"] == silence_id)
    assert stored["createdBy"] == "ops" and stored["comment"] == "weekly maintenance"
    assert stored["status"] == {"state": "pending"}
    assert datetime.fromisoformat(str(stored["startsAt"])) == start
    assert datetime.fromisoformat(str(stored["endsAt"])) == start + timedelta(hours=2)
    matchers = {(m["name"], m["value"], m["isRegex"], m["isEqual"]) for m in stored["matchers"]}  # type: ignore[attr-defined]
    assert matchers == {
        ("service", "bzzz", False, True),
        ("severity", "P2|P3", True, True),
        ("component", "exporter", False, False),
    }

    listed = bzzzmon("silence", "list", "--alertmanager", am.url)
    assert listed.returncode == 0, listed.stderr
    row = next(ln for ln in listed.stdout.splitlines() if ln.startswith(silence_id))
    assert "\tpending\t" in row and "\tops\t" in row and 'severity=~"P2|P3"' in row
    filtered = bzzzmon("silence", "list", "service=other", "--alertmanager", am.url)
    assert silence_id not in filtered.stdout

    expired = bzzzmon("silence", "expire", silence_id, "--alertmanager", am.url)
    assert expired.returncode == 0, expired.stderr
    assert expired.stdout.strip() == f"expired {silence_id}"
    stored = next(s for s in _silences(am) if s["id"] == silence_id)
    assert stored["status"] == {"state": "expired"}
    after = bzzzmon("silence", "list", "--alertmanager", am.url)
    assert silence_id not in after.stdout
    everything = bzzzmon("silence", "list", "--all", "--alertmanager", am.url)
    assert silence_id in everything.stdout


def test_active_silence_starting_now(am: RunningAlertmanager) -> None:
    with AlertmanagerClient(am.url) as client:
        now = datetime.now(UTC)
        silence_id = client.create_silence(
            [parse_matcher("alertname=BZZZDHTReplicationDegraded")],
            now,
            now + timedelta(minutes=30),
            "tester",
            "replacing a disk",
        )
        assert client.get_silence(silence_id).state == "active"
        client.expire_silence(silence_id)
        assert client.get_silence(silence_id).state == "expired"


def test_rejected_requests_exit_2_with_alertmanagers_reason(am: RunningAlertmanager) -> None:
    # A silence whose only matcher matches everything is refused by Alertmanager.
    result = bzzzmon(
        "silence",
        "add",
        "alertname=~.*",
        "--duration",
        "1h",
        "--comment",
        "all",
        "--author",
        "ops",
        "--alertmanager",
        am.url,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "Alertmanager rejected POST /api/v2/silences (400)" in result.stderr
    unknown = bzzzmon("silence", "expire", "not-a-silence-id", "--alertmanager", am.url)
    assert unknown.returncode == 2
    assert "Alertmanager rejected DELETE" in unknown.stderr


def test_unreachable_alertmanager_exits_2(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for args in (
        ("add", "alertname=X", "--duration", "1h", "--comment", "c", "--author", "a"),
        ("list",),
        ("expire", "0d3b8c6e-0000-0000-0000-000000000000"),
    ):
        result = bzzzmon("silence", *args, "--alertmanager", url)
        assert result.returncode == 2, result.stderr
        assert f"cannot reach Alertmanager at {url}" in result.stderr
        assert "Traceback" not in result.stderr
    with pytest.raises(AlertmanagerError), AlertmanagerClient(url) as client:
        client.list_silences()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "alertname", "--duration", "1h", "--comment", "c"), "is not a matcher"),
        (("add", "alertname=X", "--duration", "soon", "--comment", "c"), "--duration"),
        (("add", "alertname=X", "--duration", "1h", "--comment", "c", "--start", "x"), "--start"),
        (("add", "alertname=X", "--duration", "1h"), "--comment"),
        # Escalations reach Alertmanager under their alert's name: this would match nothing.
        (
            ("add", "alertname=BZZZP0ResolutionTargetMissed", "--duration", "1h", "--comment", "c"),
            "never reaches Alertmanager: an escalation arrives under the name of the alert it "
            'escalates, with escalation="true"; a silence of that alert covers its escalation, '
            "or silence escalation=true severity=P0",
        ),
    ],
)
def test_bad_input_exits_2(args: tuple[str, ...], message: str) -> None:
    result = bzzzmon("silence", *args, "--alertmanager", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_default_url_comes_from_the_spec(am: RunningAlertmanager, tmp_path: Path) -> None:
    spec = tmp_path / "spec"
    shutil.copytree(TEST_SPECS / "teams", spec)
    service = spec / "service.yaml"
    service.write_text(
        service.read_text().replace("https://am.example.test/", json.dumps(am.url + "/"))
    )
    result = bzzzmon("silence", "list", "--specs", str(spec))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ID\tSTATE")


def test_parse_matcher() -> None:
    m = parse_matcher('instance=~"walnut:.*"')
    assert (m.name, m.value, m.is_regex, m.is_equal) == ("instance", "walnut:.*", True, True)
    m = parse_matcher("severity!~P2|P3")
    assert (m.is_regex, m.is_equal, m.format()) == (True, False, 'severity!~"P2|P3"')
    assert parse_matcher('comment="a \\"b\\""').value == 'a "b"'
    with pytest.raises(MatcherError):
        parse_matcher("=x")
