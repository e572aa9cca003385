"""Bad input and unknown ids get clear 4xx answers in the one error shape, never a 500."""

from __future__ import annotations

import httpx
import pytest

SHAPE = {"code", "cause", "title", "resolution", "message"}


def _problem(r: httpx.Response, status: int) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) >= SHAPE
    assert isinstance(body["resolution"], list)
    return body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/sync/runs/999999"),
        ("GET", "/api/v1/actions/plans/no-such-plan"),
        ("POST", "/api/v1/actions/plans/no-such-plan/confirm"),
        ("GET", "/api/v1/audit/999999"),
        ("POST", "/api/v1/connections/no-such-connection/sync"),
        ("GET", "/api/v1/sync/runs?connection=no-such-connection"),
        ("DELETE", "/api/v1/tokens/no-such-token"),
        ("GET", "/api/v1/no/such/route"),
    ],
)
async def test_unknown_ids_are_404(
    client: httpx.AsyncClient, admin: dict[str, str], method: str, path: str
) -> None:
    body = _problem(await client.request(method, path, headers=admin), 404)
    assert body["cause"] in {"not_found", None}
    assert body["message"]


async def test_malformed_json_is_400(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    r = await client.post(
        "/api/v1/actions/plans",
        content=b'{"action": "remove", "email": ',
        headers={**admin, "Content-Type": "application/json"},
    )
    body = _problem(r, 400)
    assert body["cause"] == "invalid_json"


async def test_invalid_fields_are_422_naming_them(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post(
        "/api/v1/actions/plans", json={"action": "fly", "email": "x@example.com"}, headers=admin
    )
    body = _problem(r, 422)
    assert body["cause"] == "invalid_request"
    assert "action" in str(body["message"])
    r = await client.post(
        "/api/v1/actions/plans", json={"action": "remove", "email": "x@example.com"}, headers=admin
    )
    body = _problem(r, 422)
    assert "connection" in str(body["message"])
    r = await client.get("/api/v1/sync/runs?limit=0", headers=admin)
    _problem(r, 422)
    r = await client.get("/api/v1/sync/runs/not-a-number", headers=admin)
    _problem(r, 422)


async def test_plans_for_unknown_connections_are_404(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post(
        "/api/v1/actions/plans",
        json={"action": "remove", "email": "x@example.com", "connection": "nowhere"},
        headers=admin,
    )
    body = _problem(r, 404)
    assert "nowhere" in str(body["message"])


async def test_oversize_bodies_are_413(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    r = await client.post(
        "/api/v1/tokens",
        content=b'{"name": "' + b"x" * 400_000 + b'"}',
        headers={**admin, "Content-Type": "application/json"},
    )
    body = _problem(r, 413)
    assert body["cause"] == "too_large"


async def test_streamed_oversize_bodies_are_413(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    async def chunks():  # no Content-Length: the limit is counted as the body streams
        for _ in range(40):
            yield b"x" * 10_000

    r = await client.post(
        "/api/v1/tokens", content=chunks(), headers={**admin, "Content-Type": "application/json"}
    )
    _problem(r, 413)


async def test_console_errors_are_pages_not_json(client: httpx.AsyncClient) -> None:
    r = await client.get("/no/such/page")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "nothing at this address" in r.text


async def test_openapi_document_describes_the_api(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path in (
        "/api/v1/actions/plans",
        "/api/v1/actions/plans/{plan_id}/confirm",
        "/api/v1/sync/runs",
        "/api/v1/connections/{name}/sync",
        "/api/v1/audit",
        "/api/v1/tokens",
    ):
        assert path in paths, path
    assert "HTTPBearer" in doc["components"]["securitySchemes"]
    assert not any(p.startswith(("/login", "/connections/new")) for p in paths)
