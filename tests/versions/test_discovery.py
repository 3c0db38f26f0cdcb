"""How bzzzmon picks a binary among PATH, the tools manifest and the environment. The binaries
here are stand-in scripts that print a version (what is tested is the choice, not the tool)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bzzzmon.stack.processes import StackError, find_binary
from bzzzmon.verify import discovery
from tests.conftest import run_cli


def _binary(path: Path, version: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho '{path.name}, version {version} (branch: x)'\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty PATH directory and an empty tools directory, no overrides set."""
    for tool in discovery.NAMES:
        for var in discovery.overrides(tool):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv(discovery.SUITE_ENV, raising=False)
    (tmp_path / "bin").mkdir()
    (tmp_path / "tools").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv(discovery.TOOLS_DIR_ENV, str(tmp_path / "tools"))
    discovery.detect_version.cache_clear()
    return tmp_path


def _manifest(root: Path, rows: list[tuple[str, str, str]]) -> None:
    lines = ["# pins x"]
    for suite, tool, version in rows:
        rel = f"{tool}-{version}/usr/bin/{discovery.NAMES[tool][0]}"
        _binary(root / "tools" / rel, version)
        lines.append(f"{suite}\t{tool}\t{version}\t{version}-1\t{rel}")
    (root / "tools" / discovery.MANIFEST).write_text("\n".join(lines) + "\n")


def test_nothing_found_is_none(env: Path) -> None:
    assert discovery.locate("promtool") is None
    with pytest.raises(StackError, match="prometheus-alertmanager was not found"):
        find_binary("alertmanager")


def test_the_newest_of_the_manifest_wins_over_an_older_path(env: Path) -> None:
    _binary(env / "bin" / "promtool", "2.42.0")
    _manifest(env, [("bookworm", "promtool", "2.42.0"), ("sid", "promtool", "3.5.3")])
    found = discovery.locate("promtool")
    assert found is not None
    assert (found.version, found.origin) == ("3.5.3", "sid")
    assert found.path == str(env / "tools" / "promtool-3.5.3/usr/bin/promtool")
    assert found.describe() == "promtool 3.5.3 (sid)"


def test_a_newer_binary_on_path_wins(env: Path) -> None:
    _binary(env / "bin" / "prometheus-alertmanager", "0.99.0")
    _manifest(env, [("sid", "alertmanager", "0.33.1")])
    assert find_binary("alertmanager") == str(env / "bin" / "prometheus-alertmanager")


def test_the_manifest_wins_a_tie(env: Path) -> None:
    _binary(env / "bin" / "amtool", "0.25.0")
    _manifest(env, [("bookworm", "amtool", "0.25.0")])
    found = discovery.locate("amtool")
    assert found is not None and found.origin == "bookworm"


def test_a_suite_picks_its_own_tools_and_only_them(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _binary(env / "bin" / "prometheus", "3.5.3")
    _manifest(env, [("bookworm", "prometheus", "2.42.0"), ("sid", "prometheus", "3.5.3")])
    monkeypatch.setenv(discovery.SUITE_ENV, "bookworm")
    assert find_binary("prometheus") == str(env / "tools/prometheus-2.42.0/usr/bin/prometheus")
    monkeypatch.setenv(discovery.SUITE_ENV, "trixie")
    assert discovery.locate("prometheus") is None


def test_an_override_wins_and_a_missing_one_finds_nothing(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _manifest(env, [("sid", "promtool", "3.5.3")])
    mine = _binary(env / "elsewhere" / "promtool", "2.53.3")
    monkeypatch.setenv("BZZZMON_PROMTOOL", str(mine))
    found = discovery.locate("promtool")
    assert found is not None
    assert (found.path, found.version, found.origin) == (str(mine), "2.53.3", "BZZZMON_PROMTOOL")
    monkeypatch.setenv("BZZZMON_PROMTOOL", str(env / "nope"))
    assert discovery.locate("promtool") is None


def test_a_listed_binary_that_is_gone_is_not_picked(env: Path) -> None:
    _binary(env / "bin" / "promtool", "2.42.0")
    _manifest(env, [("sid", "promtool", "3.5.3")])
    (env / "tools/promtool-3.5.3/usr/bin/promtool").unlink()
    found = discovery.locate("promtool")
    assert found is not None and found.origin == "PATH"


def test_a_malformed_manifest_is_a_clear_error(env: Path) -> None:
    (env / "tools" / discovery.MANIFEST).write_text("sid\tpromtool\n")
    with pytest.raises(discovery.ManifestError, match=r"manifest.tsv: not a line of the tools"):
        discovery.locate("promtool")
    result = run_cli("build", "--check", env={discovery.TOOLS_DIR_ENV: str(env / "tools")})
    assert result.returncode == 2
    assert result.stderr.startswith("bzzzmon: ") and "rerun `make tools`" in result.stderr
    assert "Traceback" not in result.stderr


def test_versions_compare_as_numbers() -> None:
    assert discovery.version_key("2.53.3") < discovery.version_key("3.5.3")
    assert discovery.version_key("0.9.0") < discovery.version_key("0.33.1")
