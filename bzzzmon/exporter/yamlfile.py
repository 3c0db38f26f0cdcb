"""Reading the exporter's YAML config files: every problem one :class:`ConfigError` line.

A validator raises ``ConfigError(file, key, message)`` with a key path such as
``probes[1].targets.static[0]``; :func:`load_yaml_config` then looks the key up in the YAML node
tree and adds the line and column, so the operator sees ``exporter.yml:12:17: probes[1]...``.
Undecodable bytes, YAML syntax and deep nesting become ConfigErrors too, never tracebacks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import yaml

T = TypeVar("T")
_INDEX = re.compile(r"\[(\d+)\]")


class ConfigError(Exception):
    """A problem in a config file, already phrased for the operator.

    ``line`` and ``column`` (1-based) are known when the key could be found in the YAML text."""

    def __init__(
        self, file: str, key: str, message: str, line: int | None = None, column: int | None = None
    ) -> None:
        self.file = file
        self.key = key
        self.message = message
        self.line = line
        self.column = column
        where = file if line is None else f"{file}:{line}:{column}"
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


def load_yaml_config(path: str | Path, validate: Callable[[object, str], T]) -> T:
    """Read ``path``, parse it as YAML and ``validate(data, file)``; ConfigErrors gain line:col."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(file, "", f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            file, "", f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", line, column
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        if mark is None:
            raise ConfigError(file, "", problem) from None
        raise ConfigError(file, "", problem, mark.line + 1, mark.column + 1) from None
    except RecursionError:
        raise ConfigError(file, "", "nested too deeply") from None
    try:
        return validate(data, file)
    except ConfigError as exc:
        if exc.line is not None or not exc.key:
            raise
        raise ConfigError(exc.file, exc.key, exc.message, *locate(text, exc.key)) from None


def locate(text: str, key: str) -> tuple[int | None, int | None]:
    """Line and column (1-based) of the value at ``key`` (``a.b[2].c``) in ``text``, as far as
    the path can be followed: a missing key points at the mapping that lacks it."""
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return None, None
    if node is None:
        return None, None
    mark = node.start_mark
    rest = "" if key == "(top level)" else key
    while rest and node is not None:
        index = _INDEX.match(rest)
        if index and isinstance(node, yaml.SequenceNode):
            position = int(index.group(1))
            node = node.value[position] if position < len(node.value) else None
            rest = rest[index.end() :].removeprefix(".")
        elif isinstance(node, yaml.MappingNode):
            node, rest = _step(node, rest)
        else:
            break
        if node is not None:
            mark = node.start_mark
    return mark.line + 1, mark.column + 1


def _step(node: yaml.MappingNode, rest: str) -> tuple[yaml.Node | None, str]:
    """The value whose key is the longest prefix of ``rest`` (keys may contain dots)."""
    best: tuple[yaml.Node, yaml.Node] | None = None
    for key_node, value_node in node.value:
        name = str(key_node.value)
        matches = rest == name or rest.startswith((name + ".", name + "["))
        if matches and (best is None or len(name) > len(str(best[0].value))):
            best = (key_node, value_node)
    if best is None:
        return None, ""
    key_node, value_node = best
    remaining = rest[len(str(key_node.value)) :].removeprefix(".")
    # The last step points at the key itself: the unknown key, or the key whose value is wrong.
    return (value_node if remaining else key_node), remaining
