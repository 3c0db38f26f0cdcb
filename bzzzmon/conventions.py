"""Every metric, label, rule-group and file name bzzzmon emits or relies on.

Renderers, the exporter, the simulator and the linters import names from here; nothing else spells
them out, so a rename is one edit.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

# --- Spec wire format --------------------------------------------------------------------------
SEVERITIES = ("P0", "P1", "P2", "P3")

# --- BZZZ agent contract (scraped as job bzzz-agent) -------------------------------------------
AGENT_PEERS = "bzzz_p2p_connected_peers"
AGENT_DHT_PUT = "bzzz_dht_put_operations_total"
AGENT_DHT_GET = "bzzz_dht_get_operations_total"
AGENT_DHT_LATENCY = "bzzz_dht_operation_latency_seconds"
AGENT_DHT_REPLICATION = "bzzz_dht_replication_factor"
AGENT_DHT_PROVIDER_RECORDS = "bzzz_dht_provider_records"
AGENT_ELECTION_STATE = "bzzz_election_state"
AGENT_LEADER_CHANGES = "bzzz_election_leader_changes_total"
AGENT_ERRORS = "bzzz_errors_total"
AGENT_PUBSUB_MESSAGES = "bzzz_pubsub_messages_total"
AGENT_SLURP_EVENTS = "bzzz_slurp_events_total"
AGENT_UCXI_RESOLUTIONS = "bzzz_ucxi_resolutions_total"
AGENT_HEALTH_CHECK_NAMES = (
    "pubsub-health",
    "dht-health",
    "election-health",
    "slurp-health",
    "ucxi-health",
)
ELECTION_STATES = ("follower", "candidate", "admin")

# Metric name -> Prometheus type, for the agent's contract. The lint and the dashboard checks use
# this to know what exists and which names are counters.
AGENT_METRICS: dict[str, str] = {
    AGENT_PEERS: "gauge",
    AGENT_DHT_PUT: "counter",
    AGENT_DHT_GET: "counter",
    AGENT_DHT_LATENCY: "histogram",
    AGENT_DHT_REPLICATION: "gauge",
    AGENT_DHT_PROVIDER_RECORDS: "gauge",
    AGENT_ELECTION_STATE: "gauge",
    AGENT_LEADER_CHANGES: "counter",
    AGENT_ERRORS: "counter",
    AGENT_PUBSUB_MESSAGES: "counter",
    AGENT_SLURP_EVENTS: "counter",
    AGENT_UCXI_RESOLUTIONS: "counter",
}

# --- Exporter contract (scraped as job bzzz-exporter) ------------------------------------------
SYSTEM_HEALTH_SCORE = "bzzz_system_health_score"
COMPONENT_HEALTH_SCORE = "bzzz_component_health_score"
HEALTH_CHECKS_PASSED = "bzzz_health_checks_passed_total"
HEALTH_CHECKS_FAILED = "bzzz_health_checks_failed_total"
PROBE_SUCCESS = "bzzz_probe_success"
PROBE_DURATION = "bzzz_probe_duration_seconds"
# The file probe: the newest regular file matching the probe's pattern (label target).
FILE_NEWEST_AGE = "bzzz_file_newest_age_seconds"
FILE_NEWEST_SIZE = "bzzz_file_newest_size_bytes"
# The exporter's own metrics.
EXPORTER_BUILD_INFO = "bzzz_exporter_build_info"
EXPORTER_PROBE_FAILURES = "bzzz_exporter_probe_failures_total"
EXPORTER_LAST_PROBE_TIMESTAMP = "bzzz_exporter_last_probe_timestamp_seconds"
EXPORTER_STALE_PROBES = "bzzz_exporter_stale_probes"
EXPORTER_TARGETS = "bzzz_exporter_targets"
EXPORTER_CONFIG_RELOADS = "bzzz_exporter_config_reloads_total"
EXPORTER_CONFIG_LAST_RELOAD_OK = "bzzz_exporter_config_last_reload_successful"
# How long the latest probe round took (compare with probe_interval).
EXPORTER_ROUND_DURATION = "bzzz_exporter_probe_round_duration_seconds"
# Timed-out probes not counted against their target because the exporter's own loop was starved.
EXPORTER_UNMEASURED_PROBES = "bzzz_exporter_probes_unmeasured_total"
# Failure reasons the exporter counts (label `reason` of EXPORTER_PROBE_FAILURES).
PROBE_FAILURE_REASONS = (
    "timeout",
    "refused",
    "reset",
    "bad_status",
    "malformed",
    "too_large",
    "dns",
    "unhealthy",
    "stale",
    "error",
    # file probes
    "no_file",
    "symlink",
    "unreadable",
)

EXPORTER_METRICS: dict[str, str] = {
    SYSTEM_HEALTH_SCORE: "gauge",
    COMPONENT_HEALTH_SCORE: "gauge",
    HEALTH_CHECKS_PASSED: "counter",
    HEALTH_CHECKS_FAILED: "counter",
    PROBE_SUCCESS: "gauge",
    PROBE_DURATION: "histogram",
    FILE_NEWEST_AGE: "gauge",
    FILE_NEWEST_SIZE: "gauge",
    EXPORTER_BUILD_INFO: "gauge",
    EXPORTER_PROBE_FAILURES: "counter",
    EXPORTER_LAST_PROBE_TIMESTAMP: "gauge",
    EXPORTER_STALE_PROBES: "gauge",
    EXPORTER_TARGETS: "gauge",
    EXPORTER_CONFIG_RELOADS: "counter",
    EXPORTER_CONFIG_LAST_RELOAD_OK: "gauge",
    EXPORTER_ROUND_DURATION: "gauge",
    EXPORTER_UNMEASURED_PROBES: "counter",
}
# The component that stands for the exporter itself (its score says whether probing is current).
EXPORTER_SELF_COMPONENT = "exporter"

# Metrics every Prometheus target or server has.
STANDARD_METRICS: dict[str, str] = {
    "up": "gauge",
    "scrape_duration_seconds": "gauge",
    "scrape_samples_scraped": "gauge",
    "ALERTS": "gauge",
    "ALERTS_FOR_STATE": "gauge",
    "process_resident_memory_bytes": "gauge",
    "process_virtual_memory_bytes": "gauge",
    "process_cpu_seconds_total": "counter",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "process_start_time_seconds": "gauge",
}

# --- Labels ------------------------------------------------------------------------------------
LABEL_SLO = "slo"
LABEL_COMPONENT = "component"
LABEL_SEVERITY = "severity"
LABEL_TIER = "tier"
LABEL_WINDOW = "window"
LABEL_ALERT_KIND = "alert_kind"  # burn_rate | missing_data | budget_exhausted | threshold | ...
LABEL_ESCALATION = "escalation"
# Keeps the rates of several counters of one SLI apart until they are summed (never output).
LABEL_SLI_METRIC = "bzzzmon_sli_metric"
# On escalation alerts: the name of the alert that outlived its resolution target.
LABEL_ESCALATED_ALERT = "escalated_alert"
# Labels of the agent contract and the exporter's own series.
LABEL_TARGET = "target"
LABEL_CHECK = "check"
LABEL_REASON = "reason"  # one of PROBE_FAILURE_REASONS
LABEL_VERSION = "version"
LABEL_RESULT = "result"
LABEL_OPERATION = "operation"
LABEL_DIRECTION = "direction"
LABEL_STATE = "state"
# Labels that name one agent (its scrape target, its Swarm node or task slot): an alert carrying one
# is about that agent, and an inhibition it is the source of must compare it (``equal``).
# Target labels the Swarm scrape jobs set: a task's node and slot survive a reschedule.
LABEL_SWARM_NODE = "swarm_node"
LABEL_SWARM_TASK_SLOT = "swarm_task_slot"
IDENTITY_LABELS = ("instance", LABEL_SWARM_NODE, LABEL_SWARM_TASK_SLOT)
# On explanation-hold alerts: the explanation (routing.explains) the hold stands for.
LABEL_EXPLANATION = "explanation"

# --- Recording rules (level:metric:operations) -------------------------------------------------
# bzzzmon's own level, so its series never share a name with Sloth's (``slo:``) or Pyrra's
# (``<metric>:burnrate<window>``, ``pyrra_``) while a team runs both during a migration.
REC_NAMESPACE = "bzzzmon_slo"
# Numerator and denominator are recorded once at the base window; every longer window and the
# whole period are sums over those two series, so the ratio is traffic-weighted.
REC_BAD_RATE = f"{REC_NAMESPACE}:sli_bad_events:rate{{window}}"
REC_TOTAL_RATE = f"{REC_NAMESPACE}:sli_total_events:rate{{window}}"
REC_ERROR_RATIO = f"{REC_NAMESPACE}:sli_error:ratio_rate{{window}}"
REC_OBJECTIVE = f"{REC_NAMESPACE}:objective:ratio"
REC_ERROR_BUDGET = f"{REC_NAMESPACE}:error_budget:ratio"
REC_PERIOD_DAYS = f"{REC_NAMESPACE}:time_period:days"
REC_CURRENT_BURN = f"{REC_NAMESPACE}:current_burn_rate:ratio"
REC_PERIOD_BURN = f"{REC_NAMESPACE}:period_burn_rate:ratio"
REC_BUDGET_REMAINING = f"{REC_NAMESPACE}:period_error_budget_remaining:ratio"
# The share of the period the SLI's history covers (1 once it spans the whole period): budget
# figures on a young deployment are prorated by it instead of claiming the whole budget spent.
REC_PERIOD_COVERAGE = f"{REC_NAMESPACE}:period_coverage:ratio"
REC_SLI_INFO = f"{REC_NAMESPACE}:sli:info"
# Sums of the base-window rates over an hour: only the ``hourly-level`` rule shape of the
# benchmarks records them (bench/shapes.py), under bzzzmon's namespace like the rest.
REC_BAD_SUM_1H = f"{REC_NAMESPACE}:sli_bad_events:sum1h"
REC_TOTAL_SUM_1H = f"{REC_NAMESPACE}:sli_total_events:sum1h"


def rec_name(template: str, window: str) -> str:
    """Fill a recording-rule name template with a window such as ``5m`` or ``30d``."""
    return template.format(window=window)


# --- Rule groups and files ---------------------------------------------------------------------
def slo_group(service: str, slo: str, part: str) -> str:
    """Rule group name of one SLO's part: ``sli``, ``meta`` or ``alerts``."""
    return f"{service}-slo-{slo}-{part}"


