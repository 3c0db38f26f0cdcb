"""Golden-style assertions on the rendered alertmanager.yml, templates and escalation rules."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from am_testkit import Rendered, load_yaml

from bzzzmon import conventions as C
from bzzzmon.render import prometheus_config
from bzzzmon.render.alertmanager.routes import timings
from bzzzmon.spec.service import DEFAULT_SEVERITIES
from bzzzmon.verify import amtool


def _config(out: Path) -> dict[str, Any]:
    data = load_yaml(out / C.ALERTMANAGER_CONFIG)
    assert isinstance(data, dict)
    return data


def _top_route(config: dict[str, Any], *matchers: str) -> dict[str, Any]:
    routes: list[dict[str, Any]] = config["route"]["routes"]
    for route in routes:
        if route.get("matchers") == list(matchers):
            return route
    raise AssertionError(f"no top-level route with matchers {matchers}")


def test_timings_follow_the_runbook_response_times() -> None:
    got = {s.name: timings(s) for s in DEFAULT_SEVERITIES}
    assert [(t.group_wait, t.group_interval, t.repeat_interval) for t in got.values()] == [
        (30, 150, 900),  # P0, 15m: 30s / 2m30s / 15m
        (120, 600, 3600),  # P1, 1h
        (480, 2400, 14400),  # P2, 4h
        (2880, 14400, 86400),  # P3, 24h
    ]
    for t in got.values():
        assert t.repeat_interval % t.group_interval == 0


def test_shipped_route_tree(shipped: Rendered) -> None:
    _, out = shipped
    config = _config(out)
    root = config["route"]
    assert root["receiver"] == C.NULL_RECEIVER
    assert root["group_by"] == ["alertname", "service", "slo", "component"]
    first = root["routes"][0]
    assert first["matchers"] == ['alertname="BZZZWatchdog"']
    assert first["receiver"] == "heartbeat"
    assert (first["group_wait"], first["group_interval"], first["repeat_interval"]) == (
        "0s",
        "1m",
        "1m",
    )
    p0 = _top_route(config, 'severity="P0"')
    assert (p0["group_wait"], p0["group_interval"], p0["repeat_interval"]) == (
        "30s",
        "2m30s",
        "15m",
    )
    assert [r["receiver"] for r in p0["routes"]] == ["pager", "slack-bzzz-alerts"]
    assert all(r["continue"] for r in p0["routes"])
    assert all("mute_time_intervals" not in r for r in p0["routes"])
    p1 = _top_route(config, 'severity="P1"')
    assert [r["receiver"] for r in p1["routes"]] == ["slack-bzzz-alerts", "ticket"]
    for name, receiver in (("P2", "ticket"), ("P3", "digest")):
        route = _top_route(config, f'severity="{name}"')
        assert route["routes"] == [
            {
                "receiver": receiver,
                "mute_time_intervals": ["weekly-maintenance"],
                "continue": True,
            }
        ]
    esc0 = _top_route(config, 'escalation="true"', 'severity="P0"')
    assert [r["receiver"] for r in esc0["routes"]] == ["tech-lead", "infra-team", "management"]
    esc1 = _top_route(config, 'escalation="true"', 'severity="P1"')
    assert [r["receiver"] for r in esc1["routes"]] == ["tech-lead"]
    # Escalations are tried before the severities they share the severity label with.
    order = [tuple(r.get("matchers", ())) for r in root["routes"]]
    assert order.index(('escalation="true"', 'severity="P0"')) < order.index(('severity="P0"',))
    # Explanation holds are routed to nobody before anything can catch them.
    assert root["routes"][1] == {
        "matchers": ['alertname="BZZZExplanationHold"'],
        "receiver": C.NULL_RECEIVER,
    }
    # The last route catches every alert no severity route took, with P0's timings.
    catch_all = root["routes"][-1]
    assert "matchers" not in catch_all
    assert (catch_all["group_wait"], catch_all["group_interval"]) == ("30s", "2m30s")
    assert catch_all["routes"] == [{"receiver": "slack-bzzz-alerts", "continue": True}]


def test_shipped_receivers_name_secret_files_only(shipped: Rendered) -> None:
    _, out = shipped
    receivers = {r["name"]: r for r in _config(out)["receivers"]}
    assert receivers[C.NULL_RECEIVER] == {"name": C.NULL_RECEIVER}
    pager = receivers["pager"]["pagerduty_configs"][0]
    assert pager["routing_key_file"] == "/run/secrets/bzzz_pagerduty_routing_key"
    assert "routing_key" not in pager and "service_key" not in pager
    slack = receivers["slack-bzzz-alerts"]["slack_configs"][0]
    assert slack["api_url_file"] == "/run/secrets/bzzz_slack_webhook_url"
    assert slack["channel"] == "#bzzz-alerts" and "api_url" not in slack
    email = receivers["digest"]["email_configs"][0]
    assert email["auth_password_file"] == "/run/secrets/bzzz_smtp_password"
    assert "auth_password" not in email
    ticket = receivers["ticket"]["webhook_configs"][0]
    assert ticket["http_config"]["authorization"] == {
        "type": "Bearer",
        "credentials_file": "/run/secrets/bzzz_ticket_bridge_token",
    }


FORBIDDEN_KEYS = {
    # Deprecated matching syntax; `matchers:` is the only one current releases keep.
    "match",
    "match_re",
    "source_match",
    "source_match_re",
    "target_match",
    "target_match_re",
    # Not in 0.25 (webhook url_file) or not wanted (msteams).
    "url_file",
    "msteams_configs",
    # Secrets in line.
    "api_url",
    "routing_key",
    "service_key",
    "auth_password",
    "auth_secret",
    "credentials",
    "password",
}


def _keys(data: Any) -> set[str]:
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in _keys(v)}
    if isinstance(data, list):
        return {k for v in data for k in _keys(v)}
    return set()


def test_no_deprecated_or_secret_keys(any_spec: Rendered) -> None:
    _, out = any_spec
    assert not _keys(_config(out)) & FORBIDDEN_KEYS


def test_shipped_inhibitions_cover_the_issue(shipped: Rendered) -> None:
    _, out = shipped
    rules = _config(out)["inhibit_rules"]
    pairs = [(r["source_matchers"], r["target_matchers"], r.get("equal")) for r in rules]
    # P0 system health hides only less severe component alerts (not P0 BZZZNoAdminElected).
    assert (
        ['alertname="BZZZSystemHealthCritical"', 'severity="P0"'],
        [
            'component=~"pubsub|dht|election|slurp|ucxi"',
            'severity=~"P1|P2|P3"',
            'alertname!="BZZZWatchdog"',
        ],
        ["service"],
    ) in pairs
    # A partition of one agent explains that agent's alerts only.
    assert (
        ['alertname="BZZZInsufficientPeers"', 'severity="P1"'],
        ['alertname="BZZZDHTReplicationDegraded"', 'severity=~"P2|P3"'],
        ["service", "instance"],
    ) in pairs
    # A page standing for its SLO's ticket tiers is in the rules (one tier per incident), not
    # an inhibition: none compares tiers.
    assert not [r for r in rules if any("tier=" in m for m in r["target_matchers"])]
    # The partition and the P2P SLO burn are one incident.
    assert (
        ['alertname="BZZZInsufficientPeers"'],
        ['slo="p2p-connectivity"', 'alert_kind="burn_rate"', 'alertname!="BZZZWatchdog"'],
        ["service", "swarm_task_slot"],
    ) in pairs
    # Nothing hides escalations as such any more: they follow the alert they escalate.
    assert not [r for r in rules if 'alert_kind!="escalation"' in r["target_matchers"]]


def test_shipped_maintenance_window(shipped: Rendered) -> None:
    _, out = shipped
    assert _config(out)["time_intervals"] == [
        {
            "name": "weekly-maintenance",
            "time_intervals": [
                {
                    "weekdays": ["sunday"],
                    "times": [{"start_time": "02:00", "end_time": "04:00"}],
                    "location": "UTC",
                }
            ],
        }
    ]


def test_templates_are_referenced_relative_to_the_config(shipped: Rendered) -> None:
    _, out = shipped
    config = _config(out)
    assert config["templates"] == ["templates/*.tmpl"]
    template = (out / C.ALERTMANAGER_TEMPLATE).read_text()
    assert template.startswith("{{/* Generated by bzzzmon")
    for needle in (
        'define "bzzzmon.title"',
        'define "bzzzmon.text"',
        'define "bzzzmon.slack.text"',
        '(index .Annotations "summary")',
        '(index .Annotations "description")',
        '(index .Annotations "runbook_url")',
        '(index .Annotations "dashboard_url")',
        "https://alertmanager.chorus.services/#/silences/new?filter=%7B",
    ):
        assert needle in template
    slack = next(r for r in config["receivers"] if r["name"] == "slack-bzzz-alerts")
    assert slack["slack_configs"][0]["text"] == '{{ template "bzzzmon.slack.text" . }}'


def test_without_an_alertmanager_url_the_silence_link_uses_external_url(minimal: Rendered) -> None:
    _, out = minimal
    template = (out / C.ALERTMANAGER_TEMPLATE).read_text()
    assert "{{ .ExternalURL }}/#/silences/new?filter=" in template


def test_amtool_check_config_accepts_every_spec_from_any_directory(
    any_spec: Rendered, tmp_path: Path
) -> None:
    _, out = any_spec
    result = amtool.check_config(out)
    assert result is not None and result.ok, result.output if result else ""
    assert "1 templates" in result.output
    # Templates resolve against the config file, not the working directory.
    again = subprocess.run(
        ["amtool", "check-config", str(out / C.ALERTMANAGER_CONFIG)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stdout + again.stderr


def test_amtool_check_config_fails_on_a_broken_template(shipped: Rendered, tmp_path: Path) -> None:
    _, out = shipped
    broken = tmp_path / "out"
    (broken / C.ALERTMANAGER_TEMPLATES_DIR).mkdir(parents=True)
    (broken / C.ALERTMANAGER_CONFIG).write_text((out / C.ALERTMANAGER_CONFIG).read_text())
    (broken / C.ALERTMANAGER_TEMPLATE).write_text('{{ define "bzzzmon.text" }}{{ if }}{{ end }}')
    result = amtool.check_config(broken)
    assert result is not None and not result.ok


def test_minimal_spec_routes_everything_to_blackhole(minimal: Rendered) -> None:
    _, out = minimal
    config = _config(out)
    assert config["receivers"] == [{"name": C.NULL_RECEIVER}]
    assert all(r["receiver"] == C.NULL_RECEIVER for r in config["route"]["routes"])
    assert "inhibit_rules" not in config and "time_intervals" not in config
    assert not (out / C.ESCALATION_RULES).exists()


def test_teams_spec_team_routes_and_mutes(teams: Rendered) -> None:
    _, out = teams
    config = _config(out)
    p2 = _top_route(config, 'severity="P2"')
    assert [(r.get("matchers"), r["receiver"]) for r in p2["routes"]] == [
        (None, "tickets"),
        (['component="database"'], "db-team"),
        (['component=~"cart|checkout"'], "cart-team"),
        (['component=~"cart|checkout"'], "chat"),
    ]
    assert all(r["mute_time_intervals"] == ["weekend-deploys"] for r in p2["routes"])
    p3 = _top_route(config, 'severity="P3"')
    assert all(
        r["mute_time_intervals"] == ["nightly-backup", "weekend-deploys"] for r in p3["routes"]
    )
    # chat already gets P0: the cart team's route does not send it twice.
    p0 = _top_route(config, 'severity="P0"')
    assert [r["receiver"] for r in p0["routes"]] == ["oncall-pager", "chat", "db-team", "cart-team"]
    berlin = next(t for t in config["time_intervals"] if t["name"] == "nightly-backup")
    assert berlin["time_intervals"][0]["location"] == "Europe/Berlin"
    tickets = next(r for r in config["receivers"] if r["name"] == "tickets")
    assert tickets["webhook_configs"][0]["max_alerts"] == 20


def test_escalation_rules(shipped: Rendered) -> None:
    plan, out = shipped
    data = load_yaml(out / C.ESCALATION_RULES)
    assert isinstance(data, dict)
    escalations, holds = data["groups"]
    assert (escalations["name"], holds["name"]) == ("bzzz-escalation", "bzzz-explanations")
    by_name = {r["alert"]: r for r in escalations["rules"]}
    assert set(by_name) == {"BZZZP0ResolutionTargetMissed", "BZZZP1ResolutionTargetMissed"}
    p0 = by_name["BZZZP0ResolutionTargetMissed"]
    # Counted firing minutes, not for: (a flap would restart for:).
    assert "for" not in p0
    assert "[2h12m:1m]) > 120 and " in p0["expr"]
    assert "[4h24m:1m]) > 240 and " in by_name["BZZZP1ResolutionTargetMissed"]["expr"]
    # The escalated alert's own alert_kind stays: silences on it cover the escalation.
    assert p0["labels"] == {"escalation": "true", "service": "bzzz", "severity": "P0"}
    assert 'ALERTS{alertstate="firing", severity="P0", ' in p0["expr"]
    assert (
        'alertname!~"BZZZP0ResolutionTargetMissed|BZZZP1ResolutionTargetMissed|BZZZWatchdog|'
        'BZZZExplanationHold"' in p0["expr"]
    )
    assert p0["annotations"]["runbook_url"].endswith("#escalation-procedures")
    assert [r["labels"]["explanation"] for r in holds["rules"]] == [
        "partition-is-the-p2p-burn",
        "most-agents-down-explains-each",
        "no-admin-is-the-election-burn",
        "dht-errors-explain-dht-latency",
        "dht-burn-explains-error-rate",
        "slurp-burn-explains-error-rate",
        "ucxi-burn-explains-error-rate",
        "system-health-is-the-health-check-burn",
        "no-admin-is-the-election-health-check-burn",
        "dht-burn-is-its-health-check-burn",
        "slurp-burn-is-its-health-check-burn",
        "ucxi-burn-is-its-health-check-burn",
    ]
    assert {r["alert"] for r in holds["rules"]} == {"BZZZExplanationHold"}
    # A hold also fires while its cause is pending, and only then without its window.
    no_admin = next(
        r["expr"]
        for r in holds["rules"]
        if r["labels"]["explanation"] == "no-admin-is-the-election-burn"
    )
    assert no_admin.startswith(
        "max without (alertstate, alertname, severity) "
        '(ALERTS{alertstate="pending", alertname="BZZZNoAdminElected", '
    )
    firing_half = " or max without (alertstate, alertname, severity) (max_over_time(ALERTS{"
    assert firing_half + 'alertstate="firing", ' in no_admin
    prometheus = prometheus_config.config(plan)
    assert prometheus["alerting"]["alert_relabel_configs"] == [
        {
            "source_labels": ["escalation", "escalated_alert"],
            "regex": "true;(.+)",
            "target_label": "alertname",
            "replacement": "$1",
        }
    ]
    check = subprocess.run(
        ["promtool", "check", "rules", str(out / C.ESCALATION_RULES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("name", ["shipped", "teams"])
def test_output_is_deterministic(name: str, request: pytest.FixtureRequest) -> None:
    from bzzzmon.render import alertmanager, escalation

    plan, _ = request.getfixturevalue(name)
    first = alertmanager.render(plan) | escalation.render(plan)
    second = alertmanager.render(plan) | escalation.render(plan)
    assert first == second
    assert all(text.endswith("\n") for text in first.values())
