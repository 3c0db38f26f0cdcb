"""Load YAML into plain Python values while remembering where every value came from.

PyYAML's composer gives nodes with marks; constructing them ourselves lets us keep each value's
line and column, keep numbers exact (``Decimal``, never ``float``), reject duplicate keys, and
refuse documents that would expand into something huge (alias bombs) or recursive.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from bzzzmon.spec.errors import SpecError

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 64

Path = tuple[str | int, ...]

# Characters no spec text needs and that break what it lands in: C0/C1 controls but tab and
# newline (a CR smuggles e-mail headers), line and paragraph separators (YAML and JavaScript read
# them as line breaks), bidirectional overrides (text that reads differently than it runs) and
# the byte-order mark.
_BAD_CHARS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
# Numbers a spec means: Prometheus computes in float64, which keeps 15 significant digits.
MAX_DIGITS = 15
MAX_EXPONENT = 15
MAX_INT = 2**53


def number_problem(d: Decimal, text: str) -> tuple[str, str] | None:
    """Why ``d`` is not a number a spec may hold (message, hint), or None."""
    if not d.is_finite():
        return f"'{text}' is not a finite number", ""
    if d != 0 and not -MAX_EXPONENT <= d.adjusted() <= MAX_EXPONENT:
        return (
            f"'{text}' is out of range",
            f"numbers in a spec lie between 1e-{MAX_EXPONENT} and 1e{MAX_EXPONENT}",
        )
    # Counted on the digits as written: normalize() would round them to the context's precision.
    digits = "".join(map(str, d.as_tuple().digits)).strip("0")
    if len(digits) > MAX_DIGITS:
        return (
            f"'{text}' has more than {MAX_DIGITS} significant digits",
            "Prometheus computes in float64, which keeps 15; e.g. an objective of 99.999 "
            "needs no more",
        )
    return None


@dataclass
class Document:
    """A loaded file: its data and the (line, column) of every path in it (1-based)."""

    file: str
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    # Where each value starts, and for one-line scalars the column its text starts at (after
    # an opening quote), so an error inside an expression can point into it.
    value_positions: dict[Path, tuple[int, int, bool]] = field(default_factory=dict)

    def position(self, path: Path) -> tuple[int, int]:
        """The position of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.positions:
                return self.positions[p]
            p = p[:-1]
        return self.positions.get((), (1, 1))

    def value_position(self, path: Path, offset: int | None = None) -> tuple[int, int]:
        """Where the value at ``path`` starts (or character ``offset`` inside a one-line
        scalar); falls back to the key's position."""
        found = self.value_positions.get(tuple(path))
        if found is None:
            return self.position(path)
        line, col, one_line = found
        if offset is not None and one_line:
            return line, col + offset
        return line, col

    def one_line(self, path: Path) -> bool:
        """Whether the value at ``path`` is a one-line scalar (offsets map to columns)."""
        found = self.value_positions.get(tuple(path))
        return found is not None and found[2]

    def error(self, path: Path, message: str, hint: str = "") -> SpecError:
        line, col = self.position(path)
        return SpecError(self.file, line, col, message, hint)

    def value_error(
        self, path: Path, message: str, hint: str = "", offset: int | None = None
    ) -> SpecError:
        line, col = self.value_position(path, offset)
        return SpecError(self.file, line, col, message, hint)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: dict[Path, tuple[int, int]] = {}
        self.value_positions: dict[Path, tuple[int, int, bool]] = {}
        self.count = 0
        self.errors: list[SpecError] = []

    def err(self, node: yaml.Node, message: str, hint: str = "") -> None:
        m = node.start_mark
        self.errors.append(SpecError(self.file, m.line + 1, m.column + 1, message, hint))

    def build(self, node: yaml.Node, path: Path, active: frozenset[int]) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig(node)
        if len(path) > MAX_DEPTH:
            raise _TooDeep(node)
        if id(node) in active:
            raise _Recursive(node)
        start = node.start_mark
        self.positions.setdefault(path, (start.line + 1, start.column + 1))
        # libyaml reports a plain scalar's style as "", PyYAML's parser as None.
        one_line = isinstance(node, yaml.ScalarNode) and node.style in (None, "", "'", '"')
        quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')
        one_line = one_line and start.line == node.end_mark.line
        self.value_positions[path] = (start.line + 1, start.column + 1 + int(quoted), one_line)
        if isinstance(node, yaml.MappingNode):
            inner = active | {id(node)}
            out: dict[str, Any] = {}
            key_pos: dict[str, yaml.Node] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.err(key_node, "YAML merge keys (<<) are not supported", "repeat the keys")
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    self.err(key_node, "mapping keys must be plain strings")
                    continue
                key = str(key_node.value)
                if not self.text_ok(key_node, key):
                    continue
                if key in key_pos:
                    first = key_pos[key].start_mark.line + 1
                    self.err(key_node, f"duplicate key '{key}' (first set on line {first})")
                    continue
                key_pos[key] = key_node
                child = (*path, key)
                self.positions[child] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                out[key] = self.build(value_node, child, inner)
            return out
        if isinstance(node, yaml.SequenceNode):
            inner = active | {id(node)}
            return [self.build(v, (*path, i), inner) for i, v in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self.scalar(node)

    def text_ok(self, node: yaml.Node, text: str) -> bool:
        bad = _BAD_CHARS.search(text)
        if bad is None:
            return True
        ch = bad.group()
        name = unicodedata.name(ch, "a control character")
        self.err(
            node,
            f"U+{ord(ch):04X} ({name}) at character {bad.start() + 1} is not allowed in spec text",
            "remove it; line breaks are written as YAML block scalars (| or >)",
        )
        return False

    def number(self, node: yaml.ScalarNode, text: str) -> Decimal | str:
        try:
            d = Decimal(text.replace("_", ""))
        except InvalidOperation:
            self.err(node, f"'{text}' is not a finite number")
            return text
        problem = number_problem(d, text)
        if problem is not None:
            self.err(node, *problem)
        return d

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        text = node.value
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return text.lower() in ("true", "yes", "on")
        if tag == "tag:yaml.org,2002:int":
            digits = text.replace("_", "")
            if len(digits.lstrip("+-")) > 20:
                self.err(node, f"'{text[:20]}...' is out of range", "integers lie below 2^53")
                return text
            try:
                value = int(digits, 0)
            except ValueError:
                return text
            if abs(value) > MAX_INT:
                self.err(node, f"'{text}' is out of range", "integers lie below 2^53")
            return value
        if tag == "tag:yaml.org,2002:float":
            return self.number(node, text)
        if tag in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp"):
            self.text_ok(node, text)
            return text
        self.err(node, f"unsupported YAML tag {tag}")
        return text


class _Abort(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


class _TooBig(_Abort):
    pass


class _TooDeep(_Abort):
    pass


class _Recursive(_Abort):
    pass


# libyaml's parser composes nodes (with marks) about ten times faster than PyYAML's own.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """A safe loader whose timestamps stay strings (a date is never a meaningful spec value)."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# YAML 1.1 needs a '.' in a float; 1e400 is a number to a reader (and to YAML 1.2), so it is
# one here too, and goes through the same range check.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _compose(text: str) -> Iterator[yaml.Node]:
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                yield node
    finally:
        loader.dispose()


def _too_big(file: str, text: str) -> SpecError | None:
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        return SpecError(
            file,
            1,
            1,
            f"file is larger than {MAX_FILE_BYTES // 1024} KiB",
            "split the spec into several files",
        )
    return None


def _nodes(text: str, file: str) -> tuple[list[yaml.Node], list[SpecError]]:
    try:
        return list(_compose(text)), []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        return [], [SpecError(file, line, col, f"YAML syntax error: {problem}")]
    except yaml.YAMLError as exc:
        return [], [SpecError(file, 1, 1, f"YAML error: {exc}")]


def _document(node: yaml.Node, file: str) -> tuple[Document | None, list[SpecError]]:
    builder = _Builder(file)
    try:
        data = builder.build(node, (), frozenset())
    except _TooBig as exc:
        m = exc.node.start_mark
        return None, [
            SpecError(
                file,
                m.line + 1,
                m.column + 1,
                f"the document expands to more than {MAX_NODES} values",
                "aliases that repeat large anchors make a YAML bomb",
            )
        ]
    except _TooDeep as exc:
        m = exc.node.start_mark
        return None, [
            SpecError(
                file, m.line + 1, m.column + 1, f"the document nests deeper than {MAX_DEPTH} levels"
            )
        ]
    except _Recursive as exc:
        m = exc.node.start_mark
        return None, [
            SpecError(
                file, m.line + 1, m.column + 1, "recursive YAML alias: a node contains itself"
            )
        ]
    if builder.errors:
        return None, builder.errors
    return Document(file, data, builder.positions, builder.value_positions), []


def load_text(text: str, file: str) -> tuple[Document | None, list[SpecError]]:
    """Parse one YAML document. Returns the document, or None and the errors."""
    big = _too_big(file, text)
    if big is not None:
        return None, [big]
    nodes, errors = _nodes(text, file)
    if errors:
        return None, errors
    if not nodes:
        return None, [
            SpecError(
                file,
                1,
                1,
                "the file is empty",
                "start it with 'apiVersion: bzzzmon/v1' and at least one section",
            )
        ]
    if len(nodes) > 1:
        m = nodes[1].start_mark
        return None, [
            SpecError(
                file,
                m.line + 1,
                m.column + 1,
                "a spec file holds one YAML document",
                "remove the '---' separator",
            )
        ]
    return _document(nodes[0], file)


def load_documents(text: str, file: str) -> tuple[list[Document], list[SpecError]]:
    """Parse every document of a multi-document YAML stream (another tool's specs, for
    importing) with the same limits and positions as a spec; all or nothing."""
    big = _too_big(file, text)
    if big is not None:
        return [], [big]
    nodes, errors = _nodes(text, file)
    docs: list[Document] = []
    for node in nodes:
        doc, errs = _document(node, file)
        errors.extend(errs)
        if doc is not None:
            docs.append(doc)
    if errors:
        return [], errors
    return docs, []
