"""Hotspots (舆情): many similar orders (same second-level category, same district) in a short time.

When an order makes the count of similar orders filed within the window reach the threshold, an
open hotspot is raised; later similar orders add to its count. The scheduler closes a hotspot
once a whole window has passed without a new similar order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.db import Database
from bot.core.models import Hotspot, WorkOrder

OPEN = "open"
CLOSED = "closed"


@dataclass(frozen=True)
class HotspotView:
    """A hotspot as the supervisor dashboard shows it."""

    id: int
    category: tuple[str, str]
    district: str
    count: int
    first_at: datetime
    last_at: datetime
    is_open: bool


def _view(row: Hotspot) -> HotspotView:
    return HotspotView(
        id=row.id,
        category=(row.category_l1, row.category_l2),
        district=row.district,
        count=row.count,
        first_at=row.first_at,
        last_at=row.last_at,
        is_open=row.status == OPEN,
    )


async def note_order(
    session: AsyncSession, order: WorkOrder, now: datetime, window_hours: int, min_orders: int
) -> Hotspot | None:
    """Count a newly filed (and flushed) order towards a hotspot; returns the hotspot it is part of, if any."""
    if not order.category_l1 or not order.category_l2 or not order.district:
        return None
    open_spot = await session.scalar(
        select(Hotspot).where(
            Hotspot.status == OPEN,
            Hotspot.category_l2 == order.category_l2,
            Hotspot.category_l1 == order.category_l1,
            Hotspot.district == order.district,
        )
    )
    if open_spot is not None:
        open_spot.count += 1
        open_spot.last_at = now
        return open_spot
    similar = (
        select(WorkOrder.created_at)
        .where(
            WorkOrder.category_l1 == order.category_l1,
            WorkOrder.category_l2 == order.category_l2,
            WorkOrder.district == order.district,
            WorkOrder.created_at > now - timedelta(hours=window_hours),
            WorkOrder.created_at <= now,
        )
        .subquery()
    )
    count, first_at = (await session.execute(select(func.count(), func.min(similar.c.created_at)))).one()
    if count < min_orders:
        return None
    spot = Hotspot(
        category_l1=order.category_l1,
        category_l2=order.category_l2,
        district=order.district,
        count=count,
        first_at=first_at,
        last_at=now,
        status=OPEN,
    )
    session.add(spot)
    return spot


async def close_quiet(session: AsyncSession, now: datetime, window_hours: int) -> int:
    """Close the hotspots without a new similar order for a whole window; returns how many."""
    quiet = await session.scalars(
        select(Hotspot).where(Hotspot.status == OPEN, Hotspot.last_at <= now - timedelta(hours=window_hours))
    )
    closed = 0
    for spot in quiet:
        spot.status = CLOSED
        spot.closed_at = now
        closed += 1
    return closed


async def open_hotspots(database: Database) -> list[HotspotView]:
    """The open hotspots, largest first."""
    async with database.session() as session:
        rows = await session.scalars(
            select(Hotspot).where(Hotspot.status == OPEN).order_by(Hotspot.count.desc(), Hotspot.id)
        )
        return [_view(row) for row in rows]


async def all_hotspots(database: Database, since: datetime) -> list[HotspotView]:
    """Hotspots raised or still active since ``since``, most recent first."""
    async with database.session() as session:
        rows = await session.scalars(
            select(Hotspot).where(Hotspot.last_at >= since).order_by(Hotspot.last_at.desc(), Hotspot.id.desc())
        )
        return [_view(row) for row in rows]
