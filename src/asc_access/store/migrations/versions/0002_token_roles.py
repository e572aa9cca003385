"""token roles, four-eyes approvals

Revision ID: 0002_roles
Revises: 0001
Create Date: 2026-12-02 01:10:00

Every API token gets a role (viewer | operator | admin); tokens made before
roles existed keep doing what they did (admin). Actions waiting for a second
person's approval, and the requester and approver on audit entries.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from asc_access.store.migrations.columns import moment, of, primary_key, string

revision = "0002_roles"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=16), server_default="admin", nullable=False)
        )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(string("requested_by", 200, nullable=True))
        batch_op.add_column(string("approved_by", 200, nullable=True))
    op.create_table(
        "approval_requests",
        string("id", 32),
        string("action", 40),
        string("target", 500),
        of("request", sa.JSON),
        string("reason", 200),
        of("lines", sa.JSON),
        string("requested_by", 200),
        moment("requested_at"),
        moment("expires_at"),
        string("status", 16),
        string("decided_by", 200, nullable=True),
        moment("decided_at", nullable=True),
        of("audit_entry_id", sa.Integer, nullable=True),
        primary_key("approval_requests"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("approval_requests")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_column("approved_by")
        batch_op.drop_column("requested_by")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("role")
