"""A corpus of bad specs: each exits 2 with file:line:column and a clear message, writes nothing,
and never prints a traceback."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import run_cli, tree

SERVICE = """\
apiVersion: bzzzmon/v1
service:
  name: shop
  selectors:
    app: {job: shop}
components:
  - name: api
    weight: 1
"""

SLO = """\
apiVersion: bzzzmon/v1
slos:
  - name: checkout
    component: api
    objective: {objective}
    period: {period}
    sli:
      ratio:
        bad: '{bad}'
        total: 'http_requests_total{{$app}}'
    alerting:
      name: ShopCheckoutBudgetBurn
"""


def slo(
    objective: str = "99.9",
    period: str = "30d",
    bad: str = 'http_requests_total{$app, code=~"5.."}',
) -> str:
    return SLO.format(objective=objective, period=period, bad=bad)


ALERT = """\
apiVersion: bzzzmon/v1
alerts:
  - name: {name}
    component: api
    severity: {severity}
    expr: '{expr}'
{extra}    summary: s
    description: d
"""


def alert(
    name: str = "ShopDown", severity: str = "P1", expr: str = "up{$app} == 0", extra: str = ""
) -> str:
    return ALERT.format(name=name, severity=severity, expr=expr, extra=extra)


EXPLANATION = """\
apiVersion: bzzzmon/v1
routing:
  explains:
    - name: x
      cause: {{alertname: {cause}}}
      explains: {explains}
      equal: {equal}
      lead: {lead}
"""


def explanation(
    cause: str,
    explains: str = "{slos: [checkout], alert_kind: burn_rate}",
    equal: str = "[slo]",
    lead: str = "15m",
) -> str:
    """An explanation with a lead (line 8, its value at column 13)."""
    return EXPLANATION.format(cause=cause, explains=explains, equal=equal, lead=lead)


# A severity table whose one receiver is a Slack receiver with the given settings (line 8).
SLACK_RECEIVER = """\
apiVersion: bzzzmon/v1
severities:
  P0: {{title: a, response_time: 15m, resolution_target: 2h, receivers: [chat]}}
  P1: {{title: b, response_time: 1h, resolution_target: 4h, receivers: [chat]}}
  P2: {{title: c, response_time: 4h, resolution_target: 24h, receivers: [chat]}}
  P3: {{title: d, response_time: 1d, resolution_target: 1w, receivers: [chat]}}
receivers:
  - {{name: chat, slack: {slack}}}
