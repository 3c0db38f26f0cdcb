"""Load and validate the exporter's config file (``generated/exporter/exporter.yml``).

Every error is a :class:`ConfigError` naming the file and the key path (``probes[1].targets``),
saying what is wrong and what would be right; callers print it as one line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bzzzmon.conventions import EXPORTER_SELF_COMPONENT
from bzzzmon.exporter.yamlfile import ConfigError as ConfigError  # re-exported: its old home
from bzzzmon.exporter.yamlfile import load_yaml_config
from bzzzmon.filepattern import file_pattern_problem

ProbeType = Literal["health_checks", "health", "http_status", "tcp", "file"]
PROBE_TYPES: tuple[ProbeType, ...] = ("health_checks", "health", "http_status", "tcp", "file")
_DEFAULT_PATHS = {"health_checks": "/health/checks", "health": "/health", "http_status": "/"}

_DURATION_PART = re.compile(r"(\d+)(ms|s|m|h)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_CHECK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,252})$")
# ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
_PORT = re.compile(r"^[0-9]{1,5}$")


@dataclass(frozen=True)
class Component:
    name: str
    weight: float


@dataclass(frozen=True)
class DnsTarget:
    """A name whose A records are all targets, resolved every round (Swarm's ``tasks.<svc>``)."""

    name: str
    port: int


@dataclass(frozen=True)
class ProbeConfig:
    name: str
    type: ProbeType
    component: str | None  # None only for health_checks, which scores each check's component
    path: str
    scheme: str
    expect_status: tuple[int, ...]
    static_targets: tuple[str, ...]
    dns_targets: tuple[DnsTarget, ...]
    files: tuple[str, ...] = ()  # file probes: absolute patterns, each a target


@dataclass(frozen=True)
class ExporterConfig:
    source: str
    service: str
    probe_interval: float
    probe_timeout: float
    max_result_age: float
    concurrency: int
    jitter: float
    max_body_bytes: int
    components: tuple[Component, ...]
    checks: Mapping[str, str]
    probes: tuple[ProbeConfig, ...]

    def component_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.components)

    def covered_components(self, probe: ProbeConfig) -> tuple[str, ...]:
        """Components a probe reports on: its own, or every component a mapped check belongs to."""
        if probe.component is not None:
            return (probe.component,)
        return tuple(sorted(set(self.checks.values())))


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration such as ``15s``, ``1m30s`` or ``250ms``.

    Not bzzzmon.promql.duration.parse_duration: that one (for rules) refuses sub-second parts,
    which probe timeouts and the stack's fast schedule need."""
    if not text or _DURATION_PART.sub("", text) != "":
        raise ValueError(f"{text!r} is not a duration; use e.g. 250ms, 15s, 1m30s or 1h")
    return sum(int(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(text))


def load_config(path: str | Path) -> ExporterConfig:
    """Read and validate an exporter config file; raise :class:`ConfigError` on any problem."""
    return load_yaml_config(path, parse_config)


class _Reader:
    """Typed access to one mapping, reporting errors with the key path."""

    def __init__(self, file: str, data: object, key: str, allowed: set[str]) -> None:
        self.file = file
        self.key = key
        if not isinstance(data, dict):
            raise ConfigError(file, key or "(top level)", f"expected a mapping, got {_kind(data)}")
        unknown = sorted(str(k) for k in data if k not in allowed)
        if unknown:
            raise ConfigError(
                file,
                self.at(unknown[0]),
                f"unknown key; expected one of: {', '.join(sorted(allowed))}",
            )
        self.data: dict[str, Any] = data

    def at(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def error(self, name: str, message: str) -> ConfigError:
        return ConfigError(self.file, self.at(name), message)

    def raw(self, name: str, default: object = None, required: bool = False) -> Any:
        if name not in self.data:
            if required:
                raise self.error(name, "required key is missing")
            return default
        return self.data[name]

    def string(self, name: str, default: str | None = None, required: bool = False) -> str:
        value = self.raw(name, default, required)
        if not isinstance(value, str) or not value:
            raise self.error(name, f"expected a non-empty string, got {_kind(value)}")
        return value

    def duration(self, name: str, default: str) -> float:
        value = self.string(name, default)
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise self.error(name, str(exc)) from None
        if seconds <= 0:
            raise self.error(name, "must be longer than 0s")
        return seconds

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.raw(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(name, f"expected an integer from {low} to {high}, got {value!r}")
        return value

    def number(self, name: str, default: float, low: float, high: float) -> float:
        value = self.raw(name, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise self.error(name, f"expected a number from {low:g} to {high:g}, got {value!r}")
        return float(value)

    def sequence(self, name: str, required: bool = False) -> list[Any]:
        value = self.raw(name, [], required)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(name, f"expected a list, got {_kind(value)}")
        return value


_TOP_KEYS = {
    "service",
    "probe_interval",
    "probe_timeout",
    "max_result_age",
    "concurrency",
    "jitter",
    "max_body_bytes",
    "components",
    "checks",
    "probes",
}
_PROBE_KEYS = {"name", "type", "component", "path", "scheme", "expect_status", "targets"}


def parse_config(data: object, file: str = "<config>") -> ExporterConfig:
    """Validate already-parsed YAML data; see :func:`load_config`."""
    top = _Reader(file, data, "", _TOP_KEYS)
    interval = top.duration("probe_interval", "15s")
    timeout = top.duration("probe_timeout", "5s")
    max_age = top.duration("max_result_age", "60s")
    if timeout > interval:
        raise top.error("probe_timeout", "must not be longer than probe_interval")
    if max_age < interval:
        raise top.error("max_result_age", "must be at least probe_interval")
    components = _components(top)
    names = {c.name for c in components}
    checks = _checks(top, names)
    probes = _probes(top, names)
    config = ExporterConfig(
        source=file,
        service=top.string("service", "bzzz"),
        probe_interval=interval,
        probe_timeout=timeout,
        max_result_age=max_age,
        concurrency=top.integer("concurrency", 64, 1, 4096),
        jitter=top.number("jitter", 0.1, 0.0, 0.9),
        max_body_bytes=top.integer("max_body_bytes", 1048576, 1024, 64 * 1048576),
        components=components,
        checks=checks,
        probes=probes,
    )
    _check_coverage(config, top)
    return config


def _components(top: _Reader) -> tuple[Component, ...]:
    out: list[Component] = []
    for i, item in enumerate(top.sequence("components", required=True)):
        entry = _Reader(top.file, item, f"components[{i}]", {"name", "weight"})
        name = entry.string("name", required=True)
        if not _NAME.match(name):
            raise entry.error("name", f"{name!r} is not a component name; use [a-z][a-z0-9_-]*")
        if any(c.name == name for c in out):
            raise entry.error("name", f"component {name!r} is listed twice")
        out.append(Component(name, entry.number("weight", 0.0, 0.0, 1000.0)))
    if not any(c.weight > 0 for c in out):
        raise top.error("components", "at least one component needs a weight above 0")
    return tuple(out)


def _checks(top: _Reader, components: set[str]) -> dict[str, str]:
    raw = top.raw("checks", {})
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise top.error(
            "checks", f"expected a mapping of check name to component, got {_kind(raw)}"
        )
    out: dict[str, str] = {}
    for check, component in raw.items():
        key = top.at(f"checks.{check}")
        if not isinstance(check, str) or not _CHECK_NAME.match(check):
            raise ConfigError(top.file, key, "check names are 1-64 of [A-Za-z0-9_.-]")
        if not isinstance(component, str) or component not in components:
            raise ConfigError(top.file, key, _unknown_component(component, components))
        out[check] = component
    return dict(sorted(out.items()))


def _probes(top: _Reader, components: set[str]) -> tuple[ProbeConfig, ...]:
    out: list[ProbeConfig] = []
    for i, item in enumerate(top.sequence("probes")):
        entry = _Reader(top.file, item, f"probes[{i}]", _PROBE_KEYS)
        name = entry.string("name", required=True)
        if any(p.name == name for p in out):
            raise entry.error("name", f"probe {name!r} is defined twice")
        kind = entry.string("type", required=True)
        if kind not in PROBE_TYPES:
            raise entry.error("type", f"{kind!r} is not a probe type; use {', '.join(PROBE_TYPES)}")
        component = entry.raw("component")
        if kind == "health_checks":
            if component is not None:
                raise entry.error("component", "health_checks probes take components from checks")
        elif component is None:
            raise entry.error("component", f"required for a {kind} probe")
        elif not isinstance(component, str) or component not in components:
            raise entry.error("component", _unknown_component(component, components))
        if kind == "file":
            for key in ("path", "scheme", "expect_status"):
                if key in entry.data:
                    raise entry.error(key, "a file probe takes its patterns from targets.files")
        path = entry.string("path", _DEFAULT_PATHS.get(kind, "/"))
        if not path.startswith("/"):
            raise entry.error("path", "must start with /")
        scheme = entry.string("scheme", "http")
        if scheme not in ("http", "https"):
            raise entry.error("scheme", "use http or https")
        static, dns, files = _targets(entry, kind == "file")
        out.append(
            ProbeConfig(
                name=name,
                type=kind,  # checked against PROBE_TYPES above
                component=component,
                path=path,
                scheme=scheme,
                expect_status=_expect_status(entry),
                static_targets=static,
                dns_targets=dns,
                files=files,
            )
        )
    return tuple(out)


def _expect_status(entry: _Reader) -> tuple[int, ...]:
    codes = entry.sequence("expect_status") or [200]
    for code in codes:
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
            raise entry.error("expect_status", f"{code!r} is not an HTTP status code")
    return tuple(sorted(set(codes)))


def _targets(
    entry: _Reader, file_probe: bool
) -> tuple[tuple[str, ...], tuple[DnsTarget, ...], tuple[str, ...]]:
    allowed = {"files"} if file_probe else {"static", "dns"}
    targets = _Reader(entry.file, entry.raw("targets", required=True), entry.at("targets"), allowed)
    if file_probe:
        files: list[str] = []
        for j, pattern in enumerate(targets.sequence("files", required=True)):
            problem = file_pattern_problem(pattern)
            if problem:
                raise targets.error(f"files[{j}]", problem)
            files.append(pattern)
        if not files:
            raise targets.error("files", "a file probe needs at least one pattern")
        return (), (), tuple(dict.fromkeys(files))
    static: list[str] = []
    for j, target in enumerate(targets.sequence("static")):
        if not isinstance(target, str) or _split_host_port(target) is None:
            raise targets.error(f"static[{j}]", f"{target!r} is not host:port")
        static.append(target)
    dns: list[DnsTarget] = []
    for j, item in enumerate(targets.sequence("dns")):
        record = _Reader(entry.file, item, targets.at(f"dns[{j}]"), {"name", "port"})
        name = record.string("name", required=True)
        if not _HOST.match(name):
            raise record.error("name", f"{name!r} is not a DNS name")
        dns.append(DnsTarget(name, record.integer("port", 0, 1, 65535)))
    if not static and not dns:
        raise targets.error("static", "a probe needs at least one static or dns target")
    return tuple(dict.fromkeys(static)), tuple(dict.fromkeys(dns)), ()


def _check_coverage(config: ExporterConfig, top: _Reader) -> None:
    """A weighted component nothing measures would silently score 0: say so at load time."""
    covered = {EXPORTER_SELF_COMPONENT}
    for probe in config.probes:
        covered.update(config.covered_components(probe))
    for i, component in enumerate(config.components):
        if component.weight > 0 and component.name not in covered:
            raise top.error(
                f"components[{i}]",
                f"component {component.name!r} has weight {component.weight:g} but no probe or "
                "check measures it; add a probe, map a check to it, or set weight: 0",
            )


def _split_host_port(target: str) -> tuple[str, int] | None:
    host, sep, port = target.rpartition(":")
    if not sep or not _PORT.match(port) or not 1 <= int(port) <= 65535:
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        return (host, int(port)) if host else None
    return (host, int(port)) if _HOST.match(host) else None


def split_host_port(target: str) -> tuple[str, int]:
    """``("host", port)`` of a validated ``host:port`` target."""
    parts = _split_host_port(target)
    if parts is None:
        raise ValueError(f"{target!r} is not host:port")
    return parts


def _unknown_component(value: object, components: set[str]) -> str:
    return f"{value!r} is not a listed component; use one of: {', '.join(sorted(components))}"


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )
