"""Nothing the stack starts listens outside 127.0.0.1, and Alertmanager opens no cluster port.

Reads the kernel's socket tables: every TCP socket in LISTEN state and every UDP socket owned by
a stack process (Prometheus, Alertmanager, the exporter, and this process with the simulator
and the sink) must be bound to 127.0.0.1.
"""

from __future__ import annotations

import os
from pathlib import Path

from bzzzmon.stack import Stack

_LISTEN = "0A"
_LOOPBACK_HEX = "0100007F"  # 127.0.0.1 as /proc/net/tcp prints it


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _bound(pid: int) -> list[tuple[str, str, str]]:
    """(table, local address, state) of the process's listening TCP and all UDP sockets."""
    mine = _socket_inodes(pid)
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if inode in mine and (table.startswith("udp") or state == _LISTEN):
                found.append((table, local, state))
    return found


def test_every_socket_is_bound_to_loopback(stack: Stack) -> None:
    pids = {child.name: child.pid for child in stack.children} | {"this process": os.getpid()}
    assert {"prometheus", "alertmanager", "exporter"} <= set(pids)
    outside = {
        name: sockets
        for name, pid in pids.items()
        if (sockets := [s for s in _bound(pid) if not s[1].startswith(_LOOPBACK_HEX + ":")])
    }
    assert outside == {}
    assert [s for s in _bound(pids["alertmanager"]) if s[0].startswith("udp")] == []
    for name in ("prometheus", "alertmanager", "exporter"):
        assert _bound(pids[name]), f"{name} listens nowhere?"
