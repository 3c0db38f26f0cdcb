"""The output of several services from one specs directory (``bzzzmon.spec.services``).

Each service is rendered and checked by the one-service pipeline on its own; this module then
moves its own files into its subfolders (``conventions.service_paths``: rule files and their
tests under ``prometheus/<service>/``, dashboards, catalog and exporter config under
``<dir>/<service>/``) and composes the files one Prometheus, Alertmanager and Grafana share:
``prometheus.yml`` and its targets, ``alertmanager.yml`` with its templates and tests, the
Grafana provisioning. What would collide is a spec error at the later service's file:line:col:
an alert name or a recorded series two services generate, a scrape job both render differently
or both claim as their own, a receiver or maintenance window declared differently under one
name, different ``service.alertmanager_url`` (one Alertmanager, one set of templates), a
dashboard uid both have, a Swarm stack two services ask for (one stack, named by the one service
with ``service.swarm``, serves them all: ``swarm_stack.render_composed``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from bzzzmon import conventions as C
from bzzzmon.model import Origin, Plan
from bzzzmon.render import alertmanager, prometheus_config, swarm_stack
from bzzzmon.render.dashboards import provisioning
from bzzzmon.render.output import Files, dump_yaml, rendered_yaml
from bzzzmon.render.prometheus_config import service_jobs
from bzzzmon.spec.errors import SpecError, SpecErrors
from bzzzmon.spec.services import origin_error

Rendered = list[tuple[Plan, Files]]

# Files one shared server reads, composed of every service's (each composed below).
_SHARED = frozenset(
    {
        C.PROMETHEUS_CONFIG,
        C.ALERTMANAGER_CONFIG,
        C.ALERTMANAGER_ROUTING_TESTS,
        C.ALERTMANAGER_INHIBITION_TESTS,
        C.ALERTMANAGER_TEMPLATE,
        provisioning.DASHBOARDS_PROVIDER,
        provisioning.DATASOURCE,
    }
)
_TARGETS = f"{C.PROMETHEUS_CONFIG.rsplit('/', 1)[0]}/{C.TARGETS_SUBDIR}/"


class UnplacedFile(Exception):
    """A renderer produced a path this module does not know where to put (a bug)."""


def merged_plan(plans: list[Plan]) -> Plan:
    """The first plan with every service's spec files as origins (for the shared headers)."""
    origins: dict[str, set[str]] = {}
    for plan in plans:
        for section, files in plan.origins.items():
            origins.setdefault(section, set()).update(files)
    return dataclasses.replace(
        plans[0],
        origins={k: tuple(sorted(v)) for k, v in sorted(origins.items())},
        spec_files=tuple(sorted({f for p in plans for f in p.spec_files})),
    )


def relocate(service: str, path: str) -> str:
    """Where a service's own file goes in the composed output."""
    for flat, own in zip(C.service_paths().dirs(), C.service_paths(service).dirs(), strict=True):
        if path.startswith(flat + "/"):
            return own + path[len(flat) :]
    raise UnplacedFile(path)


# --- checks across services ---------------------------------------------------------------------
def _rules(files: Files) -> Iterable[dict[str, Any]]:
    for path, text in sorted(files.items()):
        if not (path.startswith(C.RULES_DIR + "/") and path.endswith(".yml")):
            continue
        try:
            data = rendered_yaml(text) or {}
        except yaml.YAMLError:
            continue  # promtool reports it
        for group in data.get("groups") or []:
            yield from (r for r in group.get("rules") or [] if isinstance(r, dict))


def _origin_of(plan: Plan, rule: dict[str, Any]) -> Origin:
    """The spec item a generated rule comes from, else the service's alert prefix."""
    name = rule.get("alert") or ""
    for alert in plan.alerts:
        if alert.name == name:
            return alert.origin
    slo_name = (rule.get("labels") or {}).get(C.LABEL_SLO)
    for slo in plan.slos:
        if slo.name == slo_name or (name and name == slo.alert_name):
            return slo.origin
    return plan.key_origin("service.alert_prefix")


def _series(rule: dict[str, Any]) -> tuple[str, str, tuple[tuple[str, str], ...]] | None:
    """What a rule writes: an alert name, or a recorded name with its static labels."""
    labels = tuple(sorted((str(k), str(v)) for k, v in (rule.get("labels") or {}).items()))
    if "alert" in rule:
        return ("alert", str(rule["alert"]), ())
    if "record" in rule:
        return ("recording rule", str(rule["record"]), labels)
    return None


