"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 19:20:17.867017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from asc_access.store.migrations.columns import (
    cascade,
    created_updated,
    drop_indexes,
    index,
    moment,
    of,
    person,
    primary_key,
    row_id,
    string,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _api_tokens() -> None:
    op.create_table(
        "api_tokens",
        row_id(),
        string("name", 200),
        string("token_hash", 128),
        of("is_admin", sa.Boolean),
        moment("created_at"),
        moment("revoked_at", nullable=True),
        moment("last_used_at", nullable=True),
        primary_key("api_tokens"),
        sa.UniqueConstraint("name", name="uq_api_tokens_name"),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )


def _audit_entries() -> None:
    op.create_table(
        "audit_entries",
        row_id(),
        moment("at"),
        string("actor", 200),
        string("action", 40),
        string("target", 500, nullable=True),
        of("connections", sa.JSON),
        of("plan", sa.JSON),
        of("steps", sa.JSON),
        string("status", 16),
        moment("finished_at", nullable=True),
        primary_key("audit_entries"),
    )


def _connections() -> None:
    op.create_table(
        "connections",
        row_id(),
        string("name", 200),
        string("key_id", 64),
        string("issuer_id", 64, nullable=True),
        string("key_type", 16),
        string("api_url", 500),
        of("encrypted_private_key", sa.LargeBinary, nullable=True),
        of("sync_interval_seconds", sa.Integer),
        of("healthy", sa.Boolean),
        string("health_code", 16, nullable=True),
        string("health_cause", 64, nullable=True),
        moment("health_checked_at", nullable=True),
        moment("last_ok_at", nullable=True),
        of("capabilities", sa.JSON, nullable=True),
        *created_updated(),
        primary_key("connections"),
        sa.UniqueConstraint("name", name=op.f("uq_connections_name")),
    )


def _invitation_apps() -> None:
    op.create_table(
        "invitation_apps",
        of("connection_id", sa.Integer),
        string("invitation_id", 64),
        string("app_id", 64),
        primary_key("invitation_apps", "connection_id", "invitation_id", "app_id"),
    )


def _user_apps() -> None:
    op.create_table(
        "user_apps",
        of("connection_id", sa.Integer),
        string("user_id", 64),
        string("app_id", 64),
        primary_key("user_apps", "connection_id", "user_id", "app_id"),
    )
    index("user_apps", ("ix_user_apps_app", ["connection_id", "app_id"]))


def _apps() -> None:
    op.create_table(
        "apps",
        of("connection_id", sa.Integer),
        string("app_id", 64),
        string("name", 500),
        string("bundle_id", 500),
        string("sku", 500),
        string("primary_locale", 32),
        cascade("apps"),
        primary_key("apps", "connection_id", "app_id"),
    )


def _invitations() -> None:
    op.create_table(
        "invitations",
        of("connection_id", sa.Integer),
        string("invitation_id", 64),
        string("email", 500),
        *person(),
        moment("expiration_date", nullable=True),
        of("expired", sa.Boolean),
        moment("first_seen_at"),
        cascade("invitations"),
        primary_key("invitations", "connection_id", "invitation_id"),
    )
    index("invitations", ("ix_invitations_email", ["email"]))


def _sync_runs() -> None:
    op.create_table(
        "sync_runs",
        row_id(),
        of("connection_id", sa.Integer),
        string("request_key", 100, nullable=True),
        string("status", 16),
        moment("started_at"),
        moment("finished_at", nullable=True),
        string("error_code", 16, nullable=True),
        string("error_cause", 64, nullable=True),
        of("error_message", sa.Text, nullable=True),
        of("requests_used", sa.Integer),
        of("lower_bound", sa.Integer, nullable=True),
        of("rate_limit", sa.Integer, nullable=True),
        of("rate_remaining", sa.Integer, nullable=True),
        of("users_count", sa.Integer, nullable=True),
        of("invitations_count", sa.Integer, nullable=True),
        of("apps_count", sa.Integer, nullable=True),
        of("changes_count", sa.Integer, nullable=True),
        of("follow_ups", sa.Integer, nullable=True),
        of("baseline", sa.Boolean, nullable=True),
        of("progress", sa.JSON, nullable=True),
        cascade("sync_runs"),
        primary_key("sync_runs"),
        sa.UniqueConstraint("request_key", name=op.f("uq_sync_runs_request_key")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_runs_connection_id"), ["connection_id"], unique=False
        )


def _users() -> None:
    op.create_table(
        "users",
        of("connection_id", sa.Integer),
        string("user_id", 64),
        string("username", 500),
        *person(),
        moment("first_seen_at"),
        cascade("users"),
        primary_key("users", "connection_id", "user_id"),
    )
    index("users", ("ix_users_username", ["username"]))


def _changes() -> None:
    op.create_table(
        "changes",
        row_id(),
        of("connection_id", sa.Integer),
        of("run_id", sa.Integer, nullable=True),
        of("audit_id", sa.Integer, nullable=True),
        moment("at"),
        string("change_type", 40),
        string("subject_id", 64),
        string("email", 500, nullable=True),
        of("details", sa.JSON),
        cascade("changes"),
        cascade("changes", "run_id", "sync_runs", on="SET NULL"),
        primary_key("changes"),
    )
    index("changes", ("ix_changes_connection_at", ["connection_id", "at"]))


def upgrade() -> None:
    """Apply this revision."""
    # ### commands auto generated by Alembic - please adjust! ###
    _api_tokens()
    _audit_entries()
    _connections()
    _invitation_apps()
    _user_apps()
    _apps()
    _invitations()
    _sync_runs()
    _users()
    _changes()
    # ### end Alembic commands ###


def downgrade() -> None:
    """Revert this revision."""
    # ### commands auto generated by Alembic - please adjust! ###
    drop_indexes("changes", "ix_changes_connection_at")

    op.drop_table("changes")
    drop_indexes("users", "ix_users_username")

    op.drop_table("users")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_runs_connection_id"))

    op.drop_table("sync_runs")
    drop_indexes("invitations", "ix_invitations_email")

    op.drop_table("invitations")
    op.drop_table("apps")
    drop_indexes("user_apps", "ix_user_apps_app")

    op.drop_table("user_apps")
    op.drop_table("invitation_apps")
    op.drop_table("connections")
    op.drop_table("audit_entries")
    op.drop_table("api_tokens")
    # ### end Alembic commands ###
