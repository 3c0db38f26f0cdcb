"""Synthetic BZZZ history with known incidents, as OpenMetrics (for a real Prometheus, via
``promtool tsdb create-blocks-from openmetrics``) and as ``promtool test rules`` input series
(the same samples), so a backtest can be checked against promtool's own rule evaluation.

Series (3 agents, one sample per ``STEP`` from ``start``): ``up{job="bzzz-agent"}``, the DHT
get/put counters by result, ``bzzz_election_state{state="admin"}`` and ``bzzz_errors_total``.
Incidents are given in steps from the start: DHT failure ratios over a span, an agent down
(``up`` 0, its other series not scraped), no admin, an agent's error rate.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

STEP = 15
AGENTS = ("agent-1:8081", "agent-2:8081", "agent-3:8081")
JOB = "bzzz-agent"
OPS_PER_STEP = 40  # per agent, operation and step: successes and failures together
ERRORS_PER_STEP = 6  # bzzz_errors_total per agent and step outside incidents (0.4/s)


@dataclass(frozen=True)
class Failing:
    first: int  # step
    last: int  # step, inclusive
    percent: int  # of DHT operations that fail


@dataclass(frozen=True)
class History:
    steps: int
    dht_failing: tuple[Failing, ...] = ()
    agent_down: tuple[tuple[str, int, int], ...] = ()  # (instance, first, last)
    no_admin: tuple[tuple[int, int], ...] = ()
    errors: tuple[tuple[str, int, int, int], ...] = ()  # (instance, first, last, per step)
    agents: tuple[str, ...] = AGENTS
    extra: dict[str, str] = field(default_factory=dict)

    def failing_percent(self, step: int) -> int:
        return max((f.percent for f in self.dht_failing if f.first <= step <= f.last), default=0)

    def down(self, instance: str, step: int) -> bool:
        return any(i == instance and a <= step <= b for i, a, b in self.agent_down)

    def errors_per_step(self, instance: str, step: int) -> int:
        found = [n for i, a, b, n in self.errors if i == instance and a <= step <= b]
        return max(found, default=ERRORS_PER_STEP)

    def series(self) -> Iterator[tuple[str, dict[str, str], list[float | None]]]:
        """(metric, labels, value per step; None: not scraped)."""
        for instance in self.agents:
            base = {"job": JOB, "instance": instance}
            yield "up", base, [0.0 if self.down(instance, s) else 1.0 for s in range(self.steps)]
            admin = instance == self.agents[0]
            yield (
                "bzzz_election_state",
                {**base, "state": "admin"},
                [
                    None
                    if self.down(instance, s)
                    else float(admin and not any(a <= s <= b for a, b in self.no_admin))
                    for s in range(self.steps)
                ],
            )
            errors, count = [], 0.0
            for s in range(self.steps):
                count += self.errors_per_step(instance, s)
                errors.append(None if self.down(instance, s) else count)
            yield "bzzz_errors_total", base, errors
            for op in ("get", "put"):
                ok, bad = 0.0, 0.0
                oks: list[float | None] = []
                bads: list[float | None] = []
                for s in range(self.steps):
                    failed = OPS_PER_STEP * self.failing_percent(s) // 100
                    ok += OPS_PER_STEP - failed
                    bad += failed
                    scraped = not self.down(instance, s)
                    oks.append(ok if scraped else None)
                    bads.append(bad if scraped else None)
                name = f"bzzz_dht_{op}_operations_total"
                yield name, {**base, "result": "success"}, oks
                yield name, {**base, "result": "failure"}, bads


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))


def _number(v: float) -> str:
    return str(int(v)) if v == int(v) else repr(v)


def write_openmetrics(history: History, start: int, path: Path) -> None:
    """One metric family per name (OpenMetrics wants a family's samples together)."""
    families: dict[str, list[str]] = {}
    for name, labels, values in history.series():
        lines = families.setdefault(name, [])
        text = _labels(labels)
        lines.extend(
            f"{name}{{{text}}} {_number(v)} {start + i * STEP}"
            for i, v in enumerate(values)
            if v is not None
        )
    with path.open("w", encoding="utf-8") as out:
        for name, lines in families.items():
            kind = "counter" if name.endswith("_total") else "gauge"
            family = name.removesuffix("_total") if kind == "counter" else name
            out.write(f"# TYPE {family} {kind}\n")
            out.write("\n".join(lines) + "\n")
        out.write("# EOF\n")


def promtool_values(values: list[float | None]) -> str:
    """promtool's expanding notation: runs of equal increments as ``a+bxN``, gaps as ``_xN``."""
    parts: list[str] = []
    i = 0
    while i < len(values):
        v = values[i]
        if v is None:
            j = i
            while j + 1 < len(values) and values[j + 1] is None:
                j += 1
            parts.append(f"_x{j - i + 1}" if j > i else "_")
            i = j + 1
            continue
        j = i
        step = None
        while j + 1 < len(values) and values[j + 1] is not None:
            d = values[j + 1] - values[j]  # type: ignore[operator]
            if step is None:
                step = d
            elif d != step:
                break
            j += 1
        if j == i:
            parts.append(_number(v))
        else:
            sign = "+" if step >= 0 else "-"  # type: ignore[operator]
            parts.append(f"{_number(v)}{sign}{_number(abs(step))}x{j - i}")  # type: ignore[arg-type]
        i = j + 1
    return " ".join(parts)


def input_series(history: History) -> list[dict[str, str]]:
    return [
        {"series": f"{name}{{{_labels(labels)}}}", "values": promtool_values(values)}
        for name, labels, values in history.series()
    ]
