"""Notification templates (Go templates for Alertmanager) in ``alertmanager/templates/``.

Every notification shows, per alert: the summary, the description, the runbook link, the
dashboard link and a link that opens Alertmanager's "new silence" form pre-filled with the
alert's labels. The silence link is built from the spec's ``service.alertmanager_url`` (the URL
operators reach, which Alertmanager's own ``.ExternalURL`` often is not); without one it falls
back to ``.ExternalURL``.

This is Go template text, not YAML, so it is written as text; only names (annotations, the URL)
are substituted into it. The HTML e-mail body lets html/template escape the links itself (it
refuses ``urlquery`` inside attributes), the plain-text parts use ``urlquery``.
"""

from __future__ import annotations

import posixpath

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.render.output import header
from bzzzmon.render.text import go_literal, go_string, slack_pipeline

# bzzzmon's template names (never the service's: one Alertmanager may serve several).
TITLE = "bzzzmon.title"
TEXT = "bzzzmon.text"
PAGERDUTY_DESCRIPTION = "bzzzmon.pagerduty.description"
EMAIL_SUBJECT = "bzzzmon.email.subject"
EMAIL_TEXT = "bzzzmon.email.text"
EMAIL_HTML = "bzzzmon.email.html"
SILENCE_URL = "bzzzmon.silence_url"
ALERT = "bzzzmon.alert"
SLACK_TITLE = "bzzzmon.slack.title"
SLACK_TEXT = "bzzzmon.slack.text"
SLACK_ALERT = "bzzzmon.slack.alert"

# Relative to alertmanager.yml: Alertmanager resolves template globs against the config's dir.
TEMPLATES_GLOB = posixpath.join(
    posixpath.relpath(C.ALERTMANAGER_TEMPLATES_DIR, posixpath.dirname(C.ALERTMANAGER_CONFIG)),
    "*.tmpl",
)


def use(name: str) -> str:
    """The config value that renders template ``name``."""
    return f'{{{{ template "{name}" . }}}}'


def _annotation(name: str, escape: str = "") -> str:
    return f"(index .Annotations {go_string(name)}){escape}"


def _title(name: str, escape: str) -> str:
    return (
        f'{{{{ define "{name}" }}}}[{{{{ .Status | toUpper }}}}'
        f'{{{{ if eq .Status "firing" }}}}:{{{{ .Alerts.Firing | len }}}}{{{{ end }}}}] '
        "{{ .CommonLabels.severity }} {{ .CommonLabels.alertname }}"
        f"{{{{ with .CommonLabels.service }}}} ({{{{ .{escape} }}}}){{{{ end }}}}{{{{ end }}}}"
    )


def _alert_and_text(alert: str, text: str, escape: str) -> list[str]:
    """The per-alert block and the whole message, plain (``escape`` empty) or escaped for a
    markup (Slack's): annotations and label values are the spec's and the alerts' text."""
    summary = _annotation(C.ANNOTATION_SUMMARY, escape)
    description = _annotation(C.ANNOTATION_DESCRIPTION, escape)
    runbook = _annotation(C.ANNOTATION_RUNBOOK_URL)
    dashboard = _annotation(C.ANNOTATION_DASHBOARD_URL)
    return [
        f'{{{{ define "{alert}" }}}}'
        f"{{{{ {summary} }}}}\n"
        f"{{{{ with {description} }}}}{{{{ . }}}}\n{{{{ end }}}}"
        f"Labels: {{{{ range .Labels.SortedPairs }}}}{{{{ .Name }}}}={{{{ .Value{escape} }}}} "
        "{{ end }}\n"
        f"{{{{ with {runbook} }}}}Runbook: {{{{ .{escape} }}}}\n{{{{ end }}}}"
        f"{{{{ with {dashboard} }}}}Dashboard: {{{{ .{escape} }}}}\n{{{{ end }}}}"
        f'Silence: {{{{ template "{SILENCE_URL}" . }}}}\n'
        "{{ end }}",
        "",
        f'{{{{ define "{text}" }}}}'
        f'{{{{ range .Alerts.Firing }}}}{{{{ template "{alert}" . }}}}\n{{{{ end }}}}'
        "{{ if .Alerts.Resolved }}Resolved:\n"
        f"{{{{ range .Alerts.Resolved }}}}- {{{{ {summary} }}}}\n{{{{ end }}}}"
        "{{ end }}{{ end }}",
        "",
    ]


