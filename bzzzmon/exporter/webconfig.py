"""TLS and basic auth from a Prometheus exporter-toolkit web config file.

Supported keys (the toolkit's format; relative paths are relative to the web config file)::

    tls_server_config:
      cert_file: server.crt
      key_file: server.key
      client_auth_type: NoClientCert   # or RequireAndVerifyClientCert, VerifyClientCertIfGiven
      client_ca_file: ca.crt           # needed when client certificates are verified
      min_version: TLS12               # TLS10..TLS13
      max_version: TLS13
    http_server_config:
      headers: {X-Frame-Options: deny}  # extra response headers
    basic_auth_users:
      prometheus: $2y$10$...            # bcrypt hashes only

Hashes are checked for their shape only (no bcrypt run per user, so loading is cheap); checking
passwords is :mod:`bzzzmon.exporter.auth`'s job. Loading does run bcrypt once, to make the dummy
hash for unknown users, so a reload calls :func:`load_web_config` off the event loop.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bzzzmon.exporter.auth import dummy_hash
from bzzzmon.exporter.yamlfile import ConfigError, load_yaml_config

_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,128}$")
_TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
_CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
_TLS_KEYS = {
    "cert_file",
    "key_file",
    "client_auth_type",
    "client_ca_file",
    "min_version",
    "max_version",
}
# What bcrypt accepts: version, cost 04..31, a 22-character salt whose last character carries
# only 2 bits, and the 31-character digest.
_BCRYPT = re.compile(
    r"^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{21}[.Oeu][./A-Za-z0-9]{31}$"
)


@dataclass(frozen=True)
class WebConfig:
    ssl_context: ssl.SSLContext | None = None
    users: Mapping[str, bytes] = field(default_factory=dict)  # user -> bcrypt hash
    headers: Mapping[str, str] = field(default_factory=dict)
    cert_file: Path | None = None  # kept so a reload can load a renewed certificate
    key_file: Path | None = None
    dummy_hash: bytes = b""  # checked for unknown users; the users' own cost

    @property
    def auth_required(self) -> bool:
        return bool(self.users)


def load_web_config(path: str | Path | None) -> WebConfig:
    """Parse a web config file (None means plain HTTP, no auth); raise ConfigError on problems."""
    if path is None:
        return WebConfig()
    return load_yaml_config(path, lambda data, file: _web_config(data, file, Path(path).parent))


def _web_config(data: object, file: str, base: Path) -> WebConfig:
    if data is None:
        return WebConfig()
    _expect_keys(file, "", data, {"tls_server_config", "basic_auth_users", "http_server_config"})
    assert isinstance(data, dict)
    tls = data.get("tls_server_config")
    context = _tls(file, base, tls)
    users = _users(file, data.get("basic_auth_users"))
    files = (base / tls["cert_file"], base / tls["key_file"]) if isinstance(tls, dict) else None
    return WebConfig(
        ssl_context=context,
        users=users,
        headers=_headers(file, data.get("http_server_config")),
        cert_file=files[0] if files else None,
        key_file=files[1] if files else None,
        dummy_hash=dummy_hash(users) if users else b"",
    )


def _tls(file: str, base: Path, raw: object) -> ssl.SSLContext | None:
    if raw is None:
        return None
    key = "tls_server_config"
    _expect_keys(file, key, raw, _TLS_KEYS)
    assert isinstance(raw, dict)
    for required in ("cert_file", "key_file"):
        if not isinstance(raw.get(required), str) or not raw[required]:
            raise ConfigError(file, f"{key}.{required}", "required: a file path")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = _tls_version(
        file, f"{key}.min_version", raw.get("min_version", "TLS12")
    )
    if "max_version" in raw:
        context.maximum_version = _tls_version(file, f"{key}.max_version", raw["max_version"])
    cert, private_key = base / raw["cert_file"], base / raw["key_file"]
    try:
        context.load_cert_chain(cert, private_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            file, f"{key}.cert_file", f"cannot load {cert} / {private_key}: {exc}"
        ) from None
    auth = raw.get("client_auth_type", "NoClientCert")
    if not isinstance(auth, str) or auth not in _CLIENT_AUTH:
        raise ConfigError(file, f"{key}.client_auth_type", f"use one of: {', '.join(_CLIENT_AUTH)}")
    context.verify_mode = _CLIENT_AUTH[auth]
    if auth != "NoClientCert":
        ca = raw.get("client_ca_file")
        if not isinstance(ca, str):
            raise ConfigError(file, f"{key}.client_ca_file", f"required with {auth}")
        try:
            context.load_verify_locations(cafile=base / ca)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(file, f"{key}.client_ca_file", f"cannot load: {exc}") from None
    return context


def _tls_version(file: str, key: str, value: object) -> ssl.TLSVersion:
    if not isinstance(value, str) or value not in _TLS_VERSIONS:
        raise ConfigError(file, key, f"use one of: {', '.join(_TLS_VERSIONS)}")
    return _TLS_VERSIONS[value]


def _users(file: str, raw: object) -> dict[str, bytes]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(
            file, "basic_auth_users", "expected a mapping of user name to bcrypt hash"
        )
    users: dict[str, bytes] = {}
    for user, hashed in raw.items():
        key = f"basic_auth_users.{user}"
        if not isinstance(user, str) or not user or ":" in user:
            raise ConfigError(file, key, "user names are non-empty strings without ':'")
        if not isinstance(hashed, str) or not hashed.startswith(("$2a$", "$2b$", "$2y$")):
            raise ConfigError(file, key, "expected a bcrypt hash ($2a$, $2b$ or $2y$...)")
        if not _BCRYPT.match(hashed):
            raise ConfigError(file, key, "not a valid bcrypt hash")
        users[user] = hashed.encode()
    return users


def _headers(file: str, raw: object) -> dict[str, str]:
    if raw is None:
        return {}
    _expect_keys(file, "http_server_config", raw, {"headers"})
    assert isinstance(raw, dict)
    headers = raw.get("headers") or {}
    if not isinstance(headers, dict):
        raise ConfigError(file, "http_server_config.headers", "expected a mapping of strings")
    for name, value in headers.items():
        key = f"http_server_config.headers.{name}"
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise ConfigError(file, key, "a header name is letters, digits and -")
        if not isinstance(value, str) or not value.isprintable():
            raise ConfigError(file, key, "a header value is one line of printable text")
    return dict(headers)


def _expect_keys(file: str, key: str, raw: object, allowed: set[str]) -> None:
    if not isinstance(raw, dict):
        raise ConfigError(file, key or "(top level)", "expected a mapping")
    unknown: list[Any] = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        where = f"{key}.{unknown[0]}" if key else unknown[0]
        raise ConfigError(
            file, where, f"unknown key; expected one of: {', '.join(sorted(allowed))}"
        )
