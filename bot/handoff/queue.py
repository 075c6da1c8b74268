"""The queue of conversations waiting for a person: Redis when configured, in-process otherwise.

The queue orders the waiting handoffs (higher priority first, then the longest waiting) and
decides who gets one: ``claim`` gives a handoff to exactly one owner (an agent, the citizen who
cancels, or the timeout that turns it into a callback), whichever server instance they are on.
The handoffs themselves (status, transcript, rating) live in the project database.

Redis is not the only copy: the queue is rebuilt from the database (``restore_if_lost``) when it
has not been built in its store yet. The rule: a Redis queue keeps a marker key (``…handoff:built``)
that only a rebuild writes; a store without the marker has lost the queue (Redis restarted without
its data, was flushed or failed over to an empty replica), so the next operation on the queue,
from any instance, first puts back every waiting handoff (with its place: its priority and its
creation time, as when it was queued) and the claims of those an agent has. The in-process queue
is rebuilt once, on its first use after the process started. The desk also checks at start-up and
before each turn that it is about to hand to the bot (``console.desk``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.core.db import DatabaseUnavailable
from bot.core.settings import Settings

logger = logging.getLogger(__name__)

# How long a claim is remembered: longer than any handoff lasts.
CLAIM_TTL_S = 7 * 24 * 3600
# Waiting order: priority first (a whole day of waiting never outranks one level of priority).
_PRIORITY_WEIGHT = 10**7


class QueueUnavailable(RuntimeError):
    """The queue's store (Redis) did not answer."""


def _score(priority: int, created_ts: float) -> float:
    return -priority * _PRIORITY_WEIGHT + created_ts


@dataclass(frozen=True)
class QueuedHandoff:
    """An active handoff as the database has it: waiting (no owner) or claimed by ``owner``."""

    id: int
    priority: int
    created_ts: float
    owner: str | None = None


# Reads the active handoffs from the project database (raises DatabaseUnavailable).
Loader = Callable[[], Awaitable[list[QueuedHandoff]]]

# Claims first, then the waiting ones that nobody claimed meanwhile, then the marker: one script.
_RESTORE = """
local owner_prefix, ttl = ARGV[1], tonumber(ARGV[2])
for i = 3, #ARGV, 3 do
  local id, score, owner = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if owner ~= '' then
    redis.call('SET', owner_prefix .. id, owner, 'NX', 'EX', ttl)
  elseif redis.call('EXISTS', owner_prefix .. id) == 0 then
    redis.call('ZADD', KEYS[1], score, id)
  end
end
redis.call('SET', KEYS[2], '1')
return 1
"""


class HandoffQueue(Protocol):
    """Waiting handoffs in order, and one owner per handoff."""

    async def enqueue(self, handoff_id: int, priority: int, created_ts: float) -> None:
        """Put a new handoff in the queue."""

    async def claim(self, handoff_id: int, owner: str) -> str | None:
        """Take a handoff out of the queue for ``owner``; None when won, else who has it already."""

    async def reassign(self, handoff_id: int, owner: str) -> None:
        """Give a claimed handoff to another owner (a transfer)."""

    async def owner(self, handoff_id: int) -> str | None:
        """Who claimed the handoff, if anyone."""

    async def waiting(self) -> list[int]:
        """The waiting handoffs, the next one first."""

    async def position(self, handoff_id: int) -> int | None:
        """1 for the next handoff to be taken; None when it is not waiting."""

    async def restore_if_lost(self) -> bool:
        """Rebuild the queue from the database if its store lost it; whether it was rebuilt now."""

    async def close(self) -> None:
        """Release connections."""


async def _active_handoffs(loader: Loader) -> list[QueuedHandoff] | None:
    """The active handoffs as the database has them; None (logged) when the database is away."""
    try:
        return await loader()
    except DatabaseUnavailable as error:
        logger.warning("handoff queue not rebuilt yet, the database is away: %s", error)
        return None


class MemoryHandoffQueue:
    """The queue of one server instance (the embedded default)."""

    def __init__(self, loader: Loader | None = None) -> None:
        self._scores: dict[int, float] = {}
        self._owners: dict[int, str] = {}
        self._lock = asyncio.Lock()
        self._loader = loader
        self._built = loader is None

    async def restore_if_lost(self) -> bool:
        """On first use in this process: the active handoffs from the database; whether rebuilt now."""
        if self._built or self._loader is None:
            return False
        entries = await _active_handoffs(self._loader)
        if entries is None:
            return False
        async with self._lock:
            if self._built:
                return False
            for entry in entries:
                if entry.owner is not None:
                    self._owners.setdefault(entry.id, entry.owner)
                elif entry.id not in self._owners:
                    self._scores.setdefault(entry.id, _score(entry.priority, entry.created_ts))
            self._built = True
        logger.info("handoff queue rebuilt from the database: %d active handoffs", len(entries))
        return True

    async def enqueue(self, handoff_id: int, priority: int, created_ts: float) -> None:
        """Put a handoff in the queue."""
        await self.restore_if_lost()
        async with self._lock:
            self._owners.pop(handoff_id, None)
            self._scores[handoff_id] = _score(priority, created_ts)

    async def claim(self, handoff_id: int, owner: str) -> str | None:
        """Take a handoff out of the queue for ``owner``; None when won, else who has it already."""
        await self.restore_if_lost()
        async with self._lock:
            if handoff_id in self._owners:
                return self._owners[handoff_id]
            self._owners[handoff_id] = owner
            self._scores.pop(handoff_id, None)
            return None

    async def reassign(self, handoff_id: int, owner: str) -> None:
        """Give a claimed handoff to another owner (a transfer)."""
        await self.restore_if_lost()
        async with self._lock:
            self._owners[handoff_id] = owner

    async def owner(self, handoff_id: int) -> str | None:
        """Who claimed the handoff, if anyone."""
        await self.restore_if_lost()
        return self._owners.get(handoff_id)

    async def waiting(self) -> list[int]:
        """The waiting handoffs, the next one first."""
        await self.restore_if_lost()
        return sorted(self._scores, key=lambda handoff_id: (self._scores[handoff_id], handoff_id))

    async def position(self, handoff_id: int) -> int | None:
        """1 for the next handoff to be taken; None when it is not waiting."""
        order = await self.waiting()
        return order.index(handoff_id) + 1 if handoff_id in order else None

    async def close(self) -> None:
        """Nothing to release."""


