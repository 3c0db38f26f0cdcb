"""The live Prometheus scrapes every part and evaluates every generated rule without error."""

from __future__ import annotations

from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.stack import Stack


def test_every_target_is_scraped(stack: Stack) -> None:
    assert stack.sim is not None
    up = stack.prometheus.targets_up()
    # The agents, the exporter and the simulator's cAdvisor stand-in (the spec reads cAdvisor).
    assert stack.sim.cadvisor_target is not None
    parts = [*stack.sim.agent_targets, stack.exporter_url.removeprefix("http://")]
    parts.append(stack.sim.cadvisor_target)
    assert sorted(up) == sorted(f"http://{t}/metrics" for t in parts)
    assert all(up.values()), up


def test_every_generated_rule_group_is_loaded(stack: Stack, plan: Plan) -> None:
    names = {g["name"] for g in stack.prometheus.rule_groups()}
    for slo in plan.slos:
        for part in ("sli", "meta", "alerts"):
            assert C.slo_group(plan.service.name, slo.name, part) in names


def test_every_rule_evaluates_without_error(stack: Stack) -> None:
    """A rule that errs on real series (e.g. "vector cannot contain metrics with the same
    labelset") records nothing, so every alert built on it is silently dead."""

    def evaluated() -> list[tuple[str, dict[str, Any]]]:
        rules = [(g["name"], r) for g in stack.prometheus.rule_groups() for r in g["rules"]]
        return rules if all(r.get("health") != "unknown" for _, r in rules) else []

    rules = stack.wait_until(evaluated, timeout=30, what="every rule to be evaluated once")
    broken = [
        f"{group} / {rule['name']}: {rule.get('lastError')}"
        for group, rule in rules
        if rule.get("health") != "ok"
    ]
    assert broken == [], "rules failing on the live Prometheus:\n" + "\n".join(broken)
