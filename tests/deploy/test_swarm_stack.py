"""The generated Swarm stack file: valid against the Compose Specification's JSON Schema
(vendored, vendor/compose-spec/), consistent with the generated prometheus.yml, Alertmanager and
Grafana files it mounts, and never holding a secret, only the names of Docker secrets."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bzzzmon import conventions as C
from bzzzmon.build import render_all
from bzzzmon.model import Plan
from bzzzmon.promql.duration import parse_duration
from bzzzmon.render.output import Files
from bzzzmon.spec.plan import load_plan
from tests.shipped import SHIPPED_SPECS, bzzz_plan, copy_bzzz_alone

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "vendor" / "compose-spec" / "compose-spec.json"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return bzzz_plan()


@pytest.fixture(scope="module")
def files(plan: Plan) -> Files:
    return render_all(plan)


@pytest.fixture(scope="module")
def stack(files: Files) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(files[C.SWARM_STACK])
    return data


def _validator() -> jsonschema.Draft201909Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    # Its $schema (draft 2019-09, written with a trailing '#') is not one jsonschema looks up.
    assert schema["$schema"].startswith("http://json-schema.org/draft/2019-09/schema")
    jsonschema.Draft201909Validator.check_schema(schema)
    return jsonschema.Draft201909Validator(schema)


def test_the_stack_file_is_valid_compose(stack: dict[str, Any]) -> None:
    errors = sorted(_validator().iter_errors(stack), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("services", "prometheus", "deploy", "replicas"), "many"),
        (("services", "grafana", "volumes"), "../grafana"),
        (("services", "alertmanager", "restart_on_tuesdays"), True),
        (("secrets", "bzzz_smtp_password", "external"), "yes please"),
    ],
)
def test_the_schema_rejects_a_broken_stack(
    stack: dict[str, Any], path: tuple[str, ...], value: Any
) -> None:
    broken = json.loads(json.dumps(stack))
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert list(_validator().iter_errors(broken))


def test_every_part_the_alerts_read_is_deployed_and_scraped(
    plan: Plan, files: Files, stack: dict[str, Any]
) -> None:
    services = stack["services"]
    assert {"prometheus", "alertmanager", "grafana", "bzzz-exporter"} <= set(services)
    assert services["node-exporter"]["deploy"]["mode"] == "global"
    assert services["cadvisor"]["deploy"]["mode"] == "global"
    assert services["postgres-exporter"]["deploy"]["replicas"] == 1
    prometheus = yaml.safe_load(files[C.PROMETHEUS_CONFIG])
    jobs = {j["job_name"]: j for j in prometheus["scrape_configs"]}
    assert {"node-exporter", "cadvisor", "postgres-exporter"} <= set(jobs)
    assert plan.service.swarm is not None
    namespace = plan.service.swarm.exporter_service.split("_")[0]
    for job, port in (("node-exporter", 9100), ("cadvisor", 8080), ("postgres-exporter", 9187)):
        (sd,) = jobs[job]["dockerswarm_sd_configs"]
        assert sd["port"] == port
        keep = jobs[job]["relabel_configs"][0]
        # The job keeps the tasks of the stack's service of the same name, and only those.
        assert re.fullmatch(keep["regex"], f"{namespace}_{job}")
        assert not re.fullmatch(keep["regex"], f"{namespace}_bzzz-exporter")
        assert jobs[job]["file_sd_configs"][0]["files"] == [f"targets/{job}*.yml"]
        assert yaml.safe_load(files[f"prometheus/targets/{job}.yml"]) == []
    # The exporter's job keeps the stack's exporter service.
    keep = jobs["bzzz-exporter"]["relabel_configs"][0]
    assert re.fullmatch(keep["regex"], f"{namespace}_bzzz-exporter")


def test_binds_name_generated_directories(files: Files, stack: dict[str, Any]) -> None:
    generated = set(files)
    relative = [
        v["source"]
        for s in stack["services"].values()
        for v in s.get("volumes", [])
        if v["type"] == "bind" and not v["source"].startswith("/")
    ]
    assert relative
    for source in relative:
        assert source.startswith("../")
        inside = source.removeprefix("../")
        assert inside in generated or any(p.startswith(inside + "/") for p in generated), source
    for service in stack["services"].values():
        for volume in service.get("volumes", []):
            assert volume.get("read_only") or volume["type"] == "volume", volume


def test_prometheus_keeps_more_than_the_longest_slo_period(
    plan: Plan, stack: dict[str, Any]
) -> None:
    (flag,) = [c for c in stack["services"]["prometheus"]["command"] if "retention.time=" in c]
    retention = parse_duration(flag.split("=", 1)[1])
    assert retention > max(s.period for s in plan.slos)
    assert (
        "node.role == manager"
        in stack["services"]["prometheus"]["deploy"]["placement"]["constraints"]
    )


def _secret_paths(text: str) -> set[str]:
    return set(re.findall(r"/run/secrets/([A-Za-z0-9._-]+)", text))


def test_every_secret_a_config_reads_is_mounted_and_external(
    files: Files, stack: dict[str, Any]
) -> None:
    services = stack["services"]
    readers = {
        "alertmanager": files[C.ALERTMANAGER_CONFIG],
        "prometheus": files[C.PROMETHEUS_CONFIG],
    }
    for service, text in readers.items():
        assert _secret_paths(text) <= set(services[service].get("secrets", [])), service
    assert _secret_paths(files[C.ALERTMANAGER_CONFIG])
    # The exporter serves TLS (exporter_web.scheme https): its web config, certificate and key.
    assert services["bzzz-exporter"]["secrets"] == [
        "bzzz_exporter_cert",
        "bzzz_exporter_key",
        "bzzz_exporter_web_config",
    ]
    assert {"bzzz_exporter_ca", "bzzz_exporter_scrape_password"} <= set(
        services["prometheus"]["secrets"]
    )
    for name, service in services.items():
        for secret in service.get("secrets", []):
            assert stack["secrets"][secret] == {"external": True}, (name, secret)
    # Only secrets' names: no secret value, and no service gets a secret it does not read.
    assert "bzzz_smtp_password" not in services["prometheus"].get("secrets", [])
    for name, service in services.items():
        for key, value in service.get("environment", {}).items():
            if re.search("PASS|TOKEN|SECRET|KEY", key):
                assert key.endswith("_FILE") and value.startswith("/run/secrets/"), (name, key)


def test_the_dead_man_receiver_is_the_heartbeat_receivers_host(
    plan: Plan, files: Files, stack: dict[str, Any]
) -> None:
    assert plan.routing.heartbeat_receiver is not None
    url = plan.receiver(plan.routing.heartbeat_receiver).settings["url"]
    assert url == "http://bzzz-deadman:8080/ping"
    deadman = stack["services"]["bzzz-deadman"]
    # Required at deploy time: the image is the operator's choice, never a guess.
    assert deadman["image"].startswith(f"${{{C.DEADMAN_IMAGE_VARIABLE}:?")
    assert C.MONITORING_NETWORK in deadman["networks"]
    alertmanager = yaml.safe_load(files[C.ALERTMANAGER_CONFIG])
    watchdog = next(r for r in alertmanager["route"]["routes"] if r.get("receiver") == "heartbeat")
    assert watchdog


def _variant(tmp_path: Path, edit: Any, file: str = "service.yaml") -> Plan:
    specs = copy_bzzz_alone(tmp_path)
    service = specs / file
    service.write_text(edit(service.read_text(encoding="utf-8")), encoding="utf-8")
    return load_plan(specs)


def test_no_swarm_no_stack_file_and_file_sd_only(tmp_path: Path) -> None:
    plan = _variant(tmp_path, lambda text: re.sub(r"  swarm:\n(    .*\n)+", "", text, count=1))
    assert plan.service.swarm is None
    files = render_all(plan)
    assert C.SWARM_STACK not in files
    prometheus = yaml.safe_load(files[C.PROMETHEUS_CONFIG])
    for job in prometheus["scrape_configs"]:
        assert "dockerswarm_sd_configs" not in job, job["job_name"]
    assert "node-exporter" in {j["job_name"] for j in prometheus["scrape_configs"]}


def test_a_heartbeat_outside_the_stack_runs_no_dead_man(tmp_path: Path) -> None:
    plan = _variant(
        tmp_path,
        lambda text: text.replace(
            "http://bzzz-deadman:8080/ping", "https://deadman.example.test/ping"
        ),
        "shared.yaml",  # the receivers
    )
    stack = yaml.safe_load(render_all(plan)[C.SWARM_STACK])
    assert "bzzz-deadman" not in stack["services"]
    assert not any("deadman" in name for name in stack["services"])


# --- one Swarm-deployed service in a directory of several ---------------------------------------
API = """\
apiVersion: bzzzmon/v1
service:
  name: api
  alert_prefix: Api
  selectors:
    app: {job: api}
  runbook_url: https://runbooks.example/api.md
  grafana_url: https://grafana.chorus.services
  alertmanager_url: https://alertmanager.chorus.services
