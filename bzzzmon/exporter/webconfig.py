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

Checking a bcrypt hash costs tens of milliseconds, so it runs in a worker thread (never on the
event loop that probes) and a successful (user, password) pair is remembered by its SHA-256.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from bzzzmon.exporter.config import ConfigError

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
# A valid hash to compare against for unknown users, so a wrong user name costs as long as a
# wrong password (no user enumeration by timing).
_DUMMY_HASH = b"$2b$10$2EO3gZLPWvSNBElZltiubOQYIbcbdYa15rqtTfTLGcGyO1ShVWji2"


@dataclass(frozen=True)
class WebConfig:
    ssl_context: ssl.SSLContext | None = None
    users: Mapping[str, bytes] = field(default_factory=dict)  # user -> bcrypt hash
    headers: Mapping[str, str] = field(default_factory=dict)
    cert_file: Path | None = None  # kept so a reload can load a renewed certificate
    key_file: Path | None = None

    @property
    def auth_required(self) -> bool:
        return bool(self.users)


def load_web_config(path: str | Path | None) -> WebConfig:
    """Parse a web config file (None means plain HTTP, no auth); raise ConfigError on problems."""
    if path is None:
        return WebConfig()
    file = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(file, "", f"cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            file, "", f"invalid YAML: {getattr(exc, 'problem', None) or exc}"
        ) from None
    if data is None:
        return WebConfig()
    _expect_keys(file, "", data, {"tls_server_config", "basic_auth_users", "http_server_config"})
    base = Path(path).parent
    tls = data.get("tls_server_config")
    context = _tls(file, base, tls)
    return WebConfig(
        ssl_context=context,
        users=_users(file, data.get("basic_auth_users")),
        headers=_headers(file, data.get("http_server_config")),
        cert_file=base / tls["cert_file"] if context is not None else None,
        key_file=base / tls["key_file"] if context is not None else None,
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
    if auth not in _CLIENT_AUTH:
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
    if value not in _TLS_VERSIONS:
        raise ConfigError(file, key, f"use one of: {', '.join(_TLS_VERSIONS)}")
    return _TLS_VERSIONS[str(value)]


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
        try:
            bcrypt.checkpw(b"", hashed.encode())
        except ValueError:
            raise ConfigError(file, key, "not a valid bcrypt hash") from None
        users[user] = hashed.encode()
    return users


def _headers(file: str, raw: object) -> dict[str, str]:
    if raw is None:
        return {}
    _expect_keys(file, "http_server_config", raw, {"headers"})
    assert isinstance(raw, dict)
    headers = raw.get("headers") or {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise ConfigError(file, "http_server_config.headers", "expected a mapping of strings")
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


class BasicAuth:
    """Checks ``Authorization: Basic`` headers against bcrypt hashes, off the event loop."""

    def __init__(self, users: Mapping[str, bytes]) -> None:
        self._users = dict(users)
        self._verified: set[bytes] = set()  # sha256(user, hash, password) of good credentials

    async def allowed(self, header: str | None) -> bool:
        credentials = _parse_basic(header)
        if credentials is None:
            return False
        user, password = credentials
        hashed = self._users.get(user)
        digest = hashlib.sha256(b"\0".join([user.encode(), hashed or b"", password])).digest()
        if hashed is not None and digest in self._verified:
            return True
        ok = await asyncio.to_thread(_check, password, hashed or _DUMMY_HASH)
        if ok and hashed is not None:
            if len(self._verified) > 1024:
                self._verified.clear()
            self._verified.add(digest)
            return True
        return False


def _check(password: bytes, hashed: bytes) -> bool:
    try:
        return bcrypt.checkpw(password, hashed)
    except ValueError:
        return False


def _parse_basic(header: str | None) -> tuple[str, bytes] | None:
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    if not sep:
        return None
    try:
        return user.decode("utf-8"), password
    except UnicodeDecodeError:
        return None
