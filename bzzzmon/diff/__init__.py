"""``bzzzmon diff``: what a spec change does to alerts, paging, SLOs and dashboards."""

from __future__ import annotations

from bzzzmon.diff.compare import Build, Change, Report, compare

__all__ = ["Build", "Change", "Report", "compare"]
