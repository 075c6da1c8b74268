"""The work-order lifecycle: dispatch, accept, progress, close, return, extend, escalate, follow-up (回访).

Every transition checks the order's state against ``TRANSITIONS``, checks that the acting
department owns the order, and records an audit row (who, when, from, to, why) in the same
transaction as the change; citizen-visible changes also write an outbox notification
(bot/work_orders/notifications.py). Checks come in this order: an unknown number is ``OrderNotFound``, an
order of another department ``NotYourOrder`` (so that a department learns nothing about it), and
only then a state that does not allow the step ``InvalidTransition``.

The dispatcher queue (待分派) is every order without a department in 已受理, 退单 or 督办. An order
merged into another as its duplicate is not worked on by itself: it follows the original (its
citizen is told what the original's citizen is told, and it is closed with the original's reply).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import in_china
from bot.core.db import Database
from bot.core.models import WorkOrder, WorkOrderEvent, WorkOrderNote
from bot.core.scales import RATINGS
from bot.work_orders import notifications
from bot.work_orders.deadlines import due_at

logger = logging.getLogger(__name__)

# States (stored as these Chinese words).
ACCEPTED = "已受理"  # filed; with no department it waits in the dispatcher queue (待分派)
DISPATCHED = "已派单"
IN_PROGRESS = "办理中"
CLOSED = "已办结"
FOLLOWED_UP = "已回访"
RETURNED = "退单"  # returned by a department with a reason; back in the dispatcher queue
EXTENDED = "延期"
ESCALATED = "督办"  # the deadline passed; still being worked on by its department
STATES = (ACCEPTED, DISPATCHED, IN_PROGRESS, CLOSED, FOLLOWED_UP, RETURNED, EXTENDED, ESCALATED)
OPEN_STATES = frozenset({ACCEPTED, DISPATCHED, IN_PROGRESS, RETURNED, EXTENDED, ESCALATED})
QUEUE_STATES = frozenset({ACCEPTED, RETURNED, ESCALATED})
UNSATISFIED = "不满意"
SYSTEM = "system"
CITIZEN = "citizen"

# Actions: the states they may start from, and the state they lead to (None: unchanged).
# Besides the state: dispatch needs an order in the queue (no department); accept needs an order
# not yet accepted; progress, close and extend need one already accepted (so from 督办 each is
# allowed only if the order's history allows it). Only one extension: 延期 cannot be extended.
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "file": (frozenset(), ACCEPTED),
    "dispatch": (frozenset({ACCEPTED, RETURNED, ESCALATED}), DISPATCHED),
    "accept": (frozenset({DISPATCHED, ESCALATED}), IN_PROGRESS),
    "progress": (frozenset({IN_PROGRESS, EXTENDED, ESCALATED}), None),
    "close": (frozenset({IN_PROGRESS, EXTENDED, ESCALATED}), CLOSED),
    "return": (frozenset({DISPATCHED, IN_PROGRESS, ESCALATED}), RETURNED),
    "extend": (frozenset({IN_PROGRESS, ESCALATED}), EXTENDED),
    "escalate": (frozenset({ACCEPTED, DISPATCHED, IN_PROGRESS, RETURNED, EXTENDED}), ESCALATED),
    "follow_up": (frozenset({CLOSED}), FOLLOWED_UP),
    "reopen": (frozenset({CLOSED}), IN_PROGRESS),
}
# What each action is called in messages.
ACTION_NAMES = {
    "file": "受理",
    "dispatch": "派单",
    "accept": "签收",
    "progress": "办理进展",
    "close": "办结",
    "return": "退单",
    "extend": "延期",
    "escalate": "督办",
    "follow_up": "回访",
    "reopen": "重新办理",
    "follow_up_request": "回访提醒",
}


class InvalidTransition(ValueError):
    """The order's state does not allow this step (the message says why, in Chinese)."""


class NotYourOrder(Exception):
    """The order belongs to another department (or to none).

    Not a ``PermissionError``: that is an ``OSError``, which the database layer takes for an
    unreachable database.
    """


class OrderNotFound(LookupError):
    """No work order has this number."""


@dataclass(frozen=True)
class OrderEvent:
    """One step of the audit trail."""

    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str
    department: str | None
    reason: str


@dataclass(frozen=True)
class OrderNote:
    """A progress note of the department, or the citizen's words on reopening."""

    at: datetime
    author: str
    kind: str
    text: str


