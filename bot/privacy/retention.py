"""The retention job: personal data removed after the periods of the settings; masked records kept for statistics.

``python -m bot retention run`` and the scheduler (``python -m bot orders tick``) run it; running it
again does nothing new. At ``now``:

- **Conversations** (``RETENTION_CONVERSATION_DAYS``): the stored events (Rasa's tracker store) of a
  conversation without any event for that long are deleted; of a conversation still going on, the
  events of its earlier sessions older than that. A web chat session without a word for that long is
  deleted: its log and the link to the citizen it was verified as.
- **Anonymous web chat sessions** (``RETENTION_ANONYMOUS_WEBCHAT_DAYS``): a session never verified
  and idle that long is deleted sooner: its log and its conversation's events.
- **Work orders** (``RETENTION_ORDER_DAYS``): an order closed (已办结 or 已回访) that long ago loses its
  contact number, address and location, and the conversation and citizen it came from; the numbers in
  its description, title, reply, notes and audit trail are masked; its messages (the outbox's) are deleted.
  The order itself stays, with its kind, category, district, department, dates and status.
- **Citizens** (``RETENTION_ORDER_DAYS``): a citizen not seen for that long, with no order, message
  or handoff still needing them, is deleted with its channel links (its encrypted phone number goes).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.db import Database
from bot.core.models import (
    ChatMessage,
    Citizen,
    CitizenLink,
    Handoff,
    Notification,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderNote,
)
from bot.core.personal_data import mask_text
from bot.core.settings import Settings
from bot.privacy.trackers import EVENTS, has_events

logger = logging.getLogger(__name__)

WEBCHAT = "webchat"
WEBCHAT_SENDER_PREFIX = "web-"
# Orders in these states are closed; their personal data goes RETENTION_ORDER_DAYS after closing.
CLOSED_STATES = ("已办结", "已回访")
# Handoffs in these states still need their citizen.
OPEN_HANDOFFS = ("waiting", "assigned")
# How many ids one statement names.
CHUNK = 500


@dataclass(frozen=True)
class RetentionReport:
    """What one run removed."""

    tracker_events: int = 0
    conversations: int = 0
    chat_entries: int = 0
    chat_sessions: int = 0
    orders: int = 0
    citizens: int = 0

    def __add__(self, other: RetentionReport) -> RetentionReport:
        return RetentionReport(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def summary(self) -> str:
        """One line in Chinese: 删除对话事件120条（整段对话8个）、网页聊天记录30条（会话4个）；…"""
        return (
            f"删除对话事件{self.tracker_events}条（整段对话{self.conversations}个）、"
            f"网页聊天记录{self.chat_entries}条（会话{self.chat_sessions}个）；"
            f"清除工单个人信息{self.orders}件；删除市民{self.citizens}人"
        )


def _chunks(items: Sequence[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start : start + CHUNK])


async def remove_web_chat_sessions(
    database: Database, now: datetime, settings: Settings
) -> tuple[RetentionReport, list[str]]:
    """Delete idle web chat sessions (anonymous ones sooner); the report and the deleted sessions' ids."""
    any_cutoff = now - timedelta(days=settings.retention_conversation_days)
    anonymous_cutoff = now - timedelta(days=settings.retention_anonymous_webchat_days)
    async with database.session() as session:
        last_word = func.max(ChatMessage.created_at)
        idle = dict(
            (row.session_id, row.last)
            for row in await session.execute(
                select(ChatMessage.session_id, last_word.label("last"))
                .group_by(ChatMessage.session_id)
                .having(last_word < max(any_cutoff, anonymous_cutoff))
            )
        )
        verified: set[str] = set()
        for chunk in _chunks(list(idle)):
            verified.update(
                await session.scalars(
                    select(CitizenLink.external_id).where(
                        CitizenLink.channel == WEBCHAT, CitizenLink.external_id.in_(chunk)
                    )
                )
            )
        gone = [
            session_id
            for session_id, last in idle.items()
            if _before(last, any_cutoff) or (session_id not in verified and _before(last, anonymous_cutoff))
        ]
        entries = 0
        for chunk in _chunks(gone):
            deleted = await session.execute(delete(ChatMessage).where(ChatMessage.session_id.in_(chunk)))
            entries += deleted.rowcount or 0
            await session.execute(
                delete(CitizenLink).where(CitizenLink.channel == WEBCHAT, CitizenLink.external_id.in_(chunk))
            )
    anonymous = [session_id for session_id in gone if session_id not in verified]
    return RetentionReport(chat_entries=entries, chat_sessions=len(gone)), anonymous


def _before(moment: datetime | str, cutoff: datetime) -> bool:
    """Whether a moment read from an aggregate (naive UTC, or text on SQLite) is before ``cutoff``."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=cutoff.tzinfo)
    return moment < cutoff


async def remove_conversation_events(
    trackers: Database, now: datetime, settings: Settings, also: Sequence[str] = ()
) -> RetentionReport:
    """Delete the stored events of idle conversations, earlier sessions' old events, and the conversations ``also``."""
    if not await has_events(trackers):
        return RetentionReport()
    cutoff = (now - timedelta(days=settings.retention_conversation_days)).timestamp()
    async with trackers.session() as session:
        newest = func.max(EVENTS.c.timestamp)
        idle = list(
            await session.scalars(select(EVENTS.c.sender_id).group_by(EVENTS.c.sender_id).having(newest < cutoff))
        )
        senders = set(idle)
        for chunk in _chunks(list(also)):
            senders.update(
                await session.scalars(select(EVENTS.c.sender_id).where(EVENTS.c.sender_id.in_(chunk)).distinct())
            )
        events = 0
        for chunk in _chunks(sorted(senders)):
            events += (await session.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(chunk)))).rowcount or 0
        events += await _delete_earlier_sessions(session, cutoff)
    return RetentionReport(tracker_events=events, conversations=len(senders))


