"""notifications.citizen_id may be empty: a message to the number a reporter gave, without a verified citizen

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06

SQLite cannot drop a NOT NULL: batch mode copies the table (rows, indexes and foreign keys kept).
On PostgreSQL it is one ALTER COLUMN.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Let a notification go without a citizen (to the order's contact number)."""
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("citizen_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    """Every notification has a citizen again (fails while a notification without one is stored)."""
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("citizen_id", existing_type=sa.Integer(), nullable=False)
