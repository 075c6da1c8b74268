"""The project database: engine and sessions, opened on first use."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import AsyncAdaptedQueuePool

from bot.core import timestamps
from bot.core.models import Base


class DatabaseUnavailable(RuntimeError):
    """The project database could not be reached or answered too slowly."""


class OutdatedTimestamps(RuntimeError):
    """The database holds times written before the one clock (naive China time); ``python -m bot db init`` converts."""

    def __init__(self) -> None:
        super().__init__("数据库中的时间是旧版本写入的（北京时间，无时区），请先运行 python -m bot db init 转换为UTC")


# What a database that is down, unreachable or too slow raises through SQLAlchemy and the drivers.
_UNAVAILABLE = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.DisconnectionError,
    exc.TimeoutError,
    OSError,
    asyncio.TimeoutError,
)


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


class Database:
    """One engine and its session factory for one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.sqlite_path = Path(parsed.database) if self.is_sqlite and parsed.database else None
        options: dict[str, Any] = {"future": True}
        if self.is_sqlite:
            # A few SQLite connections are kept open (each is a thread of aiosqlite's: opening one
            # per unit of work costs several thread hand-offs); a locked file is waited for 5 s.
            options.update(poolclass=AsyncAdaptedQueuePool, pool_size=5, max_overflow=5, connect_args={"timeout": 5})
        else:
            # PostgreSQL keeps a pool; connecting and every statement are bounded in time.
            options.update(
                pool_size=5,
                max_overflow=10,
                pool_pre_ping=True,
                pool_timeout=5,
                connect_args={"timeout": 5, "command_timeout": 10},
            )
        self.engine: AsyncEngine = create_async_engine(async_url(url), **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", enable_sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False, future=True)

    async def create_schema(self) -> None:
        """Create the tables that do not exist yet; a database without old times is marked as keeping UTC.

        Raises:
            OutdatedTimestamps: the database holds times of before the one clock (``upgrade`` converts them).
            DatabaseUnavailable: the database is down, unreachable or too slow.
        """
        if self.sqlite_path is not None:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            async with self.engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
                marked = await timestamps.is_marked(connection)
                outdated = not marked and await timestamps.holds_old_times(connection)
                if not marked and not outdated:
                    await timestamps.mark(connection)
        except exc.IntegrityError:  # another process marked the new database at the same moment
            return
        except _UNAVAILABLE as error:
            raise DatabaseUnavailable(f"cannot create the schema: {type(error).__name__}") from error
        if outdated:
            raise OutdatedTimestamps()

    async def upgrade(self) -> int:
        """Create the tables that do not exist yet and convert an old database's China times to UTC, once.

        Returns how many stored times were converted (0 for a database already in UTC, or a new one).
        """
        if self.sqlite_path is not None:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            async with self.engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
            try:
                async with self.engine.begin() as connection:
                    return await timestamps.convert_to_utc(connection)
            except exc.IntegrityError:
                async with self.engine.connect() as connection:
                    if await timestamps.is_marked(connection):  # another process converted it at the same moment
                        return 0
                raise
        except _UNAVAILABLE as error:
            raise DatabaseUnavailable(f"cannot upgrade the schema: {type(error).__name__}") from error

    async def holds_old_times(self) -> bool:
        """Whether the database holds times written before the one clock and not converted yet (see ``upgrade``)."""
        try:
            async with self.engine.connect() as connection:
                return not await timestamps.is_marked(connection) and await timestamps.holds_old_times(connection)
        except _UNAVAILABLE as error:
            raise DatabaseUnavailable(f"the project database is unavailable: {type(error).__name__}") from error

    async def drop_schema(self) -> None:
        """Drop every table of the project (tests and resets only)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One session per unit of work, committed on success, rolled back on error.

        Raises:
            DatabaseUnavailable: the database is down, unreachable or too slow.
        """
        try:
            async with self._sessions() as session:
                try:
                    yield session
                    await session.commit()
                except BaseException:
                    await session.rollback()
                    raise
        except _UNAVAILABLE as error:
            raise DatabaseUnavailable(f"the project database is unavailable: {type(error).__name__}") from error

    async def close(self) -> None:
        """Release the engine's connections."""
        await self.engine.dispose()
