"""``components`` and their probes, and the global ``probes``."""

from __future__ import annotations

from decimal import Decimal

from bzzzmon import model as M
from bzzzmon.spec import wire
from bzzzmon.spec.context import Context, join_url, unique
from bzzzmon.spec.loader import LoadedFile
from bzzzmon.spec.yamlpos import Path as YPath


def _probe(ctx: Context, p: wire.Probe, component: str | None) -> M.Probe:
    return M.Probe(
        p.name,
        p.type,
        component,
        p.path or _default_path(p.type),
        tuple(p.expect_status) or ((200,) if p.type == "http_status" else ()),
        tuple(p.targets.static),
        tuple(M.DnsTarget(d.name, d.port) for d in p.targets.dns),
    )


def resolve_components(ctx: Context) -> tuple[M.Component, ...]:
    items = ctx.each("components")
    unique([(lf, p, c.name) for lf, p, c in items], "component", ctx.errs)
    svc = ctx.single("service")
    runbook = svc[1].runbook_url if svc else ""  # the plan's Service is built from this
    checks: list[tuple[LoadedFile, YPath, str]] = []
    probe_names: list[tuple[LoadedFile, YPath, str]] = []
    out = []
    total_weight = Decimal(0)
    for lf, path, c in items:
        for i, check in enumerate(c.checks):
            checks.append((lf, (*path, "checks", i), check))
        for i, p in enumerate(c.probes):
            probe_names.append((lf, (*path, "probes", i), p.name))
            if p.component not in (None, c.name):
                ctx.errs.add(
                    lf,
                    (*path, "probes", i, "component"),
                    f"probe '{p.name}' names component '{p.component}' inside component '{c.name}'",
                    "omit 'component' here",
                )
            _check_probe(ctx, lf, (*path, "probes", i), p)
        total_weight += c.weight
        line, _ = lf.doc.position(path)
        out.append(
            M.Component(
                c.name,
                c.title or c.name,
                c.weight,
                join_url(runbook, c.runbook),
                tuple(c.checks),
                tuple(_probe(ctx, p, c.name) for p in c.probes),
                M.Origin(lf.doc.file, line),
            )
        )
    unique(checks, "health check", ctx.errs)
    for lf, path, p in ctx.each("probes"):
        probe_names.append((lf, path, p.name))
    unique(probe_names, "probe", ctx.errs)
    if items and total_weight <= 0:
        lf, path, _ = items[0]
        ctx.errs.add(
            lf,
            path,
            "component weights add up to 0",
            "give at least one component a weight above 0",
        )
    return tuple(out)


def _check_probe(ctx: Context, lf: LoadedFile, path: YPath, p: wire.Probe) -> None:
    if not p.targets.static and not p.targets.dns:
        ctx.errs.add(
            lf,
            (*path, "targets"),
            f"probe '{p.name}' has no targets",
            "list 'static' host:port targets or 'dns' names",
        )
    if p.type in ("tcp",) and (p.path or p.expect_status):
        ctx.errs.add(lf, path, "a tcp probe takes no 'path' or 'expect_status'")
    if p.type != "http_status" and p.expect_status:
        ctx.errs.add(lf, (*path, "expect_status"), "'expect_status' is for http_status probes")


def resolve_global_probes(ctx: Context, components: set[str]) -> tuple[M.Probe, ...]:
    out = []
    for lf, path, p in ctx.each("probes"):
        _check_probe(ctx, lf, path, p)
        if p.type != "health_checks" and p.component is None:
            ctx.errs.add(
                lf,
                path,
                f"probe '{p.name}' needs a 'component'",
                "or declare it inside the component it probes",
            )
        if p.component is not None:
            ctx.check_refs(lf, (*path, "component"), (p.component,), components, "component")
        out.append(_probe(ctx, p, p.component))
    return tuple(out)


def _default_path(probe_type: str) -> str:
    return {"health_checks": "/health/checks", "health": "/health"}.get(probe_type, "")