metrics:
  http_requests_total: counter
slos:
  - name: api-availability
    objective: 99.9
    period: 90d
    sli:
      ratio:
        bad: 'http_requests_total{$app, code=~"5.."}'
        total: 'http_requests_total{$app}'
"""


@pytest.fixture(scope="module")
def composed(tmp_path_factory: pytest.TempPathFactory) -> Files:
    """The shipped specs (bzzz/, monitoring/ and shared.yaml) beside a service without Swarm
    (specs/api/)."""
    from bzzzmon.build import render_and_check
    from bzzzmon.spec.services import load_services

    specs = tmp_path_factory.mktemp("multi") / "specs"
    shutil.copytree(SHIPPED_SPECS, specs)
    (specs / "api").mkdir()
    (specs / "api" / "service.yaml").write_text(API, encoding="utf-8")
    result = render_and_check(load_services(specs))
    assert not result.errors, [e.format() for e in result.errors]
    return result.files


def test_the_swarm_service_of_several_names_the_one_stack(composed: Files) -> None:
    stack = yaml.safe_load(composed[C.SWARM_STACK])
    errors = sorted(_validator().iter_errors(stack), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    services = stack["services"]
    # BZZZ's exporter, reading BZZZ's own exporter.yml; no stack part of the other service.
    assert "bzzz-exporter" in services and not [n for n in services if "api" in n]
    (exporter_config,) = [v["source"] for v in services["bzzz-exporter"]["volumes"]]
    assert exporter_config == "../" + C.service_paths("bzzz").exporter_config
    assert C.EXPORTER_CONFIG not in composed  # nothing at the one-service place
    test_binds_name_generated_directories(composed, stack)
    # Prometheus reads the composed prometheus.yml: every service's rules, from its mount.
    prometheus = yaml.safe_load(composed[C.PROMETHEUS_CONFIG])
    mount = next(v for v in services["prometheus"]["volumes"] if v["target"] == "/etc/prometheus")
    assert mount["source"] == "../prometheus"
    for pattern in prometheus["rule_files"]:
        folder = f"prometheus/{pattern.rsplit('/', 1)[0]}/"
        assert any(p.startswith(folder) for p in composed), pattern
    assert prometheus["rule_files"] == [
        "api/rules/*.yml",
        "bzzz/rules/*.yml",
        "monitoring/rules/*.yml",
    ]
    # Retention: the longest SLO period of any service (api's 90d), twice.
    (flag,) = [c for c in services["prometheus"]["command"] if "retention.time=" in c]
    assert parse_duration(flag.split("=", 1)[1]) == 2 * 90 * 86400


def test_grafana_mounts_every_services_dashboards(composed: Files) -> None:
    stack = yaml.safe_load(composed[C.SWARM_STACK])
    grafana = stack["services"]["grafana"]
    mount = next(v for v in grafana["volumes"] if v["source"] == "../grafana/dashboards")
    providers = yaml.safe_load(composed["grafana/provisioning/dashboards/bzzzmon.yml"])
    paths = sorted(p["options"]["path"] for p in providers["providers"])
    assert paths == [
        f"{C.GRAFANA_DASHBOARDS_ROOT}/{service}" for service in ("api", "bzzz", "monitoring")
    ]
    for path in paths:  # each provider's folder is in the mount and holds dashboards
        inside = path.removeprefix(mount["target"] + "/")
        assert inside != path
        assert any(p.startswith(f"grafana/dashboards/{inside}/") for p in composed), path


def test_the_composed_stack_mounts_every_secret_the_composed_configs_read(
    composed: Files,
) -> None:
    services = yaml.safe_load(composed[C.SWARM_STACK])["services"]
    for service, path in (
        ("alertmanager", C.ALERTMANAGER_CONFIG),
        ("prometheus", C.PROMETHEUS_CONFIG),
    ):
        found = _secret_paths(composed[path])
        assert found and found <= set(services[service].get("secrets", [])), service