def alerts_group(service: str, group: str) -> str:
    return f"{service}-alerts-{group}"


RULES_DIR = "prometheus/rules"
TESTS_DIR = "prometheus/tests"
PROMETHEUS_CONFIG = "prometheus/prometheus.yml"
ALERTMANAGER_DIR = "alertmanager"
ALERTMANAGER_CONFIG = "alertmanager/alertmanager.yml"
GRAFANA_DASHBOARDS_DIR = "grafana/dashboards"
GRAFANA_PROVISIONING_DIR = "grafana/provisioning"
EXPORTER_CONFIG = "exporter/exporter.yml"
ALERT_CATALOG = "docs/alerts.md"
ESCALATION_RULES = "prometheus/rules/escalation.rules.yml"
ALERTMANAGER_TEMPLATES_DIR = "alertmanager/templates"
ALERTMANAGER_TEMPLATE = "alertmanager/templates/bzzzmon.tmpl"
ALERTMANAGER_ROUTING_TESTS = "alertmanager/routing-tests.yml"
ALERTMANAGER_INHIBITION_TESTS = "alertmanager/inhibition-tests.yml"


def escalation_group(service: str) -> str:
    return f"{service}-escalation"


# Alertmanager: the receiver with no integrations (alerts nobody is to be told about).
NULL_RECEIVER = "blackhole"
# Annotations every generated alert carries (the notification templates read them).
ANNOTATION_SUMMARY = "summary"
ANNOTATION_DESCRIPTION = "description"
ANNOTATION_RUNBOOK_URL = "runbook_url"
ANNOTATION_DASHBOARD_URL = "dashboard_url"
# Values of LABEL_ALERT_KIND that routing and inhibition rely on.
ALERT_KIND_ESCALATION = "escalation"


