"""key rotation keeps the previous key until the new one has synced

Revision ID: 0002_key_rotation
Revises: 0001
Create Date: 2026-12-02 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_key_rotation"
down_revision = "0002"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("previous_key_id", sa.String(length=64)),
    ("previous_issuer_id", sa.String(length=64)),
    ("previous_key_type", sa.String(length=16)),
    ("previous_api_url", sa.String(length=500)),
    ("previous_encrypted_private_key", sa.LargeBinary()),
    ("rotation_move", sa.Boolean()),
)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("connections") as batch:
        for name, kind in _COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("connections") as batch:
        for name, _kind in reversed(_COLUMNS):
            batch.drop_column(name)
