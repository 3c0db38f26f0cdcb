"""The Prometheus server config: scrape jobs, the generated rule files, alerting to Alertmanager.

Deployment layout: generated/prometheus/ is mounted as /etc/prometheus/ (prometheus.yml, rules/,
targets/), so every path here is relative to prometheus.yml and works both in the generated tree
and in the container.

Every job of the service comes from its selectors (``service_jobs``): a BZZZ spec's agent and
exporter jobs, or an HTTP service's own job. The agent and exporter jobs find their targets in
two ways at once, in the same job (so the job
label is the contract's and no target is scraped twice):
- Docker Swarm discovery (role ``tasks``) of the Swarm service named in the spec, relabelled to the
  service's port. Prometheus must run on a manager node with the Docker socket mounted.
- ``file_sd_configs`` reading ``targets/<job>*.yml``: the static alternative, for hosts without
  Swarm (or tests on 127.0.0.1). The build writes ``targets/<job>.yml`` as an empty list, so by
  default it adds nothing (and promtool finds the file); an operator replaces it or drops another
  ``targets/<job>-*.yml`` beside it, and Prometheus re-reads them without a restart.
Relabelling keeps only running tasks of the wanted service and leaves file targets untouched.
"""

from __future__ import annotations

import posixpath
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.render.escalation import alert_relabeling
from bzzzmon.render.monitoring_parts import declared_parts, swarm_service
from bzzzmon.render.output import Files, dump_yaml, header
from bzzzmon.render.text import regex_literal

RULES_GLOB = "rules/*.yml"  # relative to prometheus.yml: generated/prometheus/rules/


def service_jobs(plan: Plan) -> list[tuple[str, str | None, int | None]]:
    """(job, Swarm service, port) of each scrape job of the service: one per ``job`` matcher of
    ``service.selectors`` (the agent's and exporter's first, Swarm-discovered when the spec
    gives ``swarm``), else one named after the service. Shared top-level selectors (node,
    cAdvisor, PostgreSQL exporters) are not the service's; their jobs are rendered apart."""
    service = plan.service
    swarm = service.swarm
    jobs: list[tuple[str, str | None, int | None]] = []
    if swarm is not None or C.SELECTOR_AGENT in service.own_selectors:
        jobs.append(
            (
                service.matchers(C.SELECTOR_AGENT).get("job", C.AGENT_JOB),
                swarm.agent_service if swarm else None,
                swarm.agent_port if swarm else None,
            )
        )
    if swarm is not None or C.SELECTOR_EXPORTER in service.own_selectors:
        jobs.append(
            (
                service.matchers(C.SELECTOR_EXPORTER).get("job", C.EXPORTER_JOB),
                swarm.exporter_service if swarm else None,
                swarm.exporter_port if swarm else None,
            )
        )
    others = sorted(set(service.own_selectors) - {C.SELECTOR_AGENT, C.SELECTOR_EXPORTER})
    jobs += [
        (service.matchers(s)["job"], None, None) for s in others if "job" in service.matchers(s)
    ]
    unique = list(dict.fromkeys(jobs))
    return unique or [(service.name, None, None)]


def targets_glob(job: str) -> str:
    return f"{C.TARGETS_SUBDIR}/{job}*.yml"


def _swarm_job(job: str, service: str | None, port: int | None) -> dict[str, Any]:
    config: dict[str, Any] = {"job_name": job}
    relabel: list[dict[str, Any]] = []
    if service is not None and port is not None:
        config["dockerswarm_sd_configs"] = [
            {"host": C.DOCKER_SOCKET, "role": "tasks", "port": port, "refresh_interval": "30s"}
        ]
        relabel = [
            # Swarm targets of other services are dropped; file targets carry no such label.
            {
                "source_labels": ["__meta_dockerswarm_service_name"],
                "regex": f"({regex_literal(service)})?",
                "action": "keep",
            },
            {
                "source_labels": ["__meta_dockerswarm_task_desired_state"],
                "regex": "(running)?",
                "action": "keep",
            },
            # One target per task: the ingress network's address is not the task's own.
            {
                "source_labels": ["__meta_dockerswarm_network_ingress"],
                "regex": "(false)?",
                "action": "keep",
            },
            # The task's address on the service's port, whatever port Swarm published.
            {
                "source_labels": ["__meta_dockerswarm_service_name", "__address__"],
                "regex": f"{regex_literal(service)};(.+?)(?::[0-9]+)?",
                "target_label": "__address__",
                "replacement": f"$1:{port}",
            },
            {
                "source_labels": ["__meta_dockerswarm_node_hostname"],
                "target_label": C.LABEL_SWARM_NODE,
            },
            {
                "source_labels": ["__meta_dockerswarm_task_slot"],
                "target_label": C.LABEL_SWARM_TASK_SLOT,
            },
        ]
    config["file_sd_configs"] = [{"files": [targets_glob(job)], "refresh_interval": "1m"}]
    if relabel:
        config["relabel_configs"] = relabel
    return config


def _exporter_web(plan: Plan, job: dict[str, Any]) -> dict[str, Any]:
    """The exporter's job with the scheme, TLS and basic auth its web config enables; secrets
    are read from their files by Prometheus, never copied here."""
    web = plan.service.exporter_web
    if web is None:
        return job
    auth: dict[str, Any] = {"scheme": web.scheme}
    if web.username:
        auth["basic_auth"] = {"username": web.username, "password_file": web.password_file}
    tls = {k: v for k, v in (("ca_file", web.ca_file), ("server_name", web.server_name)) if v}
    if tls:
        auth["tls_config"] = tls
    # After job_name, before discovery: where a reader of the config looks for them.
    name, rest = job["job_name"], {k: v for k, v in job.items() if k != "job_name"}
    return {"job_name": name, **auth, **rest}


