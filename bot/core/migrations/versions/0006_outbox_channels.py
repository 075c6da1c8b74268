"""the outbox holds every channel's replies: notifications.order_number may be empty, a reply's messages, backoff

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

A reply the citizen's channel could not take (Telegram, SMS, an agent's message) waits in the
outbox with its messages (``payload``) and is tried again after ``next_attempt_at``; messages of a
conversation go out in order (``conversation_id`` indexed). SQLite cannot drop a NOT NULL: batch
mode copies the table (rows, indexes and foreign keys kept). On PostgreSQL these are plain ALTERs.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Replies about no order, their messages, when to try again, conversations indexed."""
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("order_number", existing_type=sa.String(length=32), nullable=True)
    # Plain ALTERs on both (SQLite adds a nullable column and an index without copying the table);
    # a table made from the models already (a database taken in from before Alembic) keeps its own.
    inspector = sa.inspect(op.get_bind())
    columns = {column["name"] for column in inspector.get_columns("notifications")}
    if "payload" not in columns:
        op.add_column("notifications", sa.Column("payload", sa.JSON(), nullable=True))
    if "next_attempt_at" not in columns:
        op.add_column("notifications", sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
    if "ix_notifications_conversation_id" not in {index["name"] for index in inspector.get_indexes("notifications")}:
        op.create_index(op.f("ix_notifications_conversation_id"), "notifications", ["conversation_id"], unique=False)


def downgrade() -> None:
    """Back to work-order messages only (fails while a reply about no order is stored)."""
    op.drop_index(op.f("ix_notifications_conversation_id"), table_name="notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("next_attempt_at")
        batch.drop_column("payload")
        batch.alter_column("order_number", existing_type=sa.String(length=32), nullable=False)
