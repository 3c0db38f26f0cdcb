"""Secrets are named by file and never copied: no secret value appears anywhere in the output."""

from __future__ import annotations

import shutil
from pathlib import Path

from am_testkit import TEST_SPECS, RunningAlertmanager, render_alerting

from bzzzmon import conventions as C
from bzzzmon.build import render_all
from bzzzmon.spec.plan import load_plan
from bzzzmon.verify import amtool

SECRETS = {
    "shop_pagerduty_key": "pd-routing-key-5f2b9c0e7a1d",
    "shop_slack_url": "https://hooks.slack.example.test/services/T000/B000/xoxb-s3cr3t",
    "shop_ticket_token": "ticket-bearer-token-93af17",
    "shop_smtp_password": "smtp-pa55word-c0ffee",
}


def _spec_with_secrets(tmp_path: Path) -> tuple[Path, Path]:
    """The teams spec, naming secret files in a temporary directory that hold real values."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name, value in SECRETS.items():
        (secrets / name).write_text(value + "\n")
    spec = tmp_path / "spec"
    shutil.copytree(TEST_SPECS / "teams", spec)
    service = spec / "service.yaml"
    service.write_text(service.read_text().replace("/run/secrets", str(secrets)))
    return spec, secrets


def test_no_secret_value_appears_in_any_generated_file(tmp_path: Path) -> None:
    spec, secrets = _spec_with_secrets(tmp_path)
    files = render_all(load_plan(spec))
    assert C.ALERTMANAGER_CONFIG in files
    for rel, text in files.items():
        for value in SECRETS.values():
            assert value not in text, f"a secret value leaked into {rel}"
    # ...and the files are named where they belong.
    config = files[C.ALERTMANAGER_CONFIG]
    for name in SECRETS:
        assert str(secrets / name) in config


def test_alertmanager_loads_the_config_with_the_secret_files(tmp_path: Path) -> None:
    spec, _ = _spec_with_secrets(tmp_path)
    out = tmp_path / "out"
    render_alerting(spec, out)
    result = amtool.check_config(out)
    assert result is not None and result.ok, result.output if result else ""
    written = "\n".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert not any(value in written for value in SECRETS.values())
    # The real Alertmanager accepts it (and only reads the secrets when it sends).
    with RunningAlertmanager(tmp_path / "am", out / C.ALERTMANAGER_CONFIG) as am:
        assert am.proc is not None and am.proc.poll() is None
