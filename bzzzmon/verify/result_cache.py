"""Passed ``promtool test rules`` runs remembered by content, for the test suite only.

The suite runs the same generated tests through the same pinned promtool from several tests (the
golden builds, ``bzzzmon test``, the version matrix, the review checks): a pass is a fact of the
bytes of the test file, of its rule files and of the binary, so a second run over identical bytes
is skipped. Only when ``BZZZMON_RULE_TEST_CACHE`` names a directory (tests/conftest.py sets one per
session, scripts/run-pytest.sh one for all its lanes), only for passes (a failure always reruns, so
its report is promtool's own), and only for a binary of a pinned tools directory (a stand-in
script's answer need not follow its input).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from bzzzmon.verify.discovery import tools_dirs
from bzzzmon.verify.tools import ToolResult

CACHE_ENV = "BZZZMON_RULE_TEST_CACHE"


def key(binary: str, test: Path, rule_files: Sequence[Path]) -> str | None:
    """The content key of one run, or None when it may not be cached."""
    folder = os.environ.get(CACHE_ENV)
    if not folder:
        return None
    real = Path(binary).resolve()
    if not any(real.is_relative_to(d) for d in tools_dirs()):
        return None
    digest = hashlib.sha256()
    stat = real.stat()
    digest.update(f"{real}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    for path in (test, *rule_files):
        try:
            data = path.read_bytes()
        except OSError:  # a glob or a missing file: promtool's own run says what it makes of it
            return None
        digest.update(f"{path.name}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def recall(run_key: str | None, command: Sequence[str]) -> ToolResult | None:
    """The remembered pass of ``run_key``, as if ``command`` had just printed it."""
    if run_key is None:
        return None
    try:
        saved = json.loads((Path(os.environ[CACHE_ENV]) / run_key).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError):
        return None
    output = str(saved["output"]).replace(str(saved["test"]), command[-1])
    return ToolResult(tuple(command), 0, output)


def remember(run_key: str | None, result: ToolResult) -> None:
    if run_key is None or not result.ok:
        return
    folder = Path(os.environ[CACHE_ENV])
    folder.mkdir(parents=True, exist_ok=True)
    record = json.dumps({"test": result.command[-1], "output": result.output})
    partial = folder / f".{run_key}.{os.getpid()}"
    partial.write_text(record, encoding="utf-8")
    partial.replace(folder / run_key)  # whole or absent, for a lane reading it meanwhile
