"""``bzzzmon test``: generated and user-written promtool tests, and the routing tests, with a
report a reviewer can read.

User-written tests live in ``specs/tests/*.yml`` (the ``promtool test rules`` format). Their
``rule_files`` are relative to the generated rules directory (``generated/prometheus/rules``), so a
test says ``rule_files: [slo-dht-operations.rules.yml]`` wherever ``--out`` points; the file is
run from a temporary copy whose ``rule_files`` are made absolute.

promtool's failure output is parsed into cases: which alert (from ``alert_rule_test`` or from the
``ALERTS{alertname=...}`` query of a ``promql_expr_test``), at what evaluation time, the expected
and the received label sets, and the labels by which they differ.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bzzzmon import conventions as C
from bzzzmon.verify import result_cache
from bzzzmon.verify.tools import ToolResult, require, run

USER_TESTS_DIR = "tests"  # below the spec directory
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ANNOTATION_PREFIX = "annotation:"

_DURATION = re.compile(r"(\d+)(ms|[ywdhms])")
_UNIT = {"y": 31536000, "w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0}
_SAMPLE = re.compile(r"(\{(?:[^{}\"]|\"(?:[^\"\\]|\\.)*\")*\})\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def seconds(duration: str) -> int:
    return sum(int(n) * _UNIT[u] for n, u in _DURATION.findall(duration))


def parse_labels(text: str) -> dict[str, str]:
    return {k: v.replace('\\"', '"').replace("\\\\", "\\") for k, v in _LABEL.findall(text)}


@dataclass
class Case:
    """One failing check of a promtool test file."""

    alert: str  # alert name, or the expression/rule when no alert is involved
    time: str
    expected: list[dict[str, str]] = field(default_factory=list)
    got: list[dict[str, str]] = field(default_factory=list)
    raw: str = ""  # promtool's own words, for what the parser does not understand

    def lines(self) -> list[str]:
        at = f"{self.time} ({seconds(self.time)}s)" if self.time else "?"
        out = [f"{self.alert} at {at}:"]
        if not self.expected and not self.got and self.raw:
            return out + [f"    {line}" for line in self.raw.splitlines()]
        out.append(f"    expected: {_sets(self.expected)}")
        out.append(f"    got:      {_sets(self.got)}")
        differ = _difference(self.expected, self.got)
        if differ:
            out.append(f"    differ in: {differ}")
        return out


def _set_text(labels: dict[str, str]) -> str:
    shown = {
        k: v
        for k, v in labels.items()
        if k not in ("__name__", "alertstate") and not k.startswith(ANNOTATION_PREFIX)
    }
    notes = {k: v for k, v in labels.items() if k.startswith(ANNOTATION_PREFIX)}
    state = labels.get("alertstate")
    body = ", ".join(f'{k}="{v}"' for k, v in sorted(shown.items()))
    text = f"{state + ' ' if state else ''}{{{body}}}"
    if notes:
        text += (
            " annotations {"
            + ", ".join(
                f'{k.removeprefix(ANNOTATION_PREFIX)}="{v}"' for k, v in sorted(notes.items())
            )
            + "}"
        )
    return text


def _sets(found: list[dict[str, str]]) -> str:
    if not found:
        return "nothing firing"
    return "; ".join(_set_text(s) for s in found)


def _difference(expected: list[dict[str, str]], got: list[dict[str, str]]) -> str:
    if len(expected) != 1 or len(got) != 1:
        return ""
    e, g = expected[0], got[0]
    keys = sorted(k for k in set(e) | set(g) if e.get(k) != g.get(k) and k != "__name__")
    return ", ".join(f"{k}: {e.get(k, '(none)')!r} -> {g.get(k, '(none)')!r}" for k in keys)


def _samples(text: str) -> list[dict[str, str]]:
    text = text.strip()
    if text in ("nil", "[]", ""):
        return []
    return [parse_labels(m.group(1)) for m in _SAMPLE.finditer(text)]


_BRACES = r"(\{(?:[^{}\"]|\"(?:[^\"\\]|\\.)*\")*\})"
_ALERT_BLOCK = re.compile(rf"Labels:{_BRACES}\s*Annotations:{_BRACES}")


def _alert_blocks(text: str) -> list[dict[str, str]]:
    """``Labels:{...} Annotations:{...}`` blocks of an alert_rule_test failure; annotations are
    kept under ANNOTATION_PREFIX + name."""
    found = []
    for m in _ALERT_BLOCK.finditer(text):
        annotations = {ANNOTATION_PREFIX + k: v for k, v in parse_labels(m.group(2)).items()}
        found.append(parse_labels(m.group(1)) | annotations)
    return found


_EXPR_CASE = re.compile(
    r'expr: "(?P<expr>(?:[^"\\]|\\.)*)", time: (?P<time>\S+?),\s*\n\s*exp: (?P<exp>.*?)\n'
    r"\s*got: (?P<got>.*?)(?=\n\s*expr: |\n\s*alertname: |\n\s*rule: |\Z)",
    re.S,
)
_ALERT_CASE = re.compile(
    r"alertname: (?P<name>\S+?), time: (?P<time>\S+?),\s*\n\s*exp:(?P<exp>.*?)\n\s*got:"
    r"(?P<got>.*?)(?=\n\s*expr: |\n\s*alertname: |\n\s*rule: |\Z)",
    re.S,
)
_RULE_CASE = re.compile(r"rule: (?P<rule>.*?), time: (?P<time>\S+?), err: (?P<err>.*)")


def _query_alert(expr: str) -> str:
    expr = expr.replace('\\"', '"')
    labels = parse_labels(expr)
    if expr.startswith("ALERTS") and "alertname" in labels:
        extra = {k: v for k, v in labels.items() if k not in ("alertname", "alertstate")}
        suffix = ", ".join(f'{k}="{v}"' for k, v in sorted(extra.items()))
        return labels["alertname"] + (f"{{{suffix}}}" if suffix else "")
    return f"expr {expr}"


def parse_failures(output: str) -> list[Case]:
    cases: list[Case] = []
    for m in _EXPR_CASE.finditer(output):
        cases.append(
            Case(_query_alert(m["expr"]), m["time"], _samples(m["exp"]), _samples(m["got"]))
        )
    for m in _ALERT_CASE.finditer(output):
        expected = [
            s | {"alertname": m["name"], "alertstate": "firing"} for s in _alert_blocks(m["exp"])
        ]
        got = [
            s | {"alertname": m["name"], "alertstate": "firing"} for s in _alert_blocks(m["got"])
        ]
        cases.append(Case(m["name"], m["time"], expected, got))
    seen_rules: set[str] = set()
    for m in _RULE_CASE.finditer(output):
        key = f"{m['rule']}: {m['err']}"
        if key not in seen_rules:  # promtool repeats a rule error at every evaluation
            seen_rules.add(key)
            cases.append(Case(f"rule {m['rule']}", m["time"], raw=f"error: {m['err'].strip()}"))
    return cases


@dataclass(frozen=True)
class TestFile:
    """A promtool test file to run."""

    path: Path  # what promtool runs (for a user test, a copy with absolute rule_files)
    label: str  # how the report names it
    source: Path  # the file as it lies in the tree, for --changed
    rule_files: tuple[Path, ...]  # resolved
    checks: int  # alert_rule_test and promql_expr_test entries: the report's "cases"


@dataclass
class FileResult:
    label: str  # how the report names the file
    result: ToolResult
    cases: list[Case]  # the failing ones, parsed from promtool's output
    checks: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result.ok


def _run_promtool(test: TestFile) -> FileResult:
    start = time.monotonic()
    command = [require("promtool"), "test", "rules", str(test.path)]
    run_key = result_cache.key(command[0], test.path, test.rule_files)
    result = result_cache.recall(run_key, command)
    if result is None:
        result = run(command, timeout=600)
        result_cache.remember(run_key, result)
    cases = [] if result.ok else parse_failures(result.output)
    return FileResult(test.label, result, cases, test.checks, time.monotonic() - start)


def generated_tests(out: Path) -> list[Path]:
    return sorted([*(out / C.TESTS_DIR).glob("*.yml"), *out.glob(C.SERVICE_TESTS_GLOB)])


def user_tests(specs: Path) -> list[Path]:
    folder = specs / USER_TESTS_DIR
    return sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])


def _test_doc(test: Path) -> dict[str, Any]:
    try:
        doc: Any = yaml.load(test.read_text(encoding="utf-8"), Loader=_Loader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{test}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(test)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ValueError(f"{where}: not valid YAML: {problem}") from exc
    if not isinstance(doc, dict):
        raise ValueError(f"{test}: not a promtool test file (a mapping is expected)")
    return doc


def _checks(doc: dict[str, Any]) -> int:
    groups = doc.get("tests") or []
    return sum(
        len(g.get("alert_rule_test") or []) + len(g.get("promql_expr_test") or [])
        for g in groups
        if isinstance(g, dict)
    )


def _rebased(test: Path, doc: dict[str, Any], rules_dir: Path, into: Path) -> Path:
    """A copy of a user test whose rule_files point into the generated rules directory."""
    doc = dict(doc)
    doc["rule_files"] = [str(rules_dir.resolve() / str(f)) for f in doc.get("rule_files") or []]
    target = into / test.name
    target.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return target


def collect(out: Path, specs: Path | None, tmp: Path) -> list[TestFile]:
    """Every generated test file and every user test (copied into ``tmp`` with their
    rule_files made absolute), in report order."""
    found: list[TestFile] = []
    for path in generated_tests(out):
        doc = _test_doc(path)
        rules = tuple((path.parent / str(f)).resolve() for f in doc.get("rule_files") or [])
        label = path.relative_to(out).as_posix()
        found.append(TestFile(path, label, path.resolve(), rules, _checks(doc)))
    for folder, rules_dir, into in user_test_dirs(out, specs, tmp):
        for path in user_tests(folder):
            doc = _test_doc(path)
            rules = tuple((rules_dir / str(f)).resolve() for f in doc.get("rule_files") or [])
            copy = _rebased(path, doc, rules_dir, into)
            found.append(TestFile(copy, str(path), path.resolve(), rules, _checks(doc)))
    return found


def user_test_dirs(out: Path, specs: Path | None, tmp: Path) -> list[tuple[Path, Path, Path]]:
    """(spec directory whose tests/ to read, the rules directory their rule_files are
    relative to, where their copies go): the specs directory itself, and each service
    directory of several services in one (``specs/<name>/tests/`` -> ``prometheus/<name>/``)."""
    if specs is None:
        return []
    found = [(specs, (out / C.RULES_DIR).resolve(), tmp)]
    for sub in sorted(p for p in specs.iterdir() if p.is_dir() and (p / USER_TESTS_DIR).is_dir()):
        rules = out / C.SERVICE_PROMETHEUS_DIR.format(service=sub.name) / "rules"
        if rules.is_dir():
            (tmp / sub.name).mkdir(exist_ok=True)
            found.append((sub, rules.resolve(), tmp / sub.name))
    return found


def run_tests(tests: list[TestFile], jobs: int) -> Iterator[FileResult]:
    """Run every test file, ``jobs`` promtool processes at a time, yielding each result as its
    process ends. The largest files start first, so a long one does not start last."""
    order = sorted(tests, key=lambda t: t.path.stat().st_size, reverse=True)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(_run_promtool, t) for t in order]
        for future in as_completed(futures):
            yield future.result()


def run_rule_tests(out: Path, specs: Path | None, jobs: int = 4) -> list[FileResult]:
    """Every generated test file and every user test, one promtool process per file, in
    report order."""
    with tempfile.TemporaryDirectory(prefix="bzzzmon-test-") as tmp:
        tests = collect(out, specs, Path(tmp))
        rank = {t.label: i for i, t in enumerate(tests)}
        return sorted(run_tests(tests, jobs), key=lambda r: rank[r.label])


class GitError(ValueError):
    """--changed could not ask git (not a repository, unknown ref)."""


def changed_paths(directory: Path, ref: str) -> set[Path]:
    """Files below ``directory`` that differ from ``ref`` in git: modified, added, deleted or
    not tracked yet (a new rule file is a change too)."""
    commands = (
        ["git", "diff", "--name-only", "--relative", "--no-renames", ref, "--", "."],
        ["git", "ls-files", "--others", "--exclude-standard", "--", "."],
    )
    found: set[Path] = set()
    for command in commands:
        try:
            proc = subprocess.run(
                command, cwd=directory, capture_output=True, text=True, timeout=60, check=False
            )
        except OSError as exc:
            raise GitError(f"--changed needs git: {exc.strerror or exc}") from exc
        if proc.returncode != 0:
            message = (proc.stderr.strip().splitlines() or ["git failed"])[-1]
            raise GitError(f"--changed {ref}: {message}")
        found.update((directory / line).resolve() for line in proc.stdout.splitlines() if line)
    return found


def only_changed(tests: list[TestFile], changed: set[Path]) -> list[TestFile]:
    """The tests that changed themselves or read a rule file that did."""
    return [t for t in tests if t.source in changed or changed.intersection(t.rule_files)]


@dataclass
class Selection:
    """The test files to run, and what ``--changed`` found (None: every test runs)."""

    tests: list[TestFile]
    total: int
    changed: set[Path] | None = None

    def routing_changed(self, out: Path) -> bool:
        if self.changed is None:
            return True
        alertmanager = (out / C.ALERTMANAGER_DIR).resolve()
        return any(alertmanager in p.parents for p in self.changed)


def select(out: Path, specs: Path | None, tmp: Path, ref: str | None) -> Selection:
    """Every test (see collect), or with ``ref`` only those only_changed picks from what differs
    from ``ref`` below ``out`` and ``specs``. Raises GitError (a ValueError) when git cannot."""
    tests = collect(out, specs, tmp)
    if ref is None:
        return Selection(tests, len(tests))
    changed = changed_paths(out, ref)
    if specs is not None:
        changed |= changed_paths(specs, ref)
    return Selection(only_changed(tests, changed), len(tests), changed)


def format_result(r: FileResult) -> str:
    """One line for a test file (outcome, name, cases, time), then each failure."""
    mark = "ok   " if r.ok else "FAIL "
    lines = [f"{mark} {r.label}  ({r.checks} cases, {r.seconds:.1f}s)"]
    if not r.ok:
        for case in r.cases:
            lines.extend(f"  {line}" for line in case.lines())
        if not r.cases:
            lines.extend(f"  {line}" for line in r.result.output.splitlines() if line.strip())
    return "\n".join(lines)


def format_rule_results(results: list[FileResult]) -> str:
    return "\n".join(format_result(r) for r in results)


def summary(results: list[FileResult], seconds: float, jobs: int, slowest: int = 3) -> str:
    """The totals and the slowest files: where a faster suite would come from."""
    failed = sum(1 for r in results if not r.ok)
    checks = sum(r.checks for r in results)
    lines = [
        f"rule tests: {len(results)} files, {checks} cases, {failed} failed "
        f"in {seconds:.1f}s ({jobs} at a time)"
    ]
    if len(results) > 1:
        lines.append("slowest:")
        ranked = sorted(results, key=lambda r: (-r.seconds, r.label))[:slowest]
        lines.extend(f"  {r.seconds:6.1f}s  {r.label}" for r in ranked)
    return "\n".join(lines)


@dataclass
class RoutingResult:
    total: int
    failed: int
    report: str


def run_routing_tests(out: Path) -> RoutingResult:
    """The Alertmanager routing and inhibition tests (bzzzmon.verify.amtool)."""
    from bzzzmon.verify import amtool

    routes = amtool.run_route_tests(out)
    inhibitions = amtool.run_inhibition_tests(out)
    failed = sum(not r.ok for r in routes) + sum(not i.ok for i in inhibitions)
    return RoutingResult(len(routes) + len(inhibitions), failed, amtool.report(routes, inhibitions))
