"""Small helpers for the worker tests (no fixtures here)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from asc_access.store import schema


def add_connection(
    engine: Engine, name: str, *, key_id: str = "KEYID12345", interval: int = 3600
) -> int:
    """Insert a bare connection row (a placeholder key: for tests whose runner never calls Apple).

    The placeholder makes it a connection the scheduler considers (one without any
    key is never due: it cannot sync).
    """
    now = datetime.now(UTC)
    with engine.begin() as conn:
        result = conn.execute(
            schema.connections.insert().values(
                name=name,
                key_id=key_id,
                issuer_id=None,
                key_type="team",
                api_url="http://127.0.0.1:9",
                encrypted_private_key=b"placeholder: never decrypted",
                sync_interval_seconds=interval,
                healthy=True,
                created_at=now,
                updated_at=now,
            )
        )
        (conn_id,) = result.inserted_primary_key or (None,)
    assert conn_id is not None
    return int(conn_id)


def run_rows(engine: Engine, connection_id: int | None = None) -> list[Any]:
    """All ``sync_runs`` rows (of one connection), oldest first."""
    r = schema.sync_runs
    query = select(r).order_by(r.c.id)
    if connection_id is not None:
        query = query.where(r.c.connection_id == connection_id)
    with engine.connect() as conn:
        return list(conn.execute(query).all())


def change_count(engine: Engine) -> int:
    """How many change events are stored."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.changes)).scalar_one())


def connect_sandbox_key(
    engine: Engine, settings: Any, name: str, team: Any, key: Any, *, interval: int = 3600
) -> int:
    """Save a connection for a sandbox key (encrypted as ``connect`` does, minus the doctor)."""
    from asc_access.runtime import vault_for
    from asc_access.store.connections import add_connection as store_add
    from asc_access.store.keycheck import binding_for

    record = store_add(
        engine,
        name=name,
        key_id=key.key_id,
        issuer_id=key.issuer_id,
        key_type=key.key_type,
        api_url=team.base_url,
        encrypted_private_key=vault_for(settings, engine).encrypt(
            key.private_key_pem.encode(), bound_to=binding_for(name)
        ),
        healthy=True,
        sync_interval_seconds=interval,
    )
    return int(record.id)
