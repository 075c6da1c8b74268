"""The handoff queue, in-process and on the real local Redis: order, one owner per handoff, races."""

from __future__ import annotations

import asyncio

import pytest

from bot.handoff.queue import HandoffQueue, MemoryHandoffQueue, QueueUnavailable, RedisHandoffQueue
from tests.bot.conftest import REDIS_URL, in_memory_and_on_redis

# A fresh queue of each kind, its Redis keys under a prefix of their own.
queue = in_memory_and_on_redis(
    MemoryHandoffQueue, lambda prefix: RedisHandoffQueue(REDIS_URL, timeout_s=2, prefix=prefix + "handoff:")
)


async def test_higher_priority_first_then_the_longest_waiting(queue: HandoffQueue) -> None:
    await queue.enqueue(1, 0, 1000.0)
    await queue.enqueue(2, 0, 900.0)
    await queue.enqueue(3, 2, 5000.0)  # an emergency, just now
    assert await queue.waiting() == [3, 2, 1]
    assert [await queue.position(i) for i in (3, 2, 1, 4)] == [1, 2, 3, None]


async def test_only_one_of_many_simultaneous_claims_wins(queue: HandoffQueue) -> None:
    await queue.enqueue(7, 0, 1.0)
    results = await asyncio.gather(*(queue.claim(7, f"agent:{n}") for n in range(10)))
    winners = [n for n, holder in enumerate(results) if holder is None]
    assert len(winners) == 1
    assert set(results) - {None} == {f"agent:{winners[0]}"}  # the losers are told who has it
    assert await queue.owner(7) == f"agent:{winners[0]}"
    assert await queue.waiting() == [] and await queue.position(7) is None


async def test_a_citizen_who_cancels_while_an_agent_takes_gets_one_answer(queue: HandoffQueue) -> None:
    await queue.enqueue(8, 0, 1.0)
    cancel, take = await asyncio.gather(queue.claim(8, "cancelled"), queue.claim(8, "agent:1"))
    assert (cancel is None) != (take is None)
    assert await queue.owner(8) == ("cancelled" if cancel is None else "agent:1")


async def test_a_transfer_changes_the_owner(queue: HandoffQueue) -> None:
    await queue.enqueue(9, 0, 1.0)
    assert await queue.claim(9, "agent:1") is None
    await queue.reassign(9, "agent:2")
    assert await queue.claim(9, "agent:3") == "agent:2"


async def test_a_new_handoff_under_an_old_id_is_not_blocked_by_an_old_claim(queue: HandoffQueue) -> None:
    await queue.enqueue(5, 0, 1.0)
    assert await queue.claim(5, "agent:1") is None
    await queue.enqueue(5, 0, 2.0)  # a fresh database reuses the id
    assert await queue.claim(5, "agent:2") is None


async def test_redis_down_is_a_typed_error() -> None:
    queue = RedisHandoffQueue("redis://127.0.0.1:1/0", timeout_s=0.5)
    with pytest.raises(QueueUnavailable):
        await queue.enqueue(1, 0, 1.0)
    with pytest.raises(QueueUnavailable):
        await queue.claim(1, "agent:1")
    with pytest.raises(QueueUnavailable):
        await queue.waiting()
    await queue.close()
