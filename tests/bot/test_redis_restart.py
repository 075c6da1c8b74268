"""Redis losing its keys (a restart without persistence, simulated by deleting a test prefix's keys).

The handoff queue comes back from the database with every waiting citizen in their place and every
claim of an agent; a replayed SMS or Telegram update id stays a duplicate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from bot.core import clock
from bot.core.db import Database
from bot.core.settings import get_settings
from bot.core.shared_state import (
    MemoryState,
    RedisState,
    SharedStateUnavailable,
    first_delivery,
    forget_expired_handled,
    record_handled,
)
from bot.handoff import records as handoffs
from bot.handoff.agents import add_agent
from bot.handoff.queue import MemoryHandoffQueue, QueuedHandoff, RedisHandoffQueue
from channels.connector import ChannelRuntime
from console.desk import queued_in_database
from tests.bot.conftest import REDIS_URL, redis_prefix


async def forget_prefix(prefix: str) -> int:
    """What a Redis restart does to this installation's keys (only these: other tests share the server)."""
    client = aioredis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        return int(await client.delete(*keys)) if keys else 0
    finally:
        await client.close()


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    """A key prefix of the test's own, emptied afterwards."""
    made = redis_prefix()
    yield made
    await forget_prefix(made)


async def _three_handoffs(database: Database) -> tuple[int, int, int]:
    """An early and a later ordinary request, and one an agent has: ids in that order."""
    start = clock.now() - timedelta(minutes=3)
    first, _ = await handoffs.open_handoff(database, "web-a", "webchat", None, "requested", {}, start)
    second, _ = await handoffs.open_handoff(database, "web-b", "webchat", None, "requested", {}, start + timedelta(1))
    taken, _ = await handoffs.open_handoff(database, "web-c", "webchat", None, "requested", {}, start)
    return first.id, second.id, taken.id


async def test_the_queue_comes_back_from_the_database_after_redis_lost_it(database: Database, prefix: str) -> None:
    runtime = ChannelRuntime(get_settings(), database, RedisState(REDIS_URL, 2, prefix))
    queue = RedisHandoffQueue(REDIS_URL, 2, prefix + "handoff:", lambda: queued_in_database(runtime))
    try:
        first, second, taken = await _three_handoffs(database)
        for handoff_id in (second, first, taken):
            view = await handoffs.get_handoff(database, handoff_id)
            await queue.enqueue(handoff_id, view.priority, view.created_at.timestamp())
            await runtime.state.put(f"handoff:conv:{view.conversation_id}", str(handoff_id), 3600)
        agent = await add_agent(database, "zhao", "赵敏", "agent", "a-long-password-1", clock.now())
        assert await queue.claim(taken, f"agent:{agent.id}") is None  # what the desk's take() does
        await handoffs.assign(database, taken, agent.id, clock.now())
        before = await queue.waiting()
        assert before == [first, second]

        assert await forget_prefix(prefix) > 0  # Redis restarted
        assert await queue.position(second) == 2  # the next operation rebuilt it: same places
        assert await queue.waiting() == before
        assert await runtime.state.get("handoff:conv:web-b") == str(second)  # the desk sees the citizen waits
        assert await queue.claim(taken, "agent:99") == f"agent:{agent.id}"  # still with the agent who took it
        assert await queue.restore_if_lost() is False  # rebuilt once, not on every operation
    finally:
        await queue.close()
        await runtime.state.close()


async def test_an_agents_claim_comes_back_too(database: Database, prefix: str) -> None:
    async def loader() -> list[QueuedHandoff]:
        return [QueuedHandoff(1, 0, 100.0), QueuedHandoff(2, 0, 50.0, owner="agent:7")]

    queue = RedisHandoffQueue(REDIS_URL, 2, prefix + "handoff:", loader)
    try:
        await forget_prefix(prefix)
        assert await queue.claim(2, "agent:8") == "agent:7"  # still the first agent's
        assert await queue.waiting() == [1]
    finally:
        await queue.close()


async def test_a_claim_made_during_the_rebuild_is_not_undone(prefix: str) -> None:
    queue = RedisHandoffQueue(REDIS_URL, 2, prefix + "handoff:")

    async def stale_loader() -> list[QueuedHandoff]:
        assert await queue.claim(1, "agent:3") is None  # an agent won it after the database was read
        return [QueuedHandoff(1, 0, 100.0)]

    rebuilding = RedisHandoffQueue(REDIS_URL, 2, prefix + "handoff:", stale_loader)
    try:
        assert await rebuilding.waiting() == []
        assert await rebuilding.owner(1) == "agent:3"
    finally:
        await queue.close()
        await rebuilding.close()


async def test_an_in_process_queue_comes_back_after_a_restart(database: Database) -> None:
    runtime = ChannelRuntime(get_settings(), database, MemoryState())
    first, second, third = await _three_handoffs(database)
    restarted = MemoryHandoffQueue(lambda: queued_in_database(runtime))  # a new process: an empty queue
    assert await restarted.waiting() == [first, third, second]  # none was taken; the earliest first
    assert await runtime.state.get("handoff:conv:web-a") == str(first)


async def test_a_replayed_message_id_is_a_duplicate_after_redis_lost_it(database: Database, prefix: str) -> None:
    state = RedisState(REDIS_URL, 2, prefix)
    try:
        for key in ("sms:SM0123456789abcdef", "telegram:update:424242"):
            assert await first_delivery(state, database, key, 3600) is True
            assert await first_delivery(state, database, key, 3600) is False
        await forget_prefix(prefix)  # Redis restarted
        assert await first_delivery(state, database, "sms:SM0123456789abcdef", 3600) is False
        assert await first_delivery(state, database, "telegram:update:424242", 3600) is False
        assert await first_delivery(state, database, "telegram:update:424243", 3600) is True
    finally:
        await state.close()


async def test_with_redis_down_the_database_alone_drops_duplicates(database: Database) -> None:
    down = RedisState("redis://127.0.0.1:1/0", 0.5)
    assert await first_delivery(down, database, "sms:SMdown", 3600) is True
    assert await first_delivery(down, database, "sms:SMdown", 3600) is False
    await database.close()
    with pytest.raises(SharedStateUnavailable):
        await first_delivery(down, Database("postgresql://postgres@127.0.0.1:1/none"), "sms:SMboth", 3600)


async def test_handled_ids_expire_and_are_deleted(database: Database) -> None:
    now = clock.now()
    assert await record_handled(database, "sms:SMold", 60, now) is True
    assert await record_handled(database, "sms:SMold", 60, now + timedelta(seconds=59)) is False
    assert await record_handled(database, "sms:SMold", 60, now + timedelta(seconds=61)) is True  # a new window
    assert await forget_expired_handled(database, now + timedelta(seconds=200)) == 1
    assert await record_handled(database, "sms:SMold", 60, now + timedelta(seconds=201)) is True
