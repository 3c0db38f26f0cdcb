"""The ``service`` section, ``metrics``, ``severities``, ``receivers`` and ``exporter``."""

from __future__ import annotations

from typing import Literal

from bzzzmon import conventions as C
from bzzzmon import model as M
from bzzzmon.promql.duration import parse_duration
from bzzzmon.spec import wire
from bzzzmon.spec.context import Context, unique
from bzzzmon.spec.loader import LoadedFile
from bzzzmon.spec.safety import safe_file_name
from bzzzmon.spec.yamlpos import Path as YPath

ReceiverKind = Literal["pagerduty", "slack", "email", "webhook"]
RECEIVER_KINDS: tuple[ReceiverKind, ...] = ("pagerduty", "slack", "email", "webhook")

# The runbook's severities, used when a spec declares none (small specs, benchmarks).
DEFAULT_SEVERITIES: tuple[M.Severity, ...] = (
    M.Severity("P0", "Critical", "System completely unavailable", 15 * 60, 2 * 3600, (), ()),
    M.Severity("P1", "High", "Major functionality impaired", 3600, 4 * 3600, (), ()),
    M.Severity("P2", "Medium", "Minor functionality issues", 4 * 3600, 24 * 3600, (), ()),
    M.Severity("P3", "Low", "Cosmetic issues", 24 * 3600, 7 * 86400, (), ()),
)


def resolve_service(ctx: Context) -> M.Service:
    found = ctx.single("service")
    if found is None:
        lf = ctx.files[0]
        ctx.errs.add(
            lf,
            (),
            "no spec file declares the 'service' section",
            "add 'service: {name: ...}' to one file",
        )
        return M.Service("service", {}, {}, None, "", "", "", "")
    lf, s = found
    for selector in (C.SELECTOR_AGENT, C.SELECTOR_EXPORTER):
        job = s.selectors.get(selector, {}).get("job")
        if job is not None and not safe_file_name(job):
            ctx.errs.add_value(
                lf,
                ("service", "selectors", selector, "job"),
                f"job '{job}' names a generated file (targets/<job>.yml); use letters, "
                "digits, '.', '_' and '-' only",
                "e.g. job: bzzz-agent",
            )
    swarm = M.Swarm(**s.swarm.model_dump()) if s.swarm else None
    return M.Service(
        s.name,
        dict(s.labels),
        _selectors(ctx, lf, s.selectors),
        swarm,
        s.runbook_url,
        s.grafana_url,
        s.alertmanager_url,
        s.alert_prefix or s.name.upper(),
    )


def _selectors(
    ctx: Context, service_file: LoadedFile, declared: dict[str, dict[str, str]]
) -> dict[str, dict[str, str]]:
    """service.selectors and every file's top-level ``selectors``; a name is declared once."""
    where: dict[str, tuple[LoadedFile, YPath]] = {
        name: (service_file, ("service", "selectors", name)) for name in declared
    }
    out = {k: dict(v) for k, v in declared.items()}
    for lf in ctx.files:
        for name, labels in sorted(lf.spec.selectors.items()):
            ctx.note("selectors", lf)
            path: YPath = ("selectors", name)
            if name in where:
                first_lf, first_path = where[name]
                line, _ = first_lf.doc.position(first_path)
                ctx.errs.add(
                    lf,
                    path,
                    f"duplicate selector name '{name}'",
                    f"first declared at {first_lf.doc.file}:{line}; names are unique across files",
                )
                continue
            where[name] = (lf, path)
            out[name] = dict(labels)
    return out


def resolve_metrics(ctx: Context) -> dict[str, str]:
    known = {**C.STANDARD_METRICS, **C.AGENT_METRICS, **C.EXPORTER_METRICS}
    for lf in ctx.files:
        for name, kind in sorted(lf.spec.metrics.items()):
            ctx.note("metrics", lf)
            if known.get(name, kind) != kind:
                ctx.errs.add_value(
                    lf,
                    ("metrics", name),
                    f"metric '{name}' is a {known[name]}, not a {kind}",
                    "it is declared twice or contradicts the BZZZ contract",
                )
            known[name] = kind
    return dict(sorted(known.items()))


def resolve_severities(ctx: Context) -> tuple[M.Severity, ...]:
    found = ctx.single("severities")
    if found is None:
        return DEFAULT_SEVERITIES
    lf, sev = found
    out = []
    for name in C.SEVERITIES:
        spec = sev.get(name)
        if spec is None:
            ctx.errs.add(
                lf,
                ("severities",),
                f"severity {name} is not defined",
                "define all of P0, P1, P2 and P3",
            )
            continue
        response = parse_duration(spec.response_time)
        resolution = parse_duration(spec.resolution_target)
        if resolution < response:
            ctx.errs.add(
                lf,
                ("severities", name, "resolution_target"),
                f"{name}: resolution_target is shorter than response_time",
            )
        out.append(
            M.Severity(
                name,
                spec.title,
                spec.meaning,
                response,
                resolution,
                tuple(spec.receivers),
                tuple(spec.escalate_to),
            )
        )
    return tuple(out)


def resolve_receivers(ctx: Context) -> tuple[M.Receiver, ...]:
    items = ctx.each("receivers")
    unique([(lf, p, r.name) for lf, p, r in items], "receiver", ctx.errs)
    out = []
    for lf, path, r in items:
        if r.name == C.NULL_RECEIVER:
            ctx.errs.add(
                lf,
                (*path, "name"),
                f"receiver name '{r.name}' is reserved",
                "bzzzmon generates it for alerts nobody is told about; choose another name",
            )
        kind: ReceiverKind = next(k for k in RECEIVER_KINDS if getattr(r, k))
        settings = getattr(r, kind).model_dump(by_alias=True)
        line, _ = lf.doc.position(path)
        out.append(M.Receiver(r.name, kind, settings, M.Origin(lf.doc.file, line)))
    return tuple(sorted(out, key=lambda r: r.name))


def check_severity_receivers(ctx: Context, known: set[str]) -> None:
    found = ctx.single("severities")
    if found is None:
        return
    lf, sev = found
    for name, spec in sorted(sev.items()):
        ctx.check_refs(lf, ("severities", name, "receivers"), spec.receivers, known, "receiver")
        ctx.check_refs(lf, ("severities", name, "escalate_to"), spec.escalate_to, known, "receiver")


def resolve_exporter(ctx: Context) -> M.ExporterSettings:
    found = ctx.single("exporter")
    e = found[1] if found else wire.ExporterSettings()
    return M.ExporterSettings(
        parse_duration(e.probe_interval),
        parse_duration(e.probe_timeout),
        parse_duration(e.max_result_age),
        e.concurrency,
        e.jitter,
        e.max_body_bytes,
    )
