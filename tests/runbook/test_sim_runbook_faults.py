"""The simulator's faults for the runbook's SLURP, PubSub and DHT-provider signals, and what a
healthy simulator must NOT show: SLURP events on a follower, or any dead-lettered event."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bzzzmon.conventions import (
    AGENT_DHT_PROVIDER_RECORDS,
    AGENT_ELECTION_STATE,
    AGENT_PEERS,
    AGENT_PUBSUB_MESSAGES,
    AGENT_SLURP_EVENTS,
)
from bzzzmon.sim import Simulator

# The simulator contract tests' module-scoped simulator and their fault reset, shared.
from tests.sim.test_sim_contract import metrics as samples
from tests.sim.test_sim_contract import no_faults, sim

__all__ = ["no_faults", "sim"]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def slurp(s: Samples, result: str) -> float:
    return s[(AGENT_SLURP_EVENTS, (("result", result),))]


def messages(s: Samples) -> float:
    return sum(s[(AGENT_PUBSUB_MESSAGES, (("direction", d),))] for d in ("in", "out"))


def admin_index(sim: Simulator) -> int:
    states = [samples(u)[(AGENT_ELECTION_STATE, (("state", "admin"),))] for u in sim.agent_urls]
    assert sorted(states) == [0.0, 0.0, 1.0]
    return states.index(1.0)


def _over(
    sim: Simulator,
    moved: Callable[[list[Samples], list[Samples]], bool],
    seconds: float = 0.6,
    timeout: float = 60,
) -> tuple[list[Samples], list[Samples]]:
    """Samples before and after an interval of at least ``seconds`` that lasts until ``moved``
    (what must grow) holds: on a loaded machine the simulator's ticks can lag, and what must
    NOT grow is then watched over the longer interval. ``timeout`` only guards a hang."""
    before = [samples(u) for u in sim.agent_urls]
    time.sleep(seconds)
    deadline = time.monotonic() + timeout
    after = [samples(u) for u in sim.agent_urls]
    while not moved(before, after) and time.monotonic() < deadline:
        time.sleep(0.2)
        after = [samples(u) for u in sim.agent_urls]
    return before, after


def test_slurp_runs_on_the_admin_only_and_dead_letters_nothing(sim: Simulator) -> None:
    admin = admin_index(sim)
    before, after = _over(
        sim, lambda b, a: slurp(a[admin], "processed") > slurp(b[admin], "processed")
    )
    for i, (b, a) in enumerate(zip(before, after, strict=True)):
        grew = slurp(a, "processed") > slurp(b, "processed")
        assert grew == (i == admin), f"agent {i}"
        assert slurp(a, "dead_lettered") == 0


def test_slurp_on_follower_and_dead_letter_faults(sim: Simulator) -> None:
    follower = (admin_index(sim) + 1) % 3
    sim.set_fault("slurp_on_follower", agent=follower)
    sim.set_fault("slurp_dead_letter", ratio=1)
    before, after = _over(
        sim,
        lambda b, a: slurp(a[follower], "dead_lettered") > slurp(b[follower], "dead_lettered"),
    )
    assert slurp(after[follower], "dead_lettered") > slurp(before[follower], "dead_lettered")
    # A ratio of 1: every event is dead-lettered, none processed.
    assert slurp(after[follower], "processed") == slurp(before[follower], "processed")
    third = 3 - follower - admin_index(sim)
    assert slurp(after[third], "dead_lettered") == slurp(before[third], "dead_lettered") == 0


def test_a_dead_letter_count_stops_at_the_count_and_restarts_with_the_fault(sim: Simulator) -> None:
    admin = admin_index(sim)

    def dead(s: list[Samples]) -> float:
        return slurp(s[admin], "dead_lettered")

    start = dead([samples(u) for u in sim.agent_urls])
    sim.set_fault("slurp_dead_letter", ratio=1, count=2)
    _over(sim, lambda b, a: dead(a) >= start + 2)
    # The count reached, events are processed again and no more is dead-lettered.
    before, after = _over(
        sim, lambda b, a: slurp(a[admin], "processed") > slurp(b[admin], "processed"), 1.0
    )
    assert dead(before) == dead(after) == start + 2
    # Switched off and on again: two more, and no more than two.
    sim.clear_faults("slurp_dead_letter")
    _over(sim, lambda b, a: slurp(a[admin], "processed") > slurp(b[admin], "processed"))
    sim.set_fault("slurp_dead_letter", ratio=1, count=2)
    _over(sim, lambda b, a: dead(a) >= start + 4)
    before, after = _over(
        sim, lambda b, a: slurp(a[admin], "processed") > slurp(b[admin], "processed"), 1.0
    )
    assert dead(before) == dead(after) == start + 4


def test_pubsub_stalled_keeps_peers_and_stops_messages(sim: Simulator) -> None:
    sim.set_fault("pubsub_stalled", agent=1)
    time.sleep(0.1)  # a tick in flight finishes
    before, after = _over(sim, lambda b, a: messages(a[0]) > messages(b[0]))
    assert messages(after[1]) == messages(before[1])
    assert after[1][(AGENT_PEERS, ())] >= 3
    assert messages(after[0]) > messages(before[0])


def test_provider_records_lost_and_restored(sim: Simulator) -> None:
    key = (AGENT_DHT_PROVIDER_RECORDS, ())
    normal = samples(sim.agent_urls[0])[key]
    sim.set_fault("provider_records_lost", fraction=0.1)
    lost = samples(sim.agent_urls[0])[key]
    assert lost <= normal * 0.1 + 10  # a few puts may land meanwhile
    sim.clear_faults()
    assert samples(sim.agent_urls[0])[key] >= normal


@pytest.mark.parametrize(
    ("name", "params"),
    [("slurp_dead_letter", {"ratio": 2}), ("provider_records_lost", {"fraction": -1})],
)
def test_bad_fault_parameters_are_refused(
    sim: Simulator, name: str, params: dict[str, float]
) -> None:
    with pytest.raises(ValueError, match="must be a number from 0 to 1"):
        sim.set_fault(name, **params)
    assert sim.active_faults() == []


def test_clearing_a_fault_by_name_clears_it_on_every_agent(sim: Simulator) -> None:
    sim.set_fault("pubsub_stalled", agent=1)
    sim.set_fault("pubsub_stalled", agent=2)
    sim.set_fault("slurp_on_follower", agent=1)
    sim.clear_faults("pubsub_stalled")
    assert [f["name"] for f in sim.active_faults()] == ["slurp_on_follower"]
    sim.clear_faults("slurp_on_follower", agent=2)  # not on for agent 2: nothing changes
    assert [f["agent"] for f in sim.active_faults()] == [1]
