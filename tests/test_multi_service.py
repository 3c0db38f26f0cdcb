"""Several services in one specs directory (bzzzmon.spec.services, bzzzmon.compose): what is
inherited and composed, what stays apart, and every conflict between services as a spec error
(file:line:col, exit 2, nothing written). The whole output is pinned by tests/golden/multi."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bzzzmon.render.alertmanager.inhibit import is_inhibited
from bzzzmon.render.alertmanager.routes import match_routes
from tests.conftest import run_cli, tree
from tests.test_bad_specs import assert_refused

SHARED = """\
apiVersion: bzzzmon/v1
severities:
  P0: {title: Critical, response_time: 15m, resolution_target: 2h, receivers: [oncall]}
  P1: {title: High, response_time: 1h, resolution_target: 4h, receivers: [oncall]}
  P2: {title: Medium, response_time: 4h, resolution_target: 1d, receivers: [chat]}
  P3: {title: Low, response_time: 1d, resolution_target: 1w, receivers: [chat]}
receivers:
  - name: oncall
    pagerduty: {routing_key_file: /run/secrets/pd}
  - name: chat
    slack: {channel: "#ops", api_url_file: /run/secrets/slack}
routing:
  catch_all: [chat]
"""


def service(
    name: str,
    prefix: str,
    job: str,
    slo: str = "availability",
    extra: str = "",
) -> str:
    return f"""\
apiVersion: bzzzmon/v1
service:
  name: {name}
  alert_prefix: {prefix}
  selectors:
    app: {{job: {job}}}
  runbook_url: https://runbooks.example/{name}.md
  grafana_url: https://grafana.example
{extra}metrics:
  http_requests_total: counter
slos:
  - name: {slo}
    objective: 99.9
    period: 30d
    sli:
      ratio:
        bad: 'http_requests_total{{$app, code=~"5.."}}'
        total: 'http_requests_total{{$app}}'
"""


BASE = {
    "shared.yaml": SHARED,
    "api/service.yaml": service("api", "Api", "api", "api-availability"),
    "web/service.yaml": service("web", "Web", "web", "web-availability"),
}


def write(root: Path, files: dict[str, str]) -> Path:
    specs = root / "specs"
    for name, text in files.items():
        (specs / name).parent.mkdir(parents=True, exist_ok=True)
        (specs / name).write_text(text)
    return specs


def build(tmp_path: Path, files: dict[str, str]) -> tuple[Path, str]:
    specs = write(tmp_path, files)
    out = tmp_path / "generated"
    result = run_cli("build", "--specs", str(specs), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result.stdout + result.stderr


def load(out: Path, path: str) -> dict:  # type: ignore[type-arg]
    data = yaml.safe_load((out / path).read_text())
    assert isinstance(data, dict)
    return data


def test_each_service_has_its_own_files_and_routes(tmp_path: Path) -> None:
    out, _ = build(tmp_path, BASE)
    files = tree(out)
    assert "prometheus/api/rules/slo-api-availability.rules.yml" in files
    assert "prometheus/web/tests/slo-web-availability.test.yml" in files
    assert "docs/api/alerts.md" in files and "docs/web/alerts.md" in files
    # Nothing of a service at the one-service places.
    assert not [p for p in files if p.startswith(("prometheus/rules/", "prometheus/tests/"))]
    assert "docs/alerts.md" not in files
    prometheus = load(out, "prometheus/prometheus.yml")
    assert prometheus["rule_files"] == ["api/rules/*.yml", "web/rules/*.yml"]
    jobs = [j["job_name"] for j in prometheus["scrape_configs"]]
    assert jobs.count("api") == jobs.count("web") == jobs.count("alertmanager") == 1
    # Every alert a service generates carries its service label, which its route matches.
    rules = load(out, "prometheus/web/rules/slo-web-availability.rules.yml")
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert alerts and all(r["labels"]["service"] == "web" for r in alerts)
    route = load(out, "alertmanager/alertmanager.yml")["route"]
    tell = {"alertname": "WebAvailabilityBudgetBurn", "severity": "P1"}
    assert [m.receiver for m in match_routes(route, {**tell, "service": "web"})] == ["oncall"]
    unknown = [m.receiver for m in match_routes(route, {**tell, "service": "nope"})]
    assert unknown == ["chat"]  # the one catch-all, not a service's P1 receivers


def receivers(oncall_key: str = "/run/secrets/pd") -> str:
    """The shared receivers, as a service's own file declares them again."""
    return f"""\
apiVersion: bzzzmon/v1
receivers:
  - name: oncall
    pagerduty: {{routing_key_file: {oncall_key}}}
  - name: chat
    slack: {{channel: "#ops", api_url_file: /run/secrets/slack}}
"""


