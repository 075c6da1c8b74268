"""The shared short-lived state, in-process and on the real local Redis."""

from __future__ import annotations

import time

import pytest

from bot.core.shared_state import MemoryState, RedisState, SharedState, SharedStateUnavailable
from tests.bot.conftest import REDIS_URL, in_memory_and_on_redis, redis_prefix

# A fresh store of each kind, its Redis keys under a prefix of their own.
state = in_memory_and_on_redis(MemoryState, lambda prefix: RedisState(REDIS_URL, timeout_s=2, prefix=prefix))


async def test_a_key_is_new_only_once(state: SharedState) -> None:
    assert await state.add_if_new("update:1", 60)
    assert not await state.add_if_new("update:1", 60)
    assert await state.add_if_new("update:0", 60)  # an older id arriving late is still new


async def test_values_are_kept_and_forgotten(state: SharedState) -> None:
    await state.put("answer", "<Response/>", 60)
    assert await state.get("answer") == "<Response/>"
    await state.delete("answer", "never-set")
    assert await state.get("answer") is None


async def test_counters_count(state: SharedState) -> None:
    assert [await state.increment("silence", 60) for _ in range(3)] == [1, 2, 3]


async def test_memory_values_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    state = MemoryState()
    await state.put("short", "x", 5)
    assert await state.add_if_new("seen", 5)
    later = time.monotonic() + 6
    monkeypatch.setattr("bot.core.shared_state.time.monotonic", lambda: later)
    assert await state.get("short") is None
    assert await state.add_if_new("seen", 5)


async def test_redis_values_carry_their_time_to_live() -> None:
    state = RedisState(REDIS_URL, timeout_s=2, prefix=redis_prefix())
    await state.put("short", "x", 5)
    await state.increment("count", 7)
    await state.increment("count", 7)
    assert 0 < await state._redis.ttl(state._prefix + "short") <= 5
    assert 0 < await state._redis.ttl(state._prefix + "count") <= 7
    await state.close()


async def test_redis_down_is_a_typed_error() -> None:
    store = RedisState("redis://127.0.0.1:1/0", timeout_s=0.5)
    with pytest.raises(SharedStateUnavailable):
        await store.add_if_new("x", 60)
    await store.close()
