"""Helpers for the governance tests: the CLI, saved connections, and real local receivers.

``WebhookReceiver`` is a real HTTP server on loopback that checks each POST's
HMAC-SHA256 signature (or fails every request, to show retries); ``Mailbox``
is a real SMTP server (aiosmtpd) collecting messages.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from email import message_from_string
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from asc_access.cli.main import app

SECRET = "test-webhook-secret"


def cli(*args: str, answer: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), input=answer)


def as_json(result: Any) -> Any:
    return json.loads(result.stdout)


def connect(name: str, running: Any, key: str = "admin") -> None:
    """Save ``running`` as connection ``name`` with the real ``connect`` command."""
    sandbox_key = running.keys[key]
    args = ["connect", name, "--key-id", sandbox_key.key_id]
    if sandbox_key.issuer_id:
        args += ["--issuer-id", sandbox_key.issuer_id]
    args += ["--private-key-file", str(sandbox_key.private_key_file)]
    result = cli(*args, "--api-url", running.base_url, "--json")
    assert result.exit_code == 0, (result.output, result.exception)


def sync(*names: str) -> Any:
    """``asc-access sync NAME --json`` for each name (the policy hook runs after each)."""
    results = [cli("sync", name, "--json") for name in names]
    return results[-1] if len(results) == 1 else results


def user_id(connection: str, email: str) -> str:
    result = cli("users", "--connection", connection, "--json")
    assert result.exit_code == 0, result.output
    document = as_json(result)
    people = document["users"] if isinstance(document, dict) else document
    (person,) = [p for p in people if p["email"] == email]
    return str(person["id"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class WebhookReceiver:
    """A loopback HTTP receiver; ``fail=True`` answers 500 to everything."""

    def __init__(self, *, fail: bool = False, secret: str = SECRET) -> None:
        self.received: list[dict[str, Any]] = []
        self.rejected = 0
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.attempts += 1
                if fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                given = self.headers.get("X-Asc-Access-Signature", "")
                if not hmac.compare_digest(expected, given):
                    receiver.rejected += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                receiver.received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/asc"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[tuple[str, str, str, str | None]]:
        """(event, policy, connection, email) of every verified delivery."""
        return [
            (d["event"], d["violation"]["policy"], d["violation"]["connection"],
             d["violation"]["email"])
            for d in self.received
        ]  # fmt: skip


class Mailbox:
    """A real SMTP server on loopback (aiosmtpd) keeping every message."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.port = free_port()
        mailbox = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                mailbox.messages.append(message_from_string(envelope.content.decode()))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return (
            f"mailto://127.0.0.1:{self.port}?from=alerts@example.com"
            "&to=security@example.com&mode=insecure"
        )

    def __enter__(self) -> Mailbox:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]
