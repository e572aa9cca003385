"""Helpers for service tests: run the app's lifespan, serve it on a real loopback port."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI

__all__ = [
    "ADMIN_TOKEN",
    "LiveServer",
    "allowing",
    "csrf_of",
    "free_port",
    "lifespan",
    "postgres_schema",
    "serve_in_thread",
]

#: The admin token the service tests configure (ASC_ACCESS_API_TOKEN).
ADMIN_TOKEN = "test-admin-token-0123456789"


def allowing(env: dict[str, str], *urls: str) -> dict[str, str]:
    """``env`` with ``ASC_ACCESS_ALLOWED_API_URLS`` listing ``urls`` too (sandboxes).

    The service calls only Apple's origin and the listed ones, so every service
    test that points a connection at a sandbox lists the sandbox here.
    """
    listed = [u for u in env.get("ASC_ACCESS_ALLOWED_API_URLS", "").split(",") if u]
    return {**env, "ASC_ACCESS_ALLOWED_API_URLS": ",".join([*listed, *urls])}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the app's startup and shutdown around the block (ASGITransport does not)."""
    async with app.router.lifespan_context(app):
        yield


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    """A running server."""

    base_url: str
    server: uvicorn.Server


@contextmanager
def serve_in_thread(
    app: FastAPI,
    *,
    timeout: float = 15.0,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> Iterator[LiveServer]:
    """Serve ``app`` with uvicorn on a free loopback port until the block ends (TLS if given)."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the service did not start")
        time.sleep(0.02)
    try:
        scheme = "https" if ssl_certfile else "http"
        yield LiveServer(f"{scheme}://127.0.0.1:{port}", server)
    finally:
        server.should_exit = True
        thread.join(timeout)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(response: httpx.Response) -> str:
    """The CSRF token in a console page's forms."""
    match = _CSRF.search(response.text)
    assert match, "no CSRF field on the page"
    return match.group(1)


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A URL whose connections use a fresh PostgreSQL schema, dropped afterwards."""
    import uuid
    from urllib.parse import quote

    from sqlalchemy import create_engine, text

    name = f"svc_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    sep = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{sep}options={quote(f'-csearch_path={name}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()