def test_a_service_overrides_a_shared_section(tmp_path: Path) -> None:
    own = (
        receivers()
        + """\
  - name: web-team
    webhook: {url: "https://hooks.example/web"}
severities:
  P0: {title: Critical, response_time: 15m, resolution_target: 2h, receivers: [web-team]}
  P1: {title: High, response_time: 1h, resolution_target: 4h, receivers: [web-team]}
  P2: {title: Medium, response_time: 4h, resolution_target: 1d, receivers: [chat]}
  P3: {title: Low, response_time: 1d, resolution_target: 1w, receivers: [chat]}
"""
    )
    out, _ = build(tmp_path, {**BASE, "web/routing.yaml": own})
    config = load(out, "alertmanager/alertmanager.yml")
    names = [r["name"] for r in config["receivers"]]
    assert names == ["blackhole", "chat", "oncall", "web-team"]  # the shared ones once
    route = config["route"]
    page = {"alertname": "X", "severity": "P0"}
    assert [m.receiver for m in match_routes(route, {**page, "service": "web"})] == ["web-team"]
    assert [m.receiver for m in match_routes(route, {**page, "service": "api"})] == ["oncall"]


def test_an_inhibition_stays_inside_its_service(tmp_path: Path) -> None:
    inhibit = """\
apiVersion: bzzzmon/v1
alerts:
  - name: ApiDown
    severity: P0
    expr: 'up{$app} == 0'
    for: 1m
    summary: down
    description: down
routing:
  catch_all: [chat]
  inhibitions:
    - name: down-explains-burn
      source: {alertname: ApiDown}
      target: {slos: [api-availability]}
      equal: [instance]
"""
    out, _ = build(tmp_path, {**BASE, "api/alerts.yaml": inhibit})
    rules = load(out, "alertmanager/alertmanager.yml")["inhibit_rules"]
    assert rules and all('service="api"' in r["source_matchers"] for r in rules)
    source = {"alertname": "ApiDown", "service": "api", "severity": "P0", "component": "api"}
    burn = {
        "alertname": "ApiApiAvailabilityBudgetBurn",
        "slo": "api-availability",
        "severity": "P2",
        "component": "api",
        "alert_kind": "burn_rate",
    }
    assert is_inhibited(rules, {**burn, "service": "api"}, [source])
    # The same alert of another service is never hidden by this service's source.
    assert not is_inhibited(rules, {**burn, "service": "web"}, [source])
    cases = yaml.safe_load((out / "alertmanager/inhibition-tests.yml").read_text())
    # The build ran that case against the composed config (it fails on a failing case).
    assert any("not the alerts of service web" in c["name"] for c in cases)


def test_a_top_level_service_keeps_the_one_service_layout(tmp_path: Path) -> None:
    """A directory whose own files declare a service is that service; a subdirectory with spec
    files is not read (and its service is not built)."""
    files = {
        "service.yaml": service("shop", "Shop", "shop"),
        "severities.yaml": SHARED,
        "other/service.yaml": service("other", "Other", "other"),
    }
    out, _ = build(tmp_path, files)
    generated = tree(out)
    assert "prometheus/rules/slo-availability.rules.yml" in generated
    assert "docs/alerts.md" in generated
    assert not [p for p in generated if "other" in p]


DOWN = """\
apiVersion: bzzzmon/v1
alerts:
  - name: {name}
    severity: P1
    expr: 'up{{$app}} == 0'
    summary: down
    description: down
"""


