"""Build the generated tree the stack runs: the real pipeline, optionally on a shortened plan."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from bzzzmon import conventions as C
from bzzzmon.build import build, render_all, write_tree
from bzzzmon.model import Plan
from bzzzmon.spec.services import choose, load_service, paths_of
from bzzzmon.stack.processes import StackError


def with_resolution_targets(plan: Plan, targets: Mapping[str, int]) -> Plan:
    """The plan with some severities' resolution targets (seconds) replaced.

    The escalation path fires when an alert outlives its severity's resolution target (hours);
    tests shorten the target in the plan and render the real escalation rules from it, instead of
    hand-writing rules that merely resemble them.
    """
    unknown = sorted(set(targets) - {s.name for s in plan.severities})
    if unknown:
        raise ValueError(f"unknown severity {unknown[0]!r}")
    severities = tuple(
        dataclasses.replace(s, resolution_target=targets[s.name]) if s.name in targets else s
        for s in plan.severities
    )
    return dataclasses.replace(plan, severities=severities)


def build_verified(
    specs: Path, out: Path, service: str | None = None
) -> tuple[Plan, C.ServicePaths]:
    """``bzzzmon build`` into ``out`` (a fresh directory), verified by promtool/amtool when
    present: the plan of the service the stack runs (``services.choose``) and where its files
    are in ``out``. StackError when the spec or a verifier fails; ``ServiceChoiceError`` when
    ``service`` names none of a directory of several (or none is named and several could be)."""
    result = build(specs, out)
    problems = [f.format() for f in result.errors]
    problems += [f"$ {' '.join(r.command)}\n{r.output}" for r in result.failures]
    if problems:
        raise StackError("the build failed:\n" + "\n".join(problems))
    services = result.services
    plan = choose(services, service, str(specs))
    return plan, paths_of(services, plan)


def build_plan(
    specs: Path,
    out: Path,
    *,
    resolution_targets: Mapping[str, int] | None = None,
    escalation_tolerance: int | None = None,
    service: str | None = None,
) -> Plan:
    """Render one service of ``specs`` (``services.choose``; with shortened resolution targets
    and another escalation tolerance, if given) into ``out`` unverified, in the one-service
    layout the stack reads by default: the stack's Prometheus and Alertmanager load and so
    check every file themselves."""
    plan, _ = load_service(specs, service)
    if resolution_targets:
        plan = with_resolution_targets(plan, resolution_targets)
    if escalation_tolerance is not None:
        routing = dataclasses.replace(plan.routing, escalation_tolerance=escalation_tolerance)
        plan = dataclasses.replace(plan, routing=routing)
    write_tree(out, render_all(plan))
    return plan
