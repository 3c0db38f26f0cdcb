"""Who each firing episode would have notified: the generated route tree and inhibitions,
evaluated with the functions that mirror Alertmanager (``receivers_for``, ``is_inhibited``).

An episode reaches Alertmanager under the labels Prometheus sends (``alert_relabel_configs``
applied: an escalation goes out under the alert it escalates). It notifies when it starts
firing unless an inhibition mutes it then; a muted one notifies at the first moment its
sources have all resolved, if that comes before it resolves itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bzzzmon.backtest.episodes import Episode
from bzzzmon.model import Plan
from bzzzmon.render.alertmanager import receivers_for
from bzzzmon.render.alertmanager.inhibit import is_inhibited


@dataclass(frozen=True)
class Page:
    episode: Episode
    receiver: str
    at: int  # unix seconds


def relabel(labels: Mapping[str, str], configs: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Prometheus' ``replace`` relabelling (the only action the generated config uses)."""
    out = dict(labels)
    for config in configs:
        if config.get("action", "replace") != "replace":
            continue
        value = str(config.get("separator", ";")).join(
            out.get(n, "") for n in config.get("source_labels", [])
        )
        match = re.fullmatch(str(config.get("regex", "(.*)")), value)
        if match is None:
            continue
        target = str(config["target_label"])
        replacement = match.expand(
            re.sub(r"\$\{?(\d+)\}?", r"\\g<\1>", str(config.get("replacement", "$1")))
        )
        if replacement:
            out[target] = replacement
        else:
            out.pop(target, None)
    return out


def pages(
    plan: Plan,
    found: Sequence[Episode],
    inhibit_rules: Sequence[Mapping[str, Any]],
    relabel_configs: Sequence[Mapping[str, Any]],
) -> list[Page]:
    firing = [e for e in found if e.fired is not None]
    sent = {id(e): relabel(e.labels, relabel_configs) for e in firing}

    def muted(e: Episode, t: int) -> bool:
        others = [sent[id(o)] for o in firing if o is not e and o.fired <= t < o.end]  # type: ignore[operator]
        return is_inhibited(inhibit_rules, sent[id(e)], others)

    out: list[Page] = []
    for e in firing:
        assert e.fired is not None
        at: int | None = e.fired
        if muted(e, e.fired):
            # Muting can only lift when a source resolves.
            ends = sorted({o.end for o in firing if e.fired < o.end < e.end})
            at = next((t for t in ends if not muted(e, t)), None)
        if at is None:
            continue
        out.extend(Page(e, receiver, at) for receiver in receivers_for(plan, sent[id(e)]))
    return sorted(out, key=lambda p: (p.at, p.episode.alertname, p.receiver))
