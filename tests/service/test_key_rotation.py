"""Key rotation keeps the team and the URL, and the old key until the new one has synced.

Issue 12, item 3: ``PUT .../key`` with another team's key, issuer and URL used
to pass the doctor and be saved, and the next sync recorded everyone as removed.
Over real HTTP, with two sandboxes (two teams) both allowed for the service.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from _support.sandbox import RunningSandbox, SandboxKey
from _support.service import ADMIN_TOKEN, allowing, serve_in_thread
from asc_access.config import Settings
from asc_access.runtime import open_store, vault_for
from asc_access.service import create_app
from asc_access.store.connections import get_connection, set_key
from hardening.support import cli

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class Teams:
    """Our team (``ours``), another team (``theirs``), and the service allowed to call both."""

    def __init__(self, ours: RunningSandbox, theirs: RunningSandbox, settings: Settings) -> None:
        self.ours, self.theirs, self.settings = ours, theirs, settings


@pytest.fixture
def teams(tmp_path: Path, sandbox_factory: Callable[..., RunningSandbox]) -> Teams:
    ours = sandbox_factory()
    theirs = sandbox_factory(users=12, apps=4, invitations=2, random_seed=7)
    env = {"ASC_ACCESS_HOME": str(tmp_path / "home"), "ASC_ACCESS_API_TOKEN": ADMIN_TOKEN}
    return Teams(ours, theirs, Settings.from_env(allowing(env, ours.base_url, theirs.base_url)))


@pytest.fixture
def http(teams: Teams) -> Iterator[httpx.Client]:
    app = create_app(teams.settings, scheduler=False)
    with (
        serve_in_thread(app) as live,
        httpx.Client(base_url=live.base_url, headers=ADMIN, timeout=60) as c,
    ):
        yield c


def _key_body(key: SandboxKey, url: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"key_id": key.key_id, "private_key": key.private_key_pem, **extra}
    if key.issuer_id:
        body["issuer_id"] = key.issuer_id
    else:
        body["individual"] = True
    if url:
        body["api_url"] = url
    return body


def _sync(c: httpx.Client, name: str) -> dict[str, Any]:
    started = c.post(f"/api/v1/connections/{name}/sync")
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        items = c.get(f"/api/v1/sync/runs?connection={name}").json()["items"]
        if items and items[0]["status"] != "running":
            return dict(items[0])
        time.sleep(0.05)
    raise AssertionError("the sync did not finish")


def _removals(c: httpx.Client, name: str) -> int:
    page = c.get(f"/api/v1/changes?connection={name}&type=user_removed&limit=1").json()
    return int(page["total"])


def _connect(c: httpx.Client, team: RunningSandbox, name: str, key: str = "admin") -> None:
    body = {"name": name, **_key_body(team.keys[key], team.base_url)}
    r = c.post("/api/v1/connections", json=body)
    assert r.status_code == 201, r.text
    assert _sync(c, name)["status"] == "succeeded"


def test_rotating_to_another_teams_key_is_refused_and_nothing_changes(
    teams: Teams, http: httpx.Client
) -> None:
    _connect(http, teams.ours, "northwind")
    before = http.get("/api/v1/connections/northwind").json()
    users_before = http.get("/api/v1/users?connection=northwind&limit=1").json()["total"]
    other = teams.theirs.keys["admin"]
    for body in (
        _key_body(other, teams.theirs.base_url),  # their key, issuer and URL
        _key_body(other),  # their key and issuer at our URL
    ):
        r = http.put("/api/v1/connections/northwind/key", json=body)
        assert r.status_code == 409, r.text
        assert r.json()["cause"] == "rotation_moves_connection"
    after = http.get("/api/v1/connections/northwind").json()
    for field in ("key_id", "issuer_id", "api_url", "key_type", "healthy", "rotation_pending"):
        assert after[field] == before[field], field
    assert teams.theirs.stats()["requests"] == 0, "the other team was contacted"
    run = _sync(http, "northwind")
    assert run["status"] == "succeeded", run
    assert _removals(http, "northwind") == 0
    assert http.get("/api/v1/users?connection=northwind&limit=1").json()["total"] == users_before


def test_a_move_must_be_asked_for_and_then_is_allowed(teams: Teams, http: httpx.Client) -> None:
    _connect(http, teams.ours, "northwind")
    old = http.get("/api/v1/connections/northwind").json()
    r = http.put(
        "/api/v1/connections/northwind/key",
        json=_key_body(teams.theirs.keys["admin"], teams.theirs.base_url, move=True),
    )
    assert r.status_code == 200, r.text
    moved = r.json()["connection"]
    assert moved["api_url"] == teams.theirs.base_url
    assert moved["rotation_pending"] is True
    assert moved["previous_key_id"] == old["key_id"]
    assert _sync(http, "northwind")["status"] == "succeeded"
    confirmed = http.get("/api/v1/connections/northwind").json()
    assert confirmed["rotation_pending"] is False
    assert confirmed["previous_key_id"] is None


def test_the_old_key_stays_until_the_new_one_has_synced(teams: Teams, http: httpx.Client) -> None:
    _connect(http, teams.ours, "northwind")
    old = http.get("/api/v1/connections/northwind").json()
    newer = teams.ours.issue_key("team", role="ADMIN", name="newer")
    r = http.put("/api/v1/connections/northwind/key", json=_key_body(newer))
    assert r.status_code == 200, r.text
    assert r.json()["connection"]["rotation_pending"] is True
    # Apple refuses the new key in its first sync: the old key comes back.
    teams.ours.revoke_key(newer.key_id)
    failed = _sync(http, "northwind")
    assert failed["status"] == "failed"
    restored = http.get("/api/v1/connections/northwind").json()
    assert restored["key_id"] == old["key_id"]
    assert restored["rotation_pending"] is False
    assert _sync(http, "northwind")["status"] == "succeeded"
    # A new key that syncs is confirmed, and the old one is forgotten.
    newest = teams.ours.issue_key("team", role="ADMIN", name="newest")
    assert http.put("/api/v1/connections/northwind/key", json=_key_body(newest)).status_code == 200
    assert _sync(http, "northwind")["status"] == "succeeded"
    final = http.get("/api/v1/connections/northwind").json()
    assert final["key_id"] == newest.key_id
    assert final["rotation_pending"] is False
    assert _removals(http, "northwind") == 0


def test_a_key_of_another_team_that_gets_through_is_caught_by_its_first_sync(
    teams: Teams, http: httpx.Client
) -> None:
    """Individual keys carry no issuer, and Apple has one URL for every team.

    Saved straight into the store (as if the checks at rotation could not tell),
    another team's key must not replace the picture: the sync refuses it and the
    previous key comes back.
    """
    _connect(http, teams.ours, "northwind", key="individual-admin")
    old = http.get("/api/v1/connections/northwind").json()
    users_before = http.get("/api/v1/users?connection=northwind&limit=1").json()["total"]
    other = teams.theirs.keys["individual-admin"]
    engine = open_store(teams.settings)
    set_key(
        engine,
        "northwind",
        key_id=other.key_id,
        issuer_id=None,
        key_type="individual",
        encrypted_private_key=vault_for(teams.settings).encrypt(other.private_key_pem.encode()),
        healthy=True,
        api_url=teams.theirs.base_url,
    )
    run = _sync(http, "northwind")
    assert run["status"] == "failed", run
    assert run["cause"] == "rotated_to_another_team"
    assert _removals(http, "northwind") == 0
    assert http.get("/api/v1/users?connection=northwind&limit=1").json()["total"] == users_before
    restored = get_connection(engine, "northwind")
    assert restored.key_id == old["key_id"]
    assert restored.api_url == teams.ours.base_url
    assert not restored.rotation_pending
    assert _sync(http, "northwind")["status"] == "succeeded"
    assert _removals(http, "northwind") == 0


def test_cli_rotate_key_refuses_another_team_unless_moved(
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    ours = sandbox_factory()
    theirs = sandbox_factory(users=5, apps=2, random_seed=3)
    key = ours.keys["admin"]
    assert cli(
        "connect", "prod", "--key-id", key.key_id, "--issuer-id", str(key.issuer_id),
        "--private-key-file", str(key.private_key_file), "--api-url", ours.base_url,
    ).exit_code == 0  # fmt: skip
    other = theirs.keys["admin"]
    flags = [
        "--key-id", other.key_id, "--issuer-id", str(other.issuer_id),
        "--private-key-file", str(other.private_key_file), "--api-url", theirs.base_url,
    ]  # fmt: skip
    refused = cli("connections", "rotate-key", "prod", *flags, "--json")
    assert refused.exit_code == 2, refused.stdout
    assert "--move" in refused.stdout
    assert cli("connections", "show", "prod", "--json").doc["key_id"] == key.key_id
    moved = cli("connections", "rotate-key", "prod", *flags, "--move", "--json")
    assert moved.exit_code == 0, moved.stdout
    assert moved.doc["record"]["api_url"] == theirs.base_url


def _record(**overrides: Any) -> Any:
    from datetime import UTC, datetime

    from asc_access.store.connections import ConnectionRecord

    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "id": 1,
        "name": "northwind",
        "key_id": "OLDKEY1234",
        "issuer_id": "57246542-96fe-1a63-e053-0824d011072a",
        "key_type": "team",
        "api_url": "https://api.appstoreconnect.apple.com",
        "sync_interval_seconds": 3600,
        "healthy": True,
        "health_code": None,
        "health_cause": None,
        "health_checked_at": now,
        "last_ok_at": now,
        "capabilities": {"read_users": True, "manage_users": True},
        "created_at": now,
        "updated_at": now,
    }
    return ConnectionRecord(**{**values, **overrides})


def _creds(key_type: str, issuer: str | None) -> Any:
    from _support import keys
    from asc_access.credentials import Credentials, parse_private_key
    from asc_access.ids import IssuerId, KeyId

    return Credentials(
        key_id=KeyId("NEWKEY1234"),
        issuer_id=IssuerId(issuer) if issuer else None,
        key_type="individual" if key_type == "individual" else "team",
        private_key=parse_private_key(keys.p256_key_pem(), source="test").key,
        sources={},
    )


def test_the_rotation_rule_names_each_way_a_key_could_move_the_connection() -> None:
    from asc_access.runtime import rotation_refusal

    team = _record()
    apple = team.api_url
    same = _creds("team", team.issuer_id)
    assert rotation_refusal(team, same, apple, None) is None
    assert rotation_refusal(team, _creds("team", team.issuer_id.upper()), apple, None) is None
    refusals = {
        "url": rotation_refusal(team, same, "http://127.0.0.1:9", None),
        "issuer": rotation_refusal(
            team, _creds("team", "11111111-2222-3333-4444-555555555555"), apple, None
        ),
        "type": rotation_refusal(team, _creds("individual", None), apple, None),
    }
    assert all(r and "--move" in r for r in refusals.values()), refusals
    solo = _record(key_type="individual", issuer_id=None)
    mine = _creds("individual", None)
    assert rotation_refusal(solo, mine, apple, {"read_users": True, "manage_users": True}) is None
    other_user = rotation_refusal(solo, mine, apple, {"read_users": False, "manage_users": False})
    assert other_user is not None
    assert "another user's key" in other_user


async def test_the_console_refuses_another_teams_key_and_shows_a_pending_rotation(
    client: httpx.AsyncClient,
    sandbox: RunningSandbox,
    sandbox_factory: Callable[..., RunningSandbox],
) -> None:
    from _support.service import csrf_of

    key = sandbox.keys["admin"]
    added = await client.post(
        "/api/v1/connections", json={"name": "northwind", **_key_body(key, sandbox.base_url)},
        headers=ADMIN,
    )  # fmt: skip
    assert added.status_code == 201, added.text
    page = await client.get("/login")
    await client.post(
        "/login", data={"token": ADMIN_TOKEN, "csrf_token": csrf_of(page), "next": "/connections"}
    )
    csrf = csrf_of(await client.get("/connections/northwind"))
    theirs = sandbox_factory(users=5, apps=2, random_seed=11).keys["admin"]

    async def rotate(new: SandboxKey) -> httpx.Response:
        return await client.post(
            "/connections/northwind/rotate",
            data={"csrf_token": csrf, "key_id": new.key_id, "issuer_id": str(new.issuer_id)},
            files={"private_key": ("AuthKey.p8", new.private_key_pem.encode())},
        )

    refused = await rotate(theirs)
    assert refused.status_code == 409, refused.text[:500]
    assert "would move this connection" in refused.text
    stored = (await client.get("/api/v1/connections/northwind", headers=ADMIN)).json()
    assert stored["key_id"] == key.key_id
    newer = sandbox.issue_key("team", role="ADMIN")
    accepted = await rotate(newer)
    assert accepted.status_code == 200, accepted.text[:500]
    assert "not synced yet" in accepted.text
    assert key.key_id in accepted.text  # the previous key, kept