"""


@dataclass
class Case:
    id: str
    files: dict[str, str | bytes]
    where: str  # "file:line:col"
    message: str
    hint: str = ""
    base: dict[str, str] = field(default_factory=lambda: {"service.yaml": SERVICE})


BOMB = "apiVersion: bzzzmon/v1\na: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcde", "bcdef", strict=True)
)

CASES = [
    Case(
        "yaml-syntax",
        {"slo.yaml": "apiVersion: bzzzmon/v1\nslos: [name: x\n"},
        "slo.yaml:3:1",
        "YAML syntax error",
    ),
    Case(
        "unknown-key",
        {"slo.yaml": slo().replace("objective:", "objectiv:")},
        "slo.yaml:5:5",
        "unknown key 'objectiv'",
        "did you mean 'objective'?",
    ),
    Case(
        "wrong-type",
        {"slo.yaml": slo(objective="high")},
        "slo.yaml:5:16",
        "slos[0].objective: input should be a valid decimal",
    ),
    Case(
        "objective-100",
        {"slo.yaml": slo(objective="100")},
        "slo.yaml:5:16",
        "input should be less than 100",
    ),
    Case(
        "objective-zero",
        {"slo.yaml": slo(objective="0")},
        "slo.yaml:5:16",
        "input should be greater than 0",
    ),
    Case(
        "bad-duration",
        {"slo.yaml": slo(period="30 days")},
        "slo.yaml:6:13",
        "'30 days' is not a duration",
    ),
    Case(
        "period-too-short",
        {"slo.yaml": slo(period="12h")},
        "slo.yaml:6:13",
        "period '12h' is shorter than 1d",
    ),
    Case(
        "invalid-promql",
        {"slo.yaml": slo(bad="http_requests_total{$app")},
        "slo.yaml:9:15",
        "invalid PromQL",
    ),
    Case(
        "not-a-selector",
        {"slo.yaml": slo(bad="rate(http_requests_total{$app}[5m])")},
        "slo.yaml:9:15",
        "expected a plain series selector",
    ),
    Case(
        "unknown-selector",
        {"slo.yaml": slo(bad="http_requests_total{$nope}")},
        "slo.yaml:9:35",
        "unknown selector '$nope'",
        "known: $app",
    ),
    Case(
        "duplicate-slo-across-files",
        {"a.yaml": slo(), "b.yaml": slo()},
        "b.yaml:3:5",
        "duplicate SLO name 'checkout'",
        "first declared at specs/a.yaml:3",
    ),
    Case(
        "unknown-severity",
        {"alert.yaml": alert(severity="P5")},
        "alert.yaml:5:15",
        "'P5' is not allowed",
        "expected 'P0', 'P1', 'P2' or 'P3'",
    ),
    Case("empty-file", {"empty.yaml": ""}, "empty.yaml:1:1", "the file is empty"),
    Case(
        "comment-only-file",
        {"empty.yaml": "# nothing here\n"},
        "empty.yaml:1:1",
        "the file is empty",
    ),
    Case("yaml-bomb", {"bomb.yaml": BOMB}, "bomb.yaml:", "expands to more than"),
    Case(
        "recursive-alias",
        {"loop.yaml": "apiVersion: bzzzmon/v1\nx: &x [*x]\n"},
        "loop.yaml:2:4",
        "recursive YAML alias",
    ),
    Case(
        "missing-api-version",
        {"slo.yaml": slo().replace("apiVersion: bzzzmon/v1\n", "")},
        "slo.yaml:1:1",
        "missing required key 'apiVersion'",
    ),
    Case(
        "wrong-api-version",
        {"slo.yaml": slo().replace("bzzzmon/v1", "bzzzmon/v2")},
        "slo.yaml:1:13",
        "'bzzzmon/v2' is not allowed",
        "'bzzzmon/v1'",
    ),
    Case(
        "duplicate-key",
        {"slo.yaml": slo().replace("    period: 30d\n", "    period: 30d\n    period: 7d\n")},
        "slo.yaml:7:5",
        "duplicate key 'period' (first set on line 6)",
    ),
    Case(
        "unknown-component",
        {"slo.yaml": slo().replace("component: api", "component: web")},
        "slo.yaml:4:16",
        "unknown component 'web'",
        "known components: api",
    ),
    Case(
        "bad-and-good",
        {
            "slo.yaml": slo().replace(
                "        total:", "        good: 'http_requests_total{$app}'\n        total:"
            )
        },
        "slo.yaml:9:9",
        "exactly one of 'bad' or 'good'",
    ),
    Case(
        "two-sli-kinds",
        {
            "slo.yaml": slo().replace(
                "    alerting:",
                "      latency: {histogram: 'x_seconds{$app}', threshold: 0.5}\n    alerting:",
            )
        },
        "slo.yaml:8:7",
        "exactly one of: ratio, latency, time",
    ),
    Case(
        "service-twice",
        {"other.yaml": SERVICE},
        "service.yaml:2:1",
        "section 'service' is declared twice",
    ),
    Case(
        "no-service",
        {"slo.yaml": slo()},
        "slo.yaml:1:1",
        "no spec file declares the 'service' section",
        base={},
    ),
    Case(
        "tier-short-not-shorter",
        {
            "slo.yaml": slo()
            + (
                "      tiers:\n        - {name: fast, long: 1h, short: 2h, budget_percent: 2,"
                " severity: P1}\n"
            )
        },
        "slo.yaml:14:34",
        "the short window must be shorter than the long",
    ),
    Case(
        "op-without-threshold",
        {"alert.yaml": alert(extra='    op: "<"\n')},
        "alert.yaml:3:5",
        "'op' and 'threshold' go together",
    ),
    Case(
        "alert-name-form",
        {"alert.yaml": alert(name="shop_down")},
        "alert.yaml:3:11",
        "'shop_down' has the wrong form",
    ),
    Case(
        "unknown-receiver",
        {
            "sev.yaml": """\
apiVersion: bzzzmon/v1
severities:
  P0: {title: a, response_time: 15m, resolution_target: 2h, receivers: [pagr]}
  P1: {title: b, response_time: 1h, resolution_target: 4h, receivers: [pager]}
  P2: {title: c, response_time: 4h, resolution_target: 24h, receivers: [pager]}
  P3: {title: d, response_time: 1d, resolution_target: 1w, receivers: [pager]}
receivers:
  - name: pager
    pagerduty: {routing_key_file: /run/secrets/pd}
