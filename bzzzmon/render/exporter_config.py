"""The exporter's config (generated/exporter/exporter.yml): components, weights and probes."""

from __future__ import annotations

from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import Plan, Probe
from bzzzmon.promql.duration import format_duration
from bzzzmon.promql.numbers import format_decimal
from bzzzmon.render.output import ExactNumber, Files, dump_yaml


def _probe(p: Probe) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "type": p.type}
    if p.component:
        out["component"] = p.component
    if p.path:
        out["path"] = p.path
    if p.expect_status:
        out["expect_status"] = list(p.expect_status)
    if p.type == "file":
        out["targets"] = {"files": list(p.files)}
        return out
    out["targets"] = {
        "static": list(p.static),
        "dns": [{"name": d.name, "port": d.port} for d in p.dns],
    }
    return out


def _scored(plan: Plan, component: str) -> bool:
    """Components the exporter reports: those it probes, and the exporter itself. A component
    with no probe or check (e.g. the agent process, covered by threshold alerts) has no score."""
    if component == C.EXPORTER_SELF_COMPONENT:
        return True
    c = plan.component(component)
    return bool(c.checks or c.probes or any(p.component == component for p in plan.probes))


def build(plan: Plan) -> dict[str, Any]:
    e = plan.exporter
    checks: dict[str, str] = {}
    for c in plan.components:
        for check in c.checks:
            checks[check] = c.name
    probes = [_probe(p) for c in plan.components for p in c.probes]
    probes += [_probe(p) for p in plan.probes]
    return {
        "service": plan.service.name,
        "probe_interval": format_duration(e.probe_interval),
        "probe_timeout": format_duration(e.probe_timeout),
        "max_result_age": format_duration(e.max_result_age),
        "concurrency": e.concurrency,
        "jitter": ExactNumber(format_decimal(e.jitter)),
        "max_body_bytes": e.max_body_bytes,
        "components": [
            {"name": c.name, "weight": ExactNumber(format_decimal(c.weight))}
            for c in plan.components
            if _scored(plan, c.name)
        ],
        "checks": dict(sorted(checks.items())),
        "probes": sorted(probes, key=lambda p: p["name"]),
    }


def render(plan: Plan) -> Files:
    if not plan.probed:
        return {}
    sources = plan.files_of("components", "probes", "exporter")
    return {C.EXPORTER_CONFIG: dump_yaml(build(plan), sources)}
