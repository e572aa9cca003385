"""Every listing's ``limit`` is the one ``Limit`` rule (1-500): bounded the same everywhere."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

LISTINGS = [
    "/api/v1/audit",
    "/api/v1/approvals",
    "/api/v1/sync/runs",
    "/api/v1/changes",
    "/api/v1/users",
]


@pytest.mark.parametrize("path", LISTINGS)
@pytest.mark.parametrize("limit", ["0", "501", "-1", "many"])
async def test_an_out_of_range_limit_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str], path: str, limit: str
) -> None:
    response = await client.get(path, params={"limit": limit}, headers=admin)
    assert response.status_code == 422, (path, response.text)


@pytest.mark.parametrize("path", LISTINGS)
async def test_the_documented_limit_is_one_to_five_hundred(
    client: httpx.AsyncClient, admin: dict[str, str], path: str
) -> None:
    document: dict[str, Any] = (await client.get("/api/openapi.json", headers=admin)).json()
    (limit,) = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == "limit"]
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 500)
    assert limit["description"] == "Page size"
