"""docs/alerts.md: every alert, every SLO, exact numbers."""

from __future__ import annotations

from bzzzmon import conventions as C
from bzzzmon.build import render_all
from bzzzmon.lint.rules_lint import rule_refs
from bzzzmon.render.catalog import exact_duration
from bzzzmon.spec.names import explanation_hold_alert_name
from tests.review.conftest import SMALL, plan_of
from tests.shipped import BZZZ_SPECS, bzzz_plan


def test_lists_every_alert_and_slo() -> None:
    for spec in (BZZZ_SPECS, SMALL):
        plan = plan_of(spec)
        files = render_all(plan)
        doc = files[C.ALERT_CATALOG]
        hold = explanation_hold_alert_name(plan)  # routing plumbing, notifies nobody
        for ref in rule_refs(files):
            if "alert" in ref.rule and ref.rule["alert"] != hold:
                assert f"### {ref.rule['alert']}" in doc
                assert ref.rule["annotations"]["runbook_url"] in doc
        for slo in plan.slos:
            assert f"(`{slo.name}`)" in doc


def test_exact_numbers() -> None:
    doc = render_all(bzzz_plan())[C.ALERT_CATALOG]
    # dht-operations: 99% over 30d; page-fast 14.4 x 1% = 14.4%, detection 0.144 h + 2m.
    assert "- **Error budget:** 1% of events, 7 h 12 min of total outage per 30d" in doc
    assert "| page-fast | P1 | 1h / 5m | 2% | 14.4 | 14.4% | 2m | 10 min 38.4 s | 2 d 2 h |" in doc
    assert "| P0 | Critical |" in doc
    assert "Notifies:** pager, slack-bzzz-alerts" in doc


def test_exact_duration() -> None:
    from fractions import Fraction

    assert exact_duration(Fraction(3192, 5)) == "10 min 38.4 s"
    assert exact_duration(Fraction(3600)) == "1 h"
    assert exact_duration(Fraction(1, 3)).startswith("0.333")


def test_catalog_alerts_are_exactly_the_rendered_alerts() -> None:
    """The catalog is built from the plan: it must describe every alerting rule the rule files
    hold, in their order, and nothing else (but the explanations' hold rules, which notify
    nobody)."""
    import yaml

    from bzzzmon.render.catalog import alerting_rules

    for spec in (BZZZ_SPECS, SMALL):
        plan = plan_of(spec)
        files = render_all(plan)
        rendered = [
            rule
            for path, text in sorted(files.items())
            if path.startswith(C.RULES_DIR + "/")
            for group in yaml.safe_load(text)["groups"]  # the text itself, not cached data
            for rule in group["rules"]
            if "alert" in rule and rule["alert"] != explanation_hold_alert_name(plan)
        ]
        assert alerting_rules(plan) == rendered
