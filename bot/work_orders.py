"""Work orders (工单): filing one with a number, and finding a citizen's orders."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.models import Citizen, WorkOrder, WorkOrderCounter
from bot.numerals import digit_runs, to_digits
from bot.ownership import LockRule, Verdict, Verification, judge, tail_matches
from bot.personal_data import digest

# Kinds of order the hotline files; issue-specific kinds are added by their features.
CALLBACK = "回电"
SUPERVISION = "督办"
COMPLAINT = "投诉"
REPORT = "举报"
HELP = "求助"
SUGGESTION = "建议"
# The department of an order nobody has assigned yet.
UNASSIGNED = "待分派"
# States in which an order is no longer followed up.
CLOSED_STATUSES = frozenset({"已办结", "已撤销"})
ORDER_NUMBER_DIGITS = 13
# "WO2026112800001", also "wo 2026 1128 00001" (after spoken digits became Arabic ones).
_ORDER_NUMBER = re.compile(r"(?<![A-Za-z])[Ww]\s*[Oo]\s*((?:\d[\s\-]*){12}\d)(?![\d])")


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


async def _next_serial(session: AsyncSession, day: str, prefix: str) -> int:
    """The day's next serial; the counter's row stays locked until the order is stored."""
    bumped = await session.execute(
        update(WorkOrderCounter).where(WorkOrderCounter.day == day).values(last=WorkOrderCounter.last + 1)
    )
    if bumped.rowcount == 0:  # the day's first order (or orders stored before the counter existed)
        last = await session.scalar(select(func.max(WorkOrder.number)).where(WorkOrder.number.like(prefix + "%")))
        session.add(WorkOrderCounter(day=day, last=int(last[len(prefix) :]) + 1 if last else 1))
        await session.flush()
    return int(await session.scalar(select(WorkOrderCounter.last).where(WorkOrderCounter.day == day)) or 0)


async def file_order(database: Database, order: NewOrder, now: datetime) -> str:
    """Store a new order in state 已受理; returns its number ``WO<yyyymmdd><5-digit serial>``."""
    day = now.strftime("%Y%m%d")
    prefix = "WO" + day
    for attempt in range(2):
        try:
            async with database.session() as session:
                number = f"{prefix}{await _next_serial(session, day, prefix):05d}"
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
        except IntegrityError:  # two first orders of the day created the counter at once
            if attempt:
                raise
    raise AssertionError("unreachable")


class InvalidOrderNumber(ValueError):
    """Text that holds no well-formed work-order number."""


def find_order_number(text: str) -> str | None:
    """The ``WO`` number written in ``text`` (any case, spaces, spoken digits), or None."""
    match = _ORDER_NUMBER.search(to_digits(text))
    return None if match is None else "WO" + re.sub(r"[\s\-]", "", match.group(1))


def parse_order_number(text: str) -> str:
    """The work-order number in ``text``, with or without its ``WO``, or ``InvalidOrderNumber``."""
    number = find_order_number(text)
    if number is None:
        exact = [run for run in digit_runs(text, min_length=ORDER_NUMBER_DIGITS) if len(run) == ORDER_NUMBER_DIGITS]
        if not exact:
            raise InvalidOrderNumber("工单号是WO加13位数字，前8位是登记日期，例如WO2026112800001")
        number = "WO" + exact[0]
    try:
        datetime.strptime(number[2:10], "%Y%m%d")
    except ValueError as error:
        raise InvalidOrderNumber("工单号WO后面的8位应是登记日期，请核对后再说一遍") from error
    return number


@dataclass(frozen=True)
class OrderView:
    """What may be told to the citizen who filed an order."""

    number: str
    kind: str
    department: str
    summary: str
    status: str
    created_at: datetime
    citizen_id: int | None

    @property
    def is_open(self) -> bool:
        """Whether the order is still being handled."""
        return self.status not in CLOSED_STATUSES


def _order_view(order: WorkOrder) -> OrderView:
    return OrderView(
        number=order.number,
        kind=order.kind,
        department=order.department,
        summary=order.summary,
        status=order.status,
        created_at=order.created_at,
        citizen_id=order.citizen_id,
    )


async def find_order(database: Database, number: str) -> OrderView | None:
    """The order with this number, or None."""
    async with database.session() as session:
        order = await session.get(WorkOrder, number)
        return None if order is None else _order_view(order)


async def orders_of_citizen(database: Database, citizen_id: int, limit: int = 5) -> list[OrderView]:
    """A citizen's open orders, most recent first."""
    async with database.session() as session:
        orders = await session.scalars(
            select(WorkOrder)
            .where(WorkOrder.citizen_id == citizen_id, WorkOrder.status.not_in(CLOSED_STATUSES))
            .order_by(WorkOrder.created_at.desc(), WorkOrder.number.desc())
            .limit(limit)
        )
        return [_order_view(order) for order in orders]


async def verify_order_owner(
    database: Database,
    number: str,
    answer: str,
    *,
    key: str,
    now: datetime,
    max_failures: int,
    lock_minutes: int,
) -> Verification:
    """Check the last four digits of the phone of the citizen who filed the order.

    Wrong answers count against the order number in the same lock table as cases (order and case
    numbers never collide), with the same rule. An order filed without a verified citizen is
    NOT_FOUND: there is nothing to check against.
    """
    async with database.session() as session:
        citizen = await session.scalar(
            select(Citizen).join(WorkOrder, WorkOrder.citizen_id == Citizen.id).where(WorkOrder.number == number)
        )
        if citizen is None:
            return Verification(Verdict.NOT_FOUND)
        matched = tail_matches(number, answer, digest(number + citizen.phone[-4:], key), key)
        return await judge(session, number, matched, now, LockRule(max_failures, lock_minutes))
