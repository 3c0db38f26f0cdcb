"""Hostile and careless specs (issue 13): nothing escapes --out, nothing is injected, no secret is
copied, no traceback.

The corpus (tests/hostile/cases.yaml) edits a small base spec (tests/hostile/base/) one way per
case; every case must exit 2 with its message at file:line:col and write nothing. The tests below
it cover what a corpus entry cannot say: --out placement, files that are not files, and that
spec text which is accepted renders literally in the real promtool and amtool.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bzzzmon.build import BuildError, check_paths
from tests.conftest import run_cli, tree

HERE = Path(__file__).parent / "hostile"
BASE = HERE / "base"
CASES: list[dict[str, Any]] = yaml.safe_load((HERE / "cases.yaml").read_text())
BAD_BYTE = "<0xff>"


def make_specs(root: Path, case: dict[str, Any] | None = None) -> Path:
    specs = root / "specs"
    shutil.copytree(BASE, specs)
    case = case or {}
    for name, text in (case.get("files") or {}).items():
        (specs / name).write_text(text)
    edit = case.get("edit")
    if edit:
        path = specs / edit["file"]
        text = path.read_text()
        assert edit["old"] in text, f"{case['id']}: {edit['old']!r} not in {edit['file']}"
        data = text.replace(edit["old"], edit["new"], 1).encode()
        path.write_bytes(data.replace(BAD_BYTE.encode(), b"\xff"))
    return specs


def previous_build(root: Path) -> tuple[Path, dict[str, bytes]]:
    out = root / "out"
    out.mkdir()
    (out / ".bzzzmon-generated").write_text("marker\n")
    (out / "keep.txt").write_text("previous build\n")
    return out, tree(out)


def assert_refused(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_hostile_spec(case: dict[str, Any], tmp_path: Path) -> None:
    specs = make_specs(tmp_path, case)
    out, before = previous_build(tmp_path)

    result = run_cli("build", "--specs", str(specs), "--out", str(out))

    assert_refused(result, f"specs/{case['where']}: error: ", case["message"])
    if case.get("hint"):
        assert case["hint"] in result.stderr, result.stderr
    if case.get("absent"):
        assert case["absent"] not in result.stderr + result.stdout
    assert "nothing was written" in result.stderr
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "specs"]


def test_corpus_covers_every_class() -> None:
    assert len(CASES) >= 60
    assert len({c["id"] for c in CASES}) == len(CASES)


def test_base_spec_builds(tmp_path: Path) -> None:
    """The corpus's errors come from its edits, not from the base."""
    result = run_cli("build", "--specs", str(BASE), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr


# --- 1. nothing outside --out -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("specs/generated", "--out specs/generated is inside --specs specs"),
        ("specs", "--out specs is --specs specs"),
        (".", "--specs specs is inside --out ."),
        ("specs/../specs/x", "is inside --specs specs"),
    ],
)
def test_out_overlapping_specs_is_refused(tmp_path: Path, out: str, message: str) -> None:
    make_specs(tmp_path)
    before = tree(tmp_path)
    result = run_cli("build", "--specs", "specs", "--out", out, cwd=tmp_path)
    assert_refused(result, message)
    assert tree(tmp_path) == before


def test_out_symlink_to_specs_is_refused(tmp_path: Path) -> None:
    specs = make_specs(tmp_path)
    (tmp_path / "gen").symlink_to(specs)
    before = tree(specs)
    result = run_cli("build", "--specs", "specs", "--out", "gen", cwd=tmp_path)
    assert_refused(result, "--out gen is a symbolic link")
    assert tree(specs) == before
    assert (tmp_path / "gen").is_symlink()


def test_out_symlink_into_specs_parent_is_refused(tmp_path: Path) -> None:
    """A symlinked parent is resolved: --out link/generated where link -> specs."""
    specs = make_specs(tmp_path)
    (tmp_path / "link").symlink_to(specs)
    result = run_cli("build", "--specs", "specs", "--out", "link/generated", cwd=tmp_path)
    assert_refused(result, "is inside --specs specs")
    assert not (specs / "generated").exists()