# --- Dashboards --------------------------------------------------------------------------------
def datasource_uid(service: str) -> str:
    return f"{service}-prometheus"


DATASOURCE_UID = datasource_uid("bzzz")  # BZZZ's, as the tests of the BZZZ spec read it
_UID_UNSAFE = re.compile(r"[^a-z0-9-]+")


def dashboard_uid(service: str, kind: str, name: str = "") -> str:
    """Stable Grafana uid (at most 40 characters) for a dashboard derived from the spec."""
    raw = "-".join(p for p in (service, kind, name) if p).lower()
    return _UID_UNSAFE.sub("-", raw)[:40].strip("-")


# Alert names the runbook and routing rely on, each the service's alert prefix and a suffix.
def watchdog_alert(prefix: str) -> str:
    """The always-firing heartbeat alert of a service: ``BZZZWatchdog``, ``ShopWatchdog``."""
    return f"{prefix}Watchdog"


WATCHDOG_ALERT = watchdog_alert("BZZZ")  # BZZZ's, for the tests and demos of the BZZZ spec


# --- Grafana dashboards and provisioning (issue 4) ---------------------------------------------
def datasource_name(prefix: str) -> str:
    return f"{prefix} Prometheus"


DATASOURCE_NAME = datasource_name("BZZZ")
# Where the provisioned Prometheus datasource reaches Prometheus (the Swarm service name).
DATASOURCE_URL = "http://prometheus:9090"
# Dashboard template variables.
VAR_DATASOURCE = "datasource"
VAR_INSTANCE = "instance"
VAR_COMPONENT = "component"


