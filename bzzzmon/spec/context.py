"""What every section's resolver shares: the files, the error collector, expression checks."""

from __future__ import annotations

from typing import Any

from bzzzmon.promql import builders as B
from bzzzmon.promql.parse import PromQLError, is_vector_selector, parse
from bzzzmon.promql.parse import selectors as parse_selectors
from bzzzmon.promql.regex_names import finite_names
from bzzzmon.promql.selectors import UnknownSelector, expand
from bzzzmon.promql.templates import check_template
from bzzzmon.spec.errors import SpecError
from bzzzmon.spec.loader import LoadedFile
from bzzzmon.spec.yamlpos import Path as YPath


class Collector:
    """Every problem found, each at its file:line:column; reported together at the end."""

    def __init__(self) -> None:
        self.errors: list[SpecError] = []

    def add(self, lf: LoadedFile, path: YPath, message: str, hint: str = "") -> None:
        self.errors.append(lf.doc.error(path, message, hint))

    def add_value(
        self, lf: LoadedFile, path: YPath, message: str, hint: str = "", offset: int | None = None
    ) -> None:
        """An error about a value: points at the value (or into it, at ``offset``)."""
        self.errors.append(lf.doc.value_error(path, message, hint, offset))


def unique(
    items: list[tuple[LoadedFile, YPath, str]], what: str, errs: Collector
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


def join_url(base: str, anchor: str | None) -> str:
    if not anchor:
        return base
    return f"{base}{anchor}" if base else anchor


def dashboard_url(grafana: str, uid: str) -> str:
    return f"{grafana.rstrip('/')}/d/{uid}" if grafana else f"/d/{uid}"


class Context:
    """The spec files being resolved, the errors found so far and what every section reads:
    single sections, expressions, selectors, references."""

    def __init__(self, files: list[LoadedFile]) -> None:
        self.files = files
        self.errs = Collector()
        self.origins: dict[str, set[str]] = {}
        self.singles: dict[str, tuple[LoadedFile, Any] | None] = {}
        self.metric_types: dict[str, str] = {}

    def note(self, section: str, lf: LoadedFile) -> None:
        self.origins.setdefault(section, set()).add(lf.doc.file)

    def single(self, section: str) -> tuple[LoadedFile, Any] | None:
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
            self.note(section, found[0][0])
            return found[0]
        return None

    def each(self, section: str) -> list[tuple[LoadedFile, YPath, Any]]:
        out: list[tuple[LoadedFile, YPath, Any]] = []
        for lf in self.files:
            for i, item in enumerate(getattr(lf.spec, section)):
                out.append((lf, (section, i), item))
                self.note(section, lf)
        return out

    def expr(
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

    def selector(
        self, lf: LoadedFile, path: YPath, text: str, selectors: dict[str, dict[str, str]]
    ) -> str | None:
        expanded = self.expr(lf, path, text, selectors)
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

    def counters(
        self, lf: LoadedFile, path: YPath, text: str, selectors: dict[str, dict[str, str]]
    ) -> tuple[str, list[str]] | None:
        """A counter selector and the one-metric selectors it stands for.

        A ``{__name__=~"a|b"}`` selector is expanded into one selector per name (``rate()``
        drops names, and equal label sets of different counters would collide)."""
        expanded = self.selector(lf, path, text, selectors)
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
        if not self.of_type(lf, path, names, "counter", "a ratio SLI counts events"):
            return None
        if use.name_regex is None:
            return expanded, [expanded]
        rest = [m for m in use.matchers if m[0] != "__name__"]
        return expanded, [B.selector_text(n, rest) for n in names]

    def of_type(self, lf: LoadedFile, path: YPath, names: list[str], kind: str, why: str) -> bool:
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

    def template(self, lf: LoadedFile, path: YPath, text: str) -> None:
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

    def check_refs(
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
