"""token roles

Revision ID: 0002_roles
Revises: 0001
Create Date: 2026-12-02 01:10:00

Every API token gets a role (viewer | operator | admin); tokens made before
roles existed keep doing what they did (admin).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

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


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("role")
