"""Checks on spec values that end up in URLs, e-mail headers, file names, label sets and regexes.

The spec is written by many people; what it compiles into runs in Prometheus's and Alertmanager's
template engines and in e-mails, Slack and PagerDuty. These validators make a value that could
break out of its place (or copy a secret into the output) a spec error at its position. The
rules are listed in docs/spec.md ("Hostile and careless specs").
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlsplit

from pydantic_core import PydanticCustomError

from bzzzmon import conventions as C
from bzzzmon.spec.yamlpos import number_problem

# Pydantic error type of these checks: the loader reports the message and hint as they are and
# never echoes the value (it may be a secret).
ERROR_TYPE = "bzzzmon"


def refuse(message: str, hint: str = "") -> NoReturn:
    # Braces would be read as pydantic's message placeholders.
    safe = message.replace("{", "(").replace("}", ")")
    raise PydanticCustomError(ERROR_TYPE, safe, {"hint": hint})


def check_number(value: Any) -> Any:
    """A quoted number gets the same range check as an unquoted one (see yamlpos)."""
    if isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            return value  # pydantic reports it as not a number
        problem = number_problem(d, value)
        if problem is not None:
            refuse(*problem)
    return value


def check_text(value: str) -> str:
    """Text a person reads (a summary, a description): not empty, not just whitespace."""
    if not value.strip():
        refuse("must not be empty or blank", "say what the alert means")
    return value


def check_step(value: str) -> str:
    """A first step of the alert catalog: one line of text a person reads at 3 a.m."""
    check_text(value)
    if "\n" in value.strip() or "\r" in value:
        refuse("a first step is one line", "split it into two steps")
    if len(value) > 300:
        refuse("a first step is at most 300 characters", "say the first action; link the rest")
    return value.strip()


# --- URLs ------------------------------------------------------------------------------------
# RFC 3986 characters minus the ones that break out of an HTML attribute, a Markdown link or a
# Go template: quotes, parentheses, angle brackets, braces, backslash and whitespace.
_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&+,;=%*]+$")
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)$")
# Query parameters that carry credentials by name.
_SECRET_PARAM = re.compile(
    r"(^|[-_.])(token|secret|passw(or)?d|pwd|apikey|key|auth|signature|sig|credentials?|session)$",
    re.IGNORECASE,
)
# Hosts whose URL path itself is the secret (incoming-webhook URLs).
_SECRET_HOSTS = ("hooks.slack.com", "events.pagerduty.com", "outlook.office.com")


def check_url(value: str, secret_field: str = "") -> str:
    """An absolute http(s) URL without whitespace, quotes, credentials or token parameters.

    ``secret_field`` names where a credential belongs instead (the hint of the error)."""
    if value == "":
        return value
    where = (
        f"put the secret in a file and name it in '{secret_field}'"
        if secret_field
        else "links in alerts are read by everyone who gets the alert; link to a page that asks "
        "for a login instead"
    )
    if not _URL_CHARS.match(value) or _PERCENT.search(value):
        refuse(
            "the URL contains a character that is not allowed in a URL "
            "(whitespace, a quote, a bracket, a brace or a backslash)",
            "percent-encode it, e.g. a space as %20",
        )
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        refuse("the URL must start with http:// or https://", "write an absolute http(s) URL")
    if "@" in parts.netloc:
        refuse("the URL carries credentials (user:password@)", where)
    if not parts.hostname or not _HOST.match(parts.netloc.rsplit(":", 1)[0] or "-"):
        refuse("the URL has no valid host name", "e.g. https://grafana.example.com")
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        refuse("the URL has an invalid port")
    for name, _ in parse_qsl(parts.query, keep_blank_values=True):
        if _SECRET_PARAM.search(name):
            refuse(f"the URL has a query parameter '{name}' that looks like a credential", where)
    if parts.hostname.lower() in _SECRET_HOSTS:
        refuse(f"a {parts.hostname} URL is itself a secret", where)
    return value


def check_webhook_url(value: str) -> str:
    return check_url(value, "credentials_file")


def check_optional_secret_file(value: str) -> str:
    return check_secret_file(value) if value else value


def check_secret_file(value: str) -> str:
    """``*_file`` fields name the file holding a secret, never the secret itself."""
    if "://" in value or not value.startswith("/"):
        refuse(
            "a *_file value is the absolute path of a file that holds the secret",
            "e.g. /run/secrets/bzzz_slack_webhook_url; never the secret or URL itself",
        )
    if not re.fullmatch(r"/[A-Za-z0-9._/-]+", value) or "/../" in f"{value}/":
        refuse(
            "a *_file path uses letters, digits, '.', '_', '-' and '/' only, without '..'",
            "e.g. /run/secrets/bzzz_smtp_password",
        )
    return value


# --- e-mail ----------------------------------------------------------------------------------
# A practical addr-spec: no quotes, comments, braces (Alertmanager templates these fields) or
# whitespace, so no header can be smuggled in.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`|~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`|~-]+)*"
_DOMAIN = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+"
_ADDRESS = re.compile(rf"^{_LOCAL}@{_DOMAIN}$")


def check_addresses(value: str) -> str:
    """One e-mail address, or several separated by commas."""
    for part in value.split(","):
        if not _ADDRESS.match(part.strip()):
            refuse(
                "not a valid e-mail address",
                "write name@example.com (several separated by commas), without display names "
                "or line breaks",
            )
    return value


def check_address(value: str) -> str:
    if "," in value or not _ADDRESS.match(value):
        refuse("not a valid e-mail address", "write one address such as alerts@example.com")
    return value


# --- labels ----------------------------------------------------------------------------------
# Labels bzzzmon sets itself on what it generates: a spec label of that name would silently
# override (or be overridden by) the generated one.
RESERVED_LABELS = frozenset(
    {
        "alertname",
        C.LABEL_SLO,
        C.LABEL_COMPONENT,
        C.LABEL_SEVERITY,
        C.LABEL_TIER,
        C.LABEL_WINDOW,
        C.LABEL_ALERT_KIND,
        C.LABEL_ESCALATION,
        C.LABEL_ESCALATED_ALERT,
        C.LABEL_SLI_METRIC,
    }
)


def check_alert_label(name: str) -> str:
    """A label the spec puts on alerts: not one bzzzmon sets, not an internal ``__`` label."""
    if name.startswith("__"):
        refuse(f"label '{name}' is internal to Prometheus (names starting with '__')")
    if name in RESERVED_LABELS:
        refuse(
            f"label '{name}' is set by bzzzmon itself",
            f"reserved: {', '.join(sorted(RESERVED_LABELS))}",
        )
    return name


def check_group_label(name: str) -> str:
    """A label alerts are grouped or compared by: alerts never carry ``__`` labels."""
    if name.startswith("__"):
        refuse(
            f"label '{name}' is internal to Prometheus and never on an alert",
            "group by labels the alerts carry, e.g. alertname, service",
        )
    return name


# The one reserved label an SLI may be grouped by: the component, taken from the data when the
# SLO declares none of its own (bzzzmon.spec.slos checks that).
DATA_GROUP_LABELS = frozenset({C.LABEL_COMPONENT})


def check_sli_group_label(name: str) -> str:
    check_group_label(name)
    if name in RESERVED_LABELS - DATA_GROUP_LABELS:
        refuse(
            f"label '{name}' is set by bzzzmon on the SLO's series; it cannot group the SLI",
            f"reserved: {', '.join(sorted(RESERVED_LABELS))} "
            f"({', '.join(sorted(DATA_GROUP_LABELS))} only in an SLO without one of its own)",
        )
    return name


def check_unique(names: list[str]) -> list[str]:
    """A list of labels Alertmanager reads as a set: it refuses a repeated one."""
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        refuse(f"label '{repeated[0]}' is listed twice", "list each label once")
    return names


# --- names that become file names or regexes -------------------------------------------------
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$")


def safe_file_name(value: str) -> bool:
    """Whether ``value`` can be part of a generated file name (a job -> targets/<job>.yml)."""
    return bool(_FILE_NAME.match(value)) and ".." not in value


SWARM_SERVICE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"

# --- Slack -----------------------------------------------------------------------------------
# A message goes to a channel: Slack's app webhooks ignore any other destination, and legacy
# ones deliver "@user" as a private message nobody else on call sees. People are mentioned in
# the channel instead (``mention``). Neither admits braces: both land in Alertmanager templates.
_SLACK_CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{8,20})$")
_SLACK_MENTION = re.compile(
    r"^(@[A-Za-z0-9][A-Za-z0-9._-]{0,79}|<@[UW][A-Z0-9]{8,20}>|<!subteam\^S[A-Z0-9]{8,20}>"
    r"|<!here>|<!channel>)$"
)


def check_slack_channel(value: str) -> str:
    if value.startswith("@"):
        refuse(
            "a Slack receiver posts to a channel, not to a person",
            f"post to a channel and mention them: channel: '#bzzz-alerts', mention: ['{value}']",
        )
    if not _SLACK_CHANNEL.match(value):
        refuse(
            "a Slack channel is '#name' (lowercase letters, digits, '.', '_', '-') or a channel ID",
            "e.g. channel: '#bzzz-alerts' or channel: C0123ABCD",
        )
    return value


def check_slack_mention(value: str) -> str:
    if not _SLACK_MENTION.match(value):
        refuse(
            "a Slack mention is '@handle', a user '<@U…>', a group '<!subteam^S…>', "
            "'<!here>' or '<!channel>'",
            "e.g. mention: ['@tech-lead'] or mention: ['<!subteam^S0123ABCD>']",
        )
    return value
