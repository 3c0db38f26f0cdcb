"""The dashboards: valid for Grafana's schema and the SDK's own model, linked from every alert,
drawing the exact burn-rate factors, and byte-for-byte deterministic."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard
from jsonschema import Draft7Validator

from bzzzmon import conventions as C
from bzzzmon.lint import dashboards as lint
from bzzzmon.model import Plan
from bzzzmon.promql.numbers import format_fraction
from bzzzmon.render.dashboards import queries as Q
from bzzzmon.render.grafana import panel_queries
from bzzzmon.render.output import Files
from tests.grafana.conftest import SCHEMA_DIR, render_files


def boards(files: Files) -> dict[str, dict[str, Any]]:
    return {board["uid"]: board for _, board in Q.dashboards(files)}


def _schema(name: str) -> dict[str, Any]:
    path = SCHEMA_DIR / f"{name}.jsonschema.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _definition(schema: dict[str, Any], name: str) -> Draft7Validator:
    return Draft7Validator({"$ref": f"#/definitions/{name}", "definitions": schema["definitions"]})


def schema_errors(board: dict[str, Any]) -> list[str]:
    """Errors of the dashboard against Grafana's dashboard schema, of each panel's options and
    field config against its panel kind's schema, and of each query against Prometheus'."""
    errors = [
        f"{list(e.absolute_path)}: {e.message}"
        for e in Draft7Validator(_schema("dashboard")).iter_errors(board)
    ]
    query = Draft7Validator(_schema("prometheus"))
    for panel in Q.panels(board):
        if panel.get("type") == "row":
            continue
        kind = _schema(panel["type"])
        parts = (("options", "Options"), ("fieldConfig/defaults/custom", "FieldConfig"))
        for where, definition in parts:
            if definition not in kind["definitions"]:
                continue
            value: Any = panel
            for key in where.split("/"):
                value = value.get(key, {})
            errors += [
                f"panel {panel['title']!r} {where}: {e.message}"
                for e in _definition(kind, definition).iter_errors(value)
            ]
        for target in panel.get("targets", []):
            errors += [
                f"panel {panel['title']!r} target: {e.message}" for e in query.iter_errors(target)
            ]
    return errors


def test_every_dashboard_is_valid_for_grafanas_schemas(files: Files) -> None:
    found = boards(files)
    assert len(found) >= 3
    for uid, board in found.items():
        assert schema_errors(board) == [], uid


def test_the_schema_check_rejects_a_broken_dashboard(files: Files) -> None:
    board = copy.deepcopy(boards(files)["bzzz-overview"])
    board["panels"][1]["gridPos"]["w"] = "wide"
    board["templating"]["list"][0]["hide"] = 7
    errors = schema_errors(board)
    assert any("'wide'" in e for e in errors)
    assert any("7" in e for e in errors)


def test_every_dashboard_round_trips_through_the_sdk_model(files: Files) -> None:
    for uid, board in boards(files).items():
        model = Dashboard.from_json(board)
        assert json.loads(json.dumps(model, cls=JSONEncoder)) == board, uid


def test_uids_are_the_ones_alerts_link_to(plan: Plan, files: Files) -> None:
    uids = set(boards(files))
    svc = plan.service.name
    assert {
        C.dashboard_uid(svc, "overview"),
        C.dashboard_uid(svc, "exporter"),
        *(s.dashboard_uid for s in plan.slos),
    } == uids
    linked = set()
    for path, text in files.items():
        if path.startswith(C.RULES_DIR + "/"):
            for group in yaml.safe_load(text)["groups"]:
                for rule in group["rules"]:
                    url = rule.get("annotations", {}).get("dashboard_url")
                    if url:
                        assert url.startswith(plan.service.grafana_url + "/d/"), url
                        linked.add(url.rsplit("/d/", 1)[1])
    assert linked, "no alert carries a dashboard_url"
    assert linked <= uids
    for uid in uids:
        assert f"{C.GRAFANA_DASHBOARDS_DIR}/{uid}.json" in files


def test_slo_dashboards_draw_every_tier_at_its_exact_factor(plan: Plan, files: Files) -> None:
    found = boards(files)
    for slo in plan.slos:
        exprs = {q.expr for q in Q.queries(found[slo.dashboard_uid])}
        titles = {q.panel for q in Q.queries(found[slo.dashboard_uid])}
        for tier in slo.tiers:
            assert f"vector({format_fraction(tier.factor)})" in exprs, (slo.name, tier.name)
            assert any(tier.name in t and tier.long_text in t for t in titles)
        assert any(C.REC_BUDGET_REMAINING in e for e in exprs)
        assert any(C.REC_OBJECTIVE in e for e in exprs)
        assert any("ALERTS" in e and f'slo="{slo.name}"' in e for e in exprs)
    # 28d periods give factors such as 13.44 that binary floats cannot hold: printed exactly.
    all_exprs = {q.expr for b in found.values() for q in Q.queries(b)}
    assert "vector(13.44)" in all_exprs


def test_dashboards_say_which_spec_they_come_from(plan: Plan, files: Files) -> None:
    found = boards(files)
    for slo in plan.slos:
        assert slo.origin.file in found[slo.dashboard_uid]["description"]
    for board in found.values():
        assert "Generated by bzzzmon" in board["description"]
        assert "DO NOT EDIT" in board["description"]


def test_every_panel_has_a_title_a_unit_and_the_datasource_variable(files: Files) -> None:
    for uid, board in boards(files).items():
        names = [v["name"] for v in board["templating"]["list"]]
        assert C.VAR_DATASOURCE in names, uid
        for panel in Q.panels(board):
            assert panel["title"], (uid, panel)
            if panel["type"] == "row":
                assert panel["panels"] == [], "panels inside rows are dropped by the SDK"
                continue
            assert panel["fieldConfig"]["defaults"]["unit"], (uid, panel["title"])
            assert panel["datasource"]["uid"] == "${datasource}"
            refs = [t["refId"] for t in panel["targets"]]
            assert refs and len(set(refs)) == len(refs) and all(refs)
    ids = [p["id"] for p in Q.panels(boards(files)["bzzz-overview"])]
    assert len(ids) == len(set(ids))


def test_rate_windows_use_rate_interval(plan: Plan, files: Files) -> None:
    # A window the spec itself writes in an SLI (admin-elected's last_over_time) is shown as is.
    written = {w for slo in plan.slos for w in re.findall(r"\[([^\]:]+)\]", slo.sli.raw)}
    assert written == {"2m"}
    for uid, panel, expr in [
        (q.uid, q.panel, q.expr) for _, b in Q.dashboards(files) for q in Q.queries(b)
    ]:
        if "rate(" in expr or "_over_time(" in expr:
            ok = "[$__rate_interval]" in expr or any(f"[{w}]" in expr for w in written)
            assert ok, (uid, panel, expr)


def test_the_shipped_dashboards_pass_the_lint(plan: Plan, files: Files) -> None:
    assert lint.check(plan, files) == []


def test_output_is_deterministic(plan: Plan, files: Files) -> None:
    assert render_files(plan) == files


def test_panel_queries_substitute_grafana_variables(files: Files) -> None:
    found = panel_queries(files)
    assert len(found) > 50
    uids = {uid for uid, _, _ in found}
    assert {"bzzz-overview", "bzzz-exporter"} <= uids
    for uid, title, expr in found:
        assert "$" not in expr, (uid, title, expr)
        assert title
    assert any("[1m]" in expr for _, _, expr in found)
    assert any('instance=~".*"' in expr for _, _, expr in found)


def test_provisioning_points_at_the_fixed_datasource_and_dashboard_path(files: Files) -> None:
    provider = yaml.safe_load(files[f"{C.GRAFANA_PROVISIONING_DIR}/dashboards/bzzzmon.yml"])
    datasource = yaml.safe_load(files[f"{C.GRAFANA_PROVISIONING_DIR}/datasources/bzzzmon.yml"])
    assert provider["apiVersion"] == 1
    assert provider["providers"][0]["options"]["path"] == C.GRAFANA_DASHBOARDS_PATH
    (ds,) = datasource["datasources"]
    assert ds["uid"] == C.DATASOURCE_UID and ds["type"] == "prometheus"
    for board in boards(files).values():
        current = board["templating"]["list"][0]["current"]
        assert current["value"] == C.DATASOURCE_UID
