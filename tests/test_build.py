"""`bzzzmon build`: atomic replacement, --check, refusing foreign directories, verification."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli, tree
from tests.shipped import BZZZ, GENERATED, MONITORING

MINIMAL = ROOT / "tests" / "golden" / "minimal" / "specs"


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    target = tmp_path / "specs"
    shutil.copytree(MINIMAL, target)
    return target


def test_build_writes_marker_and_replaces_the_whole_tree(specs: Path, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    assert run_cli("build", "--specs", str(specs), "--out", str(out)).returncode == 0
    (out / "stray.yml").write_text("left over by hand\n")
    assert run_cli("build", "--specs", str(specs), "--out", str(out)).returncode == 0
    assert not (out / "stray.yml").exists()
    assert (out / ".bzzzmon-generated").exists()
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    # No staging or backup directories are left beside the output.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generated", "specs"]


def test_check_passes_when_up_to_date_and_names_stale_files(specs: Path, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    assert run_cli("build", "--specs", str(specs), "--out", str(out)).returncode == 0
    ok = run_cli("build", "--specs", str(specs), "--out", str(out), "--check")
    assert ok.returncode == 0, ok.stderr
    assert "up to date" in ok.stdout

    rules = out / "prometheus" / "rules" / "slo-checkout.rules.yml"
    rules.write_text(rules.read_text().replace("0.001", "0.002"))
    (out / "prometheus" / "rules" / "hand-made.yml").write_text("groups: []\n")
    targets = out / "prometheus" / "targets" / "shop.yml"
    targets.unlink()
    before = tree(out)
    stale = run_cli("build", "--specs", str(specs), "--out", str(out), "--check")
    assert stale.returncode == 1
    assert "prometheus/rules/slo-checkout.rules.yml: differs" in stale.stderr
    assert "prometheus/rules/hand-made.yml: extra" in stale.stderr
    assert "prometheus/targets/shop.yml: missing" in stale.stderr
    assert tree(out) == before, "--check must not write"


def test_spec_edit_without_rebuild_is_stale(specs: Path, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    assert run_cli("build", "--specs", str(specs), "--out", str(out)).returncode == 0
    spec = specs / "spec.yaml"
    spec.write_text(spec.read_text().replace("objective: 99.9", "objective: 99.5"))
    result = run_cli("build", "--specs", str(specs), "--out", str(out), "--check")
    assert result.returncode == 1
    assert "slo-checkout.rules.yml: differs" in result.stderr


def test_refuses_to_replace_a_directory_it_did_not_create(specs: Path, tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    result = run_cli("build", "--specs", str(specs), "--out", str(out))
    assert result.returncode == 2
    assert "was not created by bzzzmon build" in result.stderr
    assert (out / "notes.txt").read_text() == "mine\n"


def test_failed_verification_writes_nothing(specs: Path, tmp_path: Path) -> None:
    """A promtool that rejects the rules (a stand-in script: the real one accepts them) must
    leave the previous output untouched and report what the tool said."""
    out = tmp_path / "generated"
    assert run_cli("build", "--specs", str(specs), "--out", str(out)).returncode == 0
    before = tree(out)
    fake = tmp_path / "promtool"
    fake.write_text("#!/bin/sh\necho 'rules.yml: 1:1: group \"x\": bad rule' >&2\nexit 1\n")
    fake.chmod(0o755)
    spec = specs / "spec.yaml"
    spec.write_text(spec.read_text().replace("objective: 99.9", "objective: 99.5"))
    result = run_cli(
        "build", "--specs", str(specs), "--out", str(out), env={"BZZZMON_PROMTOOL": str(fake)}
    )
    assert result.returncode == 1
    assert "bad rule" in result.stderr
    assert "verification failed; nothing was written" in result.stderr
    assert tree(out) == before


def test_require_tools_fails_clearly_when_a_tool_is_missing(specs: Path, tmp_path: Path) -> None:
    env = {
        "PATH": str(tmp_path / "empty-bin"),
        "BZZZMON_TOOLS_DIR": str(tmp_path / "no-tools"),
        "BZZZMON_REQUIRE_TOOLS": "1",
    }
    result = run_cli("build", "--specs", str(specs), "--out", str(tmp_path / "g"), env=env)
    assert result.returncode == 2
    assert "not found on PATH" in result.stderr
    assert "apt-get install" in result.stderr


def test_missing_spec_dir_is_usage_error(tmp_path: Path) -> None:
    result = run_cli("build", "--specs", str(tmp_path / "nope"), "--out", str(tmp_path / "g"))
    assert result.returncode == 2
    assert "spec directory does not exist" in result.stderr
    assert not (tmp_path / "g").exists()


def test_shipped_generated_tree_is_up_to_date() -> None:
    """generated/ is committed; CI fails when someone edits the spec but not the output."""
    result = run_cli("build", "--check", "--require-tools", cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_shipped_rules_pass_promtool() -> None:
    rules = [
        path
        for service in (BZZZ, MONITORING)
        for path in sorted((GENERATED / service.rules_dir).glob("*.yml"))
    ]
    assert rules
    promtool = shutil.which("promtool")
    assert promtool, "promtool must be installed (scripts/install-tools.sh)"
    import subprocess

    proc = subprocess.run(
        [promtool, "check", "rules", *map(str, rules)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_generated_file_says_it_is_generated() -> None:
    for path in (ROOT / "generated").rglob("*"):
        if not path.is_file() or path.name == ".bzzzmon-generated":
            continue
        text = path.read_text()
        if path.suffix == ".json":
            assert "bzzzmon" in text, path
        else:
            assert "Generated by bzzzmon" in text.split("\n", 3)[0] + text, path


def test_rebuild_rewrites_only_what_changed(specs: Path, tmp_path: Path) -> None:
    """An unchanged file is carried over (the same inode); a changed one is written anew."""
    out = tmp_path / "generated"
    assert run_cli("build", "--specs", str(specs), "--out", str(out)).returncode == 0
    rules = out / "prometheus" / "rules" / "slo-checkout.rules.yml"
    targets = out / "prometheus" / "targets" / "shop.yml"
    before = {p: p.stat().st_ino for p in (rules, targets)}
    spec = specs / "spec.yaml"
    spec.write_text(spec.read_text().replace("objective: 99.9", "objective: 99.5"))
    assert run_cli("build", "--specs", str(specs), "--out", str(out)).returncode == 0
    assert targets.stat().st_ino == before[targets]
    assert targets.stat().st_nlink == 1  # the old tree's name is gone
    assert rules.stat().st_ino != before[rules]
    assert "0.005" in rules.read_text()


def test_rebuild_never_shares_a_file_with_something_outside(specs: Path, tmp_path: Path) -> None:
    """A generated file hard-linked or symlinked from elsewhere is written anew, so the next
    build does not write through it and the outside file is not tied to the output."""
    out = tmp_path / "generated"
    assert run_cli("build", "--specs", str(specs), "--out", str(out)).returncode == 0
    linked = out / "prometheus" / "targets" / "shop.yml"
    outside_link = tmp_path / "elsewhere.yml"
    outside_link.hardlink_to(linked)
    symlinked = out / "prometheus" / "prometheus.yml"
    outside_target = tmp_path / "target.yml"
    outside_target.write_text(symlinked.read_text())
    symlinked.unlink()
    symlinked.symlink_to(outside_target)
    assert run_cli("build", "--specs", str(specs), "--out", str(out), "--no-verify").returncode == 0
    assert linked.stat().st_ino != outside_link.stat().st_ino
    assert outside_link.stat().st_nlink == 1
    assert not symlinked.is_symlink()
    assert symlinked.read_text() == outside_target.read_text()
    assert outside_target.stat().st_nlink == 1


def test_check_sees_line_ending_changes(specs: Path, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    assert run_cli("build", "--specs", str(specs), "--out", str(out)).returncode == 0
    targets = out / "prometheus" / "targets" / "shop.yml"
    targets.write_bytes(targets.read_bytes().replace(b"\n", b"\r\n"))
    stale = run_cli("build", "--specs", str(specs), "--out", str(out), "--check", "--no-verify")
    assert stale.returncode == 1
    assert "prometheus/targets/shop.yml: differs" in stale.stderr


def test_check_without_verification_stages_nothing(specs: Path, tmp_path: Path) -> None:
    """With nothing for the tools to read, --check --no-verify only compares: no staging
    directory, not even the parent of --out is created."""
    out = tmp_path / "missing-parent" / "generated"
    result = run_cli("build", "--specs", str(specs), "--out", str(out), "--check", "--no-verify")
    assert result.returncode == 1
    assert "missing (the spec produces it)" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["specs"]


@pytest.mark.parametrize("enabled", [True, False])
def test_build_pauses_the_cycle_collector_and_restores_it(
    specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    """The collector is off while the build renders (its passes over the build's heap cost a
    quarter of the CPU) and afterwards as the caller had it, also when the build fails."""
    import gc

    from bzzzmon import build as build_module
    from bzzzmon.spec.errors import SpecErrors

    seen: list[bool] = []
    real = build_module.render_and_check

    def spy(services: object) -> build_module.BuildResult:
        seen.append(gc.isenabled())
        return real(services)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "render_and_check", spy)
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        result = build_module.build(specs, tmp_path / "out", verify=False)
        assert result.ok and seen == [False]
        assert gc.isenabled() is enabled
        (specs / "spec.yaml").write_text("apiVersion: bzzzmon/v1\nservice: [\n")
        with pytest.raises(SpecErrors):
            build_module.build(specs, tmp_path / "out", verify=False)
        assert gc.isenabled() is enabled, "a failed build must not leave the collector off"
    finally:
        gc.enable() if was else gc.disable()
