"""What the commands share: the project database of the settings, and refusing with a clear message."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.core.db import Database
from bot.core.imports import FileRefused
from bot.core.settings import get_settings


def open_database() -> Database:
    """The project database the settings name (no connection until first use)."""
    return Database(get_settings().database_url)


async def use_schema(database: Database) -> None:
    """A new database gets the newest schema; any other must be at it already (commands never migrate).

    Raises:
        OutdatedTimestamps, SchemaOutdated: ``python -m bot db upgrade`` first (the message says so).
        PersonalDataKeyError: the encryption key of personal data is missing, malformed or wrong.
    """
    state = await database.schema_state()
    if state.is_new or (state.is_current and not state.marked and not state.old_times):
        await database.create_schema()  # the tables at the newest revision, or only the mark of UTC times
        await database.check_personal_data_key()  # no key, or a wrong one: refused before anything is done
        return
    await database.require_current_schema()


@asynccontextmanager
async def database_as_it_is() -> AsyncIterator[Database]:
    """The project database, its schema neither made nor checked, closed when the block ends."""
    database = open_database()
    try:
        yield database
    finally:
        await database.close()


@asynccontextmanager
async def project_database() -> AsyncIterator[Database]:
    """The project database at the newest revision (a new one is created), closed when the block ends."""
    async with database_as_it_is() as database:
        await use_schema(database)
        yield database


def refuse(error: object, status: int) -> int:
    """Say what is wrong on standard error; the exit status to return."""
    print(f"错误：{error}", file=sys.stderr)
    return status


def refuse_file(refused: FileRefused, what: str) -> int:
    """Say every error of a refused file and that none of its ``what`` was imported; exit status 1."""
    for line in refused.errors:
        print(f"错误：{line}", file=sys.stderr)
    print(f"导入失败：{len(refused.errors)}处错误，未导入任何{what}。", file=sys.stderr)
    return 1
