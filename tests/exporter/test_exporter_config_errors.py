"""Every malformed exporter or web config is one ConfigError line, at start-up and on reload."""

from __future__ import annotations

import copy
import signal
import threading
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml
from click.testing import CliRunner
from exporter_testkit import (
    ExporterProcess,
    RunningExporter,
    agent_probe,
    config_data,
    http_get,
    parse_samples,
    value,
    wait_for,
)

from bzzzmon.cli.exporter_cmd import exporter
from bzzzmon.conventions import (
    EXPORTER_CONFIG_LAST_RELOAD_OK,
    EXPORTER_CONFIG_RELOADS,
    HEALTH_CHECKS_PASSED,
)
from bzzzmon.exporter import service as service_module
from bzzzmon.exporter.config import ConfigError, load_config, parse_config
from bzzzmon.exporter.webconfig import load_web_config
from bzzzmon.sim import Simulator

# Values that do not belong anywhere in particular: each is tried at every key of a valid config.
HOSTILE: list[Any] = [["a", "list"], {"a": "mapping"}, 7, -1, 2.5, True, None, "", "²", "x" * 300]


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, item in data.items():
            out += paths(item, (*prefix, key))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            out += paths(item, (*prefix, i))
    return out


def replaced(data: Any, path: tuple[Any, ...], new: Any) -> Any:
    copied = copy.deepcopy(data)
    node = copied
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return copied


def valid_exporter_data() -> dict[str, Any]:
    data = config_data([agent_probe(["127.0.0.1:9101"])])
    data["probes"].append(
        {
            "name": "dht-tcp",
            "type": "tcp",
            "component": "dht",
            "expect_status": [200],
            "targets": {"static": ["walnut:9101"], "dns": [{"name": "tasks.x", "port": 1}]},
        }
    )
    return data


def test_every_hostile_value_anywhere_is_a_config_error() -> None:
    data = valid_exporter_data()
    parse_config(data)
    tried = 0
    for path in paths(data):
        for new in HOSTILE:
            try:
                parse_config(replaced(data, path, new), "exporter.yml")
            except ConfigError as exc:
                assert str(exc).startswith("exporter.yml: "), exc
            tried += 1
    assert tried > 300


def test_every_hostile_value_in_a_web_config_is_a_config_error(tmp_path: Path) -> None:
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()
    data: dict[str, Any] = {
        "tls_server_config": {"cert_file": "none.crt", "key_file": "none.key"},
        "http_server_config": {"headers": {"X-Frame-Options": "deny"}},
        "basic_auth_users": {"prometheus": hashed},
    }
    path = tmp_path / "web.yml"
    for key_path in paths(data):
        for new in HOSTILE:
            path.write_text(yaml.safe_dump(replaced(data, key_path, new)))
            try:
                load_web_config(path)
            except ConfigError as exc:
                assert str(exc).startswith(f"{path}:"), exc


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        (b"service: bzzz\nprobes:\n  - name: \xff\xfe\n", ":3:11: ", "not UTF-8"),
        (b"service: [bzzz\n", ":2:1: ", ""),
        (b"service: bzzz\ncomponents: 3\n", ":2:1: components: ", "expected a list"),
        (b"{" * 5000, ": ", ""),
    ],
)
def test_unreadable_files_are_located(tmp_path: Path, text: bytes, where: str, words: str) -> None:
    path = tmp_path / "exporter.yml"
    path.write_bytes(text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}{where}"), error.value
    assert words in str(error.value)


def test_a_port_written_in_superscript_is_refused() -> None:
    data = config_data([agent_probe(["127.0.0.1:²"])])
    with pytest.raises(ConfigError, match=r"probes\[0\]\.targets\.static\[0\]"):
        parse_config(data)


def bad_files(tmp_path: Path) -> dict[str, tuple[Path, bytes]]:
    good = yaml.safe_dump(config_data([agent_probe(["127.0.0.1:9101"])]), sort_keys=False)
    return {
        "list-as-name": (
            tmp_path / "a.yml",
            good.replace("name: agent-health-checks", "name: [a]").encode(),
        ),
        "list-as-component": (
            tmp_path / "b.yml",
            good.replace("dht-health: dht", "dht-health: [dht]").encode(),
        ),
        "invalid-utf8": (tmp_path / "c.yml", good.encode().replace(b"bzzz", b"bz\xffzz", 1)),
        "superscript-port": (tmp_path / "d.yml", good.replace(":9101", ":9\u00b2").encode()),
        "not-yaml": (tmp_path / "e.yml", b"probes: [\n"),
    }


