"""Sloth specs: ``version: prometheus/v1`` and the Kubernetes ``PrometheusServiceLevel`` CRD.

Both hold a service, labels and SLOs; the CRD spells its keys in camelCase (``errorQuery``,
``pageAlert``), the plain spec in snake_case (``error_query``, ``page_alert``); either is read.
Sloth's event queries carry ``{{.window}}``, which bzzzmon's ``promql`` SLI expands the same way.
Sloth's period is a command-line default (30d); its alert tiers for 30d are bzzzmon's default
tiers, so the windows and factors carry over without being written out.
"""

from __future__ import annotations

from typing import Any

from bzzzmon.imports.draft import (
    NAME,
    Collector,
    ServiceDraft,
    SLODraft,
    camel,
    check_promql,
    mapping,
    metric_types,
    number,
    sequence,
    slug,
    text,
)
from bzzzmon.imports.labels import take_labels
from bzzzmon.spec.yamlpos import Document

SLOTH_PERIOD = "30d"  # sloth generate --default-slo-period
P = tuple[str | int, ...]


def _get(d: dict[str, Any], snake: str) -> tuple[str, Any]:
    """The key as written (snake_case or camelCase) and its value."""
    parts = snake.split("_")
    camel_key = parts[0] + "".join(p.title() for p in parts[1:])
    for key in (snake, camel_key):
        if key in d:
            return key, d[key]
    return snake, None


def is_sloth(data: Any) -> bool:
    return isinstance(data, dict) and (
        data.get("version") == "prometheus/v1" or data.get("kind") == "PrometheusServiceLevel"
    )


def import_docs(docs: list[Document], c: Collector) -> list[ServiceDraft]:
    out: list[ServiceDraft] = []
    for doc in docs:
        data = doc.data
        if not isinstance(data, dict):
            c.error(doc, (), "expected a Sloth spec (a mapping)")
            continue
        if data.get("kind") == "PrometheusServiceLevel":
            if data.get("apiVersion") != "sloth.slok.dev/v1":
                c.error(doc, ("apiVersion",), "expected apiVersion sloth.slok.dev/v1")
                continue
            meta = mapping(doc, data.get("metadata"), ("metadata",), c)
            c.add(
                doc,
                ("metadata",),
                f"Kubernetes object {meta.get('namespace', '')}/{meta.get('name', '')}",
                "dropped",
                "bzzzmon writes Prometheus rule files, not a PrometheusRule object",
            )
            spec = mapping(doc, data.get("spec"), ("spec",), c)
            base: P = ("spec",)
        elif data.get("version") == "prometheus/v1":
            spec, base = data, ()
        else:
            c.error(
                doc,
                ("version",) if "version" in data else (),
                "not a Sloth spec",
                "expected 'version: prometheus/v1' or 'kind: PrometheusServiceLevel' "
                "(OpenSLO files: bzzzmon import openslo)",
            )
            continue
        draft = _service(doc, spec, base, c)
        if draft is not None:
            out.append(draft)
    return out


def _service(doc: Document, spec: dict[str, Any], base: P, c: Collector) -> ServiceDraft | None:
    raw_name = text(doc, spec.get("service"), (*base, "service"), c)
    name = slug(raw_name)
    if not name:
        c.error(doc, (*base, "service"), "the service needs a name of letters and digits")
        return None
    draft = ServiceDraft(name, [doc.file])
    c.add(doc, (*base, "service"), f"service {raw_name}", "mapped", f"service.name {name}")
    draft.labels = take_labels(
        doc, spec.get("labels"), (*base, "labels"), c, draft.notes, "service"
    )
    for i, s in enumerate(sequence(doc, spec.get("slos"), (*base, "slos"), c)):
        slo = _slo(doc, s, (*base, "slos", i), c, draft)
        if slo is not None:
            draft.slos.append(slo)
    return draft


