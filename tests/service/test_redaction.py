"""One redactor for the product; upstream text that echoes a secret is never kept or shown.

The sandbox answers with an error whose detail quotes the request's
``Authorization`` header (a proxy or WAF may). The failed sync's record, the
API's view of it and the logs must not hold the token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from _support.sandbox import RunningSandbox
from _support.service import lifespan
from asc_access.api import RetryPolicy
from asc_access.api import response as api_response
from asc_access.config import Settings
from asc_access.queue import logging as worker_logging
from asc_access.redaction import redact
from asc_access.service import create_app
from asc_access.store import runs

PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg\n"
    "-----END PRIVATE KEY-----"
)
JWT = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJlLXNpZw"


@pytest.mark.parametrize("redactor", [api_response.redact, worker_logging.redact, redact])
def test_every_redactor_masks_pem_jwt_and_bearer(redactor: object) -> None:
    assert redactor is redact  # one redactor for the whole product
    text = f"upstream said: {PEM} Authorization: Bearer abc.def-ghi_0123456789 and {JWT} end"
    masked = redact(text)
    assert "MIGTAgEA" not in masked
    assert "BEGIN PRIVATE KEY" not in masked
    assert "abc.def-ghi" not in masked
    # Prose about tokens is left alone (our own messages say "bearer token").
    assert redact("The bearer token is not valid.") == "The bearer token is not valid."
    assert "c2lnbmF0dXJl" not in masked
    assert masked.startswith("upstream said: ")
    assert masked.endswith(" end")
    # A PEM block cut off before its end line is masked to the end of the text.
    assert "MIGTAgEA" not in redact("key: -----BEGIN EC PRIVATE KEY-----\nMIGTAgEA")


@pytest.fixture
async def fast_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The service with one attempt per request (the failure is the point, not retries)."""
    app = create_app(settings, scheduler=False, client_kwargs={"retry": RetryPolicy(1)})
    async with (
        lifespan(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://testserver"
        ) as c,
    ):
        yield c
    app.state.ctx.engine.dispose()


async def test_an_echoed_authorization_header_reaches_no_record(
    fast_client: httpx.AsyncClient,
    admin: dict[str, str],
    sandbox: RunningSandbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = fast_client
    k = sandbox.keys["admin"]
    r = await client.post(
        "/api/v1/connections",
        json={
            "name": "northwind",
            "key_id": k.key_id,
            "issuer_id": k.issuer_id,
            "api_url": sandbox.base_url,
            "private_key": k.private_key_pem,
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    sandbox.add_fault(status=500, path_prefix="/v1/users", echo_authorization=True)
    caplog.set_level(logging.DEBUG)
    started = (await client.post("/api/v1/connections/northwind/sync", headers=admin)).json()
    for _ in range(300):
        run = (await client.get(started["run_url"], headers=admin)).json()
        if run["status"] != "running":
            break
        await asyncio.sleep(0.05)
    sandbox.clear_faults()
    assert run["status"] == "failed", run
    assert "Rejected request: Authorization: Bearer" in (run["error"] or ""), run

    engine = client._transport.app.state.ctx.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        stored = runs.get_run(conn, run["id"])
    assert stored is not None
    assert stored.error_message
    shown = (await client.get("/api/v1/connections/northwind", headers=admin)).text
    for text in (stored.error_message, str(run), shown, caplog.text):
        assert "eyJ" not in text