def test_bad_configs_at_start_up_are_one_line_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    good = tmp_path / "good.yml"
    good.write_text(yaml.safe_dump(config_data([agent_probe(["127.0.0.1:9101"])])))
    web = tmp_path / "web.yml"
    web.write_bytes(b"basic_auth_users:\n  u: \xff\n")
    cases = [["--config", str(path)] for path, _text in _written(bad_files(tmp_path))]
    cases += [
        ["--config", str(good), "--web-config", str(web)],
        ["--config", str(good), "--listen", "127.0.0.1:9\u00b2"],
    ]
    for args in cases:
        result = runner.invoke(exporter, args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.output, result.output
        assert args[-1] in lines[0], lines  # names the file (or the --listen value)


def _written(files: dict[str, tuple[Path, bytes]]) -> list[tuple[Path, bytes]]:
    for path, text in files.values():
        path.write_bytes(text)
    return list(files.values())


def test_every_bad_config_on_reload_keeps_the_old_one(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "exporter.yml"
    good = yaml.safe_dump(config_data([agent_probe(sim.agent_targets)]), sort_keys=False)
    path.write_text(good)
    with RunningExporter(load_config(path), config_path=str(path)) as running:
        for reloads, (name, (_other, text)) in enumerate(bad_files(tmp_path).items(), 1):
            path.write_bytes(text)
            assert running.reload() is False, name
            running.run_round()
            samples = running.metrics()
            assert value(samples, EXPORTER_CONFIG_LAST_RELOAD_OK) == 0.0, name
            assert value(samples, EXPORTER_CONFIG_RELOADS) == reloads
            assert running.service.config.probes[0].static_targets == tuple(sim.agent_targets)
        path.write_text(good)
        assert running.reload() is True
        running.run_round()
        assert value(running.metrics(), EXPORTER_CONFIG_LAST_RELOAD_OK) == 1.0


def test_web_config_is_loaded_off_the_event_loop(sim: Simulator, tmp_path: Path) -> None:
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()
    web = tmp_path / "web.yml"
    web.write_text(f"basic_auth_users:\n  prometheus: '{hashed}'\n")
    config = parse_config(config_data([agent_probe(sim.agent_targets)]))
    threads: list[str] = []
    real = service_module.load_web_config

    def recording(path: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(path)

    with RunningExporter(config, web_config=load_web_config(web)) as running:
        running.service.web_config_path = web
        service_module.load_web_config = recording  # type: ignore[assignment]
        try:
            assert running.reload() is True
        finally:
            service_module.load_web_config = real
    assert len(threads) == 1 and threads[0].startswith("bzzz-reload"), threads


def test_sighup_with_a_broken_config_is_logged_once(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "exporter.yml"
    data = config_data([agent_probe(sim.agent_targets)], probe_interval="300ms")
    data["probe_timeout"] = "250ms"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with ExporterProcess(path) as process:
        url = process.url + "/metrics"
        wait_for(
            lambda: parse_samples(http_get(url)[1]).get(
                (HEALTH_CHECKS_PASSED, (("check", "dht-health"), ("component", "dht")))
            )
        )
        path.write_bytes(b"probes:\n  - name: \xff\n")
        assert process.process is not None
        process.process.send_signal(signal.SIGHUP)

        def failed() -> dict[Any, float] | None:
            samples = parse_samples(http_get(url)[1])
            return samples if value(samples, EXPORTER_CONFIG_RELOADS) >= 1 else None

        samples = wait_for(failed)
        assert value(samples, EXPORTER_CONFIG_LAST_RELOAD_OK) == 0.0
        assert process.alive()
    log = process.stderr.decode()
    assert log.count("config reload failed") == 1, log
    assert f"{path}:2:11: not UTF-8" in log
    assert "Traceback" not in log
