"""What the generated burn-rate alerts page on, replayed exactly (bzzzmon.slo.replay) for a
99.9%/30d ratio SLO at 1,000 requests a minute: detection and reset per tier, one notification
per incident, no page after a fault has ended, and the low-traffic guard.

The generated promtool tests prove the replay agrees with real promtool step for step
(tests/test_golden.py runs them); these tests pin the behaviour the replay shows.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from bzzzmon.model import SLO
from bzzzmon.slo.replay import Feed, Replay, replay
from bzzzmon.slo.windows import DAY, HOUR
from bzzzmon.spec.plan import load_plan

GOLDEN = Path(__file__).parent / "golden"
STEP = 61  # seconds: divides no window, so no sample sits on a range edge
PER_STEP = Fraction(1000 * STEP, 60)  # 1,000 requests a minute
HISTORY = 3 * DAY + 2 * HOUR  # longer than every window


@pytest.fixture(scope="module")
def slo() -> SLO:
    plan = load_plan(GOLDEN / "minimal" / "specs")
    return next(s for s in plan.slos if s.name == "checkout")


def steps(seconds: float) -> int:
    return int(seconds // STEP)


def play(
    slo: SLO,
    phases: list[tuple[float, Fraction]],
    rate: Fraction = PER_STEP,
    history: float = HISTORY,
) -> Replay:
    """Phases of (seconds, error ratio) at ``rate`` events per step, after ``history`` seconds
    of healthy traffic (0: a fresh install)."""
    bad: list[Fraction] = [Fraction(0)]
    total: list[Fraction] = [Fraction(0)]
    for seconds, ratio in [(history, Fraction(0)), *phases]:
        n = steps(seconds)
        bad += [rate * ratio] * n
        total += [rate] * n
    return replay(slo, Feed(STEP, True, tuple(bad), tuple(total)))


def firing(result: Replay, tier: str) -> list[int]:
    return [i for i, s in enumerate(result.states[tier]) if s == "firing"]


def minutes_after(step: int, start_seconds: float) -> float:
    return (step * STEP - start_seconds) / 60


START = steps(HISTORY) * STEP  # the first faulty increment ends here


def test_total_outage_of_10_minutes_pages_once_fast_and_resets_fast(slo: SLO) -> None:
    result = play(slo, [(600, Fraction(1)), (12 * HOUR, Fraction(0))])
    page = firing(result, "page-fast")
    assert page, "a 10-minute total outage must page"
    # Sloth's shape detects in 1 min; bzzzmon adds `for: 2m` and at most one interval.
    assert minutes_after(page[0], START) <= 3 + STEP / 60
    # It resolves within its 5m short window after the outage, plus one interval.
    assert minutes_after(page[-1], START + 600) <= 5 + STEP / 60
    assert page == list(range(page[0], page[-1] + 1)), "the page flapped"
    for tier in ("page-slow", "ticket-fast", "ticket-slow"):
        assert firing(result, tier) == [], f"{tier} notified for an incident page-fast covered"


def test_20x_burn_for_2h_pages_within_46_minutes_once(slo: SLO) -> None:
    result = play(slo, [(2 * HOUR, Fraction(2, 100)), (12 * HOUR, Fraction(0))])
    page = firing(result, "page-fast")
    assert page
    assert minutes_after(page[0], START) <= 46
    end = START + 2 * HOUR
    assert minutes_after(page[-1], end) <= 5 + STEP / 60
    for tier in ("page-slow", "ticket-fast", "ticket-slow"):
        assert firing(result, tier) == []


def test_no_tier_starts_after_a_step_fault_ended(slo: SLO) -> None:
    for ratio, seconds in [(Fraction(1), 600), (Fraction(1), HOUR), (Fraction(2, 100), 2 * HOUR)]:
        result = play(slo, [(seconds, ratio), (4 * DAY, Fraction(0))])
        ended = steps(HISTORY + seconds)
        for tier, states in result.states.items():
            started = [i for i in range(1, len(states)) if states[i] and not states[i - 1]]
            assert all(i <= ended for i in started), f"{tier} started after the fault ended"


def test_10x_for_3h_tickets_nothing_pages_nothing(slo: SLO) -> None:
    # 10x for 3h spends 4% of the budget: below every page tier's share, and below the 10% of a
    # ticket over 1d or 3d.
    result = play(slo, [(3 * HOUR, Fraction(1, 100)), (HOUR, Fraction(0))])
    assert all(firing(result, t) == [] for t in ("page-fast", "page-slow"))


def test_a_blip_and_a_steady_half_burn_stay_quiet(slo: SLO) -> None:
    blip = play(slo, [(30 * 60, Fraction(5, 1000)), (6 * HOUR, Fraction(0))])
    steady = play(slo, [(4 * DAY, Fraction(5, 10000))])
    for result in (blip, steady):
        assert not any(firing(result, t.name) for t in slo.tiers)


def test_slow_burn_tickets_while_it_lasts_and_closes_after(slo: SLO) -> None:
    # 4x for two days: above ticket-fast's 3x, below the page tiers.
    result = play(slo, [(2 * DAY, Fraction(4, 1000)), (DAY, Fraction(0))])
    ticket = firing(result, "ticket-fast")
    assert ticket
    end = START + 2 * DAY
    assert ticket[0] * STEP < end, "the ticket opened after the burn"
    assert minutes_after(ticket[-1], end) <= 2 * 60 + STEP / 60  # its 2h short window
    assert firing(result, "ticket-slow") == [], "ticket-slow duplicated ticket-fast"
    assert all(firing(result, t) == [] for t in ("page-fast", "page-slow"))


def test_low_traffic_guard_keeps_a_night_of_few_requests_from_paging(slo: SLO) -> None:
    # 30 requests an hour, 3 of them failing: a 10% error ratio on 30 events.
    night = Fraction(30 * STEP, 3600)
    result = play(slo, [(2 * HOUR, Fraction(1, 10))], rate=night)
    assert slo.min_events == 100
    assert firing(result, "page-fast") == []
    # The same ratio at normal traffic pages.
    assert firing(play(slo, [(2 * HOUR, Fraction(1, 10))]), "page-fast")


def test_a_fresh_install_pages_a_fast_burn_before_any_ticket(slo: SLO) -> None:
    # 10x from the first sample for 12 hours: page-slow's 6x over 6h. Read as the history's
    # ratio, the 1d and 3d windows would be at 10x at once and ticket first; prorated, they
    # count the part of the window without data as no errors, as a long healthy history would.
    result = play(slo, [(12 * HOUR, Fraction(1, 100))], history=0)
    page = firing(result, "page-slow")
    assert page, "a 10x burn for 12 hours must page"
    for tier in ("ticket-fast", "ticket-slow"):
        assert firing(result, tier) == [], f"{tier} notified for an incident page-slow covered"
    # 10x spends 6x's 5% of the budget in 3.6 hours, from an empty window as from a healthy one.
    after_history = firing(play(slo, [(12 * HOUR, Fraction(1, 100))]), "page-slow")
    assert abs(page[0] - (after_history[0] - steps(HISTORY))) <= steps(300) + 1


def test_a_fresh_install_at_low_traffic_pages_an_outage_once_and_tickets_nothing(
    slo: SLO,
) -> None:
    """Issue 11, measured on a young live stack: every request failing from the first minutes,
    3 a minute, so page-fast's guard holds it until its raw 1h window counts 100 (33 minutes),
    while the prorated 1d window is over ticket-fast's threshold within minutes. The ticket must
    wait for page-fast's guard, on the same events (no history before them), and then page-fast
    is pending and holds it."""
    slow = Fraction(3 * STEP, 60)
    result = play(slo, [(300, Fraction(0)), (2 * HOUR, Fraction(1))], rate=slow, history=0)
    page = firing(result, "page-fast")
    assert page, "an outage from the first minutes must page once 100 requests are seen"
    assert 33 <= page[0] * STEP / 60 <= 33 + 2 + 2 * STEP / 60  # the guard, then for: 2m
    for tier in ("page-slow", "ticket-fast", "ticket-slow"):
        assert "pending" not in result.states[tier], f"{tier} alerted before page-fast held it"
        assert firing(result, tier) == [], f"{tier} notified for an incident page-fast covered"
    # Once page-fast's window is covered the clause is void: a long low-traffic burn that the
    # guards keep from paging still tickets (10 requests an hour, a tenth of them failing).
    night = Fraction(10 * STEP, 3600)
    tickets = play(slo, [(DAY, Fraction(1, 10))], rate=night)
    assert firing(tickets, "page-fast") == firing(tickets, "page-slow") == []
    assert firing(tickets, "ticket-fast")


@pytest.mark.parametrize(
    "phases",
    [
        [(600, Fraction(1)), (12 * HOUR, Fraction(0))],
        [(2 * HOUR, Fraction(2, 100)), (12 * HOUR, Fraction(0))],
        [(2 * DAY, Fraction(4, 1000)), (DAY, Fraction(0))],
        [(4 * DAY, Fraction(15, 10000))],
    ],
)
def test_a_fault_from_the_first_sample_alerts_as_after_a_long_history(
    slo: SLO, phases: list[tuple[float, Fraction]]
) -> None:
    """The tiers on prorated windows fire for the same steps, give or take the 5m grid the
    coverage counts on and one sample, whether the fault starts on a fresh install or after
    every window is full. (Windows up to 1h read the raw counters unprorated: on a fresh
    install page-fast reads the first minutes' ratio, as it reads any hour's.)"""
    fresh = play(slo, phases, history=0)
    late = play(slo, phases)
    offset = steps(HISTORY)
    for tier in slo.tiers:
        if tier.long in slo.raw_windows:
            continue
        a, b = firing(fresh, tier.name), [i - offset for i in firing(late, tier.name)]
        assert bool(a) == bool(b), tier.name
        if a:
            assert abs(a[0] - b[0]) <= steps(300) + 1, tier.name
            assert abs(a[-1] - b[-1]) <= steps(300) + 1, tier.name
