"""The versioned wire format of a spec file (``apiVersion: bzzzmon/v1``).

These models describe exactly what a user may write; they check shapes and single values.
Cross-references (a component an SLO names, a receiver a severity names) are checked when the
files are merged into a plan (see ``bzzzmon.spec.plan``). ``bzzzmon schema`` prints the JSON Schema
generated from these models.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bzzzmon.promql.duration import parse_duration
from bzzzmon.spec import safety

NAME_PATTERN = r"^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$"
ALERT_NAME_PATTERN = r"^[A-Z][A-Za-z0-9]*$"
LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"


MAX_DURATION = 10 * 365 * 86400


def _duration(value: str) -> str:
    if parse_duration(value) > MAX_DURATION:
        raise ValueError(f"'{value}' is longer than 10 years")
    return value


Duration = Annotated[
    str,
    AfterValidator(_duration),
    Field(
        description="A Prometheus duration: a number and a unit (s, m, h, d, w), e.g. 5m, 1h30m",
        json_schema_extra={"pattern": r"^([0-9]+[smhdwy])+$"},
    ),
]
# A number: the loader range-checks unquoted ones; a quoted one ("1e400") is checked here.
Number = Annotated[Decimal, BeforeValidator(safety.check_number)]
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=63)]
AlertName = Annotated[str, Field(pattern=ALERT_NAME_PATTERN, max_length=100)]
LabelName = Annotated[str, Field(pattern=LABEL_NAME_PATTERN)]
Severity = Literal["P0", "P1", "P2", "P3"]
Anchor = Annotated[
    str,
    Field(pattern=r"^#[A-Za-z0-9._-]+$", description="A heading anchor in the runbook, e.g. #dht"),
]
Labels = dict[LabelName, str]
HostPort = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]+:[0-9]{1,5}$")]
# Labels the spec puts on alerts, and labels alerts are grouped by (see bzzzmon.spec.safety).
AlertLabels = dict[Annotated[LabelName, AfterValidator(safety.check_alert_label)], str]
GroupLabel = Annotated[LabelName, AfterValidator(safety.check_group_label)]
SliGroupLabel = Annotated[LabelName, AfterValidator(safety.check_sli_group_label)]
GroupLabels = Annotated[list[GroupLabel], AfterValidator(safety.check_unique)]
Url = Annotated[
    str,
    AfterValidator(safety.check_url),
    Field(description="An absolute http(s) URL without credentials"),
]
SecretFile = Annotated[
    str,
    AfterValidator(safety.check_secret_file),
    Field(description="Absolute path of a file holding the secret (e.g. a Docker secret)"),
]
OptionalSecretFile = Annotated[str, AfterValidator(safety.check_optional_secret_file)]
SwarmService = Annotated[str, Field(pattern=safety.SWARM_SERVICE_PATTERN)]
FirstSteps = Annotated[
    list[Annotated[str, AfterValidator(safety.check_step)]],
    Field(
        max_length=8,
        description="What on-call does first, in order, one line each (the alert catalog lists "
        "them under the alert, with its runbook link); rendered literally, not a template",
    ),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


# --- service ---------------------------------------------------------------------------------
class Swarm(Strict):
    agent_service: SwarmService = Field(description="Docker Swarm service of the BZZZ agents")
    agent_port: int = Field(8081, ge=1, le=65535)
    exporter_service: SwarmService = Field(
        description="Docker Swarm service of the bzzzmon exporter"
    )
    exporter_port: int = Field(9109, ge=1, le=65535)


SelectorName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class ExporterWeb(Strict):
    """How Prometheus scrapes the exporter: as the exporter's web config (``--web-config``,
    exporter-toolkit's format) enables TLS and basic auth. Secrets by file only."""

    scheme: Literal["http", "https"] = "https"
    ca_file: OptionalSecretFile = Field(
        "", description="CA certificate that signed the exporter's (default: the system's)"
    )
    server_name: str = Field(
        "",
        pattern=r"^([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)?$",
        description="Name the exporter's certificate is for (Swarm targets are addresses)",
    )
    username: str = Field("", pattern=r"^[A-Za-z0-9._@-]*$")
    password_file: OptionalSecretFile = ""

    @model_validator(mode="after")
    def _consistent(self) -> ExporterWeb:
        if bool(self.username) != bool(self.password_file):
            raise ValueError("basic auth needs both username and password_file")
        if self.scheme == "http" and (self.ca_file or self.server_name):
            raise ValueError("ca_file and server_name are TLS settings: they need scheme https")
        return self


