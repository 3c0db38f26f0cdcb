"""Which Prometheus, Alertmanager and VictoriaMetrics binaries there are, and which version each is.

Two places hold them: ``PATH`` (the system-wide install, e.g. Debian bookworm's /usr/bin) and the
tools directory that ``scripts/install-tools.sh`` fills with the pinned versions of several Debian
suites, listed in its ``manifest.tsv`` (suite, tool, version, Debian version, relative path). The
tools directory is ``$BZZZMON_TOOLS_DIR``, else ``.tools`` in the working directory or in the
source checkout bzzzmon runs from.

``locate(tool)`` picks, in this order: ``BZZZMON_<TOOL>`` (a path, e.g. ``BZZZMON_PROMTOOL``);
the tool of suite ``$BZZZMON_TOOLS_SUITE`` (e.g. ``bookworm``: the whole stack on one pair);
else the newest version found anywhere (the manifest wins a tie with ``PATH``, as its version is
known without running the binary).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.tsv"
TOOLS_DIR_ENV = "BZZZMON_TOOLS_DIR"
SUITE_ENV = "BZZZMON_TOOLS_SUITE"
# The names a tool has on PATH (Debian renames alertmanager) and in the manifest (the first).
NAMES: dict[str, tuple[str, ...]] = {
    "promtool": ("promtool",),
    "prometheus": ("prometheus",),
    "amtool": ("amtool",),
    "alertmanager": ("prometheus-alertmanager", "alertmanager"),
    "victoria-metrics": ("victoria-metrics",),
    "vmalert": ("vmalert",),
    "vmalert-tool": ("vmalert-tool",),
    "vmagent": ("vmagent",),
}
# The suites the install script pins and the release line of each (checked against the script
# by tests/versions): what the version matrix must hold.
PINNED: dict[str, dict[str, str]] = {
    "bookworm": {"prometheus": "2.42.0", "alertmanager": "0.25.0"},
    "trixie": {"prometheus": "2.53.3", "alertmanager": "0.28.1"},
    "sid": {"prometheus": "3.5", "alertmanager": "0.33", "victoria-metrics": "1.145"},
}
# promtool ships with prometheus, amtool with alertmanager, vmalert with victoria-metrics.
FAMILY = {
    "promtool": "prometheus",
    "prometheus": "prometheus",
    "amtool": "alertmanager",
    "alertmanager": "alertmanager",
    "victoria-metrics": "victoria-metrics",
    "vmalert": "victoria-metrics",
    "vmalert-tool": "victoria-metrics",
    "vmagent": "victoria-metrics",
}
INSTALL_HINT = (
    "install them with: apt-get install -y --no-install-recommends "
    "prometheus prometheus-alertmanager (or every pinned version: make tools)"
)


class ToolMissing(RuntimeError):
    def __init__(self, tool: str, message: str | None = None) -> None:
        super().__init__(
            message or f"{tool} was not found on PATH or in the tools directory; {INSTALL_HINT}"
        )
        self.tool = tool


class ManifestError(ToolMissing):
    """The tools manifest is not what scripts/install-tools.sh writes."""

    def __init__(self, path: Path, line: str) -> None:
        super().__init__(
            "", f"{path}: not a line of the tools manifest: {line!r}; rerun `make tools`"
        )


_VERSION = re.compile(r"(?:version |-v|\bv)(\d+\.\d+\.\d+)")


@dataclass(frozen=True, order=True)
class Tool:
    name: str  # a key of NAMES
    version: str  # upstream, e.g. "3.5.3"; "" when it could not be told
    path: str
    origin: str  # the suite in the manifest, "PATH", or the environment variable

    @property
    def key(self) -> tuple[int, ...]:
        return version_key(self.version)

    def describe(self) -> str:
        return f"{self.name} {self.version or '(unknown version)'} ({self.origin})"


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def env_var(tool: str) -> str:
    return f"BZZZMON_{tool.upper().replace('-', '_')}"


def tools_dirs() -> list[Path]:
    """Where a tools directory may be, most specific first (existing ones only, no repeats)."""
    env = os.environ.get(TOOLS_DIR_ENV)
    candidates = (
        [Path(env)] if env else [Path.cwd() / ".tools", Path(__file__).parents[2] / ".tools"]
    )
    seen: list[Path] = []
    for path in candidates:
        resolved = path.resolve()
        if (resolved / MANIFEST).is_file() and resolved not in seen:
            seen.append(resolved)
    return seen


@functools.cache
def _read_manifest(path: Path, mtime_ns: int) -> tuple[Tool, ...]:
    tools = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 5 or fields[1] not in NAMES:
            raise ManifestError(path, line)
        suite, name, version, _debian, rel = fields
        tools.append(Tool(name, version, str(path.parent / rel), suite))
    return tuple(tools)


def manifest() -> tuple[Tool, ...]:
    """The tools of the first tools directory found (empty when there is none)."""
    for directory in tools_dirs():
        path = directory / MANIFEST
        return _read_manifest(path, path.stat().st_mtime_ns)
    return ()


def suites() -> dict[str, dict[str, Tool]]:
    """Suite -> tool name -> Tool, in the manifest's order (oldest suite first)."""
    found: dict[str, dict[str, Tool]] = {}
    for tool in manifest():
        found.setdefault(tool.origin, {})[tool.name] = tool
    return found


@functools.cache
def detect_version(path: str) -> str:
    """The upstream version a binary reports (``--version``; vmalert's ``-version``)."""
    for flag in ("--version", "-version"):
        try:
            proc = subprocess.run(
                [path, flag], capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        match = _VERSION.search(proc.stdout + proc.stderr)
        if match:
            return match.group(1)
    return ""


def _names(tool: str) -> tuple[str, ...]:
    """The binary names of ``tool``; a tool the matrix does not pin (node_exporter, ...) goes by
    its own name."""
    return NAMES.get(tool, (tool,))


def on_path(tool: str) -> Tool | None:
    for name in _names(tool):
        path = shutil.which(name)
        if path is not None:
            return Tool(tool, detect_version(path), path, "PATH")
    return None


def overrides(tool: str) -> list[str]:
    """The environment variables that name the binary for ``tool`` (BZZZMON_PROMTOOL, ...)."""
    return list(dict.fromkeys(env_var(name) for name in (tool, *_names(tool))))


def locate(tool: str) -> Tool | None:
    """The binary to run for ``tool`` (see the module docstring), or None."""
    for var in overrides(tool):
        path = os.environ.get(var)
        if path:
            return Tool(tool, detect_version(path), path, var) if Path(path).exists() else None
    listed = [t for t in manifest() if t.name == tool and Path(t.path).exists()]
    suite = os.environ.get(SUITE_ENV)
    if suite:
        return next((t for t in listed if t.origin == suite), None)
    system = on_path(tool)
    candidates = [*listed, *([system] if system else [])]
    # max keeps the first of equals: the manifest's, whose version needs no guess.
    return max(candidates, key=lambda t: t.key, default=None)
