"""The runbook's incidents as data: the fault that causes each, the alert it must raise, and the
fault to clear. ``bzzzmon demo`` plays them; tests/e2e asserts them on the real stack.

The receivers an incident's alert must reach are not repeated here: they follow from the spec's
routing for the alert's labels (``bzzzmon.render.alertmanager.receivers_for``), so a routing
change in the spec changes the expectation with it. ``severity`` is pinned, so that a spec change
that moves a runbook alert to another severity is noticed by the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bzzzmon.conventions import LABEL_TIER
from bzzzmon.sim.faults import WORLD_FAULTS


@dataclass(frozen=True)
class Fault:
    """A simulator fault (``bzzzmon.sim.FAULTS``); ``agent`` None hits every agent."""

    name: str
    agent: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        call = f"{self.name}({args})" if args else self.name
        if self.name in WORLD_FAULTS:  # a bootstrap node or a backup, no agent's
            return call
        return f"{call} on {'every agent' if self.agent is None else f'agent {self.agent}'}"


@dataclass(frozen=True)
class Scenario:
    name: str
    incident: str  # as the runbook names it
    runbook: str  # the runbook section (anchor)
    faults: tuple[Fault, ...]  # switched on to start the incident
    alert: str  # the alert the incident must raise
    severity: str
    match: Mapping[str, str] = field(default_factory=dict)  # further labels that pick the alert
    clear: tuple[str, ...] = ()  # faults switched off to end it; empty: all of ``faults``

    @property
    def alert_labels(self) -> dict[str, str]:
        """Labels identifying the expected alert among all notifications."""
        return {"alertname": self.alert, **self.match}

    @property
    def faults_to_clear(self) -> tuple[str, ...]:
        return self.clear or tuple(dict.fromkeys(f.name for f in self.faults))


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="system-health-critical",
        incident="System health critical",
        runbook="#system-health-critical-alert-bzzzsystemhealthcritical",
        # Every agent answers its health checks with broken JSON: all components score 0.
        faults=(Fault("malformed_health"),),
        alert="BZZZSystemHealthCritical",
        severity="P0",
    ),
    Scenario(
        name="p2p-partition",
        incident="P2P network partition",
        runbook="#p2p-network-partition-alert-bzzzinsufficientpeers",
        faults=(Fault("partition", params={"peers": 1}),),
        alert="BZZZInsufficientPeers",
        severity="P1",
    ),
    Scenario(
        name="no-admin-elected",
        incident="Election system failure (no admin elected)",
        runbook="#election-system-failure-alert-bzzznoadminelected",
        faults=(Fault("no_admin"),),
        alert="BZZZNoAdminElected",
        severity="P0",
    ),
    Scenario(
        name="dht-replication-degraded",
        incident="DHT replication degraded",
        runbook="#dht-replication-failure-alert-bzzzdhtreplicationdegraded",
        faults=(Fault("replication_degraded", params={"factor": 1}),),
        alert="BZZZDHTReplicationDegraded",
        severity="P1",
    ),
    Scenario(
        name="dht-error-budget-burn",
        incident="DHT operations failing (error-budget burn)",
        runbook="#dht-operations-failing-error",
        # 80% of DHT operations fail: far above 14.4x the 1% budget, so the fast page tier fires.
        faults=(Fault("dht_failure_ratio", params={"ratio": 0.8}),),
        alert="BZZZDHTErrorBudgetBurn",
        severity="P1",
        match={LABEL_TIER: "page-fast"},
    ),
    Scenario(
        name="slurp-error-budget-burn",
        incident="SLURP events failing (error-budget burn)",
        runbook="#data-flow",
        # SLURP on the admin reports unhealthy and fails 60% of its events.
        faults=(Fault("component_unhealthy", params={"component": "slurp"}),),
        alert="BZZZSLURPErrorBudgetBurn",
        severity="P1",
        match={LABEL_TIER: "page-fast"},
    ),
    Scenario(
        name="slurp-dead-lettered",
        incident="SLURP dead-lettered events",
        runbook="#data-flow",
        # Two events, the runbook's "any dead-lettered event": too few to burn the SLURP budget
        # (a dead-letter flood is the SLURP burn's incident).
        faults=(Fault("slurp_dead_letter", params={"ratio": 1, "count": 2}),),
        alert="BZZZSLURPEventDeadLettered",
        severity="P2",
    ),
    Scenario(
        name="slurp-on-non-admin",
        incident="SLURP active on an agent that is not the admin",
        runbook="#election-system-failure-alert-bzzznoadminelected",
        # The simulator's admin is agent 0 (no flapping): agent 1 is a follower.
        faults=(Fault("slurp_on_follower", agent=1),),
        alert="BZZZSLURPActiveOnNonAdmin",
        severity="P2",
    ),
    Scenario(
        name="ucxi-error-budget-burn",
        incident="UCXI resolutions failing (error-budget burn)",
        runbook="#data-flow",
        # Half of UCXI resolutions fail on every agent.
        faults=(Fault("component_unhealthy", params={"component": "ucxi"}),),
        alert="BZZZUCXIErrorBudgetBurn",
        severity="P1",
        match={LABEL_TIER: "page-fast"},
    ),
    Scenario(
        name="pubsub-flow-stopped",
        incident="PubSub messages stop while peers are connected",
        runbook="#p2p-network",
        faults=(Fault("pubsub_stalled", agent=1),),
        alert="BZZZPubSubFlowStopped",
        severity="P1",
    ),
    Scenario(
        name="agent-down",
        incident="An agent down or unreachable (network connectivity issues)",
        runbook="#network-connectivity-issues",
        faults=(Fault("agent_down", agent=2),),
        alert="BZZZAgentDown",
        severity="P2",
    ),
    Scenario(
        name="agents-mostly-down",
        incident="Most agents down at once (network connectivity issues)",
        runbook="#network-connectivity-issues",
        # Two of the three; agent 0, the admin, stays up so no election alert joins in. The page
        # explains each agent's BZZZAgentDown: one P1, no P2 ticket per agent.
        faults=(Fault("agent_down", agent=1), Fault("agent_down", agent=2)),
        alert="BZZZAgentsMostlyDown",
        severity="P1",
    ),
    Scenario(
        name="bootstrap-node-down",
        incident="A DHT bootstrap node down",
        runbook="#p2p-network-partition-alert-bzzzinsufficientpeers",
        faults=(Fault("bootstrap_down", params={"node": "ironwood"}),),
        alert="BZZZDHTBootstrapNodeDown",
        severity="P2",
        match={"target": "ironwood:9102"},  # the alert names the node, as the runbook does
    ),
    Scenario(
        name="bootstrap-nodes-all-down",
        incident="Every DHT bootstrap node down",
        runbook="#p2p-network-partition-alert-bzzzinsufficientpeers",
        # Each node's own alert is inhibited by this one: one page, no ticket per node.
        faults=(Fault("bootstrap_down", params={"node": "all"}),),
        alert="BZZZDHTBootstrapNodesAllDown",
        severity="P1",
    ),
    Scenario(
        name="backup-too-old",
        incident="The newest PostgreSQL backup is older than its daily schedule allows",
        runbook="#database-backup",
        faults=(Fault("backup_too_old", params={"age": 2 * 86400}),),
        alert="BZZZPostgresBackupTooOld",
        severity="P1",
    ),
    Scenario(
        name="backup-empty",
        incident="The newest PostgreSQL backup is empty",
        runbook="#database-backup",
        faults=(Fault("backup_empty"),),
        alert="BZZZPostgresBackupEmpty",
        severity="P1",
    ),
    Scenario(
        name="container-memory-near-limit",
        incident="An agent's container near its memory limit",
        runbook="#high-memory-usage-alert",
        faults=(Fault("container_memory_high", agent=1, params={"ratio": 0.95}),),
        alert="BZZZContainerMemoryNearLimit",
        severity="P2",
    ),
    Scenario(
        name="container-cpu-near-limit",
        incident="An agent's container near its CPU limit",
        runbook="#cpu-optimization",
        faults=(Fault("container_cpu_high", agent=2, params={"ratio": 0.97}),),
        alert="BZZZContainerCPUNearLimit",
        severity="P2",
    ),
    # Last: the alert compares with an hour ago (a minute at the e2e time scale), so the stack
    # must have run that long.
    Scenario(
        name="dht-provider-records-collapsing",
        incident="DHT provider records collapsing",
        runbook="#dht-replication-failure-alert-bzzzdhtreplicationdegraded",
        faults=(Fault("provider_records_lost", params={"fraction": 0.1}),),
        alert="BZZZDHTProviderRecordsCollapsing",
        severity="P1",
    ),
)


def scenario(name: str) -> Scenario:
    """The scenario called ``name``; KeyError naming the known ones otherwise."""
    for found in SCENARIOS:
        if found.name == name:
            return found
    raise KeyError(f"unknown scenario {name!r}; known: {', '.join(s.name for s in SCENARIOS)}")
