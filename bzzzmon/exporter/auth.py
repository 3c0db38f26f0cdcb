"""Basic auth that an unauthenticated flood cannot turn into a denial of service.

A bcrypt check costs tens of milliseconds of CPU by design, so every wrong password is work an
attacker makes the exporter do. Here:

- checks run on a small executor of their own (``AUTH_WORKERS`` threads; bcrypt releases the GIL),
  never on the pool that resolves DNS targets or renders /metrics, and at the lowest CPU
  priority (:func:`lower_priority`), so hashing only gets CPU time the probe loop leaves over;
- at most ``AUTH_WORKERS`` checks run and ``AUTH_QUEUE`` wait; beyond that a request is answered
  ``429`` at once, without hashing;
- every verdict is remembered under an HMAC of the credential (a per-process random key, so the
  cache holds nothing that helps guess a password) together with the hash it was checked against;
  a remembered success is extended on use, so a scraper pays bcrypt once, and a remembered
  failure makes a repeated wrong password cheap; a changed hash (reload) invalidates both;
- an unknown user is checked against a dummy hash of the configured users' cost, so a wrong user
  name takes as long as a wrong password.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import enum
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import Executor

import bcrypt

AUTH_WORKERS = 1
AUTH_QUEUE = 8
CACHE_ENTRIES = 1024
GOOD_TTL = 300.0  # seconds since a remembered good credential was last used
BAD_TTL = 60.0


class Verdict(enum.Enum):
    ALLOWED = "allowed"
    DENIED = "denied"
    BUSY = "busy"  # too many checks in flight: answer 429, try later


def lower_priority() -> None:
    """Thread initializer: nice 19 for the calling thread only (Linux nices threads one by one)."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


def dummy_hash(users: Mapping[str, bytes]) -> bytes:
    """A hash of a random password at the highest cost among ``users`` (one bcrypt run)."""
    cost = max((hash_cost(h) for h in users.values()), default=10)
    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=cost))


def hash_cost(hashed: bytes) -> int:
    return int(hashed[4:6])


class BasicAuth:
    """Checks ``Authorization: Basic`` headers against bcrypt hashes; see the module docstring."""

    def __init__(self, users: Mapping[str, bytes], dummy: bytes, executor: Executor) -> None:
        self._executor = executor
        self._key = secrets.token_bytes(32)
        # Separate, so a flood of wrong passwords cannot push good credentials out.
        self._good: OrderedDict[bytes, tuple[bytes, float]] = OrderedDict()
        self._bad: OrderedDict[bytes, tuple[bytes, float]] = OrderedDict()
        self._slots = asyncio.Semaphore(AUTH_WORKERS)
        self._waiting = 0
        self.update(users, dummy)

    def update(self, users: Mapping[str, bytes], dummy: bytes) -> None:
        """New users (a reload); remembered verdicts stay valid only for unchanged hashes."""
        self._users = dict(users)
        self._dummy = dummy

    async def check(self, header: str | None, now: float | None = None) -> Verdict:
        credentials = _parse_basic(header)
        if credentials is None:
            return Verdict.DENIED
        user, password = credentials
        hashed = self._users.get(user)
        against = hashed if hashed is not None else self._dummy
        key = hmac.new(self._key, user.encode() + b"\0" + password, hashlib.sha256).digest()
        now = time.monotonic() if now is None else now
        remembered = self._remembered(key, against, now)
        if remembered is not None:
            return Verdict.ALLOWED if remembered and hashed is not None else Verdict.DENIED
        if self._waiting >= AUTH_QUEUE:
            return Verdict.BUSY
        self._waiting += 1
        try:
            async with self._slots:
                loop = asyncio.get_running_loop()
                ok = await loop.run_in_executor(self._executor, _check, password, against)
        finally:
            self._waiting -= 1
        ok = ok and hashed is not None
        self._remember(key, against, ok, now)
        return Verdict.ALLOWED if ok else Verdict.DENIED

    def _remembered(self, key: bytes, against: bytes, now: float) -> bool | None:
        for ok, cache in ((True, self._good), (False, self._bad)):
            entry = cache.get(key)
            if entry is None:
                continue
            hashed, expires = entry
            if hashed != against or now >= expires:
                del cache[key]
                continue
            if ok:
                cache[key] = (hashed, now + GOOD_TTL)
                cache.move_to_end(key)
            return ok
        return None

    def _remember(self, key: bytes, against: bytes, ok: bool, now: float) -> None:
        cache = self._good if ok else self._bad
        cache[key] = (against, now + (GOOD_TTL if ok else BAD_TTL))
        cache.move_to_end(key)
        while len(cache) > CACHE_ENTRIES:
            cache.popitem(last=False)


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
