"""Unit tests of the stack's pure parts: the time-scale rewrite and the derived configs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bzzzmon.promql.parse import PromQLError
from bzzzmon.sim.backups import Backups
from bzzzmon.stack import Notification, StackError, TimeScale, Timing
from bzzzmon.stack.configs import alertmanager_config, exporter_config, file_patterns, sink_url
from bzzzmon.stack.processes import find_binary
from bzzzmon.stack.production import production_delay
from bzzzmon.stack.timescale import format_ms
from tests.shipped import bzzz_plan

SCALE = TimeScale(factor=60, min_range_ms=3000)


@pytest.mark.parametrize(
    ("expr", "scaled"),
    [
        ("rate(x[5m])", "rate(x[5s])"),
        (
            "sum_over_time(r[30d]) / sum_over_time(t[30d])",
            "sum_over_time(r[12h]) / sum_over_time(t[12h])",
        ),
        ("avg_over_time((1 - (s == bool 1))[5m:])", "avg_over_time((1 - (s == bool 1))[5s:])"),
        ("max_over_time(rate(x[1h])[1d:5m])", "max_over_time(rate(x[1m])[24m:5s])"),
        # A prorated window's coverage: window and step alike, so the points per window and
        # the divisor stay as generated.
        (
            "clamp_max(count_over_time(t:rate5m[2d19h12m:5m]) / 806, 1)",
            "clamp_max(count_over_time(t:rate5m[1h7m12s:5s]) / 806, 1)",
        ),
        ("x offset 1h", "x offset 1m"),
        ("rate(x[1m])", "rate(x[3s])"),  # never below min_range
        ("rate(x[90s])", "rate(x[3s])"),
        ("increase(x[15m]) > 3", "increase(x[15s]) > 3"),
    ],
)
def test_ranges_and_offsets_are_divided(expr: str, scaled: str) -> None:
    assert SCALE.expr(expr) == scaled


@pytest.mark.parametrize(
    ("expr", "scaled"),
    [
        # The low-traffic guard: events = the rate (now over 1h/60) times the seconds of 1h/60.
        ('r:rate1h{slo="a"} * 3600 >= 100', 'r:rate1h{slo="a"} * 60 >= 100'),
        ('r:rate6h{slo="a}"} * 21600 >= 100', 'r:rate6h{slo="a}"} * 360 >= 100'),
        ("r:rate1m * 60 >= 100", "r:rate1m * 3 >= 100"),  # the window's min_range, too
        # Not the rate's window in seconds, or not a rate named by its window: left alone.
        ("r:rate1h * 60 >= 100", "r:rate1h * 60 >= 100"),
        ("r:ratio_rate1h * 3600", "r:ratio_rate1h * 3600"),
        ('x{a=":rate1h * 3600"}', 'x{a=":rate1h * 3600"}'),
        ("r:rate1h * 3600.5", "r:rate1h * 3600.5"),
    ],
)
def test_seconds_of_a_rates_window_are_divided(expr: str, scaled: str) -> None:
    assert SCALE.expr(expr) == scaled


@pytest.mark.parametrize(
    ("expr", "scaled"),
    [
        # The slope is taken over 6h/60 now: a day ahead is a day of rule time, 86400/60 s.
        (
            'predict_linear(avail{fs!~"tmpfs|x"}[6h], 86400) < 0',
            'predict_linear(avail{fs!~"tmpfs|x"}[6m], 1440) < 0',
        ),
        ("predict_linear(rate(x[1h])[6h:5m], 90)", "predict_linear(rate(x[1m])[6m:5s], 1.5)"),
        # Not a number of seconds, or not predict_linear's horizon: left alone.
        ("predict_linear(x[6h], 3600 * 24)", "predict_linear(x[6m], 3600 * 24)"),
        ('x{a="predict_linear(y[1h], 86400)"}', 'x{a="predict_linear(y[1h], 86400)"}'),
        ("my_predict_linear_total * 86400", "my_predict_linear_total * 86400"),
    ],
)
def test_predict_linears_horizon_is_divided(expr: str, scaled: str) -> None:
    assert SCALE.expr(expr) == scaled


def test_string_literals_are_left_alone() -> None:
    expr = 'rate(x{slo="a[5m]", re=~"offset 1h|[0-9]"}[10m])'
    assert SCALE.expr(expr) == 'rate(x{slo="a[5m]", re=~"offset 1h|[0-9]"}[10s])'


def test_names_containing_offset_are_not_offsets() -> None:
    assert SCALE.expr("my_offset_total") == "my_offset_total"


def test_rewrite_must_leave_valid_promql() -> None:
    with pytest.raises(PromQLError):
        SCALE.expr("rate(x[5m]")


def test_format_ms() -> None:
    assert format_ms(90_000) == "1m30s"
    assert format_ms(1500) == "1s500ms"
    assert format_ms(0) == "0s"


def test_rule_file_scales_for_and_drops_group_interval() -> None:
    text = yaml.safe_dump(
        {
            "groups": [
                {
                    "name": "g",
                    "interval": "1m",
                    "rules": [
                        {"alert": "A", "expr": "rate(x[5m]) > 1", "for": "10m", "labels": {}},
                        {"record": "r:x:rate5m", "expr": "rate(x[5m])"},
                    ],
                }
            ]
        }
    )
    group = yaml.safe_load(SCALE.rule_file(text))["groups"][0]
    assert "interval" not in group
    alert, record = group["rules"]
    assert alert["for"] == "10s"
    assert alert["expr"] == "rate(x[5s]) > 1"
    assert record == {"record": "r:x:rate5m", "expr": "rate(x[5s])"}


GENERATED_AM: dict[str, Any] = {
    "global": {"resolve_timeout": "5m", "smtp_smarthost": "smtp:587"},
    "templates": ["templates/*.tmpl"],
    "route": {
        "receiver": "blackhole",
        "group_by": ["alertname"],
        "routes": [
            {
                "matchers": ['severity="P0"'],
                "receiver": "blackhole",
                "group_wait": "30s",
                "group_interval": "2m30s",
                "repeat_interval": "15m",
                "routes": [{"receiver": "pager", "continue": True}],
            }
        ],
    },
    "inhibit_rules": [{"source_matchers": ['alertname="A"'], "target_matchers": ['c="x"']}],
    "receivers": [
        {"name": "blackhole"},
        {"name": "pager", "pagerduty_configs": [{"routing_key_file": "/run/secrets/k"}]},
        {"name": "a b", "slack_configs": [{"channel": "#x"}], "email_configs": [{"to": "x@y"}]},
    ],
}


def test_alertmanager_config_keeps_routing_and_replaces_integrations() -> None:
    sink = "http://127.0.0.1:1/notify"
    config = alertmanager_config(
        GENERATED_AM, config_dir=Path("/gen/alertmanager"), sink=sink, timing=Timing()
    )
    assert config["global"] == {"resolve_timeout": "5m"}
    assert config["templates"] == ["/gen/alertmanager/templates/*.tmpl"]
    assert config["inhibit_rules"] == GENERATED_AM["inhibit_rules"]
    receivers = {r["name"]: r for r in config["receivers"]}
    assert receivers["blackhole"] == {"name": "blackhole"}  # silent stays silent
    assert receivers["pager"] == {
        "name": "pager",
        "webhook_configs": [{"url": f"{sink}/pager", "send_resolved": True}],
    }
    assert receivers["a b"]["webhook_configs"][0]["url"] == sink_url(sink, "a b") == f"{sink}/a%20b"
    route = config["route"]
    assert (route["group_wait"], route["group_interval"]) == ("4000ms", "2000ms")
    child = route["routes"][0]
    assert child["matchers"] == ['severity="P0"']
    assert (child["group_wait"], child["group_interval"], child["repeat_interval"]) == (
        "4000ms",
        "2000ms",
        "15m",
    )
    assert child["routes"] == [{"receiver": "pager", "continue": True}]
    assert GENERATED_AM["route"]["routes"][0]["group_wait"] == "30s"  # input untouched


def test_exporter_config_probes_the_simulator_only() -> None:
    generated = {
        "probe_interval": "15s",
        "probes": [
            {
                "name": "a",
                "type": "health_checks",
                "targets": {"static": [], "dns": [{"name": "tasks.x", "port": 8081}]},
            },
            {
                "name": "b",
                "type": "tcp",
                "component": "dht",
                "targets": {"static": ["walnut:9101"], "dns": []},
            },
        ],
    }
    agents = ["127.0.0.1:1", "127.0.0.1:2"]
    config = exporter_config(generated, agents=agents, timing=Timing())
    assert [p["targets"] for p in config["probes"]] == [{"static": agents, "dns": []}] * 2
    assert config["probe_interval"] == "1000ms"
    # The simulator serving the bootstrap node: the TCP probe probes it, not the agents.
    served = {"walnut:9101": "127.0.0.1:7"}
    config = exporter_config(generated, agents=agents, timing=Timing(), bootstrap=served)
    assert [p["targets"]["static"] for p in config["probes"]] == [agents, ["127.0.0.1:7"]]
    # A node it does not serve leaves the probe on the agents, never half on each.
    served = {"acacia:9103": "127.0.0.1:7"}
    config = exporter_config(generated, agents=agents, timing=Timing(), bootstrap=served)
    assert [p["targets"]["static"] for p in config["probes"]] == [agents, agents]


def test_file_probes_look_into_the_stacks_own_directory(tmp_path: Path) -> None:
    generated = {
        "probes": [
            {
                "name": "backup",
                "type": "file",
                "component": "postgres",
                "targets": {"files": ["/rust/bzzz-v2/backups/bzzz_*.sql.gz"]},
            }
        ]
    }
    config = exporter_config(generated, agents=[], timing=Timing(), files=tmp_path)
    assert config["probes"][0]["targets"] == {"files": [f"{tmp_path}/bzzz_*.sql.gz"]}
    seeded = Backups(file_patterns(generated, tmp_path)).seed()
    assert seeded == [tmp_path / "bzzz_stack.sql.gz"]
    assert seeded[0].stat().st_size == 4096
    assert not Path("/rust/bzzz-v2/backups/bzzz_stack.sql.gz").exists()


def test_a_missing_binary_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BZZZMON_PROMETHEUS", "/nonexistent/prometheus")
    with pytest.raises(StackError) as raised:
        find_binary("prometheus")
    assert str(raised.value) == (
        "prometheus was not found on PATH; install it with: "
        "apt-get install -y --no-install-recommends prometheus prometheus-alertmanager"
    )


def _note(status: str, starts_at: str, ends_at: str, severity: str) -> Notification:
    return Notification(
        receiver="slack",
        status=status,
        labels={"alertname": "A", "severity": severity},
        annotations={},
        starts_at=starts_at,
        ends_at=ends_at,
        received=0.0,
    )


def test_production_delay_scales_the_rule_part_and_adds_the_routes_wait() -> None:
    plan = bzzz_plan()
    on = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC).timestamp()
    # Fired 5 s after the fault at 60x: 5 min of rule time, plus P1's 2 min group_wait.
    fired = _note("firing", "2026-12-01T12:00:05.000Z", "2026-12-01T12:00:13.000Z", "P1")
    assert production_delay(plan, 60, fired, on) == 5 * 60 + 120
    # Resolved 1.5 s after the fault went off: 90 s, plus P0's 2m30s group_interval.
    resolved = _note("resolved", "2026-12-01T11:59:00.000Z", "2026-12-01T12:00:01.500Z", "P0")
    assert production_delay(plan, 60, resolved, on) == 90 + 150
    # No or an unknown severity: the catch-all's, the most urgent severity's timings (P0: 30 s).
    assert production_delay(plan, 60, _note("firing", fired.starts_at, "", "?"), on) == 300 + 30
