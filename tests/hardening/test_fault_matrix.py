"""The fault matrix: what ``sync`` and ``doctor`` do under each fault Apple can throw at them.

Every row is a fault staged through the sandbox's control API (or its clock),
and the outcome we promise: *retried and succeeded* (exit 0, the mirror equal
to the sandbox) or *failed* with a catalogue code and cause (exit 101..107,
the previous snapshot untouched, the run recorded failed, and the next sync
after the fault clears succeeding). Faults hit part-way (``after``) so a
sync has already read something when it fails.

Token expiry mid-run is driven through the library (a TokenManager with a
two-second lifetime; a token source whose token the server no longer
accepts), since the command line cannot be handed a clock.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from _support.sandbox import RunningSandbox
from asc_access.api import AppStoreConnectClient
from asc_access.config import Settings
from asc_access.credentials import TokenManager
from asc_access.runtime import credentials_for_connection, open_store
from asc_access.store.connections import get_connection
from asc_access.sync import sync_connection
from hardening.support import apple_truth, cli, dump_tables, mirror_picture

OK = None  # the expected outcome "retried (if needed) and succeeded"


def _connect_and_sync(running: RunningSandbox) -> int:
    key = running.keys["admin"]
    connected = cli(
        "connect", "acme", "--key-id", key.key_id, "--issuer-id", str(key.issuer_id),
        "--private-key-file", str(key.private_key_file), "--api-url", running.base_url,
    )  # fmt: skip
    assert connected.exit_code == 0, connected.stdout + connected.stderr
    synced = cli("sync", "acme", "--json")
    assert synced.exit_code == 0, synced.stdout
    engine = open_store(Settings.from_env())
    return get_connection(engine, "acme").id


def _change_the_team(running: RunningSandbox) -> None:
    """Changes a broken sync must not half-record (and must not mistake for removals)."""
    info = running.info()
    assert info  # the control API answers
    pending = next(i for i in _invitations(running) if not i["expired"])
    running.accept_invitation(pending["id"])
    user = next(u for u in _users(running) if u["username"].startswith("noah."))
    running.set_roles(user["id"], ["DEVELOPER", "MARKETING"])


def _users(running: RunningSandbox) -> list[dict[str, Any]]:
    response = running.control.get("../v1/users", headers=running.headers())
    return [{"id": u["id"], **u["attributes"]} for u in response.json()["data"]]


def _invitations(running: RunningSandbox) -> list[dict[str, Any]]:
    response = running.control.get("../v1/userInvitations", headers=running.headers())
    out = []
    for item in response.json()["data"]:
        attrs = item["attributes"]
        expired = attrs["expirationDate"] < time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        out.append({"id": item["id"], "expired": expired, **attrs})
    return out


def _mirror_is_truth(running: RunningSandbox, connection_id: int) -> bool:
    engine = open_store(Settings.from_env())
    try:
        return mirror_picture(engine, connection_id) == apple_truth(running)
    finally:
        engine.dispose()


SYNC_MATRIX: list[tuple[str, dict[str, Any] | None, float | None, str | None, str | None]] = [
    # (id, fault, clock offset, expected code, expected cause)
    ("latency 400 ms", {"latency_ms": 400}, None, OK, None),
    ("500 twice", {"status": 500, "count": 2, "after": 1}, None, OK, None),
    ("502 twice", {"status": 502, "count": 2, "after": 1}, None, OK, None),
    ("503 twice", {"status": 503, "count": 2, "after": 1}, None, OK, None),
    ("500 always", {"status": 500, "rate": 1.0, "after": 1}, None, "APP-105", "apple_unavailable"),
    ("502 always", {"status": 502, "rate": 1.0, "after": 1}, None, "APP-105", "apple_unavailable"),
    ("503 always", {"status": 503, "rate": 1.0, "after": 1}, None, "APP-105", "apple_unavailable"),
    ("429 once, Retry-After 1", {"status": 429, "count": 1, "retry_after": 1}, None, OK, None),
    ("429 once, no Retry-After", {"status": 429, "count": 1}, None, OK, None),
    (
        "429 always, Retry-After 1",
        {"status": 429, "rate": 1.0, "retry_after": 1, "after": 1},
        None,
        "APP-104",
        "rate_limited",
    ),
    (
        "429 always, no Retry-After",
        {"status": 429, "rate": 1.0, "after": 1},
        None,
        "APP-104",
        "rate_limited",
    ),
    ("dropped once", {"drop": True, "count": 1, "after": 1}, None, OK, None),
    (
        "dropped always",
        {"drop": True, "rate": 1.0, "after": 1},
        None,
        "APP-106",
        "network_unreachable",
    ),
    (
        "malformed once",
        {"malformed": True, "count": 1, "after": 1},
        None,
        "APP-107",
        "unexpected_response",
    ),
    ("malformed 500", {"malformed": True, "status": 500, "count": 1, "after": 1}, None, OK, None),
    ("clock skew +30 s", None, 30, OK, None),
    ("clock skew -30 s", None, -30, OK, None),
    ("clock skew +25 min", None, 1500, "APP-101", "clock_skew"),  # read off Apple's Date
    ("clock skew -10 min", None, -600, "APP-101", "clock_skew"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault", "offset", "code", "cause"),
    [pytest.param(*row[1:], id=row[0]) for row in SYNC_MATRIX],
)
def test_sync_under_fault(
    sandbox: RunningSandbox,
    fault: dict[str, Any] | None,
    offset: float | None,
    code: str | None,
    cause: str | None,
    _isolated_env: Path,  # noqa: PT019 - its value is the home directory
) -> None:
    connection_id = _connect_and_sync(sandbox)
    _change_the_team(sandbox)
    database = _isolated_env / "asc-access.db"
    before = dump_tables(database)
    if fault is not None:
        sandbox.add_fault(**fault)
    if offset is not None:
        sandbox.set_clock_offset(offset)
    sandbox.reset_stats()

    result = cli("sync", "acme", "--json")

    assert result.exception is None, result.exception
    doc = result.doc
    if code is OK:
        assert result.exit_code == 0, doc
        assert doc["status"] == "succeeded"
        assert doc["requests_used"] >= doc["lower_bound"]
        sandbox.clear_faults()
        assert _mirror_is_truth(sandbox, connection_id)
        assert doc["change_counts"], "the staged changes were recorded"
        return
    assert result.exit_code == int(code.split("-")[1]), doc
    assert doc["ok"] is False
    assert doc["code"] == code, doc
    if cause is not None:
        assert doc["cause"] == cause, doc
    assert doc["error"]
    assert dump_tables(database) == before, "a failed sync changed the mirror or change log"
    runs = cli("connections", "show", "acme", "--json")
    assert runs.exit_code == 0
    # The fault clears: the next sync succeeds and records the staged changes.
    sandbox.clear_faults()
    sandbox.set_clock_offset(0)
    again = cli("sync", "acme", "--json")
    assert again.exit_code == 0, again.stdout
    assert again.doc["change_counts"]
    assert _mirror_is_truth(sandbox, connection_id)


DOCTOR_MATRIX: list[tuple[str, dict[str, Any] | None, float | None, str | None, str | None]] = [
    ("latency 400 ms", {"latency_ms": 400}, None, OK, None),
    ("500 once", {"status": 500, "count": 1}, None, OK, None),
    ("503 once, Retry-After 1", {"status": 503, "count": 1, "retry_after": 1}, None, OK, None),
    ("500 always", {"status": 500, "rate": 1.0}, None, "APP-105", "apple_unavailable"),
    ("502 always", {"status": 502, "rate": 1.0}, None, "APP-105", "apple_unavailable"),
    ("503 always", {"status": 503, "rate": 1.0}, None, "APP-105", "apple_unavailable"),
    ("429 once, Retry-After 1", {"status": 429, "count": 1, "retry_after": 1}, None, OK, None),
    ("429 once, no Retry-After", {"status": 429, "count": 1}, None, OK, None),
    ("429 always", {"status": 429, "rate": 1.0}, None, "APP-104", "rate_limited"),
    ("dropped once", {"drop": True, "count": 1}, None, OK, None),
    ("dropped always", {"drop": True, "rate": 1.0}, None, "APP-106", "network_unreachable"),
    (
        "malformed always",
        {"malformed": True, "rate": 1.0},
        None,
        "APP-107",
        "unexpected_response",
    ),
    ("clock skew +30 s", None, 30, OK, None),
    ("clock skew +25 min", None, 1500, "APP-101", "clock_skew"),
    ("clock skew -10 min", None, -600, "APP-101", "clock_skew"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault", "offset", "code", "cause"),
    [pytest.param(*row[1:], id=row[0]) for row in DOCTOR_MATRIX],
)
def test_doctor_under_fault(
    sandbox: RunningSandbox,
    fault: dict[str, Any] | None,
    offset: float | None,
    code: str | None,
    cause: str | None,
) -> None:
    key = sandbox.keys["admin"]
    if fault is not None:
        sandbox.add_fault(**fault)
    if offset is not None:
        sandbox.set_clock_offset(offset)
    result = cli(
        "doctor", "--json", "--api-url", sandbox.base_url, "--key-id", key.key_id,
        "--issuer-id", str(key.issuer_id), "--private-key-file", str(key.private_key_file),
    )  # fmt: skip
    assert result.exception is None, result.exception
    doc = result.doc
    if code is OK:
        assert result.exit_code == 0, doc
        assert doc["ok"] is True
        assert all(doc["capabilities"].values()), doc["capabilities"]
        return
    assert result.exit_code == int(code.split("-")[1]), doc
    assert (doc["ok"], doc["code"], doc["cause"]) == (False, code, cause), doc
    finding = doc["findings"][0]
    assert finding["title"]
    assert len(finding["resolution"]) >= 1


# -- a token expiring mid-run ------------------------------------------------------------


class _ExpiringSource:
    """After ``good`` tokens, hands out one the server no longer accepts, until re-minted."""

    def __init__(self, manager: TokenManager, expired: str, *, good: int) -> None:
        self.manager = manager
        self.expired = expired
        self.good = good
        self.calls = 0
        self.invalidated = 0

    @property
    def key_id(self) -> str:
        return str(self.manager.key_id)

    def token(self) -> str:
        self.calls += 1
        if self.calls > self.good and not self.invalidated:
            return self.expired
        return self.manager.token()

    def invalidate(self) -> None:
        self.invalidated += 1
        self.manager.invalidate()


def _sync_with(running: RunningSandbox, tokens: Any, connection_id: int) -> Any:
    engine = open_store(Settings.from_env())

    async def run() -> Any:
        async with AppStoreConnectClient(tokens, base_url=running.base_url) as client:
            return await sync_connection(engine, client, connection_id)

    return asyncio.run(run())


@pytest.mark.slow
def test_sync_outlives_a_short_token_lifetime(
    sandbox_factory: Any,
    _isolated_env: Path,  # noqa: PT019 - its value is the home directory
) -> None:
    """Four-second tokens and a sync of several seconds: refreshed before expiry, never a 401."""
    running = sandbox_factory(users=1200, apps=10, invitations=10, random_seed=3)
    connection_id = _connect_and_sync(running)
    engine = open_store(Settings.from_env())
    _, credentials = credentials_for_connection(engine, Settings.from_env(), "acme")
    manager = TokenManager(credentials, lifetime_seconds=4, backdate_seconds=0)
    running.reset(seed="generated", users=1200, apps=10, invitations=10, random_seed=4)
    running.add_fault(latency_ms=1000)  # six pages of members, one after the other: ~6 s
    running.reset_stats()
    started = time.monotonic()
    result = _sync_with(running, manager, connection_id)
    assert time.monotonic() - started > 4, "the sync did not outlast one token"
    assert result.change_counts()
    assert manager.minted >= 2, "the token was not refreshed during the run"
    assert "401" not in running.stats().get("by_status", {})
    running.clear_faults()
    assert _mirror_is_truth(running, connection_id)


@pytest.mark.slow
def test_sync_recovers_when_its_token_expires_mid_run(sandbox: RunningSandbox) -> None:
    """The server refuses the cached token part-way: one re-mint, and the sync succeeds."""
    connection_id = _connect_and_sync(sandbox)
    engine = open_store(Settings.from_env())
    _, credentials = credentials_for_connection(engine, Settings.from_env(), "acme")
    long_ago = TokenManager(credentials, clock=lambda: time.time() - 3600).token()
    source = _ExpiringSource(TokenManager(credentials), long_ago, good=2)
    _change_the_team(sandbox)
    sandbox.reset_stats()
    result = _sync_with(sandbox, source, connection_id)
    assert result.change_counts()
    assert source.invalidated >= 1
    assert sandbox.stats()["by_status"].get("401", 0) >= 1
    sandbox.clear_faults()
    assert _mirror_is_truth(sandbox, connection_id)