class Service(Strict):
    name: Name
    labels: AlertLabels = Field(default_factory=dict, description="Static labels on every alert")
    selectors: dict[SelectorName, Labels] = Field(
        default_factory=dict,
        description="Named label matchers; write `$name` inside a selector's braces to use one",
    )
    swarm: Swarm | None = None
    exporter_web: ExporterWeb | None = Field(
        None, description="TLS and basic auth Prometheus scrapes the exporter with"
    )
    runbook_url: Url = Field(
        "", description="The runbook document; alert `runbook` anchors are appended to it"
    )
    grafana_url: Url = Field("", description="Grafana base URL for dashboard links")
    alertmanager_url: Url = Field("", description="Alertmanager base URL for silence links")
    alert_prefix: str | None = Field(
        None,
        pattern=r"^[A-Z][A-Za-z0-9]*$",
        description="Prefix every alert name starts with (default: the service name in capitals)",
    )


class SeveritySpec(Strict):
    title: str
    meaning: str = ""
    response_time: Duration
    resolution_target: Duration
    receivers: list[Name] = Field(min_length=1)
    escalate_to: list[Name] = Field(default_factory=list)


# --- receivers -------------------------------------------------------------------------------
class PagerDuty(Strict):
    routing_key_file: SecretFile


class Slack(Strict):
    channel: Annotated[str, AfterValidator(safety.check_slack_channel)]
    api_url_file: SecretFile
    mention: list[Annotated[str, AfterValidator(safety.check_slack_mention)]] = Field(
        default_factory=list,
        description="People or groups mentioned above each message in the channel "
        "('@handle', '<@U…>', '<!subteam^S…>', '<!here>'), so they are notified",
    )


class Email(Strict):
    to: Annotated[str, AfterValidator(safety.check_addresses)]
    from_: Annotated[str, AfterValidator(safety.check_address)] = Field(alias="from")
    smarthost: HostPort
    auth_username: str = Field("", pattern=r"^[^\s{}]*$")
    auth_password_file: OptionalSecretFile = ""
    require_tls: bool = True


class Webhook(Strict):
    url: Annotated[str, AfterValidator(safety.check_webhook_url)]
    credentials_file: OptionalSecretFile = ""
    max_alerts: int = Field(0, ge=0)


class Receiver(Strict):
    name: Name
    pagerduty: PagerDuty | None = None
    slack: Slack | None = None
    email: Email | None = None
    webhook: Webhook | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Receiver:
        kinds = [k for k in ("pagerduty", "slack", "email", "webhook") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError("a receiver has exactly one of: pagerduty, slack, email, webhook")
        return self


# --- routing ---------------------------------------------------------------------------------
AlertKind = Literal["burn_rate", "missing_data", "budget_exhausted", "threshold", "escalation"]


class InhibitSource(Strict):
    alertname: AlertName | None = None
    alert_kind: AlertKind | None = None
    tiers: list[Name] = Field(default_factory=list)
    severities: list[Severity] = Field(default_factory=list)


class InhibitTarget(Strict):
    alertnames: list[AlertName] = Field(default_factory=list)
    components: list[Name] = Field(default_factory=list)
    slos: list[Name] = Field(default_factory=list)
    alert_kind: AlertKind | None = None
    tiers: list[Name] = Field(default_factory=list)
    severities: list[Severity] = Field(default_factory=list)


class Inhibition(Strict):
    name: Name
    source: InhibitSource
    target: InhibitTarget
    equal: GroupLabels = Field(default_factory=lambda: ["service"])
    any_severity: bool = Field(
        default=False,
        description="Also inhibit targets of the source's severity or a higher one (by default "
        "an inhibition only hides alerts less severe than its source)",
    )
    any_instance: bool = Field(
        default=False,
        description="The source is per agent (instance, Swarm node) but explains the targets "
        "of every agent, e.g. the one exporter; without it the lint asks for the agent label in "
        "equal",
    )


class Explanation(Strict):
    """One incident, several alerts: while ``cause`` fires (and for ``hold`` after), the alerts
    it ``explains`` notify nobody, whatever their severity; the cause's notification stands for
    them."""

    name: Name
    cause: InhibitSource
    explains: InhibitTarget
    equal: GroupLabels = Field(default_factory=lambda: ["service"])
    any_instance: bool = Field(default=False, description="As in an inhibition")
    hold: Duration | None = Field(
        default=None,
        description="How long the explanation outlasts the cause, so the explained alerts' own "
        "reset does not notify after the incident (default: the longest short window of the burn "
        "tiers it explains plus 5m, 0 when it explains no burn tier)",
    )
    lead: Duration | None = Field(
        default=None,
        description="Also hold while a burn tier the cause names is predicted to cross its "
        "threshold within this long at the current burn (its short window above the threshold "
        "now), so an explained alert quicker than the page's long window stays quiet; only for "
        "a cause naming the burn-rate tiers of an SLO alert",
    )


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ClockTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-4]):[0-5][0-9]$")]


