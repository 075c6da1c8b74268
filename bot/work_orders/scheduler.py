"""The work-order scheduler: escalate overdue orders (督办), ask for 回访 after closing, close quiet hotspots,
and remove personal data whose retention period is over (``bot.privacy.retention``).

``run_once`` is safe to run as often as wanted (``python -m bot orders tick`` from cron, or a loop):
an order is escalated once per deadline (again only after an extension that also passed), a
回访 question is sent once per closing, and running twice in a row does nothing new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from bot.core.db import Database
from bot.core.models import WorkOrder
from bot.core.settings import Settings, get_settings
from bot.privacy.retention import RetentionReport, run_retention
from bot.work_orders import notifications
from bot.work_orders.hotspots import close_quiet
from bot.work_orders.lifecycle import (
    CLOSED,
    ESCALATED,
    OPEN_STATES,
    SYSTEM,
    InvalidTransition,
    escalate,
    record_event,
)

logger = logging.getLogger(__name__)

OVERDUE_REASON = "超过办理时限"


@dataclass(frozen=True)
class TickReport:
    """What one run of the scheduler did."""

    escalated: tuple[str, ...]
    follow_ups: tuple[str, ...]
    unreachable: tuple[str, ...]
    hotspots_closed: int
    retention: RetentionReport = field(default_factory=RetentionReport)

    def summary(self) -> str:
        """One line in Chinese, e.g. 督办3件，回访提醒2件."""
        line = f"督办{len(self.escalated)}件，回访提醒{len(self.follow_ups)}件"
        if self.unreachable:
            line += f"，无法回访（匿名或无联系方式）{len(self.unreachable)}件"
        if self.hotspots_closed:
            line += f"，热点解除{self.hotspots_closed}个"
        if self.retention != RetentionReport():
            line += f"；个人信息到期清理：{self.retention.summary()}"
        return line


async def _overdue(database: Database, now: datetime) -> list[str]:
    async with database.session() as session:
        numbers = await session.scalars(
            select(WorkOrder.number)
            .where(
                WorkOrder.status.in_(OPEN_STATES - {ESCALATED}),
                WorkOrder.due_at < now,
                WorkOrder.duplicate_of.is_(None),
                or_(WorkOrder.escalated_at.is_(None), WorkOrder.escalated_at < WorkOrder.due_at),
            )
            .order_by(WorkOrder.due_at, WorkOrder.number)
        )
        return list(numbers)


async def escalate_overdue(database: Database, now: datetime) -> list[str]:
    """Escalate every open order whose deadline passed and that was not escalated for that deadline."""
    escalated = []
    for number in await _overdue(database, now):
        try:
            await escalate(database, number, SYSTEM, OVERDUE_REASON, now)
        except InvalidTransition:  # closed or escalated by someone else meanwhile
            continue
        escalated.append(number)
    if escalated:
        logger.info("scheduler: %d overdue orders escalated", len(escalated))
    return escalated


async def request_follow_ups(database: Database, now: datetime, after_hours: int) -> tuple[list[str], list[str]]:
    """Ask the citizens of orders closed ``after_hours`` ago for 回访; returns (asked, unreachable) numbers."""
    asked: list[str] = []
    unreachable: list[str] = []
    async with database.session() as session:
        orders = await session.scalars(
            select(WorkOrder)
            .where(
                WorkOrder.status == CLOSED,
                WorkOrder.closed_at <= now - timedelta(hours=after_hours),
                WorkOrder.follow_up_requested_at.is_(None),
            )
            .order_by(WorkOrder.closed_at, WorkOrder.number)
            .with_for_update()
        )
        for order in orders:
            order.follow_up_requested_at = now
            if notifications.queue_one(
                session, order, notifications.follow_up_text(order.number), now, notifications.FOLLOW_UP
            ):
                record_event(session, order, action="follow_up_request", actor=SYSTEM, now=now, reason="已发送回访提醒")
                asked.append(order.number)
            else:
                reason = f"{notifications.unreachable_reason(order)}，未发送回访提醒"
                record_event(session, order, action="follow_up_request", actor=SYSTEM, now=now, reason=reason)
                unreachable.append(order.number)
    return asked, unreachable


async def run_once(
    database: Database, now: datetime, *, settings: Settings | None = None, trackers: Database | None = None
) -> TickReport:
    """Escalate overdue orders, send due 回访 questions, close quiet hotspots, run the retention job.

    ``trackers``: the tracker store's database, whose old conversation events retention deletes (None: not those).
    """
    settings = settings or get_settings()
    escalated = await escalate_overdue(database, now)
    asked, unreachable = await request_follow_ups(database, now, settings.follow_up_after_hours)
    async with database.session() as session:
        hotspots_closed = await close_quiet(session, now, settings.hotspot_window_hours)
    retention = await run_retention(database, now, settings, trackers)
    return TickReport(tuple(escalated), tuple(asked), tuple(unreachable), hotspots_closed, retention)