_RENAME = {
    "alert": "rename the alert, or give the services different alert_prefix values",
    "recording rule": "rename one of the SLOs: its recorded series are named by it",
}


def _clashing_rules(rendered: Rendered) -> list[SpecError]:
    """Alert names and recorded series (name and static labels) two services both generate:
    one error per spec item, naming the first clash and how many more it makes."""
    first: dict[tuple[str, str, tuple[tuple[str, str], ...]], tuple[Plan, Origin]] = {}
    clashes: dict[tuple[Origin, str, str, str], list[str]] = {}
    where: dict[tuple[Origin, str, str, str], Origin] = {}
    for plan, files in rendered:
        for rule in _rules(files):
            written = _series(rule)
            if written is None:
                continue
            origin = _origin_of(plan, rule)
            seen = first.setdefault(written, (plan, origin))
            if seen[0] is plan:
                continue
            kind, name, labels = written
            shown = "{" + ", ".join(f'{k}="{v}"' for k, v in labels) + "}" if labels else ""
            key = (origin, plan.service.name, seen[0].service.name, kind)
            found = clashes.setdefault(key, [])
            if f"{kind} {name}{shown}" not in found:
                found.append(f"{kind} {name}{shown}")
            where.setdefault(key, seen[1])
    errors = []
    for key, names in clashes.items():
        origin, service, other, kind = key
        more = f" and {len(names) - 1} more" if len(names) > 1 else ""
        errors.append(
            origin_error(
                origin,
                f"service '{service}' generates the {names[0]}{more}, as service '{other}' does",
                f"first at {where[key]}; {_RENAME[kind]}",
            )
        )
    return errors


def _named_items(plans: list[Plan], items: Any, what: str, at: Any, hint: str) -> list[SpecError]:
    """Items (receivers, time intervals) two services declare under one name must be one."""
    errors = []
    first: dict[str, tuple[Plan, Any]] = {}
    for plan in plans:
        for item in items(plan):
            seen = first.setdefault(item["name"], (plan, item))
            if seen[0] is not plan and seen[1] != item:
                errors.append(
                    origin_error(
                        at(plan, item["name"]),
                        f"service '{plan.service.name}' declares the {what} "
                        f"'{item['name']}' differently from service '{seen[0].service.name}'",
                        hint,
                    )
                )
    return errors


def _taken(owned: Iterable[tuple[Plan, str]]) -> Iterator[tuple[Plan, Plan, str]]:
    """(plan, the plan that had it first, key) for each key a later service has too."""
    first: dict[str, Plan] = {}
    for plan, key in owned:
        seen = first.setdefault(key, plan)
        if seen is not plan:
            yield plan, seen, key


def _clashing_jobs(plans: list[Plan]) -> list[SpecError]:
    own = [(p, job) for p in plans for job in dict.fromkeys(j for j, _, _ in service_jobs(p))]
    errors = [
        origin_error(
            plan.key_origin("service.selectors"),
            f"services '{owner.service.name}' and '{plan.service.name}' both "
            f"scrape job '{job}' as their own",
            "each service's selectors name its own job",
        )
        for plan, owner, job in _taken(own)
    ]
    owned = {job for _, job in own}
    rendered: dict[str, tuple[Plan, dict[str, Any]]] = {}
    for plan in plans:
        for job in prometheus_config.config(plan)["scrape_configs"]:
            seen = rendered.setdefault(job["job_name"], (plan, job))
            if seen[0] is not plan and seen[1] != job and job["job_name"] not in owned:
                errors.append(
                    origin_error(
                        plan.key_origin("selectors"),
                        f"service '{plan.service.name}' scrapes job '{job['job_name']}' "
                        f"differently from service '{seen[0].service.name}'",
                        "declare the selector once, in a shared file at the top",
                    )
                )
    return errors


def _one_alertmanager(plans: list[Plan]) -> list[SpecError]:
    urls = {p.service.alertmanager_url for p in plans}
    if len(urls) < 2:
        return []
    return [
        origin_error(
            p.key_origin("service.alertmanager_url"),
            f"service '{p.service.name}' sets service.alertmanager_url to "
            f"'{p.service.alertmanager_url or '(none)'}', service '{plans[0].service.name}' "
            f"to '{plans[0].service.alertmanager_url or '(none)'}'",
            "one Alertmanager serves every service of a directory: set the same URL",
        )
        for p in plans[1:]
        if p.service.alertmanager_url != plans[0].service.alertmanager_url
    ]


