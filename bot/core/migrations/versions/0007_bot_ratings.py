"""bot_ratings: the citizen's rating of a conversation the bot handled alone

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

A conversation the bot served on its own (a service answered, a progress shown, a work order filed)
ends with a rating question; the answer is kept with the channel and the time, and the reason of a
low rating with its phone and ID numbers masked. No conversation id and no citizen: nothing personal.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """The table of the bot's ratings, indexed by when they were given."""
    # A database taken in from before Alembic got its missing tables from the models already.
    if "bot_ratings" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "bot_ratings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("rating", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("rated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_bot_ratings_rated_at"), "bot_ratings", ["rated_at"], unique=False)


def downgrade() -> None:
    """Drop the table (the ratings go with it)."""
    op.drop_index(op.f("ix_bot_ratings_rated_at"), table_name="bot_ratings")
    op.drop_table("bot_ratings")
