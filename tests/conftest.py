"""Shared fixtures: real SQLite and PostgreSQL databases, the shared data folder."""

from __future__ import annotations

import asyncio
import graphlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest

from bot.core.db import Database
from bot.core.settings import PROJECT_ROOT

# Personal data is encrypted with this key in every test (and the servers the tests start), unless one is set.
TEST_PII_KEY = "dGVzdC1vbmx5LXBpaS1rZXktMzItYnl0ZXMtbG9uZyE="
os.environ.setdefault("PII_ENCRYPTION_KEYS", TEST_PII_KEY)

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
GD_CATALOG = SHARED_DATA / "gd_service_catalog" / "catalog_2262_slim.jsonl"
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def needs_shared_data() -> pytest.MarkDecorator:
    """Skip, saying why, where ../shared/data is absent (a user's clone); CI has it."""
    return pytest.mark.skipif(
        not GD_CATALOG.exists(), reason=f"{GD_CATALOG} is absent: the real catalogue lives beside CI only"
    )


def bot_command(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m bot …`` in a real process in the project folder, with ``env``; its exit status and output."""
    command = [sys.executable, "-m", "bot", *args]
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=timeout
    )


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'hotline.db'}"


async def create_postgres_database() -> str:
    """Create a fresh database on the local PostgreSQL server and return its URL."""
    name = f"hotline_test_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


async def drop_postgres_database(url: str) -> None:
    """Drop a database made by ``create_postgres_database``."""
    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database with the project's schema on the local PostgreSQL, one per test process (xdist worker).

    Creating and dropping a database costs over a second on PostgreSQL; emptying the tables of this
    one (``database``, ``empty_postgres_database``) costs a few milliseconds.
    """

    async def create() -> str:
        url = await create_postgres_database()
        schema = Database(url)
        try:
            await schema.create_schema()
        finally:
            await schema.close()
        return url

    # In a thread of its own: this fixture is first asked for from inside a test's event loop.
    with ThreadPoolExecutor(1) as thread:
        url = thread.submit(asyncio.run, create()).result()
        yield url
        thread.submit(asyncio.run, drop_postgres_database(url)).result()


# Each table of the public schema with the tables whose foreign keys point at it.
_REFERENCES = """
SELECT t.tablename AS name, coalesce(array_agg(c.conrelid::regclass::text) FILTER (WHERE c.conrelid IS NOT NULL), '{}')
    AS referenced_by
FROM pg_tables t
LEFT JOIN pg_constraint c ON c.contype = 'f' AND c.confrelid = format('public.%I', t.tablename)::regclass
    AND c.conrelid <> c.confrelid
WHERE t.schemaname = 'public'
GROUP BY t.tablename
"""


async def empty_postgres_database(url: str) -> None:
    """Empty every table of the database and restart its sequences.

    DELETE, each table before the tables it references: on a few rows it takes milliseconds, where TRUNCATE
    (new files for every table and index, synced at commit) took most of a second before every test.
    """
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    try:
        rows = await connection.fetch(_REFERENCES)
        graph = {row["name"]: {name.strip('"') for name in row["referenced_by"]} for row in rows}
        graph = {table: referencing & graph.keys() for table, referencing in graph.items()}
        async with connection.transaction():
            for table in graphlib.TopologicalSorter(graph).static_order():
                await connection.execute(f'DELETE FROM "{table}"')
            for row in await connection.fetch("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"):
                await connection.execute(f'ALTER SEQUENCE "{row["sequencename"]}" RESTART')
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty project database with its schema, on SQLite and on real PostgreSQL."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'hotline.db'}")
        await db.create_schema()
    else:
        url = request.getfixturevalue("postgres_url")
        await empty_postgres_database(url)
        db = Database(url)
    yield db
    await db.close()


@pytest.fixture
async def sqlite_database(sqlite_url: str) -> AsyncIterator[Database]:
    """An empty SQLite project database with its schema."""
    db = Database(sqlite_url)
    await db.create_schema()
    yield db
    await db.close()


@pytest.fixture
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings re-read from the environment for this test."""
    from bot.core.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
