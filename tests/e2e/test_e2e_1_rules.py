"""Every generated rule evaluates on the live Prometheus: no rule errs on the real series."""

from __future__ import annotations

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.stack import Stack


def test_every_generated_rule_group_is_loaded(stack: Stack, plan: Plan) -> None:
    names = {g["name"] for g in stack.prometheus.rule_groups()}
    for slo in plan.slos:
        for part in ("sli", "meta", "alerts"):
            assert C.slo_group(plan.service.name, slo.name, part) in names


def test_every_rule_evaluates_without_error(stack: Stack) -> None:
    def evaluated() -> list[dict[str, object]]:
        rules = [r for g in stack.prometheus.rule_groups() for r in g["rules"]]
        return rules if all(r.get("health") != "unknown" for r in rules) else []

    rules = stack.wait_until(evaluated, timeout=30, what="every rule to be evaluated once")
    broken = [f"{r['name']}: {r.get('lastError')}" for r in rules if r.get("health") != "ok"]
    assert broken == []


def test_every_target_is_scraped(stack: Stack) -> None:
    up = stack.prometheus.targets_up()
    assert len(up) == len(stack.sim.agent_targets) + 1 if stack.sim else False
    assert all(up.values()), up
