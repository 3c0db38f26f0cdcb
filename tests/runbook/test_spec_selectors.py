"""Top-level ``selectors`` in any spec file: merged with service.selectors and usable from
every file; a name declared twice is an error at the second declaration, and nothing is
written."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli, tree

SERVICE = """\
apiVersion: bzzzmon/v1
service:
  name: shop
  runbook_url: https://example.org/runbook
  selectors:
    app: {job: shop}
components:
  - name: db
    weight: 1
"""

DB = """\
apiVersion: bzzzmon/v1
selectors:
  pg:
    job: postgres-exporter
metrics:
  pg_up: gauge
alerts:
  - name: SHOPPostgresDown
    component: db
    severity: P1
    expr: 'pg_up{$pg} == 0'
    runbook: "#db"
    summary: s
    description: d
"""


def _specs(tmp_path: Path, files: dict[str, str]) -> Path:
    specs = tmp_path / "specs"
    specs.mkdir()
    for name, text in files.items():
        (specs / name).write_text(text, encoding="utf-8")
    return specs


def test_a_file_declares_the_selector_its_alerts_use(tmp_path: Path) -> None:
    specs = _specs(tmp_path, {"service.yaml": SERVICE, "db.yaml": DB})
    out = tmp_path / "out"
    result = run_cli("build", "--specs", str(specs), "--out", str(out))
    assert result.returncode == 0, result.stderr
    rules = (out / "prometheus/rules/alerts-db.rules.yml").read_text(encoding="utf-8")
    assert 'expr: pg_up{job="postgres-exporter"} == 0' in rules


def test_a_selector_declared_twice_is_an_error_at_the_second(tmp_path: Path) -> None:
    twice = DB.replace("  pg:\n", "  app:\n    job: other\n  pg:\n")
    specs = _specs(tmp_path, {"service.yaml": SERVICE, "db.yaml": twice})
    out = tmp_path / "out"
    result = run_cli("build", "--specs", str(specs), "--out", str(out))
    assert result.returncode == 2
    assert "db.yaml:3:3: error: duplicate selector name 'app'" in result.stderr
    assert "first declared at" in result.stderr and "service.yaml:6" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree(out) == {}
