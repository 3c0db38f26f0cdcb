"""An explanation's ``lead`` (issue 11): the hold also fires while the cause's burn is on course
to page within the lead, so an explained alert quicker than the page's long window stays quiet,
and stops with the burn, so nothing stays hidden once the burn is gone."""

from __future__ import annotations

from pathlib import Path

import yaml

from bzzzmon import conventions as C
from bzzzmon.render import escalation
from bzzzmon.verify.tools import run
from tests.review.conftest import needs_promtool
from tests.shipped import bzzz_plan

R1H = 'bzzzmon_slo:sli_error:ratio_rate1h{slo="slurp-events"}'
R5M = 'bzzzmon_slo:sli_error:ratio_rate5m{slo="slurp-events"}'
R6H = 'bzzzmon_slo:sli_error:ratio_rate6h{slo="slurp-events"}'
R30M = 'bzzzmon_slo:sli_error:ratio_rate30m{slo="slurp-events"}'
E1H = 'bzzzmon_slo:sli_total_events:rate1h{slo="slurp-events"}'
E6H = 'bzzzmon_slo:sli_total_events:rate6h{slo="slurp-events"}'


def _explanation(name: str) -> escalation.Inhibition:
    plan = bzzz_plan()
    return next(i for i in plan.routing.inhibitions if i.name == name)


def test_the_lead_half_of_the_slurp_hold() -> None:
    """Per named tier: the long window a lead of 15m ahead at the short window's burn (1h: a
    quarter of the way, 6h: a 24th) above the threshold, the short window above it now, the page
    tier's low-traffic guard; on the SLO's groups, with the service label equal compares."""
    plan = bzzz_plan()
    inh = _explanation("slurp-burn-explains-error-rate")
    fast = (
        f"({R1H} + ({R5M} - {R1H}) * 0.25) > (14.4 * 0.01) and {R5M} > (14.4 * 0.01) "
        f"and {E1H} * 3600 >= 100"
    )
    slow = (
        f"({R6H} + ({R30M} - {R6H}) * (1 / 24)) > (6 * 0.01) and {R30M} > (6 * 0.01) "
        f"and {E6H} * 21600 >= 100"
    )
    expected = f'label_replace(max by (slo) (({fast}) or ({slow})), "service", "bzzz", "", "")'
    assert escalation.lead_expr(plan, inh) == expected
    assert escalation.hold_expr(plan, inh).endswith(f" or {expected}")


def test_a_hold_without_a_lead_predicts_nothing() -> None:
    plan = bzzz_plan()
    for inh in plan.routing.inhibitions:
        if inh.hold and not inh.lead:
            assert "sli_error" not in escalation.hold_expr(plan, inh), inh.name


def _story(values: dict[str, str], checks: list[tuple[int, bool]]) -> dict[str, object]:
    query = 'ALERTS{alertname="BZZZExplanationHold", explanation="slurp-burn-explains-error-rate"}'
    labels = (
        'ALERTS{alertname="BZZZExplanationHold", alertstate="firing", '
        'explanation="slurp-burn-explains-error-rate", service="bzzz", severity="P3", '
        'slo="slurp-events"}'
    )
    return {
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in values.items()],
        "promql_expr_test": [
            {
                "expr": query,
                "eval_time": f"{minute}m",
                "exp_samples": [{"labels": labels, "value": 1}] if held else [],
            }
            for minute, held in checks
        ],
    }


@needs_promtool
def test_the_hold_leads_a_burn_and_ends_with_a_blip(tmp_path: Path) -> None:
    """SLURP failing 60% of its events on a 99% SLO (the e2e incident), sampled each minute with
    no cause in ALERTS: the 1h ratio climbs 1% a minute and crosses 14.4x only at 14.4 min, when
    the page goes pending; the hold starts at 4 min (0.04 + (0.48 - 0.04) / 4 = 0.15 > 0.144),
    before BZZZHighErrorRate's 10m for: has passed, and holds every minute until the page's
    pending takes over. A burn that stops at 10 min: the 5m ratio drains and the hold ends at 13 min
    (0.1 + (0.24 - 0.1) / 4 = 0.135), with the 1h ratio still at 0.1, so an explained alert still
    firing then notifies."""
    rules = tmp_path / C.ESCALATION_RULES
    rules.parent.mkdir(parents=True)
    rules.write_text(escalation.render(bzzz_plan())[C.ESCALATION_RULES])
    events = {E1H: "10+0x20", E6H: "10+0x20"}
    burning = _story(
        {R1H: "0+0.01x20", R5M: "0 0.12 0.24 0.36 0.48 0.6+0x15"} | events,
        [(0, False), (3, False), *((m, True) for m in range(4, 15))],
    )
    blip = _story(
        {R1H: "0+0.01x10 0.1+0x10", R5M: "0 0.12 0.24 0.36 0.48 0.6+0x5 0.48 0.36 0.24 0.12 0"}
        | events,
        [(4, True), (10, True), (11, True), (12, True), (13, False), (15, False)],
    )
    test = tmp_path / "lead.test.yml"
    doc = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [burning, blip],
    }
    test.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = run(["promtool", "test", "rules", str(test)])
    assert result.returncode == 0, result.output