@dataclass(frozen=True)
class OrderDetail:
    """A work order as a department or the dispatcher sees it, with its audit trail and notes."""

    number: str
    type: str
    title: str
    summary: str
    category: tuple[str, ...] | None  # (first, second) or (first, second, third)
    district: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    since: str | None
    urgency: str
    anonymous: bool
    contact_phone: str | None
    state: str
    department: str | None
    source: str
    channel: str
    created_at: datetime
    due_at: datetime
    accepted_at: datetime | None
    closed_at: datetime | None
    escalated_at: datetime | None
    duplicate_of: str | None
    reopened: int
    reply: str | None
    solved: bool | None
    satisfaction: str | None
    events: tuple[OrderEvent, ...]
    notes: tuple[OrderNote, ...]
    # Orders merged into this one as duplicates.
    merged: tuple[str, ...] = ()

    def is_overdue(self, now: datetime) -> bool:
        """Whether the order is open and its deadline has passed."""
        return self.state in OPEN_STATES and self.due_at < now


def record_event(
    session: AsyncSession,
    order: WorkOrder,
    *,
    action: str,
    actor: str,
    now: datetime,
    reason: str = "",
    department: str | None = None,
) -> None:
    """Move the order to the action's state (if it changes one) and write the audit row."""
    to_state = TRANSITIONS[action][1] if action in TRANSITIONS else None
    from_state = order.status if action != "file" else None
    if to_state is not None:
        order.status = to_state
    session.add(
        WorkOrderEvent(
            order_number=order.number,
            at=now,
            actor=actor,
            action=action,
            from_state=from_state,
            to_state=order.status,
            department=department,
            reason=reason,
        )
    )


async def _load(session: AsyncSession, number: str) -> WorkOrder:
    order = await session.get(WorkOrder, number, with_for_update=True)
    if order is None:
        raise OrderNotFound(f"没有工单{number}")
    return order


async def _load_own(session: AsyncSession, number: str, department: str, action: str) -> WorkOrder:
    """The order, locked, once it is the department's own and ``action`` is allowed in its state (ownership first)."""
    order = await _load(session, number)
    _own(order, department)
    _allow(order, action)
    return order


def _own(order: WorkOrder, department: str) -> None:
    if order.department is None or order.department != department:
        raise NotYourOrder(f"工单{order.number}不是{department}的工单")


def _allow(order: WorkOrder, action: str) -> None:
    if order.duplicate_of is not None:
        raise InvalidTransition(
            f"工单{order.number}已与工单{order.duplicate_of}合并办理，请处理工单{order.duplicate_of}"
        )
    sources = TRANSITIONS[action][0]
    if order.status not in sources:
        raise InvalidTransition(f"工单{order.number}当前状态为{order.status}，不能{ACTION_NAMES[action]}")


