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


@asynccontextmanager
async def project_database() -> AsyncIterator[Database]:
    """The project database with its tables created, closed when the block ends."""
    database = open_database()
    try:
        await database.create_schema()
        yield database
    finally:
        await database.close()


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
