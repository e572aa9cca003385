"""Human text for one saved connection (``connections show``): values, not Python reprs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from asc_access.store.connections import ConnectionRecord

__all__ = ["connection_lines", "interval_text"]


def _when(at: datetime | None, never: str = "never") -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if at else never


def _capabilities(caps: Mapping[str, bool | None] | None) -> str:
    if not caps:
        return "not measured yet (run `asc-access doctor NAME`)"
    words = {True: "yes", False: "no", None: "unknown"}
    return ", ".join(
        f"{key.replace('_', ' ')} {words.get(value, str(value))}"  # read_apps: read apps
        for key, value in caps.items()
    )


def interval_text(seconds: int) -> str:
    """How often a connection syncs, in words."""
    return f"every {seconds} s" if seconds else "only on demand"


def _health(record: ConnectionRecord) -> str:
    if record.healthy:
        return "healthy"
    parts = [p for p in (record.health_code, record.health_cause) if p]
    return "unhealthy" + (f" ({' '.join(parts)})" if parts else "")


def connection_lines(record: ConnectionRecord) -> list[tuple[str, str]]:
    """``(label, value)`` pairs for ``connections show``, every value readable text."""
    return [
        ("name", record.name),
        ("id", str(record.id)),
        ("key id", record.key_id),
        ("issuer id", record.issuer_id or "none (individual key)"),
        ("key type", record.key_type),
        ("api url", record.api_url),
        ("health", _health(record)),
        ("last checked", _when(record.health_checked_at)),
        ("last accepted by Apple", _when(record.last_ok_at)),
        ("capabilities", _capabilities(record.capabilities)),
        ("syncs", interval_text(record.sync_interval_seconds)),
        ("stored key", "encrypted" if record.has_key else "none"),
        ("created", _when(record.created_at)),
        ("updated", _when(record.updated_at)),
    ]
