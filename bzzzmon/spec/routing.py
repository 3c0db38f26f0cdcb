"""``routing``: team overrides, inhibitions, explanations and maintenance windows."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bzzzmon import model as M
from bzzzmon.promql.duration import parse_duration
from bzzzmon.slo.windows import (
    BASE_WINDOW,
    DEFAULT_TIERS,
)
from bzzzmon.spec import wire
from bzzzmon.spec.context import Context, unique
from bzzzmon.spec.keys import origin_of
from bzzzmon.spec.loader import LoadedFile
from bzzzmon.spec.yamlpos import Path as YPath


def _match(
    ctx: Context,
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
        ctx.check_refs(lf, (*path, "components"), m.components, known["component"], "component")
        ctx.check_refs(lf, (*path, "slos"), m.slos, known["SLO"], "SLO")
        ctx.check_refs(lf, (*path, "alertnames"), m.alertnames, known["alert"], "alert")
    if isinstance(m, wire.InhibitSource) and m.alertname:
        ctx.check_refs(lf, (*path, "alertname"), (m.alertname,), known["alert"], "alert")
    ctx.check_refs(lf, (*path, "tiers"), m.tiers, known["tier"], "tier")
    match = M.InhibitMatch(
        alertnames, components, slos, m.alert_kind, tuple(m.tiers), tuple(m.severities)
    )
    if match == M.InhibitMatch():
        ctx.errs.add(
            lf,
            path,
            "an inhibition side must match something",
            "give alertname(s), components, slos, alert_kind, tiers or severities",
        )
    return match


def resolve_routing(
    ctx: Context,
    receivers: set[str],
    components: set[str],
    slos: set[str],
    alerts: set[str],
    slo_list: tuple[M.SLO, ...],
    service_labels: dict[str, str],
) -> M.Routing:
    found = ctx.single("routing")
    if found is None:
        return M.Routing(("alertname", "service"), None, (), (), (), ())
    lf, r = found
    if r.heartbeat_receiver:
        ctx.check_refs(
            lf,
            ("routing", "heartbeat_receiver"),
            (r.heartbeat_receiver,),
            receivers,
            "receiver",
        )
    tiers = {t.name for s in slo_list for t in s.tiers} | {t.name for t in DEFAULT_TIERS}
    tiers |= {t.name for _, _, s in ctx.each("slos") for t in s.alerting.tiers or ()}
    known = {"component": components, "SLO": slos, "alert": alerts, "tier": tiers}
    inhibitions = []
    for i, inh in enumerate(r.inhibitions):
        p: YPath = ("routing", "inhibitions", i)
        inhibitions.append(
            M.Inhibition(
                inh.name,
                _match(ctx, lf, (*p, "source"), inh.source, known),
                _match(ctx, lf, (*p, "target"), inh.target, known),
                tuple(inh.equal),
                any_severity=inh.any_severity,
                any_instance=inh.any_instance,
                origin=origin_of(lf, p),
            )
        )
    unique(
        [
            (lf, ("routing", key, i), x.name)
            for key, items in (("inhibitions", r.inhibitions), ("explains", r.explains))
            for i, x in enumerate(items)
        ],
        "inhibition or explanation",
        ctx.errs,
    )
    for i, ex in enumerate(r.explains):
        p = ("routing", "explains", i)
        target = _match(ctx, lf, (*p, "explains"), ex.explains, known)
        hold = parse_duration(ex.hold) if ex.hold else _explained_reset(target, slo_list)
        cause = _match(ctx, lf, (*p, "cause"), ex.cause, known)
        lead = 0
        if ex.lead is not None:
            lead = parse_duration(ex.lead)
            _check_lead(ctx, lf, p, ex, cause, slo_list, service_labels)
            if not hold:
                ctx.errs.add_value(
                    lf,
                    (*p, "lead"),
                    f"a lead widens the hold of {ex.name}, which has none",
                    "give a hold too (e.g. hold: 10m), or remove lead",
                )
        inhibitions.append(
            M.Inhibition(
                ex.name,
                cause,
                target,
                tuple(ex.equal),
                any_severity=True,
                hold=hold,
                explanation=True,
                any_instance=ex.any_instance,
                origin=origin_of(lf, p),
                lead=lead,
            )
        )
    ctx.check_refs(lf, ("routing", "catch_all"), r.catch_all, receivers, "receiver")
    teams = []
    for i, t in enumerate(r.teams):
        p = ("routing", "teams", i)
        ctx.check_refs(lf, (*p, "components"), t.components, components, "component")
        ctx.check_refs(lf, (*p, "receivers"), t.receivers, receivers, "receiver")
        teams.append(M.TeamRoute(t.name, tuple(t.components), tuple(t.receivers)))
    windows = []
    unique(
        [
            (lf, ("routing", "maintenance_windows", i), w.name)
            for i, w in enumerate(r.maintenance_windows)
        ],
        "maintenance window",
        ctx.errs,
    )
    for i, w in enumerate(r.maintenance_windows):
        _check_times(ctx, lf, ("routing", "maintenance_windows", i), w)
        windows.append(
            M.MaintenanceWindow(
                w.name,
                tuple(w.mute),
                tuple(M.TimeRange(tuple(t.weekdays), t.start, t.end, t.location) for t in w.times),
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


def _check_times(ctx: Context, lf: LoadedFile, path: YPath, window: wire.MaintenanceWindow) -> None:
    """What Alertmanager would refuse at load time: an empty range, an unknown time zone."""
    for i, t in enumerate(window.times):
        if t.start >= t.end:
            ctx.errs.add(
                lf,
                (*path, "times", i, "end"),
                f"end {t.end} is not after start {t.start}",
                "a range spanning midnight is two ranges: start-24:00 and 00:00-end",
            )
        try:
            ZoneInfo(t.location)
        except (ZoneInfoNotFoundError, ValueError):
            ctx.errs.add(
                lf,
                (*path, "times", i, "location"),
                f"unknown time zone '{t.location}'",
                "use an IANA name such as UTC or Europe/Berlin",
            )


def check_routing_targets(
    ctx: Context, routing: M.Routing, severities: tuple[M.Severity, ...]
) -> None:
    """An escalated severity must say whom to escalate to."""
    found = ctx.single("routing")
    if found is None:
        return
    lf, _ = found
    by_name = {s.name: s for s in severities}
    for i, name in enumerate(routing.escalate):
        severity = by_name.get(name)
        if severity is not None and not severity.escalate_to:
            ctx.errs.add(
                lf,
                ("routing", "escalate", i),
                f"severity {name} is escalated but has no escalate_to receivers",
                f"add severities.{name}.escalate_to, or remove {name} from routing.escalate",
            )


def _check_lead(
    ctx: Context,
    lf: LoadedFile,
    path: YPath,
    ex: wire.Explanation,
    cause: M.InhibitMatch,
    slos: tuple[M.SLO, ...],
    service_labels: dict[str, str],
) -> None:
    """A lead predicts burn tiers from their recorded ratios, so the cause must name burn tiers
    of one SLO alert, and the prediction must carry every label the explanation's ``equal``
    compares (the SLO's group_by or a label every alert of the SLO carries)."""
    where = (*path, "lead")
    tiers = M.lead_tiers(cause, slos)
    if not tiers:
        ctx.errs.add_value(
            lf,
            where,
            f"lead predicts burn-rate tiers, but the cause of {ex.name} names none",
            "give the cause just the alertname of an SLO's burn alert and its tiers, e.g. "
            "{alertname: BZZZXErrorBudgetBurn, tiers: [page-fast, page-slow]}, or remove lead",
        )
        return
    for slo in {s.name: s for s, _ in tiers}.values():
        known = set(slo.group_by) | set(M.alert_static_labels(slo, service_labels))
        missing = [e for e in ex.equal if e not in known]
        if missing:
            ctx.errs.add_value(
                lf,
                where,
                f"the lead's prediction from SLO {slo.name}'s error ratios cannot carry "
                f"{', '.join(missing)}, which equal compares",
                f"equal only labels of the SLO's group_by ({', '.join(slo.group_by) or 'none'}) "
                f"or that all its alerts carry, or remove lead",
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
            or (slo.component_from_data and bool(target.components))
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
