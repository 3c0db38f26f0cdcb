"""Spec text placed into someone else's template language, made to render literally.

Prometheus expands Go templates in alerting rules' annotations and labels; Alertmanager expands
them in its notification templates and in several receiver fields. Spec text that is not
documented as a template (titles, summaries, label values, names) goes through ``go_literal``
wherever it lands in one, so ``{{ with query "up" }}`` in an SLO title prints as itself.
"""

from __future__ import annotations

import re

# A '{' that would start an action: one followed by another '{', or one at the end (the text
# that follows it in the rendered template may begin with '{').
_OPENING_BRACE = re.compile(r"\{(?=\{|$)")


def go_literal(text: str) -> str:
    """Go template text that prints ``text`` exactly (outside actions only '{{' is special)."""
    return _OPENING_BRACE.sub('{{ "{" }}', text)


def go_expanded(template: str) -> str:
    """What Prometheus prints for text made by ``go_literal`` (for expected test labels)."""
    return template.replace('{{ "{" }}', "{")


def go_string(text: str) -> str:
    """A Go template string literal (inside an action) for ``text``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Slack's mrkdwn reads '<...>' as links and mentions (<!channel>) and '&' as an entity: the three
# characters Slack asks integrations to escape.
SLACK_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))


def slack_pipeline() -> str:
    """The Alertmanager template pipeline that escapes a value for Slack text."""
    return "".join(f" | reReplaceAll {go_string(a)} {go_string(b)}" for a, b in SLACK_ESCAPES)


_RE2_SPECIAL = re.compile(r"([\\.+*?()|\[\]{}^$])")


def regex_literal(text: str) -> str:
    """An RE2 pattern matching exactly ``text`` (for relabel regexes built from spec names)."""
    return _RE2_SPECIAL.sub(r"\\\1", text)
