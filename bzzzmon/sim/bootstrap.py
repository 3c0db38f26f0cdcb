"""The DHT bootstrap nodes as TCP listeners of their own, each named by its runbook address.

The exporter's TCP probe only connects; a node up accepts and closes, a node down has no
listener (the connection is refused), as a stopped dht-bootstrap service would.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Sequence

Bind = Callable[[int], socket.socket]


def node_name(address: str) -> str:
    """``walnut:9101`` -> ``walnut`` (the node a fault names)."""
    return address.rpartition(":")[0] or address


async def _hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


class BootstrapNodes:
    """``addresses`` as the spec names them (``walnut:9101``); each served on a port of its own."""

    def __init__(self, addresses: Sequence[str]) -> None:
        self.addresses = tuple(addresses)
        names = [node_name(a) for a in self.addresses]
        if len(set(names)) != len(names):
            raise ValueError(f"bootstrap node names must differ: {', '.join(names)}")
        self.names = tuple(names)
        self.ports: dict[str, int] = {}  # runbook address -> the loopback port serving it
        self._servers: dict[str, asyncio.Server] = {}

    def targets(self, host: str) -> dict[str, str]:
        """Runbook address -> ``host:port`` that serves it."""
        return {a: f"{host}:{port}" for a, port in self.ports.items()}

    async def start(self, bind: Bind) -> None:
        for address in self.addresses:
            await self._up(address, bind(0))

    async def sync(self, down: str | None, bind: Bind) -> None:
        """``down``: one node name, ``all``, or None (every node up)."""
        for address, name in zip(self.addresses, self.names, strict=True):
            if down in ("all", name):
                server = self._servers.pop(address, None)
                if server is not None:
                    server.close()
                    await server.wait_closed()
            elif address not in self._servers:
                await self._up(address, bind(self.ports[address]))

    async def stop(self) -> None:
        for server in self._servers.values():
            server.close()
            await server.wait_closed()
        self._servers.clear()

    async def _up(self, address: str, sock: socket.socket) -> None:
        self.ports[address] = sock.getsockname()[1]
        self._servers[address] = await asyncio.start_server(_hang_up, sock=sock)
