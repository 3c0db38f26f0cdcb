"""The backup alerts on the live stack, through the exporter's file probe: the stack's backup
directory starts with a fresh 4 KiB dump (quiet); an old dump pages BZZZPostgresBackupTooOld,
an empty one BZZZPostgresBackupEmpty, each reaching exactly the receivers the routing names and
resolving once a good dump is back. (Last in the session: nothing else runs meanwhile.)"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from e2e_support import TIMEOUT

from bzzzmon.model import Plan
from bzzzmon.stack import Stack
from bzzzmon.stack.routing import notified_receivers


def _age(backup: Path) -> None:
    old = time.time() - 2 * 86400  # the daily dump is two days old
    os.utime(backup, (old, old))


def _empty(backup: Path) -> None:
    backup.write_bytes(b"")


@pytest.mark.parametrize(
    ("alert", "fault"),
    [("BZZZPostgresBackupTooOld", _age), ("BZZZPostgresBackupEmpty", _empty)],
    ids=["too-old", "empty"],
)
def test_a_bad_backup_notifies_its_receivers_and_resolves(
    stack: Stack, plan: Plan, alert: str, fault: Callable[[Path], None]
) -> None:
    assert len(stack.backups) == 1, stack.backups
    backup = stack.backups[0]
    labels = {"alertname": alert}
    since = time.time()
    assert not stack.sink.notifications(labels, "firing")  # quiet with a good dump
    fault(backup)
    try:
        firing = stack.wait_until(
            lambda: stack.sink.notifications(labels, "firing", since=since),
            timeout=TIMEOUT,
            what=alert,
        )
        expected = set(notified_receivers(plan, firing[0].labels))
        assert expected
        stack.wait_until(
            lambda: stack.sink.receivers(labels, since=since) == expected or None,
            timeout=TIMEOUT,
            what=f"{alert} at every receiver",
        )
    finally:
        backup.write_bytes(b"\0" * 4096)  # a fresh, full dump again
    assert firing[0].labels["target"].endswith("/bzzz_*.sql.gz")
    stack.wait_until(
        lambda: stack.sink.receivers(labels, "resolved", since=since) == expected or None,
        timeout=TIMEOUT,
        what=f"{alert} resolved",
    )
    assert stack.sink.receivers(labels, since=since) == expected  # and nobody else
