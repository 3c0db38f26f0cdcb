"""Alertmanager receivers from the spec's receivers. Secrets are only ever named by file
(``api_url_file``, ``routing_key_file``, ``auth_password_file``, ``credentials_file``): the files
are Docker secrets read by Alertmanager at send time, and their contents never enter the output.

Human-facing integrations use the notification templates (``bzzz.*``, see alertmanager.templates);
webhooks send Alertmanager's JSON payload as is.
"""

from __future__ import annotations

from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import Plan, Receiver
from bzzzmon.render.alertmanager.templates import (
    EMAIL_HTML,
    EMAIL_SUBJECT,
    EMAIL_TEXT,
    PAGERDUTY_DESCRIPTION,
    SLACK_TEXT,
    SLACK_TITLE,
    TEXT,
    use,
)

Config = dict[str, Any]

# PagerDuty's event severities, from the runbook's (PagerDuty sorts and colours by them).
_PAGERDUTY_SEVERITY = (
    '{{ if eq .CommonLabels.severity "P0" }}critical'
    '{{ else if eq .CommonLabels.severity "P1" }}error'
    '{{ else if eq .CommonLabels.severity "P2" }}warning'
    "{{ else }}info{{ end }}"
)


def _pagerduty(s: dict[str, Any]) -> Config:
    return {
        "routing_key_file": s["routing_key_file"],
        "description": use(PAGERDUTY_DESCRIPTION),
        "severity": _PAGERDUTY_SEVERITY,
        "details": {
            "firing": use(TEXT),
            "num_firing": "{{ .Alerts.Firing | len }}",
            "num_resolved": "{{ .Alerts.Resolved | len }}",
        },
        "send_resolved": True,
    }


def _slack(s: dict[str, Any]) -> Config:
    config: Config = {"api_url_file": s["api_url_file"], "channel": s["channel"]}
    if s.get("mention"):
        # Above the message, so the mention notifies; link_names resolves "@handle" and is
        # harmless for IDs. The spec's check admits no template characters here.
        config["pretext"] = " ".join(s["mention"])
        config["link_names"] = True
    config["title"] = use(SLACK_TITLE)
    config["text"] = use(SLACK_TEXT)
    config["send_resolved"] = True
    return config


def _email(s: dict[str, Any]) -> Config:
    config: Config = {
        "to": s["to"],
        "from": s["from"],
        "smarthost": s["smarthost"],
    }
    if s.get("auth_username"):
        config["auth_username"] = s["auth_username"]
    if s.get("auth_password_file"):
        config["auth_password_file"] = s["auth_password_file"]
    config["require_tls"] = bool(s.get("require_tls", True))
    config["headers"] = {"Subject": use(EMAIL_SUBJECT)}
    config["html"] = use(EMAIL_HTML)
    config["text"] = use(EMAIL_TEXT)
    config["send_resolved"] = False
    return config


def _webhook(s: dict[str, Any]) -> Config:
    config: Config = {"url": s["url"]}
    if s.get("credentials_file"):
        config["http_config"] = {
            "authorization": {"type": "Bearer", "credentials_file": s["credentials_file"]}
        }
    if s.get("max_alerts"):
        config["max_alerts"] = s["max_alerts"]
    config["send_resolved"] = True
    return config


_KINDS = {
    "pagerduty": ("pagerduty_configs", _pagerduty),
    "slack": ("slack_configs", _slack),
    "email": ("email_configs", _email),
    "webhook": ("webhook_configs", _webhook),
}


def receiver(r: Receiver) -> Config:
    key, build = _KINDS[r.kind]
    return {"name": r.name, key: [build(r.settings)]}


def receivers(plan: Plan) -> list[Config]:
    """``blackhole`` (no integrations) first, then the spec's receivers by name."""
    return [{"name": C.NULL_RECEIVER}] + [receiver(r) for r in plan.receivers]
