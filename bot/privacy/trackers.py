"""The conversations' stored events (Rasa's ``events`` table in the tracker store), for retention and key rotation.

The tracker store is its own database on SQLite (``TRACKER_STORE_URL``, by default beside the project
database) and the project database itself on PostgreSQL. Only the columns used here are named.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from bot.core.db import Database
from bot.core.settings import Settings

EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer()),
    sa.column("sender_id", sa.String()),
    sa.column("type_name", sa.String()),
    sa.column("timestamp", sa.Float()),
    sa.column("data", sa.Text()),
)


def open_trackers(settings: Settings, database: Database) -> Database | None:
    """The tracker store's database (``database`` itself when it is the same); None for a SQLite file not made yet."""
    if settings.tracker_store_url == database.url:
        return database
    url = make_url(settings.tracker_store_url)
    if url.get_backend_name() == "sqlite" and (not url.database or not Path(url.database).exists()):
        return None
    return Database(settings.tracker_store_url)


@asynccontextmanager
async def tracker_store(settings: Settings, database: Database) -> AsyncIterator[Database | None]:
    """``open_trackers`` for the block, closed after it unless it is ``database`` itself."""
    trackers = open_trackers(settings, database)
    try:
        yield trackers
    finally:
        if trackers is not None and trackers is not database:
            await trackers.close()


async def has_events(trackers: Database) -> bool:
    """Whether Rasa made its events table there yet."""
    async with trackers.engine.connect() as connection:
        return bool(await connection.run_sync(lambda sync: inspect(sync).has_table("events")))
