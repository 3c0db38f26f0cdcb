"""The exporters the monitoring stack runs beside bzzzmon's own: which the spec reads, their jobs
and where Swarm finds them.

A part belongs to the deployment when the spec declares its selector (the shipped specs' alerts
read ``$node``, ``$cadvisor`` and ``$postgres``); the generated prometheus.yml then scrapes it and
the generated Swarm stack file runs it. The stack is deployed under the namespace of the spec's
``swarm.exporter_service`` (``bzzz-monitoring_bzzz-exporter``: stack ``bzzz-monitoring``), so a
part's Swarm service is ``<namespace>_<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bzzzmon import conventions as C
from bzzzmon.model import Plan


@dataclass(frozen=True)
class Part:
    selector: str  # the spec's selector naming its job
    default_job: str  # the job when the selector names none
    name: str  # its service in the stack file
    port: int


PARTS: tuple[Part, ...] = (
    Part(C.SELECTOR_NODE, C.NODE_EXPORTER_JOB, "node-exporter", C.NODE_EXPORTER_PORT),
    Part(C.SELECTOR_CADVISOR, C.CADVISOR_JOB, "cadvisor", C.CADVISOR_PORT),
    Part(
        C.SELECTOR_POSTGRES, C.POSTGRES_EXPORTER_JOB, "postgres-exporter", C.POSTGRES_EXPORTER_PORT
    ),
)


def declared_parts(plan: Plan) -> tuple[Part, ...]:
    return tuple(p for p in PARTS if p.selector in plan.service.selectors)


def stack_namespace(plan: Plan) -> tuple[str, str] | None:
    """The monitoring stack's namespace and the exporter's service in it, or None when the spec
    names no Swarm service of the form ``<stack>_<service>``."""
    swarm = plan.service.swarm
    if swarm is None or "_" not in swarm.exporter_service:
        return None
    namespace, _, exporter = swarm.exporter_service.partition("_")
    return (namespace, exporter) if namespace and exporter else None


def swarm_service(plan: Plan, part: Part) -> str | None:
    found = stack_namespace(plan)
    return f"{found[0]}_{part.name}" if found else None
