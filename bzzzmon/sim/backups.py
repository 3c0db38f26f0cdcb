"""The stack's backup dumps: one fresh file per file-probe pattern, and the faults that spoil
them (the newest dump too old for its schedule; an empty newest dump, as a failed pg_dump
leaves)."""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Sequence
from pathlib import Path

from bzzzmon.sim.faults import FaultSet

DUMP_BYTES = 4096


def dump_path(pattern: str, tag: str) -> Path | None:
    """The file ``pattern`` (``/dir/bzzz_*.sql.gz``) matches with ``tag`` for its wildcards."""
    directory, _sep, glob = pattern.rpartition("/")
    name = glob.replace("*", tag).replace("?", "x")
    return Path(directory) / name if fnmatch.fnmatchcase(name, glob) else None


class Backups:
    def __init__(self, patterns: Sequence[str]) -> None:
        pairs = [(dump_path(p, "stack"), dump_path(p, "stack-empty")) for p in patterns]
        self._dumps = [(good, empty) for good, empty in pairs if good and empty]
        self._aged = False

    @property
    def files(self) -> list[Path]:
        """The good dump of every pattern."""
        return [good for good, _empty in self._dumps]

    def seed(self) -> list[Path]:
        for good in self.files:
            _write(good, DUMP_BYTES)
        return self.files

    def apply(self, faults: FaultSet) -> None:
        old = faults.world("backup_too_old")
        empty = faults.world("backup_empty") is not None
        now = time.time()
        for good, empty_dump in self._dumps:
            if old is not None:
                stamp = now - float(old.params["age"])
                os.utime(good, (stamp, stamp))
            elif self._aged:
                os.utime(good, (now, now))  # tonight's dump ran again
            if empty and not empty_dump.exists():
                _write(empty_dump, 0)
                later = max(now, good.stat().st_mtime + 1)  # the newest, whatever the clock
                os.utime(empty_dump, (later, later))
            elif not empty:
                empty_dump.unlink(missing_ok=True)
        self._aged = old is not None


def _write(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)
