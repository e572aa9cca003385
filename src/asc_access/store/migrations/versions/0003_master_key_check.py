"""master key check value

Revision ID: 0003_master_key_check
Revises: 0002_roles
Create Date: 2026-12-02 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from asc_access.store.migrations.columns import moment, of, primary_key

revision = "0003_master_key_check"
down_revision = "0003_scim"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "master_key_check",
        of("id", sa.Integer),
        of("check_value", sa.LargeBinary),
        moment("created_at"),
        primary_key("master_key_check"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("master_key_check")
