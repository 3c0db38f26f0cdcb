"""amtool: ``check-config`` and the generated routing tests; the inhibition tests amtool cannot run.

``test_routes`` runs every case of ``alertmanager/routing-tests.yml`` through
``amtool config routes test --config.file=... --verify.receivers=a,b label="value"...`` (amtool
prints the receivers of the matched routes in order and fails when they differ). Cases that name
``muted_by`` also check, on the same config, that every route the alert ends at is muted by
exactly those time intervals (amtool ignores time). ``run_inhibition_tests`` evaluates the
``inhibit_rules`` of the config for each case of ``alertmanager/inhibition-tests.yml`` with
Alertmanager's semantics (see ``bzzzmon.render.alertmanager.inhibit.is_inhibited``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.render.alertmanager.inhibit import is_inhibited
from bzzzmon.render.alertmanager.matchers import Matcher
from bzzzmon.render.alertmanager.routes import match_routes
from bzzzmon.render.output import load_generated_yaml
from bzzzmon.verify.tools import ToolResult, parallel_map, require, run


@dataclass(frozen=True)
class RouteTestOutcome:
    name: str
    labels: dict[str, str]
    expected: list[str]
    got: list[str]
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class InhibitionTestOutcome:
    name: str
    source: dict[str, str]
    target: dict[str, str]
    expected: bool
    got: bool
    ok: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ok", self.expected == self.got)


def _load(path: Path) -> Any:
    """The generated file's data (shared, cached parse: read only)."""
    return load_generated_yaml(path.read_text(encoding="utf-8"))


def check_config(out: Path) -> ToolResult | None:
    config = out / C.ALERTMANAGER_CONFIG
    if not config.exists():
        return None
    return run([require("amtool"), "check-config", str(config)])


def amtool_route(config: Path, labels: dict[str, str], expected: list[str]) -> ToolResult:
    args = [Matcher(k, "=", v).format() for k, v in sorted(labels.items())]
    return run(
        [
            require("amtool"),
            "config",
            "routes",
            "test",
            f"--config.file={config}",
            f"--verify.receivers={','.join(expected)}",
            *args,
        ]
    )


def _receivers_printed(output: str) -> list[str]:
    for line in output.splitlines():
        line = line.strip()
        if line and not line.startswith(("Warning:", "WARNING:")):
            return [r for r in line.split(",") if r]
    return []


def run_route_tests(out: Path) -> list[RouteTestOutcome]:
    config = out / C.ALERTMANAGER_CONFIG
    tests = out / C.ALERTMANAGER_ROUTING_TESTS
    if not config.exists() or not tests.exists():
        return []
    route = _load(config)["route"]
    cases = [
        (
            case,
            {str(k): str(v) for k, v in case["labels"].items()},
            [str(r) for r in case["receivers"]],
        )
        for case in _load(tests) or []
    ]
    results = parallel_map(lambda c: amtool_route(config, c[1], c[2]), cases)
    outcomes = []
    for (case, labels, expected), result in zip(cases, results, strict=True):
        got = _receivers_printed(result.output)
        problems = [] if result.ok and got == expected else [result.output]
        if "muted_by" in case:
            want = tuple(case["muted_by"])
            for m in match_routes(route, labels):
                if m.mute_time_intervals != want:
                    problems.append(
                        f"route to {m.receiver} is muted by {list(m.mute_time_intervals)}, "
                        f"expected {list(want)}"
                    )
        outcomes.append(
            RouteTestOutcome(case["name"], labels, expected, got, not problems, "\n".join(problems))
        )
    return outcomes


def run_inhibition_tests(out: Path) -> list[InhibitionTestOutcome]:
    config = out / C.ALERTMANAGER_CONFIG
    tests = out / C.ALERTMANAGER_INHIBITION_TESTS
    if not config.exists() or not tests.exists():
        return []
    rules = _load(config).get("inhibit_rules", [])
    outcomes = []
    for case in _load(tests) or []:
        source = {str(k): str(v) for k, v in case["source"].items()}
        target = {str(k): str(v) for k, v in case["target"].items()}
        got = is_inhibited(rules, target, [source])
        outcomes.append(
            InhibitionTestOutcome(case["name"], source, target, bool(case["inhibited"]), got)
        )
    return outcomes


def _labels_text(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}={v!r}" for k, v in sorted(labels.items())) + "}"


def report(routes: list[RouteTestOutcome], inhibitions: list[InhibitionTestOutcome]) -> str:
    """A readable report of the failing cases (empty when all pass)."""
    lines = []
    for r in routes:
        if r.ok:
            continue
        lines.append(f"FAIL routing test {r.name!r}")
        lines.append(f"  labels:   {_labels_text(r.labels)}")
        lines.append(f"  expected: {', '.join(r.expected)}")
        lines.append(f"  got:      {', '.join(r.got) or '(nothing)'}")
        lines.extend(f"  {line}" for line in r.detail.splitlines() if line.strip())
    for i in inhibitions:
        if i.ok:
            continue
        verb = "inhibit" if i.expected else "not inhibit"
        lines.append(f"FAIL inhibition test {i.name!r}: expected the source to {verb} the target")
        lines.append(f"  source: {_labels_text(i.source)}")
        lines.append(f"  target: {_labels_text(i.target)}")
    return "\n".join(lines)


def test_routes(out: Path) -> ToolResult | None:
    """Every routing test through amtool (and the inhibition tests); failing with a report."""
    config = out / C.ALERTMANAGER_CONFIG
    if not config.exists() or not (out / C.ALERTMANAGER_ROUTING_TESTS).exists():
        return None
    routes = run_route_tests(out)
    inhibitions = run_inhibition_tests(out)
    failed = [r for r in routes if not r.ok] + [i for i in inhibitions if not i.ok]
    text = report(routes, inhibitions)
    summary = (
        f"{len(routes)} routing tests, {len(inhibitions)} inhibition tests: {len(failed)} failed"
    )
    command = (require("amtool"), "config", "routes", "test", f"--config.file={config}")
    return ToolResult(command, 1 if failed else 0, f"{text}\n{summary}" if text else summary)