# Where the deployment mounts generated/grafana/dashboards/ (the dashboards provider reads it).
# A service's are named after it (its Grafana folder after its alert prefix); BZZZ's here.
GRAFANA_DASHBOARDS_ROOT = "/var/lib/grafana/dashboards"


def grafana_dashboards_path(service: str) -> str:
    return f"{GRAFANA_DASHBOARDS_ROOT}/{service}"


GRAFANA_DASHBOARDS_PATH = grafana_dashboards_path("bzzz")
DASHBOARD_KIND_OVERVIEW = "overview"
DASHBOARD_KIND_EXPORTER = "exporter"

# --- Prometheus server config (issue 4) --------------------------------------------------------
# Job names used when the service's selectors do not name a job.
AGENT_JOB = "bzzz-agent"
EXPORTER_JOB = "bzzz-exporter"
ALERTMANAGER_JOB = "alertmanager"
PROMETHEUS_JOB = "prometheus"
ALERTMANAGER_TARGET = "alertmanager:9093"
PROMETHEUS_SELF_TARGET = "localhost:9090"
DOCKER_SOCKET = "unix:///var/run/docker.sock"
# file_sd target files, relative to prometheus.yml: the static alternative to Swarm discovery.
TARGETS_SUBDIR = "targets"

# --- Stack (bzzzmon demo, e2e tests) -----------------------------------------------------------
# The spec's selectors that name the agents and the exporter: the stack scrapes the simulator's
# agents and its exporter so that their series carry exactly these selectors' labels.
SELECTOR_AGENT = "agent"
SELECTOR_EXPORTER = "exporter"
# How often Prometheus scrapes; Grafana's datasource is told so $__rate_interval fits it.
SCRAPE_INTERVAL = "15s"