SWARM = (
    "  swarm: {agent_service: stack_agent, agent_port: 1, exporter_service: stack_exporter, "
    "exporter_port: 2}\n"
)


@dataclass
class Bad:
    id: str
    files: dict[str, str]
    where: str  # file:line:col below specs/
    message: str
    hint: str = ""


BAD = [
    Bad(
        "same-service-name",
        {"web/service.yaml": service("api", "Web", "web", "web-availability")},
        "web/service.yaml:3:3",
        "the service in web/ is named 'api'",
        "name the directory after its service",
    ),
    Bad(
        "same-alert-name",
        {
            "api/alerts.yaml": DOWN.format(name="ApiDown"),
            "web/alerts.yaml": DOWN.format(name="ApiDown"),
        },
        "web/alerts.yaml:3:5",
        "service 'web' generates the alert ApiDown, as service 'api' does",
        "first at specs/api/alerts.yaml:3:5; rename the alert",
    ),
    Bad(
        "same-slo-name",
        {"web/service.yaml": service("web", "Web", "web", "api-availability")},
        "web/service.yaml:12:5",
        "service 'web' generates the recording rule ",
        "rename one of the SLOs",
    ),
    Bad(
        "same-alert-prefix",
        {"web/service.yaml": service("web", "Api", "web", "web-availability")},
        "web/service.yaml:4:3",
        "a second service with the alert prefix 'Api'",
        "first at specs/api/service.yaml:4:3",
    ),
    Bad(
        "same-dashboard-uid",
        {
            f"{'a' * 40}x/service.yaml": service("a" * 40 + "x", "Ax", "ax", "ax-availability"),
            f"{'a' * 40}y/service.yaml": service("a" * 40 + "y", "Ay", "ay", "ay-availability"),
        },
        f"{'a' * 40}y/service.yaml:3:3",
        f"both have a dashboard of uid '{'a' * 40}'",
        "give one of the services a shorter name",
    ),
    Bad(
        "a-service-directory-name",
        {"we b/service.yaml": service("web", "Web", "web", "web-availability")},
        "we b:1:1",
        "a service directory name uses letters, digits",
    ),
    Bad(
        "two-swarm-services",
        {
            "api/service.yaml": service("api", "Api", "api", "api-availability", extra=SWARM),
            "web/service.yaml": service("web", "Web", "web", "web-availability", extra=SWARM),
        },
        "web/service.yaml:9:3",
        "service 'web' asks for the Swarm stack (service.swarm), as service 'api' does",
        "first at specs/api/service.yaml:9:3; one stack serves every service",
    ),
    Bad(
        "same-job",
        {"web/service.yaml": service("web", "Web", "api", "web-availability")},
        "web/service.yaml:5:3",
        "services 'api' and 'web' both scrape job 'api' as their own",
    ),
    Bad(
        "receiver-declared-differently",
        {"web/receivers.yaml": receivers("/run/secrets/web_pd")},
        "web/receivers.yaml:3:5",
        "service 'web' declares the receiver 'oncall' differently from service 'api'",
        "declare it once in a shared file at the top",
    ),
    Bad(
        "service-label-not-the-name",
        {
            "web/service.yaml": service(
                "web", "Web", "web", "web-availability", extra="  labels: {service: shop}\n"
            )
        },
        "web/service.yaml:9:12",
        "service.labels.service is 'shop', not the service's name 'web'",
    ),
    Bad(
        "two-alertmanagers",
        {
            "web/service.yaml": service(
                "web",
                "Web",
                "web",
                "web-availability",
                extra="  alertmanager_url: https://am.example\n",
            )
        },
        "web/service.yaml:9:3",
        "service 'web' sets service.alertmanager_url to 'https://am.example'",
        "one Alertmanager serves every service",
    ),
    Bad(
        "an-error-in-a-service-file",
        {"web/service.yaml": service("web", "Web", "web").replace("objective:", "objectiv:")},
        "web/service.yaml:13:5",
        "unknown key 'objectiv'",
    ),
    Bad(
        "a-service-without-severities-of-its-own-receivers",
        {
            "web/receivers.yaml": """\
apiVersion: bzzzmon/v1
receivers:
  - name: web-team
    webhook: {url: "https://hooks.example/web"}
"""
        },
        "shared.yaml:3:80",
        "unknown receiver 'oncall'",
        "known receivers: web-team (a shared file, read for the service in web/)",
    ),
]


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_bad_multi_service_spec(case: Bad, tmp_path: Path) -> None:
    specs = write(tmp_path, {**BASE, **case.files})
    assert_refused(tmp_path, specs, case.where, case.message, case.hint)


