"""A build-time check of the Go templates a spec writes (alert descriptions), with positions.

Prometheus expands an alert's annotations as Go templates at every evaluation; promtool finds a
broken one, but names only the generated rule. This small lexer finds what a description can get
wrong, at the character where it happens: an unclosed ``{{``, an unclosed string or comment,
unbalanced parentheses, ``if``/``range``/``with`` without ``end``, an unknown function or
variable. It also refuses ``query``: an alert's text runs no PromQL of its own (what it shows is
the alert's ``$value`` and ``$labels``; put anything else in the expression).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Go's built-in template functions and Prometheus's (2.42 to 3.x), without ``query``.
FUNCTIONS = frozenset(
    {
        "and",
        "call",
        "html",
        "index",
        "slice",
        "js",
        "len",
        "not",
        "or",
        "print",
        "printf",
        "println",
        "urlquery",
        "eq",
        "ge",
        "gt",
        "le",
        "lt",
        "ne",
        "first",
        "label",
        "value",
        "strvalue",
        "args",
        "reReplaceAll",
        "safeHtml",
        "match",
        "title",
        "toUpper",
        "toLower",
        "graphLink",
        "tableLink",
        "sortByLabel",
        "humanize",
        "humanize1024",
        "humanizeDuration",
        "humanizePercentage",
        "humanizeTimestamp",
        "toTime",
        "pathPrefix",
        "externalURL",
        "parseDuration",
        "stripPort",
        "stripDomain",
    }
)
REFUSED_FUNCTIONS = {"query": "an alert's text runs no queries; put the value in 'expr'"}
# The variables Prometheus defines for an alert's templates.
VARIABLES = frozenset({"$", "$labels", "$value", "$externalLabels", "$externalURL"})
_OPENERS = frozenset({"if", "range", "with", "define", "block"})
_CONSTANTS = frozenset({"nil", "true", "false"})

_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<string>"(?:\\.|[^"\\])*"|`[^`]*`|'(?:\\.|[^'\\])+')
    |(?P<var>\$[A-Za-z0-9_]*)
    |(?P<field>\.[A-Za-z0-9_.]*)
    |(?P<word>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<number>[-+]?[0-9][0-9A-Za-z_.+-]*)
    |(?P<op>:=|=|\||\(|\)|,)
    |(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class TemplateProblem:
    offset: int  # character in the text where the problem is
    message: str
    hint: str = ""


class _Checker:
    def __init__(self, text: str) -> None:
        self.text = text
        self.problems: list[TemplateProblem] = []
        self.blocks: list[tuple[str, int]] = []  # open control structures and where
        self.declared: set[str] = set()

    def add(self, offset: int, message: str, hint: str = "") -> None:
        self.problems.append(TemplateProblem(offset, message, hint))

    def run(self) -> list[TemplateProblem]:
        pos = 0
        while (start := self.text.find("{{", pos)) >= 0:
            end = self._action_end(start)
            if end is None:
                return self.problems
            self._action(start, self.text[start + 2 : end])
            pos = end + 2
        for keyword, offset in self.blocks:
            self.add(offset, f"'{{{{ {keyword} }}}}' is not closed by '{{{{ end }}}}'")
        return self.problems

    def _action_end(self, start: int) -> int | None:
        """Where the action opened at ``start`` closes, skipping strings and comments."""
        text = self.text
        i = start + 2
        body = text[i:].lstrip("- ")
        if body.startswith("/*"):
            close = text.find("*/", i)
            end = text.find("}}", close) if close >= 0 else -1
            if end < 0:
                self.add(start, "unclosed comment '{{/*'", "close it with '*/}}'")
                return None
            return end
        while i < len(text):
            if text.startswith("}}", i):
                return i
            ch = text[i]
            if ch in "\"'`":
                j = i + 1
                while j < len(text) and text[j] != ch:
                    j += 2 if text[j] == "\\" and ch != "`" else 1
                if j >= len(text):
                    self.add(i, f"unclosed string {ch} in a template action")
                    return None
                i = j
            i += 1
        self.add(start, "unclosed '{{'", "close the action with '}}', or write '{{ \"{{\" }}'")
        return None

    def _action(self, start: int, body: str) -> None:
        inner = body.removeprefix("-").removesuffix("-")
        if inner.strip().startswith("/*"):
            return
        offset = start + 2 + (len(body) - len(body.removeprefix("-")))
        tokens = [
            (m.lastgroup or "other", m.group(), offset + m.start())
            for m in _TOKEN.finditer(inner)
            if m.lastgroup != "space"
        ]
        if not tokens:
            self.add(start, "empty template action '{{ }}'")
            return
        self._structure(tokens[0][1], start)
        depth = 0
        for i, (kind, value, at) in enumerate(tokens):
            following = tokens[i + 1][1] if i + 1 < len(tokens) else ""
            if kind == "op" and value == "(":
                depth += 1
            elif kind == "op" and value == ")":
                depth -= 1
                if depth < 0:
                    self.add(at, "')' without '('")
                    return
            elif kind == "var":
                if following in (":=", "="):
                    self.declared.add(value)
                elif value not in VARIABLES and value not in self.declared:
                    known = ", ".join(sorted(VARIABLES - {"$"}))
                    self.add(at, f"unknown variable '{value}'", f"known: {known}")
            elif kind == "word":
                self._word(value, at, first=i == 0)
            elif kind == "other":
                self.add(at, f"unexpected '{value}' in a template action")
                return
        if depth > 0:
            self.add(start, "'(' without ')' in a template action")

    def _structure(self, first: str, start: int) -> None:
        if first in _OPENERS:
            self.blocks.append((first, start))
        elif first == "end":
            if not self.blocks:
                self.add(start, "'{{ end }}' without an opening if, range or with")
            else:
                self.blocks.pop()
        elif first == "else" and not self.blocks:
            self.add(start, "'{{ else }}' outside if, range or with")

    def _word(self, word: str, at: int, first: bool) -> None:
        if word in REFUSED_FUNCTIONS:
            self.add(at, f"the template function '{word}' is not allowed", REFUSED_FUNCTIONS[word])
        elif word in ("end", "else", "break", "continue", "template") or word in _OPENERS:
            if not first and word != "if":  # '{{ else if ... }}'
                self.add(at, f"'{word}' must begin the action")
        elif word not in FUNCTIONS and word not in _CONSTANTS:
            self.add(
                at,
                f"unknown template function '{word}'",
                "Prometheus's functions: humanize, humanizePercentage, humanizeDuration, "
                "toUpper, title, reReplaceAll, printf, ... (see its template reference)",
            )


def check_template(text: str) -> list[TemplateProblem]:
    """Problems of a Prometheus alert template, in order; empty when it is well-formed."""
    return _Checker(text).run()
