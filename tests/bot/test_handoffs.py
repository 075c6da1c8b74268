"""Handoff records on SQLite and PostgreSQL: states, notes, ratings, phrases, statistics; and the word lists."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.clock import china
from bot.core.db import Database
from bot.handoff import records as handoffs
from bot.handoff.agents import add_agent
from bot.handoff.records import HandoffConflict, HandoffNotFound, PhraseNotFound

NOW = china(2026, 11, 28, 10, 0)
PASSWORD = "correct horse battery"


async def two_agents(database: Database) -> tuple[int, int]:
    wang = await add_agent(database, "wang", "王芳", "agent", PASSWORD, NOW)
    li = await add_agent(database, "li", "李华", "agent", PASSWORD, NOW)
    return wang.id, li.id


async def opened(database: Database, conversation: str = "web-1", reason: str = "requested") -> handoffs.HandoffView:
    handoff, created = await handoffs.open_handoff(database, conversation, "webchat", None, reason, {"line": "x"}, NOW)
    assert created
    return handoff


async def test_a_conversation_has_at_most_one_active_handoff(database: Database) -> None:
    first = await opened(database)
    again, created = await handoffs.open_handoff(database, "web-1", "webchat", None, "requested", {}, NOW)
    assert (again.id, created) == (first.id, False)
    assert (await handoffs.active_handoff(database, "web-1")).id == first.id  # type: ignore[union-attr]
    assert await handoffs.active_handoff(database, "web-2") is None


async def test_emergencies_and_distress_get_priority(database: Database) -> None:
    assert (await opened(database, "web-a", "emergency")).priority == 2
    assert (await opened(database, "web-b", "distress")).priority == 2
    assert (await opened(database, "web-c", "backend_down")).priority == 1
    assert (await opened(database, "web-d", "bogus")).reason == "requested"


async def test_the_life_of_a_handoff_is_recorded(database: Database) -> None:
    wang, li = await two_agents(database)
    handoff = await opened(database)
    await handoffs.assign(database, handoff.id, wang, NOW + timedelta(seconds=30))
    with pytest.raises(HandoffConflict):
        await handoffs.assign(database, handoff.id, li, NOW + timedelta(seconds=31))
    with pytest.raises(HandoffConflict):
        await handoffs.cancel(database, handoff.id, NOW)
    await handoffs.transfer(database, handoff.id, wang, li, NOW + timedelta(minutes=1))
    assert (await handoffs.get_handoff(database, handoff.id)).agent_name == "李华"
    await handoffs.record_audit(
        database, handoff.id, li, "revealed", {"reason": "核实身份"}, NOW + timedelta(minutes=2)
    )
    await handoffs.close(database, handoff.id, li, NOW + timedelta(minutes=5))
    closed = await handoffs.get_handoff(database, handoff.id)
    assert (closed.status, closed.is_active) == ("closed", False)
    trail = await handoffs.audit_trail(database, handoff.id)
    assert [row[0] for row in trail] == ["opened", "taken", "transferred", "revealed", "closed"]
    assert trail[3][2] == {"reason": "核实身份"} and trail[3][1] == li
    with pytest.raises(HandoffNotFound):
        await handoffs.close(database, 999, li, NOW)


async def test_a_rating_is_kept_once_and_only_for_a_closed_handoff(database: Database) -> None:
    wang, _ = await two_agents(database)
    handoff = await opened(database)
    assert not await handoffs.record_rating(database, handoff.id, "满意", NOW)  # still waiting
    await handoffs.assign(database, handoff.id, wang, NOW)
    await handoffs.close(database, handoff.id, wang, NOW + timedelta(minutes=4))
    assert await handoffs.record_rating(database, handoff.id, "基本满意", NOW + timedelta(minutes=5))
    assert not await handoffs.record_rating(database, handoff.id, "不满意", NOW + timedelta(minutes=6))
    assert (await handoffs.get_handoff(database, handoff.id)).rating == "基本满意"
    with pytest.raises(ValueError):
        await handoffs.record_rating(database, handoff.id, "还行", NOW)


async def test_a_long_wait_becomes_a_callback(database: Database) -> None:
    handoff = await opened(database)
    await handoffs.to_callback(database, handoff.id, "WO2026112800001", NOW + timedelta(minutes=5))
    done = await handoffs.get_handoff(database, handoff.id)
    assert (done.status, done.callback_order) == ("callback", "WO2026112800001")
    assert await handoffs.active_handoff(database, "web-1") is None


async def test_notes_belong_to_the_handoff(database: Database) -> None:
    wang, _ = await two_agents(database)
    handoff = await opened(database)
    await handoffs.add_note(database, handoff.id, wang, "  市民很着急  ", NOW)
    with pytest.raises(ValueError):
        await handoffs.add_note(database, handoff.id, wang, "   ", NOW)
    with pytest.raises(ValueError):
        await handoffs.add_note(database, handoff.id, wang, "长" * (handoffs.MAX_NOTE_CHARS + 1), NOW)
    assert [(n.text, n.agent_name) for n in await handoffs.notes(database, handoff.id)] == [("市民很着急", "王芳")]


async def test_agents_change_only_their_own_phrases(database: Database) -> None:
    wang, li = await two_agents(database)
    await handoffs.ensure_default_phrases(database, NOW)
    await handoffs.ensure_default_phrases(database, NOW)  # not twice
    own = await handoffs.add_phrase(database, wang, "地址", "请告诉我具体地址。", NOW)
    listed = await handoffs.list_phrases(database, wang)
    assert len([p for p in listed if p.shared]) == len(handoffs.DEFAULT_PHRASES)
    assert listed[-1] == own
    assert own not in await handoffs.list_phrases(database, li)
    with pytest.raises(PhraseNotFound):
        await handoffs.update_phrase(database, li, own.id, "改", "改了")
    with pytest.raises(PhraseNotFound):
        await handoffs.delete_phrase(database, li, listed[0].id)  # a shared phrase is nobody's to delete
    changed = await handoffs.update_phrase(database, wang, own.id, "地址", "请问具体在哪条路、哪个小区？")
    assert changed.text == "请问具体在哪条路、哪个小区？"
    with pytest.raises(ValueError):
        await handoffs.add_phrase(database, wang, "", "x", NOW)
    await handoffs.delete_phrase(database, wang, own.id)
    assert own.id not in [p.id for p in await handoffs.list_phrases(database, wang)]


async def test_the_supervisor_numbers(database: Database) -> None:
    wang, _ = await two_agents(database)
    for n, rating in enumerate(["满意", "满意", "不满意"]):
        handoff = await opened(database, f"web-{n}")
        await handoffs.assign(database, handoff.id, wang, NOW + timedelta(seconds=60 * (n + 1)))
        await handoffs.close(database, handoff.id, wang, NOW + timedelta(minutes=10))
        await handoffs.record_rating(database, handoff.id, rating, NOW + timedelta(minutes=11))
    await opened(database, "web-waiting")
    stats = await handoffs.handoff_stats(database, NOW + timedelta(minutes=30))
    assert stats.satisfaction == {"满意": 2, "基本满意": 0, "不满意": 1}
    assert stats.average_wait_s == 120.0  # 60, 120 and 180 seconds
    assert stats.closed_today == 3
    assert dict(stats.per_hour)[NOW] == 4 and len(stats.per_hour) == 12
    assert [hour.hour for hour, _ in stats.per_hour][-1] == 10  # China hours (NOW is 10:00 in China)
    assert all(hour.utcoffset() == timedelta(hours=8) for hour, _ in stats.per_hour)
    assert await handoffs.average_handling_s(database) == pytest.approx((540 + 480 + 420) / 3)


@pytest.mark.parametrize("text", ["算了", "不用了", "算了吧", "取消", "不等了！"])
def test_giving_up_words(text: str) -> None:
    assert handoffs.is_cancel(text)


@pytest.mark.parametrize("text", ["算了，我还是想问一下护照", "不用了解", "转人工"])
def test_other_words_do_not_give_up(text: str) -> None:
    assert not handoffs.is_cancel(text)
