"""What an importer produces: bzzzmon spec data per service, with notes on what did not carry
over, and a report line for every source field that was mapped, approximated or dropped."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from bzzzmon.promql import window
from bzzzmon.promql.parse import PromQLError, parse, selectors_of
from bzzzmon.spec.errors import SpecError, SpecErrors
from bzzzmon.spec.yamlpos import Document

How = Literal["mapped", "approximated", "dropped"]
NAME = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$")


@dataclass(frozen=True)
class Entry:
    """One line of the import report: where in the source, what, and how it came across."""

    where: str  # file:line:col
    what: str
    how: How
    detail: str = ""


@dataclass
class SLODraft:
    data: dict[str, Any]
    source: str  # file:line of the SLO in the source
    notes: list[str] = field(default_factory=list)  # comments above the SLO: what did not carry


@dataclass
class ServiceDraft:
    name: str
    source_files: list[str]
    labels: dict[str, str] = field(default_factory=dict)
    description: str = ""
    slos: list[SLODraft] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # comments at the top of the file
    metrics: dict[str, str] = field(default_factory=dict)
    runbook_url: str = ""


class Collector:
    """Report entries and errors of one import, positioned in the source documents."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.errors: list[SpecError] = []

    @staticmethod
    def where(doc: Document, path: tuple[str | int, ...]) -> str:
        line, col = doc.position(path)
        return f"{doc.file}:{line}:{col}"

    def add(
        self, doc: Document, path: tuple[str | int, ...], what: str, how: How, detail: str = ""
    ) -> None:
        self.entries.append(Entry(self.where(doc, path), what, how, detail))

    def error(
        self, doc: Document, path: tuple[str | int, ...], message: str, hint: str = ""
    ) -> None:
        self.errors.append(doc.error(path, message, hint))

    @staticmethod
    def error_at(file: str, message: str, hint: str = "") -> SpecError:
        return SpecError(file, 1, 1, message, hint)

    def raise_errors(self) -> None:
        if self.errors:
            raise SpecErrors(self.errors)


def mapping(doc: Document, value: Any, path: tuple[str | int, ...], c: Collector) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        c.error(doc, path, "expected a mapping")
        return {}
    return value


def sequence(doc: Document, value: Any, path: tuple[str | int, ...], c: Collector) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        c.error(doc, path, "expected a list")
        return []
    return value


def text(doc: Document, value: Any, path: tuple[str | int, ...], c: Collector) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, int, Decimal)) and not isinstance(value, bool):
        return str(value)
    c.error(doc, path, "expected a string")
    return ""


def number(value: Any) -> Decimal | None:
    """A YAML number as an exact Decimal (the loader keeps integers as int)."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    return Decimal(value)


def slug(name: str) -> str:
    """A bzzzmon name (lower case, digits, '-') for another tool's name; '' if none is left."""
    out = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    out = re.sub(r"^[^a-z]+", "", out)[:63].rstrip("-")
    return out


def camel(name: str) -> str:
    """``requests-availability`` -> ``RequestsAvailability``; CamelCase input keeps its humps."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
    out = "".join(w[0].upper() + w[1:] for w in words)
    return re.sub(r"^[^A-Z]+", "", out)


def metric_types(*exprs: str) -> dict[str, str]:
    """The metrics an expression reads, typed by their names' conventions (the lint checks every
    expression against declared metrics): counters end in _total, _count, _sum or _bucket."""
    out: dict[str, str] = {}
    for expr in exprs:
        try:
            uses = selectors_of(window.expand(expr, "5m"))
        except (PromQLError, window.PlaceholderError):
            continue
        for use in uses:
            if use.name:
                counter = use.name.endswith(("_total", "_count", "_sum", "_bucket"))
                out[use.name] = "counter" if counter else "gauge"
    return out


def check_promql(
    doc: Document, path: tuple[str | int, ...], expr: str, c: Collector, *, windowed: bool
) -> bool:
    """A query from the source is PromQL bzzzmon can use (with the placeholder if ``windowed``);
    otherwise an error at the query."""
    try:
        if windowed:
            window.check(expr)
        parse(window.expand(expr, "5m") if windowed else expr)
    except window.PlaceholderError as exc:
        c.errors.append(doc.value_error(path, exc.message, exc.hint, offset=exc.offset))
        return False
    except PromQLError as exc:
        c.error(doc, path, f"invalid PromQL: {exc}")
        return False
    return True


def alert_prefix(names: list[str], service: str) -> str:
    """A prefix every alert name starts with, ending at a CamelCase word boundary: the words
    that spell the service's name (``MyService`` for myservice), else the first common word;
    '' when the names share no word."""
    if not names:
        return ""
    common = names[0]
    for n in names[1:]:
        while not n.startswith(common):
            common = common[:-1]
    words = re.findall(r"[A-Z][a-z0-9]*", common)
    # Only whole words, and at least one word of every name must follow the prefix.
    while words and any(not n[len("".join(words)) :][:1].isupper() for n in names):
        words.pop()
    plain = re.sub(r"[^a-z0-9]", "", service.lower())
    for k in range(1, len(words) + 1):
        if "".join(words[:k]).lower() == plain:
            return "".join(words[:k])
    return words[0] if words else ""
