"""The configs the stack writes: derived from the generated ones, pointed at loopback parts.

- Prometheus: written here (the generated prometheus.yml names Swarm DNS and secret files); it
  scrapes the simulator's agents, its cAdvisor stand-in and the exporter with the labels of the
  spec's selectors (the bootstrap nodes' probe results relabelled to the runbook's node
  addresses, so an alert names ``walnut:9101``, not a loopback port), loads
  the time-scaled generated rules and sends alerts to the stack's Alertmanager, relabelled as the
  generated config relabels them (escalations under their alert's name).
- Alertmanager: the generated alertmanager.yml with its routing tree, inhibitions and time
  intervals untouched; only every receiver's integrations become one webhook to the sink (a
  receiver without integrations stays silent, as in production), the global section keeps only
  ``resolve_timeout``, template paths become absolute and grouping waits become short.
- Exporter: the generated exporter.yml with every probe's targets replaced by the simulator's
  (its bootstrap nodes for the TCP probes of them, its agents otherwise; DNS targets dropped),
  file probes pointed into the stack's own directory, and a fast probe schedule.
"""

from __future__ import annotations

import copy
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.render.escalation import alert_relabeling
from bzzzmon.render.output import load_generated_yaml

_ROUTE_TIMING = ("group_wait", "group_interval")


@dataclass(frozen=True)
class Timing:
    """The stack's clocks, in seconds (Prometheus durations are written in milliseconds)."""

    scrape_interval: float = 1.0
    evaluation_interval: float = 1.0
    probe_interval: float = 1.0
    max_result_age: float = 5.0
    # Longer than a scrape plus an evaluation: one fault seen by several agents at neighbouring
    # scrapes fires a tick or two apart and must still make one notification, as production's
    # 30s-2m waits over 15s scrapes do (at 1s, a partition of three agents notified twice; at
    # 3s, a partition once notified twice at load 6, where the simulator's scrapes lag).
    group_wait: float = 4.0
    group_interval: float = 2.0
    resend_delay: float = 2.0


def duration(seconds: float) -> str:
    return f"{round(seconds * 1000)}ms"


def _job(plan: Plan, selector: str, default_job: str) -> tuple[str, dict[str, str]]:
    """Scrape job name and extra target labels that make the series match the selector."""
    labels = dict(plan.service.matchers(selector))
    job = labels.pop("job", default_job)
    return job, labels


