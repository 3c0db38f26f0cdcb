"""One probe attempt against one target: HTTP (health_checks, health, http_status), TCP, DNS.

Every function here returns a :class:`ProbeOutcome` instead of raising: a hostile target (one
that hangs, resets, answers garbage, streams a huge body or one byte per second) becomes a failed
outcome with a reason from ``PROBE_FAILURE_REASONS``. Bodies are streamed and cut off at
``max_body_bytes``; redirects are never followed, so a target cannot send the exporter elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import aiohttp

from bzzzmon.exporter.config import ProbeConfig, split_host_port
from bzzzmon.exporter.scoring import CheckResult, status_score

# Bounds on what one /health/checks answer may add, so a hostile agent cannot blow up cardinality.
MAX_CHECKS_PER_ANSWER = 64
_CHUNK = 64 * 1024
_REQUEST_HEADERS = {"Accept": "application/json", "Accept-Encoding": "identity"}


@dataclass(frozen=True, slots=True)  # one per target: no __dict__ each
class ProbeOutcome:
    success: bool
    reason: str | None  # one of PROBE_FAILURE_REASONS when not successful
    detail: str  # short human-readable explanation, for logs and the landing page
    duration: float
    status: float | None = None  # health: score of /health's status
    checks: tuple[CheckResult, ...] = field(default=())
    file_mtime: float | None = None  # file: the newest matching file's modification time
    file_size: int | None = None  # file: its size in bytes


class ProbeFailed(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def new_session(concurrency: int) -> aiohttp.ClientSession:
    """A client session for probing: no keep-alive (every probe is a fresh connection, like a
    blackbox probe), no cookies, no proxies from the environment, no automatic decompression."""
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=True, ttl_dns_cache=10)
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        trust_env=False,
        raise_for_status=False,
    )


async def run_probe(
    session: aiohttp.ClientSession,
    probe: ProbeConfig,
    target: str,
    timeout: float,
    max_body_bytes: int,
    checks_map: Mapping[str, str],
    components: frozenset[str],
) -> ProbeOutcome:
    """Probe ``target`` once; never raises (except cancellation)."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            if probe.type == "tcp":
                await tcp_connect(target)
                return _ok(started, "connected")
            status, body = await http_get(session, probe, target, timeout, max_body_bytes)
            if status not in probe.expect_status:
                raise ProbeFailed("bad_status", f"HTTP {status}")
            if probe.type == "http_status":
                return _ok(started, f"HTTP {status}")
            document = _json_object(body)
            if probe.type == "health":
                score = status_score(document.get("status"))
                if score is None:
                    raise ProbeFailed("malformed", "no valid status in /health")
                if score == 0.0:
                    raise ProbeFailed("unhealthy", f"status {document.get('status')!r}")
                return _ok(started, f"status {document.get('status')}", status=score)
            checks = parse_checks(document, checks_map, components)
            return _ok(started, f"{len(checks)} checks", checks=checks)
    except ProbeFailed as exc:
        return failed_outcome(started, exc.reason, exc.detail)
    except TimeoutError:
        return failed_outcome(started, "timeout", f"no complete answer within {timeout:g}s")
    except aiohttp.ClientConnectorDNSError as exc:
        return failed_outcome(started, "dns", _short(exc))
    except aiohttp.ClientConnectorError as exc:
        return failed_outcome(started, _os_reason(exc.os_error), _short(exc))
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
        return failed_outcome(started, "reset", _short(exc))
    except aiohttp.ClientResponseError as exc:
        # Raised by aiohttp's HTTP parser for answers that are not HTTP at all.
        return failed_outcome(started, "malformed", _short(exc))
    except aiohttp.ClientOSError as exc:
        return failed_outcome(started, _os_reason(exc), _short(exc))
    except socket.gaierror as exc:
        return failed_outcome(started, "dns", _short(exc))
    except OSError as exc:
        return failed_outcome(started, _os_reason(exc), _short(exc))
    except aiohttp.ClientError as exc:
        return failed_outcome(started, "error", _short(exc))
    except Exception as exc:  # e.g. a host name IDNA cannot encode: one target, not the round
        return failed_outcome(started, "error", f"{type(exc).__name__}: {_short(exc)}")


