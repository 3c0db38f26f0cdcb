"""The Swarm stack file for the monitoring stack (generated/swarm/monitoring.stack.yml).

``docker stack deploy -c generated/swarm/monitoring.stack.yml <namespace>`` runs, under the
namespace of the spec's ``swarm.exporter_service``:
- Prometheus, on a manager node (Swarm discovery reads the Docker API), keeping
  ``RETENTION_PERIODS`` times the longest SLO period of data;
- Alertmanager, and Grafana with the generated provisioning and dashboards;
- the bzzzmon exporter, with its web config (TLS, basic auth) from a Docker secret;
- node_exporter and cAdvisor on every node, postgres_exporter beside the database, each when the
  spec declares its selector (``monitoring_parts``);
- the dead-man receiver of the Watchdog, when the heartbeat receiver is a webhook to a bare host
  name (a service of this stack): its image is the operator's choice, a required variable.

The central services read the generated tree through read-only bind mounts (paths relative to
this file, which the Docker CLI resolves), so they run on the nodes labelled
``STACK_NODE_LABEL=true``, where the checkout is. Every secret a generated config reads from
``/run/secrets/`` is an external Docker secret of that name: created once by the operator, never
written here.

In a directory of several services the one service with ``service.swarm`` names the stack
(``render_composed``): its Prometheus reads the composed prometheus.yml (every service's rules and
jobs), Alertmanager the composed alertmanager.yml (every service's receivers' secrets), Grafana
every service's dashboards folder, and the exporter that service's exporter.yml.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.promql.duration import format_duration
from bzzzmon.render import prometheus_config
from bzzzmon.render.monitoring_parts import Part, declared_parts, stack_namespace
from bzzzmon.render.output import Files, dump_yaml

COMPOSE_VERSION = "3.8"
# Where the generated tree is, seen from the stack file (generated/swarm/).
_GENERATED = ".."
_PLACED = f"node.labels.{C.STACK_NODE_LABEL} == true"
_DEFAULT_RETENTION = 15 * 86400  # Prometheus's own default, when the spec has no SLO


@dataclass(frozen=True)
class _Layout:
    """What the stack's services read, from one service's output or from several composed."""

    prometheus_config: dict[str, Any]
    plans: tuple[Plan, ...]  # every service Prometheus and Alertmanager serve
    dashboards_target: str  # where generated/grafana/dashboards/ is mounted
    exporter_config: str  # the exporter's config, below generated/


def _layout(plan: Plan) -> _Layout:
    return _Layout(
        prometheus_config.config(plan),
        (plan,),
        C.grafana_dashboards_path(plan.service.name),
        C.service_paths().exporter_config,
    )


def _composed_layout(plan: Plan, plans: Sequence[Plan]) -> _Layout:
    return _Layout(
        prometheus_config.composed_config(list(plans)),
        tuple(plans),
        C.GRAFANA_DASHBOARDS_ROOT,  # the providers read <root>/<service>
        C.service_paths(plan.service.name).exporter_config,
    )


def _bind(source: str, target: str, **extra: Any) -> dict[str, Any]:
    return {"type": "bind", "source": source, "target": target, "read_only": True, **extra}


def _generated(path: str, target: str) -> dict[str, Any]:
    return _bind(f"{_GENERATED}/{path}", target)


def _secret_files(data: Any) -> Iterator[str]:
    """Every ``*_file`` value under ``/run/secrets/`` in a config, as its secret's name."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and key.endswith("_file") and isinstance(value, str):
                folder, _, name = value.rpartition("/")
                if folder == C.SECRETS_DIR and name:
                    yield name
            else:
                yield from _secret_files(value)
    elif isinstance(data, list):
        for item in data:
            yield from _secret_files(item)


def _retention(plans: Sequence[Plan]) -> str:
    longest = max((s.period for plan in plans for s in plan.slos), default=0)
    return format_duration(longest * C.RETENTION_PERIODS if longest else _DEFAULT_RETENTION)


def _central(*constraints: str) -> dict[str, Any]:
    return {
        "replicas": 1,
        "placement": {"constraints": [_PLACED, *constraints]},
        "restart_policy": {"condition": "any"},
    }


def _global() -> dict[str, Any]:
    return {"mode": "global", "restart_policy": {"condition": "any"}}


