"""The supervisor view's numbers: the handoffs' satisfaction and, apart, the bot's own conversations' ratings."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from bot.core import clock
from bot.core.db import Database
from bot.handoff import records as handoffs
from bot.handoff.agents import add_agent
from bot.ratings.records import record_bot_rating
from console.agent_console import supervisor_stats


async def test_the_bots_ratings_are_counted_apart_from_the_handoffs(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clock.now()
    monkeypatch.setattr(clock, "now", lambda: now)
    agent = await add_agent(database, "wang", "王芳", "agent", "correct horse battery", now)
    handoff, _ = await handoffs.open_handoff(database, "web-1", "webchat", None, "requested", {}, now)
    await handoffs.assign(database, handoff.id, agent.id, now)
    await handoffs.close(database, handoff.id, agent.id, now)
    await handoffs.record_rating(database, handoff.id, "满意", now)
    for rating in ("满意", "基本满意", "不满意", "不满意"):
        await record_bot_rating(database, "sms", rating, now - timedelta(minutes=5))
    await record_bot_rating(database, "sms", "满意", now - timedelta(days=2))  # not of the last day
    desk: Any = SimpleNamespace(runtime=SimpleNamespace(database=database))
    stats = await supervisor_stats(desk)
    assert (stats["satisfaction"], stats["rated"]) == ({"满意": 1, "基本满意": 0, "不满意": 0}, 1)
    assert (stats["bot_satisfaction"], stats["bot_rated"]) == ({"满意": 1, "基本满意": 1, "不满意": 2}, 4)