class TimeRange(Strict):
    weekdays: list[Weekday] = Field(default_factory=list)
    start: ClockTime
    end: ClockTime
    location: str = "UTC"


class MaintenanceWindow(Strict):
    name: Name
    mute: list[Severity] = Field(min_length=1)
    times: list[TimeRange] = Field(min_length=1)


class TeamRoute(Strict):
    """Send a set of components' alerts to a team's receivers in addition to the severity's."""

    name: Name
    components: list[Name] = Field(min_length=1)
    receivers: list[Name] = Field(min_length=1)


class Routing(Strict):
    group_by: GroupLabels = Field(default_factory=lambda: ["alertname", "service"])
    heartbeat_receiver: Name | None = None
    escalate: list[Severity] = Field(default_factory=list)
    escalation_tolerance: Duration | None = Field(
        default=None,
        description="Not firing for this long in total (flaps) within the resolution target "
        "plus it does not restart the escalation clock (default: a tenth of the target, at "
        "least 1m)",
    )
    inhibitions: list[Inhibition] = Field(default_factory=list)
    explains: list[Explanation] = Field(default_factory=list)
    catch_all: list[Name] = Field(
        default_factory=list,
        description="Receivers of alerts with no or an unknown severity (the last route)",
    )
    maintenance_windows: list[MaintenanceWindow] = Field(default_factory=list)
    teams: list[TeamRoute] = Field(default_factory=list)


# --- exporter, components, probes ------------------------------------------------------------
class ExporterSettings(Strict):
    probe_interval: Duration = "15s"
    probe_timeout: Duration = "5s"
    max_result_age: Duration = "60s"
    concurrency: int = Field(64, ge=1, le=4096)
    jitter: Number = Field(Decimal("0.1"), ge=0, le=1)
    max_body_bytes: int = Field(1048576, ge=1024, le=1 << 30)