def prometheus_config(
    plan: Plan,
    *,
    agents: Sequence[str],
    exporter: str,
    alertmanager: str,
    rule_glob: str | None,
    timing: Timing,
    cadvisor: str | None = None,
    target_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``cadvisor``: the simulator's cAdvisor stand-in, scraped as the spec's cAdvisor job;
    ``target_names``: probe target served -> the name production probes it by."""

    def scrape(job: str, labels: dict[str, str], targets: Sequence[str]) -> dict[str, Any]:
        static: dict[str, Any] = {"targets": list(targets)}
        if labels:
            static["labels"] = labels
        return {"job_name": job, "static_configs": [static]}

    def scrape_agents(job: str, labels: dict[str, str], targets: Sequence[str]) -> dict[str, Any]:
        # Each agent is a Swarm task slot, labelled as the generated config's relabelling does.
        statics = [
            {"targets": [t], "labels": labels | {C.LABEL_SWARM_TASK_SLOT: str(i)}}
            for i, t in enumerate(targets, start=1)
        ]
        return {"job_name": job, "static_configs": statics}

    agent_job, agent_labels = _job(plan, C.SELECTOR_AGENT, C.AGENT_JOB)
    exporter_job, exporter_labels = _job(plan, C.SELECTOR_EXPORTER, C.EXPORTER_JOB)
    exporter_scrape = scrape(exporter_job, exporter_labels, [exporter])
    if target_names:
        exporter_scrape["metric_relabel_configs"] = [
            {
                "source_labels": [C.LABEL_TARGET],
                "regex": re.escape(served),
                "target_label": C.LABEL_TARGET,
                "replacement": name,
            }
            for served, name in sorted(target_names.items())
        ]
    jobs = [scrape_agents(agent_job, agent_labels, agents), exporter_scrape]
    if cadvisor is not None:
        jobs.append(scrape(*_job(plan, C.SELECTOR_CADVISOR, C.CADVISOR_JOB), [cadvisor]))
    interval = duration(timing.scrape_interval)
    return {
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": interval,
            "evaluation_interval": duration(timing.evaluation_interval),
        },
        "alerting": {
            "alert_relabel_configs": alert_relabeling(),
            "alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}],
        },
        "rule_files": [rule_glob] if rule_glob else [],
        "scrape_configs": jobs,
    }


def sink_url(base: str, receiver: str) -> str:
    return f"{base}/{urllib.parse.quote(receiver, safe='')}"


def _integrations(receiver: Mapping[str, Any]) -> list[str]:
    return [k for k, v in receiver.items() if k.endswith("_configs") and v]


def alertmanager_config(
    generated: Mapping[str, Any], *, config_dir: Path, sink: str, timing: Timing
) -> dict[str, Any]:
    """``generated`` is the parsed generated alertmanager.yml; ``config_dir`` its directory."""
    config = copy.deepcopy(dict(generated))
    resolve_timeout = (config.get("global") or {}).get("resolve_timeout")
    config["global"] = {"resolve_timeout": resolve_timeout} if resolve_timeout else {}
    if not config["global"]:
        del config["global"]
    receivers = []
    for receiver in config.get("receivers") or []:
        replaced: dict[str, Any] = {"name": receiver["name"]}
        if _integrations(receiver):
            replaced["webhook_configs"] = [
                {"url": sink_url(sink, receiver["name"]), "send_resolved": True}
            ]
        receivers.append(replaced)
    config["receivers"] = receivers
    config["templates"] = [
        str(config_dir / pattern) if not Path(pattern).is_absolute() else pattern
        for pattern in config.get("templates") or []
    ]
    if not config["templates"]:
        del config["templates"]
    route = config.setdefault("route", {})
    _shorten_waits(route, timing, root=True)
    return config


def _shorten_waits(route: dict[str, Any], timing: Timing, *, root: bool) -> None:
    values = {"group_wait": timing.group_wait, "group_interval": timing.group_interval}
    for key in _ROUTE_TIMING:
        if root or key in route:
            route[key] = duration(values[key])
    for child in route.get("routes") or []:
        _shorten_waits(child, timing, root=False)


def tcp_targets(generated: Mapping[str, Any]) -> list[str]:
    """The static targets of the TCP probes (the DHT bootstrap nodes) of an exporter config."""
    probes = generated.get("probes") or []
    return [t for p in probes if p.get("type") == "tcp" for t in p["targets"].get("static", [])]


def file_patterns(generated: Mapping[str, Any], files: Path | None) -> list[str]:
    """The file probes' patterns of an exporter config, moved into ``files`` (the stack's own
    directory; None: nowhere)."""
    where = files if files is not None else Path("/nonexistent")
    probes = [p for p in generated.get("probes") or [] if p.get("type") == "file"]
    return [f"{where}/{f.rpartition('/')[2]}" for p in probes for f in p["targets"]["files"]]


def exporter_config(
    generated: Mapping[str, Any],
    *,
    agents: Sequence[str],
    timing: Timing,
    files: Path | None = None,
    bootstrap: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``generated`` is the parsed generated exporter.yml. File probes look into ``files`` (the
    stack's own directory, whose dumps the simulator writes) instead of the deployment's; a TCP
    probe whose every target ``bootstrap`` serves (runbook address -> served address) probes
    those."""
    config = copy.deepcopy(dict(generated))
    config["probe_interval"] = duration(timing.probe_interval)
    config["probe_timeout"] = duration(timing.probe_interval)
    config["max_result_age"] = duration(timing.max_result_age)
    config["jitter"] = 0
    served = bootstrap or {}
    for probe in config.get("probes") or []:
        static = probe["targets"].get("static") or []
        if probe.get("type") == "file":
            probe["targets"] = {"files": file_patterns({"probes": [probe]}, files)}
        elif probe.get("type") == "tcp" and static and all(t in served for t in static):
            probe["targets"] = {"static": [served[t] for t in static], "dns": []}
        else:
            probe["targets"] = {"static": list(agents), "dns": []}
    return config


def load_yaml(path: Path) -> Any:
    """A generated file, parsed once per text (shared: callers copy before changing it)."""
    return load_generated_yaml(path.read_text(encoding="utf-8"))


def write_yaml(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, width=1 << 30), encoding="utf-8")
    return path
