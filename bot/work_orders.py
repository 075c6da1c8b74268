"""Work orders (工单): filing one with a number, and finding a citizen's orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from bot.db import Database
from bot.models import WorkOrder

# Kinds of order the hotline files; issue-specific kinds are added by their features.
CALLBACK = "回电"
SUPERVISION = "督办"


@dataclass(frozen=True)
class NewOrder:
    """What the hotline knows when it files an order."""

    kind: str
    department: str
    summary: str
    sender_id: str
    channel: str = ""
    citizen_id: int | None = None
    case_number: str | None = None


async def file_order(database: Database, order: NewOrder, now: datetime) -> str:
    """Store a new order in state 已受理; returns its number ``WO<yyyymmdd><5-digit serial>``."""
    prefix = "WO" + now.strftime("%Y%m%d")
    async with database.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(WorkOrder).where(WorkOrder.number.like(prefix + "%"))
        )
        number = f"{prefix}{(count or 0) + 1:05d}"
        session.add(
            WorkOrder(
                number=number,
                kind=order.kind,
                department=order.department,
                summary=order.summary,
                case_number=order.case_number,
                sender_id=order.sender_id,
                channel=order.channel,
                citizen_id=order.citizen_id,
                status="已受理",
                created_at=now,
            )
        )
    return number
