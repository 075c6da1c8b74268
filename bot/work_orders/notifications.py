"""The citizens' outbox: messages about their work orders, written with each change and delivered later.

A row is written in the same transaction as the change it tells about, so that a change is never
told twice nor lost; a sender (the integrator's ``channels/outbound.py``) takes the pending rows,
delivers them on the citizen's channel and marks them sent or failed. The citizen of an order is
its verified citizen, in the conversation it was filed from; or, for an order filed without one, the
number they gave for it, texted by SMS (the number is read from the order when the message is sent,
never copied into the outbox). Anonymous orders, and orders with neither, get no messages.

The outbox also keeps the replies a channel could not take when they were sent (the bot's answer
when the Bot API or Twilio could not be reached, an agent's message): ``keep_reply`` writes them
with their messages, and the same sender delivers them. A conversation's messages go out in the
order they were written: a reply finds earlier ones waiting (``waiting_in``) and queues behind them.
A failure worth retrying (timeout, 5xx, 429) is tried again with backoff (``mark_deferred``) for
up to a day; a refusal for good (the bot was blocked, no such chat) is failed at once with its
reason (``mark_refused``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import Select

from bot.core.clock import in_china
from bot.core.db import Database
from bot.core.models import Notification, WorkOrder
from bot.core.personal_data import digest, e164_phone
from bot.core.settings import get_settings
from bot.work_orders.working_days import END_OF_DAY

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
# Delivery attempts before a message is given up (status failed).
MAX_ATTEMPTS = 3
NOTICE = "notice"
FOLLOW_UP = "follow_up"
# A reply of a conversation (the bot's, an agent's, a notice of the desk) that waits for its channel.
REPLY = "reply"
# A message worth retrying is tried again after backoff (the outbox's period, doubled each time, at
# most an hour) or the wait the platform asked for, and given up a day after it was written.
MAX_BACKOFF = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)
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
    # A reply's messages (Rasa response dicts), role and agent; a notice is ``text``.
    messages: list[dict[str, Any]] | None = field(default=None, repr=False)
    role: str = "bot"
    agent_name: str | None = None
    # Not before this moment (backoff); None: at once.
    next_attempt_at: datetime | None = None

    def due(self, now: datetime) -> bool:
        """Whether the message may be tried now."""
        return self.next_attempt_at is None or self.next_attempt_at <= now


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
    """The conversation id of a number's SMS thread, as the SMS channel names it (``+86…``; the number never is an id).

    The 回访 of an order filed with this number is asked in this thread, where the number's replies arrive.
    """
    return CONTACT_THREAD_PREFIX + digest(e164_phone(phone), str(get_settings().pii_hash_key))[:20]


def recipient_of(order: WorkOrder, kind: str = NOTICE) -> Recipient | None:
    """Who is told about an order: its verified citizen, else the number given for it (by SMS); None if nobody."""
    if order.anonymous:
        return None
    if order.citizen_id is not None and order.channel and order.sender_id:
        return Recipient(order.channel, order.sender_id, order.citizen_id)
    if order.citizen_id is None and order.contact_phone:
        return Recipient(CONTACT_CHANNEL, contact_thread(order.contact_phone), None)
    return None


def unreachable_reason(order: WorkOrder) -> str:
    """Why nobody can be told about an order (for the audit trail): anonymous, or no way to reach its citizen."""
    if order.anonymous:
        return "匿名反映"
    return "没有验证过的手机号，也没有留联系电话"


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
    payload = row.payload or {}
    messages = payload.get("messages")
    return OutgoingMessage(
        id=row.id,
        order_number=row.order_number or "",
        citizen_id=row.citizen_id,
        channel=row.channel,
        conversation_id=row.conversation_id,
        text=row.text,
        attempts=row.attempts,
        kind=row.kind,
        phone=phone if row.citizen_id is None and row.order_number else None,
        messages=list(messages) if isinstance(messages, list) else None,
        role=str(payload.get("role") or "bot"),
        agent_name=payload.get("agent"),
        next_attempt_at=row.next_attempt_at,
    )


def _with_contact() -> Select:
    """Messages with the number given for their order (used only for those without a verified citizen)."""
    return select(Notification, WorkOrder.contact_phone).outerjoin(
        WorkOrder, WorkOrder.number == Notification.order_number
    )


async def pending(database: Database, limit: int = 200) -> list[OutgoingMessage]:
    """The oldest messages still to be delivered (due or not: a conversation's order is kept by the sender)."""
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


async def messages_of_conversation(database: Database, conversation_id: str) -> list[OutgoingMessage]:
    """Every message the outbox holds or held for a conversation, oldest first (for the audit view and tests)."""
    async with database.session() as session:
        rows = await session.execute(
            _with_contact().where(Notification.conversation_id == conversation_id).order_by(Notification.id)
        )
        return [_outgoing(row, phone) for row, phone in rows]


async def waiting_in(database: Database, conversation_id: str) -> bool:
    """Whether messages of this conversation wait in the outbox (a new one must go behind them)."""
    async with database.session() as session:
        found = await session.scalar(
            select(Notification.id)
            .where(Notification.conversation_id == conversation_id, Notification.status == PENDING)
            .limit(1)
        )
        return found is not None


async def backlog(database: Database) -> int:
    """How many messages wait in the outbox."""
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).where(Notification.status == PENDING)) or 0)


