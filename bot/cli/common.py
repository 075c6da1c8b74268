"""What the commands share: the project database of the settings, and refusing with a clear message."""

from __future__ import annotations

import sys

from bot.core.db import Database
from bot.core.settings import get_settings


def open_database() -> Database:
    """The project database the settings name (no connection until first use)."""
    return Database(get_settings().database_url)


def refuse(error: object, status: int) -> int:
    """Say what is wrong on standard error; the exit status to return."""
    print(f"错误：{error}", file=sys.stderr)
    return status
