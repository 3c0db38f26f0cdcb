"""``bzzzmon silence add|list|expire``: Alertmanager silences through its v2 API.

A maintenance window, for example::

    bzzzmon silence add service=bzzz severity=~"P2|P3" --start 2026-11-29T02:00:00Z \\
        --duration 2h --comment "weekly maintenance" --author ops

A silence on an alert also silences its escalation (the escalation reaches Alertmanager under the
alert's name with ``escalation="true"``); a matcher on an escalation rule's own name
(``alertname=BZZZP0ResolutionTargetMissed``), which would match nothing, is refused with a hint.

The Alertmanager is ``--alertmanager URL``, else the spec's ``service.alertmanager_url`` when
``--specs DIR`` is given, else http://127.0.0.1:9093. Unreachable or refusing Alertmanager and bad
input exit with status 2 and a message, never a traceback.
"""

from __future__ import annotations

import getpass
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from bzzzmon.alertmanager_api import (
    DEFAULT_URL,
    AlertmanagerClient,
    AlertmanagerError,
    MatcherError,
    Silence,
    SilenceMatcher,
    parse_matcher,
)
from bzzzmon.cli.common import F, fail
from bzzzmon.promql.duration import DurationError, parse_duration
from bzzzmon.spec.services import load_services


def _target_options(func: F) -> F:
    func = click.option(
        "--specs",
        "specs",
        type=click.Path(path_type=Path),
        help="Spec directory whose service.alertmanager_url is the default Alertmanager.",
    )(func)
    func = click.option(
        "--alertmanager",
        "alertmanager",
        envvar="BZZZMON_ALERTMANAGER_URL",
        help=f"Alertmanager base URL (default: the spec's, else {DEFAULT_URL}).",
    )(func)
    return func


def alertmanager_url(alertmanager: str | None, specs: Path | None) -> str:
    if alertmanager:
        return alertmanager
    if specs is not None:
        # A bad spec is reported by the command group. Every service of a directory of several
        # is served by one Alertmanager (the build refuses different URLs): any service's.
        urls = sorted({p.service.alertmanager_url for p in load_services(specs).plans})
        if len(urls) > 1:
            fail(f"--specs {specs}: its services set different alertmanager_url values")
        if urls[0]:
            return urls[0]
    return DEFAULT_URL


# The escalation rules' own names (spec/names.py escalation_alert_name), which Alertmanager never
# sees: Prometheus relabels an escalation to the name of the alert it escalates.
_ESCALATION_NAME = re.compile(r"^[A-Za-z0-9_]*?(P[0-3])ResolutionTargetMissed$")


def _matchers(texts: tuple[str, ...]) -> list[SilenceMatcher]:
    try:
        return [parse_matcher(t) for t in texts]
    except MatcherError as exc:
        fail(str(exc))


def _check_escalation_names(matchers: list[SilenceMatcher]) -> None:
    """A silence on an escalation rule's name would match nothing: say what does."""
    for m in matchers:
        found = _ESCALATION_NAME.match(m.value) if m.name == "alertname" else None
        if found and m.is_equal and not m.is_regex:
            fail(
                f"alertname={m.value} never reaches Alertmanager: an escalation arrives under the "
                f'name of the alert it escalates, with escalation="true"; a silence of that '
                f"alert covers its escalation, or silence escalation=true severity={found[1]}"
            )


def _start(text: str) -> datetime:
    if text == "now":
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--start '{text}' is not a time; use RFC 3339 (2026-11-29T02:00:00Z) or 'now'")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.group(name="silence")
def silence() -> None:
    """Create, list and expire Alertmanager silences (v2 API)."""


@silence.command(name="add")
@click.argument("matchers", nargs=-1, required=True)
@click.option("--start", default="now", show_default=True, help="RFC 3339 time (UTC if no zone).")
@click.option("--duration", required=True, help="How long, as a duration: 30m, 2h, 1d.")
@click.option("--comment", required=True, help="Why (a ticket, the maintenance).")
@click.option("--author", default=None, help="Who (default: the current user).")
@_target_options
def add(
    matchers: tuple[str, ...],
    start: str,
    duration: str,
    comment: str,
    author: str | None,
    alertmanager: str | None,
    specs: Path | None,
) -> None:
    """Silence alerts matching MATCHERS (name=value, name!=value, name=~regex, name!~regex)."""
    parsed = _matchers(matchers)
    _check_escalation_names(parsed)
    starts_at = _start(start)
    try:
        length = parse_duration(duration)
    except DurationError as exc:
        fail(f"--duration: {exc}")
    who = author or getpass.getuser()
    url = alertmanager_url(alertmanager, specs)
    try:
        with AlertmanagerClient(url) as client:
            silence_id = client.create_silence(
                parsed, starts_at, starts_at + timedelta(seconds=length), who, comment
            )
    except AlertmanagerError as exc:
        fail(str(exc))
    click.echo(silence_id)


def _row(s: Silence) -> str:
    matchers = ",".join(m.format() for m in s.matchers)
    return "\t".join((s.id, s.state, s.starts_at, s.ends_at, s.created_by, matchers, s.comment))


@silence.command(name="list")
@click.argument("matchers", nargs=-1)
@click.option("--all", "show_all", is_flag=True, help="Include expired silences.")
@_target_options
def list_(
    matchers: tuple[str, ...], show_all: bool, alertmanager: str | None, specs: Path | None
) -> None:
    """List active and pending silences (whose matchers include MATCHERS, if given)."""
    parsed = _matchers(matchers)
    url = alertmanager_url(alertmanager, specs)
    try:
        with AlertmanagerClient(url) as client:
            found = client.list_silences(parsed)
    except AlertmanagerError as exc:
        fail(str(exc))
    shown = [s for s in found if show_all or s.state != "expired"]
    click.echo("\t".join(("ID", "STATE", "STARTS", "ENDS", "CREATED_BY", "MATCHERS", "COMMENT")))
    for s in sorted(shown, key=lambda s: (s.starts_at, s.id)):
        click.echo(_row(s))


@silence.command(name="expire")
@click.argument("ids", nargs=-1, required=True)
@_target_options
def expire(ids: tuple[str, ...], alertmanager: str | None, specs: Path | None) -> None:
    """Expire the silences with these IDS."""
    url = alertmanager_url(alertmanager, specs)
    try:
        with AlertmanagerClient(url) as client:
            for silence_id in ids:
                client.expire_silence(silence_id)
                click.echo(f"expired {silence_id}")
    except AlertmanagerError as exc:
        fail(str(exc))


__all__ = ["silence"]
