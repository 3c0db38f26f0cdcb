"""Merge the files of a spec directory, check cross-references and build the ``Plan``.

Every problem is collected with its file:line:column before anything fails, so one run of
``bzzzmon build`` shows them all.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bzzzmon import conventions as C
from bzzzmon import model as M
from bzzzmon.promql import builders as B
from bzzzmon.promql.duration import format_duration, parse_duration
from bzzzmon.promql.le import with_le
from bzzzmon.promql.numbers import format_decimal
from bzzzmon.promql.parse import PromQLError, is_vector_selector, parse
from bzzzmon.promql.parse import selectors as parse_selectors
from bzzzmon.promql.regex_names import finite_names
from bzzzmon.promql.selectors import UnknownSelector, expand
from bzzzmon.promql.templates import check_template
from bzzzmon.slo.windows import (
    BASE_WINDOW,
    DEFAULT_MIN_EVENTS,
    DEFAULT_TIERS,
    burn_factor,
    default_tiers,
    raw_windows,
    windows_needed,
)
from bzzzmon.spec import wire
from bzzzmon.spec.errors import SpecError, SpecErrors
from bzzzmon.spec.loader import LoadedFile, load_dir
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


def aux_alert_name(burn_name: str, suffix: str) -> str:
    """BZZZDHTErrorBudgetBurn -> BZZZDHTErrorBudgetExhausted / BZZZDHTErrorSLIMissing."""
    base = burn_name[: -len("BudgetBurn")] if burn_name.endswith("BudgetBurn") else burn_name
    return f"{base}{suffix}"


def escalation_alert_name(severity: str) -> str:
    return f"BZZZ{severity}ResolutionTargetMissed"


def explanation_hold_alert_name(plan: M.Plan) -> str:
    """The alert that holds explanations past their cause (routed to nobody)."""
    return f"{plan.service.alert_prefix or plan.service.name.upper()}ExplanationHold"


class _Collector:
    def __init__(self) -> None:
        self.errors: list[SpecError] = []

    def add(self, lf: LoadedFile, path: YPath, message: str, hint: str = "") -> None:
        self.errors.append(lf.doc.error(path, message, hint))

    def add_value(
        self, lf: LoadedFile, path: YPath, message: str, hint: str = "", offset: int | None = None
    ) -> None:
        """An error about a value: points at the value (or into it, at ``offset``)."""
        self.errors.append(lf.doc.value_error(path, message, hint, offset))


def _unique(
    items: list[tuple[LoadedFile, YPath, str]], what: str, errs: _Collector
) -> dict[str, tuple[LoadedFile, YPath]]:
    seen: dict[str, tuple[LoadedFile, YPath]] = {}
    for lf, path, name in items:
        if name in seen:
            first_lf, first_path = seen[name]
            line, _ = first_lf.doc.position(first_path)
            errs.add(
                lf,
                path,
                f"duplicate {what} name '{name}'",
                f"first declared at {first_lf.doc.file}:{line}; names are unique across files",
            )
        else:
            seen[name] = (lf, path)
    return seen


def _join_url(base: str, anchor: str | None) -> str:
    if not anchor:
        return base
    return f"{base}{anchor}" if base else anchor


def _dashboard_url(grafana: str, uid: str) -> str:
    return f"{grafana.rstrip('/')}/d/{uid}" if grafana else f"/d/{uid}"


class _Builder:
    def __init__(self, files: list[LoadedFile]) -> None:
        self.files = files
        self.errs = _Collector()
        self.origins: dict[str, set[str]] = {}
        self.singles: dict[str, tuple[LoadedFile, Any] | None] = {}
        self.metric_types: dict[str, str] = {}

    # --- helpers ------------------------------------------------------------------------------
    def _note(self, section: str, lf: LoadedFile) -> None:
        self.origins.setdefault(section, set()).add(lf.doc.file)

    def _single(self, section: str) -> tuple[LoadedFile, Any] | None:
        """The one file declaring ``section`` and its value; resolved (and a second
        declaration reported) once, however many steps read the section."""
        if section not in self.singles:
            self.singles[section] = self._find_single(section)
        return self.singles[section]

    def _find_single(self, section: str) -> tuple[LoadedFile, Any] | None:
        found = [(lf, getattr(lf.spec, section)) for lf in self.files if getattr(lf.spec, section)]
        for lf, _ in found[1:]:
            first = found[0][0].doc.file
            self.errs.add(
                lf,
                (section,),
                f"section '{section}' is declared twice",
                f"it is already declared in {first}; keep one",
            )
        if found:
            self._note(section, found[0][0])
            return found[0]
        return None

    def _each(self, section: str) -> list[tuple[LoadedFile, YPath, Any]]:
        out: list[tuple[LoadedFile, YPath, Any]] = []
        for lf in self.files:
            for i, item in enumerate(getattr(lf.spec, section)):
                out.append((lf, (section, i), item))
                self._note(section, lf)
        return out

    def _expr(
        self, lf: LoadedFile, path: YPath, text: str, selectors: dict[str, dict[str, str]]
    ) -> str | None:
        try:
            expanded = expand(text, selectors)
        except UnknownSelector as exc:
            known = ", ".join(f"${k}" for k in sorted(selectors)) or "none are declared"
            close = [k for k in selectors if k.lower() == exc.name.lower()]
            message = (
                f"unknown selector '${exc.name}' in expression"
                if exc.name
                else "'$' outside a quoted string must be followed by a selector name"
            )
            hint = (
                f"did you mean '${close[0]}'? selector names are lower case"
                if close
                else f"declare it under service.selectors (known: {known})"
            )
            self.errs.add_value(lf, path, message, hint, offset=exc.offset)
            return None
        try:
            tree = parse(expanded)
        except PromQLError as exc:
            self.errs.add_value(lf, path, f"invalid PromQL: {exc}", f"expression: {expanded}")
            return None
        if any(u.name is None and u.name_regex is None for u in parse_selectors(tree)):
            self.errs.add_value(
                lf,
                path,
                "a selector names no metric",
                "start every selector with a metric name, e.g. up{$agent}",
            )
            return None
        return expanded

    def _selector(
        self, lf: LoadedFile, path: YPath, text: str, selectors: dict[str, dict[str, str]]
    ) -> str | None:
        expanded = self._expr(lf, path, text, selectors)
        if expanded is None:
            return None
        if not is_vector_selector(parse(expanded)):
            self.errs.add_value(
                lf,
                path,
                'expected a plain series selector such as name{label="v"}',
                "functions and operators are added by bzzzmon",
            )
            return None
        return expanded

    def _counters(
        self, lf: LoadedFile, path: YPath, text: str, selectors: dict[str, dict[str, str]]
    ) -> tuple[str, list[str]] | None:
        """A counter selector and the one-metric selectors it stands for.

        A ``{__name__=~"a|b"}`` selector is expanded into one selector per name (``rate()``
        drops names, and equal label sets of different counters would collide)."""
        expanded = self._selector(lf, path, text, selectors)
        if expanded is None:
            return None
        use = next(iter(parse_selectors(parse(expanded))))
        if use.name_regex is None:
            names = [use.name] if use.name else []
        else:
            found = finite_names(use.name_regex)
            if found is None:
                self.errs.add_value(
                    lf,
                    path,
                    f"the metric-name regex '{use.name_regex}' does not name a short, finite set "
                    "of metrics",
                    "write the names as an alternation such as 'a_total|b_total'",
                )
                return None
            names = found
        if not self._of_type(lf, path, names, "counter", "a ratio SLI counts events"):
            return None
        if use.name_regex is None:
            return expanded, [expanded]
        rest = [m for m in use.matchers if m[0] != "__name__"]
        return expanded, [B.selector_text(n, rest) for n in names]

    def _of_type(self, lf: LoadedFile, path: YPath, names: list[str], kind: str, why: str) -> bool:
        """Metrics of a known other type are one error here, not many in the lints later."""
        for name in names:
            known = self.metric_types.get(name)
            if known is not None and known != kind:
                self.errs.add_value(
                    lf,
                    path,
                    f"'{name}' is a {known}, not a {kind}: {why} from a {kind}",
                    "declare the metric's type under 'metrics' if the contract is wrong",
                )
                return False
        return True

    def _template(self, lf: LoadedFile, path: YPath, text: str) -> None:
        """A field documented as a Prometheus template: its problems at their characters."""
        for problem in check_template(text):
            where = ""
            if not lf.doc.one_line(path):
                snippet = text[problem.offset : problem.offset + 30].split("\n")[0]
                where = f" at character {problem.offset + 1} ('{snippet}')"
            self.errs.add_value(
                lf,
                path,
                f"template: {problem.message}{where}",
                problem.hint,
                offset=problem.offset,
            )

    def _check_refs(
        self,
        lf: LoadedFile,
        path: YPath,
        names: list[str] | tuple[str, ...],
        known: set[str],
        what: str,
    ) -> None:
        for i, name in enumerate(names):
            if name not in known:
                listing = ", ".join(sorted(known)) or "none"
                self.errs.add_value(
                    lf,
                    (*path, i) if isinstance(names, list) else path,
                    f"unknown {what} '{name}'",
                    f"known {what}s: {listing}",
                )

    # --- the build ----------------------------------------------------------------------------
    def build(self) -> M.Plan:
        self.metric_types = self._metrics()
        service = self._service()
        severities = self._severities()
        receivers = self._receivers()
        receiver_names = {r.name for r in receivers}
        self._check_severity_receivers(receiver_names)
        components = self._components()
        component_names = {c.name for c in components}
        probes = self._global_probes(component_names)
        slos = self._slos(service, component_names)
        # References are checked against what the spec declares, so an SLO with an error of its
        # own does not also make every reference to it an "unknown SLO".
        slo_names = {s.name for _, _, s in self._each("slos")}
        alerts = self._alerts(service, component_names, slo_names)
        alert_names = self._alert_names()
        routing = self._routing(receiver_names, component_names, slo_names, alert_names, slos)
        self._check_routing_targets(routing, severities)
        exporter = self._exporter()
        if self.errs.errors:
            raise SpecErrors(self.errs.errors)
        return M.Plan(
            service=service,
            severities=severities,
            receivers=receivers,
            routing=routing,
            exporter=exporter,
            components=components,
            probes=probes,
            slos=slos,
            alerts=alerts,
            spec_files=tuple(sorted(lf.doc.file for lf in self.files)),
            origins={k: tuple(sorted(v)) for k, v in self.origins.items()},
            metrics=self.metric_types,
        )

    def _service(self) -> M.Service:
        found = self._single("service")
        if found is None:
            lf = self.files[0]
            self.errs.add(
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
                self.errs.add_value(
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
            self._selectors(lf, s.selectors),
            swarm,
            s.runbook_url,
            s.grafana_url,
            s.alertmanager_url,
            s.alert_prefix or s.name.upper(),
        )

    def _selectors(
        self, service_file: LoadedFile, declared: dict[str, dict[str, str]]
    ) -> dict[str, dict[str, str]]:
        """service.selectors and every file's top-level ``selectors``; a name is declared once."""
        where: dict[str, tuple[LoadedFile, YPath]] = {
            name: (service_file, ("service", "selectors", name)) for name in declared
        }
        out = {k: dict(v) for k, v in declared.items()}
        for lf in self.files:
            for name, labels in sorted(lf.spec.selectors.items()):
                self._note("selectors", lf)
                path: YPath = ("selectors", name)
                if name in where:
                    first_lf, first_path = where[name]
                    line, _ = first_lf.doc.position(first_path)
                    self.errs.add(
                        lf,
                        path,
                        f"duplicate selector name '{name}'",
                        f"first declared at {first_lf.doc.file}:{line}; names are unique across "
                        "files",
                    )
                    continue
                where[name] = (lf, path)
                out[name] = dict(labels)
        return out

    def _metrics(self) -> dict[str, str]:
        known = {**C.STANDARD_METRICS, **C.AGENT_METRICS, **C.EXPORTER_METRICS}
        for lf in self.files:
            for name, kind in sorted(lf.spec.metrics.items()):
                self._note("metrics", lf)
                if known.get(name, kind) != kind:
                    self.errs.add_value(
                        lf,
                        ("metrics", name),
                        f"metric '{name}' is a {known[name]}, not a {kind}",
                        "it is declared twice or contradicts the BZZZ contract",
                    )
                known[name] = kind
        return dict(sorted(known.items()))

    def _severities(self) -> tuple[M.Severity, ...]:
        found = self._single("severities")
        if found is None:
            return DEFAULT_SEVERITIES
        lf, sev = found
        out = []
        for name in C.SEVERITIES:
            spec = sev.get(name)
            if spec is None:
                self.errs.add(
                    lf,
                    ("severities",),
                    f"severity {name} is not defined",
                    "define all of P0, P1, P2 and P3",
                )
                continue
            response = parse_duration(spec.response_time)
            resolution = parse_duration(spec.resolution_target)
            if resolution < response:
                self.errs.add(
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

    def _receivers(self) -> tuple[M.Receiver, ...]:
        items = self._each("receivers")
        _unique([(lf, p, r.name) for lf, p, r in items], "receiver", self.errs)
        out = []
        for lf, path, r in items:
            if r.name == C.NULL_RECEIVER:
                self.errs.add(
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

    def _check_severity_receivers(self, known: set[str]) -> None:
        found = self._single("severities")
        if found is None:
            return
        lf, sev = found
        for name, spec in sorted(sev.items()):
            self._check_refs(
                lf, ("severities", name, "receivers"), spec.receivers, known, "receiver"
            )
            self._check_refs(
                lf, ("severities", name, "escalate_to"), spec.escalate_to, known, "receiver"
            )

    def _probe(self, p: wire.Probe, component: str | None) -> M.Probe:
        return M.Probe(
            p.name,
            p.type,
            component,
            p.path or _default_path(p.type),
            tuple(p.expect_status) or ((200,) if p.type == "http_status" else ()),
            tuple(p.targets.static),
            tuple(M.DnsTarget(d.name, d.port) for d in p.targets.dns),
        )

    def _components(self) -> tuple[M.Component, ...]:
        items = self._each("components")
        _unique([(lf, p, c.name) for lf, p, c in items], "component", self.errs)
        svc = self._single("service")
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
                    self.errs.add(
                        lf,
                        (*path, "probes", i, "component"),
                        f"probe '{p.name}' names component '{p.component}' inside "
                        f"component '{c.name}'",
                        "omit 'component' here",
                    )
                self._check_probe(lf, (*path, "probes", i), p)
            total_weight += c.weight
            line, _ = lf.doc.position(path)
            out.append(
                M.Component(
                    c.name,
                    c.title or c.name,
                    c.weight,
                    _join_url(runbook, c.runbook),
                    tuple(c.checks),
                    tuple(self._probe(p, c.name) for p in c.probes),
                    M.Origin(lf.doc.file, line),
                )
            )
        _unique(checks, "health check", self.errs)
        for lf, path, p in self._each("probes"):
            probe_names.append((lf, path, p.name))
        _unique(probe_names, "probe", self.errs)
        if items and total_weight <= 0:
            lf, path, _ = items[0]
            self.errs.add(
                lf,
                path,
                "component weights add up to 0",
                "give at least one component a weight above 0",
            )
        return tuple(out)

    def _check_probe(self, lf: LoadedFile, path: YPath, p: wire.Probe) -> None:
        if not p.targets.static and not p.targets.dns:
            self.errs.add(
                lf,
                (*path, "targets"),
                f"probe '{p.name}' has no targets",
                "list 'static' host:port targets or 'dns' names",
            )
        if p.type in ("tcp",) and (p.path or p.expect_status):
            self.errs.add(lf, path, "a tcp probe takes no 'path' or 'expect_status'")
        if p.type != "http_status" and p.expect_status:
            self.errs.add(lf, (*path, "expect_status"), "'expect_status' is for http_status probes")

    def _global_probes(self, components: set[str]) -> tuple[M.Probe, ...]:
        out = []
        for lf, path, p in self._each("probes"):
            self._check_probe(lf, path, p)
            if p.type != "health_checks" and p.component is None:
                self.errs.add(
                    lf,
                    path,
                    f"probe '{p.name}' needs a 'component'",
                    "or declare it inside the component it probes",
                )
            if p.component is not None:
                self._check_refs(lf, (*path, "component"), (p.component,), components, "component")
            out.append(self._probe(p, p.component))
        return tuple(out)

    def _sli(
        self,
        lf: LoadedFile,
        path: YPath,
        slo: wire.SLO,
        selectors: dict[str, dict[str, str]],
        raw_windows: list[int],
    ) -> M.SLI | None:
        """The SLI's bad and total events per second at the base window, and at every window in
        ``raw_windows`` read from the raw series."""
        g = slo.group_by
        sli = slo.sli
        if sli.ratio is not None:
            r = sli.ratio
            total = self._counters(lf, (*path, "sli", "ratio", "total"), r.total, selectors)
            which = "bad" if r.bad is not None else "good"
            part_text = r.bad if r.bad is not None else r.good
            assert part_text is not None
            part = self._counters(lf, (*path, "sli", "ratio", which), part_text, selectors)
            if total is None or part is None:
                return None
            total_sels, part_sels = total[1], part[1]

            def ratio_rates(w: int) -> tuple[str, str]:
                t = B.aggregate("sum", g, B.rate_by_metric(total_sels, w, C.LABEL_SLI_METRIC))
                p = B.aggregate("sum", g, B.rate_by_metric(part_sels, w, C.LABEL_SLI_METRIC))
                if which == "bad":
                    # A bad-event counter often has no series until the first failure: count 0.
                    return f"{p} or {t} * 0", t
                return f"{t} - ({p} or {t} * 0)", t

            rates = {w: ratio_rates(w) for w in raw_windows}
            inputs = {which: part[0], "total": total[0]}
            return M.SLI("ratio", total[0], inputs, rates)
        if sli.latency is not None:
            lat = sli.latency
            hist = self._selector(
                lf, (*path, "sli", "latency", "histogram"), lat.histogram, selectors
            )
            if hist is None:
                return None
            if hist.split("{")[0].endswith(("_bucket", "_count", "_sum")):
                self.errs.add_value(
                    lf,
                    (*path, "sli", "latency", "histogram"),
                    "name the histogram without its _bucket/_count/_sum suffix",
                )
                return None
            hist_name = next(iter(parse_selectors(parse(hist)))).name
            if not self._of_type(
                lf,
                (*path, "sli", "latency", "histogram"),
                [hist_name] if hist_name else [],
                "histogram",
                "a latency SLI reads buckets",
            ):
                return None
            le = format_decimal(lat.threshold)  # as client libraries write the bucket bound
            # Every spelling of the bound (le="1" on 2.x, le="1.0" on 3.x): docs/compatibility.md.
            bucket = with_le(B.with_suffix(hist, "_bucket"), lat.threshold)
            count = B.with_suffix(hist, "_count")

            def latency_rates(w: int) -> tuple[str, str]:
                t = B.aggregate("sum", g, B.rate(count, w))
                fast = B.aggregate("sum", g, B.rate(bucket, w))
                return f"{t} - ({fast} or {t} * 0)", t

            rates = {w: latency_rates(w) for w in raw_windows}
            inputs = {"histogram": hist, "bucket": bucket, "count": count, "le": le}
            return M.SLI("latency", count, inputs, rates)
        assert sli.time is not None
        t = sli.time
        expr = self._expr(lf, (*path, "sli", "time", "expr"), t.expr, selectors)
        if expr is None:
            return None
        cond = B.compare(expr, t.op, t.threshold, as_bool=True)

        def time_rates(w: int) -> tuple[str, str]:
            # The fraction of the window each series spent on the bad side, summed per group:
            # the same unit (series-seconds per second) as the total, so windows add up alike.
            bad = B.aggregate("sum", g, f"avg_over_time((1 - ({cond}))[{format_duration(w)}:])")
            return bad, B.aggregate("count", g, cond)

        rates = {w: time_rates(w) for w in raw_windows}
        return M.SLI("time", expr, {"expr": expr, "condition": cond}, rates)

    def _slos(self, service: M.Service, components: set[str]) -> tuple[M.SLO, ...]:
        items = self._each("slos")
        _unique([(lf, p, s.name) for lf, p, s in items], "SLO", self.errs)
        out = []
        for lf, path, s in items:
            self._check_refs(lf, (*path, "component"), (s.component,), components, "component")
            period = parse_duration(s.period)
            if period < 86400:
                self.errs.add_value(
                    lf,
                    (*path, "period"),
                    f"period '{s.period}' is shorter than 1d",
                    "SLO periods are days or weeks, e.g. 7d, 28d, 30d",
                )
            if period < 86400:
                # Tiers derive from the period: no follow-on errors (or 0-minute ones); the
                # SLI's own errors are still reported.
                self._sli(lf, path, s, service.selectors, [BASE_WINDOW])
                continue
            tiers = self._tiers(lf, path, s, period)
            raw = raw_windows(tuple((t.kind, t.long, t.short) for t in tiers or ()))
            sli = self._sli(lf, path, s, service.selectors, raw)
            if sli is None or tiers is None:
                continue
            objective = s.objective / 100
            budget = 1 - objective
            a = s.alerting
            self._within_period(lf, path, s, period)
            missing = M.AuxAlert(
                a.missing_data.name or aux_alert_name(a.name, "SLIMissing"),
                a.missing_data.severity or a.ticket,
                parse_duration(a.missing_data.for_ or "15m"),
                a.missing_data.enabled,
            )
            exhausted = M.AuxAlert(
                a.budget_exhausted.name or aux_alert_name(a.name, "BudgetExhausted"),
                a.budget_exhausted.severity or a.ticket,
                parse_duration(a.budget_exhausted.for_ or "15m"),
                a.budget_exhausted.enabled,
            )
            uid = C.dashboard_uid(service.name, "slo", s.name)
            line, _ = lf.doc.position(path)
            out.append(
                M.SLO(
                    name=s.name,
                    title=s.title or s.name,
                    description=s.description,
                    component=s.component,
                    objective_percent=s.objective.normalize(),
                    objective=objective.normalize(),
                    budget=budget.normalize(),
                    period=period,
                    group_by=tuple(s.group_by),
                    sli=sli,
                    alert_name=a.name,
                    tiers=tiers,
                    missing_data=missing,
                    budget_exhausted=exhausted,
                    windows=tuple(windows_needed(tuple((t.long, t.short) for t in tiers), period)),
                    raw_windows=tuple(raw),
                    min_events=(
                        0
                        if sli.kind == "time"
                        else a.min_events
                        if a.min_events is not None
                        else DEFAULT_MIN_EVENTS
                    ),
                    runbook_url=_join_url(service.runbook_url, a.runbook),
                    dashboard_uid=uid,
                    dashboard_url=_dashboard_url(service.grafana_url, uid),
                    labels=dict(s.labels) | dict(a.labels),
                    origin=M.Origin(lf.doc.file, line),
                )
            )
        return tuple(out)

    def _within_period(self, lf: LoadedFile, path: YPath, s: wire.SLO, period: int) -> None:
        """A ``for:`` longer than the period: the alert could fire only after the whole window
        it judges has gone by (missing data: after the SLO could not be evaluated at all)."""
        fors: list[tuple[YPath, str | None]] = [
            (("missing_data", "for"), s.alerting.missing_data.for_),
            (("budget_exhausted", "for"), s.alerting.budget_exhausted.for_),
        ]
        fors += [(("tiers", i, "for"), t.for_) for i, t in enumerate(s.alerting.tiers or ())]
        for where, value in fors:
            if value is not None and parse_duration(value) >= period:
                self.errs.add_value(
                    lf,
                    (*path, "alerting", *where),
                    f"'for: {value}' is not shorter than the SLO period {s.period}",
                    "the alert would fire only after the whole period has gone by; "
                    "use minutes or hours",
                )

    def _tiers(
        self, lf: LoadedFile, path: YPath, s: wire.SLO, period: int
    ) -> tuple[M.BurnTier, ...] | None:
        a = s.alerting
        tiers: list[M.BurnTier] = []
        if a.tiers is None:
            for tmpl in default_tiers(period):
                sev = a.page if tmpl.kind == "page" else a.ticket
                factor = burn_factor(tmpl.budget_percent, period, tmpl.long)
                tiers.append(
                    M.BurnTier(
                        tmpl.name,
                        tmpl.long,
                        tmpl.short,
                        tmpl.budget_percent,
                        factor,
                        sev,
                        tmpl.for_,
                        "page" if tmpl.kind == "page" else "ticket",
                    )
                )
            return _with_suppression(tiers)
        ok = True
        names = []
        for i, t in enumerate(a.tiers):
            tp = (*path, "alerting", "tiers", i)
            names.append((lf, tp, t.name))
            long, short = parse_duration(t.long), parse_duration(t.short)
            if short >= long:
                self.errs.add(lf, (*tp, "short"), "the short window must be shorter than the long")
                ok = False
            if long > period:
                self.errs.add(lf, (*tp, "long"), "the long window is longer than the SLO period")
                ok = False
            if short < BASE_WINDOW:
                self.errs.add(lf, (*tp, "short"), "the short window is below the 5m base window")
                ok = False
            factor = burn_factor(t.budget_percent, period, long)
            tiers.append(
                M.BurnTier(
                    t.name,
                    long,
                    short,
                    t.budget_percent,
                    factor,
                    t.severity,
                    parse_duration(t.for_) if t.for_ else 0,
                    t.kind or ("page" if t.severity == a.page else "ticket"),
                )
            )
        if not a.tiers:
            self.errs.add(
                lf,
                (*path, "alerting", "tiers"),
                "'tiers' is empty",
                "omit it to use the default tiers",
            )
            ok = False
        _unique(names, "tier", self.errs)
        return _with_suppression(tiers) if ok else None

    def _alerts(
        self, service: M.Service, components: set[str], slos: set[str]
    ) -> tuple[M.Alert, ...]:
        items = self._each("alerts")
        out = []
        for lf, path, a in items:
            self._check_refs(lf, (*path, "component"), (a.component,), components, "component")
            expr = self._expr(lf, (*path, "expr"), a.expr, service.selectors)
            if a.dashboard.startswith("slo:") and a.dashboard[4:] not in slos:
                self.errs.add(lf, (*path, "dashboard"), f"unknown SLO dashboard '{a.dashboard}'")
            self._template(lf, (*path, "description"), a.description)
            if expr is None:
                continue
            full = expr
            if a.op is not None and a.threshold is not None:
                full = B.compare(expr, a.op, a.threshold)
                try:
                    parse(full)
                except PromQLError as exc:
                    self.errs.add_value(lf, (*path, "expr"), f"invalid PromQL: {exc}", full)
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
                    runbook_url=_join_url(service.runbook_url, a.runbook),
                    dashboard_uid=uid,
                    dashboard_url=_dashboard_url(service.grafana_url, uid),
                    labels=dict(a.labels),
                    origin=M.Origin(lf.doc.file, line),
                )
            )
        return tuple(out)

    def _alert_names(self) -> set[str]:
        """Every alert name the spec declares; a clash is reported once, at the later one."""
        names: list[tuple[LoadedFile, YPath, str]] = []
        for lf, path, a in self._each("alerts"):
            names.append((lf, (*path, "name"), a.name))
        seen_slos: set[str] = set()
        for lf, path, s in self._each("slos"):
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
                names.append(
                    (lf, (*path, "alerting", key), aux.name or aux_alert_name(a.name, suffix))
                )
        _unique(names, "alert", self.errs)
        known = {n for _, _, n in names}
        known |= {escalation_alert_name(s) for s in C.SEVERITIES}
        return known

    def _match(
        self,
        lf: LoadedFile,
        path: YPath,
        m: wire.InhibitSource | wire.InhibitTarget,
        known: dict[str, set[str]],
    ) -> M.InhibitMatch:
        if isinstance(m, wire.InhibitSource):
            alertnames: tuple[str, ...] = (m.alertname,) if m.alertname else ()
            components: tuple[str, ...] = ()
            slos: tuple[str, ...] = ()
        else:
            alertnames, components, slos = tuple(m.alertnames), tuple(m.components), tuple(m.slos)
            self._check_refs(
                lf, (*path, "components"), m.components, known["component"], "component"
            )
            self._check_refs(lf, (*path, "slos"), m.slos, known["SLO"], "SLO")
            self._check_refs(lf, (*path, "alertnames"), m.alertnames, known["alert"], "alert")
        if isinstance(m, wire.InhibitSource) and m.alertname:
            self._check_refs(lf, (*path, "alertname"), (m.alertname,), known["alert"], "alert")
        self._check_refs(lf, (*path, "tiers"), m.tiers, known["tier"], "tier")
        match = M.InhibitMatch(
            alertnames, components, slos, m.alert_kind, tuple(m.tiers), tuple(m.severities)
        )
        if match == M.InhibitMatch():
            self.errs.add(
                lf,
                path,
                "an inhibition side must match something",
                "give alertname(s), components, slos, alert_kind, tiers or severities",
            )
        return match

    def _routing(
        self,
        receivers: set[str],
        components: set[str],
        slos: set[str],
        alerts: set[str],
        slo_list: tuple[M.SLO, ...],
    ) -> M.Routing:
        found = self._single("routing")
        if found is None:
            return M.Routing(("alertname", "service"), None, (), (), (), ())
        lf, r = found
        if r.heartbeat_receiver:
            self._check_refs(
                lf,
                ("routing", "heartbeat_receiver"),
                (r.heartbeat_receiver,),
                receivers,
                "receiver",
            )
        tiers = {t.name for s in slo_list for t in s.tiers} | {t.name for t in DEFAULT_TIERS}
        tiers |= {t.name for _, _, s in self._each("slos") for t in s.alerting.tiers or ()}
        known = {"component": components, "SLO": slos, "alert": alerts, "tier": tiers}
        inhibitions = []
        for i, inh in enumerate(r.inhibitions):
            p: YPath = ("routing", "inhibitions", i)
            inhibitions.append(
                M.Inhibition(
                    inh.name,
                    self._match(lf, (*p, "source"), inh.source, known),
                    self._match(lf, (*p, "target"), inh.target, known),
                    tuple(inh.equal),
                    any_severity=inh.any_severity,
                    any_instance=inh.any_instance,
                    origin=M.Origin(lf.doc.file, lf.doc.position(p)[0]),
                )
            )
        _unique(
            [
                (lf, ("routing", key, i), x.name)
                for key, items in (("inhibitions", r.inhibitions), ("explains", r.explains))
                for i, x in enumerate(items)
            ],
            "inhibition or explanation",
            self.errs,
        )
        for i, ex in enumerate(r.explains):
            p = ("routing", "explains", i)
            target = self._match(lf, (*p, "explains"), ex.explains, known)
            hold = parse_duration(ex.hold) if ex.hold else _explained_reset(target, slo_list)
            inhibitions.append(
                M.Inhibition(
                    ex.name,
                    self._match(lf, (*p, "cause"), ex.cause, known),
                    target,
                    tuple(ex.equal),
                    any_severity=True,
                    hold=hold,
                    explanation=True,
                    any_instance=ex.any_instance,
                    origin=M.Origin(lf.doc.file, lf.doc.position(p)[0]),
                )
            )
        self._check_refs(lf, ("routing", "catch_all"), r.catch_all, receivers, "receiver")
        teams = []
        for i, t in enumerate(r.teams):
            p = ("routing", "teams", i)
            self._check_refs(lf, (*p, "components"), t.components, components, "component")
            self._check_refs(lf, (*p, "receivers"), t.receivers, receivers, "receiver")
            teams.append(M.TeamRoute(t.name, tuple(t.components), tuple(t.receivers)))
        windows = []
        _unique(
            [
                (lf, ("routing", "maintenance_windows", i), w.name)
                for i, w in enumerate(r.maintenance_windows)
            ],
            "maintenance window",
            self.errs,
        )
        for i, w in enumerate(r.maintenance_windows):
            self._check_times(lf, ("routing", "maintenance_windows", i), w)
            windows.append(
                M.MaintenanceWindow(
                    w.name,
                    tuple(w.mute),
                    tuple(
                        M.TimeRange(tuple(t.weekdays), t.start, t.end, t.location) for t in w.times
                    ),
                )
            )
        return M.Routing(
            tuple(r.group_by),
            r.heartbeat_receiver,
            tuple(r.escalate),
            tuple(inhibitions),
            tuple(windows),
            tuple(teams),
            tuple(r.catch_all),
            parse_duration(r.escalation_tolerance) if r.escalation_tolerance else None,
        )

    def _check_times(self, lf: LoadedFile, path: YPath, window: wire.MaintenanceWindow) -> None:
        """What Alertmanager would refuse at load time: an empty range, an unknown time zone."""
        for i, t in enumerate(window.times):
            if t.start >= t.end:
                self.errs.add(
                    lf,
                    (*path, "times", i, "end"),
                    f"end {t.end} is not after start {t.start}",
                    "a range spanning midnight is two ranges: start-24:00 and 00:00-end",
                )
            try:
                ZoneInfo(t.location)
            except (ZoneInfoNotFoundError, ValueError):
                self.errs.add(
                    lf,
                    (*path, "times", i, "location"),
                    f"unknown time zone '{t.location}'",
                    "use an IANA name such as UTC or Europe/Berlin",
                )

    def _check_routing_targets(
        self, routing: M.Routing, severities: tuple[M.Severity, ...]
    ) -> None:
        """An escalated severity must say whom to escalate to."""
        found = self._single("routing")
        if found is None:
            return
        lf, _ = found
        by_name = {s.name: s for s in severities}
        for i, name in enumerate(routing.escalate):
            severity = by_name.get(name)
            if severity is not None and not severity.escalate_to:
                self.errs.add(
                    lf,
                    ("routing", "escalate", i),
                    f"severity {name} is escalated but has no escalate_to receivers",
                    f"add severities.{name}.escalate_to, or remove {name} from routing.escalate",
                )

    def _exporter(self) -> M.ExporterSettings:
        found = self._single("exporter")
        e = found[1] if found else wire.ExporterSettings()
        return M.ExporterSettings(
            parse_duration(e.probe_interval),
            parse_duration(e.probe_timeout),
            parse_duration(e.max_result_age),
            e.concurrency,
            e.jitter,
            e.max_body_bytes,
        )