def _part_job_names(plan: Plan) -> tuple[str, ...]:
    return tuple(
        plan.service.matchers(p.selector).get("job", p.default_job) for p in declared_parts(plan)
    )


def _part_jobs(plan: Plan) -> list[dict[str, Any]]:
    """node_exporter, cAdvisor and postgres_exporter, each the spec reads (its selector declared),
    as its own job: Swarm discovery of the monitoring stack's service, and file_sd."""
    jobs = []
    for job, part in zip(_part_job_names(plan), declared_parts(plan), strict=True):
        service = swarm_service(plan, part)
        jobs.append(_swarm_job(job, service, part.port if service else None))
    return jobs


def _jobs(plan: Plan) -> list[dict[str, Any]]:
    """The service's jobs (the exporter's with the TLS and auth of its web config), then the
    parts scraped beside it that are no job of the service already."""
    exporter = plan.service.matchers(C.SELECTOR_EXPORTER).get("job", C.EXPORTER_JOB)
    own = [
        _exporter_web(plan, job) if job["job_name"] == exporter else job
        for job in (_swarm_job(j, service, port) for j, service, port in service_jobs(plan))
    ]
    names = {job["job_name"] for job in own}
    return own + [job for job in _part_jobs(plan) if job["job_name"] not in names]


# Prometheus scrapes itself and its Alertmanager at fixed addresses in every config: a service
# that watches them (a selector naming job prometheus or alertmanager) reads these static jobs,
# never a second, discovered job of the same name.
_BUILTIN_JOBS = frozenset({C.ALERTMANAGER_JOB, C.PROMETHEUS_JOB})


def config(plan: Plan) -> dict[str, Any]:
    return {
        "global": {
            "scrape_interval": C.SCRAPE_INTERVAL,
            "evaluation_interval": C.SCRAPE_INTERVAL,
        },
        "rule_files": [RULES_GLOB],
        "alerting": {
            **({"alert_relabel_configs": alert_relabeling()} if plan.routing.escalate else {}),
            "alertmanagers": [
                {
                    "static_configs": [{"targets": [C.ALERTMANAGER_TARGET]}],
                    "api_version": "v2",
                }
            ],
        },
        "scrape_configs": [
            *(job for job in _jobs(plan) if job["job_name"] not in _BUILTIN_JOBS),
            {
                "job_name": C.ALERTMANAGER_JOB,
                "static_configs": [{"targets": [C.ALERTMANAGER_TARGET]}],
            },
            {
                "job_name": C.PROMETHEUS_JOB,
                "static_configs": [{"targets": [C.PROMETHEUS_SELF_TARGET]}],
            },
        ],
    }


def targets_file(job: str) -> str:
    return f"{C.PROMETHEUS_CONFIG.rsplit('/', 1)[0]}/{C.TARGETS_SUBDIR}/{job}.yml"


def render(plan: Plan) -> Files:
    sources = plan.files_of("service", "selectors", "slos", "alerts")
    files = {C.PROMETHEUS_CONFIG: dump_yaml(config(plan), sources)}
    files.update(_targets(_target_jobs(plan), plan.files_of("service")))
    return files


def _target_jobs(plan: Plan) -> list[str]:
    jobs = [*(j for j, _, _ in service_jobs(plan)), *_part_job_names(plan)]
    return list(dict.fromkeys(j for j in jobs if j not in _BUILTIN_JOBS))


def _targets(jobs: list[str], sources: tuple[str, ...]) -> Files:
    # No static targets by default: Swarm discovery finds them. An empty list, spelled out
    # (the YAML emitter writes an empty document for it, which file_sd reads as null).
    return {targets_file(job): header(sources) + "[]\n" for job in jobs}


def composed_config(plans: list[Plan]) -> dict[str, Any]:
    """prometheus.yml of several services (``bzzzmon.compose``): each service's rule files, every
    scrape job once (``bzzzmon.compose`` has checked that a job two services render is the same
    job), alert relabelling when any service escalates."""
    configs = [config(p) for p in plans]
    jobs: dict[str, dict[str, Any]] = {}
    for data in configs:
        for job in data["scrape_configs"]:
            jobs.setdefault(job["job_name"], job)
    escalating = [c["alerting"] for c in configs if "alert_relabel_configs" in c["alerting"]]
    here = posixpath.dirname(C.PROMETHEUS_CONFIG)
    return {
        **configs[0],
        "rule_files": [
            posixpath.join(
                posixpath.relpath(C.SERVICE_PROMETHEUS_DIR.format(service=p.service.name), here),
                RULES_GLOB,
            )
            for p in plans
        ],
        "alerting": escalating[0] if escalating else configs[0]["alerting"],
        "scrape_configs": list(jobs.values()),
    }


def render_composed(plans: list[Plan], merged: Plan) -> Files:
    """prometheus.yml and the targets files of several services; ``merged`` (a plan whose
    origins are every service's) names their spec files in the headers."""
    sources = merged.files_of("service", "selectors", "slos", "alerts")
    files = {C.PROMETHEUS_CONFIG: dump_yaml(composed_config(plans), sources)}
    jobs = dict.fromkeys(job for plan in plans for job in _target_jobs(plan))
    files.update(_targets(list(jobs), merged.files_of("service")))
    return files
