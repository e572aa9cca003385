"""Serving the sandbox with uvicorn: in the foreground (CLI) or in a thread (tests)."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from asc_access.sandbox.app import DROP_EXTENSION, SandboxApp
from asc_access.sandbox.state import Sandbox

__all__ = ["DroppingH11Protocol", "ThreadedServer", "free_port", "make_config", "serve"]

Scope = MutableMapping[str, Any]
_App = Callable[[Scope, Any, Any], Awaitable[None]]


class DroppingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, plus a scope extension that closes the connection.

    The sandbox uses it for the ``drop`` fault: the client sees the server hang up
    without any response, as when a load balancer drops a connection.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Wrap the app so each request can reach this connection's transport."""
        super().connection_made(transport)
        inner: _App = self.app

        async def app(scope: Scope, receive: Any, send: Any) -> None:
            extensions = dict(scope.get("extensions") or {})
            extensions[DROP_EXTENSION] = transport.abort
            scope["extensions"] = extensions
            await inner(scope, receive, send)

        self.app = app


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def make_config(app: SandboxApp, host: str, port: int, *, log_level: str = "warning") -> Any:
    """The uvicorn config the sandbox runs with (Date comes from the sandbox clock)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=DroppingH11Protocol,
        lifespan="off",
        log_level=log_level,
        access_log=False,
        date_header=False,
        server_header=False,
        timeout_graceful_shutdown=2,
    )


def serve(
    sandbox: Sandbox,
    host: str,
    port: int,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until SIGINT / SIGTERM; ``on_ready(base_url)`` runs once the port listens."""
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    server = ThreadedServer(sandbox, host, port or None)
    try:
        server.start()
        if on_ready is not None:
            on_ready(server.base_url)
        while not stop.wait(0.5):
            if not server.alive:
                break
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class ThreadedServer:
    """uvicorn in a background thread on a loopback port; a context manager."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int | None = None):
        self.sandbox = sandbox
        self.host = host
        self.port = port or free_port(host)
        self._server = uvicorn.Server(make_config(SandboxApp(sandbox), self.host, self.port))
        self._thread = threading.Thread(
            target=self._server.run, name=f"asc-sandbox-{self.port}", daemon=True
        )

    @property
    def alive(self) -> bool:
        """Whether the server thread is still running."""
        return self._thread.is_alive()

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Start and wait until the port accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the sandbox server failed to start on {self.base_url}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the sandbox did not start on {self.base_url}")
            time.sleep(0.01)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> ThreadedServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
