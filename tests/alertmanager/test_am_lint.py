"""The routing lint: per-agent inhibition sources must compare the agent, every severity must
reach a receiver, and alerts without a known severity need a catch-all."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from am_testkit import TEST_SPECS, Rendered

from bzzzmon.lint import Finding, routing
from bzzzmon.render.alertmanager.alerts import identity_of
from bzzzmon.spec.plan import load_plan
from tests.shipped import copy_bzzz_alone


def _findings(rendered: Rendered) -> list[Finding]:
    plan, _ = rendered
    return routing.check(plan, {})


def test_the_shipped_routing_is_clean(shipped: Rendered) -> None:
    assert _findings(shipped) == []


def test_a_per_agent_source_without_the_agent_in_equal_is_flagged(teams: Rendered) -> None:
    flagged = {
        f.subject.split()[-1]: f for f in _findings(teams) if f.rule == "inhibition-identity"
    }
    # ShopDatabaseDown is `up{...} == 0`: one database instance down hides every cart alert.
    assert set(flagged) == {"db-down-explains-cart", "p0-silences-p3"}
    finding = flagged["db-down-explains-cart"]
    assert finding.level == "warning"
    assert finding.where == "teams/service.yaml:81:7"
    assert finding.subject == "inhibition db-down-explains-cart"
    assert finding.key == "routing.inhibitions[].equal"
    assert "per agent (instance, swarm_node, swarm_task_slot)" in finding.message
    assert finding.hint.startswith("add instance to equal")


def _edited(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    copy = tmp_path / source.name
    shutil.copytree(source, copy)
    return _edit(copy, old, new)


def _edit(copy: Path, old: str, new: str) -> Path:
    service = copy / "service.yaml"
    text = service.read_text()
    assert old in text
    service.write_text(text.replace(old, new, 1))
    return copy


def test_the_agent_label_in_equal_or_any_instance_clears_it(tmp_path: Path) -> None:
    old = (
        "      source: {alertname: ShopDatabaseDown}\n"
        "      target: {components: [cart, checkout]}\n"
        "      equal: [service]\n"
    )
    for fix in ("equal: [service, instance]", "equal: [service]\n      any_instance: true"):
        spec = _edited(
            tmp_path / str(len(fix)),
            TEST_SPECS / "teams",
            old,
            old.replace("equal: [service]", fix),
        )
        names = [
            f.subject for f in routing.check(load_plan(spec), {}) if f.rule == "inhibition-identity"
        ]
        assert not [n for n in names if n.endswith("db-down-explains-cart")]


def test_the_shipped_partition_inhibition_without_instance_is_flagged(tmp_path: Path) -> None:
    old = (
        "      target: {alertnames: [BZZZDHTReplicationDegraded], "
        "slos: [dht-operations, dht-latency]}\n"
        "      equal: [service, instance]"
    )
    spec = _edit(copy_bzzz_alone(tmp_path), old, old.replace(", instance]", "]"))
    (finding,) = routing.check(load_plan(spec), {})
    assert finding.rule == "inhibition-identity"
    assert finding.subject == "inhibition partition-explains-dht"
    assert "per agent (instance, swarm_node, swarm_task_slot)" in finding.message


def test_unrouted_severities_and_no_catch_all_are_flagged(minimal: Rendered) -> None:
    findings = _findings(minimal)
    unrouted = [f for f in findings if f.rule == "unrouted-severity"]
    assert unrouted[1].subject == "severity P1"
    assert unrouted[1].message == (
        "reaches no receiver: its 1 alert(s) notify nobody; set severities.P1.receivers"
    )
    assert unrouted[1].key == "severities.P1.receivers"
    assert "receivers:" in unrouted[1].hint
    assert len(unrouted) == 4
    (catch_all,) = [f for f in findings if f.rule == "no-catch-all"]
    assert catch_all.key == "routing.catch_all" and "catch_all: [" in catch_all.hint


def test_a_catch_all_clears_the_warning(tmp_path: Path) -> None:
    spec = _edit(copy_bzzz_alone(tmp_path), "  catch_all: [slack-bzzz-alerts]\n", "")
    assert [f.rule for f in routing.check(load_plan(spec), {})] == ["no-catch-all"]


AGENT = {"instance", "swarm_node", "swarm_task_slot"}


@pytest.mark.parametrize(
    ("expr", "identity"),
    [
        (
            'bzzz_p2p_connected_peers{job="bzzz-agent"}',
            {"instance", "swarm_node", "swarm_task_slot"},
        ),
        ("sum by (instance) (rate(bzzz_errors_total[5m]))", {"instance"}),
        ("sum by (component) (x)", set()),
        ("min(bzzz_system_health_score)", set()),
        ("avg(x) < 2", set()),
        ('up{job="e"} == 0 or absent(up{job="e"})', AGENT),
        ('sum(x{state="admin"}) or vector(0)', set()),
        ("sum without (job) (x)", AGENT),
        ("label_replace(max by (swarm_node) (x), 'a', '$1', 'b', '(.*)')", {"swarm_node"}),
    ],
)
def test_which_agent_labels_an_expression_keeps(expr: str, identity: set[str]) -> None:
    assert identity_of(expr) == identity