class DnsTarget(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    port: int = Field(ge=1, le=65535)


class Targets(Strict):
    static: list[HostPort] = Field(default_factory=list)
    dns: list[DnsTarget] = Field(default_factory=list)
    # file probes: an absolute directory, then a file name pattern (bzzz_*.sql.gz)
    files: list[str] = Field(default_factory=list)


ProbeType = Literal["health_checks", "health", "http_status", "tcp", "file"]


class Probe(Strict):
    name: Name
    type: ProbeType
    component: Name | None = None
    path: str = Field("", pattern=r"^(/[^\s]*)?$")
    expect_status: list[int] = Field(default_factory=list)
    targets: Targets


class Component(Strict):
    name: Name
    title: str = ""
    weight: Number = Field(
        Decimal(1),
        ge=0,
        le=1000,
        description="Share of the exporter's health score; only probed components have one",
    )
    runbook: Anchor | None = None
    checks: list[str] = Field(default_factory=list)
    probes: list[Probe] = Field(default_factory=list)


# --- SLOs ------------------------------------------------------------------------------------
class RatioSLI(Strict):
    bad: str | None = Field(None, description="Counter selector of bad events")
    good: str | None = Field(None, description="Counter selector of good events")
    total: str = Field(description="Counter selector of all events")

    @model_validator(mode="after")
    def _one_of(self) -> RatioSLI:
        if (self.bad is None) == (self.good is None):
            raise ValueError("a ratio SLI has exactly one of 'bad' or 'good', and 'total'")
        return self


class LatencySLI(Strict):
    histogram: str = Field(description="Histogram selector without suffix, e.g. x_seconds{$agent}")
    threshold: Number = Field(gt=0, description="Bucket bound (le) a good event stays under")


class TimeSLI(Strict):
    expr: str = Field(description="Gauge expression compared at every evaluation")
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    threshold: Number


_WINDOWED = (
    "with the window placeholder {{.window}} where the range goes, e.g. "
    "sum(rate(x_total[{{.window}}])); expanded by bzzzmon per window, not a template"
)


class PromQLSLI(Strict):
    """Bad (or good) and total events as PromQL with the window left open, for what the other
    kinds cannot say (the shape of Sloth's ``errorQuery``/``totalQuery``)."""

    bad: str | None = Field(None, description=f"PromQL of bad events, {_WINDOWED}")
    good: str | None = Field(None, description=f"PromQL of good events, {_WINDOWED}")
    total: str = Field(description=f"PromQL of all events, {_WINDOWED}")

    @model_validator(mode="after")
    def _one_of(self) -> PromQLSLI:
        if (self.bad is None) == (self.good is None):
            raise ValueError("a promql SLI has exactly one of 'bad' or 'good', and 'total'")
        return self


class SLI(Strict):
    ratio: RatioSLI | None = None
    latency: LatencySLI | None = None
    time: TimeSLI | None = None
    promql: PromQLSLI | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SLI:
        kinds = (self.ratio, self.latency, self.time, self.promql)
        if sum(x is not None for x in kinds) != 1:
            raise ValueError("an SLI has exactly one of: ratio, latency, time, promql")
        return self


class TierSpec(Strict):
    name: Name
    long: Duration
    short: Duration
    budget_percent: Number = Field(gt=0, le=100)
    severity: Severity
    for_: Duration | None = Field(None, alias="for")
    kind: Literal["page", "ticket"] | None = Field(
        None,
        description="page tiers read raw counters and take the low-traffic guard; default: "
        "page when the severity is the SLO's page severity",
    )


class AuxAlert(Strict):
    name: AlertName | None = None
    severity: Severity | None = None
    for_: Duration | None = Field(None, alias="for")
    enabled: bool = True


class SLOAlerting(Strict):
    name: AlertName | None = Field(
        None, description="Default: the alert prefix, the SLO's name in CamelCase, BudgetBurn"
    )
    page: Severity = "P1"
    ticket: Severity = "P2"
    tiers: list[TierSpec] | None = Field(
        None, description="Replace the default multiwindow tiers derived from the period"
    )
    missing_data: AuxAlert = Field(default_factory=lambda: AuxAlert())
    budget_exhausted: AuxAlert = Field(default_factory=lambda: AuxAlert())
    min_events: int | None = Field(
        None,
        ge=0,
        le=10**12,
        description="Events a page tier's long window must hold before it may page (the "
        "low-traffic guard; 0 turns it off). Default 100. Ratio and latency SLIs only.",
    )
    runbook: Anchor | None = None
    first_steps: FirstSteps = Field(default_factory=list)
    labels: AlertLabels = Field(default_factory=dict)


class SLO(Strict):
    name: Name
    component: Name | None = Field(None, description="Default: the service's name")
    title: str = ""
    description: str = ""
    objective: Number = Field(gt=0, lt=100, description="Target percentage, e.g. 99.9")
    period: Duration = "30d"
    group_by: Annotated[list[SliGroupLabel], AfterValidator(safety.check_unique)] = Field(
        default_factory=list
    )
    sli: SLI
    alerting: SLOAlerting = Field(default_factory=lambda: SLOAlerting())
    labels: AlertLabels = Field(default_factory=dict)


# --- threshold alerts ------------------------------------------------------------------------
class AlertSpec(Strict):
    name: AlertName
    component: Name | None = Field(None, description="Default: the service's name")
    severity: Severity
    expr: str
    op: Literal["<", "<=", ">", ">=", "==", "!="] | None = None
    threshold: Number | None = None
    for_: Duration | None = Field(None, alias="for")
    summary: Annotated[str, AfterValidator(safety.check_text)]
    description: Annotated[
        str,
        AfterValidator(safety.check_text),
        Field(description="A Prometheus template: {{ $value }}, {{ $labels.instance }}"),
    ]
    runbook: Anchor | None = None
    dashboard: str = Field("overview", pattern=r"^(overview|exporter|slo:[a-z0-9-]+)$")
    first_steps: FirstSteps = Field(default_factory=list)
    labels: AlertLabels = Field(default_factory=dict)

    @model_validator(mode="after")
    def _op_and_threshold(self) -> AlertSpec:
        if (self.op is None) != (self.threshold is None):
            raise ValueError("'op' and 'threshold' go together: give both or neither")
        return self


# --- the file --------------------------------------------------------------------------------
class SpecFile(Strict):
    """One file under specs/. Sections may be spread over files; names are unique across them."""

    apiVersion: Literal["bzzzmon/v1"]
    service: Service | None = None
    severities: dict[Severity, SeveritySpec] | None = None
    receivers: list[Receiver] = Field(default_factory=list)
    routing: Routing | None = None
    exporter: ExporterSettings | None = None
    components: list[Component] = Field(default_factory=list)
    probes: list[Probe] = Field(default_factory=list)
    slos: list[SLO] = Field(default_factory=list)
    alerts: list[AlertSpec] = Field(default_factory=list)
    selectors: dict[SelectorName, Labels] = Field(
        default_factory=dict,
        description="More named label matchers, merged with service.selectors (e.g. the jobs of "
        "the exporters a file's alerts read); each name is declared once across all files",
    )
    metrics: dict[
        Annotated[str, Field(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")],
        Literal["counter", "gauge", "histogram", "summary"],
    ] = Field(
        default_factory=dict,
        description="Metrics the service exposes beyond the BZZZ and exporter contracts, with "
        "their types; the lint checks every expression against them",
    )
