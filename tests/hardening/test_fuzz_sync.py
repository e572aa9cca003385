"""Hostile documents from "Apple", all the way into the store (SQLite and PostgreSQL).

Real documents are captured from a demo sandbox, then Hypothesis mutates them
(replaces any value with arbitrary JSON — NUL bytes, 1,000-character strings,
huge numbers, NaN, foreign and looping links — deletes or adds keys, drops or
repeats list items) and serves them through ``httpx.MockTransport`` to the real
client and the real sync engine. Whatever arrives:

- only :class:`~asc_access.errors.SyncError` escapes, with a catalogue code
  (APP-107 for what cannot be read) and a message naming the request;
- a failed sync leaves the previous snapshot exactly as it was;
- a sync that succeeds wrote a snapshot the store reads back.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, text

from _support.sandbox import start_sandbox
from asc_access.api import AppStoreConnectClient, RetryPolicy
from asc_access.catalogue import CODES
from asc_access.errors import SyncError
from asc_access.store import schema
from asc_access.store.db import ensure_schema, make_engine
from asc_access.store.mirror import load_snapshot
from asc_access.sync import sync_connection

BASE = "https://api.test"
KEYS = st.sampled_from(
    ["data", "type", "id", "attributes", "relationships", "visibleApps", "meta", "paging",
     "total", "limit", "links", "next", "self", "included", "roles", "username", "email",
     "firstName", "lastName", "allAppsVisible", "provisioningAllowed", "expirationDate",
     "name", "bundleId", "sku", "errors"]
)  # fmt: skip
LEAF = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "",
            "\x00",
            "a\x00b@example.com",
            "x" * 1000,
            "users",
            "apps",
            "userInvitations",
            "ADMIN",
            "NOT_A_ROLE",
            "2021-04-22T08:02:15.000+0000",
            "not a date",
            f"{BASE}/v1/users?cursor=again",
            "https://evil.example/v1/users?cursor=1",
            "/v1/users?cursor=relative",
            "::not a url::",
        ]
    )
)
JSON = st.recursive(
    LEAF,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(KEYS | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=15,
)


def _mutate(draw: Any, node: Any, depth: int = 0) -> Any:
    """One random edit somewhere inside ``node`` (a deep copy is edited)."""
    descend = isinstance(node, dict | list) and node and depth < 8 and draw(st.booleans())
    if descend:
        if isinstance(node, dict):
            key = draw(st.sampled_from(sorted(node)))
            node[key] = _mutate(draw, node[key], depth + 1)
        else:
            index = draw(st.integers(0, len(node) - 1))
            node[index] = _mutate(draw, node[index], depth + 1)
        return node
    action = draw(st.sampled_from(["replace", "delete", "add", "repeat"]))
    if action == "delete" and isinstance(node, dict) and node:
        del node[draw(st.sampled_from(sorted(node)))]
        return node
    if action == "delete" and isinstance(node, list) and node:
        del node[draw(st.integers(0, len(node) - 1))]
        return node
    if action == "add" and isinstance(node, dict):
        node[draw(KEYS)] = draw(JSON)
        return node
    if action == "repeat" and isinstance(node, list) and node:
        node.append(copy.deepcopy(node[draw(st.integers(0, len(node) - 1))]))
        return node
    return draw(JSON)


@st.composite
def hostile_documents(draw: Any, originals: dict[str, Any]) -> dict[str, Any]:
    """The three collections, at least one of them mutated one to three times."""
    docs = copy.deepcopy(originals)
    targets = draw(st.lists(st.sampled_from(sorted(docs)), min_size=1, max_size=3))
    for name in targets:
        docs[name] = _mutate(draw, docs[name])
    return docs


def _capture() -> dict[str, Any]:
    """Real documents from a demo sandbox, rewritten to the mock's origin."""
    with (
        start_sandbox() as running,
        httpx.Client(base_url=running.base_url, headers=running.headers(), timeout=30) as http,
    ):
        include = {"limit": "200", "include": "visibleApps", "limit[visibleApps]": "50"}
        docs = {
            "users": http.get("/v1/users", params=include).json(),
            "userInvitations": http.get("/v1/userInvitations", params=include).json(),
            "apps": http.get("/v1/apps", params={"limit": "200"}).json(),
        }
        text_form = json.dumps(docs).replace(running.base_url, BASE)
    loaded: dict[str, Any] = json.loads(text_form)
    return loaded


ORIGINALS = _capture()
_EMPTY = {"data": [], "links": {"self": BASE}, "meta": {"paging": {"total": 0, "limit": 200}}}
_LIST = re.compile(r"^/v1/(users|userInvitations|apps)$")


def _handler(docs: dict[str, Any]) -> Any:
    def handle(request: httpx.Request) -> httpx.Response:
        found = _LIST.match(request.url.path)
        if found:
            return httpx.Response(200, content=json.dumps(docs[found.group(1)]).encode())
        if request.url.path.endswith("visibleApps"):
            return httpx.Response(200, json=_EMPTY)
        return httpx.Response(404, json={"errors": [{"status": "404", "code": "NOT_FOUND"}]})

    return handle


class _Tokens:
    key_id = "FUZZKEY001"

    def token(self) -> str:
        return "not-a-real-token"

    def invalidate(self) -> None:
        return None


async def _no_wait(_seconds: float) -> None:
    return None


def _connection(engine: Engine) -> int:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        result = conn.execute(
            schema.connections.insert().values(
                name="fuzz",
                key_id="FUZZKEY001",
                issuer_id=None,
                key_type="team",
                api_url=BASE,
                sync_interval_seconds=3600,
                healthy=True,
                created_at=now,
                updated_at=now,
            )
        )
        return int(result.inserted_primary_key[0])