"""
        },
        "sev.yaml:3:73",
        "unknown receiver 'pagr'",
        "known receivers: pager",
    ),
    Case(
        "slack-person-as-channel",
        {
            "sev.yaml": SLACK_RECEIVER.format(
                slack="{channel: '@tech-lead', api_url_file: /run/secrets/s}"
            )
        },
        "sev.yaml:8:36",
        "a Slack receiver posts to a channel, not to a person",
        "post to a channel and mention them: channel: '#bzzz-alerts', mention: ['@tech-lead']",
    ),
    Case(
        "slack-mention-template",
        {
            "sev.yaml": SLACK_RECEIVER.format(
                slack="{channel: '#ops', mention: ['{{ .Status }}'], api_url_file: /run/secrets/s}"
            )
        },
        "sev.yaml:8:54",
        "a Slack mention is '@handle'",
        "e.g. mention: ['@tech-lead']",
    ),
    Case(
        "missing-severity",
        {
            "sev.yaml": """\
apiVersion: bzzzmon/v1
severities:
  P0: {title: a, response_time: 15m, resolution_target: 2h, receivers: [pager]}
receivers:
  - name: pager
    pagerduty: {routing_key_file: /run/secrets/pd}
"""
        },
        "sev.yaml:2:1",
        "severity P1 is not defined",
    ),
    Case(
        "inhibition-unknown-alert",
        {
            "routing.yaml": """\
apiVersion: bzzzmon/v1
routing:
  inhibitions:
    - name: x
      source: {alertname: ShopDwn}
      target: {components: [api]}
"""
        },
        "routing.yaml:5:27",
        "unknown alert 'ShopDwn'",
        "known alerts:",
    ),
    Case(
        "lead-on-a-threshold-cause",
        # A lead predicts burn tiers from their recorded ratios: a threshold alert has none.
        {"alert.yaml": alert(), "slo.yaml": slo(), "routing.yaml": explanation("ShopDown")},
        "routing.yaml:8:13",
        "lead predicts burn-rate tiers, but the cause of x names none",
        "give the cause just the alertname of an SLO's burn alert and its tiers",
    ),
    Case(
        "lead-on-a-cause-without-tiers",
        {
            "alert.yaml": alert(),
            "slo.yaml": slo(),
            "routing.yaml": explanation("ShopCheckoutBudgetBurn"),
        },
        "routing.yaml:8:13",
        "lead predicts burn-rate tiers, but the cause of x names none",
    ),
    Case(
        "lead-equal-not-on-the-prediction",
        {
            "alert.yaml": alert(),
            "slo.yaml": slo(),
            "routing.yaml": explanation(
                "ShopCheckoutBudgetBurn, tiers: [page-fast]", equal="[slo, instance]"
            ),
        },
        "routing.yaml:8:13",
        "the lead's prediction from SLO checkout's error ratios cannot carry instance",
        "equal only labels of the SLO's group_by (none)",
    ),
    Case(
        "lead-without-a-hold",
        # The explained alert is a threshold alert, so the hold defaults to none.
        {
            "alert.yaml": alert(),
            "slo.yaml": slo(),
            "routing.yaml": explanation(
                "ShopCheckoutBudgetBurn, tiers: [page-fast]", explains="{alertnames: [ShopDown]}"
            ),
        },
        "routing.yaml:8:13",
        "a lead widens the hold of x, which has none",
    ),
    Case(
        "lead-zero",
        {
            "alert.yaml": alert(),
            "slo.yaml": slo(),
            "routing.yaml": explanation("ShopCheckoutBudgetBurn, tiers: [page-fast]", lead="0s"),
        },
        "routing.yaml:8:13",
        "routing.explains[0].lead: '0s' must be longer than zero",
    ),
    Case(
        "zero-weights",
        # Weights share out the exporter's health score: only a probed component has one.
        {"service.yaml": SERVICE.replace("weight: 1", "weight: 0\n    checks: [api]")},
        "service.yaml:7:5",
        "component weights add up to 0",
    ),
    Case(
        "two-documents",
        {"slo.yaml": slo() + "---\napiVersion: bzzzmon/v1\n"},
        "slo.yaml:14:1",
        "a spec file holds one YAML document",
    ),
    Case(
        "top-level-list",
        {"list.yaml": "- apiVersion: bzzzmon/v1\n"},
        "list.yaml:1:1",
        "a spec file is a mapping of sections",
    ),
    Case(
        "histogram-suffix",
        {
            "lat.yaml": """\