def _clashing_dashboards(rendered: Rendered) -> list[SpecError]:
    """Dashboard uids are the service's name and the dashboard's, cut to Grafana's 40
    characters: two long names can still meet."""
    prefix = C.GRAFANA_DASHBOARDS_DIR + "/"
    uids = [
        (plan, path[len(prefix) :].removesuffix(".json"))
        for plan, files in rendered
        for path in files
        if path.startswith(prefix)
    ]
    return [
        origin_error(
            plan.key_origin("service.name"),
            f"services '{seen.service.name}' and '{plan.service.name}' both have a "
            f"dashboard of uid '{uid}' (uids are cut to 40 characters)",
            "give one of the services a shorter name",
        )
        for plan, seen, uid in _taken(uids)
    ]


def _stack_plans(rendered: Rendered) -> list[Plan]:
    return [plan for plan, files in rendered if C.SWARM_STACK in files]


def _one_stack(rendered: Rendered) -> list[SpecError]:
    """One Swarm stack serves the directory: one service names it (``service.swarm``)."""
    deployed = _stack_plans(rendered)
    return [
        origin_error(
            plan.key_origin("service.swarm"),
            f"service '{plan.service.name}' asks for the Swarm stack (service.swarm), as "
            f"service '{deployed[0].service.name}' does",
            f"first at {deployed[0].key_origin('service.swarm')}; one stack serves every "
            "service of a directory: keep service.swarm on the service whose exporter it runs",
        )
        for plan in deployed[1:]
    ]


def check(rendered: Rendered) -> list[SpecError]:
    """Every conflict between the services' outputs, at the later service's spec."""
    plans = [plan for plan, _ in rendered]
    am = {id(p): alertmanager.config(p) for p in plans}
    return sorted(
        _clashing_rules(rendered)
        + _clashing_jobs(plans)
        + _named_items(
            plans,
            lambda p: [r for r in am[id(p)]["receivers"] if r["name"] != C.NULL_RECEIVER],
            "receiver",
            lambda p, name: p.receiver(name).origin,
            "give one of them another name, or declare it once in a shared file at the top",
        )
        + _named_items(
            plans,
            lambda p: am[id(p)].get("time_intervals", []),
            "maintenance window",
            lambda p, _: p.key_origin("routing.maintenance_windows"),
            "give one of them another name",
        )
        + _one_alertmanager(plans)
        + _clashing_dashboards(rendered)
        + _one_stack(rendered)
    )


# --- composition --------------------------------------------------------------------------------
def _provisioning(rendered: Rendered, merged: Plan) -> Files:
    """One dashboards provider per service (each its folder and path); one datasource per
    service, the first the default (Grafana refuses two defaults)."""
    providers: list[Any] = []
    datasources: list[Any] = []
    for _, files in rendered:
        providers += rendered_yaml(files[provisioning.DASHBOARDS_PROVIDER])["providers"]
        datasources += rendered_yaml(files[provisioning.DATASOURCE])["datasources"]
    datasources = [{**d, "isDefault": i == 0} for i, d in enumerate(datasources)]
    sources = merged.files_of("service")
    return {
        provisioning.DASHBOARDS_PROVIDER: dump_yaml(
            {"apiVersion": 1, "providers": providers}, sources
        ),
        provisioning.DATASOURCE: dump_yaml({"apiVersion": 1, "datasources": datasources}, sources),
    }


def compose(rendered: Rendered) -> Files:
    """The whole output of several services. Raises ``SpecErrors`` on a conflict."""
    errors = check(rendered)
    if errors:
        raise SpecErrors(errors)
    plans = [plan for plan, _ in rendered]
    merged = merged_plan(plans)
    files: Files = {}
    for plan, own in rendered:
        for path, text in own.items():
            if path in _SHARED or path.startswith(_TARGETS) or path == C.SWARM_STACK:
                continue
            files[relocate(plan.service.name, path)] = text
    files.update(prometheus_config.render_composed(plans, merged))
    files.update(alertmanager.render_composed(plans, merged))
    files.update(_provisioning(rendered, merged))
    for plan in _stack_plans(rendered):  # one at most (``_one_stack``)
        files.update(swarm_stack.render_composed(plan, plans, merged))
    return dict(sorted(files.items()))
