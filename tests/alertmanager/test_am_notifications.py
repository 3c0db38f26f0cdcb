"""The notification templates, executed by a real Alertmanager: Slack, PagerDuty and e-mail
(text and HTML) carry the summary, description, runbook, dashboard and silence links."""

from __future__ import annotations

import email
import json
import shutil
from email.message import Message
from pathlib import Path

import httpx
import pytest
from am_testkit import Rendered, RunningAlertmanager
from capture_servers import CaptureHTTP, CaptureSMTP

from bzzzmon import conventions as C
from bzzzmon.render.alertmanager.receivers import receiver

pytestmark = pytest.mark.e2e

LABELS = {
    "alertname": "BZZZDHTReplicationDegraded",
    "component": "dht",
    "service": "bzzz",
    "severity": "P1",
}
ANNOTATIONS = {
    "summary": "DHT replication is below 2 copies on average.",
    "description": "The average DHT replication factor is 1.5.",
    "runbook_url": "https://runbook.example.test/#dht",
    "dashboard_url": "https://grafana.example.test/d/bzzz-overview",
}
SILENCE_URL = (
    "https://alertmanager.chorus.services/#/silences/new?filter=%7B"
    "alertname%3D%22BZZZDHTReplicationDegraded%22%2Ccomponent%3D%22dht%22%2C"
    "service%3D%22bzzz%22%2Cseverity%3D%22P1%22%7D"
)


def _parts(raw: bytes) -> dict[str, str]:
    message = email.message_from_bytes(raw)
    out: dict[str, str] = {"Subject": str(message["Subject"])}
    for part in message.walk():
        if isinstance(part, Message) and not part.is_multipart():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            out[part.get_content_type()] = payload.decode()
    return out


def test_templates_render_in_alertmanager(shipped: Rendered, tmp_path: Path) -> None:
    plan, out = shipped
    workdir = tmp_path / "am"
    shutil.copytree(out / C.ALERTMANAGER_DIR, workdir)
    with CaptureHTTP() as http, CaptureSMTP() as smtp:
        url_file = tmp_path / "slack_url"
        url_file.write_text(f"{http.url}/slack")
        key_file = tmp_path / "pd_key"
        key_file.write_text("0123456789abcdef0123456789abcdef")
        slack = receiver(plan.receiver("slack-bzzz-alerts"))["slack_configs"][0]
        slack["api_url_file"] = str(url_file)
        # An escalation contact: the alert channel, mentioning the person above the message.
        lead_url_file = tmp_path / "slack_lead_url"
        lead_url_file.write_text(f"{http.url}/slack-tech-lead")
        lead = receiver(plan.receiver("tech-lead"))["slack_configs"][0]
        lead["api_url_file"] = str(lead_url_file)
        pager = receiver(plan.receiver("pager"))["pagerduty_configs"][0]
        pager |= {"routing_key_file": str(key_file), "url": f"{http.url}/pagerduty"}
        mail = receiver(plan.receiver("digest"))["email_configs"][0]
        for key in ("auth_username", "auth_password_file"):
            mail.pop(key, None)
        mail |= {"smarthost": smtp.address, "require_tls": False}
        config = {
            "templates": ["templates/*.tmpl"],
            "route": {"receiver": "all", "group_wait": "0s"},
            "receivers": [
                {
                    "name": "all",
                    "slack_configs": [slack, lead],
                    "pagerduty_configs": [pager],
                    "email_configs": [mail],
                }
            ],
        }
        config_file = workdir / "alertmanager.yml"
        config_file.write_text(json.dumps(config))  # JSON is YAML
        with RunningAlertmanager(workdir, config_file) as am:
            posted = httpx.post(
                f"{am.url}/api/v2/alerts",
                json=[{"labels": LABELS, "annotations": ANNOTATIONS}],
                timeout=10,
            )
            assert posted.status_code == 200, posted.text
            requests = http.requests.wait_for(3)
            messages = smtp.messages.wait_for(1)
    by_path = {path: json.loads(body) for path, body in requests}
    assert set(by_path) == {"/slack", "/slack-tech-lead", "/pagerduty"}, requests
    mentioned = by_path["/slack-tech-lead"]
    assert mentioned["channel"] == "#bzzz-alerts"
    assert mentioned["link_names"] is True
    assert mentioned["attachments"][0]["pretext"] == "@tech-lead"
    assert mentioned["attachments"][0]["text"] == by_path["/slack"]["attachments"][0]["text"]
    assert "pretext" not in by_path["/slack"]["attachments"][0]
    assert not by_path["/slack"].get("link_names")

    attachment = by_path["/slack"]["attachments"][0]
    assert by_path["/slack"]["channel"] == "#bzzz-alerts"
    assert attachment["title"] == "[FIRING:1] P1 BZZZDHTReplicationDegraded (bzzz)"
    text = attachment["text"]
    for needle in (
        ANNOTATIONS["summary"],
        ANNOTATIONS["description"],
        f"Runbook: {ANNOTATIONS['runbook_url']}",
        f"Dashboard: {ANNOTATIONS['dashboard_url']}",
        f"Silence: {SILENCE_URL}",
        "Labels: alertname=BZZZDHTReplicationDegraded component=dht service=bzzz severity=P1",
    ):
        assert needle in text, text

    event = by_path["/pagerduty"]
    assert event["payload"]["summary"] == f"BZZZDHTReplicationDegraded: {ANNOTATIONS['summary']}"
    assert event["payload"]["severity"] == "error"
    assert SILENCE_URL in event["payload"]["custom_details"]["firing"]

    parts = _parts(messages[0])
    assert parts["Subject"] == "[FIRING:1] P1 BZZZDHTReplicationDegraded (bzzz)"
    assert f"Silence: {SILENCE_URL}" in parts["text/plain"]
    html = parts["text/html"]
    for needle in (
        f"<h3>{ANNOTATIONS['summary']}</h3>",
        f'<a href="{ANNOTATIONS["runbook_url"]}">Runbook</a>',
        f'<a href="{ANNOTATIONS["dashboard_url"]}">Dashboard</a>',
        f'<a href="{SILENCE_URL}">Silence</a>',
    ):
        assert needle in html, html
