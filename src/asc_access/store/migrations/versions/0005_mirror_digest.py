"""the stored picture's digest beside each connection's mirror generation

Revision ID: 0005_mirror_digest
Revises: 0004_mirror_generation
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_mirror_digest"
down_revision = "0004_mirror_generation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision (unknown for every picture until its next sync)."""
    op.add_column("mirror_state", sa.Column("digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("mirror_state") as batch:
        batch.drop_column("digest")
