"""The domain model every renderer reads: a validated, resolved plan of the whole service.

Selectors are expanded, durations are seconds, numbers are exact, links are absolute and every
cross-reference is known to exist. Renderers never see the wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from bzzzmon import conventions as C
from bzzzmon.promql.duration import format_duration
from bzzzmon.slo.windows import BASE_WINDOW as BASE_WINDOW_SECONDS


@dataclass(frozen=True)
class Origin:
    """Where a thing was declared: the spec file (relative, as shown in headers), line, column."""

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Swarm:
    agent_service: str
    agent_port: int
    exporter_service: str
    exporter_port: int


@dataclass(frozen=True)
class ExporterWeb:
    """The TLS and basic auth Prometheus scrapes the exporter with (secrets as file paths)."""

    scheme: str  # http | https
    ca_file: str
    server_name: str
    username: str
    password_file: str


@dataclass(frozen=True)
class Service:
    name: str
    labels: dict[str, str]
    selectors: dict[str, dict[str, str]]
    swarm: Swarm | None
    runbook_url: str
    grafana_url: str
    alertmanager_url: str
    alert_prefix: str = ""
    exporter_web: ExporterWeb | None = None
    # The selectors ``service.selectors`` declares (the others are top-level, shared ones): each
    # with a ``job`` matcher is a scrape job of the service.
    own_selectors: tuple[str, ...] = ()

    def matchers(self, selector: str) -> dict[str, str]:
        return self.selectors.get(selector, {})

    @property
    def watchdog_alert(self) -> str:
        return C.watchdog_alert(self.alert_prefix)


@dataclass(frozen=True)
class Severity:
    name: str  # P0..P3
    title: str
    meaning: str
    response_time: int  # seconds
    resolution_target: int  # seconds
    receivers: tuple[str, ...]
    escalate_to: tuple[str, ...]


@dataclass(frozen=True)
class Receiver:
    name: str
    kind: Literal["pagerduty", "slack", "email", "webhook"]
    settings: dict[str, Any]  # the wire fields of that kind, secrets only as *_file paths
    origin: Origin


@dataclass(frozen=True)
class InhibitMatch:
    """One side of an inhibition. ``alertnames``, ``components`` and ``slos`` are alternatives (an
    alert named by any of them is on this side); ``alert_kind``, ``tiers`` and ``severities``
    narrow every alternative. See ``bzzzmon.render.alertmanager.inhibit``."""

    alertnames: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    slos: tuple[str, ...] = ()
    alert_kind: str | None = None
    tiers: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Inhibition:
    name: str
    source: InhibitMatch
    target: InhibitMatch
    equal: tuple[str, ...]
    # Also hide targets as or more severe than the source (explanations always do).
    any_severity: bool = False
    # Seconds the inhibition outlasts the source (an explanation's hold; 0: plain inhibition).
    hold: int = 0
    explanation: bool = False
    # Seconds ahead an explanation also holds for its cause's burn tiers predicted to cross
    # (bzzzmon.render.escalation; 0: no prediction).
    lead: int = 0
    any_instance: bool = False  # a per-agent source that explains every agent's targets
    origin: Origin | None = None


@dataclass(frozen=True)
class TimeRange:
    weekdays: tuple[str, ...]
    start: str
    end: str
    location: str


@dataclass(frozen=True)
class MaintenanceWindow:
    name: str
    mute: tuple[str, ...]
    times: tuple[TimeRange, ...]


@dataclass(frozen=True)
class TeamRoute:
    name: str
    components: tuple[str, ...]
    receivers: tuple[str, ...]


@dataclass(frozen=True)
class Routing:
    group_by: tuple[str, ...]
    heartbeat_receiver: str | None
    escalate: tuple[str, ...]
    inhibitions: tuple[Inhibition, ...]
    maintenance_windows: tuple[MaintenanceWindow, ...]
    teams: tuple[TeamRoute, ...]
    catch_all: tuple[str, ...] = ()  # receivers of alerts with no or an unknown severity
    escalation_tolerance: int | None = None  # seconds; None: a tenth of each resolution target


@dataclass(frozen=True)
class ExporterSettings:
    probe_interval: int
    probe_timeout: int
    max_result_age: int
    concurrency: int
    jitter: Decimal
    max_body_bytes: int


@dataclass(frozen=True)
class DnsTarget:
    name: str
    port: int


@dataclass(frozen=True)
class Probe:
    name: str
    type: str  # health_checks | health | http_status | tcp | file
    component: str | None
    path: str
    expect_status: tuple[int, ...]
    static: tuple[str, ...]
    dns: tuple[DnsTarget, ...]
    files: tuple[str, ...] = ()  # file probes: absolute patterns such as /backups/bzzz_*.sql.gz


@dataclass(frozen=True)
class Component:
    name: str
    title: str
    weight: Decimal
    runbook_url: str
    checks: tuple[str, ...]
    probes: tuple[Probe, ...]
    origin: Origin


@dataclass(frozen=True)
class SLI:
    """An SLI reduced to two PromQL expressions at the base window, plus what feeds them.

    ``bad`` and ``total`` are events per second (already ``sum by (group_by)``). ``raw`` is the
    expression whose absence means the SLI has no data at all (the missing-data alert).
    """

    kind: Literal["ratio", "latency", "time", "promql"]
    raw: str
    # The user's inputs, expanded, for documents, dashboards and tests.
    inputs: dict[str, str]
    # Bad and total events per second over each window read from the raw series, the 5m base
    # window among them: seconds -> (bad, total).
    rates: dict[int, tuple[str, str]]

    @property
    def bad(self) -> str:
        return self.rates[BASE_WINDOW_SECONDS][0]

    @property
    def total(self) -> str:
        return self.rates[BASE_WINDOW_SECONDS][1]


@dataclass(frozen=True)
class BurnTier:
    name: str
    long: int
    short: int
    budget_percent: Decimal
    factor: Fraction
    severity: str
    for_: int
    kind: Literal["page", "ticket"] = "page"
    # More urgent tiers of the same SLO: this one stays quiet while any of them fired within
    # this tier's short window, so one incident notifies once.
    suppressed_by: tuple[str, ...] = ()

    @property
    def long_text(self) -> str:
        return format_duration(self.long)

    @property
    def short_text(self) -> str:
        return format_duration(self.short)


@dataclass(frozen=True)
class AuxAlert:
    name: str
    severity: str
    for_: int
    enabled: bool


@dataclass(frozen=True)
class SLO:
    name: str
    title: str
    description: str
    component: str
    objective_percent: Decimal  # 99.9
    objective: Decimal  # 0.999
    budget: Decimal  # 0.001
    period: int
    group_by: tuple[str, ...]
    sli: SLI
    alert_name: str
    tiers: tuple[BurnTier, ...]
    missing_data: AuxAlert
    budget_exhausted: AuxAlert
    windows: tuple[int, ...]  # every recorded error-ratio window, shortest first
    raw_windows: tuple[int, ...]  # the windows read from raw series (``SLI.rates``)
    min_events: int  # a page tier needs this many events in its long window (0: no guard)
    runbook_url: str
    dashboard_uid: str
    dashboard_url: str
    labels: dict[str, str]
    origin: Origin
    first_steps: tuple[str, ...] = ()

    @property
    def period_text(self) -> str:
        return format_duration(self.period)

    @property
    def budget_fraction(self) -> Fraction:
        return Fraction(self.budget)

    @property
    def raw_guard_window(self) -> int | None:
        """The longest long window of a guarded page tier read from the raw counters (page-fast's
        1h). On a history shorter than it, a tier with a longer window holds the same events, so
        it needs this window's guard too (bzzzmon.render.rules.tier_expr)."""
        if not self.min_events:
            return None
        raw = [t.long for t in self.tiers if t.kind == "page" and t.long in self.raw_windows]
        return max(raw, default=None)

    @property
    def component_from_data(self) -> bool:
        """Grouped by ``component``: an SLO of no component of its own (the exporter's health
        checks) whose series and alerts carry the component of the data (the checked one)."""
        return C.LABEL_COMPONENT in self.group_by

    @property
    def own_labels(self) -> dict[str, str]:
        """``slo`` and ``component`` as its generated series and alerts carry them; a
        component from the data is not overwritten."""
        own = {C.LABEL_SLO: self.name}
        if not self.component_from_data:
            own[C.LABEL_COMPONENT] = self.component
        return own