def test_out_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    make_specs(tmp_path)
    (tmp_path / "file").write_text("not a directory\n")
    result = run_cli("build", "--specs", "specs", "--out", "file/out", cwd=tmp_path)
    assert_refused(result, "bzzzmon: cannot write --out file/out")
    assert (tmp_path / "file").read_text() == "not a directory\n"


@pytest.mark.parametrize(
    "path", ["../escaped.yml", "/etc/x.yml", "prometheus/../../x.yml", "a//b.yml", "a\\b.yml"]
)
def test_rendered_paths_are_proved_inside_out(path: str) -> None:
    """The last guard, under every renderer: a path that is not plain is never written."""
    with pytest.raises(BuildError, match="not a plain path inside --out"):
        check_paths({"prometheus/prometheus.yml": "", path: ""})


# --- files that are not spec files ------------------------------------------------------------
def test_directory_named_like_a_spec_is_an_error(tmp_path: Path) -> None:
    specs = make_specs(tmp_path)
    (specs / "more.yaml").mkdir()
    out, before = previous_build(tmp_path)
    result = run_cli("build", "--specs", str(specs), "--out", str(out))
    assert_refused(result, "specs/more.yaml:1:1: error: a directory is named like a spec file")
    assert tree(out) == before


def test_symlink_loop_is_an_error(tmp_path: Path) -> None:
    specs = make_specs(tmp_path)
    (specs / "loop.yaml").symlink_to(specs / "loop.yaml")
    (specs / "dangling.yml").symlink_to(tmp_path / "nowhere.yml")
    result = run_cli("build", "--specs", str(specs), "--out", str(tmp_path / "out"))
    assert_refused(
        result,
        "specs/loop.yaml:1:1: error: the file is a symbolic link loop",
        "specs/dangling.yml:1:1: error: the file is a symbolic link to nothing",
    )
    assert not (tmp_path / "out").exists()