def test_one_swarm_service_of_several_has_the_stack(tmp_path: Path) -> None:
    files = {**BASE, "web/service.yaml": service("web", "Web", "web", "web-availability", SWARM)}
    out, _ = build(tmp_path, files)
    stack = load(out, "swarm/monitoring.stack.yml")
    assert set(stack["services"]) >= {"prometheus", "alertmanager", "grafana", "exporter"}
    # Named by web's swarm.exporter_service (stack_exporter: stack "stack"); it runs web's
    # exporter config, and the composed prometheus.yml has every service's rules.
    (volume,) = stack["services"]["exporter"]["volumes"]
    assert volume["source"] == "../exporter/web/exporter.yml"
    assert load(out, "prometheus/prometheus.yml")["rule_files"] == [
        "api/rules/*.yml",
        "web/rules/*.yml",
    ]
    # Web's jobs are Swarm-discovered, api's are not.
    jobs = {j["job_name"]: j for j in load(out, "prometheus/prometheus.yml")["scrape_configs"]}
    assert "dockerswarm_sd_configs" in jobs["bzzz-exporter"]
    assert "dockerswarm_sd_configs" not in jobs["api"]


def test_no_swarm_service_no_stack(tmp_path: Path) -> None:
    out, _ = build(tmp_path, BASE)
    assert not [p for p in tree(out) if p.startswith("swarm/")]


def diff(specs: Path, *service: str) -> tuple[int, str, str]:
    result = run_cli("diff", "--base", str(specs), "--specs", str(specs), *service)
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout, result.stderr


def test_a_one_service_command_reads_the_service_named(tmp_path: Path) -> None:
    """bzzzmon diff (like backtest and demo) reads one service: --service names it."""
    specs = write(tmp_path, BASE)
    code, out, err = diff(specs, "--service", "web")
    assert code == 0, out + err
    code, out, err = diff(specs, "--service", "nope")
    assert code == 2
    assert "holds no service 'nope' (services: api, web)" in err and not out


def test_several_services_and_none_named_is_a_usage_error(tmp_path: Path) -> None:
    """Neither service is deployed (swarm, probes): the choice is the user's, not the first."""
    specs = write(tmp_path, BASE)
    code, out, err = diff(specs)
    assert code == 2, out + err
    assert "holds several services (api, web); pass --service NAME" in err
    assert not out


def test_the_swarm_service_is_the_default(tmp_path: Path) -> None:
    from bzzzmon.spec.services import load_service

    files = {**BASE, "web/service.yaml": service("web", "Web", "web", "web-availability", SWARM)}
    specs = write(tmp_path, files)
    plan, paths = load_service(specs)
    assert plan.service.name == "web"
    assert paths.rules_dir == "prometheus/web/rules"
    assert paths.catalog == "docs/web/alerts.md"
    assert diff(specs)[0] == 0
    plan, paths = load_service(specs, "api")
    assert (plan.service.name, paths.exporter_config) == ("api", "exporter/api/exporter.yml")


def test_a_one_service_directory_keeps_the_flat_paths(tmp_path: Path) -> None:
    from bzzzmon import conventions as C
    from bzzzmon.spec.services import load_service

    plan, paths = load_service(write(tmp_path, {"service.yaml": service("shop", "Shop", "shop")}))
    assert plan.service.name == "shop"
    assert (paths.rules_dir, paths.tests_dir, paths.catalog, paths.exporter_config) == (
        C.RULES_DIR,
        C.TESTS_DIR,
        C.ALERT_CATALOG,
        C.EXPORTER_CONFIG,
    )
    assert paths.escalation_rules == C.ESCALATION_RULES


