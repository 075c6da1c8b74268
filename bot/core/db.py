"""The project database: engine and sessions, opened on first use; its schema kept by Alembic.

The schema's revisions are in ``bot/core/migrations/``. ``upgrade`` (``python -m bot db upgrade``)
brings any database to the newest one; ``create_schema`` makes a new database at the newest
revision directly (tests, tools); ``schema_state`` says where a database stands, and
``require_current_schema`` refuses one that is not at the newest revision, or whose personal data the
encryption key cannot decrypt (the servers, the commands).
A new SQLite file is made readable by its owner only, in a folder of its owner's.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg.exceptions
from sqlalchemy import event, exc, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool

from bot.core import timestamps
from bot.core.models import Base


class DatabaseUnavailable(RuntimeError):
    """The project database could not be reached or answered too slowly."""


# The start of what a ``DatabaseUnavailable`` of the project database says (the cause's type follows).
UNAVAILABLE = "the project database is unavailable"


# What a database with China times never converted is told (``db init`` is the older name of ``db upgrade``).
OLD_TIMES = (
    "数据库中的时间是旧版本写入的（北京时间，无时区），"
    "请先运行 python -m bot db upgrade（或 python -m bot db init）转换为UTC"
)


class OutdatedTimestamps(RuntimeError):
    """The database holds times written before the one clock (naive China time); ``db upgrade`` converts them."""

    def __init__(self) -> None:
        super().__init__(OLD_TIMES)


class SchemaOutdated(RuntimeError):
    """The database's schema is not at the newest revision (or at one not ours); ``python -m bot db upgrade``."""


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands against the newest revision."""

    revision: str | None  # stamped in alembic_version; None: never stamped
    head: str
    has_tables: bool  # any table of the project
    marked: bool  # its times are marked as UTC (bot.core.timestamps)
    old_times: bool  # unmarked, with rows: China times to convert

    @property
    def is_new(self) -> bool:
        """No table of the project yet."""
        return self.revision is None and not self.has_tables

    @property
    def before_alembic(self) -> bool:
        """Made by create_schema before Alembic: tables, but no revision."""
        return self.revision is None and self.has_tables

    @property
    def is_current(self) -> bool:
        """At the newest revision."""
        return self.revision == self.head

    def problem(self) -> str | None:
        """Why the servers and commands cannot use the database as it is (None: they can)."""
        from bot.core import migrations  # Alembic only when the schema is looked at

        upgrade = "请先运行 python -m bot db upgrade"
        if self.old_times:
            return OLD_TIMES
        if self.is_new:
            return f"数据库尚未建表，{upgrade}"
        if self.before_alembic:
            return f"数据库是启用版本迁移之前建立的（没有版本记录），{upgrade}"
        if self.revision is not None and not migrations.known(self.revision):
            return (
                f"数据库版本{self.revision}不是本程序的版本（最新为{self.head}），"
                "可能已由更新的程序升级，请使用对应版本的程序"
            )
        if not self.is_current:
            return f"数据库版本为{self.revision}，最新为{self.head}，{upgrade}"
        return None


@dataclass(frozen=True)
class Upgrade:
    """What ``Database.migrate`` did."""

    before: str | None  # the revision before (None: new, or made before Alembic)
    after: str
    before_alembic: bool  # taken in at revision 0001
    converted: int  # stored times converted from China time to UTC


# What a database that is down, unreachable or too slow raises through SQLAlchemy and the drivers.
_UNAVAILABLE = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.DisconnectionError,
    exc.TimeoutError,
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
)


def is_outage(error: BaseException) -> bool:
    """Whether an error means the database is down, cut off or too slow (not a statement it refused).

    asyncpg's lost connection ("connection was closed in the middle of operation") reaches us as
    SQLAlchemy's plain ``DBAPIError`` or as the driver adapter's own error, with the asyncpg error as
    its cause: the chain of causes is what tells.
    """
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, _UNAVAILABLE) or getattr(seen, "connection_invalidated", False):
            return True
        seen = seen.__cause__ or getattr(seen, "orig", None)
    return False


@contextmanager
def outage_as(unavailable: type[DatabaseUnavailable], message: str) -> Iterator[None]:
    """Turn a database outage inside the block into ``unavailable(message…)``; other errors pass unchanged."""
    try:
        yield
    except Exception as error:
        if not is_outage(error):
            raise
        raise unavailable(f"{message}: {type(error).__name__}") from error


async def _connected(engine: AsyncEngine, is_sqlite: bool) -> AsyncConnection:
    """A connection of ``engine``, opened again while a new SQLite file is being switched to WAL by another.

    Two connections switching a new file to WAL at once can deadlock in SQLite, which then refuses one at
    once ("database is locked") without waiting: it tries again until ``MIGRATION_LOCK_WAIT_S``.
    """
    deadline = time.monotonic() + MIGRATION_LOCK_WAIT_S
    while True:
        connection = engine.connect()
        try:
            return await connection.start()
        except exc.OperationalError as error:
            if not is_sqlite or "database is locked" not in str(error) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(WAL_SWITCH_RETRY_S)


def async_url(url: str) -> str:
    """Turn a plain database URL into the URL of its asyncio driver."""
    parsed = make_url(url)
    drivers = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
    backend = parsed.get_backend_name()
    if backend not in drivers:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return str(parsed.set(drivername=drivers[backend]))


def enable_sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    """On every new SQLite connection: WAL (readers never block the writer), fewer fsyncs, waits on locks."""
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# How soon a migration's connection tries again when another is switching a new SQLite file to WAL.
WAL_SWITCH_RETRY_S = 0.1
# Upgrades wait this long for one another (the lock), and a migration's statement may take this long.
MIGRATION_LOCK_WAIT_S = 60
MIGRATION_STATEMENT_TIMEOUT_S = 600
# pg_advisory_xact_lock's key for the schema: one upgrade (or creation) at a time.
SCHEMA_LOCK_KEY = 12345_0001


def migration_pragmas(dbapi_connection: object, _record: object) -> None:
    """A migration's SQLite connection: WAL, waits on locks, and no foreign-key actions.

    With foreign keys on, batch mode's DROP of a copied table would run its ON DELETE CASCADE.
    """
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.execute(f"PRAGMA busy_timeout={MIGRATION_LOCK_WAIT_S * 1000}")
    cursor.close()


def private_sqlite_file(path: Path) -> None:
    """Make a missing database file (mode 0600) and the folders it needs (mode 0700) before SQLite opens it.

    SQLite gives its -wal and -shm files the database file's mode.
    """
    if path.exists():
        return
    for folder in reversed(path.parents):
        if not folder.exists():
            folder.mkdir(mode=0o700, exist_ok=True)
    with suppress(FileExistsError):  # another process made it at the same moment
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _file_of(database: str | None) -> Path | None:
    """The file of a SQLite URL's database (None: in memory)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