def _prometheus(layout: _Layout) -> dict[str, Any]:
    return {
        "image": C.IMAGE_PROMETHEUS,
        # Swarm discovery reads the Docker socket, which only root may open.
        "user": "root",
        "command": [
            "--config.file=/etc/prometheus/prometheus.yml",
            "--storage.tsdb.path=/prometheus",
            f"--storage.tsdb.retention.time={_retention(layout.plans)}",
            # The runbook's "Prometheus Data Backup" takes TSDB snapshots through the admin API.
            "--web.enable-admin-api",
        ],
        "volumes": [
            _generated("prometheus", "/etc/prometheus"),
            _bind("/var/run/docker.sock", "/var/run/docker.sock"),
            {"type": "volume", "source": "prometheus-data", "target": "/prometheus"},
        ],
        "networks": [C.MONITORING_NETWORK, C.AGENTS_NETWORK],
        "deploy": _central("node.role == manager"),
    }


def _alertmanager(plan: Plan) -> dict[str, Any]:
    command = [
        "--config.file=/etc/alertmanager/alertmanager.yml",
        "--storage.path=/alertmanager",
    ]
    if plan.service.alertmanager_url:
        command.append(f"--web.external-url={plan.service.alertmanager_url}")
    return {
        "image": C.IMAGE_ALERTMANAGER,
        "command": command,
        "volumes": [
            _generated("alertmanager", "/etc/alertmanager"),
            {"type": "volume", "source": "alertmanager-data", "target": "/alertmanager"},
        ],
        "networks": [C.MONITORING_NETWORK, C.AGENTS_NETWORK],
        "deploy": _central(),
    }


def _grafana(plan: Plan, layout: _Layout) -> dict[str, Any]:
    environment = {
        "GF_SECURITY_ADMIN_PASSWORD__FILE": f"{C.SECRETS_DIR}/{C.GRAFANA_ADMIN_PASSWORD_SECRET}",
        "GF_USERS_ALLOW_SIGN_UP": "false",
    }
    if plan.service.grafana_url:
        environment["GF_SERVER_ROOT_URL"] = plan.service.grafana_url
    return {
        "image": C.IMAGE_GRAFANA,
        "environment": environment,
        "volumes": [
            _generated("grafana/provisioning", "/etc/grafana/provisioning"),
            _generated(C.GRAFANA_DASHBOARDS_DIR, layout.dashboards_target),
            {"type": "volume", "source": "grafana-data", "target": "/var/lib/grafana"},
        ],
        "ports": [{"target": C.GRAFANA_PORT, "published": C.GRAFANA_PORT, "protocol": "tcp"}],
        "networks": [C.MONITORING_NETWORK],
        "deploy": _central(),
    }


def _exporter(plan: Plan, layout: _Layout) -> dict[str, Any]:
    port = plan.service.swarm.exporter_port if plan.service.swarm else 9109
    return {
        "image": C.IMAGE_EXPORTER,
        "command": [
            "exporter",
            "--config",
            "/etc/bzzzmon/exporter.yml",
            "--listen",
            f":{port}",
            "--web-config",
            f"{C.SECRETS_DIR}/{C.EXPORTER_WEB_CONFIG_SECRET}",
        ],
        "volumes": [_generated(layout.exporter_config, "/etc/bzzzmon/exporter.yml")],
        "networks": [C.MONITORING_NETWORK, C.AGENTS_NETWORK],
        "deploy": _central(),
    }


def _exporter_secrets(plan: Plan) -> list[str]:
    web = plan.service.exporter_web
    tls = list(C.EXPORTER_TLS_SECRETS) if web is not None and web.scheme == "https" else []
    return [C.EXPORTER_WEB_CONFIG_SECRET, *tls]


def _node_exporter() -> dict[str, Any]:
    return {
        "image": C.IMAGE_NODE_EXPORTER,
        "command": ["--path.rootfs=/host"],
        # rslave: filesystems mounted on the host later are seen too.
        "volumes": [_bind("/", "/host", bind={"propagation": "rslave"})],
        "networks": [C.MONITORING_NETWORK],
        "deploy": _global(),
    }


def _cadvisor() -> dict[str, Any]:
    return {
        "image": C.IMAGE_CADVISOR,
        "command": ["--docker_only=true", "--housekeeping_interval=15s"],
        "volumes": [
            _bind("/", "/rootfs"),
            _bind("/var/run", "/var/run"),
            _bind("/sys", "/sys"),
            _bind("/var/lib/docker", "/var/lib/docker"),
            _bind("/dev/disk", "/dev/disk"),
        ],
        "networks": [C.MONITORING_NETWORK],
        "deploy": _global(),
    }


