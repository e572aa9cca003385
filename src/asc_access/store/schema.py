"""Table definitions shared by SQLite and PostgreSQL (SQLAlchemy Core).

The mirror tables (``users``, ``user_apps``, ``invitations``,
``invitation_apps``, ``apps``) hold the picture of the last *complete* sync of
each connection; a sync replaces it inside one transaction together with the
``changes`` it found and its ``sync_runs`` row, so a failed or interrupted sync
leaves the previous picture exactly as it was. Alembic migrations under
``store/migrations`` create these tables; this module is their single source.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Governance tables join the same metadata (kept in their own module).
from asc_access.store import governance_schema as _governance_schema  # noqa: F401
from asc_access.store.columns import (
    TS,
    connection_owner,
    created_updated,
    metadata,
    person_columns,
    row_id,
)

__all__ = [
    "api_tokens",
    "approval_requests",
    "apps",
    "audit_entries",
    "changes",
    "connections",
    "invitation_apps",
    "invitations",
    "master_key_check",
    "metadata",
    "mirror_state",
    "scim_group_access",
    "scim_groups",
    "scim_users",
    "sync_runs",
    "user_apps",
    "users",
]


def _key_columns(prefix: str = "") -> tuple[Column[Any], ...]:
    """A connection's API key: id, issuer, type, URL and encrypted PEM.

    ``prefix="previous_"``: the key before the last rotation, every column nullable.
    """
    required = not prefix
    return (
        Column(f"{prefix}key_id", String(64), nullable=not required),
        Column(f"{prefix}issuer_id", String(64), nullable=True),  # NULL for individual keys
        Column(f"{prefix}key_type", String(16), nullable=not required),  # team | individual
        Column(f"{prefix}api_url", String(500), nullable=not required),
        # AES-GCM ciphertext of the PEM (nonce || ciphertext+tag); never plain text.
        Column(f"{prefix}encrypted_private_key", LargeBinary, nullable=True),
    )


connections = Table(
    "connections",
    metadata,
    row_id(),
    Column("name", String(200), nullable=False, unique=True),
    *_key_columns(),
    Column("sync_interval_seconds", Integer, nullable=False, default=3600),
    # Health: the last doctor / sync verdict. NULL code = healthy.
    Column("healthy", Boolean, nullable=False, default=False),
    Column("health_code", String(16), nullable=True),
    Column("health_cause", String(64), nullable=True),
    Column("health_checked_at", TS, nullable=True),
    Column("last_ok_at", TS, nullable=True),  # last time Apple accepted the key
    Column("capabilities", JSON, nullable=True),  # {"read_apps": true, ...} when last seen OK
    *created_updated(),
    # The key in use before the last rotation, kept until the new key's first successful
    # sync confirms it (restored if Apple refuses the new key or it sees another team).
    *_key_columns("previous_"),
    # True when the rotation was an explicit move to another team or URL.
    Column("rotation_move", Boolean, nullable=True),
)

# Bumped by every write to a connection's mirror: a picture read earlier is still the
# stored one while the generation has not moved (a sync reads it while reading Apple).
# digest: Snapshot.digest() of the stored picture, set by a sync that wrote or compared
# all of it, cleared by every write (an action's partial write leaves it unknown).
mirror_state = Table(
    "mirror_state",
    metadata,
    connection_owner(primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("digest", String(64), nullable=True),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    row_id(),
    connection_owner(nullable=False, index=True),
    # Idempotency key for queued syncs (Celery task id); NULL for in-process runs.
    Column("request_key", String(100), nullable=True, unique=True),
    Column("status", String(16), nullable=False),  # running | succeeded | failed
    Column("started_at", TS, nullable=False),
    Column("finished_at", TS, nullable=True),
    Column("error_code", String(16), nullable=True),
    Column("error_cause", String(64), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("requests_used", Integer, nullable=False, default=0),
    Column("lower_bound", Integer, nullable=True),
    Column("rate_limit", Integer, nullable=True),
    Column("rate_remaining", Integer, nullable=True),
    Column("users_count", Integer, nullable=True),
    Column("invitations_count", Integer, nullable=True),
    Column("apps_count", Integer, nullable=True),
    Column("changes_count", Integer, nullable=True),
    Column("follow_ups", Integer, nullable=True),  # requests spent on capped app lists
    Column("baseline", Boolean, nullable=True),  # first complete sync: no change events
    # {"users": {"done": n, "total": m}, ...}, updated (throttled) while running
    Column("progress", JSON, nullable=True),
)

apps = Table(
    "apps",
    metadata,
    connection_owner(primary_key=True),
    Column("app_id", String(64), primary_key=True),
    Column("name", String(500), nullable=False, default=""),
    Column("bundle_id", String(500), nullable=False, default=""),
    Column("sku", String(500), nullable=False, default=""),
    Column("primary_locale", String(32), nullable=False, default=""),
)


def _people(name: str, person_id: str, email: str, *extra: Any) -> Table:
    """A mirrored person table (members, invitations): key, e-mail, names, roles, visibility."""
    return Table(
        name,
        metadata,
        connection_owner(primary_key=True),
        Column(person_id, String(64), primary_key=True),
        Column(email, String(500), nullable=False),  # lower-cased e-mail for matching
        *person_columns(),
        *extra,
        Column("first_seen_at", TS, nullable=False),
        Index(f"ix_{name}_{email}", email),
    )


def _app_links(name: str, person_id: str, *extra: Any) -> Table:
    """Which apps each person of a mirrored person table sees (none when they see all)."""
    return Table(
        name,
        metadata,
        Column("connection_id", Integer, primary_key=True),
        Column(person_id, String(64), primary_key=True),
        Column("app_id", String(64), primary_key=True),
        *extra,
    )


users = _people("users", "user_id", "username")
user_apps = _app_links("user_apps", "user_id", Index("ix_user_apps_app", "connection_id", "app_id"))
invitations = _people(
    "invitations",
    "invitation_id",
    "email",
    Column("expiration_date", TS, nullable=True),
    # Whether it had expired by the clock of the sync (or action) that wrote the row;
    # invitation_expired is emitted once, when this turns true.
    Column("expired", Boolean, nullable=False, default=False),
)
invitation_apps = _app_links("invitation_apps", "invitation_id")

changes = Table(
    "changes",
    metadata,
    row_id(),
    connection_owner(nullable=False),
    Column("run_id", Integer, ForeignKey("sync_runs.id", ondelete="SET NULL"), nullable=True),
    Column("audit_id", Integer, nullable=True),  # set when an applied action caused it
    Column("at", TS, nullable=False),
    # user_added | user_removed | user_roles_changed | user_apps_changed |
    # user_flags_changed | invitation_created | invitation_accepted |
    # invitation_expired | invitation_cancelled | app_added | app_removed
    Column("change_type", String(40), nullable=False),
    Column("subject_id", String(64), nullable=False),  # user / invitation / app id
    Column("email", String(500), nullable=True),
    Column("details", JSON, nullable=False),  # e.g. {"added": [...], "removed": [...]}
    Index("ix_changes_connection_at", "connection_id", "at"),
)

audit_entries = Table(
    "audit_entries",
    metadata,
    row_id(),
    Column("at", TS, nullable=False),
    Column("actor", String(200), nullable=False),  # OS user, or "token:<name>"
    Column("action", String(40), nullable=False),  # invite | remove | offboard | apply ...
    Column("target", String(500), nullable=True),  # e-mail or file
    Column("connections", JSON, nullable=False),  # names acted on
    Column("plan", JSON, nullable=False),
    Column("steps", JSON, nullable=False),  # each: step, connection, outcome, code, request_ids
    Column("status", String(16), nullable=False),  # planned | running | done | partial | failed
    Column("finished_at", TS, nullable=True),
    # Four-eyes: who asked for the change and who approved it (service/approvals.py).
    Column("requested_by", String(200), nullable=True),
    Column("approved_by", String(200), nullable=True),
)

# Four-eyes approval: an action that waits for a second person (service/approvals.py).
approval_requests = Table(
    "approval_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("action", String(40), nullable=False),
    Column("target", String(500), nullable=False),
    Column("request", JSON, nullable=False),  # the action request, planned again on approval
    Column("reason", String(200), nullable=False),
    Column("lines", JSON, nullable=False),  # the plan as the requester saw it
    Column("requested_by", String(200), nullable=False),
    Column("requested_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    # pending | executed | failed | refused | expired
    Column("status", String(16), nullable=False),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", TS, nullable=True),
    Column("audit_entry_id", Integer, nullable=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    row_id(),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),  # sha256 hex; never the token
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
    Column("revoked_at", TS, nullable=True),
    Column("last_used_at", TS, nullable=True),
    # What the token may do: viewer | operator | admin (service/roles.py).
    Column("role", String(16), nullable=False, default="admin", server_default="admin"),
    # Set for a SCIM token: the one connection it provisions (it opens /scim/v2 only).
    Column("scim_connection_id", Integer, nullable=True),
    UniqueConstraint("name", name="uq_api_tokens_name"),
)

# SCIM bridge (service/scim): our stable id for each person an IdP provisions on a team,
# matched by lower-cased e-mail (so it survives an invitation being accepted), and the
# last SCIM document the IdP wrote (attributes Apple cannot hold are kept there).
scim_users = Table(
    "scim_users",
    metadata,
    Column("id", String(64), primary_key=True),
    connection_owner(nullable=False),
    Column("email", String(500), nullable=False),  # lower-cased
    Column("external_id", String(500), nullable=True),
    Column("document", JSON, nullable=False),
    Column("active", Boolean, nullable=False),  # what the IdP asked for
    *created_updated(),
    UniqueConstraint("connection_id", "email", name="uq_scim_users_connection_email"),
)

scim_groups = Table(
    "scim_groups",
    metadata,
    Column("id", String(64), primary_key=True),
    connection_owner(nullable=False),
    Column("display_name", String(500), nullable=False),
    Column("document", JSON, nullable=False),  # members, externalId, kept attributes
    *created_updated(),
    UniqueConstraint("connection_id", "display_name", name="uq_scim_groups_connection_name"),
)

# What membership of an IdP group gives on a team (set by the admin; combined as a union).
scim_group_access = Table(
    "scim_group_access",
    metadata,
    connection_owner(primary_key=True),
    Column("group_name", String(500), primary_key=True),
    Column("roles", JSON, nullable=False),
    Column("all_apps", Boolean, nullable=False),
    Column("apps", JSON, nullable=False),  # bundle ids
)

#: One row: the master key's check value (a constant encrypted under it), so a
#: missing or wrong master key is told apart before any stored key is touched.
master_key_check = Table(
    "master_key_check",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("check_value", LargeBinary, nullable=False),
    Column("created_at", TS, nullable=False),
)
