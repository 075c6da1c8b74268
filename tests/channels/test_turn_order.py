"""One conversation's messages take their turns in arrival order, one at a time; other conversations are not held."""

from __future__ import annotations

import asyncio

import pytest

from channels.turn_order import TurnLine


async def _burst(line: TurnLine, conversation: str, count: int, log: list[str], started: asyncio.Event) -> None:
    """``count`` messages arriving at once; each turn notes its start and end, yielding in between."""

    async def turn(n: int) -> None:
        async with line.join(conversation):
            log.append(f"{conversation}{n}+")
            started.set()
            await asyncio.sleep(0)  # let every other task run: a second turn would start here if it could
            log.append(f"{conversation}{n}-")

    await asyncio.gather(*(turn(n) for n in range(count)))


async def test_a_burst_is_taken_in_arrival_order_one_turn_at_a_time() -> None:
    line, log = TurnLine(), []
    await _burst(line, "a", 20, log, asyncio.Event())
    assert log == [f"a{n}{sign}" for n in range(20) for sign in "+-"]
    assert not line.waiting("a")  # nothing is kept once the line is empty


async def test_other_conversations_are_not_held_by_a_burst() -> None:
    line = TurnLine()
    blocker = line.join("a")
    await blocker.__aenter__()
    waiting = asyncio.ensure_future(_burst(line, "a", 3, [], asyncio.Event()))
    other_log: list[str] = []
    await _burst(line, "b", 2, other_log, asyncio.Event())  # done while "a" is still held
    assert other_log == ["b0+", "b0-", "b1+", "b1-"]
    assert not waiting.done()
    await blocker.__aexit__(None, None, None)
    await waiting


async def test_a_cancelled_waiter_gives_up_its_place_without_letting_the_next_overtake() -> None:
    line, order = TurnLine(), []
    first = line.join("a")
    await first.__aenter__()
    second, third = line.join("a"), line.join("a")

    async def take(place_name: str, place: object) -> None:
        async with place:  # type: ignore[attr-defined]
            order.append(place_name)

    cancelled = asyncio.ensure_future(take("second", second))
    following = asyncio.ensure_future(take("third", third))
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    await asyncio.sleep(0)
    assert order == []  # the first still holds the conversation
    await first.__aexit__(None, None, None)
    await following
    assert order == ["third"]
    assert not line.waiting("a")


async def test_a_place_held_by_the_connector_and_entered_again_by_the_turn_is_left_once() -> None:
    line, order = TurnLine(), []
    outer = line.join("a")
    follower = line.join("a")
    async with outer:
        async with outer:  # run_turn inside the connector's own ``async with``
            order.append("turn")
        assert line.waiting("a")
        order.append("after the turn, still the connector's")

    async with follower:
        order.append("next")
    assert order == ["turn", "after the turn, still the connector's", "next"]


async def test_a_place_never_entered_is_left_in_order() -> None:
    line, order = TurnLine(), []
    first, unused, last = line.join("a"), line.join("a"), line.join("a")
    unused.leave()  # the connector failed before the turn
    waiting = asyncio.ensure_future(_enter_and_note(last, order, "last"))
    await asyncio.sleep(0)
    assert order == []
    async with first:
        order.append("first")
    await waiting
    assert order == ["first", "last"]


async def _enter_and_note(place: object, order: list[str], name: str) -> None:
    async with place:  # type: ignore[attr-defined]
        order.append(name)