def _slo(doc: Document, s: Any, path: P, c: Collector, svc: ServiceDraft) -> SLODraft | None:
    s = mapping(doc, s, path, c)
    line, _ = doc.position(path)
    raw_name = text(doc, s.get("name"), (*path, "name"), c)
    name = slug(raw_name)
    if not NAME.match(name):
        c.error(doc, (*path, "name"), "an SLO needs a name of letters and digits")
        return None
    draft = SLODraft({"name": name}, f"{doc.file}:{line}")
    notes = draft.notes
    c.add(doc, (*path, "name"), f"SLO {raw_name}", "mapped", f"slos[].name {name}")
    objective = number(s.get("objective"))
    if objective is None or not 0 < objective < 100:
        c.error(doc, (*path, "objective"), "objective is a percentage between 0 and 100")
        return None
    draft.data["objective"] = objective
    c.add(doc, (*path, "objective"), "objective", "mapped")
    if s.get("description"):
        draft.data["description"] = text(doc, s["description"], (*path, "description"), c)
    draft.data["period"] = SLOTH_PERIOD
    c.add(doc, path, "period", "mapped", f"Sloth's default period, {SLOTH_PERIOD}")
    labels = take_labels(doc, s.get("labels"), (*path, "labels"), c, notes, "SLO")
    if labels:
        draft.data["labels"] = labels
    sli = _sli(doc, mapping(doc, s.get("sli"), (*path, "sli"), c), (*path, "sli"), c, notes)
    if sli is None:
        return None
    draft.data["sli"] = {"promql": sli}
    svc.metrics.update(metric_types(*sli.values()))
    draft.data["alerting"] = _alerting(doc, s.get("alerting"), (*path, "alerting"), c, notes, name)
    return draft


def _sli(
    doc: Document, sli: dict[str, Any], path: P, c: Collector, notes: list[str]
) -> dict[str, str] | None:
    for other in ("raw", "plugin"):
        if other in sli:
            c.error(
                doc,
                (*path, other),
                f"a Sloth '{other}' SLI has no bzzzmon equivalent",
                "write the SLI as events (error and total queries) to import it",
            )
            return None
    events = mapping(doc, sli.get("events"), (*path, "events"), c)
    if not events:
        c.error(doc, path, "expected sli.events with an error and a total query")
        return None
    out: dict[str, str] = {}
    for key, role in (("error_query", "bad"), ("total_query", "total")):
        written, value = _get(events, key)
        q = text(doc, value, (*path, "events", written), c)
        if not q:
            c.error(doc, (*path, "events", written), f"sli.events.{written} is missing")
            return None
        if not check_promql(doc, (*path, "events", written), q, c, windowed=True):
            return None
        out[role] = q
        c.add(doc, (*path, "events", written), f"SLI {written}", "mapped", f"sli.promql.{role}")
    return out


def _alerting(
    doc: Document, value: Any, path: P, c: Collector, notes: list[str], slo: str
) -> dict[str, Any]:
    a = mapping(doc, value, path, c)
    raw_name = text(doc, a.get("name"), (*path, "name"), c)
    name = camel(raw_name) or camel(slo) + "BudgetBurn"
    out: dict[str, Any] = {"name": name}
    c.add(doc, (*path, "name"), "alert name", "mapped", f"alerting.name {name}")
    labels = take_labels(doc, a.get("labels"), (*path, "labels"), c, notes, "alert")
    if labels:
        out["labels"] = labels
    for key in sorted(mapping(doc, a.get("annotations"), (*path, "annotations"), c)):
        c.add(
            doc,
            (*path, "annotations", key),
            f"alert annotation {key}",
            "dropped",
            "bzzzmon writes summary, description, runbook_url and dashboard_url itself",
        )
        notes.append(f"alert annotation {key!r} not carried over: bzzzmon writes its own")
    for key, kind, severity in (("page_alert", "page", "P1"), ("ticket_alert", "ticket", "P2")):
        written, tier = _get(a, key)
        tier = mapping(doc, tier, (*path, written), c)
        tier_labels = mapping(doc, tier.get("labels"), (*path, written, "labels"), c)
        for label in sorted(tier_labels):
            value_text = text(doc, tier_labels[label], (*path, written, "labels", label), c)
            c.add(
                doc,
                (*path, written, "labels", label),
                f"{kind} alert label {label}={value_text}",
                "approximated" if label == "severity" else "dropped",
                f"bzzzmon {kind} severity {severity}; route it with severities and receivers"
                if label == "severity"
                else "bzzzmon has no per-tier labels; route by severity",
            )
            notes.append(
                f"Sloth {kind} alerts' label {label}={value_text!r} not carried over: "
                + (
                    f"{kind} tiers take severity {severity} (alerting.{kind})"
                    if label == "severity"
                    else "labels are per SLO, not per tier; route by severity"
                )
            )
        if tier.get("disable") is True:
            c.add(doc, (*path, written, "disable"), f"{kind} alerts disabled", "approximated")
            notes.append(f"Sloth disabled the {kind} alerts: bzzzmon's {kind} tiers are left out")
            out.setdefault("disabled", []).append(kind)
    return out
