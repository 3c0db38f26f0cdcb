"""``slos``: each SLI's rates, the SLO's windows and its burn-rate tiers."""

from __future__ import annotations

import dataclasses
from functools import lru_cache

from bzzzmon import conventions as C
from bzzzmon import model as M
from bzzzmon.promql import builders as B
from bzzzmon.promql.duration import format_duration, parse_duration
from bzzzmon.promql.le import with_le
from bzzzmon.promql.numbers import format_decimal
from bzzzmon.promql.parse import parse
from bzzzmon.promql.parse import selectors as parse_selectors
from bzzzmon.slo.windows import (
    BASE_WINDOW,
    DEFAULT_MIN_EVENTS,
    burn_factor,
    default_tiers,
    raw_windows,
    windows_needed,
)
from bzzzmon.spec import wire
from bzzzmon.spec.context import Context, dashboard_url, join_url, unique
from bzzzmon.spec.keys import origin_of
from bzzzmon.spec.loader import LoadedFile
from bzzzmon.spec.names import aux_alert_name, burn_alert_name, component_of
from bzzzmon.spec.promql_sli import promql_sli
from bzzzmon.spec.yamlpos import Path as YPath


def _sli(
    ctx: Context,
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
        total = ctx.counters(lf, (*path, "sli", "ratio", "total"), r.total, selectors)
        which = "bad" if r.bad is not None else "good"
        part_text = r.bad if r.bad is not None else r.good
        assert part_text is not None
        part = ctx.counters(lf, (*path, "sli", "ratio", which), part_text, selectors)
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
        hist = ctx.selector(lf, (*path, "sli", "latency", "histogram"), lat.histogram, selectors)
        if hist is None:
            return None
        if hist.split("{")[0].endswith(("_bucket", "_count", "_sum")):
            ctx.errs.add_value(
                lf,
                (*path, "sli", "latency", "histogram"),
                "name the histogram without its _bucket/_count/_sum suffix",
            )
            return None
        hist_name = next(iter(parse_selectors(parse(hist)))).name
        if not ctx.of_type(
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
    if sli.promql is not None:
        return promql_sli(ctx, lf, path, sli.promql, g, selectors, raw_windows)
    assert sli.time is not None
    t = sli.time
    expr = ctx.expr(lf, (*path, "sli", "time", "expr"), t.expr, selectors)
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


def resolve_slos(ctx: Context, service: M.Service, components: set[str]) -> tuple[M.SLO, ...]:
    items = ctx.each("slos")
    unique([(lf, p, s.name) for lf, p, s in items], "SLO", ctx.errs)
    out = []
    for lf, path, s in items:
        if s.component is not None:
            ctx.check_refs(lf, (*path, "component"), (s.component,), components, "component")
            if C.LABEL_COMPONENT in s.group_by:
                ctx.errs.add_value(
                    lf,
                    (*path, "group_by", s.group_by.index(C.LABEL_COMPONENT)),
                    f"SLO {s.name} declares component '{s.component}' and groups by component: "
                    "its series would carry both",
                    "drop `component:` to take each group's component from the data (the "
                    "checked component of a health-check counter), or group by another label",
                )
        period = parse_duration(s.period)
        if period < 86400:
            ctx.errs.add_value(
                lf,
                (*path, "period"),
                f"period '{s.period}' is shorter than 1d",
                "SLO periods are days or weeks, e.g. 7d, 28d, 30d",
            )
        if period < 86400:
            # Tiers derive from the period: no follow-on errors (or 0-minute ones); the
            # SLI's own errors are still reported.
            _sli(ctx, lf, path, s, service.selectors, [BASE_WINDOW])
            continue
        tiers = _tiers(ctx, lf, path, s, period)
        raw = raw_windows(tuple((t.kind, t.long, t.short) for t in tiers or ()))
        sli = _sli(ctx, lf, path, s, service.selectors, raw)
        if sli is None or tiers is None:
            continue
        objective = s.objective / 100
        budget = 1 - objective
        a = s.alerting
        burn = burn_alert_name(service.alert_prefix, s)
        _within_period(ctx, lf, path, s, period)
        missing = M.AuxAlert(
            a.missing_data.name or aux_alert_name(burn, "SLIMissing"),
            a.missing_data.severity or a.ticket,
            parse_duration(a.missing_data.for_ or "15m"),
            a.missing_data.enabled,
        )
        exhausted = M.AuxAlert(
            a.budget_exhausted.name or aux_alert_name(burn, "BudgetExhausted"),
            a.budget_exhausted.severity or a.ticket,
            parse_duration(a.budget_exhausted.for_ or "15m"),
            a.budget_exhausted.enabled,
        )
        uid = C.dashboard_uid(service.name, "slo", s.name)
        out.append(
            M.SLO(
                name=s.name,
                title=s.title or s.name,
                description=s.description,
                component=component_of(service.name, s.component),
                objective_percent=s.objective.normalize(),
                objective=objective.normalize(),
                budget=budget.normalize(),
                period=period,
                group_by=tuple(s.group_by),
                sli=sli,
                alert_name=burn,
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
                    else 0
                    if sli.kind == "promql"  # its unit is the user's (bzzzmon.spec.promql_sli)
                    else DEFAULT_MIN_EVENTS
                ),
                runbook_url=join_url(service.runbook_url, a.runbook),
                dashboard_uid=uid,
                dashboard_url=dashboard_url(service.grafana_url, uid),
                labels=dict(s.labels) | dict(a.labels),
                origin=origin_of(lf, path),
                first_steps=tuple(a.first_steps),
            )
        )
    return tuple(out)


def _within_period(ctx: Context, lf: LoadedFile, path: YPath, s: wire.SLO, period: int) -> None:
    """A ``for:`` longer than the period: the alert could fire only after the whole window
    it judges has gone by (missing data: after the SLO could not be evaluated at all)."""
    fors: list[tuple[YPath, str | None]] = [
        (("missing_data", "for"), s.alerting.missing_data.for_),
        (("budget_exhausted", "for"), s.alerting.budget_exhausted.for_),
    ]
    fors += [(("tiers", i, "for"), t.for_) for i, t in enumerate(s.alerting.tiers or ())]
    for where, value in fors:
        if value is not None and parse_duration(value) >= period:
            ctx.errs.add_value(
                lf,
                (*path, "alerting", *where),
                f"'for: {value}' is not shorter than the SLO period {s.period}",
                "the alert would fire only after the whole period has gone by; "
                "use minutes or hours",
            )


def _tiers(
    ctx: Context, lf: LoadedFile, path: YPath, s: wire.SLO, period: int
) -> tuple[M.BurnTier, ...] | None:
    a = s.alerting
    tiers: list[M.BurnTier] = []
    if a.tiers is None:
        return _default_tiers(period, a.page, a.ticket)
    ok = True
    names = []
    for i, t in enumerate(a.tiers):
        tp = (*path, "alerting", "tiers", i)
        names.append((lf, tp, t.name))
        long, short = parse_duration(t.long), parse_duration(t.short)
        if short >= long:
            ctx.errs.add(lf, (*tp, "short"), "the short window must be shorter than the long")
            ok = False
        if long > period:
            ctx.errs.add(lf, (*tp, "long"), "the long window is longer than the SLO period")
            ok = False
        if short < BASE_WINDOW:
            ctx.errs.add(lf, (*tp, "short"), "the short window is below the 5m base window")
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
        ctx.errs.add(
            lf,
            (*path, "alerting", "tiers"),
            "'tiers' is empty",
            "omit it to use the default tiers",
        )
        ok = False
    unique(names, "tier", ctx.errs)
    return _with_suppression(tiers) if ok else None


@lru_cache(maxsize=256)  # SLOs of one period and severities share them (the tiers are frozen)
def _default_tiers(period: int, page: str, ticket: str) -> tuple[M.BurnTier, ...]:
    tiers = [
        M.BurnTier(
            tmpl.name,
            tmpl.long,
            tmpl.short,
            tmpl.budget_percent,
            burn_factor(tmpl.budget_percent, period, tmpl.long),
            page if tmpl.kind == "page" else ticket,
            tmpl.for_,
            "page" if tmpl.kind == "page" else "ticket",
        )
        for tmpl in default_tiers(period)
    ]
    return _with_suppression(tiers)


def _with_suppression(tiers: list[M.BurnTier]) -> tuple[M.BurnTier, ...]:
    """Tiers in the order given are from most to least urgent; each is suppressed by the ones
    before it, so the most urgent tier covering an incident is the only one that notifies."""
    return tuple(
        dataclasses.replace(t, suppressed_by=tuple(u.name for u in tiers[:i]))
        for i, t in enumerate(tiers)
    )
