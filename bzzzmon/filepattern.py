"""The file probe's pattern rule, one for the spec and the exporter's own config (the build
must not import the exporter)."""

from __future__ import annotations


def file_pattern_problem(pattern: object) -> str | None:
    """Why ``pattern`` is not a file probe pattern (an absolute directory without wildcards,
    then a file name pattern such as ``bzzz_*.sql.gz``), or None."""
    if not isinstance(pattern, str) or not pattern.startswith("/"):
        return f"{pattern!r} is not an absolute path pattern, e.g. /backups/bzzz_*.sql.gz"
    directory, _sep, name = pattern.rpartition("/")
    if not name or name in (".", ".."):
        return f"{pattern!r} does not end in a file name pattern"
    if len(pattern) > 4096 or not pattern.isprintable():
        return f"{pattern[:60]!r} is too long or has control characters"
    if any(c in directory for c in "*?["):
        return f"{pattern!r}: wildcards only in the file name, not in the directory"
    return None