def _explained_reset(target: M.InhibitMatch, slos: tuple[M.SLO, ...]) -> int:
    """How long the burn tiers ``target`` names may keep firing after their cause is gone: the
    longest short window among them plus the base rate window its ratio is summed from (0 when
    it names no burn tier). ``for:`` delays only the start, which no tier may make after the
    fault ended."""
    longest = 0
    for slo in slos:
        named = not (target.alertnames or target.components or target.slos) or (
            slo.alert_name in target.alertnames
            or slo.component in target.components
            or slo.name in target.slos
        )
        if not named or target.alert_kind not in (None, "burn_rate"):
            continue
        for tier in slo.tiers:
            if target.tiers and tier.name not in target.tiers:
                continue
            if target.severities and tier.severity not in target.severities:
                continue
            longest = max(longest, tier.short + BASE_WINDOW)
    return longest


def _default_path(probe_type: str) -> str:
    return {"health_checks": "/health/checks", "health": "/health"}.get(probe_type, "")


def _with_suppression(tiers: list[M.BurnTier]) -> tuple[M.BurnTier, ...]:
    """Tiers in the order given are from most to least urgent; each is suppressed by the ones
    before it, so the most urgent tier covering an incident is the only one that notifies."""
    return tuple(
        dataclasses.replace(t, suppressed_by=tuple(u.name for u in tiers[:i]))
        for i, t in enumerate(tiers)
    )


def load_plan(spec_dir: Path) -> M.Plan:
    """Load, check and resolve a spec directory. Raises ``SpecErrors`` listing every problem."""
    files, errors = load_dir(spec_dir)
    if errors:
        # Report cross-file problems only once every file is well-formed; partial merges would
        # produce misleading follow-on errors.
        raise SpecErrors(errors)
    return _Builder(files).build()