def _required(text: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidTransition(f"请填写{what}")
    return text


def stored_category(order: WorkOrder) -> tuple[str, ...] | None:
    """An order's category as stored: (first, second), with the third level when there is one; None: none."""
    if not order.category_l1 or not order.category_l2:
        return None
    if order.category_l3:
        return (order.category_l1, order.category_l2, order.category_l3)
    return (order.category_l1, order.category_l2)


async def _merged(session: AsyncSession, number: str) -> list[WorkOrder]:
    return list(await session.scalars(select(WorkOrder).where(WorkOrder.duplicate_of == number)))


async def _detail(session: AsyncSession, order: WorkOrder) -> OrderDetail:
    return (await _details(session, [order]))[0]


async def _details(session: AsyncSession, orders: list[WorkOrder]) -> list[OrderDetail]:
    numbers = [order.number for order in orders]
    events: dict[str, list[OrderEvent]] = {number: [] for number in numbers}
    notes: dict[str, list[OrderNote]] = {number: [] for number in numbers}
    merged: dict[str, list[str]] = {number: [] for number in numbers}
    if numbers:
        for event in await session.scalars(
            select(WorkOrderEvent)
            .where(WorkOrderEvent.order_number.in_(numbers))
            .order_by(WorkOrderEvent.at, WorkOrderEvent.id)
        ):
            events[event.order_number].append(
                OrderEvent(
                    event.at,
                    event.actor,
                    event.action,
                    event.from_state,
                    event.to_state,
                    event.department,
                    event.reason,
                )
            )
        for note in await session.scalars(
            select(WorkOrderNote)
            .where(WorkOrderNote.order_number.in_(numbers))
            .order_by(WorkOrderNote.at, WorkOrderNote.id)
        ):
            notes[note.order_number].append(OrderNote(note.at, note.author, note.kind, note.text))
        for number, original in await session.execute(
            select(WorkOrder.number, WorkOrder.duplicate_of)
            .where(WorkOrder.duplicate_of.in_(numbers))
            .order_by(WorkOrder.number)
        ):
            merged[original].append(number)
    return [
        OrderDetail(
            number=order.number,
            type=order.kind,
            title=order.title,
            summary=order.summary,
            category=stored_category(order),
            district=order.district,
            address=order.address,
            latitude=order.latitude,
            longitude=order.longitude,
            since=order.since,
            urgency=order.urgency,
            anonymous=order.anonymous,
            contact_phone=None if order.anonymous else order.contact_phone,
            state=order.status,
            department=order.department,
            source=order.source,
            channel=order.channel,
            created_at=order.created_at,
            due_at=order.due_at,
            accepted_at=order.accepted_at,
            closed_at=order.closed_at,
            escalated_at=order.escalated_at,
            duplicate_of=order.duplicate_of,
            reopened=order.reopened,
            reply=order.reply,
            solved=order.solved,
            satisfaction=order.satisfaction,
            events=tuple(events[order.number]),
            notes=tuple(notes[order.number]),
            merged=tuple(merged[order.number]),
        )
        for order in orders
    ]


async def dispatch(database: Database, number: str, department: str, actor: str, now: datetime) -> OrderDetail:
    """Send an order of the dispatcher queue to ``department`` (→ 已派单)."""
    department = _required(department, "承办部门")
    async with database.session() as session:
        order = await _load(session, number)
        _allow(order, "dispatch")
        if order.department is not None:
            raise InvalidTransition(f"工单{number}已派至{order.department}，不在待分派队列中")
        order.department = department
        order.accepted_at = None
        record_event(session, order, action="dispatch", actor=actor, now=now, department=department)
        for duplicate in await _merged(session, number):
            duplicate.department = department
        await notifications.queue(
            session, order, lambda label: notifications.dispatched_text(label, department, order.due_at), now
        )
        logger.info("work order %s dispatched to %s by %s", number, department, actor)
        return await _detail(session, order)


async def accept(database: Database, number: str, department: str, actor: str, now: datetime) -> OrderDetail:
    """The department takes the order on (签收, → 办理中)."""
    async with database.session() as session:
        order = await _load_own(session, number, department, "accept")
        if order.accepted_at is not None:
            raise InvalidTransition(f"工单{number}已于{in_china(order.accepted_at):%m月%d日%H:%M}签收")
        order.accepted_at = now
        record_event(session, order, action="accept", actor=actor, now=now, department=department)
        await notifications.queue(session, order, lambda label: notifications.accepted_text(label, department), now)
        return await _detail(session, order)


def _accepted(order: WorkOrder, action: str) -> None:
    if order.accepted_at is None:
        raise InvalidTransition(f"工单{order.number}尚未签收，请先签收再{ACTION_NAMES[action]}")


async def add_progress(
    database: Database, number: str, department: str, actor: str, text: str, now: datetime
) -> OrderDetail:
    """The department notes progress; the state does not change."""
    text = _required(text, "办理进展")
    async with database.session() as session:
        order = await _load_own(session, number, department, "progress")
        _accepted(order, "progress")
        session.add(WorkOrderNote(order_number=number, at=now, author=department, kind="progress", text=text))
        record_event(session, order, action="progress", actor=actor, now=now, department=department, reason=text)
        await notifications.queue(
            session, order, lambda label: notifications.progress_text(label, department, text), now
        )
        return await _detail(session, order)


async def close(database: Database, number: str, department: str, actor: str, reply: str, now: datetime) -> OrderDetail:
    """The department replies and closes the order (→ 已办结); orders merged into it close with it."""
    reply = _required(reply, "答复内容")
    async with database.session() as session:
        order = await _load_own(session, number, department, "close")
        _accepted(order, "close")
        for closing in [order, *await _merged(session, number)]:
            if closing.status not in OPEN_STATES:
                continue
            closing.reply = reply
            closing.closed_at = now
            closing.follow_up_requested_at = None
            reason = reply if closing is order else f"随工单{number}办结"
            record_event(session, closing, action="close", actor=actor, now=now, department=department, reason=reason)
        await notifications.queue(
            session, order, lambda label: notifications.closed_text(label, department, reply), now
        )
        logger.info("work order %s closed by %s", number, department)
        return await _detail(session, order)


async def return_order(
    database: Database, number: str, department: str, actor: str, reason: str, now: datetime
) -> OrderDetail:
    """The department returns an order that is not its own (→ 退单, back to the dispatcher queue)."""
    reason = _required(reason, "退单理由")
    async with database.session() as session:
        order = await _load_own(session, number, department, "return")
        order.department = None
        order.accepted_at = None
        record_event(session, order, action="return", actor=actor, now=now, department=department, reason=reason)
        for duplicate in await _merged(session, number):
            duplicate.department = None
        logger.info("work order %s returned by %s", number, department)
        return await _detail(session, order)


async def extend(
    database: Database, number: str, department: str, actor: str, reason: str, new_due: datetime, now: datetime
) -> OrderDetail:
    """An approved extension with its reason and new deadline (→ 延期)."""
    reason = _required(reason, "延期理由")
    async with database.session() as session:
        order = await _load_own(session, number, department, "extend")
        _accepted(order, "extend")
        if new_due <= order.due_at or new_due <= now:
            raise InvalidTransition(f"新的办理时限须晚于原时限{in_china(order.due_at):%Y-%m-%d %H:%M}和当前时间")
        previous = order.due_at
        order.due_at = new_due
        for duplicate in await _merged(session, number):
            duplicate.due_at = new_due
        record_event(
            session,
            order,
            action="extend",
            actor=actor,
            now=now,
            department=department,
            reason=f"{reason}（时限由{in_china(previous):%Y-%m-%d %H:%M}延至{in_china(new_due):%Y-%m-%d %H:%M}）",
        )
        await notifications.queue(
            session, order, lambda label: notifications.extended_text(label, new_due, reason), now
        )
        return await _detail(session, order)


async def escalate(database: Database, number: str, actor: str, reason: str, now: datetime) -> OrderDetail:
    """Escalate an open order (→ 督办); it stays with its department (or in the queue)."""
    reason = _required(reason, "督办理由")
    async with database.session() as session:
        order = await _load(session, number)
        _allow(order, "escalate")
        order.escalated_at = now
        record_event(
            session, order, action="escalate", actor=actor, now=now, department=order.department, reason=reason
        )
        logger.info("work order %s escalated by %s", number, actor)
        return await _detail(session, order)


async def record_follow_up(
    database: Database, number: str, solved: bool, satisfaction: str, words: str, now: datetime
) -> OrderDetail:
    """The citizen's answer to 回访: → 已回访, or reopened (→ 办理中) when not solved or 不满意."""
    if satisfaction not in RATINGS:
        raise ValueError(f"满意度只能是{'、'.join(RATINGS)}")
    words = words.strip()
    async with database.session() as session:
        order = await _load(session, number)
        if order.status not in TRANSITIONS["follow_up"][0]:
            raise InvalidTransition(f"工单{number}当前状态为{order.status}，不能回访")
        order.solved = solved
        order.satisfaction = satisfaction
        answer = f"{'已解决' if solved else '未解决'}，{satisfaction}" + (f"：{words}" if words else "")
        if solved and satisfaction != UNSATISFIED:
            record_event(session, order, action="follow_up", actor=CITIZEN, now=now, reason=answer)
            return await _detail(session, order)
        department = order.department or ""
        original = order.duplicate_of
        order.duplicate_of = None
        order.reopened += 1
        order.closed_at = None
        order.follow_up_requested_at = None
        order.due_at = due_at(now, order.kind, order.urgency)
        if words:
            session.add(WorkOrderNote(order_number=number, at=now, author=CITIZEN, kind="citizen", text=words))
        reason = answer if original is None else f"{answer}（不再随工单{original}办理）"
        record_event(session, order, action="reopen", actor=CITIZEN, now=now, department=department, reason=reason)
        await notifications.queue(
            session, order, lambda label: notifications.reopened_text(label, department, order.due_at), now
        )
        logger.info("work order %s reopened after 回访 (%s)", number, satisfaction)
        return await _detail(session, order)


async def list_orders(
    database: Database, department: str | None, states: Iterable[str] | None = None
) -> list[OrderDetail]:
    """A department's orders (``None``: the dispatcher queue), earliest deadline first; duplicates not listed."""
    query = select(WorkOrder).where(WorkOrder.duplicate_of.is_(None))
    if department is None:
        query = query.where(WorkOrder.department.is_(None), WorkOrder.status.in_(QUEUE_STATES))
    else:
        query = query.where(WorkOrder.department == department)
    if states is not None:
        query = query.where(WorkOrder.status.in_(list(states)))
    async with database.session() as session:
        orders = list(await session.scalars(query.order_by(WorkOrder.due_at, WorkOrder.number)))
        return await _details(session, orders)


async def order_detail(database: Database, number: str) -> OrderDetail:
    """One order with its audit trail and notes, or ``OrderNotFound``."""
    async with database.session() as session:
        order = await session.get(WorkOrder, number)
        if order is None:
            raise OrderNotFound(f"没有工单{number}")
        return await _detail(session, order)
