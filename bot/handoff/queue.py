"""The queue of conversations waiting for a person: Redis when configured, in-process otherwise.

The queue orders the waiting handoffs (higher priority first, then the longest waiting) and
decides who gets one: ``claim`` gives a handoff to exactly one owner (an agent, the citizen who
cancels, or the timeout that turns it into a callback), whichever server instance they are on.
The handoffs themselves (status, transcript, rating) live in the project database.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.core.settings import Settings

# How long a claim is remembered: longer than any handoff lasts.
CLAIM_TTL_S = 7 * 24 * 3600
# Waiting order: priority first (a whole day of waiting never outranks one level of priority).
_PRIORITY_WEIGHT = 10**7


class QueueUnavailable(RuntimeError):
    """The queue's store (Redis) did not answer."""


def _score(priority: int, created_ts: float) -> float:
    return -priority * _PRIORITY_WEIGHT + created_ts


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

    async def close(self) -> None:
        """Release connections."""


class MemoryHandoffQueue:
    """The queue of one server instance (the embedded default)."""

    def __init__(self) -> None:
        self._scores: dict[int, float] = {}
        self._owners: dict[int, str] = {}
        self._lock = asyncio.Lock()

    async def enqueue(self, handoff_id: int, priority: int, created_ts: float) -> None:
        """Put a handoff in the queue."""
        async with self._lock:
            self._owners.pop(handoff_id, None)
            self._scores[handoff_id] = _score(priority, created_ts)

    async def claim(self, handoff_id: int, owner: str) -> str | None:
        """Take a handoff out of the queue for ``owner``; None when won, else who has it already."""
        async with self._lock:
            if handoff_id in self._owners:
                return self._owners[handoff_id]
            self._owners[handoff_id] = owner
            self._scores.pop(handoff_id, None)
            return None

    async def reassign(self, handoff_id: int, owner: str) -> None:
        """Give a claimed handoff to another owner (a transfer)."""
        async with self._lock:
            self._owners[handoff_id] = owner

    async def owner(self, handoff_id: int) -> str | None:
        """Who claimed the handoff, if anyone."""
        return self._owners.get(handoff_id)

    async def waiting(self) -> list[int]:
        """The waiting handoffs, the next one first."""
        return sorted(self._scores, key=lambda handoff_id: (self._scores[handoff_id], handoff_id))

    async def position(self, handoff_id: int) -> int | None:
        """1 for the next handoff to be taken; None when it is not waiting."""
        order = await self.waiting()
        return order.index(handoff_id) + 1 if handoff_id in order else None

    async def close(self) -> None:
        """Nothing to release."""


class RedisHandoffQueue:
    """The queue shared by every server instance: a sorted set of waiting ids, a key per claim."""

    def __init__(self, url: str, timeout_s: float, prefix: str = "hotline:handoff:") -> None:
        self._redis = aioredis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, decode_responses=True
        )
        self._waiting_key = prefix + "waiting"
        self._owner_prefix = prefix + "owner:"

    async def enqueue(self, handoff_id: int, priority: int, created_ts: float) -> None:
        """Put a new handoff in the queue (a claim left under its id by an older database is dropped)."""
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._owner_prefix + str(handoff_id))
                pipe.zadd(self._waiting_key, {str(handoff_id): _score(priority, created_ts)})
                await pipe.execute()
        except (RedisError, OSError) as error:
            raise QueueUnavailable(type(error).__name__) from error

    async def claim(self, handoff_id: int, owner: str) -> str | None:
        """Take a handoff out of the queue for ``owner``; None when won, else who has it already."""
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
        try:
            await self._redis.set(self._owner_prefix + str(handoff_id), owner, ex=CLAIM_TTL_S)
        except (RedisError, OSError) as error:
            raise QueueUnavailable(type(error).__name__) from error

    async def owner(self, handoff_id: int) -> str | None:
        """Who claimed the handoff, if anyone."""
        try:
            value = await self._redis.get(self._owner_prefix + str(handoff_id))
        except (RedisError, OSError) as error:
            raise QueueUnavailable(type(error).__name__) from error
        return None if value is None else str(value)

    async def waiting(self) -> list[int]:
        """The waiting handoffs, the next one first."""
        try:
            members = await self._redis.zrange(self._waiting_key, 0, -1)
        except (RedisError, OSError) as error:
            raise QueueUnavailable(type(error).__name__) from error
        return [int(member) for member in members]

    async def position(self, handoff_id: int) -> int | None:
        """1 for the next handoff to be taken; None when it is not waiting."""
        try:
            rank = await self._redis.zrank(self._waiting_key, str(handoff_id))
        except (RedisError, OSError) as error:
            raise QueueUnavailable(type(error).__name__) from error
        return None if rank is None else int(rank) + 1

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.close()


def open_handoff_queue(settings: Settings) -> HandoffQueue:
    """Redis (keys under ``REDIS_PREFIX``) when ``REDIS_URL`` is set, in-process otherwise (no I/O here)."""
    if settings.redis_url:
        return RedisHandoffQueue(
            settings.redis_url, settings.outside_call_timeout_s, settings.redis_prefix + "handoff:"
        )
    return MemoryHandoffQueue()
