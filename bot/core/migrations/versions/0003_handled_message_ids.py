"""handled_messages: the message ids already answered, so that a replay is dropped even after Redis restarted

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """The table of handled message ids, with their expiry indexed (kept if a create_schema made it already)."""
    if sa.inspect(op.get_bind()).has_table("handled_messages"):
        return
    op.create_table(
        "handled_messages",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("handled_messages") as batch:
        batch.create_index(batch.f("ix_handled_messages_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    """Undo: no table of handled message ids."""
    with op.batch_alter_table("handled_messages") as batch:
        batch.drop_index(batch.f("ix_handled_messages_expires_at"))
    op.drop_table("handled_messages")
