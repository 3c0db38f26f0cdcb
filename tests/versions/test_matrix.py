"""Every pinned Prometheus/Alertmanager pair (bookworm 2.42/0.25, trixie 2.53/0.28, sid 3.5/0.33)
on the committed generated/ and the golden outputs: promtool check rules and check config, the
generated and hand-written ``promtool test rules`` files, amtool check-config and the routing
tests; and the same tools rejecting what is wrong, so a pass means something."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bzzzmon import conventions as C
from bzzzmon.verify import amtool, discovery, promtool
from bzzzmon.verify.discovery import Tool, version_key
from bzzzmon.verify.rule_testing import collect, run_rule_tests, run_tests
from bzzzmon.verify.tools import parallel_map, run, workers
from tests.conftest import ROOT, pinned_tools, run_cli
from tests.shipped import BZZZ, GENERATED, SHIPPED_SPECS

TREES = [GENERATED, *sorted((ROOT / "tests" / "golden").glob("*/expected"))]
HANDWRITTEN = sorted((ROOT / "tests" / "promtool").glob("*.test.yml"))
SCRIPT = ROOT / "scripts" / "install-tools.sh"
FAMILY_OF_PACKAGE = {
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "prometheus-alertmanager": "alertmanager",
    "victoria-metrics": "victoria-metrics",
}


def _tree_id(tree: Path) -> str:
    return tree.relative_to(ROOT).as_posix()


def _suite_name(tools: dict[str, Tool]) -> str:
    return next(iter(tools.values())).origin


def test_the_install_script_pins_what_the_matrix_expects() -> None:
    block = re.search(r'^PINS="\n(.*?)^"', SCRIPT.read_text(encoding="utf-8"), re.M | re.S)
    assert block is not None
    pins: dict[str, dict[str, str]] = {}
    for line in block.group(1).splitlines():
        suite, package, version = line.split()
        pins.setdefault(suite, {})[FAMILY_OF_PACKAGE[package]] = version
    assert pins == discovery.PINNED


def test_each_binary_is_the_pinned_version(suite: dict[str, Tool]) -> None:
    name = _suite_name(suite)
    for tool, found in suite.items():
        line = discovery.PINNED[name][discovery.FAMILY[tool]]
        assert found.version == line or found.version.startswith(line + "."), found
        if discovery.FAMILY[tool] != "victoria-metrics":  # Debian's vm binaries print no version
            assert discovery.detect_version(found.path) == found.version, found
    assert {"promtool", "prometheus", "amtool", "alertmanager"} <= set(suite)


@pytest.mark.parametrize("tree", TREES, ids=_tree_id)
def test_rules_and_configs_pass_the_checks(suite: dict[str, Tool], tree: Path) -> None:
    for check in (promtool.check_rules, promtool.check_config, amtool.check_config):
        result = check(tree)
        assert result is not None and result.ok, result
        assert result.command[0] in {t.path for t in suite.values()}


@pytest.mark.parametrize("tree", TREES, ids=_tree_id)
def test_generated_rule_tests_pass(suite: dict[str, Tool], tree: Path) -> None:
    results = run_rule_tests(tree, None, jobs=workers())
    # One service's tests in prometheus/tests, several services' in prometheus/<service>/tests.
    files = [*(tree / C.TESTS_DIR).glob("*.yml"), *(tree / "prometheus").glob("*/tests/*.yml")]
    assert len(results) == len(files) > 0
    failed = {r.label: r.result.output for r in results if not r.ok}
    assert failed == {}
    assert all(r.result.command[0] == suite["promtool"].path for r in results)


def test_handwritten_rule_tests_pass(suite: dict[str, Tool]) -> None:
    assert HANDWRITTEN
    results = parallel_map(
        lambda path: run([suite["promtool"].path, "test", "rules", str(path)], cwd=path.parent),
        HANDWRITTEN,
    )
    assert [r.output for r in results if not r.ok] == []


def test_the_specs_own_rule_tests_pass(suite: dict[str, Tool], tmp_path: Path) -> None:
    # specs/<service>/tests are the user's: a user on any supported version runs them with
    # `bzzzmon test`.
    tests = [
        t
        for t in collect(GENERATED, SHIPPED_SPECS, tmp_path)
        if t.label.startswith(str(SHIPPED_SPECS))
    ]
    assert tests
    results = list(run_tests(tests, jobs=workers()))
    assert {r.label: r.result.output for r in results if not r.ok} == {}
    assert all(r.result.command[0] == suite["promtool"].path for r in results)


@pytest.mark.parametrize("tree", TREES, ids=_tree_id)
def test_routing_tests_pass(suite: dict[str, Tool], tree: Path) -> None:
    result = amtool.test_routes(tree)
    assert result is not None and result.ok, result.output
    assert result.command[0] == suite["amtool"].path
    assert re.search(r"^[1-9]\d* routing tests, \d+ inhibition tests: 0 failed$", result.output)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A writable copy of generated/ to break."""
    out = tmp_path / "generated"
    shutil.copytree(GENERATED, out)
    return out


def test_a_broken_rule_fails_check_rules(suite: dict[str, Tool], copy: Path) -> None:
    path = copy / BZZZ.rules_dir / "alerts-dht.rules.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("expr: ", "expr: sum(", 1), encoding="utf-8")
    result = promtool.check_rules(copy)
    assert result is not None and not result.ok
    assert "alerts-dht.rules.yml" in result.output


def test_a_wrong_expectation_fails_test_rules(suite: dict[str, Tool], copy: Path) -> None:
    path = copy / BZZZ.tests_dir / "alerts-dht.test.yml"
    text = path.read_text(encoding="utf-8")
    assert 'severity="P1"' in text
    path.write_text(text.replace('severity="P1"', 'severity="P3"'), encoding="utf-8")
    for other in copy.glob("prometheus/*/tests/*.yml"):  # every service's
        if other != path:
            other.unlink()
    (result,) = run_rule_tests(copy, None)
    assert not result.ok
    assert [c.alert for c in result.cases] and all(
        c.alert == "BZZZDHTReplicationDegraded" for c in result.cases
    )
    assert {c.expected[0]["severity"] for c in result.cases if c.expected} == {"P3"}


def test_a_wrong_receiver_fails_the_routing_tests(suite: dict[str, Tool], copy: Path) -> None:
    path = copy / C.ALERTMANAGER_ROUTING_TESTS
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("- pager\n", "- ticket\n", 1), encoding="utf-8")
    result = amtool.test_routes(copy)
    assert result is not None and not result.ok
    expected = "expected: ticket, slack-bzzz-alerts\n  got:      pager, slack-bzzz-alerts"
    assert expected in result.output
    assert result.output.endswith("inhibition tests: 1 failed")


def test_build_verifies_with_the_chosen_suite_and_says_so(suite: dict[str, Tool]) -> None:
    name = _suite_name(suite)
    result = run_cli("build", "--check", env={discovery.SUITE_ENV: name})
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert f"promtool {suite['promtool'].version} ({name})" in line
    assert f"amtool {suite['amtool'].version} ({name})" in line


def test_build_verifies_with_the_newest_tools_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(discovery.SUITE_ENV, raising=False)
    newest = max(discovery.PINNED, key=lambda s: version_key(discovery.PINNED[s]["prometheus"]))
    tools = pinned_tools(newest)
    result = run_cli("build", "--check")
    assert result.returncode == 0, result.stderr
    assert f"promtool {tools['promtool'].version} ({newest})" in result.stdout
    assert f"amtool {tools['amtool'].version} ({newest})" in result.stdout
