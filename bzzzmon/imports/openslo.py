"""OpenSLO ``v1``: Service, SLI, SLO, AlertPolicy, AlertCondition and AlertNotificationTarget,
inline or referenced by name, in any number of files and documents (and the ``v1alpha`` SLO of
Sloth's example, with ``ratioMetrics`` and ``timeWindows``).

What maps directly: an SLO per objective (target 0.999 -> objective 99.9), a rolling time window
-> period, a ratio SLI of plain counter selectors -> a ratio SLI, of queries with ``{{.window}}``
-> a promql SLI, a threshold SLI -> a time SLI, and burn-rate alert conditions -> tiers (the
condition's threshold is the burn factor over its lookback window). Budgeting by time slices,
calendar windows, notification targets and the policy's other switches have no bzzzmon field;
each is reported and noted in the written spec.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

from bzzzmon.imports.draft import (
    NAME,
    Collector,
    How,
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
from bzzzmon.promql import window
from bzzzmon.promql.duration import format_duration, parse_duration
from bzzzmon.promql.numbers import to_decimal
from bzzzmon.promql.parse import is_vector_selector, parse
from bzzzmon.spec.yamlpos import Document

P = tuple[str | int, ...]
KINDS = ("Service", "SLI", "SLO", "AlertPolicy", "AlertCondition", "AlertNotificationTarget")
_OPS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_SHORTHAND = re.compile(r"^([0-9]+)([mhdwMQY])$")
_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Calendar units as rolling windows of whole days.
_CALENDAR_DAYS = {"M": 30, "Q": 90, "Y": 365}
_PAGE_SEVERITIES = {"critical", "page", "high", "p0", "p1", "emergency"}
DEFAULT_PERIOD = 30 * 86400


class _Obj:
    def __init__(self, doc: Document, path: P, name: str, spec: dict[str, Any], sp: P) -> None:
        self.doc, self.path, self.name, self.spec = doc, path, name, spec
        self.sp = sp  # where its spec mapping is: paths into the spec start here


def is_openslo(data: Any) -> bool:
    return isinstance(data, dict) and str(data.get("apiVersion", "")).startswith("openslo/")


def import_docs(docs: list[Document], c: Collector) -> list[ServiceDraft]:
    objects: dict[str, dict[str, _Obj]] = {k: {} for k in KINDS}
    slos: list[_Obj] = []
    for doc in docs:
        items = doc.data if isinstance(doc.data, list) else [doc.data]
        for i, data in enumerate(items):
            path: P = (i,) if isinstance(doc.data, list) else ()
            obj = _object(doc, data, path, c)
            if obj is None:
                continue
            kind, o = obj
            if kind == "SLO":
                slos.append(o)
            elif o.name in objects[kind]:
                c.error(doc, (*path, "metadata", "name"), f"{kind} '{o.name}' is defined twice")
            else:
                objects[kind][o.name] = o
    services: dict[str, ServiceDraft] = {}
    for name, svc in objects["Service"].items():
        services[name] = ServiceDraft(slug(name) or "service", [svc.doc.file])
        services[name].description = text(svc.doc, svc.spec.get("description"), svc.path, c)
        c.add(svc.doc, svc.path, f"Service {name}", "mapped", f"service.name {slug(name)}")
    for o in slos:
        service = text(o.doc, o.spec.get("service"), (*o.path, "spec", "service"), c)
        if not slug(service):
            c.error(o.doc, (*o.path, "spec", "service"), "the SLO names no service")
            continue
        draft = services.setdefault(service, ServiceDraft(slug(service), []))
        if o.doc.file not in draft.source_files:
            draft.source_files.append(o.doc.file)
        draft.slos.extend(_slo(o, objects, c, draft))
    for name, draft in services.items():
        if not draft.slos and name in objects["Service"]:
            svc = objects["Service"][name]
            c.add(svc.doc, svc.path, f"Service {name}", "dropped", "no SLO of it was imported")
    return [d for d in services.values() if d.slos]


def _object(doc: Document, data: Any, path: P, c: Collector) -> tuple[str, _Obj] | None:
    if not isinstance(data, dict) or not is_openslo(data):
        c.error(doc, path, "not an OpenSLO object", "expected apiVersion: openslo/v1")
        return None
    version, kind = data.get("apiVersion"), data.get("kind")
    if version not in ("openslo/v1", "openslo/v1alpha") or (
        version == "openslo/v1alpha" and kind != "SLO"
    ):
        c.error(doc, (*path, "apiVersion"), f"unsupported OpenSLO version {version} for {kind}")
        return None
    if kind == "DataSource":
        c.add(doc, path, "DataSource", "dropped", "bzzzmon reads Prometheus only")
        return None
    if kind not in KINDS:
        c.error(
            doc, (*path, "kind"), f"unknown OpenSLO kind {kind!r}", f"one of {', '.join(KINDS)}"
        )
        return None
    meta = mapping(doc, data.get("metadata"), (*path, "metadata"), c)
    name = text(doc, meta.get("name"), (*path, "metadata", "name"), c)
    if not name:
        c.error(doc, (*path, "metadata"), f"the {kind} has no metadata.name")
        return None
    spec = mapping(doc, data.get("spec"), (*path, "spec"), c)
    obj = _Obj(doc, path, name, spec, (*path, "spec"))
    obj.spec = {**spec, "_version": version, "_display": meta.get("displayName")}
    return str(kind), obj


def _ref(
    o: _Obj,
    item: Any,
    path: P,
    ref_key: str,
    kind: str,
    objects: dict[str, dict[str, _Obj]],
    c: Collector,
) -> _Obj | None:
    """An inline object (``{kind, metadata, spec}``, or just a spec) or a reference by name."""
    item = mapping(o.doc, item, path, c)
    if ref_key in item:
        ref = text(o.doc, item[ref_key], (*path, ref_key), c)
        found = objects[kind].get(ref)
        if found is None:
            known = ", ".join(sorted(objects[kind])) or "none is defined"
            c.error(o.doc, (*path, ref_key), f"no {kind} named '{ref}'", f"known: {known}")
        return found
    meta = mapping(o.doc, item.get("metadata"), (*path, "metadata"), c)
    spec = item.get("spec", item)
    sp: P = (*path, "spec") if "spec" in item else path
    name = text(o.doc, meta.get("name"), path, c)
    return _Obj(o.doc, path, name, mapping(o.doc, spec, sp, c), sp)


def _refs(
    o: _Obj, key: str, ref_key: str, kind: str, objects: dict[str, dict[str, _Obj]], c: Collector
) -> list[_Obj | None]:
    """Each item of the list ``key`` of ``o``'s spec, inline or referenced (None: not found)."""
    path: P = (*o.sp, key)
    items = sequence(o.doc, o.spec.get(key), path, c)
    return [_ref(o, item, (*path, i), ref_key, kind, objects, c) for i, item in enumerate(items)]


