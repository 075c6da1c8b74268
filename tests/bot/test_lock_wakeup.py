"""Conversation locks hand over at once when released (in-process, and across instances on Redis), not per second."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
import redis

from bot.rasa.stores import SettingsLockStore, _RedisReleases

REDIS_URL = "redis://127.0.0.1:6379/5"


def _stores(monkeypatch: pytest.MonkeyPatch, kind: str) -> tuple[SettingsLockStore, SettingsLockStore]:
    """Two lock stores: one process's (twice the same) without Redis, two instances' on Redis."""
    if kind == "memory":
        monkeypatch.delenv("REDIS_URL", raising=False)
        store = SettingsLockStore()
        return store, store
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    return SettingsLockStore(), SettingsLockStore()


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_twenty_turns_of_one_conversation_follow_each_other_in_order_without_polling(
    monkeypatch: pytest.MonkeyPatch, clean_settings: None, kind: str
) -> None:
    first, second = _stores(monkeypatch, kind)
    conversation = f"citizen-{uuid.uuid4().hex[:6]}"
    order: list[int] = []
    holding = 0

    async def turn(n: int) -> None:
        nonlocal holding
        async with (first if n % 2 else second).lock(conversation):
            holding += 1
            assert holding == 1  # never two turns of the conversation at once
            order.append(n)
            await asyncio.sleep(0.01)  # the turn's own work
            holding -= 1

    started = time.monotonic()
    try:
        turns = []
        for n in range(20):  # each one takes its ticket (its first step) before the next starts
            turns.append(asyncio.ensure_future(turn(n)))
            await asyncio.sleep(0)
        await asyncio.gather(*turns)
    finally:
        if kind == "redis":
            redis.Redis.from_url(REDIS_URL, socket_timeout=2).delete(f"hotline:lock:{conversation}")
    elapsed = time.monotonic() - started
    assert order == list(range(20))
    assert elapsed < 2.0, elapsed  # Rasa's polling took about one second per waiting turn


async def test_a_waiter_on_another_instance_is_woken_when_the_lock_is_released(
    monkeypatch: pytest.MonkeyPatch, clean_settings: None
) -> None:
    holder, waiter = _stores(monkeypatch, "redis")
    conversation = f"citizen-{uuid.uuid4().hex[:6]}"
    released_at: list[float] = []
    acquired_at: list[float] = []
    held = asyncio.Event()

    async def hold() -> None:
        async with holder.lock(conversation):
            held.set()
            await asyncio.sleep(0.3)
            released_at.append(time.monotonic())

    async def wait() -> None:
        await held.wait()
        async with waiter.lock(conversation):
            acquired_at.append(time.monotonic())

    try:
        await asyncio.gather(hold(), wait())
    finally:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).delete(f"hotline:lock:{conversation}")
    assert acquired_at[0] - released_at[0] < 0.2, acquired_at[0] - released_at[0]


async def test_with_redis_not_carrying_releases_a_waiter_falls_back_to_polling_and_a_release_is_not_an_error() -> None:
    releases = _RedisReleases("redis://127.0.0.1:1/0", "test:", timeout_s=0.5)
    listener = await releases.listen("citizen-x")
    started = time.monotonic()
    await listener.wait(0.2)  # Rasa's own polling, bounded by what the caller allows
    assert 0.15 <= time.monotonic() - started < 1.0
    await listener.close()
    await releases.announce("citizen-x")  # logged, not raised: waiters elsewhere still pass at the ticket's expiry


async def test_a_turn_on_redis_is_two_round_trips_and_instances_issuing_at_once_never_share_a_ticket(
    monkeypatch: pytest.MonkeyPatch, clean_settings: None
) -> None:
    """Rasa's RedisLockStore made seven round trips a turn, reading and writing the lock apart (a race between
    instances: two could be issued the same ticket and run one conversation's turns at once)."""
    first, second = _stores(monkeypatch, "redis")
    conversation = f"citizen-{uuid.uuid4().hex[:6]}"
    calls: list[str] = []
    client = first.store.red  # type: ignore[attr-defined]
    counted = client.execute_command

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(str(args[0]))
        return counted(*args, **kwargs)

    monkeypatch.setattr(client, "execute_command", counting)
    async with first.lock(conversation):
        pass
    assert calls == ["EVALSHA", "EVALSHA"], calls

    assert first.tickets is not None and second.tickets is not None
    tickets = (first.tickets, second.tickets)
    issued: list[int] = []

    def issue(n: int) -> None:  # eight threads stand for instances taking tickets at the same moment
        for _ in range(25):
            issued.append(tickets[n % 2].take(conversation, -1, 20.0)[0])

    try:
        threads = [threading.Thread(target=issue, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).delete(f"hotline:lock:{conversation}")
    assert sorted(issued) == list(range(200))


async def test_a_lock_left_in_redis_is_removed_by_redis_soon_after_its_tickets_expire(
    monkeypatch: pytest.MonkeyPatch, clean_settings: None
) -> None:
    """A conversation whose instance died mid-turn leaves no key behind for ever."""
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    store = SettingsLockStore(lifetime_s=3.0)
    assert store.tickets is not None
    conversation = f"citizen-{uuid.uuid4().hex[:6]}"
    ticket, serving, left_s = store.tickets.take(conversation, -1, 3.0)  # then the instance dies
    time_to_live_ms = redis.Redis.from_url(REDIS_URL, socket_timeout=2).pttl(f"hotline:lock:{conversation}")
    assert (ticket, serving) == (0, True)
    assert 2.5 <= left_s <= 3.0
    assert 3000 < time_to_live_ms <= 4000
    assert store.get_lock(conversation) is not None  # Rasa's own reading of the lock still understands it


async def test_with_redis_away_a_turn_fails_with_redis_s_error_at_once(
    monkeypatch: pytest.MonkeyPatch, clean_settings: None
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("OUTSIDE_CALL_TIMEOUT_S", "0.5")
    store = SettingsLockStore()
    started = time.monotonic()
    with pytest.raises(redis.exceptions.ConnectionError):
        async with store.lock("citizen-away"):
            pass
    assert time.monotonic() - started < 2.0