def reply_text(messages: list[dict[str, Any]]) -> str:
    """The texts of a reply's messages, one a line (what the outbox shows of it)."""
    return "\n".join(str(m["text"]) for m in messages if m.get("text")) or "（无文字）"


async def keep_reply(
    database: Database,
    channel: str,
    conversation_id: str,
    citizen_id: int | None,
    messages: list[dict[str, Any]],
    now: datetime,
    *,
    role: str = "bot",
    agent_name: str | None = None,
    error: str = "",
    next_attempt_at: datetime | None = None,
    refused: bool = False,
) -> int:
    """Keep a reply its channel did not take: pending (tried again), or failed with the reason when refused."""
    async with database.session() as session:
        row = Notification(
            order_number=None,
            citizen_id=citizen_id,
            channel=channel,
            conversation_id=conversation_id,
            text=reply_text(messages),
            kind=REPLY,
            payload={"messages": messages, "role": role, "agent": agent_name},
            status=FAILED if refused else PENDING,
            attempts=1 if error else 0,
            created_at=now,
            next_attempt_at=next_attempt_at,
            last_error=error[:200] or None,
        )
        session.add(row)
        await session.flush()
        return int(row.id)


def backoff(attempts: int, every_s: float, retry_after_s: float | None = None) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: the platform's wait, else doubling backoff."""
    if retry_after_s is not None and retry_after_s > 0:
        return timedelta(seconds=retry_after_s)
    return min(timedelta(seconds=every_s * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


async def _notification(session: AsyncSession, notification_id: int) -> Notification:
    """The notification's row; LookupError when there is none."""
    row = await session.get(Notification, notification_id)
    if row is None:
        raise LookupError(f"no notification {notification_id}")
    return row


async def _failed_attempt(session: AsyncSession, notification_id: int, error: str) -> Notification:
    """The notification's row with one more attempt counted and the error (cut short) kept."""
    row = await _notification(session, notification_id)
    row.attempts += 1
    row.last_error = error[:200]
    return row


async def mark_sent(database: Database, notification_id: int, now: datetime) -> None:
    """Record that a message was delivered."""
    async with database.session() as session:
        row = await _notification(session, notification_id)
        row.status = SENT
        row.attempts += 1
        row.sent_at = now


async def mark_failed(database: Database, notification_id: int, error: str, max_attempts: int = MAX_ATTEMPTS) -> bool:
    """Record a failed delivery; after ``max_attempts`` the message is given up. Returns whether it was."""
    async with database.session() as session:
        row = await _failed_attempt(session, notification_id, error)
        if row.attempts >= max_attempts:
            row.status = FAILED
        return row.status == FAILED


async def mark_deferred(
    database: Database,
    notification_id: int,
    error: str,
    now: datetime,
    every_s: float,
    *,
    retry_after_s: float | None = None,
    remaining: list[dict[str, Any]] | None = None,
) -> bool:
    """Record a failure worth retrying: tried again after backoff, given up a day after it was written.

    ``remaining`` are the messages still to send (those before them were delivered); the message
    becomes a reply of those. Returns whether it was given up.
    """
    async with database.session() as session:
        row = await _failed_attempt(session, notification_id, error)
        if remaining is not None:
            payload = dict(row.payload or {})
            row.payload = {**payload, "messages": remaining, "role": payload.get("role", "bot")}
            row.kind = REPLY
        row.next_attempt_at = now + backoff(row.attempts, every_s, retry_after_s)
        if now - row.created_at >= GIVE_UP_AFTER:
            row.status = FAILED
        return row.status == FAILED


async def mark_refused(database: Database, notification_id: int, error: str) -> None:
    """Record that the platform refused a message for good: failed at once, with the reason."""
    async with database.session() as session:
        row = await _failed_attempt(session, notification_id, error)
        row.status = FAILED