# --- The monitoring stack's parts (generated prometheus.yml and Swarm stack file) ---------------
# Exporters the shipped specs' alerts read, keyed by the selector that names their job. A part is
# scraped, and deployed in the stack file, when the spec declares its selector.
SELECTOR_NODE = "node"
SELECTOR_CADVISOR = "cadvisor"
SELECTOR_POSTGRES = "postgres"
NODE_EXPORTER_JOB = "node-exporter"
CADVISOR_JOB = "cadvisor"
POSTGRES_EXPORTER_JOB = "postgres-exporter"
# Selectors whose job the generated prometheus.yml scrapes (each gets targets/<job>.yml).
SCRAPED_SELECTORS = (
    SELECTOR_AGENT,
    SELECTOR_EXPORTER,
    SELECTOR_NODE,
    SELECTOR_CADVISOR,
    SELECTOR_POSTGRES,
)
NODE_EXPORTER_PORT = 9100
CADVISOR_PORT = 8080
POSTGRES_EXPORTER_PORT = 9187
# The Swarm stack file for the monitoring stack (deployed as the exporter service's namespace).
SWARM_STACK = "swarm/monitoring.stack.yml"
# Prometheus keeps this many SLO periods of data (the longest SLO's), so a dashboard can set
# this period's budget beside the last one's.
RETENTION_PERIODS = 2
# The stack's images, pinned to the versions CI proves (docs/compatibility.md; node_exporter and
# postgres_exporter: Debian bookworm's, as tests/runbook runs them).
IMAGE_PROMETHEUS = "prom/prometheus:v2.53.3"
IMAGE_ALERTMANAGER = "prom/alertmanager:v0.28.1"
IMAGE_GRAFANA = "grafana/grafana:11.3.0"
IMAGE_EXPORTER = "bzzzmon-exporter:latest"  # built from exporter/Dockerfile
IMAGE_NODE_EXPORTER = "prom/node-exporter:v1.5.0"
IMAGE_CADVISOR = "gcr.io/cadvisor/cadvisor:v0.47.2"
IMAGE_POSTGRES_EXPORTER = "prometheuscommunity/postgres-exporter:v0.11.1"
# The dead-man receiver is the operator's choice (it must page from outside this stack when the
# Watchdog's pings stop): the stack file requires it as a variable and refuses to deploy without.
DEADMAN_IMAGE_VARIABLE = "BZZZ_DEADMAN_IMAGE"
# The BZZZ stack's overlay network (agents, PostgreSQL): the exporter probes the agents over it,
# Prometheus scrapes them and postgres_exporter reaches the database.
AGENTS_NETWORK = "bzzz-internal"
MONITORING_NETWORK = "monitoring"
# Nodes carrying this label run the stack's central services; their bind mounts read the
# generated tree from the checkout on that node.
STACK_NODE_LABEL = "bzzzmon"
# PostgreSQL as the runbook names it (service bzzz-v2_postgres, database bzzz_v2, user bzzz,
# password in the Docker secret bzzz_postgres_password).
POSTGRES_URI = "bzzz-v2_postgres:5432/bzzz_v2?sslmode=disable"
POSTGRES_USER = "bzzz"
POSTGRES_PASSWORD_SECRET = "bzzz_postgres_password"
EXPORTER_WEB_CONFIG_SECRET = "bzzz_exporter_web_config"
# With exporter_web.scheme https, the web config's cert_file and key_file name these (relative to
# the web config, i.e. under /run/secrets/).
EXPORTER_TLS_SECRETS = ("bzzz_exporter_cert", "bzzz_exporter_key")
GRAFANA_ADMIN_PASSWORD_SECRET = "bzzz_grafana_admin_password"
GRAFANA_PORT = 3000
SECRETS_DIR = "/run/secrets"

