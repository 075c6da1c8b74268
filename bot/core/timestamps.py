"""Databases written before the one clock: their China-time columns converted to UTC, once.

Before ``bot.core.clock`` every time was stored naive, most of them in China time (the clock of
``bot.cases.records``), a few in UTC: the console's accounts and logins and the web chat's log (the
clocks of ``channels.webchat.log`` and ``bot.cli.agents``), and the
citizens verified on the web chat (their link and the times of their citizen record). A database
keeps the mark ``timestamps=utc`` in ``schema_meta`` once its times are all UTC; ``convert_to_utc``
converts an unmarked one and sets the mark. It is a step of ``Database.migrate`` (``python -m bot db
upgrade``, ``db init``, ``seed``), not an Alembic revision: it runs at revision 0001, whose tables
the lists below describe, inside the upgrade's one transaction, before the later revisions. China
has kept UTC+8 all year since 1991, so a China time is eight hours ahead.

The lists below are what the code before the change wrote: a snapshot, not derived from the
models, so that a column added later is never shifted by mistake.
"""

from __future__ import annotations

from sqlalchemy import insert, inspect, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.models import SchemaMeta

MARK_KEY = "timestamps"
MARK_UTC = "utc"
# The channel name the web chat verified its citizens under (channels.webchat.connector.CHANNEL).
WEB_CHAT = "webchat"

# Columns written in China time, table by table.
CHINA_TIME_COLUMNS: dict[str, tuple[str, ...]] = {
    "cases": ("created_at", "updated_at"),
    "case_events": ("at",),
    "verification_locks": ("locked_until",),
    "work_orders": ("created_at", "due_at", "accepted_at", "closed_at", "escalated_at", "follow_up_requested_at"),
    "work_order_events": ("at",),
    "work_order_notes": ("at",),
    "notifications": ("created_at", "sent_at"),
    "hotspots": ("first_at", "last_at", "closed_at"),
    "handoffs": ("created_at", "assigned_at", "closed_at", "rated_at"),
    "handoff_notes": ("created_at",),
    "handoff_audit": ("created_at",),
    "canned_phrases": ("created_at",),
    "department_keys": ("created_at", "revoked_at"),
}
# Columns written in UTC: left as they are.
UTC_COLUMNS: dict[str, tuple[str, ...]] = {
    "chat_messages": ("created_at",),
    "agents": ("created_at", "locked_until", "last_login_at"),
    "agent_sessions": ("created_at", "expires_at", "last_seen_at"),
    "handled_messages": ("expires_at",),
    "work_orders": ("personal_data_removed_at",),
    "notifications": ("next_attempt_at",),
    "bot_ratings": ("rated_at",),
}
# Columns whose zone was the channel's: UTC for the web chat, China time for the others.
MIXED_COLUMNS: dict[str, tuple[str, ...]] = {
    "citizens": ("created_at", "last_seen_at"),
    "citizen_links": ("verified_at",),
}


def _earlier(column: str, dialect: str) -> str:
    """SQL for ``column`` eight hours earlier (microseconds kept); NULL stays NULL."""
    if dialect == "sqlite":
        # SQLAlchemy keeps 'YYYY-MM-DD HH:MM:SS.ffffff': shift the first 19 characters, keep the fraction.
        return f"strftime('%Y-%m-%d %H:%M:%S', {column}, '-8 hours') || substr({column}, 20)"
    return f"{column} - INTERVAL '8 hours'"


def _link_of(citizen_column: str, web_chat_only: bool) -> str:
    """SQL: a link of the citizen verified at the very moment stored in ``citizen_column``."""
    channel = f" AND l.channel = '{WEB_CHAT}'" if web_chat_only else ""
    return (
        "EXISTS (SELECT 1 FROM citizen_links l WHERE l.citizen_id = citizens.id"
        f"{channel} AND l.verified_at = citizens.{citizen_column})"
    )


def conversion_statements(dialect: str) -> list[str]:
    """The UPDATEs that bring an old database's China times to UTC, in the order they must run.

    A citizen's times were written by ``identify`` together with the verified link (the same
    ``now``): a time equal to a web chat link's is UTC. A ``created_at`` that no link shares any
    more (the link was verified again since) takes the zone of the citizen's first link, which
    was made with the citizen. The citizens are converted before their links, whose old values
    they are compared with.
    """
    statements = [
        f"UPDATE {table} SET {column} = {_earlier(column, dialect)} WHERE {column} IS NOT NULL"
        for table, columns in CHINA_TIME_COLUMNS.items()
        for column in columns
    ]
    first_link_channel = (
        "COALESCE((SELECT l.channel FROM citizen_links l WHERE l.citizen_id = citizens.id ORDER BY l.id LIMIT 1), '')"
    )
    created_in_utc = (
        f"({_link_of('created_at', True)} OR "
        f"(NOT {_link_of('created_at', False)} AND {first_link_channel} = '{WEB_CHAT}'))"
    )
    statements += [
        f"UPDATE citizens SET last_seen_at = {_earlier('last_seen_at', dialect)} "
        f"WHERE NOT {_link_of('last_seen_at', True)}",
        f"UPDATE citizens SET created_at = {_earlier('created_at', dialect)} WHERE NOT {created_in_utc}",
        f"UPDATE citizen_links SET verified_at = {_earlier('verified_at', dialect)} WHERE channel <> '{WEB_CHAT}'",
    ]
    return statements


async def _tables(connection: AsyncConnection) -> set[str]:
    return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def is_marked(connection: AsyncConnection) -> bool:
    """Whether the database is marked as keeping UTC."""
    if SchemaMeta.__tablename__ not in await _tables(connection):
        return False
    value = await connection.scalar(select(SchemaMeta.value).where(SchemaMeta.key == MARK_KEY))
    return value == MARK_UTC


async def mark(connection: AsyncConnection) -> None:
    """Mark the database as keeping UTC."""
    await connection.execute(insert(SchemaMeta).values(key=MARK_KEY, value=MARK_UTC))


async def holds_old_times(connection: AsyncConnection) -> bool:
    """Whether a table with China-time or mixed columns has a row (without one there is nothing to convert)."""
    existing = await _tables(connection)
    for table in (*CHINA_TIME_COLUMNS, *MIXED_COLUMNS):
        if table not in existing:
            continue
        if await connection.scalar(select(literal_column("1")).select_from(text(table)).limit(1)) is not None:
            return True
    return False


async def convert_to_utc(connection: AsyncConnection) -> int:
    """Convert an unmarked database's China times to UTC and mark it; returns how many times changed (0 if marked).

    Runs in the caller's transaction: the mark is written first, so that a second conversion
    running at the same time fails on it (``IntegrityError``) instead of converting twice.
    """
    if await is_marked(connection):
        return 0
    await mark(connection)
    changed = 0  # a row counts once per column converted
    for statement in conversion_statements(connection.dialect.name):
        changed += (await connection.execute(text(statement))).rowcount
    return changed