async def _delete_earlier_sessions(session: AsyncSession, cutoff: float) -> int:
    """Delete the events older than ``cutoff`` that come before their conversation's latest session start."""
    later = EVENTS.alias("later")
    latest_start = (
        select(func.max(later.c.id))
        .where(later.c.sender_id == EVENTS.c.sender_id, later.c.type_name == "session_started")
        .correlate(EVENTS)
        .scalar_subquery()
    )
    deleted = await session.execute(delete(EVENTS).where(EVENTS.c.timestamp < cutoff, EVENTS.c.id < latest_start))
    return deleted.rowcount or 0


async def remove_order_details(database: Database, now: datetime, settings: Settings) -> RetentionReport:
    """Remove the personal data of orders closed ``RETENTION_ORDER_DAYS`` ago; the masked order stays."""
    cutoff = now - timedelta(days=settings.retention_order_days)
    async with database.session() as session:
        orders = list(
            await session.scalars(
                select(WorkOrder).where(
                    WorkOrder.status.in_(CLOSED_STATES),
                    WorkOrder.closed_at < cutoff,
                    WorkOrder.personal_data_removed_at.is_(None),
                )
            )
        )
        for order in orders:
            order.contact_phone = None
            order.contact_phone_digest = None
            order.address = None
            order.address_key = None
            order.latitude = None
            order.longitude = None
            order.citizen_id = None
            order.sender_id = ""
            order.summary = mask_text(order.summary)
            order.title = mask_text(order.title)
            order.reply = None if order.reply is None else mask_text(order.reply)
            order.personal_data_removed_at = now
        numbers = [order.number for order in orders]
        for chunk in _chunks(numbers):
            for note in await session.scalars(select(WorkOrderNote).where(WorkOrderNote.order_number.in_(chunk))):
                note.text = mask_text(note.text)
            for event in await session.scalars(select(WorkOrderEvent).where(WorkOrderEvent.order_number.in_(chunk))):
                event.reason = mask_text(event.reason)
            await session.execute(delete(Notification).where(Notification.order_number.in_(chunk)))
    return RetentionReport(orders=len(orders))


async def remove_citizens(database: Database, now: datetime, settings: Settings) -> RetentionReport:
    """Delete the citizens not seen for ``RETENTION_ORDER_DAYS`` whom no order, message or open handoff needs."""
    cutoff = now - timedelta(days=settings.retention_order_days)
    needed_by_order = select(WorkOrder.citizen_id).where(WorkOrder.citizen_id.is_not(None))
    needed_by_message = select(Notification.citizen_id).where(
        Notification.citizen_id.is_not(None), Notification.status == "pending"
    )
    needed_by_handoff = select(Handoff.citizen_id).where(
        Handoff.citizen_id.is_not(None), Handoff.status.in_(OPEN_HANDOFFS)
    )
    async with database.session() as session:
        ids = list(
            await session.scalars(
                select(Citizen.id).where(
                    Citizen.last_seen_at < cutoff,
                    Citizen.id.not_in(needed_by_order),
                    Citizen.id.not_in(needed_by_message),
                    Citizen.id.not_in(needed_by_handoff),
                )
            )
        )
        for chunk in _chunks(ids):
            await session.execute(update(Handoff).where(Handoff.citizen_id.in_(chunk)).values(citizen_id=None))
            await session.execute(delete(Notification).where(Notification.citizen_id.in_(chunk)))
            await session.execute(delete(CitizenLink).where(CitizenLink.citizen_id.in_(chunk)))
            await session.execute(delete(Citizen).where(Citizen.id.in_(chunk)))
    return RetentionReport(citizens=len(ids))


async def run_retention(
    database: Database, now: datetime, settings: Settings, trackers: Database | None = None
) -> RetentionReport:
    """Remove the personal data whose period is over; what was removed (also logged).

    ``trackers`` is the tracker store's database (``bot.privacy.trackers.open_trackers``); None: its
    events are left alone (a tracker store not made yet).
    """
    chats, anonymous = await remove_web_chat_sessions(database, now, settings)
    report = chats + await remove_order_details(database, now, settings)
    report += await remove_citizens(database, now, settings)
    if trackers is not None:
        senders = [WEBCHAT_SENDER_PREFIX + session_id for session_id in anonymous]
        report += await remove_conversation_events(trackers, now, settings, also=senders)
    logger.info(
        "retention: %d tracker events (%d conversations), %d web chat entries (%d sessions), "
        "%d orders' personal data, %d citizens removed",
        report.tracker_events,
        report.conversations,
        report.chat_entries,
        report.chat_sessions,
        report.orders,
        report.citizens,
    )
    return report
