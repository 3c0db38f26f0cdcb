"""The BZZZ simulator: N agents on loopback plus a JSON control endpoint for faults.

Agent ``i`` listens on ``base_port + i`` (or on a free port each when ``base_port`` is 0) and
serves ``/health``, ``/health/checks`` and ``/metrics`` per the agent contract in DESIGN.md.

Control endpoint (``control_port``; JSON in and out):

- ``GET /``: agents, their URLs, active faults and the known fault names with parameters;
- ``GET /faults``: active faults;
- ``POST /faults`` with ``{"name": "dht_failure_ratio", "agent": 1, "ratio": 0.3}``: switch a
  fault on (``agent`` omitted or null: every agent; other keys are the fault's parameters);
- ``DELETE /faults``: clear every fault; ``DELETE /faults/<name>?agent=<i>``: clear one.

Around the agents, when asked for: the DHT bootstrap nodes (``bootstrap_nodes``, each a TCP
listener of its own), the agents' containers as cAdvisor serves them (``cadvisor_port``) and the
backup dumps the exporter's file probes read (``backup_patterns``); faults reach them too.

Everything runs on one asyncio loop in a background thread, so tests and other Python code can
drive it with :meth:`Simulator.set_fault` and :meth:`Simulator.clear_faults` while it serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from aiohttp import web

from bzzzmon.sim import cadvisor
from bzzzmon.sim.agent import AgentModel
from bzzzmon.sim.backups import Backups
from bzzzmon.sim.bootstrap import BootstrapNodes
from bzzzmon.sim.faults import FAULTS, FaultSet, make_fault
from bzzzmon.sim.loop_thread import LoopThread

T = TypeVar("T")
DEFAULT_BASE_PORT = 8081
DEFAULT_CONTROL_PORT = 8090
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_HUNG_SECONDS = 3600.0
_MALFORMED = b'{"status": "healthy", "checks": {"pubsub-health": {"status": '


class Simulator:
    def __init__(
        self,
        agents: int = 3,
        host: str = "127.0.0.1",
        base_port: int = 0,
        control_port: int | None = 0,
        tick: float = 0.25,
        seed: int = 0,
        bootstrap_nodes: Sequence[str] = (),
        cadvisor_port: int | None = None,
        backup_patterns: Sequence[str] = (),
    ) -> None:
        if agents < 1:
            raise ValueError("agents must be at least 1")
        if base_port and not 1 <= base_port <= 65535 - agents + 1:
            raise ValueError(f"base port {base_port} leaves no room for {agents} agents")
        self.host = host
        self.base_port = base_port
        self.control_port = control_port
        self.tick = tick
        self.models = [AgentModel(i, seed) for i in range(agents)]
        self.containers = [cadvisor.ContainerModel(i) for i in range(agents)]
        self.bootstrap = BootstrapNodes(bootstrap_nodes)
        self.backups = Backups(backup_patterns)
        self.cadvisor_port = cadvisor_port
        self.faults = FaultSet()
        self.admin = 0
        self.ports: list[int] = []
        self._runners: list[web.AppRunner | None] = [None] * agents
        self._control_runner: web.AppRunner | None = None
        self._cadvisor_runner: web.AppRunner | None = None
        self._serving = LoopThread("bzzzmon-sim")
        self._ticker: asyncio.Task[None] | None = None
        self._stopped: asyncio.Event | None = None

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> Simulator:
        """Start serving in a background thread; returns once every port is listening."""
        if not self._serving.running:
            self._serving.start(self._start_servers, self._stop_servers)
        return self

    def stop(self) -> None:
        self._serving.stop()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- addresses -----------------------------------------------------------------------------
    @property
    def agent_targets(self) -> list[str]:
        """``host:port`` of every agent (as the exporter's static targets)."""
        return [f"{self.host}:{port}" for port in self.ports]

    @property
    def agent_urls(self) -> list[str]:
        return [f"http://{target}" for target in self.agent_targets]

    @property
    def bootstrap_targets(self) -> dict[str, str]:
        """Each bootstrap node's runbook address (``walnut:9101``) -> ``host:port`` serving it."""
        return self.bootstrap.targets(self.host)

    @property
    def cadvisor_target(self) -> str | None:
        return None if self.cadvisor_port is None else f"{self.host}:{self.cadvisor_port}"

    @property
    def control_url(self) -> str | None:
        return None if self.control_port is None else f"http://{self.host}:{self.control_port}"

    # --- faults from Python --------------------------------------------------------------------
    def set_fault(self, name: str, agent: int | None = None, **params: Any) -> None:
        """Switch a fault on (see faults.FAULTS); raises ValueError for a bad request."""
        fault = make_fault(name, agent, len(self.models), params, self.bootstrap.names)
        self._call(self._add_fault(fault.name, fault.agent, dict(fault.params)))

    def clear_faults(self, name: str | None = None, agent: int | None = None) -> None:
        """Clear every fault, or only ``name`` (for ``agent``, or everywhere when None)."""
        self._call(self._remove_fault(name, agent))

    def active_faults(self) -> list[dict[str, Any]]:
        return [f.as_dict() for f in self.faults.all()]

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        loop = self._serving.loop
        if loop is None or not self._serving.running:
            coroutine.close()
            raise RuntimeError("the simulator is not running; call start() first")
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=30)

    async def _add_fault(self, name: str, agent: int | None, params: dict[str, Any]) -> None:
        self.faults.add(make_fault(name, agent, len(self.models), params, self.bootstrap.names))
        await self._sync_agents()

    async def _remove_fault(self, name: str | None, agent: int | None) -> None:
        self.faults.remove(name, agent)
        await self._sync_agents()

    async def _sync_agents(self) -> None:
        """Apply faults at once: gauges now, agents and bootstrap nodes down or up as
        agent_down and bootstrap_down say, the backup dumps spoiled or good again."""
        for model in self.models:
            model.advance(0.0, self.faults, self.admin)
        for container in self.containers:
            container.advance(0.0, self.faults)
        node = self.faults.world("bootstrap_down")
        await self.bootstrap.sync(None if node is None else str(node.params["node"]), self._bind)
        self.backups.apply(self.faults)
        for i in range(len(self.models)):
            down = self.faults.get("agent_down", i) is not None
            if down and self._runners[i] is not None:
                runner, self._runners[i] = self._runners[i], None
                assert runner is not None
                await runner.cleanup()
            elif not down and self._runners[i] is None:
                await self._start_agent(i, None)

    # --- servers -------------------------------------------------------------------------------
    async def _start_servers(self) -> None:
        self._stopped = asyncio.Event()
        sockets = [
            self._bind(self.base_port + i if self.base_port else 0) for i in range(len(self.models))
        ]
        self.ports = [s.getsockname()[1] for s in sockets]
        for i, sock in enumerate(sockets):
            await self._start_agent(i, sock)
        if self.control_port is not None:
            self._control_runner, self.control_port = await self._serve(
                self._control_app(), self.control_port
            )
        if self.cadvisor_port is not None:
            self._cadvisor_runner, self.cadvisor_port = await self._serve(
                self._cadvisor_app(), self.cadvisor_port
            )
        await self.bootstrap.start(self._bind)
        self.backups.seed()
        for model in self.models:
            model.advance(0.0, self.faults, self.admin)
        self._ticker = asyncio.create_task(self._tick_forever())

    async def _stop_servers(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        for runner in [*self._runners, self._control_runner, self._cadvisor_runner]:
            if runner is not None:
                await runner.cleanup()
        self._runners = [None] * len(self.models)
        await self.bootstrap.stop()

    async def _serve(self, app: web.Application, port: int) -> tuple[web.AppRunner, int]:
        """Serve ``app`` on ``port`` (0: a free one); the runner and the port it got."""
        sock = self._bind(port)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        return runner, sock.getsockname()[1]

    def _bind(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, port))
        except OSError:
            sock.close()
            raise
        sock.listen(128)
        sock.setblocking(False)
        return sock

    async def _start_agent(self, i: int, sock: socket.socket | None) -> None:
        runner = web.AppRunner(self._agent_app(i), access_log=None, shutdown_timeout=0.2)
        await runner.setup()
        sock = sock or self._bind(self.ports[i])
        await web.SockSite(runner, sock).start()
        self._runners[i] = runner

    async def _tick_forever(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.tick)
            now = loop.time()
            if self.faults.active("leader_flapping"):
                self.admin = (self.admin + 1) % len(self.models)
                for model in self.models:
                    model.leader_changed()
            for i, model in enumerate(self.models):
                if self._runners[i] is not None:  # a down agent does nothing
                    model.advance(now - last, self.faults, self.admin)
                    self.containers[i].advance(now - last, self.faults)
            last = now

    # --- agent endpoints -----------------------------------------------------------------------
    def _agent_app(self, i: int) -> web.Application:
        model = self.models[i]

        async def health_gate() -> web.Response | None:
            if self.faults.get("hung_checks", i) is not None:
                await asyncio.sleep(_HUNG_SECONDS)
            slow = self.faults.get("slow_checks", i)
            if slow is not None:
                await asyncio.sleep(float(slow.params["delay"]))
            if self.faults.get("malformed_health", i) is not None:
                return web.Response(body=_MALFORMED, content_type="application/json")
            return None

        def health_endpoint(
            document: Callable[[FaultSet, bool], dict[str, Any]],
        ) -> Callable[[web.Request], Awaitable[web.Response]]:
            """/health and /health/checks: the same faults, a different document."""

            async def answer(_request: web.Request) -> web.Response:
                broken = await health_gate()
                flapping = self.faults.get("leader_flapping", i) is not None
                return broken or _json(document(self.faults, flapping))

            return answer

        async def metrics(_request: web.Request) -> web.Response:
            return _exposition(model.metrics_text())

        app = web.Application()
        app.router.add_get("/health", health_endpoint(model.health_document))
        app.router.add_get("/health/checks", health_endpoint(model.health_checks_document))
        app.router.add_get("/metrics", metrics)
        return app

    def _cadvisor_app(self) -> web.Application:
        async def metrics(_request: web.Request) -> web.Response:
            return _exposition(cadvisor.metrics_text(self.containers))

        app = web.Application()
        app.router.add_get("/metrics", metrics)
        return app

    # --- control endpoint ----------------------------------------------------------------------
    def _control_app(self) -> web.Application:
        async def index(_request: web.Request) -> web.Response:
            return _json(
                {
                    "agents": self.agent_urls,
                    "faults": self.active_faults(),
                    "fault_names": {k: dict(v) for k, v in sorted(FAULTS.items())},
                }
            )

        async def list_faults(_request: web.Request) -> web.Response:
            return _json({"faults": self.active_faults()})

        async def add(request: web.Request) -> web.Response:
            try:
                body = json.loads(await request.read() or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("expected a JSON object")
                name = body.pop("name", None)
                agent = body.pop("agent", None)
                if not isinstance(name, str):
                    raise ValueError('"name" (a fault name) is required')
                await self._add_fault(name, agent, body)
            except ValueError as exc:  # json.JSONDecodeError is a ValueError too
                return _json({"error": str(exc)}, status=400)
            return _json({"faults": self.active_faults()})

        async def clear_all(_request: web.Request) -> web.Response:
            await self._remove_fault(None, None)
            return _json({"faults": []})

        async def clear_one(request: web.Request) -> web.Response:
            raw_agent = request.query.get("agent")
            if raw_agent is not None and not raw_agent.isdigit():
                return _json({"error": "agent must be an agent index"}, status=400)
            await self._remove_fault(
                request.match_info["name"], None if raw_agent is None else int(raw_agent)
            )
            return _json({"faults": self.active_faults()})

        app = web.Application()
        app.router.add_get("/", index)
        app.router.add_get("/faults", list_faults)
        app.router.add_post("/faults", add)
        app.router.add_delete("/faults", clear_all)
        app.router.add_delete("/faults/{name}", clear_one)
        return app


def _exposition(body: bytes) -> web.Response:
    return web.Response(
        body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}
    )


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(body, sort_keys=True), status=status, content_type="application/json"
    )


def run(
    agents: int = 3,
    listen: str = "127.0.0.1",
    base_port: int = DEFAULT_BASE_PORT,
    control_port: int = DEFAULT_CONTROL_PORT,
) -> None:
    """Serve until Ctrl-C or SIGTERM (for ``bzzzmon sim``); raises ValueError or OSError on bad
    input such as a taken port."""
    sim = Simulator(agents=agents, host=listen, base_port=base_port, control_port=control_port)
    sim.start()
    done = threading.Event()
    # Both signals only set the event, installed before the first line is printed: a Ctrl-C that
    # lands while the URLs are printed stops cleanly too, never as a KeyboardInterrupt mid-print.
    previous = {sig: signal.signal(sig, lambda *_: done.set()) for sig in STOP_SIGNALS}
    try:
        for i, url in enumerate(sim.agent_urls):
            print(f"agent {i}: {url}/health/checks  {url}/metrics", flush=True)
        print(f"control: {sim.control_url}/faults", flush=True)
        while not done.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sim.stop()
