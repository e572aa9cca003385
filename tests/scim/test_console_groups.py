"""Group mappings in the console; a SCIM token cannot sign in there."""

from __future__ import annotations

import httpx

from _support.service import csrf_of, lifespan
from asc_access.config import Settings
from asc_access.service import create_app
from scim.conftest import ADMIN_TOKEN, Bridge, cli_json


async def _signed_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login", data={"token": token, "csrf_token": csrf_of(page), "next": "/connections"}
    )


async def test_console_maps_and_unmaps_a_group(bridge: Bridge) -> None:
    app = create_app(Settings.from_env(), scheduler=False)
    try:
        async with (
            lifespan(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="https://testserver"
            ) as client,
        ):
            refused = await _signed_in(client, bridge.token)
            assert refused.status_code == 401, "a SCIM token does not open the console"
            assert (await _signed_in(client, ADMIN_TOKEN)).status_code == 303
            page = await client.get("/connections/northwind/scim-groups")
            assert page.status_code == 200
            assert "No group gives access yet" in page.text
            saved = await client.post(
                "/connections/northwind/scim-groups",
                data={
                    "csrf_token": csrf_of(page),
                    "group": "ASC Marketing",
                    "role_list": "MARKETING, DEVELOPER",
                    "apps": "com.northwindlabs.ledger",
                },
            )
            assert saved.status_code == 303
            mapped = cli_json("scim", "groups", "northwind")["mappings"]
            assert mapped == [
                {
                    "group": "ASC Marketing",
                    "roles": ["DEVELOPER", "MARKETING"],
                    "all_apps": False,
                    "apps": ["com.northwindlabs.ledger"],
                }
            ]
            page = await client.get("/connections/northwind/scim-groups")
            assert "ASC Marketing" in page.text
            bad = await client.post(
                "/connections/northwind/scim-groups",
                data={"csrf_token": csrf_of(page), "group": "X", "role_list": "WIZARD"},
            )
            assert bad.status_code == 400
            assert "WIZARD" in bad.text
            gone = await client.post(
                "/connections/northwind/scim-groups/remove",
                data={"csrf_token": csrf_of(page), "group": "ASC Marketing"},
            )
            assert gone.status_code == 303
            assert cli_json("scim", "groups", "northwind")["mappings"] == []
            no_csrf = await client.post(
                "/connections/northwind/scim-groups", data={"group": "Y", "role_list": "SALES"}
            )
            assert no_csrf.status_code == 403
    finally:
        app.state.ctx.engine.dispose()