def _postgres_exporter() -> dict[str, Any]:
    return {
        "image": C.IMAGE_POSTGRES_EXPORTER,
        "environment": {
            "DATA_SOURCE_URI": C.POSTGRES_URI,
            "DATA_SOURCE_USER": C.POSTGRES_USER,
            "DATA_SOURCE_PASS_FILE": f"{C.SECRETS_DIR}/{C.POSTGRES_PASSWORD_SECRET}",
        },
        "secrets": [C.POSTGRES_PASSWORD_SECRET],
        "networks": [C.MONITORING_NETWORK, C.AGENTS_NETWORK],
        "deploy": {"replicas": 1, "restart_policy": {"condition": "any"}},
    }


_PARTS = {
    C.SELECTOR_NODE: _node_exporter,
    C.SELECTOR_CADVISOR: _cadvisor,
    C.SELECTOR_POSTGRES: _postgres_exporter,
}


def _part(part: Part) -> dict[str, Any]:
    return _PARTS[part.selector]()


def deadman_host(plan: Plan) -> str | None:
    """The heartbeat receiver's host when it is a service of this stack (a bare name)."""
    name = plan.routing.heartbeat_receiver
    if name is None:
        return None
    receiver = plan.receiver(name)
    if receiver.kind != "webhook":
        return None
    host = urllib.parse.urlsplit(str(receiver.settings.get("url", ""))).hostname or ""
    return host if host and "." not in host else None


def _deadman() -> dict[str, Any]:
    variable = C.DEADMAN_IMAGE_VARIABLE
    return {
        "image": f"${{{variable}:?set {variable} to the dead-man receiver's image}}",
        "networks": [C.MONITORING_NETWORK],
        "deploy": _central(),
    }


def _with_secrets(service: dict[str, Any], names: list[str]) -> dict[str, Any]:
    if names:
        service["secrets"] = sorted({*service.get("secrets", []), *names})
    return service


def build(plan: Plan, layout: _Layout | None = None) -> dict[str, Any] | None:
    """The stack file of ``plan``'s stack; ``layout``: what it reads (``plan``'s own output
    unless given)."""
    found = stack_namespace(plan)
    if found is None:
        return None
    layout = layout or _layout(plan)
    _, exporter_name = found
    receiver_settings = [r.settings for p in layout.plans for r in p.receivers]
    services: dict[str, Any] = {
        "prometheus": _with_secrets(
            _prometheus(layout), list(_secret_files(layout.prometheus_config))
        ),
        "alertmanager": _with_secrets(_alertmanager(plan), list(_secret_files(receiver_settings))),
        "grafana": _with_secrets(_grafana(plan, layout), [C.GRAFANA_ADMIN_PASSWORD_SECRET]),
        exporter_name: _with_secrets(_exporter(plan, layout), _exporter_secrets(plan)),
    }
    for part in declared_parts(plan):
        services[part.name] = _part(part)
    deadman = deadman_host(plan)
    if deadman is not None and deadman not in services:
        services[deadman] = _deadman()
    secrets = sorted({s for service in services.values() for s in service.get("secrets", [])})
    return {
        "version": COMPOSE_VERSION,
        "services": services,
        "networks": {
            C.MONITORING_NETWORK: {"driver": "overlay"},
            C.AGENTS_NETWORK: {"external": True},
        },
        "volumes": {"prometheus-data": {}, "alertmanager-data": {}, "grafana-data": {}},
        "secrets": {name: {"external": True} for name in secrets},
    }


_SOURCES = ("service", "selectors", "slos", "routing", "receivers")


def render(plan: Plan) -> Files:
    data = build(plan)
    if data is None:
        return {}
    return {C.SWARM_STACK: dump_yaml(data, plan.files_of(*_SOURCES))}


def render_composed(plan: Plan, plans: Sequence[Plan], merged: Plan) -> Files:
    """The stack file of ``plan``, the one service of ``plans`` with ``service.swarm``, serving
    every service of the directory; ``merged`` names their spec files in the header."""
    data = build(plan, _composed_layout(plan, plans))
    if data is None:
        return {}
    return {C.SWARM_STACK: dump_yaml(data, merged.files_of(*_SOURCES))}
