"""``alerts``: the threshold alerts, and every alert name a spec declares."""

from __future__ import annotations

from bzzzmon import conventions as C
from bzzzmon import model as M
from bzzzmon.promql import builders as B
from bzzzmon.promql.duration import parse_duration
from bzzzmon.promql.parse import PromQLError, parse
from bzzzmon.spec import wire
from bzzzmon.spec.context import Context, dashboard_url, join_url, unique
from bzzzmon.spec.loader import LoadedFile
from bzzzmon.spec.names import aux_alert_name, escalation_alert_name
from bzzzmon.spec.yamlpos import Path as YPath


def resolve_alerts(
    ctx: Context, service: M.Service, components: set[str], slos: set[str]
) -> tuple[M.Alert, ...]:
    items = ctx.each("alerts")
    out = []
    for lf, path, a in items:
        ctx.check_refs(lf, (*path, "component"), (a.component,), components, "component")
        expr = ctx.expr(lf, (*path, "expr"), a.expr, service.selectors)
        if a.dashboard.startswith("slo:") and a.dashboard[4:] not in slos:
            ctx.errs.add(lf, (*path, "dashboard"), f"unknown SLO dashboard '{a.dashboard}'")
        ctx.template(lf, (*path, "description"), a.description)
        if expr is None:
            continue
        full = expr
        if a.op is not None and a.threshold is not None:
            full = B.compare(expr, a.op, a.threshold)
            try:
                parse(full)
            except PromQLError as exc:
                ctx.errs.add_value(lf, (*path, "expr"), f"invalid PromQL: {exc}", full)
                continue
        kind, _, slo_name = a.dashboard.partition(":")
        uid = C.dashboard_uid(service.name, kind, slo_name)
        line, _ = lf.doc.position(path)
        out.append(
            M.Alert(
                name=a.name,
                component=a.component,
                severity=a.severity,
                value_expr=expr,
                op=a.op,
                threshold=a.threshold,
                expr=full,
                for_=parse_duration(a.for_) if a.for_ else 0,
                summary=a.summary.strip(),
                description=a.description.strip(),
                runbook_url=join_url(service.runbook_url, a.runbook),
                dashboard_uid=uid,
                dashboard_url=dashboard_url(service.grafana_url, uid),
                labels=dict(a.labels),
                origin=M.Origin(lf.doc.file, line),
            )
        )
    return tuple(out)


def declared_alert_names(ctx: Context) -> set[str]:
    """Every alert name the spec declares; a clash is reported once, at the later one."""
    names: list[tuple[LoadedFile, YPath, str]] = []
    for lf, path, a in ctx.each("alerts"):
        names.append((lf, (*path, "name"), a.name))
    seen_slos: set[str] = set()
    for lf, path, s in ctx.each("slos"):
        if s.name in seen_slos:
            continue  # a duplicate SLO is reported as such, not as three duplicate alerts
        seen_slos.add(s.name)
        a = s.alerting
        names.append((lf, (*path, "alerting", "name"), a.name))
        for key, suffix in (
            ("missing_data", "SLIMissing"),
            ("budget_exhausted", "BudgetExhausted"),
        ):
            aux: wire.AuxAlert = getattr(a, key)
            names.append((lf, (*path, "alerting", key), aux.name or aux_alert_name(a.name, suffix)))
    unique(names, "alert", ctx.errs)
    known = {n for _, _, n in names}
    known |= {escalation_alert_name(s) for s in C.SEVERITIES}
    return known
