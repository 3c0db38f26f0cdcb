"""The BZZZ incidents on VictoriaMetrics: the simulator scraped by victoria-metrics single-node,
the generated rules evaluated by vmalert, the alert routed by the same Alertmanager to the same
receivers as on Prometheus (tests/e2e), and resolved (tests/versions/vm_stack.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bzzzmon.model import Plan
from bzzzmon.stack import StackOptions
from bzzzmon.stack.player import play
from bzzzmon.stack.prepare import build_plan
from bzzzmon.stack.routing import notified_receivers
from bzzzmon.stack.scenarios import SCENARIOS, Scenario
from tests.conftest import pinned_tools
from tests.shipped import SHIPPED_SPECS
from tests.versions.vm_stack import VictoriaMetricsStack

# Labels vmalert adds to every alert (docs/compatibility.md); routing does not read them.
VMALERT_LABELS = {"alertgroup"}


@pytest.fixture(scope="module")
def vm_stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Plan, VictoriaMetricsStack]]:
    pinned_tools("sid")
    out = tmp_path_factory.mktemp("vm-e2e") / "generated"
    plan = build_plan(SHIPPED_SPECS, out, service="bzzz")
    stack = VictoriaMetricsStack(plan, out, StackOptions())
    try:
        stack.start()
        yield plan, stack
    finally:
        stack.stop()


@pytest.mark.e2e
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_each_incident_on_vmalert_reaches_the_receivers_it_reaches_on_prometheus(
    vm_stack: tuple[Plan, VictoriaMetricsStack], scenario: Scenario
) -> None:
    plan, stack = vm_stack
    assert stack.sim is not None
    stack.sim.clear_faults()
    result = play(
        stack,
        scenario,
        expected_receivers=lambda labels: notified_receivers(plan, labels),
        timeout=90,
    )
    expected = notified_receivers(plan, result.labels)
    assert expected and list(result.receivers) == expected
    assert result.severity == scenario.severity
    assert result.resolved_receivers == result.receivers
    assert stack.sink.receivers(scenario.alert_labels) == set(expected)
    assert result.labels["alertgroup"].startswith("bzzz-")  # vmalert's label: Prometheus adds none
    without = {k: v for k, v in result.labels.items() if k not in VMALERT_LABELS}
    assert notified_receivers(plan, without) == expected
