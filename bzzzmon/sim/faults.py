"""The simulator's faults: names, their parameters, and which agents an active fault hits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Check components, in the order /health/checks lists them.
COMPONENTS = ("pubsub", "dht", "election", "slurp", "ucxi")

# name -> {parameter: default}; a default of None means the parameter is required.
FAULTS: Mapping[str, Mapping[str, Any]] = {
    "partition": {"peers": 1},  # connected peers drop below 3
    "no_admin": {},  # no agent is admin (all candidates)
    "leader_flapping": {},  # the admin changes every tick
    "replication_degraded": {"factor": 1},  # DHT replication factor below 2
    "dht_failure_ratio": {"ratio": None},  # share of DHT operations that fail
    "slow_checks": {"delay": 2.0},  # /health and /health/checks answer after `delay` seconds
    "hung_checks": {},  # /health and /health/checks never answer
    "malformed_health": {},  # /health and /health/checks answer broken JSON
    "agent_down": {},  # the agent's port refuses connections
    "component_unhealthy": {"component": None, "status": "unhealthy"},
    # share of SLURP events dead-lettered; count > 0: only that many, from the fault's start
    "slurp_dead_letter": {"ratio": 0.5, "count": 0},
    "slurp_on_follower": {},  # SLURP processes events although the agent is not admin
    "pubsub_stalled": {},  # no PubSub message flows; peers stay connected
    "provider_records_lost": {"fraction": 0.1},  # DHT provider records fall to this fraction
    "container_memory_high": {"ratio": 0.95},  # the container's working set / memory limit
    "container_cpu_high": {"ratio": 0.95},  # the container's CPU use / its quota
    # Not an agent's: the world around them (agent must be null).
    "bootstrap_down": {"node": "all"},  # a DHT bootstrap node (by name) or all refuse connections
    "backup_too_old": {"age": 172800.0},  # the newest dump is this many seconds old
    "backup_empty": {},  # the newest dump is empty
}
# Faults of the world around the agents: they take no agent.
WORLD_FAULTS = frozenset({"bootstrap_down", "backup_too_old", "backup_empty"})


@dataclass(frozen=True)
class Fault:
    name: str
    agent: int | None  # None: every agent
    params: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "agent": self.agent, "params": dict(sorted(self.params.items()))}


def make_fault(
    name: str,
    agent: int | None,
    agents: int,
    params: Mapping[str, Any],
    nodes: Sequence[str] = (),
) -> Fault:
    """Validate a fault request (``nodes``: the bootstrap node names); raise ValueError with a
    message meant for the requester."""
    if name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(FAULTS))}")
    if name in WORLD_FAULTS and agent is not None:
        raise ValueError(f"{name} is not an agent's fault: agent must be null")
    if agent is not None and (
        isinstance(agent, bool) or not isinstance(agent, int) or not 0 <= agent < agents
    ):
        raise ValueError(f"agent must be an index from 0 to {agents - 1}, or null for all")
    spec = FAULTS[name]
    unknown = sorted(set(params) - set(spec))
    if unknown:
        allowed = ", ".join(sorted(spec)) or "none"
        raise ValueError(f"{name}: unknown parameter {unknown[0]!r} (parameters: {allowed})")
    values = {k: params.get(k, default) for k, default in spec.items()}
    missing = sorted(k for k, v in values.items() if v is None)
    if missing:
        raise ValueError(f"{name}: parameter {missing[0]!r} is required")
    _check_values(name, values)
    if name == "bootstrap_down" and values["node"] not in ("all", *nodes):
        known = ", ".join(("all", *nodes))
        raise ValueError(f"{name}: node must be one of {known}")
    return Fault(name, agent, values)


def _check_values(name: str, values: dict[str, Any]) -> None:
    def number(key: str, low: float, high: float) -> None:
        value = values[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise ValueError(f"{name}: {key} must be a number from {low:g} to {high:g}")

    if name == "partition":
        number("peers", 0, 2)
        values["peers"] = int(values["peers"])
    elif name == "replication_degraded":
        number("factor", 0, 1)
        values["factor"] = int(values["factor"])
    elif name == "dht_failure_ratio":
        number("ratio", 0, 1)
    elif name == "slurp_dead_letter":
        number("ratio", 0, 1)
        number("count", 0, 1_000_000)
        values["count"] = int(values["count"])
    elif name == "provider_records_lost":
        number("fraction", 0, 1)
    elif name in ("container_memory_high", "container_cpu_high"):
        number("ratio", 0, 1)
    elif name == "backup_too_old":
        number("age", 0, 10 * 365 * 86400)
    elif name == "slow_checks":
        number("delay", 0, 600)
    elif name == "component_unhealthy":
        if values["component"] not in COMPONENTS:
            raise ValueError(f"{name}: component must be one of {', '.join(COMPONENTS)}")
        if values["status"] not in ("unhealthy", "degraded"):
            raise ValueError(f"{name}: status must be unhealthy or degraded")


class FaultSet:
    """Active faults, keyed by (name, agent); a fault for agent None hits every agent."""

    def __init__(self) -> None:
        self._faults: dict[tuple[str, int | None], Fault] = {}

    def add(self, fault: Fault) -> None:
        self._faults[(fault.name, fault.agent)] = fault

    def remove(self, name: str | None = None, agent: int | None = None) -> None:
        """Clear every fault (no name), one name for one agent, or one name wherever it is on
        (agent None: the all-agents entry and every agent's own)."""
        if name is None:
            self._faults.clear()
        elif agent is not None:
            self._faults.pop((name, agent), None)
        else:
            for key in [k for k in self._faults if k[0] == name]:
                del self._faults[key]

    def get(self, name: str, agent: int) -> Fault | None:
        """The fault ``name`` affecting ``agent`` (its own entry wins over the global one)."""
        return self._faults.get((name, agent)) or self._faults.get((name, None))

    def world(self, name: str) -> Fault | None:
        """The world fault ``name`` (WORLD_FAULTS), if on."""
        return self._faults.get((name, None))

    def active(self, name: str) -> bool:
        return any(key[0] == name for key in self._faults)

    def all(self) -> list[Fault]:
        return [self._faults[k] for k in sorted(self._faults, key=lambda k: (k[0], k[1] or -1))]
