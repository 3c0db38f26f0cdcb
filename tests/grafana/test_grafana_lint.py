"""The dashboard lint reports broken panels with the dashboard and the panel, in the build too."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bzzzmon import build as build_module
from bzzzmon import conventions as C
from bzzzmon.lint import Finding
from bzzzmon.lint import dashboards as lint
from bzzzmon.model import Plan
from bzzzmon.render import grafana
from bzzzmon.render.output import Files, dump_json
from tests.shipped import copy_bzzz_alone

OVERVIEW = f"{C.GRAFANA_DASHBOARDS_DIR}/bzzz-overview.json"
PANEL = "Connected peers per agent"


def edit_panel(files: Files, title: str, change: Callable[[dict[str, Any]], None]) -> Files:
    """``files`` with the overview panel called ``title`` changed in place."""
    board = json.loads(files[OVERVIEW])
    (panel,) = [p for p in board["panels"] if p.get("title") == title]
    change(panel)
    return {**files, OVERVIEW: dump_json(board)}


def set_expr(expr: str) -> Callable[[dict[str, Any]], None]:
    def change(panel: dict[str, Any]) -> None:
        panel["targets"][0]["expr"] = expr

    return change


def findings(plan: Plan, files: Files, rule: str) -> list[Finding]:
    found = lint.check(plan, files)
    assert found, "the lint found nothing"
    return [f for f in found if f.rule == rule]


def assert_names_panel(found: list[Finding], title: str = PANEL) -> None:
    assert found
    for f in found:
        assert f.level == "error"
        assert "dashboard bzzz-overview" in f.where
        assert repr(title) in f.where
        assert "bzzz-overview" in f.format() and title in f.format()


def test_a_query_that_does_not_parse(plan: Plan, files: Files) -> None:
    broken = edit_panel(files, PANEL, set_expr('sum(rate(bzzz_p2p_connected_peers{job="x"}[1m])'))
    found = findings(plan, broken, "panel-parse")
    assert_names_panel(found)
    assert "query A" in found[0].where


def test_a_metric_that_does_not_exist(plan: Plan, files: Files) -> None:
    broken = edit_panel(files, PANEL, set_expr('bzzz_p2p_peers_connected{job="bzzz-agent"}'))
    found = findings(plan, broken, "panel-metric")
    assert_names_panel(found)
    assert "bzzz_p2p_peers_connected" in found[0].message


def test_a_metric_regex_that_matches_nothing(plan: Plan, files: Files) -> None:
    broken = edit_panel(files, PANEL, set_expr('{__name__=~"bzzz_nothing_.*"}'))
    assert_names_panel(findings(plan, broken, "panel-metric"))


def test_a_recording_rule_the_build_does_not_produce(plan: Plan, files: Files) -> None:
    broken = edit_panel(
        files, PANEL, set_expr(C.rec_name(C.REC_ERROR_RATIO, "17m") + '{slo="dht-operations"}')
    )
    assert_names_panel(findings(plan, broken, "panel-metric"))


def test_recording_rules_are_read_from_the_rendered_rule_files(plan: Plan, files: Files) -> None:
    ok = edit_panel(
        files, PANEL, set_expr(C.rec_name(C.REC_ERROR_RATIO, "1h") + '{slo="dht-operations"}')
    )
    assert lint.check(plan, ok) == []
    without_rules = {p: t for p, t in ok.items() if not p.startswith(C.RULES_DIR)}
    dangling = [f for f in lint.check(plan, without_rules) if f.rule == "panel-metric"]
    assert_names_panel([f for f in dangling if f"'{PANEL}'" in f.where])
    assert any("bzzz-slo-" in f.where for f in dangling)
    # The overview's SLO summary reads the recording rules too.
    assert any("bzzz-overview" in f.where and "'Error budget left'" in f.where for f in dangling)


def test_a_counter_outside_rate(plan: Plan, files: Files) -> None:
    broken = edit_panel(files, PANEL, set_expr(f'sum({C.AGENT_ERRORS}{{job="bzzz-agent"}})'))
    found = findings(plan, broken, "panel-counter")
    assert_names_panel(found)
    assert C.AGENT_ERRORS in found[0].message


def test_a_histogram_bucket_outside_rate(plan: Plan, files: Files) -> None:
    broken = edit_panel(files, PANEL, set_expr(f"{C.AGENT_DHT_LATENCY}_bucket"))
    assert_names_panel(findings(plan, broken, "panel-counter"))


def test_a_fixed_rate_window(plan: Plan, files: Files) -> None:
    broken = edit_panel(
        files, PANEL, set_expr(f'sum(rate({C.AGENT_ERRORS}{{job="bzzz-agent"}}[5m]))')
    )
    found = findings(plan, broken, "panel-range")
    assert_names_panel(found)
    assert "[5m]" in found[0].message


def test_a_deliberate_long_window_is_allowed(plan: Plan, files: Files) -> None:
    period = plan.slos[0].period_text
    ok = edit_panel(
        files, PANEL, set_expr(f'sum(increase({C.AGENT_ERRORS}{{job="bzzz-agent"}}[{period}]))')
    )
    assert lint.check(plan, ok) == []


def test_an_unknown_variable(plan: Plan, files: Files) -> None:
    broken = edit_panel(files, PANEL, set_expr('bzzz_p2p_connected_peers{instance=~"$node"}'))
    assert_names_panel(findings(plan, broken, "panel-variable"))


def test_a_panel_without_unit(plan: Plan, files: Files) -> None:
    def drop_unit(panel: dict[str, Any]) -> None:
        del panel["fieldConfig"]["defaults"]["unit"]

    assert_names_panel(findings(plan, edit_panel(files, PANEL, drop_unit), "panel-unit"))


def test_a_panel_without_title(plan: Plan, files: Files) -> None:
    def drop_title(panel: dict[str, Any]) -> None:
        panel["title"] = ""

    found = findings(plan, edit_panel(files, PANEL, drop_title), "panel-title")
    assert found and "dashboard bzzz-overview panel" in found[0].where


def test_a_dashboard_an_alert_links_to_is_missing(plan: Plan, files: Files) -> None:
    missing = {p: t for p, t in files.items() if not p.endswith("/bzzz-exporter.json")}
    found = findings(plan, missing, "dashboard-link")
    (down,) = [f for f in found if f.subject == "alert BZZZExporterDown"]
    assert re.fullmatch(r"specs/bzzz/alerts\.yaml:\d+:\d+", down.where), down.where
    assert down.key == "alerts[].dashboard" and "slo:<name" in down.hint


def test_the_build_reports_a_broken_panel_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_grafana(plan: Plan) -> Files:
        files = grafana.render(plan)
        return edit_panel(files, PANEL, set_expr("bzzz_no_such_metric"))

    renderers = tuple(broken_grafana if r is grafana.render else r for r in build_module.RENDERERS)
    monkeypatch.setattr(build_module, "RENDERERS", renderers)
    out = tmp_path / "generated"
    result = build_module.build(copy_bzzz_alone(tmp_path), out, verify=False)
    assert not result.ok
    errors = [f for f in result.errors if f.rule == "panel-metric"]
    assert_names_panel(errors)
    assert "bzzz_no_such_metric" in errors[0].format()
    assert not out.exists()


def test_a_name_regex_over_several_counters_inside_rate(plan: Plan, files: Files) -> None:
    # Prometheus fails this query: rate() drops the names and put/get series collide.
    selector = '{__name__=~"bzzz_dht_(put|get)_operations_total", job="bzzz-agent"}'
    expr = f"sum(rate({selector}[$__rate_interval]))"
    found = findings(plan, edit_panel(files, PANEL, set_expr(expr)), "panel-name-regex")
    assert_names_panel(found)
    assert C.AGENT_DHT_GET in found[0].message and C.AGENT_DHT_PUT in found[0].message


def test_a_field_the_sdk_model_does_not_know(plan: Plan, files: Files) -> None:
    board = json.loads(files[OVERVIEW])
    board["graph_tooltip"] = 1  # Grafana's field is graphTooltip
    board["panels"][0]["panels"] = [board["panels"][1]]  # dropped by Grafana: the row is expanded
    found = lint.check(plan, {**files, OVERVIEW: dump_json(board)})
    rules = {f.rule for f in found if "bzzz-overview" in f.where}
    assert {"dashboard-model", "row-panels"} <= rules
