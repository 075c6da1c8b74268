"""Alembic's environment: the revisions run on the connection ``bot.core.migrations`` hands over.

``bot.core.db.Database`` opens that connection (asynchronously, on aiosqlite or asyncpg), takes the
schema's lock and runs Alembic inside its transaction with ``run_sync``. Run any other way (an
``alembic`` command with an ini file of its own), the project database of the settings is used.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bot.core.migrations import render_item
from bot.core.models import Base


def run_on(connection: Connection) -> None:
    """Run the revisions Alembic asked for on ``connection``."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        render_as_batch=True,  # SQLite alters a table by copying it; the same operations run on PostgreSQL
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_on_settings_database() -> None:
    """Open the settings' project database, hold its lock and run the revisions in one transaction."""
    from bot.core.db import Database
    from bot.core.settings import get_settings

    database = Database(get_settings().database_url)
    try:
        async with database.migrating() as connection:
            await connection.run_sync(run_on)
    finally:
        await database.close()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run python -m bot db upgrade")
handed_over = context.config.attributes.get("connection")
if handed_over is not None:
    run_on(handed_over)
else:
    asyncio.run(run_on_settings_database())