def _sync(engine: Engine, connection_id: int, docs: dict[str, Any]) -> Any:
    async def run() -> Any:
        async with AppStoreConnectClient(
            _Tokens(),
            base_url=BASE,
            transport=httpx.MockTransport(_handler(docs)),
            sleep=_no_wait,
            retry=RetryPolicy(max_attempts=2, base_delay=0, jitter=lambda d: d),
        ) as client:
            return await sync_connection(engine, client, connection_id)

    return asyncio.run(run())


def _snapshot(engine: Engine, connection_id: int) -> Any:
    with engine.connect() as conn:
        return load_snapshot(conn, connection_id)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Engine]:
    """An empty store on SQLite, or in a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'fuzz.db'}")
        ensure_schema(engine)
        yield engine
        engine.dispose()
        return
    base = request.getfixturevalue("postgres_url")
    name = f"fuzz_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    sep = "&" if "?" in base else "?"
    engine = make_engine(f"{base}{sep}options={quote(f'-csearch_path={name}')}")
    ensure_schema(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.mark.slow
def test_hostile_documents_reach_the_store_only_as_clean_failures(store: Engine) -> None:
    connection_id = _connection(store)
    baseline = _sync(store, connection_id, ORIGINALS)
    assert baseline.users == len(ORIGINALS["users"]["data"])
    seen: dict[str, int] = {}

    @settings(
        max_examples=250,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(docs=hostile_documents(ORIGINALS))
    def one(docs: dict[str, Any]) -> None:
        before = _snapshot(store, connection_id)
        failure: SyncError | None = None
        try:
            _sync(store, connection_id, docs)
        except SyncError as error:
            failure = error
        if failure is None:
            seen["succeeded"] = seen.get("succeeded", 0) + 1
            after = _snapshot(store, connection_id)
            for user in after.users.values():
                assert all(isinstance(r, str) for r in user.roles)
            # Put the real team back, so the next example starts from a full mirror.
            _sync(store, connection_id, ORIGINALS)
            return
        assert failure.code in CODES, (failure.code, failure.message)
        prefix = "the sync of 'fuzz' failed: "
        assert failure.message.startswith(prefix)
        assert len(failure.message) > len(prefix) + 5
        assert _snapshot(store, connection_id) == before, "a failed sync changed the mirror"
        label = f"{failure.code} {failure.cause}"
        seen[label] = seen.get(label, 0) + 1

    one()
    print(f"\nhostile documents through the sync ({store.dialect.name}): {seen}")
    assert seen.get("succeeded", 0) < sum(seen.values()), "no mutation was ever refused"


# -- regressions found by the fuzzing above (PostgreSQL refused what SQLite kept) -------------


def _edited(collection: str, index: int, field: str, value: Any) -> dict[str, Any]:
    docs = copy.deepcopy(ORIGINALS)
    target = docs[collection]["data"][index]
    if field == "id":
        target["id"] = value
    else:
        target["attributes"][field] = value
    return docs


@pytest.mark.parametrize(
    ("collection", "field", "value", "reason"),
    [
        ("users", "firstName", "Ann\x00a", "contains a NUL character"),
        ("users", "username", "y" * 600 + "@example.com", "612 characters long"),
        ("users", "roles", ["DEVELOPER", "ADM\x00IN"], "contains a NUL character"),
        ("users", "id", "9" * 65, "65 characters long"),
        ("userInvitations", "lastName", "z" * 501, "501 characters long"),
        ("apps", "name", "App\x00", "contains a NUL character"),
        ("apps", "primaryLocale", "en-US" * 10, "50 characters long"),
    ],
)
def test_text_no_store_can_keep_is_apples_unreadable_answer_on_every_database(
    store: Engine, collection: str, field: str, value: Any, reason: str
) -> None:
    """Was: SQLite kept it; PostgreSQL failed the whole sync as a store error (exit 1)."""
    connection_id = _connection(store)
    _sync(store, connection_id, ORIGINALS)
    before = _snapshot(store, connection_id)
    hostile = _edited(collection, 0 if collection == "apps" else 1, field, value)
    with pytest.raises(SyncError) as caught:
        _sync(store, connection_id, hostile)
    assert (caught.value.code, caught.value.cause) == ("APP-107", "unexpected_response")
    assert reason in caught.value.message
    assert _snapshot(store, connection_id) == before


def test_apple_error_text_with_control_characters_is_recorded_on_every_database(
    store: Engine,
) -> None:
    """Was: on PostgreSQL the failed run could not be recorded and stayed ``running``."""
    connection_id = _connection(store)
    document = {
        "errors": [
            {"status": "403", "code": "FORBIDDEN_ERROR", "title": "No\x00pe", "detail": "a\x07b"}
        ]
    }

    async def run() -> Any:
        async with AppStoreConnectClient(
            _Tokens(),
            base_url=BASE,
            transport=httpx.MockTransport(lambda _request: httpx.Response(403, json=document)),
            sleep=_no_wait,
            retry=RetryPolicy.never(),
        ) as client:
            return await sync_connection(store, client, connection_id)

    with pytest.raises(SyncError) as caught:
        asyncio.run(run())
    assert caught.value.code == "APP-102"
    assert "\x00" not in str(caught.value)
    assert "\x07" not in str(caught.value)
    with store.connect() as conn:
        rows = conn.execute(text("SELECT status, error_code, error_message FROM sync_runs")).all()
    assert [(r[0], r[1]) for r in rows] == [("failed", "APP-102")]
    assert "Nope: ab" in rows[0][2]
