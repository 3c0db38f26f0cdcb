"""Golden tests: the real CLI on small input specs, compared file by file with the whole output.

Regenerate after an intended change with:  BZZZMON_UPDATE_GOLDEN=1 pytest tests/test_golden.py
and review the diff of tests/golden/ like any other generated output.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli, tree
from tests.shipped import SHIPPED_SPECS

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "specs").is_dir())


@pytest.mark.parametrize("case", CASES)
def test_build_matches_golden(case: str, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    result = run_cli(
        "build", "--specs", str(GOLDEN / case / "specs"), "--out", str(out), "--require-tools"
    )
    assert result.returncode == 0, result.stderr
    expected_dir = GOLDEN / case / "expected"
    if os.environ.get("BZZZMON_UPDATE_GOLDEN"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(out, expected_dir)
    actual, expected = tree(out), tree(expected_dir)
    assert sorted(actual) == sorted(expected), "the set of generated files changed"
    for name in expected:
        assert actual[name].decode() == expected[name].decode(), f"{case}: {name} differs"


@pytest.mark.parametrize("case", CASES)
def test_build_is_deterministic(case: str, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        result = run_cli(
            "build", "--specs", str(GOLDEN / case / "specs"), "--out", str(out), "--no-verify"
        )
        assert result.returncode == 0, result.stderr
    assert tree(first) == tree(second)


@pytest.mark.parametrize("case", CASES)
def test_generated_rule_tests_pass(case: str, tmp_path: Path) -> None:
    """The promtool tests generated for each golden spec pass on the real promtool."""
    out = tmp_path / "generated"
    specs = GOLDEN / case / "specs"
    assert run_cli("build", "--specs", str(specs), "--out", str(out)).returncode == 0
    result = run_cli("test", "--out", str(out), "--specs", str(specs))
    assert result.returncode == 0, result.stdout + result.stderr


def _bzzz_lines(out: Path) -> list[str]:
    """Lines that name BZZZ (bzzzmon, the tool's own name, aside)."""
    found = []
    for name, data in tree(out).items():
        for n, line in enumerate(data.decode().splitlines(), 1):
            if "bzzz" in line.lower().replace("bzzzmon", ""):
                found.append(f"{name}:{n}: {line}")
    return found


def test_a_plain_http_service_gets_nothing_bzzz(tmp_path: Path) -> None:
    """No bzzz-agent/bzzz-exporter scrape, no exporter config or dashboard, no BZZZWatchdog:
    the service's own job, its prefix on every alert, absolute dashboard links."""
    out = tmp_path / "generated"
    result = run_cli("build", "--specs", str(GOLDEN / "http" / "specs"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stdout + result.stderr
    assert _bzzz_lines(out) == []
    files = tree(out)
    assert not [p for p in files if p.startswith("exporter/") or "exporter" in p]
    prometheus = files["prometheus/prometheus.yml"].decode()
    assert "job_name: checkout" in prometheus
    rules = files["prometheus/rules/slo-availability.rules.yml"].decode()
    assert "alert: CheckoutAvailabilityBudgetBurn" in rules
    assert "dashboard_url: https://grafana.example/d/checkout-slo-availability" in rules
    assert 'alertname="CheckoutWatchdog"' in files["alertmanager/alertmanager.yml"].decode()


def test_the_bzzz_spec_still_names_bzzz(tmp_path: Path) -> None:
    """The check above can fail: the shipped BZZZ spec's output does name BZZZ."""
    out = tmp_path / "generated"
    assert (
        run_cli("build", "--specs", str(SHIPPED_SPECS), "--out", str(out), "--no-verify").returncode
        == 0
    )
    assert _bzzz_lines(out)
