"""A small synchronous client for Alertmanager's v2 silences API (``/api/v2/silences``).

The runbook's silence procedure used the v1 API, which Alertmanager 0.27 removed; v2 is what
0.25 and every later release serve. Every failure (unreachable, timed out, refused by
Alertmanager) is an ``AlertmanagerError`` whose message says what happened and what
Alertmanager answered, for the CLI to print.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_URL = "http://127.0.0.1:9093"
_MATCHER = re.compile(r"^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$", re.DOTALL)


class AlertmanagerError(Exception):
    """Alertmanager could not be reached or refused the request."""


class MatcherError(ValueError):
    pass


@dataclass(frozen=True)
class SilenceMatcher:
    name: str
    value: str
    is_regex: bool
    is_equal: bool = True

    def as_api(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "isRegex": self.is_regex,
            "isEqual": self.is_equal,
        }

    def format(self) -> str:
        ops = {(True, False): "=", (True, True): "=~", (False, False): "!=", (False, True): "!~"}
        op = ops[(self.is_equal, self.is_regex)]
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{op}"{escaped}"'


def parse_matcher(text: str) -> SilenceMatcher:
    """``name=value``, ``name!=value``, ``name=~regex`` or ``name!~regex``; values may be quoted."""
    m = _MATCHER.match(text)
    if not m:
        raise MatcherError(
            f"'{text}' is not a matcher; write name=value, name!=value, name=~regex or name!~regex"
        )
    name, op, value = m.groups()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    return SilenceMatcher(name, value, is_regex=op in ("=~", "!~"), is_equal=op in ("=", "=~"))


@dataclass(frozen=True)
class Silence:
    id: str
    state: str
    matchers: tuple[SilenceMatcher, ...]
    starts_at: str
    ends_at: str
    created_by: str
    comment: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Silence:
        return cls(
            id=str(data["id"]),
            state=str(data.get("status", {}).get("state", "")),
            matchers=tuple(
                SilenceMatcher(
                    m["name"], m["value"], bool(m.get("isRegex")), bool(m.get("isEqual", True))
                )
                for m in data.get("matchers", [])
            ),
            starts_at=str(data.get("startsAt", "")),
            ends_at=str(data.get("endsAt", "")),
            created_by=str(data.get("createdBy", "")),
            comment=str(data.get("comment", "")),
        )


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with millisecond precision, as Alertmanager writes times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AlertmanagerClient:
    def __init__(self, base_url: str = DEFAULT_URL, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout)

    def __enter__(self) -> AlertmanagerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise AlertmanagerError(
                f"Alertmanager at {self.base_url} did not answer in time"
            ) from exc
        except httpx.HTTPError as exc:
            raise AlertmanagerError(
                f"cannot reach Alertmanager at {self.base_url}: {exc or type(exc).__name__}"
            ) from exc
        if response.status_code >= 400:
            detail = response.text.strip().strip('"') or response.reason_phrase
            raise AlertmanagerError(
                f"Alertmanager rejected {method} {path} ({response.status_code}): {detail}"
            )
        return response

    def create_silence(
        self,
        matchers: list[SilenceMatcher],
        starts_at: datetime,
        ends_at: datetime,
        created_by: str,
        comment: str,
    ) -> str:
        """Create a silence; returns its id."""
        body = {
            "matchers": [m.as_api() for m in matchers],
            "startsAt": format_time(starts_at),
            "endsAt": format_time(ends_at),
            "createdBy": created_by,
            "comment": comment,
        }
        data = self._request("POST", "/api/v2/silences", json=body).json()
        return str(data["silenceID"])

    def list_silences(self, matchers: list[SilenceMatcher] | None = None) -> list[Silence]:
        """Every silence Alertmanager knows (active, pending and expired), filtered by matchers."""
        params = [("filter", m.format()) for m in matchers or []]
        data = self._request("GET", "/api/v2/silences", params=params).json()
        return [Silence.from_api(item) for item in data]

    def get_silence(self, silence_id: str) -> Silence:
        return Silence.from_api(self._request("GET", _silence_path(silence_id)).json())

    def expire_silence(self, silence_id: str) -> None:
        self._request("DELETE", _silence_path(silence_id))


def _silence_path(silence_id: str) -> str:
    return f"/api/v2/silence/{quote(silence_id, safe='')}"
