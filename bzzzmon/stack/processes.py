"""Child processes of the stack: find the binary, start it on loopback, wait for it, stop it.

Every child gets its own session (Ctrl-C in the terminal reaches only us, and we stop the
children in order) and, on Linux, a parent-death signal, so even a stack killed with SIGKILL
leaves nothing running.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from bzzzmon.verify.discovery import NAMES, locate

LOOPBACK = "127.0.0.1"
INSTALL_COMMAND = "apt-get install -y --no-install-recommends prometheus prometheus-alertmanager"
_PR_SET_PDEATHSIG = 1


class StackError(RuntimeError):
    """The stack could not start or a part of it failed; the message says what to do."""


def find_binary(kind: str) -> str:
    """Path of the Prometheus or Alertmanager binary (or vmalert...: a name of
    bzzzmon.verify.discovery.NAMES), the newest found unless BZZZMON_<KIND> names one or
    BZZZMON_TOOLS_SUITE a suite of the tools directory; else a StackError saying how to get it."""
    found = locate(kind)
    if found is not None:
        return found.path
    name = NAMES.get(kind, (kind,))[0]
    raise StackError(f"{name} was not found on PATH; install it with: {INSTALL_COMMAND}")


def free_port() -> int:
    """A port that is free on 127.0.0.1 right now (the child binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _libc() -> ctypes.CDLL | None:
    with contextlib.suppress(OSError):
        return ctypes.CDLL(None, use_errno=True)
    return None


# Loaded in the parent: between fork and exec the child must not take the loader's locks.
_LIBC = _libc() if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ChildProcess:
    """One child with its output in a log file; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, name: str, args: Sequence[str], log: Path, cwd: Path | None = None) -> None:
        self.name = name
        self.args = list(args)
        self.log = log
        self._log_file = log.open("ab")
        try:
            self.proc = subprocess.Popen(
                self.args,
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent if _LIBC is not None else None,
            )
        except OSError as exc:
            self._log_file.close()
            raise StackError(f"cannot start {name} ({self.args[0]}): {exc}") from exc

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, url: str, timeout: float) -> None:
        """Poll ``url`` until it answers 200; fail early when the process exits."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.running():
                raise StackError(
                    f"{self.name} exited with status {self.proc.returncode} while starting; "
                    f"last lines of {self.log}:\n{self.log_tail()}"
                )
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(url, timeout=2) as response,  # loopback only
            ):
                if response.status == 200:
                    return
            if time.monotonic() > deadline:
                raise StackError(
                    f"{self.name} was not ready at {url} after {timeout:g}s; "
                    f"last lines of {self.log}:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, wait ``grace`` seconds, then SIGKILL; idempotent."""
        try:
            if self.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(timeout=grace)
        finally:
            self._log_file.close()