def _period(o: _Obj, c: Collector, notes: list[str]) -> str:
    spec, doc = o.spec, o.doc
    if spec["_version"] == "openslo/v1alpha":
        windows = sequence(doc, spec.get("timeWindows"), (*o.path, "spec", "timeWindows"), c)
        if windows and isinstance(windows[0], dict):
            unit = {"Day": "d", "Week": "w", "Month": "M", "Quarter": "Q", "Year": "Y"}
            w = windows[0]
            shorthand = f"{w.get('count')}{unit.get(str(w.get('unit')), '?')}"
            return _duration(doc, (*o.path, "spec", "timeWindows", 0), shorthand, False, c, notes)
        c.add(doc, o.path, "time window", "approximated", "none given: 30d")
        return format_duration(DEFAULT_PERIOD)
    path: P = (*o.path, "spec", "timeWindow")
    windows = sequence(doc, spec.get("timeWindow"), path, c)
    if not windows:
        c.add(doc, o.path, "time window", "approximated", "none given: 30d")
        notes.append("no timeWindow: bzzzmon's default period 30d")
        return format_duration(DEFAULT_PERIOD)
    w = mapping(doc, windows[0], (*path, 0), c)
    calendar = "calendar" in w or w.get("isRolling") is False
    return _duration(
        doc, (*path, 0, "duration"), text(doc, w.get("duration"), path, c), calendar, c, notes
    )