apiVersion: bzzzmon/v1
slos:
  - name: latency
    component: api
    objective: 99
    sli:
      latency: {histogram: 'x_seconds_bucket{$app}', threshold: 0.5}
    alerting: {name: ShopLatencyBudgetBurn}
"""
        },
        "lat.yaml:7:29",
        "without its _bucket/_count/_sum suffix",
    ),
    Case(
        "runbook-anchor-form",
        {"alert.yaml": alert(extra="    runbook: api-down\n")},
        "alert.yaml:7:14",
        "'api-down' has the wrong form",
    ),
    Case(
        "probe-without-targets",
        {
            "service.yaml": SERVICE
            + """\
    probes:
      - name: api-tcp
        type: tcp
        targets: {}
"""
        },
        "service.yaml:12:9",
        "probe 'api-tcp' has no targets",
    ),
    Case(
        "file-probe-wildcard-directory",
        {
            "service.yaml": SERVICE
            + """    probes:
      - name: backups
        type: file
        targets:
          files: [/backups/*/bzzz_*.sql.gz]
"""
        },
        "service.yaml:13:19",
        "wildcards only in the file name",
    ),
    Case(
        "file-probe-with-host-targets",
        {
            "service.yaml": SERVICE
            + """    probes:
      - name: backups
        type: file
        targets:
          static: ["db:5432"]
"""
        },
        "service.yaml:12:9",
        "file probe 'backups' takes only 'targets.files'",
    ),
    Case(
        "not-utf8",
        {"bin.yaml": b"apiVersion: bzzzmon/v1\n\xff\xfe\n"},
        "bin.yaml:2:1",
        "the file is not UTF-8 text",
    ),
    Case(
        "alert-name-clash-with-slo",
        {"slo.yaml": slo(), "alert.yaml": alert(name="ShopCheckoutBudgetBurn")},
        "slo.yaml:12:7",
        "duplicate alert name 'ShopCheckoutBudgetBurn'",
    ),
    Case(
        "time-sli-bad-op",
        {
            "t.yaml": """\
apiVersion: bzzzmon/v1
slos:
  - name: workers
    component: api
    objective: 99
    sli:
      time: {expr: 'count(up{$app})', op: "=>", threshold: 2}
    alerting: {name: ShopWorkersBudgetBurn}
"""
        },
        "t.yaml:7:44",
        "'=>' is not allowed",
    ),
    Case(
        # The SLO says its component and would also take it from the data: which one is it?
        "group-by-component-with-own-component",
        {
            "slo.yaml": slo().replace(
                "    component: api\n", "    component: api\n    group_by: [instance, component]\n"
            )
        },
        "slo.yaml:5:26",
        "SLO checkout declares component 'api' and groups by component",
        "drop `component:` to take each group's component from the data",
    ),
    Case(
        # Only the component may come from the data; the SLO's own name label never.
        "group-by-reserved-label",
        {"slo.yaml": slo().replace("    component: api\n", "    group_by: [slo]\n")},
        "slo.yaml:4:16",
        "label 'slo' is set by bzzzmon on the SLO's series; it cannot group the SLI",
        "component only in an SLO without one of its own",
    ),
    Case(
        "float-objective-nan",
        {"slo.yaml": slo(objective=".nan")},
        "slo.yaml:5:16",
        "'.nan' is not a finite number",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_spec(case: Case, tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    for name, text in {**case.base, **case.files}.items():
        if isinstance(text, bytes):
            (specs / name).write_bytes(text)
        else:
            (specs / name).write_text(text)
    assert_refused(tmp_path, specs, case.where, case.message, case.hint)


def assert_refused(tmp_path: Path, specs: Path, where: str, message: str, hint: str) -> None:
    """The build exits 2 naming ``specs/where`` with ``message`` (and ``hint``), no traceback,
    and leaves a previous output as it was."""
    out = tmp_path / "generated"
    out.mkdir()
    (out / ".bzzzmon-generated").write_text("marker\n")
    (out / "keep.txt").write_text("previous build\n")
    before = tree(out)

    result = run_cli("build", "--specs", str(specs), "--out", str(out))

    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert f"specs/{where}" in result.stderr, result.stderr
    assert message in result.stderr, result.stderr
    if hint:
        assert hint in result.stderr, result.stderr
    assert "nothing was written" in result.stderr
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generated", "specs"]


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30