async def http_get(
    session: aiohttp.ClientSession,
    probe: ProbeConfig,
    target: str,
    timeout: float,
    max_body_bytes: int,
) -> tuple[int, bytes]:
    """GET the probe's path on ``target``; the body is streamed and cut at ``max_body_bytes``."""
    url = f"{probe.scheme}://{target}{probe.path}"
    async with session.get(
        url,
        headers=_REQUEST_HEADERS,
        allow_redirects=False,
        timeout=aiohttp.ClientTimeout(total=timeout),
    ) as response:
        if probe.type == "http_status":
            return response.status, b""  # the status is the answer; the body is not read
        length = response.content_length
        if length is not None and length > max_body_bytes:
            raise ProbeFailed("too_large", f"Content-Length {length} > {max_body_bytes}")
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > max_body_bytes:
                raise ProbeFailed("too_large", f"body larger than {max_body_bytes} bytes")
        return response.status, bytes(body)


async def tcp_connect(target: str) -> None:
    """A TCP probe passes once the three-way handshake completes, whatever the peer does next.

    A peer that accepts and resets at once races the connect's completion: the reset may reach
    the socket before asyncio reads its status, which then reports ECONNRESET. A refused
    handshake reports ECONNREFUSED instead, so ECONNRESET means the handshake did complete, and
    the probe passes either way (checking that a service answers is an HTTP probe's job)."""
    host, port = split_host_port(target)
    try:
        _reader, writer = await asyncio.open_connection(host, port)
    except ConnectionResetError:
        return
    writer.close()
    with contextlib.suppress(OSError):  # the peer may reset at once; the connect succeeded
        await writer.wait_closed()


async def resolve_a_records(name: str, port: int, timeout: float) -> list[str]:
    """Every IPv4 address of ``name`` as ``ip:port`` targets, sorted; raises ProbeFailed('dns')."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(
                name, port, family=socket.AF_INET, type=socket.SOCK_STREAM
            )
    except TimeoutError:
        raise ProbeFailed("dns", f"resolving {name} timed out") from None
    except (socket.gaierror, OSError, UnicodeError) as exc:
        raise ProbeFailed("dns", f"resolving {name}: {_short(exc)}") from None
    addresses = sorted({str(info[4][0]) for info in infos}, key=_ip_sort_key)
    if not addresses:
        raise ProbeFailed("dns", f"{name} has no A records")
    return [f"{address}:{port}" for address in addresses]


def parse_checks(
    document: Mapping[str, object], checks_map: Mapping[str, str], components: frozenset[str]
) -> tuple[CheckResult, ...]:
    """Valid checks of a ``/health/checks`` answer, by name; unknown components are ignored."""
    raw = document.get("checks")
    if not isinstance(raw, dict):
        raise ProbeFailed("malformed", "no 'checks' mapping in /health/checks")
    out: list[CheckResult] = []
    for name, entry in list(raw.items())[:MAX_CHECKS_PER_ANSWER]:
        if not isinstance(entry, dict) or not isinstance(name, str):
            raise ProbeFailed("malformed", f"check {str(name)[:40]!r} is not an object")
        score = status_score(entry.get("status"))
        if score is None:
            raise ProbeFailed("malformed", f"check {name[:40]!r} has no valid status")
        component = checks_map.get(name) or entry.get("component")
        if isinstance(component, str) and component in components and _valid_check_name(name):
            # Interned: every target's answer names the same checks, kept until the next round.
            out.append(CheckResult(sys.intern(name), sys.intern(component), score))
    return tuple(sorted(out, key=lambda c: c.name))


def _valid_check_name(name: str) -> bool:
    return 0 < len(name) <= 64 and all(
        ch.isascii() and (ch.isalnum() or ch in "_.-") for ch in name
    )


def _json_object(body: bytes) -> dict[str, object]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise ProbeFailed("malformed", "body is not JSON") from None
    if not isinstance(document, dict):
        raise ProbeFailed("malformed", "body is not a JSON object")
    return document


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return "refused"
    if isinstance(exc, ConnectionResetError | BrokenPipeError) or exc.errno in (
        errno.ECONNRESET,
        errno.EPIPE,
        errno.ECONNABORTED,
    ):
        return "reset"
    if isinstance(exc, TimeoutError) or exc.errno == errno.ETIMEDOUT:
        return "timeout"
    return "error"


def _ok(
    started: float, detail: str, status: float | None = None, checks: tuple[CheckResult, ...] = ()
) -> ProbeOutcome:
    return ProbeOutcome(True, None, detail, time.monotonic() - started, status, checks)


def failed_outcome(started: float, reason: str, detail: str) -> ProbeOutcome:
    return ProbeOutcome(False, reason, detail, time.monotonic() - started)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _ip_sort_key(address: str) -> tuple[int, ...]:
    return tuple(int(part) for part in address.split(".")) if address.count(".") == 3 else (0,)
