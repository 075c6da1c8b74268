"""The citizens' outbox: messages about their work orders, written with each change and delivered later.

A row is written in the same transaction as the change it tells about, so that a change is never
told twice nor lost; a sender (the integrator's ``channels/outbound.py``) takes the pending rows,
delivers them on the citizen's channel and marks them sent or failed. The citizen of an order is
its verified citizen, in the conversation it was filed from; or, for an order filed without one, the
number they gave for it, texted by SMS (the number is read from the order when the message is sent,
never copied into the outbox). Anonymous orders, and orders with neither, get no messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import Select

from bot.core.clock import in_china
from bot.core.db import Database
from bot.core.models import Notification, WorkOrder
from bot.core.personal_data import digest
from bot.core.settings import get_settings
from bot.work_orders.working_days import END_OF_DAY

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
# Delivery attempts before a message is given up (status failed).
MAX_ATTEMPTS = 3
NOTICE = "notice"
FOLLOW_UP = "follow_up"
# The channel of the number a citizen gave for an order: the number's SMS thread.
CONTACT_CHANNEL = "sms"
CONTACT_THREAD_PREFIX = "sms-"


@dataclass(frozen=True)
class OutgoingMessage:
    """A pending message and where it goes."""

    id: int
    order_number: str
    citizen_id: int | None
    channel: str
    conversation_id: str
    text: str
    attempts: int
    kind: str = NOTICE
    # The number given for the order, when the message goes to it rather than to a verified citizen.
    phone: str | None = field(default=None, repr=False)


def deadline_text(due: datetime, now: datetime | None = None) -> str:
    """``11月30日`` or ``11月30日14:30``; told in a conversation (``now``), 今天18:30, 明天, 12月3日（星期四）.

    Days and hours are China's, whatever the zone of the moments.
    """
    due = in_china(due)
    if now is None:
        day = f"{due.month}月{due.day}日"
        return day if due.time() == END_OF_DAY else f"{day}{due:%H:%M}"
    # A limit in working days ends at 23:59:59: the day says it all.
    now = in_china(now)
    clock = "" if (due.hour, due.minute) == (23, 59) else f"{due:%H:%M}"
    if due.date() == now.date():
        return f"今天{clock}"
    if (due.date() - now.date()).days == 1:
        return f"明天{clock}"
    day = f"{due.month}月{due.day}日（星期{'一二三四五六日'[due.weekday()]}）{clock}"
    return day if due.year == now.year else f"{due.year}年{day}"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(("。", "！", "？", ".", "!", "?")) else text + "。"


def dispatched_text(label: str, department: str, due: datetime) -> str:
    """The order went to its department."""
    return f"您的工单{label}已派至{department}办理，办理时限至{deadline_text(due)}。"


def accepted_text(label: str, department: str) -> str:
    """The department took the order on."""
    return f"您的工单{label}已由{department}签收，正在办理。"


def progress_text(label: str, department: str, text: str) -> str:
    """The department noted progress."""
    return f"您的工单{label}有新进展（{department}）：{_sentence(text)}"


def closed_text(label: str, department: str, reply: str) -> str:
    """The department answered and closed the order."""
    return f"您的工单{label}已办结。{department}答复：{_sentence(reply)}稍后我们会向您回访办理结果。"


def extended_text(label: str, due: datetime, reason: str) -> str:
    """The order's deadline was extended."""
    return f"您的工单{label}办理时限延长至{deadline_text(due)}，原因：{_sentence(reason)}"


def reopened_text(label: str, department: str, due: datetime) -> str:
    """The order was reopened after the citizen's answer to 回访."""
    return f"您对工单{label}的意见已收到，已转{department}重新办理，办理时限至{deadline_text(due)}。"


def follow_up_text(label: str) -> str:
    """The 回访 question after an order was closed."""
    return (
        f"您的工单{label}已办结。请问您反映的问题解决了吗？对办理结果是满意、基本满意还是不满意？"
        "欢迎直接回复，也可以说说您的意见。"
    )


@dataclass(frozen=True)
class Recipient:
    """Where an order's messages go: a verified citizen's conversation, or the number given for the order."""

    channel: str
    conversation_id: str
    citizen_id: int | None


def contact_thread(phone: str) -> str:
    """The conversation id of a number's SMS thread (as the SMS channel names it; the number never is an id)."""
    return CONTACT_THREAD_PREFIX + digest(phone, str(get_settings().pii_hash_key))[:20]


