"""Ratings of conversations the bot handled alone, on SQLite and PostgreSQL: stored, the reason masked, counted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core.clock import china
from bot.core.db import Database
from bot.core.models import BotRating
from bot.ratings.records import add_reason, bot_rating_counts, record_bot_rating

NOW = china(2026, 12, 5, 10, 0)


async def test_a_rating_is_stored_with_its_channel_and_time_and_nothing_else(database: Database) -> None:
    rating_id = await record_bot_rating(database, "telegram", "满意", NOW)
    async with database.session() as session:
        row = (await session.scalars(select(BotRating).where(BotRating.id == rating_id))).one()
    assert (row.channel, row.rating, row.rated_at, row.reason) == ("telegram", "满意", NOW, None)
    with pytest.raises(ValueError):
        await record_bot_rating(database, "webchat", "还行", NOW)


async def test_the_reason_of_a_low_rating_is_kept_masked(database: Database) -> None:
    rating_id = await record_bot_rating(database, "webchat", "不满意", NOW)
    said = "材料说得不清楚，我电话13812345678，身份证110105199001011234"
    assert await add_reason(database, rating_id, said)
    async with database.session() as session:
        row = (await session.scalars(select(BotRating).where(BotRating.id == rating_id))).one()
    assert row.reason == "材料说得不清楚，我电话138****5678，身份证110105********1234"
    assert not await add_reason(database, rating_id, "再说一次")  # the first reason stays
    assert not await add_reason(database, rating_id + 1, "没有这条评价")


async def test_ratings_of_the_last_day_are_counted_on_the_scale(database: Database) -> None:
    for rating, hours_ago in (("满意", 1), ("满意", 2), ("不满意", 3), ("基本满意", 30)):
        await record_bot_rating(database, "sms", rating, NOW - timedelta(hours=hours_ago))
    counts = await bot_rating_counts(database, NOW - timedelta(days=1))
    assert counts == {"满意": 2, "基本满意": 0, "不满意": 1}