def template_text(plan: Plan) -> str:
    base = plan.service.alertmanager_url.rstrip("/")
    silence_base = go_literal(base) if base else "{{ .ExternalURL }}"
    summary = _annotation(C.ANNOTATION_SUMMARY)
    description = _annotation(C.ANNOTATION_DESCRIPTION)
    runbook = _annotation(C.ANNOTATION_RUNBOOK_URL)
    dashboard = _annotation(C.ANNOTATION_DASHBOARD_URL)
    slack = slack_pipeline()
    lines = [
        header(plan.files_of("service", "routing", "receivers"), comment="{{/*").replace(
            "\n", " */}}\n"
        ),
        _title(TITLE, ""),
        "",
        '{{/* The alert\'s labels as an Alertmanager filter: {a="1",b="2"}, URL-encoded. */}}',
        f'{{{{ define "{SILENCE_URL}" }}}}{silence_base}/#/silences/new?filter=%7B'
        "{{ range $i, $p := .Labels.SortedPairs }}{{ if $i }}%2C{{ end }}"
        "{{ $p.Name }}%3D%22{{ $p.Value | urlquery }}%22{{ end }}%7D{{ end }}",
        "",
        *_alert_and_text(ALERT, TEXT, ""),
        "{{/* Slack reads <...> as links and mentions and & as an entity: escaped. */}}",
        _title(SLACK_TITLE, slack),
        "",
        *_alert_and_text(SLACK_ALERT, SLACK_TEXT, slack),
        f'{{{{ define "{PAGERDUTY_DESCRIPTION}" }}}}{{{{ .CommonLabels.alertname }}}}: '
        f"{{{{ with index .Alerts 0 }}}}{{{{ {summary} }}}}{{{{ end }}}}"
        "{{ if gt (len .Alerts.Firing) 1 }} (+{{ len .Alerts.Firing }} firing){{ end }}"
        "{{ end }}",
        "",
        f'{{{{ define "{EMAIL_SUBJECT}" }}}}{{{{ template "{TITLE}" . }}}}{{{{ end }}}}',
        "",
        f'{{{{ define "{EMAIL_TEXT}" }}}}{{{{ template "{TEXT}" . }}}}{{{{ end }}}}',
        "",
        f'{{{{ define "{EMAIL_HTML}" }}}}<!DOCTYPE html>\n<html><body>\n'
        f'<h2>{{{{ template "{TITLE}" . }}}}</h2>\n'
        "{{ range .Alerts.Firing }}<div>\n"
        f"<h3>{{{{ {summary} }}}}</h3>\n"
        f"<p>{{{{ {description} }}}}</p>\n"
        "<p>{{ range .Labels.SortedPairs }}<code>{{ .Name }}={{ .Value }}</code> {{ end }}</p>\n"
        "<p>"
        f'{{{{ with {runbook} }}}}<a href="{{{{ . }}}}">Runbook</a> | {{{{ end }}}}'
        f'{{{{ with {dashboard} }}}}<a href="{{{{ . }}}}">Dashboard</a> | {{{{ end }}}}'
        f'<a href="{silence_base}/#/silences/new?filter=%7B'
        "{{ range $i, $p := .Labels.SortedPairs }}{{ if $i }}%2C{{ end }}"
        '{{ $p.Name }}%3D%22{{ $p.Value }}%22{{ end }}%7D">Silence</a>'
        "</p>\n</div>{{ end }}\n"
        "{{ if .Alerts.Resolved }}<h3>Resolved</h3><ul>"
        f"{{{{ range .Alerts.Resolved }}}}<li>{{{{ {summary} }}}}</li>{{{{ end }}}}"
        "</ul>{{ end }}\n</body></html>{{ end }}",
        "",
    ]
    return "\n".join(lines)


def render(plan: Plan) -> dict[str, str]:
    return {C.ALERTMANAGER_TEMPLATE: template_text(plan)}