class Database:
    """One engine and its session factory for one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.sqlite_path = _file_of(parsed.database) if self.is_sqlite else None
        options: dict[str, Any] = {"future": True}
        if self.is_sqlite:
            # A few SQLite connections are kept open (each is a thread of aiosqlite's: opening one
            # per unit of work costs several thread hand-offs); a locked file is waited for 5 s.
            options.update(poolclass=AsyncAdaptedQueuePool, pool_size=5, max_overflow=5, connect_args={"timeout": 5})
        else:
            # PostgreSQL keeps a pool; connecting and every statement are bounded in time. Ten stay
            # open: under load a connection opened for a burst and closed after it costs more than the
            # statements it ran (connecting and asyncpg's SSL negotiation showed in the load profile).
            options.update(
                pool_size=10,
                max_overflow=5,
                pool_pre_ping=True,
                pool_timeout=5,
                connect_args={"timeout": 5, "command_timeout": 10},
            )
        self.engine: AsyncEngine = create_async_engine(async_url(url), **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", enable_sqlite_pragmas)
            self._prepare_file(self.engine)
        self._sessions = sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False, future=True)

    def _prepare_file(self, engine: AsyncEngine) -> None:
        """Before ``engine`` connects, a missing SQLite file is made private (``private_sqlite_file``)."""
        path = self.sqlite_path
        if path is None:
            return

        def before_connect(*_: object) -> None:
            private_sqlite_file(path)

        event.listen(engine.sync_engine, "do_connect", before_connect)

    @asynccontextmanager
    async def migrating(self) -> AsyncIterator[AsyncConnection]:
        """A connection of its own holding the schema's lock, in one transaction committed when the block ends.

        SQLite: ``BEGIN IMMEDIATE`` (other writers wait; its DDL is transactional too), without
        foreign-key actions; PostgreSQL: a transaction-level advisory lock. Two upgrades at once run
        one after the other, and a failed one leaves the database as it was.

        Raises:
            DatabaseUnavailable: the database is down, unreachable, locked or too slow.
        """
        options: dict[str, Any] = {"future": True, "poolclass": NullPool}
        if self.is_sqlite:
            options["connect_args"] = {"timeout": MIGRATION_LOCK_WAIT_S}
        else:
            options["connect_args"] = {"timeout": 5, "command_timeout": MIGRATION_STATEMENT_TIMEOUT_S}
        engine = create_async_engine(async_url(self.url), **options)
        if self.is_sqlite:
            event.listen(engine.sync_engine, "connect", migration_pragmas)
            self._prepare_file(engine)
        try:
            with outage_as(DatabaseUnavailable, "cannot change the schema"):
                connection = await _connected(engine, self.is_sqlite)
                try:
                    if self.is_sqlite:
                        await connection.exec_driver_sql("BEGIN IMMEDIATE")
                    else:
                        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
                    yield connection
                    await connection.commit()
                finally:
                    await connection.close()  # what was not committed is rolled back
        finally:
            await engine.dispose()

    async def _state(self, connection: AsyncConnection) -> SchemaState:
        """Where the schema stands, read on ``connection``."""
        from bot.core import migrations  # Alembic only when the schema is looked at

        revision = await connection.run_sync(migrations.current)
        tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        marked = await timestamps.is_marked(connection)
        old_times = not marked and await timestamps.holds_old_times(connection)
        has_tables = bool(tables & set(Base.metadata.tables))
        return SchemaState(revision, migrations.head(), has_tables, marked, old_times)

    async def _to_head(self, connection: AsyncConnection, state: SchemaState, convert: bool) -> int:
        """Run the revisions the database lacks; old China times are converted at 0001 when ``convert``.

        A database without a revision is first brought to 0001: a new one gets its tables, one made
        before Alembic the tables it lacks (revision 0001 keeps those it has), and both are stamped.
        Returns how many stored times were converted.
        """
        from bot.core import migrations  # Alembic only when the schema is looked at

        if state.revision is not None and not migrations.known(state.revision):
            raise SchemaOutdated(state.problem())
        if state.revision is None:
            await connection.run_sync(migrations.upgrade, migrations.FIRST)
        # The conversion's column lists are those of revision 0001 (timestamps.py); a marked database is left alone.
        converted = await timestamps.convert_to_utc(connection) if convert else 0
        await connection.run_sync(migrations.upgrade, "head")
        return converted

    async def schema_state(self) -> SchemaState:
        """Where the database's schema stands against the newest revision (nothing is changed).

        Raises:
            DatabaseUnavailable: the database is down, unreachable or too slow.
        """
        with outage_as(DatabaseUnavailable, UNAVAILABLE):
            async with self.engine.connect() as connection:
                return await self._state(connection)

    async def require_current_schema(self) -> SchemaState:
        """Refuse a database the servers and commands cannot use as it is; its state otherwise.

        Raises:
            OutdatedTimestamps: it holds China times never converted (``python -m bot db upgrade`` converts).
            SchemaOutdated: it is new, made before Alembic, at an older revision or at one that is not ours.
            PersonalDataKeyError: the encryption key of personal data is missing, malformed or wrong.
            DatabaseUnavailable: the database is down, unreachable or too slow.
        """
        state = await self.schema_state()
        if state.old_times:
            raise OutdatedTimestamps()
        problem = state.problem()
        if problem is not None:
            raise SchemaOutdated(problem)
        await self.check_personal_data_key()
        return state

    async def check_personal_data_key(self) -> None:
        """Refuse a missing or malformed encryption key, or one that does not decrypt the stored personal data.

        Raises:
            PersonalDataKeyError: the key is missing, malformed or wrong.
            DatabaseUnavailable: the database is down, unreachable or too slow.
        """
        from bot.core.encryption import check_key

        try:
            async with self.engine.connect() as connection:
                await check_key(connection)
        except _UNAVAILABLE as error:
            raise DatabaseUnavailable(f"the project database is unavailable: {type(error).__name__}") from error

    async def migrate(self) -> Upgrade:
        """Bring the database to the newest revision, in one transaction under the schema's lock; what was done.

        A new database is created, one made before Alembic is taken in at 0001, an older revision
        is upgraded; China times written before the one clock are converted to UTC, once.

        Raises:
            SchemaOutdated: the database is at a revision that is not ours (a newer program's).
            DatabaseUnavailable: the database is down, unreachable, locked or too slow.
        """
        from bot.core import migrations  # Alembic only when the schema is looked at

        async with self.migrating() as connection:
            state = await self._state(connection)
            converted = await self._to_head(connection, state, convert=True)
            return Upgrade(state.revision, migrations.head(), state.before_alembic, converted)

    async def upgrade(self) -> int:
        """``migrate``; returns how many stored times were converted (0 for a database already in UTC, or a new one)."""
        return (await self.migrate()).converted

    async def create_schema(self) -> None:
        """The newest schema, for tests and tools: a new database gets the models' tables, stamped; another is upgraded.

        A database without old times is marked as keeping UTC; one with old times is refused
        (``upgrade`` is the operators' way: it converts them).

        Raises:
            OutdatedTimestamps: the database holds times of before the one clock (``upgrade`` converts them).
            SchemaOutdated: the database is at a revision that is not ours.
            DatabaseUnavailable: the database is down, unreachable or too slow.
        """
        from bot.core import migrations  # Alembic only when the schema is looked at

        async with self.migrating() as connection:
            state = await self._state(connection)
            if state.old_times:
                raise OutdatedTimestamps()
            if state.is_new:
                await connection.run_sync(Base.metadata.create_all)
                await connection.run_sync(migrations.stamp)
            elif not state.is_current:
                await self._to_head(connection, state, convert=False)
            if not state.marked:
                await timestamps.mark(connection)

    async def holds_old_times(self) -> bool:
        """Whether the database holds times written before the one clock and not converted yet (see ``upgrade``)."""
        with outage_as(DatabaseUnavailable, UNAVAILABLE):
            async with self.engine.connect() as connection:
                return not await timestamps.is_marked(connection) and await timestamps.holds_old_times(connection)

    async def drop_schema(self) -> None:
        """Drop every table of the project and its revision (tests and resets only)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One session per unit of work, committed on success, rolled back on error.

        Raises:
            DatabaseUnavailable: the database is down, unreachable or too slow.
        """
        with outage_as(DatabaseUnavailable, UNAVAILABLE):
            async with self._sessions() as session:
                try:
                    yield session
                    await session.commit()
                except BaseException:
                    await session.rollback()
                    raise

    async def close(self) -> None:
        """Release the engine's connections."""
        await self.engine.dispose()