def _duration(
    doc: Document, path: P, shorthand: str, calendar: bool, c: Collector, notes: list[str]
) -> str:
    m = _SHORTHAND.match(shorthand)
    if m is None:
        c.error(doc, path, f"'{shorthand}' is not an OpenSLO duration", "e.g. 28d, 4w, 1M")
        return format_duration(DEFAULT_PERIOD)
    n, unit = int(m.group(1)), m.group(2)
    seconds = n * _CALENDAR_DAYS[unit] * 86400 if unit in _CALENDAR_DAYS else n * _UNIT[unit]
    how: How = "mapped"
    detail = format_duration(seconds)
    if unit in _CALENDAR_DAYS:
        how, detail = "approximated", f"{n}{unit} as {format_duration(seconds)}"
    if seconds < 86400:
        how = "approximated"
        detail = f"{shorthand} is shorter than bzzzmon's shortest period (1d): 30d"
        seconds = DEFAULT_PERIOD
    if calendar:
        how = "approximated"
        detail += "; calendar-aligned window read as rolling"
    c.add(doc, path, f"time window {shorthand}", how, detail)
    if how != "mapped":
        notes.append(f"time window {shorthand!r} not carried over exactly: {detail}")
    return format_duration(seconds)


def _query(o: _Obj, source: Any, path: P, c: Collector, notes: list[str]) -> str:
    """The PromQL of a metric source (v1: metricSource.spec.query, v1alpha: query)."""
    source = mapping(o.doc, source, path, c)
    if "metricSource" in source:
        ms = mapping(o.doc, source["metricSource"], (*path, "metricSource"), c)
        kind = text(o.doc, ms.get("type"), (*path, "metricSource", "type"), c)
        if kind.lower() != "prometheus":
            c.add(
                o.doc,
                (*path, "metricSource"),
                f"metric source type {kind!r}",
                "approximated",
                "its query is read as PromQL",
            )
            notes.append(
                f"metric source type {kind!r} is not Prometheus: its query is read as PromQL"
            )
        spec = mapping(o.doc, ms.get("spec"), (*path, "metricSource", "spec"), c)
        q_path: P = (*path, "metricSource", "spec", "query")
        q = text(o.doc, spec.get("query"), q_path, c)
    else:
        q_path = (*path, "query")
        q = text(o.doc, source.get("query"), q_path, c)
    if not q:
        c.error(o.doc, q_path, "expected a PromQL query")
    return q


def _sli(
    o: _Obj, ind: _Obj, objective: dict[str, Any], c: Collector, notes: list[str], method: str
) -> dict[str, Any] | None:
    spec, doc = ind.spec, ind.doc
    ratio = spec.get("ratioMetric")
    if ratio is None and "_ratios" in spec:
        ratio = spec["_ratios"]
    if ratio is not None:
        ratio = mapping(doc, ratio, (*ind.sp, "ratioMetric"), c)
        if "raw" in ratio:
            c.error(
                doc,
                (*ind.sp, "ratioMetric", "raw"),
                "a precomputed ratio (raw) cannot be imported",
                "give good or bad, and total",
            )
            return None
        roles = [r for r in ("good", "bad") if r in ratio]
        if len(roles) != 1 or "total" not in ratio:
            c.error(doc, (*ind.sp, "ratioMetric"), "a ratio metric has good or bad, and total")
            return None
        queries = {
            r: _query(ind, ratio[r], (*ind.sp, "ratioMetric", r), c, notes)
            for r in (roles[0], "total")
        }
        if not all(queries.values()):
            return None
        if ratio.get("counter") is False:
            c.add(
                doc,
                (*ind.sp, "ratioMetric", "counter"),
                "counter: false",
                "approximated",
                "the queries are read as counters",
            )
            notes.append("counter: false not carried over: the queries are read as counters")
        if method != "Occurrences":
            c.add(
                doc, o.path, f"budgetingMethod {method}", "approximated", "counted as occurrences"
            )
            notes.append(f"budgetingMethod {method} not carried over: bzzzmon counts occurrences")
        windowed = all(window.PLACEHOLDER in q.replace(" ", "") for q in queries.values())
        for r, q in queries.items():
            if not check_promql(doc, (*ind.sp, "ratioMetric", r), q, c, windowed=windowed):
                return None
            if not windowed and not is_vector_selector(parse(q)):
                c.error(
                    doc,
                    (*ind.sp, "ratioMetric", r),
                    "a ratio query is a plain counter selector or PromQL with {{.window}}",
                    'e.g. http_requests_total{code!~"5.."} or sum(rate(x[{{.window}}]))',
                )
                return None
        c.add(
            doc,
            (*ind.sp, "ratioMetric"),
            "ratio metric",
            "mapped",
            "sli.promql" if windowed else "sli.ratio",
        )
        return {"promql" if windowed else "ratio": queries}
    threshold = spec.get("thresholdMetric")
    if threshold is None:
        c.error(doc, ind.sp, "an SLI has a ratioMetric or a thresholdMetric")
        return None
    q = _query(ind, threshold, (*ind.sp, "thresholdMetric"), c, notes)
    op = _OPS.get(str(objective.get("op")))
    value = number(objective.get("value"))
    if not q or op is None or value is None:
        c.error(
            doc, ind.sp, "a threshold SLI needs an objective with op (lt, lte, gt, gte) and value"
        )
        return None
    if not check_promql(doc, (*ind.sp, "thresholdMetric"), q, c, windowed=False):
        return None
    how: How = "mapped" if method == "Timeslices" else "approximated"
    c.add(
        doc,
        (*ind.sp, "thresholdMetric"),
        "threshold metric",
        how,
        "sli.time: good time while the condition holds, judged at every rule evaluation",
    )
    if how != "mapped":
        notes.append(f"budgetingMethod {method} with a threshold metric: bzzzmon counts good time")
    return {"time": {"expr": q, "op": op, "threshold": value}}


