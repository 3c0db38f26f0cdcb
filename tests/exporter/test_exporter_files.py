"""The file probe against real files: the newest regular match, and every way a directory of
backups can be wrong (symlinks, loops, FIFOs, permissions, no match) as a reason, never a crash."""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from exporter_testkit import RunningExporter, config_data

from bzzzmon.conventions import (
    EXPORTER_PROBE_FAILURES,
    FILE_NEWEST_AGE,
    FILE_NEWEST_SIZE,
    PROBE_SUCCESS,
)
from bzzzmon.exporter.config import ConfigError, load_config, parse_config
from bzzzmon.exporter.fileprobe import newest_file
from bzzzmon.exporter.probes import ProbeFailed

NOW = 1_800_000_000.0
NOBODY = 65534


def reason(pattern: str) -> str:
    with pytest.raises(ProbeFailed) as failed:
        newest_file(pattern)
    return failed.value.reason


def dump(directory: Path, name: str, size: int, mtime: float) -> Path:
    path = directory / name
    path.write_bytes(b"x" * size)
    os.utime(path, (mtime, mtime))
    return path


def test_the_newest_regular_match_wins(tmp_path: Path) -> None:
    dump(tmp_path, "bzzz_20261129.sql.gz", 5000, NOW - 2 * 86400)
    dump(tmp_path, "bzzz_20261130.sql.gz", 7000, NOW - 86400)
    dump(tmp_path, "other_20261201.sql.gz", 10, NOW)  # newer, but does not match
    (tmp_path / "bzzz_dir.sql.gz").mkdir()  # a directory never counts
    os.mkfifo(tmp_path / "bzzz_fifo.sql.gz")  # listing must not open (and block on) a FIFO
    mtime, size, name = newest_file(f"{tmp_path}/bzzz_*.sql.gz")
    assert (mtime, size, name) == (NOW - 86400, 7000, "bzzz_20261130.sql.gz")


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    fresh = dump(outside, "huge.sql.gz", 9000, NOW)
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "bzzz_latest.sql.gz").symlink_to(fresh)  # points outside
    (backups / "bzzz_loop.sql.gz").symlink_to(backups / "bzzz_loop.sql.gz")  # a loop
    assert reason(f"{backups}/bzzz_*.sql.gz") == "symlink"
    dump(backups, "bzzz_old.sql.gz", 3000, NOW - 3 * 86400)
    # The real file counts; the fresher files behind the links do not.
    assert newest_file(f"{backups}/bzzz_*.sql.gz") == (NOW - 3 * 86400, 3000, "bzzz_old.sql.gz")


def test_directories_that_cannot_be_listed(tmp_path: Path) -> None:
    assert reason(f"{tmp_path}/bzzz_*.sql.gz") == "no_file"  # empty
    assert reason(f"{tmp_path}/missing/bzzz_*.sql.gz") == "no_file"
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    assert reason(f"{tmp_path}/loop/bzzz_*.sql.gz") == "unreadable"  # ELOOP, even for root
    (tmp_path / "a-file").write_text("not a directory")
    assert reason(f"{tmp_path}/a-file/bzzz_*.sql.gz") == "unreadable"  # ENOTDIR
    os.mkfifo(tmp_path / "a-fifo")
    assert reason(f"{tmp_path}/a-fifo/bzzz_*.sql.gz") == "unreadable"  # and it did not block


@pytest.fixture
def locked_dir() -> Iterator[Path]:
    """A directory nobody but its owner may list, in a parent anyone may enter."""
    parent = Path(tempfile.mkdtemp(prefix="bzzz-files-"))
    parent.chmod(0o755)
    locked = parent / "backups"
    locked.mkdir()
    dump(locked, "bzzz_1.sql.gz", 2000, NOW)
    locked.chmod(0o000)
    yield locked
    locked.chmod(0o755)
    shutil.rmtree(parent)


def test_a_directory_without_permission_is_unreadable(locked_dir: Path) -> None:
    """As root (CI) permissions do not apply, so the probe runs in a forked child that drops to
    nobody first (as any non-root user, the child keeps its own uid)."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        try:
            if os.getuid() == 0:
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            try:
                newest_file(f"{locked_dir}/bzzz_*.sql.gz")
                got = "listed"
            except ProbeFailed as exc:
                got = exc.reason
            os.write(write_end, got.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as answer:
        got = answer.read()
    os.waitpid(child, 0)
    assert got == "unreadable"


def file_config(pattern: str) -> dict[str, Any]:
    probe = {"name": "backup", "type": "file", "component": "postgres"}
    data = config_data([probe | {"targets": {"files": [pattern]}}], checks={})
    data["components"] = [{"name": "postgres", "weight": 1}, {"name": "exporter", "weight": 0}]
    return data


def test_the_exporter_reports_age_size_and_reasons(tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    pattern = f"{backups}/bzzz_*.sql.gz"
    labels = (("component", "postgres"), ("target", pattern))
    with RunningExporter(parse_config(file_config(pattern)), clock=lambda: NOW) as exporter:
        exporter.run_round()  # nothing there yet: infinitely old, no size, a failed probe
        samples = exporter.metrics()
        assert samples[(FILE_NEWEST_AGE, labels)] == math.inf
        assert (FILE_NEWEST_SIZE, labels) not in samples
        assert samples[(PROBE_SUCCESS, labels)] == 0.0
        assert samples[(EXPORTER_PROBE_FAILURES, (*labels[:1], ("reason", "no_file"), labels[1]))]

        dump(backups, "bzzz_20261201.sql.gz", 4096, NOW - 3600)
        exporter.run_round()
        samples = exporter.metrics()
        assert samples[(FILE_NEWEST_AGE, labels)] == 3600.0
        assert samples[(FILE_NEWEST_SIZE, labels)] == 4096.0
        assert samples[(PROBE_SUCCESS, labels)] == 1.0

        shutil.rmtree(backups)
        backups.write_text("the directory was replaced by a file")
        exporter.run_round()
        samples = exporter.metrics()
        # Unreadable: no age or size at all (not the last good ones), and the reason.
        assert (FILE_NEWEST_AGE, labels) not in samples
        assert (FILE_NEWEST_SIZE, labels) not in samples
        assert samples[(PROBE_SUCCESS, labels)] == 0.0
        key = (EXPORTER_PROBE_FAILURES, (*labels[:1], ("reason", "unreadable"), labels[1]))
        assert samples[key] == 1.0


@pytest.mark.parametrize(
    ("targets", "extra", "message"),
    [
        ({"files": ["backups/*.gz"]}, {}, "not an absolute path pattern"),
        ({"files": ["/backups/*/x.gz"]}, {}, "wildcards only in the file name"),
        ({"files": ["/backups/"]}, {}, "does not end in a file name pattern"),
        ({"files": []}, {}, "at least one pattern"),
        ({"static": ["db:5432"]}, {}, "unknown key"),
        ({"files": ["/b/*.gz"]}, {"path": "/x"}, "takes its patterns from targets.files"),
    ],
)
def test_bad_file_probes_are_config_errors(
    tmp_path: Path, targets: dict[str, Any], extra: dict[str, Any], message: str
) -> None:
    data = file_config("/b/*.gz")
    data["probes"][0].update(extra, targets=targets)
    path = tmp_path / "exporter.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=message):
        load_config(path)