# --- The parts' metrics the overview draws (their exporters' own names) -------------------------
NODE_FS_AVAIL = "node_filesystem_avail_bytes"
NODE_FS_SIZE = "node_filesystem_size_bytes"
NODE_FS_PSEUDO = "tmpfs|overlay|squashfs|nsfs"  # filesystems that are not capacity
CONTAINER_MEMORY = "container_memory_working_set_bytes"
CONTAINER_MEMORY_LIMIT = "container_spec_memory_limit_bytes"
CONTAINER_CPU = "container_cpu_usage_seconds_total"
CONTAINER_CPU_QUOTA = "container_spec_cpu_quota"
CONTAINER_CPU_PERIOD = "container_spec_cpu_period"
PG_UP = "pg_up"
PG_BACKENDS = "pg_stat_database_numbackends"
PG_MAX_CONNECTIONS = "pg_settings_max_connections"
PG_ARCHIVE_FAILED = "pg_stat_archiver_failed_count"
PG_ARCHIVE_AGE = "pg_stat_archiver_last_archive_age"
# The exporter's file probe (the newest file matching a pattern: the runbook's backups).
FILE_NEWEST_AGE = "bzzz_file_newest_age_seconds"
FILE_NEWEST_SIZE = "bzzz_file_newest_size_bytes"
# The component the runbook's DHT bootstrap nodes are probed as.
COMPONENT_DHT_BOOTSTRAP = "dht-bootstrap"


# --- Several services in one specs directory (bzzzmon.spec.services, bzzzmon.compose) ----------
# The label every alert of a service carries there, and the one its route matches.
LABEL_SERVICE = "service"
# A service's own files below the output, one subfolder per service; prometheus.yml,
# alertmanager.yml (and its tests and templates), the targets and the Grafana provisioning are
# composed of every service's. Rule files keep ``../rules/`` from their tests.
SERVICE_PROMETHEUS_DIR = "prometheus/{service}"
SERVICE_RULES_GLOB = SERVICE_PROMETHEUS_DIR.format(service="*") + "/rules/*.yml"
SERVICE_TESTS_GLOB = SERVICE_PROMETHEUS_DIR.format(service="*") + "/tests/*.yml"


@dataclass(frozen=True)
class ServicePaths:
    """Where one service's own files are in a generated tree: the one-service layout
    (``service_paths()``) or its subfolders in a directory of several (``service_paths(name)``).
    Every reader of a service's rules, tests, dashboards, catalog or exporter config asks here."""

    rules_dir: str
    tests_dir: str
    dashboards_dir: str
    docs_dir: str
    exporter_dir: str

    @property
    def catalog(self) -> str:
        return f"{self.docs_dir}/{posixpath.basename(ALERT_CATALOG)}"

    @property
    def exporter_config(self) -> str:
        return f"{self.exporter_dir}/{posixpath.basename(EXPORTER_CONFIG)}"

    @property
    def escalation_rules(self) -> str:
        return f"{self.rules_dir}/{posixpath.basename(ESCALATION_RULES)}"

    def dirs(self) -> tuple[str, ...]:
        return (
            self.rules_dir,
            self.tests_dir,
            self.dashboards_dir,
            self.docs_dir,
            self.exporter_dir,
        )


def service_paths(service: str | None = None) -> ServicePaths:
    """``None``: the one-service layout (``prometheus/rules/``, ``docs/alerts.md``, ...)."""
    if service is None:
        return ServicePaths(
            RULES_DIR,
            TESTS_DIR,
            GRAFANA_DASHBOARDS_DIR,
            posixpath.dirname(ALERT_CATALOG),
            posixpath.dirname(EXPORTER_CONFIG),
        )
    prometheus = SERVICE_PROMETHEUS_DIR.format(service=service)
    flat = service_paths()
    return ServicePaths(
        f"{prometheus}/rules",
        f"{prometheus}/tests",
        f"{flat.dashboards_dir}/{service}",
        f"{flat.docs_dir}/{service}",
        f"{flat.exporter_dir}/{service}",
    )
