"""Short-lived state that every server instance sees: Redis when configured, in-process otherwise.

Connectors keep here what must outlive one request but not one conversation: ids of updates
already handled, the choices last offered to a citizen, a phone call's silence count and the
answer of a turn that took too long for the platform to wait.

Ids of platform messages already handled (an SMS ``MessageSid``, a Telegram ``update_id``) are
also kept in the project database (``first_delivery``): Redis restarting, or an instance without
Redis restarting, never makes a replayed message look new.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from bot.core import clock
from bot.core.db import Database, DatabaseUnavailable
from bot.core.models import HandledMessage
from bot.core.settings import Settings

logger = logging.getLogger(__name__)


class SharedStateUnavailable(RuntimeError):
    """The shared store (Redis) did not answer."""


class SharedState(Protocol):
    """Keys with a time to live."""

    async def add_if_new(self, key: str, ttl_s: int) -> bool:
        """Mark ``key`` as seen; False when it was already seen within its time to live."""

    async def put(self, key: str, value: str, ttl_s: int) -> None:
        """Store a value for ``ttl_s`` seconds."""

    async def get(self, key: str) -> str | None:
        """The stored value, or None when missing or expired."""

    async def delete(self, *keys: str) -> None:
        """Forget keys."""

    async def increment(self, key: str, ttl_s: int) -> int:
        """Add one to a counter that expires ``ttl_s`` seconds after its first increment."""

    async def close(self) -> None:
        """Release connections."""


class MemoryState:
    """In-process store for one server instance (the embedded default)."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[float, str]] = {}
        self._lock = asyncio.Lock()

    def _live(self, key: str) -> str | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= time.monotonic():
            del self._values[key]
            return None
        return value

    def _prune(self) -> None:
        now = time.monotonic()
        if len(self._values) > 10_000:
            for key in [k for k, (expires, _) in self._values.items() if expires <= now]:
                del self._values[key]

    async def add_if_new(self, key: str, ttl_s: int) -> bool:
        """Mark ``key`` as seen; False when it was already seen within its time to live."""
        async with self._lock:
            if self._live(key) is not None:
                return False
            self._prune()
            self._values[key] = (time.monotonic() + ttl_s, "1")
            return True

    async def put(self, key: str, value: str, ttl_s: int) -> None:
        """Store a value for ``ttl_s`` seconds."""
        self._prune()
        self._values[key] = (time.monotonic() + ttl_s, value)

    async def get(self, key: str) -> str | None:
        """The stored value, or None when missing or expired."""
        return self._live(key)

    async def delete(self, *keys: str) -> None:
        """Forget keys."""
        for key in keys:
            self._values.pop(key, None)

    async def increment(self, key: str, ttl_s: int) -> int:
        """Add one to a counter that expires ``ttl_s`` seconds after its first increment."""
        async with self._lock:
            current = self._live(key)
            count = int(current or 0) + 1
            expires = self._values[key][0] if current is not None else time.monotonic() + ttl_s
            self._values[key] = (expires, str(count))
            return count

    async def close(self) -> None:
        """Nothing to release."""


class RedisState:
    """Redis-backed store shared by every server instance."""

    def __init__(self, url: str, timeout_s: float, prefix: str = "hotline:") -> None:
        self._redis = aioredis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, decode_responses=True
        )
        self._prefix = prefix

    async def add_if_new(self, key: str, ttl_s: int) -> bool:
        """Mark ``key`` as seen; False when it was already seen within its time to live."""
        try:
            return bool(await self._redis.set(self._prefix + key, "1", nx=True, ex=ttl_s))
        except (RedisError, OSError) as error:
            raise SharedStateUnavailable(str(error)) from error

    async def put(self, key: str, value: str, ttl_s: int) -> None:
        """Store a value for ``ttl_s`` seconds."""
        try:
            await self._redis.set(self._prefix + key, value, ex=ttl_s)
        except (RedisError, OSError) as error:
            raise SharedStateUnavailable(str(error)) from error

    async def get(self, key: str) -> str | None:
        """The stored value, or None when missing or expired."""
        try:
            value = await self._redis.get(self._prefix + key)
        except (RedisError, OSError) as error:
            raise SharedStateUnavailable(str(error)) from error
        return None if value is None else str(value)

    async def delete(self, *keys: str) -> None:
        """Forget keys."""
        if not keys:
            return
        try:
            await self._redis.delete(*(self._prefix + key for key in keys))
        except (RedisError, OSError) as error:
            raise SharedStateUnavailable(str(error)) from error

    async def increment(self, key: str, ttl_s: int) -> int:
        """Add one to a counter that expires ``ttl_s`` seconds after its first increment."""
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(self._prefix + key)
                pipe.expire(self._prefix + key, ttl_s, nx=True)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as error:
            raise SharedStateUnavailable(str(error)) from error
        return int(count)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.close()


def open_shared_state(settings: Settings, prefix: str | None = None) -> SharedState:
    """Redis (keys under ``REDIS_PREFIX`` unless told) when ``REDIS_URL`` is set, in-process otherwise (no I/O here)."""
    if settings.redis_url:
        return RedisState(settings.redis_url, settings.outside_call_timeout_s, prefix or settings.redis_prefix)
    return MemoryState()


async def record_handled(database: Database, key: str, ttl_s: int, now: datetime) -> bool:
    """Record a message id in the database; False when it is there already and not expired.

    One statement: a new id is inserted, an expired one is taken again, a live one is left alone.

    Raises:
        DatabaseUnavailable: the database is down, unreachable or too slow.
    """
    dialect = postgresql if not database.is_sqlite else sqlite
    expires = now + timedelta(seconds=ttl_s)
    insert = dialect.insert(HandledMessage).values(key=key, expires_at=expires)
    statement = insert.on_conflict_do_update(
        index_elements=[HandledMessage.key],
        set_={"expires_at": expires},
        where=HandledMessage.expires_at <= now,
    )
    async with database.session() as session:
        result = await session.execute(statement)
    return bool(result.rowcount)


async def forget_expired_handled(database: Database, now: datetime) -> int:
    """Delete the message ids whose time to live is over; how many.

    Raises:
        DatabaseUnavailable: the database is down, unreachable or too slow.
    """
    async with database.session() as session:
        result = await session.execute(delete(HandledMessage).where(HandledMessage.expires_at <= now))
    return int(result.rowcount or 0)


async def first_delivery(state: SharedState, database: Database, key: str, ttl_s: int) -> bool:
    """Whether a platform's message id is seen for the first time within ``ttl_s``: the duplicate check.

    The shared state answers a replay at once; otherwise the database, which keeps every id for
    ``ttl_s`` whatever happens to Redis, decides. With one of the two away the other decides.

    Raises:
        SharedStateUnavailable: neither the shared state nor the database answered.
    """
    try:
        if not await state.add_if_new(key, ttl_s):
            return False
        state_answered = True
    except SharedStateUnavailable:
        state_answered = False
    try:
        return await record_handled(database, key, ttl_s, clock.now())
    except DatabaseUnavailable as error:
        if not state_answered:
            raise SharedStateUnavailable(f"neither Redis nor the database answered: {error}") from error
        logger.warning("duplicate check of %s by the shared state only: %s", key, error)
        return True