class RedisHandoffQueue:
    """The queue shared by every server instance: a sorted set of waiting ids, a key per claim."""

    def __init__(
        self, url: str, timeout_s: float, prefix: str = "hotline:handoff:", loader: Loader | None = None
    ) -> None:
        self._redis = aioredis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, decode_responses=True
        )
        self._waiting_key = prefix + "waiting"
        self._owner_prefix = prefix + "owner:"
        self._built_key = prefix + "built"
        self._loader = loader
        self._restoring = asyncio.Lock()

    async def restore_if_lost(self) -> bool:
        """Rebuild the queue from the database when Redis lacks its marker (it lost the queue); whether rebuilt now.

        A database that is away leaves the marker missing: the next operation tries again.

        Raises:
            QueueUnavailable: Redis did not answer.
        """
        if self._loader is None:
            return False
        try:
            if await self._redis.exists(self._built_key):
                return False
            async with self._restoring:  # one rebuild at a time in this process
                if await self._redis.exists(self._built_key):
                    return False
                entries = await _active_handoffs(self._loader)
                if entries is None:
                    return False
                arguments: list[str | float] = [self._owner_prefix, CLAIM_TTL_S]
                for entry in entries:
                    arguments += [str(entry.id), _score(entry.priority, entry.created_ts), entry.owner or ""]
                await self._redis.eval(_RESTORE, 2, self._waiting_key, self._built_key, *arguments)
        except (RedisError, OSError) as error:
            raise QueueUnavailable(type(error).__name__) from error
        logger.warning("handoff queue rebuilt from the database (Redis had lost it): %d active handoffs", len(entries))
        return True

    async def enqueue(self, handoff_id: int, priority: int, created_ts: float) -> None:
        """Put a new handoff in the queue (a claim left under its id by an older database is dropped)."""
        await self.restore_if_lost()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._owner_prefix + str(handoff_id))
                pipe.zadd(self._waiting_key, {str(handoff_id): _score(priority, created_ts)})
                await pipe.execute()
        except (RedisError, OSError) as error:
            raise QueueUnavailable(type(error).__name__) from error

    async def claim(self, handoff_id: int, owner: str) -> str | None:
        """Take a handoff out of the queue for ``owner``; None when won, else who has it already."""
        await self.restore_if_lost()
        key = self._owner_prefix + str(handoff_id)
        try:
            won = await self._redis.set(key, owner, nx=True, ex=CLAIM_TTL_S)
            if won:
                await self._redis.zrem(self._waiting_key, str(handoff_id))
                return None
            current = await self._redis.get(key)
        except (RedisError, OSError) as error:
            raise QueueUnavailable(type(error).__name__) from error
        return str(current) if current is not None else "unknown"

    async def reassign(self, handoff_id: int, owner: str) -> None:
        """Give a claimed handoff to another owner (a transfer)."""
        await self.restore_if_lost()
        try:
            await self._redis.set(self._owner_prefix + str(handoff_id), owner, ex=CLAIM_TTL_S)
        except (RedisError, OSError) as error:
            raise QueueUnavailable(type(error).__name__) from error

    async def owner(self, handoff_id: int) -> str | None:
        """Who claimed the handoff, if anyone."""
        await self.restore_if_lost()
        try:
            value = await self._redis.get(self._owner_prefix + str(handoff_id))
        except (RedisError, OSError) as error:
            raise QueueUnavailable(type(error).__name__) from error
        return None if value is None else str(value)

    async def waiting(self) -> list[int]:
        """The waiting handoffs, the next one first."""
        await self.restore_if_lost()
        try:
            members = await self._redis.zrange(self._waiting_key, 0, -1)
        except (RedisError, OSError) as error:
            raise QueueUnavailable(type(error).__name__) from error
        return [int(member) for member in members]

    async def position(self, handoff_id: int) -> int | None:
        """1 for the next handoff to be taken; None when it is not waiting."""
        await self.restore_if_lost()
        try:
            rank = await self._redis.zrank(self._waiting_key, str(handoff_id))
        except (RedisError, OSError) as error:
            raise QueueUnavailable(type(error).__name__) from error
        return None if rank is None else int(rank) + 1

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.close()


def open_handoff_queue(settings: Settings, loader: Loader | None = None) -> HandoffQueue:
    """Redis (keys under ``REDIS_PREFIX``) when ``REDIS_URL`` is set, in-process otherwise (no I/O here).

    ``loader`` reads the active handoffs from the database, to rebuild a queue its store lost.
    """
    if settings.redis_url:
        return RedisHandoffQueue(
            settings.redis_url, settings.outside_call_timeout_s, settings.redis_prefix + "handoff:", loader
        )
    return MemoryHandoffQueue(loader)