def test_hidden_files_are_not_specs(tmp_path: Path) -> None:
    """Editors' and macOS's hidden files (._x.yaml is resource-fork junk) are skipped."""
    specs = make_specs(tmp_path)
    (specs / ".slos.yaml").write_text("this: [is not a spec\n")
    (specs / "._alerts.yaml").write_bytes(b"\x00\x05\x16\x07 Mac OS X")
    result = run_cli("build", "--specs", str(specs), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr


# --- 2. spec text renders literally -----------------------------------------------------------
TITLE = 'Checkout {{ with query "up" }}{{ . }}{{ end }}'
LABEL = 'ops{{ "-pwned" }}{'
SUMMARY = "Deep {{ $value }} queue <script>alert(1)</script> & <!channel>"


def _literal_spec(root: Path) -> Path:
    specs = make_specs(root)
    slos = specs / "slos.yaml"
    slos.write_text(slos.read_text().replace("title: Checkout success", f"title: '{TITLE}'"))
    service = specs / "service.yaml"
    service.write_text(service.read_text().replace("service: shop\n", f"service: '{LABEL}'\n"))
    alerts = specs / "alerts.yaml"
    alerts.write_text(
        alerts.read_text().replace("summary: The shop queue is deep.", f"summary: '{SUMMARY}'")
    )
    return specs


def _burn_alerts(rules_file: Path, title_in_rule: str) -> list[dict[str, Any]]:
    """The burn-rate alert firing under a total outage (page-fast: it keeps the slower tiers
    quiet), as Prometheus must print it: the title exactly as the spec wrote it, the error
    ratio 100%."""
    groups = yaml.safe_load(rules_file.read_text())["groups"]
    expected = []
    for rule in (r for g in groups for r in g["rules"]):
        if rule.get("alert") != "ShopCheckoutBudgetBurn" or rule["labels"]["tier"] != "page-fast":
            continue
        annotations = {
            k: v.replace(title_in_rule, TITLE).replace("{{ $value | humanizePercentage }}", "100%")
            for k, v in rule["annotations"].items()
        }
        labels = dict(rule["labels"]) | {"service": LABEL}
        expected.append({"exp_labels": labels, "exp_annotations": annotations})
    assert len(expected) == 1
    return expected


def test_spec_text_renders_literally_in_prometheus(tmp_path: Path) -> None:
    """promtool runs the alerts and expands their templates: the SLO title, the summary and the
    label come out exactly as written, while the description (a documented template) is
    expanded."""
    specs = _literal_spec(tmp_path)
    out = tmp_path / "out"
    result = run_cli("build", "--specs", str(specs), "--out", str(out))
    assert result.returncode == 0, result.stderr
    rules = out / "prometheus" / "rules"
    rendered = (rules / "slo-checkout.rules.yml").read_text()
    assert '{{ with query "up" }}' not in rendered.split("- alert:", 1)[1]  # never as an action
    title_in_rule = 'Checkout {{ "{" }}{ with query "up" }}{{ "{" }}{ . }}{{ "{" }}{ end }}'
    test = {
        "rule_files": ["alerts-api.rules.yml", "slo-checkout.rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'queue_depth{job="shop-agent"}', "values": "500x10"},
                    {
                        "series": 'http_requests_total{job="shop-agent", code="500"}',
                        "values": "0+10x200",
                    },
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "7m",
                        "alertname": "ShopQueueDeep",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "alert_kind": "threshold",
                                    "component": "api",
                                    "service": LABEL,
                                    "severity": "P2",
                                },
                                "exp_annotations": {
                                    "summary": SUMMARY,
                                    "description": "The queue holds 500 items.",
                                    "runbook_url": "https://docs.example.com/runbook",
                                    "dashboard_url": "https://grafana.example.com/d/shop-overview",
                                },
                            }
                        ],
                    },
                    {
                        "eval_time": "3h",
                        "alertname": "ShopCheckoutBudgetBurn",
                        "exp_alerts": _burn_alerts(rules / "slo-checkout.rules.yml", title_in_rule),
                    },
                ],
            }
        ],
    }
    (rules / "literal.test.yml").write_text(yaml.safe_dump(test, sort_keys=False))
    run = subprocess.run(
        ["promtool", "test", "rules", "literal.test.yml"],
        cwd=rules,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _render(template_dir: Path, text: str, data: dict[str, Any], tmp: Path, kind: str) -> str:
    (tmp / "data.json").write_text(json.dumps(data))
    run = subprocess.run(
        [
            "amtool",
            "template",
            "render",
            f"--template.glob={template_dir}/*.tmpl",
            f"--template.data={tmp / 'data.json'}",
            f"--template.type={kind}",
            f"--template.text={text}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_slack_and_email_text_is_escaped_by_alertmanager(tmp_path: Path) -> None:
    """The real amtool renders the generated templates: Slack markup and HTML are escaped."""
    specs = _literal_spec(tmp_path)
    out = tmp_path / "out"
    assert run_cli("build", "--specs", str(specs), "--out", str(out)).returncode == 0
    labels = {"alertname": "ShopQueueDeep", "service": "<!channel>", "severity": "P2"}
    alert = {
        "status": "firing",
        "labels": labels,
        "annotations": {"summary": SUMMARY, "description": "d <b>", "runbook_url": "https://r"},
        "startsAt": "2024-01-01T00:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "fingerprint": "1",
    }
    data = {
        "receiver": "chat",
        "status": "firing",
        "alerts": [alert],
        "groupLabels": {},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://am",
    }
    config = yaml.safe_load((out / "alertmanager" / "alertmanager.yml").read_text())
    chat = next(r for r in config["receivers"] if r["name"] == "chat")["slack_configs"][0]
    templates = out / "alertmanager" / "templates"
    slack = _render(templates, f"{chat['title']}\n{chat['text']}", data, tmp_path, "text")
    assert "<script>" not in slack and "<!channel>" not in slack
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt;" in slack
    assert "(&lt;!channel&gt;)" in slack  # the title's service label
    mail = next(r for r in config["receivers"] if r["name"] == "mail")["email_configs"][0]
    html = _render(templates, mail["html"], data, tmp_path, "html")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Deep {{ $value }} queue" in html  # the summary as Prometheus printed it


# --- 5. regexes -------------------------------------------------------------------------------
def test_swarm_service_names_are_escaped_in_relabel_regexes(tmp_path: Path) -> None:
    specs = make_specs(tmp_path)
    service = specs / "service.yaml"
    service.write_text(
        service.read_text().replace("agent_service: shop_agent", "agent_service: shop.agent")
    )
    out = tmp_path / "out"
    result = run_cli("build", "--specs", str(specs), "--out", str(out))
    assert result.returncode == 0, result.stderr  # promtool check config accepted it
    config = yaml.safe_load((out / "prometheus" / "prometheus.yml").read_text())
    agent = config["scrape_configs"][0]
    regexes = [r.get("regex", "") for r in agent["relabel_configs"]]
    assert "(shop\\.agent)?" in regexes
    assert "shop\\.agent;(.+?)(?::[0-9]+)?" in regexes


# --- any edit of the shipped spec: a spec error or a build, never a crash ----------------------
MUTANTS = [
    "{{",
    "x{",
    "../x",
    "\u2028",
    "a\nb",
    "",
    " ",
    "$",
    "$Agent",
    "(",
    "a|.*",
    "1e400",
    1e15,
    -1,
    0,
    99.999,
    100,
    10**20,
    None,
    [],
    {},
    True,
    "x" * 300,
    "http://a b",
    "P9",
    "0s",
    "5m",
    "1y",
    "up{$agent}",
    '{__name__=~".*"}',
    "'",
    '"',
    "\\",
    "#",
    "/run/secrets/x",
    "ünï",
    "service",
]


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in items:
        found += _leaves(child, (*path, key))
    return found


def test_mutated_shipped_specs_never_crash(tmp_path: Path) -> None:
    """Seeded edits of the shipped BZZZ spec, alone (a value replaced by something odd):
    loading, rendering and linting raise nothing but SpecErrors, and an accepted mutant the
    lints pass is accepted by promtool and amtool too."""
    import random

    from bzzzmon.build import CHECKS, render_all
    from bzzzmon.spec.errors import SpecErrors
    from bzzzmon.spec.plan import load_plan
    from tests.shipped import copy_bzzz_alone

    shipped = copy_bzzz_alone(tmp_path, "shipped", tests=False)
    docs = {p.name: yaml.safe_load(p.read_text()) for p in sorted(shipped.glob("*.yaml"))}
    rng = random.Random(13)
    accepted: list[Path] = []
    for i in range(60):
        mutant = yaml.safe_load(yaml.safe_dump(docs))
        name = rng.choice(sorted(mutant))
        path = rng.choice(_leaves(mutant[name]))
        parent = mutant[name]
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = rng.choice(MUTANTS)
        specs = tmp_path / f"m{i}"
        specs.mkdir()
        for file, doc in mutant.items():
            (specs / file).write_text(yaml.safe_dump(doc, allow_unicode=True))
        try:
            plan = load_plan(specs)
        except SpecErrors as exc:
            assert exc.errors, path
            continue
        files = render_all(plan)
        if not [f for check in CHECKS for f in check(plan, files) if f.level == "error"]:
            accepted.append(specs)
    assert accepted  # some mutants are harmless
    for specs in accepted[:3]:
        result = run_cli("build", "--specs", str(specs), "--out", str(tmp_path / "out"))
        assert result.returncode == 0, result.stderr