def _slo(
    o: _Obj, objects: dict[str, dict[str, _Obj]], c: Collector, svc: ServiceDraft
) -> list[SLODraft]:
    doc, spec = o.doc, o.spec
    line, _ = doc.position(o.path)
    notes: list[str] = []
    method = (
        text(doc, spec.get("budgetingMethod"), (*o.path, "spec", "budgetingMethod"), c)
        or "Occurrences"
    )
    period = _period(o, c, notes)
    ind: _Obj | None
    if spec["_version"] == "openslo/v1alpha":
        ind = _Obj(doc, (*o.path, "spec"), o.name, {}, (*o.path, "spec"))
    elif "indicatorRef" in spec:
        ind = _ref(o, spec, (*o.path, "spec"), "indicatorRef", "SLI", objects, c)
    else:
        ind = _ref(o, spec.get("indicator"), (*o.path, "spec", "indicator"), "-", "SLI", objects, c)
    if ind is None:
        return []
    objectives = sequence(doc, spec.get("objectives"), (*o.path, "spec", "objectives"), c)
    if not objectives:
        c.error(doc, (*o.path, "spec"), "an SLO needs objectives")
    out: list[SLODraft] = []
    for i, obj in enumerate(objectives):
        opath: P = (*o.path, "spec", "objectives", i)
        obj = mapping(doc, obj, opath, c)
        name = slug(o.name)
        if len(objectives) > 1:
            name = slug(f"{o.name}-{obj.get('displayName') or i + 1}")
        if not NAME.match(name):
            c.error(doc, (*o.path, "metadata", "name"), "an SLO needs a name of letters and digits")
            continue
        if spec["_version"] == "openslo/v1alpha":
            ind.spec = {"_ratios": obj.get("ratioMetrics")}
            ind.sp = opath
        objective = _objective(doc, opath, obj, c)
        if objective is None:
            continue
        slo_notes = list(notes)
        for key in ("timeSliceTarget", "timeSliceWindow", "compositeWeight"):
            if key in obj:
                c.add(doc, (*opath, key), f"objective {key}", "dropped", "no bzzzmon equivalent")
                slo_notes.append(f"objective {key}={obj[key]} not carried over")
        sli = _sli(o, ind, obj, c, slo_notes, method)
        if sli is None:
            continue
        for kind, q in sli.items():
            types = metric_types(*(v for v in q.values() if isinstance(v, str)))
            # A ratio SLI's selectors are counters whatever their names say.
            svc.metrics.update({m: "counter" for m in types} if kind == "ratio" else types)
        data: dict[str, Any] = {"name": name, "objective": objective, "period": period}
        title = obj.get("displayName") or spec.get("_display")
        if title:
            data["title"] = str(title)
        if spec.get("description"):
            data["description"] = str(spec["description"])
        data["sli"] = sli
        data["alerting"] = _alerting(o, objects, c, slo_notes, name, period)
        c.add(doc, opath, f"SLO {o.name} objective {i + 1}", "mapped", f"slos[].name {name}")
        out.append(SLODraft(data, f"{doc.file}:{line}", slo_notes))
    return out


def _objective(doc: Document, path: P, obj: dict[str, Any], c: Collector) -> Decimal | None:
    if number(obj.get("targetPercent")) is not None:
        value = Decimal(obj["targetPercent"])
    elif number(obj.get("target")) is not None:
        value = Decimal(obj["target"]) * 100
    else:
        c.error(doc, path, "an objective needs a target (e.g. 0.999) or targetPercent")
        return None
    if not 0 < value < 100:
        c.error(doc, path, "the target must lie strictly between 0 and 1 (0% and 100%)")
        return None
    return value.normalize()


