"""First look: the endpoint answers for a SCIM token only."""

from __future__ import annotations

from scim.conftest import DOMAIN, Bridge, scim_json


def test_users_list(bridge: Bridge) -> None:
    body = scim_json(bridge.scim.get("/Users", params={"count": 5}), 200)
    assert body["totalResults"] > 5
    assert len(body["Resources"]) == 5
    kenji = f"kenji.watanabe@{DOMAIN}"
    body = scim_json(
        bridge.scim.get("/Users", params={"filter": f'userName eq "{kenji.upper()}"'}), 200
    )
    assert body["totalResults"] == 1, body
    print(body)
