"""Bad input gets one clear line and exit 2, never a traceback, and leaves no scratch data."""

from __future__ import annotations

from pathlib import Path

from bzzzmon.stack.processes import LOOPBACK, free_port
from tests.backtest.conftest import START
from tests.conftest import run_cli


def _backtest(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = run_cli("backtest", *args, env={"TMPDIR": str(tmp_path)})
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no scratch directory left behind
    return result.returncode, result.stderr


def test_no_prometheus(tmp_path: Path) -> None:
    url = f"http://{LOOPBACK}:{free_port()}"
    code, err = _backtest(tmp_path, "--prometheus", url, "--since", "1d")
    assert code == 2
    assert f"no Prometheus answers at {url}" in err


def test_a_range_with_no_data(tmp_path: Path, source: str) -> None:
    year = 365 * 86400
    code, err = _backtest(
        tmp_path,
        "--prometheus",
        source,
        "--start",
        str(START - year),
        "--end",
        str(START - year + 86400),
    )
    assert code == 2
    assert "has no data between" in err


def test_a_prometheus_without_the_series(tmp_path: Path, empty_source: str) -> None:
    code, err = _backtest(tmp_path, "--prometheus", empty_source, "--since", "1d")
    assert code == 2
    assert "has none of the series the rules read" in err


def test_bad_range_options(tmp_path: Path) -> None:
    code, err = _backtest(tmp_path, "--prometheus", "http://x", "--since", "1d", "--start", "0")
    assert code == 2 and "exclude each other" in err
    code, err = _backtest(tmp_path, "--prometheus", "http://x", "--start", "yesterday")
    assert code == 2 and "neither RFC 3339" in err
    code, err = _backtest(tmp_path, "--prometheus", "http://x", "--start", "100", "--end", "50")
    assert code == 2 and "the range is empty" in err