def _alerting(
    o: _Obj,
    objects: dict[str, dict[str, _Obj]],
    c: Collector,
    notes: list[str],
    slo: str,
    period: str,
) -> dict[str, Any]:
    doc = o.doc
    found = _refs(o, "alertPolicies", "alertPolicyRef", "AlertPolicy", objects, c)
    policies = [p for p in found if p is not None]
    name = camel(policies[0].name) if len(policies) == 1 and policies[0].name else ""
    out: dict[str, Any] = {"name": name or camel(slo) + "BudgetBurn"}
    if not policies:
        c.add(doc, o.path, "alert policies", "approximated", "none: bzzzmon's default tiers")
        return out
    tiers: list[dict[str, Any]] = []
    for pol in policies:
        ps = pol.spec
        if ps.get("alertWhenNoData") is False:
            out["missing_data"] = {"enabled": False}
        for key in ("alertWhenResolved", "alertWhenBreaching"):
            if key in ps:
                c.add(pol.doc, pol.sp, f"AlertPolicy {key}", "dropped", "Alertmanager decides")
                notes.append(f"AlertPolicy {pol.name} {key} not carried over")
        for t in _refs(
            pol, "notificationTargets", "targetRef", "AlertNotificationTarget", objects, c
        ):
            if t is not None:
                kind = text(t.doc, t.spec.get("target"), t.sp, c)
                c.add(
                    t.doc,
                    t.sp,
                    f"notification target {t.name} ({kind})",
                    "dropped",
                    "declare a receiver and a severity routing to it",
                )
                notes.append(
                    f"notification target {t.name!r} ({kind}) not carried over: "
                    "declare a receiver under receivers and name it in severities"
                )
        for cnd in _refs(pol, "conditions", "conditionRef", "AlertCondition", objects, c):
            if cnd is not None:
                tier = _tier(cnd, c, notes, period, len(tiers) + 1)
                if tier is not None:
                    tiers.append(tier)
    if tiers:
        out["tiers"] = tiers
    return out


def _tier(cnd: _Obj, c: Collector, notes: list[str], period: str, n: int) -> dict[str, Any] | None:
    doc, path = cnd.doc, cnd.sp
    cond = mapping(doc, cnd.spec.get("condition"), (*path, "condition"), c)
    if str(cond.get("kind", "")).lower() != "burnrate":
        c.add(
            doc,
            path,
            f"alert condition {cnd.name}",
            "dropped",
            "only burnrate conditions map to tiers",
        )
        notes.append(f"alert condition {cnd.name!r} (kind {cond.get('kind')}) not carried over")
        return None
    factor = number(cond.get("threshold"))
    lookback = text(doc, cond.get("lookbackWindow"), (*path, "condition", "lookbackWindow"), c)
    m = _SHORTHAND.match(lookback)
    if factor is None or factor <= 0 or m is None or m.group(2) not in _UNIT:
        c.error(
            doc,
            (*path, "condition"),
            "a burnrate condition needs threshold > 0 and lookbackWindow (m, h, d, w)",
        )
        return None
    long = int(m.group(1)) * _UNIT[m.group(2)]
    short = max(long // 12 // 60 * 60, 300)
    share = Fraction(factor) * long / parse_duration(period) * 100
    percent = to_decimal(share)
    how: How = "mapped"
    if percent is None or not 0 < share <= 100:
        percent = Decimal(str(min(float(share), 100.0))).quantize(Decimal("0.0001"))
        how = "approximated"
    severity = str(cnd.spec.get("severity", "")).lower()
    kind = "page" if severity in _PAGE_SEVERITIES else "ticket"
    tier: dict[str, Any] = {
        "name": slug(cnd.name) or f"tier-{n}",
        "long": format_duration(long),
        "short": format_duration(short),
        "budget_percent": percent,
        "severity": "P1" if kind == "page" else "P2",
        "kind": kind,
    }
    after = cond.get("alertAfter")
    if after:
        tier["for"] = text(doc, after, (*path, "condition", "alertAfter"), c)
    c.add(
        doc,
        path,
        f"alert condition {cnd.name}",
        how,
        f"tier: burn factor {factor} over {lookback} (short window {format_duration(short)}), "
        f"severity {severity or 'none'} -> {tier['severity']}",
    )
    return tier
