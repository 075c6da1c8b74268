"""The database layer: drivers chosen from the URL, a database that is down gives a typed error."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.cli.main import main
from bot.core.db import Database, DatabaseUnavailable, async_url


def test_async_drivers_are_chosen_from_the_url() -> None:
    assert async_url("sqlite:///var/x.db") == "sqlite+aiosqlite:///var/x.db"
    assert async_url("postgresql://u:p@h:5432/d") == "postgresql+asyncpg://u:p@h:5432/d"
    with pytest.raises(ValueError, match="unsupported database"):
        async_url("mysql://u@h/d")


async def test_postgresql_that_is_down_raises_database_unavailable() -> None:
    database = Database("postgresql://postgres@127.0.0.1:1/nothing")
    with pytest.raises(DatabaseUnavailable):
        async with database.session() as session:
            await session.connection()
    await database.close()


def test_cli_says_clearly_when_the_database_is_down(
    monkeypatch: pytest.MonkeyPatch, clean_settings: None, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nothing")
    assert main(["catalog", "search", "护照"]) == 3
    assert "数据库不可用" in capsys.readouterr().err


async def test_a_connection_cut_in_the_middle_of_a_query_raises_database_unavailable(postgres_url: str) -> None:
    """What a server met when PostgreSQL went away during its start-up: the cut is an outage, not a crash."""
    database = Database(postgres_url)
    try:
        with pytest.raises(DatabaseUnavailable):
            async with database.session() as session:
                await session.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))
        async with database.session() as session:  # the next unit of work gets a new connection
            assert await session.scalar(sa.text("SELECT 1")) == 1
    finally:
        await database.close()