def recipient_of(order: WorkOrder, kind: str = NOTICE) -> Recipient | None:
    """Who is told about an order: its verified citizen, else the number given for it; None if nobody.

    The 回访 dialogue needs a verified citizen's conversation: a number given for the order gets notices only.
    """
    if order.anonymous:
        return None
    if order.citizen_id is not None and order.channel and order.sender_id:
        return Recipient(order.channel, order.sender_id, order.citizen_id)
    if order.citizen_id is None and order.contact_phone and kind == NOTICE:
        return Recipient(CONTACT_CHANNEL, contact_thread(order.contact_phone), None)
    return None


def can_notify(order: WorkOrder, kind: str = NOTICE) -> bool:
    """Whether the citizen of an order can be told about it (a verified citizen or a number given, not anonymous)."""
    return recipient_of(order, kind) is not None


def _add(session: AsyncSession, recipient: WorkOrder, text: str, now: datetime, kind: str = NOTICE) -> bool:
    """Write one message for an order's citizen, if they can be told; returns whether it was written."""
    to = recipient_of(recipient, kind)
    if to is None:
        return False
    session.add(
        Notification(
            order_number=recipient.number,
            citizen_id=to.citizen_id,
            channel=to.channel,
            conversation_id=to.conversation_id,
            text=text,
            kind=kind,
            status=PENDING,
            attempts=0,
            created_at=now,
        )
    )
    return True


async def queue(session: AsyncSession, order: WorkOrder, make_text: Callable[[str], str], now: datetime) -> int:
    """Write a message for the order's citizen and for those of the orders merged into it; returns how many."""
    merged = list(await session.scalars(select(WorkOrder).where(WorkOrder.duplicate_of == order.number)))
    written = 0
    for recipient in [order, *merged]:
        label = recipient.number if recipient is order else f"{recipient.number}（与工单{order.number}合并办理）"
        if _add(session, recipient, make_text(label), now):
            written += 1
    return written


def queue_one(session: AsyncSession, order: WorkOrder, text: str, now: datetime, kind: str = NOTICE) -> bool:
    """Write a message for this order's citizen only; returns whether one was written."""
    return _add(session, order, text, now, kind)


def _outgoing(row: Notification, phone: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        id=row.id,
        order_number=row.order_number,
        citizen_id=row.citizen_id,
        channel=row.channel,
        conversation_id=row.conversation_id,
        text=row.text,
        attempts=row.attempts,
        kind=row.kind,
        phone=phone if row.citizen_id is None else None,
    )


def _with_contact() -> Select:
    """Messages with the number given for their order (used only for those without a verified citizen)."""
    return select(Notification, WorkOrder.contact_phone).join(WorkOrder, WorkOrder.number == Notification.order_number)


async def pending(database: Database, limit: int = 50) -> list[OutgoingMessage]:
    """The oldest messages still to be delivered."""
    async with database.session() as session:
        rows = await session.execute(
            _with_contact().where(Notification.status == PENDING).order_by(Notification.id).limit(limit)
        )
        return [_outgoing(row, phone) for row, phone in rows]


async def messages_of_order(database: Database, number: str) -> list[OutgoingMessage]:
    """Every message written about an order, oldest first (for the audit view and tests)."""
    async with database.session() as session:
        rows = await session.execute(
            _with_contact().where(Notification.order_number == number).order_by(Notification.id)
        )
        return [_outgoing(row, phone) for row, phone in rows]


async def mark_sent(database: Database, notification_id: int, now: datetime) -> None:
    """Record that a message was delivered."""
    async with database.session() as session:
        row = await session.get(Notification, notification_id)
        if row is None:
            raise LookupError(f"no notification {notification_id}")
        row.status = SENT
        row.attempts += 1
        row.sent_at = now


async def mark_failed(database: Database, notification_id: int, error: str, max_attempts: int = MAX_ATTEMPTS) -> bool:
    """Record a failed delivery; after ``max_attempts`` the message is given up. Returns whether it was."""
    async with database.session() as session:
        row = await session.get(Notification, notification_id)
        if row is None:
            raise LookupError(f"no notification {notification_id}")
        row.attempts += 1
        row.last_error = error[:200]
        if row.attempts >= max_attempts:
            row.status = FAILED
        return row.status == FAILED
