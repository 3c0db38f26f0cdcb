"""Minimal HTTP clients for the stack's Prometheus and Alertmanager APIs (loopback only)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

from bzzzmon.stack.processes import StackError


def get_json(url: str, timeout: float = 10.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # loopback only
        return json.loads(response.read())


class PrometheusAPI:
    def __init__(self, url: str) -> None:
        self.url = url

    def _api(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        body = get_json(f"{self.url}/api/v1/{path}?{query}")
        if body.get("status") != "success":
            raise StackError(f"Prometheus {path} failed: {body.get('error', body)}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._api("query", query=expr)["result"]
        return result

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Any]:
        data = self._api(
            "query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{step:g}"
        )
        result: list[Any] = data["result"]
        return result

    def alerts(self) -> list[dict[str, Any]]:
        """Active alerts (pending and firing) as the rule manager sees them."""
        found: list[dict[str, Any]] = self._api("alerts")["alerts"]
        return found

    def targets_up(self) -> dict[str, bool]:
        """scrape URL -> whether the last scrape succeeded."""
        active = self._api("targets", state="active")["activeTargets"]
        return {t["scrapeUrl"]: t["health"] == "up" for t in active}

    def alertmanagers(self) -> list[str]:
        """URLs of the Alertmanagers the notifier currently sends to."""
        active = self._api("alertmanagers")["activeAlertmanagers"]
        return [str(a["url"]) for a in active]

    def rule_groups(self) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = self._api("rules")["groups"]
        return groups


class AlertmanagerAPI:
    def __init__(self, url: str) -> None:
        self.url = url

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert Alertmanager holds, with ``status.state`` and ``status.inhibitedBy``."""
        found: list[dict[str, Any]] = get_json(f"{self.url}/api/v2/alerts")
        return found

    def status(self) -> dict[str, Any]:
        found: dict[str, Any] = get_json(f"{self.url}/api/v2/status")
        return found
