"""A ``promql`` SLI: bad (or good) and total events written as PromQL with ``{{.window}}``.

The placeholder is expanded once per window read from the raw series (the 5m base window and
the page windows up to an hour, see bzzzmon.slo.windows.raw_windows), so the rules read each raw
series once per such window, as for the other kinds; longer windows are summed from the recorded
5m series as usual. The expressions' unit is the user's (events per second, or per window as in
``sum_over_time(count(...)[{{.window}}:])``): a window's ratio is bad over total either way, but
the low-traffic guard, which counts events per second, is off unless ``min_events`` is set.
"""

from __future__ import annotations

from bzzzmon import model as M
from bzzzmon.promql import builders as B
from bzzzmon.promql import window
from bzzzmon.promql.duration import format_duration
from bzzzmon.promql.selectors import expand
from bzzzmon.slo.windows import BASE_WINDOW
from bzzzmon.spec import wire
from bzzzmon.spec.context import Context
from bzzzmon.spec.loader import LoadedFile
from bzzzmon.spec.yamlpos import Path as YPath


def _checked(
    ctx: Context, lf: LoadedFile, path: YPath, text: str, selectors: dict[str, dict[str, str]]
) -> bool:
    try:
        window.check(text)
    except window.PlaceholderError as exc:
        ctx.errs.add_value(lf, path, exc.message, exc.hint, offset=exc.offset)
        return False
    base = format_duration(BASE_WINDOW)
    # Selectors first, so an error points at its character in the text as written.
    return ctx.expr(lf, path, text, selectors, lambda t: window.expand(t, base)) is not None


def promql_sli(
    ctx: Context,
    lf: LoadedFile,
    path: YPath,
    sli: wire.PromQLSLI,
    group_by: list[str],
    selectors: dict[str, dict[str, str]],
    raw_windows: list[int],
) -> M.SLI | None:
    if group_by:
        ctx.errs.add(
            lf,
            (*path, "group_by"),
            "a promql SLI cannot be grouped (yet)",
            "leave out group_by, or use a ratio or latency SLI, which bzzzmon groups itself",
        )
        return None
    which = "bad" if sli.bad is not None else "good"
    part = sli.bad if sli.bad is not None else sli.good
    assert part is not None
    ok = [
        _checked(ctx, lf, (*path, "sli", "promql", role), text, selectors)
        for role, text in ((which, part), ("total", sli.total))
    ]
    if not all(ok):
        return None

    def at(text: str, w: int) -> str:
        # Checked above at the base window; only the duration differs at the others.
        expanded = ctx.expr(
            lf, path, text, selectors, lambda t: window.expand(t, format_duration(w))
        )
        assert expanded is not None
        return B.parenthesize(expanded)

    def rates(w: int) -> tuple[str, str]:
        t, p = at(sli.total, w), at(part, w)
        # No series of bad events until the first one: count 0, as for a ratio SLI.
        if which == "bad":
            return f"{p} or {t} * 0", t
        return f"{t} - ({p} or {t} * 0)", t

    by_window = {w: rates(w) for w in raw_windows}
    base = by_window[BASE_WINDOW]
    # For dashboards: Grafana's own rate window in place of the placeholder.
    grafana = {
        role: window.expand(expand(text, selectors), "$__rate_interval")
        for role, text in ((which, part), ("total", sli.total))
    }
    inputs = {which: part, "total": sli.total, **{f"{r}_grafana": q for r, q in grafana.items()}}
    return M.SLI("promql", base[1], inputs, by_window)
