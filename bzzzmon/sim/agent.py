"""One simulated BZZZ agent: its metrics (a CollectorRegistry of its own) and health documents.

Values move like a live agent's: counters grow by a seeded random amount each tick, the DHT
latency histogram fills, the peer count wanders between 4 and 8, and exactly one agent of the
cluster is admin. Faults (see :mod:`faults`) bend these values and the health answers.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.process_collector import ProcessCollector

from bzzzmon.conventions import (
    AGENT_DHT_GET,
    AGENT_DHT_LATENCY,
    AGENT_DHT_PROVIDER_RECORDS,
    AGENT_DHT_PUT,
    AGENT_DHT_REPLICATION,
    AGENT_ELECTION_STATE,
    AGENT_ERRORS,
    AGENT_LEADER_CHANGES,
    AGENT_PEERS,
    AGENT_PUBSUB_MESSAGES,
    AGENT_SLURP_EVENTS,
    AGENT_UCXI_RESOLUTIONS,
    ELECTION_STATES,
    LABEL_COMPONENT,
    LABEL_DIRECTION,
    LABEL_OPERATION,
    LABEL_RESULT,
    LABEL_STATE,
)
from bzzzmon.sim.faults import COMPONENTS, FaultSet

# Buckets of the DHT latency histogram; the DHT latency SLO reads le="0.5".
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BASE_DHT_FAILURE_RATIO = 0.002
NORMAL_REPLICATION = 3
# SLURP events a second on the admin. A handful a second would make two dead-lettered events a
# fifth of a 5m window scaled to seconds (and of a young stack's history), so they burned the
# SLURP budget beside the dead-letter alert: at this rate two are well under the 1% budget.
SLURP_EVENTS_PER_SECOND = 50.0
_STATUS_RANK = {"healthy": 0, "degraded": 1, "unhealthy": 2}
_STATUS_BY_RANK = {rank: status for status, rank in _STATUS_RANK.items()}


class AgentModel:
    def __init__(self, index: int, seed: int = 0) -> None:
        self.index = index
        self.agent_id = f"bzzz-agent-{index}"
        self.started = time.time()
        self.rng = random.Random(seed * 1000 + index)
        self.health_rng = random.Random(seed * 1000 + index + 500)  # answers don't shift metrics
        self.peers = 4 + index % 4
        self.election_state = "follower"
        self.dead_lettered = 0  # since the dead-letter fault went on (its ``count`` limit)
        self.registry = CollectorRegistry(auto_describe=True)
        self._define_metrics()

    def _define_metrics(self) -> None:
        r = self.registry
        self.m_peers = Gauge(AGENT_PEERS, "Connected libp2p peers.", registry=r)
        self.m_put = Counter(AGENT_DHT_PUT, "DHT put operations.", [LABEL_RESULT], registry=r)
        self.m_get = Counter(AGENT_DHT_GET, "DHT get operations.", [LABEL_RESULT], registry=r)
        self.m_latency = Histogram(
            AGENT_DHT_LATENCY,
            "DHT operation latency.",
            [LABEL_OPERATION],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.m_replication = Gauge(AGENT_DHT_REPLICATION, "DHT replication factor.", registry=r)
        self.m_providers = Gauge(AGENT_DHT_PROVIDER_RECORDS, "DHT provider records.", registry=r)
        self.m_election = Gauge(
            AGENT_ELECTION_STATE, "1 for the current election state.", [LABEL_STATE], registry=r
        )
        self.m_leader_changes = Counter(AGENT_LEADER_CHANGES, "Admin changes seen.", registry=r)
        self.m_errors = Counter(AGENT_ERRORS, "Errors by component.", [LABEL_COMPONENT], registry=r)
        self.m_pubsub = Counter(
            AGENT_PUBSUB_MESSAGES, "PubSub messages.", [LABEL_DIRECTION], registry=r
        )
        self.m_slurp = Counter(AGENT_SLURP_EVENTS, "SLURP events.", [LABEL_RESULT], registry=r)
        self.m_ucxi = Counter(
            AGENT_UCXI_RESOLUTIONS, "UCXI resolutions.", [LABEL_RESULT], registry=r
        )
        ProcessCollector(registry=r)
        # Every labelled series exists from the start, as in a real agent after its first events.
        for result in ("success", "failure"):
            self.m_put.labels(result)
            self.m_get.labels(result)
            self.m_ucxi.labels(result)
        for operation in ("put", "get"):
            self.m_latency.labels(operation)
        for component in COMPONENTS:
            self.m_errors.labels(component)
        for direction in ("in", "out"):
            self.m_pubsub.labels(direction)
        for result in ("processed", "failed", "dead_lettered"):
            self.m_slurp.labels(result)
        self.provider_records = 1000 + 37 * self.index
        self.m_providers.set(self.provider_records)
        self.m_replication.set(NORMAL_REPLICATION)

    # --- the passing of time -------------------------------------------------------------------
    def advance(self, dt: float, faults: FaultSet, admin: int | None) -> None:
        """Move every value forward by ``dt`` seconds under the active faults."""
        i = self.index
        partition = faults.get("partition", i)
        if partition is not None:
            self.peers = int(partition.params["peers"])
        else:
            self.peers = min(8, max(4, self.peers + self.rng.choice((-1, 0, 0, 0, 1))))
        self.m_peers.set(self.peers)

        self._set_election(admin if faults.get("no_admin", i) is None else None)

        replication = faults.get("replication_degraded", i)
        self.m_replication.set(
            NORMAL_REPLICATION if replication is None else replication.params["factor"]
        )
        failure_ratio = self.dht_failure_ratio(faults)
        for operation, counter, rate in (("put", self.m_put, 5.0), ("get", self.m_get, 20.0)):
            for _ in range(self._events(rate * dt)):
                failed = self.rng.random() < failure_ratio
                counter.labels("failure" if failed else "success").inc()
                self.m_latency.labels(operation).observe(self._latency(operation, failed))
                if failed:
                    self.m_errors.labels("dht").inc()
                elif operation == "put":
                    self.provider_records += 1
        lost = faults.get("provider_records_lost", i)
        fraction = 1.0 if lost is None else float(lost.params["fraction"])
        self.m_providers.set(math.floor(self.provider_records * fraction))

        if faults.get("pubsub_stalled", i) is None:
            traffic = max(self.peers, 0) / 6.0
            self.m_pubsub.labels("in").inc(self._events(40.0 * traffic * dt))
            self.m_pubsub.labels("out").inc(self._events(25.0 * traffic * dt))
        if self.peers == 0:
            self.m_errors.labels("pubsub").inc(self._events(1.0 * dt))

        # SLURP runs on the admin only (the runbook's data flow), unless a fault says otherwise.
        if self.election_state == "admin" or faults.get("slurp_on_follower", i) is not None:
            self._slurp_events(dt, faults)
        ucxi_broken = self._component_status(faults, "ucxi") is not None
        for _ in range(self._events(10.0 * dt)):
            failed = self.rng.random() < (0.5 if ucxi_broken else 0.001)
            self.m_ucxi.labels("failure" if failed else "success").inc()
            if failed:
                self.m_errors.labels("ucxi").inc()

    def _slurp_events(self, dt: float, faults: FaultSet) -> None:
        broken = self._component_status(faults, "slurp") is not None
        dead = faults.get("slurp_dead_letter", self.index)
        dead_ratio = 0.0 if dead is None else float(dead.params["ratio"])
        limit = 0 if dead is None else int(dead.params["count"])
        if dead is None:
            self.dead_lettered = 0
        for _ in range(self._events(SLURP_EVENTS_PER_SECOND * dt)):
            roll = self.rng.random()
            if roll < dead_ratio and not (limit and self.dead_lettered >= limit):
                self.dead_lettered += 1
                self.m_slurp.labels("dead_lettered").inc()
                self.m_errors.labels("slurp").inc()
            elif broken and roll < 0.6:
                self.m_slurp.labels("failed").inc()
                self.m_errors.labels("slurp").inc()
            else:
                self.m_slurp.labels("processed").inc()

    def leader_changed(self) -> None:
        self.m_leader_changes.inc()

    def _set_election(self, admin: int | None) -> None:
        if admin is None:
            self.election_state = "candidate"
        else:
            self.election_state = "admin" if admin == self.index else "follower"
        for state in ELECTION_STATES:
            self.m_election.labels(state).set(1.0 if state == self.election_state else 0.0)

    def dht_failure_ratio(self, faults: FaultSet) -> float:
        fault = faults.get("dht_failure_ratio", self.index)
        return BASE_DHT_FAILURE_RATIO if fault is None else float(fault.params["ratio"])

    def _events(self, expected: float) -> int:
        """A whole number of events averaging ``expected``."""
        whole = math.floor(expected)
        return whole + (1 if self.rng.random() < expected - whole else 0)

    def _latency(self, operation: str, failed: bool) -> float:
        median = 0.012 if operation == "get" else 0.03
        if failed:
            median *= 20  # failures mostly end in a timeout
        return self.rng.lognormvariate(math.log(median), 0.7)

    # --- health --------------------------------------------------------------------------------
    def _component_status(self, faults: FaultSet, component: str) -> str | None:
        fault = faults.get("component_unhealthy", self.index)
        if fault is not None and fault.params["component"] == component:
            return str(fault.params["status"])
        return None

    def checks(self, faults: FaultSet, flapping: bool) -> dict[str, dict[str, Any]]:
        """The ``checks`` of /health/checks, named as the contract names them."""
        i = self.index
        found: dict[str, tuple[str, str]] = {}
        if self.peers >= 3:
            found["pubsub"] = ("healthy", f"{self.peers} peers connected")
        elif self.peers > 0:
            found["pubsub"] = ("degraded", f"only {self.peers} peers connected (want >= 3)")
        else:
            found["pubsub"] = ("unhealthy", "no peers connected")
        ratio = self.dht_failure_ratio(faults)
        replication = faults.get("replication_degraded", i)
        if ratio >= 0.5:
            found["dht"] = ("unhealthy", f"{ratio:.0%} of DHT operations fail")
        elif ratio >= 0.05:
            found["dht"] = ("degraded", f"{ratio:.0%} of DHT operations fail")
        elif replication is not None:
            factor = replication.params["factor"]
            found["dht"] = ("degraded", f"replication factor {factor} (want >= 2)")
        else:
            found["dht"] = ("healthy", f"replication factor {NORMAL_REPLICATION}")
        if self.election_state == "candidate":
            found["election"] = ("unhealthy", "no admin elected")
        elif flapping:
            found["election"] = ("degraded", "admin keeps changing")
        else:
            found["election"] = ("healthy", f"{self.election_state}, admin known")
        found["slurp"] = ("healthy", "context generation running")
        found["ucxi"] = ("healthy", "resolver answering")
        for component in COMPONENTS:
            override = self._component_status(faults, component)
            if override is not None:
                found[component] = (override, f"{component} reported {override} (fault)")
        return {
            f"{component}-health": {
                "status": found[component][0],
                "component": component,
                "message": found[component][1],
                "duration_ms": round(self.health_rng.uniform(0.2, 4.0), 2),
            }
            for component in COMPONENTS
        }

    def health_checks_document(self, faults: FaultSet, flapping: bool) -> dict[str, Any]:
        checks = self.checks(faults, flapping)
        return {
            "status": _worst(c["status"] for c in checks.values()),
            "agent_id": self.agent_id,
            "checks": checks,
        }

    def health_document(self, faults: FaultSet, flapping: bool) -> dict[str, Any]:
        checks = self.checks(faults, flapping)
        return {
            "status": _worst(c["status"] for c in checks.values()),
            "agent_id": self.agent_id,
            "version": "bzzzmon-sim",
            "uptime_seconds": round(time.time() - self.started, 3),
            "peers": self.peers,
            "election_state": self.election_state,
        }

    def metrics_text(self) -> bytes:
        return generate_latest(self.registry)


def _worst(statuses: Any) -> str:
    return _STATUS_BY_RANK[max((_STATUS_RANK[s] for s in statuses), default=0)]
