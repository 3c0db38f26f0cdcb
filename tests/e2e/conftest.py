"""One real stack for the whole e2e session: simulator, `bzzzmon exporter`, Prometheus 2.42 and
Alertmanager 0.25 on 127.0.0.1, loading what `bzzzmon build` renders of the BZZZ service of
specs/ (specs/bzzz/ with specs/shared.yaml).

The rules run time-scaled (bzzzmon/stack/timescale.py: 1 min of rule time = 1 s); the P0
resolution target is shortened in the plan (to ESCALATION_TARGET of rule time, forgiving
ESCALATION_TOLERANCE of flaps), so the real escalation rule, rendered from that plan, escalates
within seconds. Everything else is the
shipped spec.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import ESCALATED_SEVERITY, ESCALATION_TARGET, ESCALATION_TOLERANCE

from bzzzmon.model import Plan
from bzzzmon.stack import Stack, StackError, StackOptions
from bzzzmon.stack.prepare import build_plan
from bzzzmon.stack.processes import INSTALL_COMMAND, find_binary
from tests.shipped import SHIPPED_SPECS

# BZZZMON_E2E_SPECS runs the suite against another spec directory (its only, or its Swarm
# service); the shipped one runs its BZZZ service.
SPECS = Path(os.environ.get("BZZZMON_E2E_SPECS") or SHIPPED_SPECS)
SERVICE = None if os.environ.get("BZZZMON_E2E_SPECS") else "bzzz"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that run the stack (test_e2e_*.py) as e2e; the unit tests here are not."""
    here = Path(__file__).parent
    for item in items:
        path = Path(str(item.fspath))
        if path.parent == here and path.name.startswith("test_e2e_"):
            item.add_marker(pytest.mark.e2e)


def _require_binaries() -> None:
    try:
        find_binary("prometheus")
        find_binary("alertmanager")
    except StackError as exc:
        if os.environ.get("BZZZMON_REQUIRE_TOOLS"):
            pytest.fail(str(exc))
        pytest.skip(f"{exc} (the e2e tests need: {INSTALL_COMMAND})")


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Path]:
    out = tmp_path_factory.mktemp("e2e") / "generated"
    plan = build_plan(
        SPECS,
        out,
        resolution_targets={ESCALATED_SEVERITY: ESCALATION_TARGET},
        escalation_tolerance=ESCALATION_TOLERANCE,
        service=SERVICE,
    )
    return plan, out


@pytest.fixture(scope="session")
def plan(generated: tuple[Plan, Path]) -> Plan:
    return generated[0]


@pytest.fixture(scope="session")
def session_stack(generated: tuple[Plan, Path]) -> Iterator[Stack]:
    _require_binaries()
    plan, out = generated
    stack = Stack(plan, out, StackOptions())
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(out, ignore_errors=True)


@pytest.fixture
def stack(session_stack: Stack) -> Iterator[Stack]:
    """The shared stack, with no fault left on by the previous test."""
    assert session_stack.sim is not None
    session_stack.sim.clear_faults()
    yield session_stack
    session_stack.sim.clear_faults()