@dataclass(frozen=True)
class Alert:
    """A threshold (or plain-condition) alert."""

    name: str
    component: str
    severity: str
    value_expr: str  # the expanded `expr`
    op: str | None
    threshold: Decimal | None
    expr: str  # the full alerting condition
    for_: int
    summary: str
    description: str
    runbook_url: str
    dashboard_uid: str
    dashboard_url: str
    labels: dict[str, str]
    origin: Origin
    first_steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    service: Service
    severities: tuple[Severity, ...]
    receivers: tuple[Receiver, ...]
    routing: Routing
    exporter: ExporterSettings
    components: tuple[Component, ...]
    probes: tuple[Probe, ...]  # probes that span components (health_checks)
    slos: tuple[SLO, ...]
    alerts: tuple[Alert, ...]
    spec_files: tuple[str, ...]
    origins: dict[str, tuple[str, ...]] = field(default_factory=dict)  # section -> files
    # Every metric expressions may use, with its type: the BZZZ agent and exporter contracts, the
    # standard Prometheus series, and what the spec's `metrics` section declares.
    metrics: dict[str, str] = field(default_factory=dict)
    # Where each top-level section and each of its keys is written (``service``,
    # ``service.runbook_url``, ``severities.P1``, ``metrics``): what a lint finding points at.
    keys: dict[str, Origin] = field(default_factory=dict)
    # What the user's own promtool tests (the spec directory's tests/) expect to fire:
    # (alertname, burn tier or None). The lint calls none of these untested.
    hand_tested: frozenset[tuple[str, str | None]] = frozenset()

    def key_origin(self, key: str, section: str | None = None) -> Origin:
        """Where ``key`` (dotted) is set, else its nearest written parent, else the first file
        declaring ``section`` (the key's first part), else the ``service`` key."""
        parts = key.split(".")
        while parts:
            found = self.keys.get(".".join(parts))
            if found is not None:
                return found
            parts.pop()
        files = self.files_of(section or key.split(".")[0])
        if files:
            return Origin(files[0])
        # An undeclared section is added beside the service it belongs to.
        return self.keys.get("service") or Origin((self.spec_files or ("spec",))[0])

    def severity(self, name: str) -> Severity:
        return next(s for s in self.severities if s.name == name)

    def receiver(self, name: str) -> Receiver:
        return next(r for r in self.receivers if r.name == name)

    def component(self, name: str) -> Component:
        return next(c for c in self.components if c.name == name)

    @property
    def probed(self) -> bool:
        """Whether the spec declares probes: only then do the exporter, its config, dashboard
        and component weights take part (a plain HTTP service has none of them)."""
        return bool(self.probes) or any(c.probes or c.checks for c in self.components)

    def files_of(self, *sections: str) -> tuple[str, ...]:
        """Spec files that declare any of ``sections`` (for generated-file headers)."""
        found: set[str] = set()
        for s in sections:
            found.update(self.origins.get(s, ()))
        return tuple(sorted(found))


def lead_tiers(cause: InhibitMatch, slos: tuple[SLO, ...]) -> list[tuple[SLO, BurnTier]]:
    """The burn tiers an explanation's ``lead`` predicts: those of the SLO alert its cause names
    (``alertname`` and ``tiers``, narrowed by ``severities``), in the SLO's order."""
    if len(cause.alertnames) != 1 or not cause.tiers or cause.components or cause.slos:
        return []
    if cause.alert_kind not in (None, "burn_rate"):
        return []
    return [
        (slo, tier)
        for slo in slos
        if slo.alert_name == cause.alertnames[0]
        for tier in slo.tiers
        if tier.name in cause.tiers and (not cause.severities or tier.severity in cause.severities)
    ]


def alert_static_labels(slo: SLO, service_labels: dict[str, str]) -> dict[str, str]:
    """The labels every burn alert of ``slo`` carries whatever its series: those the alerting
    rules add (bzzzmon.render.rules); a prediction from the recorded ratios lacks them."""
    return service_labels | slo.own_labels | slo.labels
