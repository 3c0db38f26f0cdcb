"""Local endpoints that record what Alertmanager sends: an HTTP server (Slack, PagerDuty) and a
minimal SMTP server. Both listen on 127.0.0.1 and are stopped by their context managers."""

from __future__ import annotations

import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


class _Recorder:
    def __init__(self) -> None:
        self.items: list[Any] = []
        self.changed = threading.Condition()

    def add(self, item: Any) -> None:
        with self.changed:
            self.items.append(item)
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 60) -> list[Any]:
        """Block until ``count`` items arrived (the timeout only bounds a broken run)."""
        with self.changed:
            self.changed.wait_for(lambda: len(self.items) >= count, timeout=timeout)
            return list(self.items)


class _Serving:
    """A server on 127.0.0.1, served by a daemon thread from ``with`` entry to exit."""

    def __init__(self, server: socketserver.TCPServer) -> None:
        self.server = server
        self.address = f"127.0.0.1:{server.server_address[1]}"
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class CaptureHTTP(_Serving):
    """Records (path, body) of every POST and answers 200."""

    def __init__(self) -> None:
        self.requests = _Recorder()
        recorder = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                recorder.add((self.path, self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
        self.url = f"http://{self.address}"


class CaptureSMTP(_Serving):
    """Just enough SMTP (no TLS, no AUTH) to receive a message; records the DATA bytes."""

    def __init__(self) -> None:
        self.messages = _Recorder()
        recorder = self.messages

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 capture ESMTP\r\n")
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    verb = line.strip().split(b" ")[0].upper()
                    if verb == b"EHLO":
                        self.wfile.write(b"250-capture\r\n250 8BITMIME\r\n")
                    elif verb == b"DATA":
                        self.wfile.write(b"354 go ahead\r\n")
                        data = b""
                        while not data.endswith(b"\r\n.\r\n"):
                            chunk = self.rfile.readline()
                            if not chunk:
                                return
                            data += chunk
                        recorder.add(data[: -len(b".\r\n")])
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        super().__init__(server)
