"""a generation counter for each connection's mirror

Revision ID: 0004_mirror_generation
Revises: 0003_master_key_check
Create Date: 2026-12-03 11:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from asc_access.store.migrations.columns import cascade, of, primary_key

revision = "0004_mirror_generation"
down_revision = "0003_master_key_check"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "mirror_state",
        of("connection_id", sa.Integer),
        of("generation", sa.Integer),
        cascade("mirror_state"),
        primary_key("mirror_state", "connection_id"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("mirror_state")
