"""Two requests giving the same newcomer a SCIM id at once: the loser uses the winner's id."""

from __future__ import annotations

from typing import Any

import pytest

from asc_access.config import Settings
from asc_access.service import create_app
from asc_access.service.scim import writes
from asc_access.store import scim as store
from asc_access.store.connections import get_connection
from asc_access.store.schema import scim_users
from scim.conftest import DOMAIN, Bridge


def test_a_concurrent_first_read_does_not_fail(
    bridge: Bridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(Settings.from_env(), scheduler=False)
    ctx = app.state.ctx
    try:
        record = get_connection(ctx.engine, "northwind")
        email = f"kenji.watanabe@{DOMAIN}"
        with ctx.engine.begin() as conn:
            conn.execute(scim_users.delete())
        original = store.list_users
        raced: list[str] = []

        def racing(conn: Any, connection_id: int) -> list[store.ScimUserRecord]:
            known = original(conn, connection_id)
            if not raced:  # the other request inserts right after this one looked
                raced.append(email)
                with ctx.engine.begin() as other:
                    store.ensure_user_ids(other, connection_id, [email], ctx.clock())
            return known

        monkeypatch.setattr(store, "list_users", racing)
        writer = writes.Writer(ctx, record.id, "northwind", "token:okta", "DEVELOPER")
        snap = writer.snapshot(email)
        assert raced == [email]
        assert [r.email for r in snap.records] == [email]
    finally:
        ctx.engine.dispose()
