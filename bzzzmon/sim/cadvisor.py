"""Container metrics of the agents under cAdvisor's names, as the Swarm stack's cAdvisor serves
them (specs/resources.yaml reads them): working set against the memory limit, CPU seconds
against the quota. The root cgroup comes along without a ``name``, as cAdvisor reports it.

Faults push one agent's container toward its limits: ``container_memory_high`` holds its working
set at ``ratio`` of the limit, ``container_cpu_high`` burns ``ratio`` of its CPU quota.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from bzzzmon.sim.faults import FaultSet

MEMORY_LIMIT = 4 * 1024**3  # the runbook's 4-8 GB per agent: its lower end
CPU_PERIOD = 100_000  # microseconds, Docker's default
CPU_QUOTA = 200_000  # --limit-cpu 2
BASE_MEMORY_RATIO = 0.45
BASE_CPU_RATIO = 0.3
SERVICE = "bzzz-v2_bzzz-agent"
IMAGE = "anthonyrawlins/bzzz:v2.0.0"

_HELP = {
    "container_memory_working_set_bytes": ("gauge", "Current working set in bytes."),
    "container_spec_memory_limit_bytes": ("gauge", "Memory limit for the container."),
    "container_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed in seconds."),
    "container_spec_cpu_quota": ("gauge", "CPU quota of the container."),
    "container_spec_cpu_period": ("gauge", "CPU period of the container."),
}


class ContainerModel:
    """The container of agent ``index`` (Swarm task slot ``index + 1``)."""

    def __init__(self, index: int) -> None:
        self.index = index
        task_id = hashlib.sha256(f"bzzz-agent-{index}".encode()).hexdigest()
        self.name = f"{SERVICE}.{index + 1}.{task_id[:25]}"
        self.id = f"/docker/{hashlib.sha256(self.name.encode()).hexdigest()}"
        self.memory = BASE_MEMORY_RATIO * MEMORY_LIMIT
        self.cpu_seconds = 0.0

    def advance(self, dt: float, faults: FaultSet) -> None:
        memory = faults.get("container_memory_high", self.index)
        cpu = faults.get("container_cpu_high", self.index)
        ratio = BASE_MEMORY_RATIO if memory is None else float(memory.params["ratio"])
        self.memory = ratio * MEMORY_LIMIT
        cores = CPU_QUOTA / CPU_PERIOD
        self.cpu_seconds += dt * cores * (BASE_CPU_RATIO if cpu is None else cpu.params["ratio"])

    def labels(self) -> str:
        return (
            f'container_label_com_docker_swarm_service_name="{SERVICE}",'
            f'container_label_com_docker_swarm_task_name="{self.name}",'
            f'id="{self.id}",image="{IMAGE}",name="{self.name}"'
        )


def metrics_text(containers: Sequence[ContainerModel]) -> bytes:
    """cAdvisor's exposition for ``containers`` and the root cgroup."""
    root = 'id="/"'
    values: dict[str, list[tuple[str, float]]] = {
        "container_memory_working_set_bytes": [
            (root, sum(c.memory for c in containers)),
            *((c.labels(), c.memory) for c in containers),
        ],
        "container_spec_memory_limit_bytes": [
            (root, 0),
            *((c.labels(), MEMORY_LIMIT) for c in containers),
        ],
        "container_cpu_usage_seconds_total": [
            (f'cpu="total",{root}', sum(c.cpu_seconds for c in containers)),
            *((f'cpu="total",{c.labels()}', c.cpu_seconds) for c in containers),
        ],
        "container_spec_cpu_quota": [(c.labels(), CPU_QUOTA) for c in containers],
        "container_spec_cpu_period": [(c.labels(), CPU_PERIOD) for c in containers],
    }
    lines = []
    for metric, samples in values.items():
        kind, text = _HELP[metric]
        lines += [f"# HELP {metric} {text}", f"# TYPE {metric} {kind}"]
        lines += [f"{metric}{{{labels}}} {value!r}" for labels, value in samples]
    return ("\n".join(lines) + "\n").encode()
