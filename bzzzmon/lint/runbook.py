"""Runbook anchors: the heading slugs a runbook offers, as GitHub and Gitea render them."""

from __future__ import annotations

import re
from urllib.parse import unquote

_MARKDOWN_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_NOT_SLUG = re.compile(r"[^\w\- ]", re.UNICODE)


def slug(heading: str) -> str:
    """GitHub/Gitea heading anchor: lowercase, punctuation except '-' and '_' dropped, spaces
    to '-'. ``System Health Critical (Alert: X)`` -> ``system-health-critical-alert-x``."""
    return _NOT_SLUG.sub("", heading.strip().lower()).replace(" ", "-")


def anchors(text: str, markdown: bool) -> set[str]:
    """Anchors of a runbook: its Markdown headings, or for plain text every non-blank line
    (a plain-text export loses the ``#`` marks, so any line may have been a heading)."""
    found: set[str] = set()
    in_code = False
    for line in text.splitlines():
        if markdown:
            if line.lstrip().startswith("```"):
                in_code = not in_code
                continue
            m = _MARKDOWN_HEADING.match(line)
            if m and not in_code:
                found.add(slug(m.group(1)))
        elif line.strip():
            found.add(slug(line))
    return found


def anchor_of(url: str) -> str | None:
    """The fragment of ``url``, decoded; None when it has none."""
    if "#" not in url:
        return None
    return unquote(url.split("#", 1)[1])
