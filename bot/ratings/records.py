"""The bot's ratings as the project database keeps them: the channel, the time, the rating, a masked reason."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from bot.core.db import Database
from bot.core.models import BotRating
from bot.core.personal_data import mask_text
from bot.core.scales import RATINGS

MAX_REASON = 1000


async def record_bot_rating(database: Database, channel: str, rating: str, now: datetime) -> int:
    """Store the citizen's rating of a conversation the bot handled; its id (for the reason that may follow)."""
    if rating not in RATINGS:
        raise ValueError(f"unknown rating {rating!r}")
    async with database.session() as session:
        row = BotRating(channel=channel[:32], rating=rating, rated_at=now)
        session.add(row)
        await session.commit()
        return int(row.id)


async def add_reason(database: Database, rating_id: int, reason: str) -> bool:
    """Keep what the citizen said was wrong, numbers masked; False when it has a reason already or is unknown."""
    async with database.session() as session:
        result = await session.execute(
            update(BotRating)
            .where(BotRating.id == rating_id, BotRating.reason.is_(None))
            .values(reason=mask_text(reason.strip())[:MAX_REASON])
        )
        await session.commit()
        return bool(result.rowcount)


async def bot_rating_counts(database: Database, since: datetime) -> dict[str, int]:
    """How many of each rating (on the scale, in its order) were given since ``since``."""
    async with database.session() as session:
        rows = (
            await session.execute(
                select(BotRating.rating, func.count()).where(BotRating.rated_at >= since).group_by(BotRating.rating)
            )
        ).all()
    counts = {rating: 0 for rating in RATINGS}
    counts.update({str(rating): int(count) for rating, count in rows if rating in counts})
    return counts
