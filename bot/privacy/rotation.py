"""Key rotation: everything encrypted is encrypted again with the newest key (``python -m bot pii rotate``).

With a new key first in PII_ENCRYPTION_KEYS and the old ones after it, every value decrypts; this
re-encrypts the encrypted columns of the project database and the sealed values in the stored
conversation events, after which the old keys can be removed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import select

from bot.core.db import Database
from bot.core.encryption import ENCRYPTED_COLUMNS, SEALED_PREFIX, rotate
from bot.privacy.conversation import resealed
from bot.privacy.trackers import EVENTS, has_events

BATCH = 1000


@dataclass(frozen=True)
class RotationReport:
    """How many values were encrypted again."""

    columns: dict[str, int]
    sealed_values: int
    events: int

    def summary(self) -> str:
        """One line in Chinese."""
        columns = "、".join(f"{name} {count}个" for name, count in self.columns.items())
        return f"已用最新密钥重新加密：{columns}；对话事件中的加密值{self.sealed_values}个（{self.events}条事件）"


async def rotate_columns(database: Database) -> dict[str, int]:
    """Encrypt every value of the encrypted columns again with the newest key; how many per column."""
    counts: dict[str, int] = {}
    for table_name, key_name, column_name in ENCRYPTED_COLUMNS:
        table = sa.table(table_name, sa.column(key_name), sa.column(column_name, sa.String()))
        key, value = table.c[key_name], table.c[column_name]
        count, last = 0, None
        while True:
            query = select(key, value).where(value.is_not(None)).order_by(key).limit(BATCH)
            if last is not None:
                query = query.where(key > last)
            async with database.session() as session:
                rows = (await session.execute(query)).all()
                if not rows:
                    break
                updates = [{"_key": row[0], "_value": rotate(row[1])} for row in rows]
                statement = (
                    table.update().where(key == sa.bindparam("_key")).values({column_name: sa.bindparam("_value")})
                )
                await session.execute(statement, updates)
            count += len(rows)
            last = rows[-1][0]
        counts[f"{table_name}.{column_name}"] = count
    return counts


async def rotate_events(trackers: Database) -> tuple[int, int]:
    """Encrypt the sealed values of the stored conversation events again; (values, events) rotated."""
    if not await has_events(trackers):
        return 0, 0
    values = events = 0
    last = 0
    while True:
        async with trackers.session() as session:
            rows = (
                await session.execute(
                    select(EVENTS.c.id, EVENTS.c.data)
                    .where(EVENTS.c.id > last, EVENTS.c.data.contains(SEALED_PREFIX))
                    .order_by(EVENTS.c.id)
                    .limit(BATCH)
                )
            ).all()
            if not rows:
                break
            updates = []
            for event_id, data in rows:
                rotated, count = resealed(json.loads(data))
                if count:
                    updates.append({"_id": event_id, "_data": json.dumps(rotated)})
                    values += count
            if updates:
                statement = EVENTS.update().where(EVENTS.c.id == sa.bindparam("_id")).values(data=sa.bindparam("_data"))
                await session.execute(statement, updates)
                events += len(updates)
        last = rows[-1][0]
    return values, events


async def rotate_everything(database: Database, trackers: Database | None) -> RotationReport:
    """Rotate the project database's encrypted columns and the tracker store's sealed values."""
    columns = await rotate_columns(database)
    values, events = await rotate_events(trackers) if trackers is not None else (0, 0)
    return RotationReport(columns, values, events)
