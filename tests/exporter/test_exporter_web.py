"""TLS and basic auth from an exporter-toolkit web config file."""

from __future__ import annotations

import base64
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import bcrypt
import pytest
from exporter_testkit import RunningExporter, agent_probe, config_data, http_get

from bzzzmon.exporter.config import ConfigError, parse_config
from bzzzmon.exporter.webconfig import load_web_config
from tests.tls_certs import self_signed


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def tls_exporter(tmp_path: Path) -> RunningExporter:
    cert_file, _key_file = self_signed(tmp_path)
    hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4)).decode()
    web_file = tmp_path / "web.yml"
    web_file.write_text(
        "tls_server_config:\n"
        "  cert_file: server.crt\n"  # relative to the web config file, as in exporter-toolkit
        "  key_file: server.key\n"
        "basic_auth_users:\n"
        f"  prometheus: '{hashed}'\n"
    )
    config = parse_config(config_data([agent_probe(["127.0.0.1:1"])]))
    running = RunningExporter(config, web_config=load_web_config(web_file))
    running.ca = ssl.create_default_context(cafile=str(cert_file))  # type: ignore[attr-defined]
    return running


def test_tls_and_basic_auth(tls_exporter: RunningExporter) -> None:
    ca: ssl.SSLContext = tls_exporter.ca  # type: ignore[attr-defined]
    with tls_exporter as exporter:
        assert exporter.url.startswith("https://")
        url = exporter.url + "/metrics"
        status, text = http_get(url, headers=basic("prometheus", "s3cret"), context=ca)
        assert status == 200 and "bzzz_exporter_build_info" in text
        status, _ = http_get(url, headers=basic("prometheus", "wrong"), context=ca)
        assert status == 401
        status, _ = http_get(url, headers=basic("nobody", "s3cret"), context=ca)
        assert status == 401
        status, _ = http_get(url, context=ca)
        assert status == 401
        status, _ = http_get(exporter.url + "/", headers=basic("prometheus", "wrong"), context=ca)
        assert status == 401
        # Liveness needs no password.
        status, _ = http_get(exporter.url + "/healthz", context=ca)
        assert status in (200, 503)
        # Plain HTTP on the TLS port gets no answer it could use.
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            http_get(url.replace("https://", "http://"), timeout=2)
        # A client that does not trust the certificate refuses it.
        with pytest.raises(urllib.error.URLError):
            http_get(url, context=ssl.create_default_context())


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("basic_auth_users:\n  u: plaintext\n", "basic_auth_users.u"),
        ("tls_server_config:\n  cert_file: missing.crt\n  key_file: k\n", "tls_server_config"),
        ("tls_server_config:\n  key_file: k\n", "tls_server_config.cert_file"),
        ("unknown: 1\n", "unknown"),
    ],
)
def test_bad_web_config_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    web_file = tmp_path / "web.yml"
    web_file.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_web_config(web_file)
    assert error.value.file == str(web_file)
    assert error.value.key.startswith(key)


def test_configured_headers_on_every_answer(tmp_path: Path) -> None:
    hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4)).decode()
    web_file = tmp_path / "web.yml"
    web_file.write_text(
        "http_server_config:\n"
        "  headers: {X-Frame-Options: deny, X-Content-Type-Options: nosniff}\n"
        "basic_auth_users:\n"
        f"  prometheus: '{hashed}'\n"
    )
    config = parse_config(config_data([agent_probe(["127.0.0.1:1"])]))
    good = basic("prometheus", "s3cret")
    with RunningExporter(config, web_config=load_web_config(web_file)) as exporter:
        answers = {
            "metrics": (exporter.url + "/metrics", good, 200),
            "no password": (exporter.url + "/metrics", {}, 401),
            "wrong password": (exporter.url + "/metrics", basic("prometheus", "x"), 401),
            "unknown path": (exporter.url + "/nothing-here", good, 404),
            "healthz": (exporter.url + "/healthz", {}, 503),
        }
        for name, (url, headers, status) in answers.items():
            request = urllib.request.Request(url, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    got, sent = response.status, response.headers
            except urllib.error.HTTPError as exc:
                got, sent = exc.code, exc.headers
            assert got == status, name
            assert sent["X-Frame-Options"] == "deny", name
            assert sent["X-Content-Type-Options"] == "nosniff", name