def test_diff_of_a_service_that_moved_into_a_directory_of_several(tmp_path: Path) -> None:
    """A one-service base against the same service, now one of several: its alerts and SLOs
    are unchanged (only the service label every alert of several carries is new)."""
    one = {"service.yaml": service("api", "Api", "api", "api-availability"), "shared.yaml": SHARED}
    base = write(tmp_path / "base", one)
    specs = write(tmp_path / "head", BASE)
    result = run_cli(
        "diff", "--base", str(base), "--specs", str(specs), "--service", "api", "--format", "json"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    changes = yaml.safe_load(result.stdout)["changes"]
    assert changes  # the six alerts of the SLO, each with its new label and nothing else
    assert {(c["section"], c["action"], c["field"], c["new"]) for c in changes} == {
        ("alert", "changed", "label service", "api")
    }
    assert len(changes) == 6


def test_the_stack_builds_one_service_of_several(tmp_path: Path) -> None:
    """The live test stack renders the chosen service in the one-service layout it reads."""
    from bzzzmon.stack.prepare import build_plan

    specs = write(tmp_path, BASE)
    plan = build_plan(specs, tmp_path / "out", service="web")
    assert plan.service.name == "web" and plan.service.labels["service"] == "web"
    files = tree(tmp_path / "out")
    assert "prometheus/rules/slo-web-availability.rules.yml" in files
    assert not [p for p in files if "api" in p]


def test_silence_reads_the_one_alertmanager_of_several(tmp_path: Path) -> None:
    from bzzzmon.cli.silence_cmd import alertmanager_url

    extra = "  alertmanager_url: https://am.example\n"
    files = {
        **BASE,
        "api/service.yaml": service("api", "Api", "api", "api-availability", extra),
        "web/service.yaml": service("web", "Web", "web", "web-availability", extra),
    }
    assert alertmanager_url(None, write(tmp_path, files)) == "https://am.example"


WATCHER = """\
apiVersion: bzzzmon/v1
service:
  name: watcher
  alert_prefix: Watcher
  selectors:
    prom: {job: prometheus}
    am: {job: alertmanager}
  runbook_url: https://runbooks.example/watcher.md
  grafana_url: https://grafana.example
metrics:
  prometheus_config_last_reload_successful: gauge
alerts:
  - name: WatcherPrometheusDown
    severity: P1
    expr: 'up{$prom} == 0'
    summary: down
    description: down
"""


def test_a_service_watching_prometheus_reads_the_builtin_jobs(tmp_path: Path) -> None:
    """Every prometheus.yml scrapes Prometheus and Alertmanager at their fixed addresses: a
    service whose selectors name those jobs reads them, and no second job of that name (nor a
    targets file for one) is rendered, in its own build or composed."""
    out, _ = build(tmp_path, {**BASE, "watcher/service.yaml": WATCHER})
    prometheus = load(out, "prometheus/prometheus.yml")
    jobs = [j["job_name"] for j in prometheus["scrape_configs"]]
    assert jobs.count("prometheus") == jobs.count("alertmanager") == 1
    (self_job,) = [j for j in prometheus["scrape_configs"] if j["job_name"] == "prometheus"]
    assert self_job == {
        "job_name": "prometheus",
        "static_configs": [{"targets": ["localhost:9090"]}],
    }
    files = tree(out)
    assert "prometheus/targets/prometheus.yml" not in files
    assert "prometheus/targets/alertmanager.yml" not in files
    from bzzzmon.build import render_all
    from bzzzmon.spec.services import load_service

    plan, _ = load_service(out.parent / "specs", "watcher")
    own = yaml.safe_load(render_all(plan)["prometheus/prometheus.yml"])
    names = [j["job_name"] for j in own["scrape_configs"]]
    assert sorted(names) == ["alertmanager", "prometheus"]
