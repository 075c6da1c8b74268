"""The work-order lifecycle: dispatch, accept, progress, close, return, extend, escalate, follow-up (回访).

Every transition checks the order's state against ``TRANSITIONS``, checks that the acting
department owns the order, and records an audit row (who, when, from, to, why) in the same
transaction as the change; citizen-visible changes also write an outbox notification.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.db import Database

# States (stored as these Chinese words).
ACCEPTED = "已受理"  # filed; with no department it waits in the dispatcher queue (待分派)
DISPATCHED = "已派单"
IN_PROGRESS = "办理中"
CLOSED = "已办结"
FOLLOWED_UP = "已回访"
RETURNED = "退单"  # returned by a department with a reason; back in the dispatcher queue
EXTENDED = "延期"
ESCALATED = "督办"
STATES = (ACCEPTED, DISPATCHED, IN_PROGRESS, CLOSED, FOLLOWED_UP, RETURNED, EXTENDED, ESCALATED)
OPEN_STATES = frozenset({ACCEPTED, DISPATCHED, IN_PROGRESS, RETURNED, EXTENDED, ESCALATED})
SATISFACTION = ("满意", "基本满意", "不满意")


class InvalidTransition(ValueError):
    """The order's state does not allow this step (the message says why, in Chinese)."""


class NotYourOrder(PermissionError):
    """The order belongs to another department (or to none)."""


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
    category: tuple[str, str] | None
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

    def is_overdue(self, now: datetime) -> bool:
        """Whether the order is open and its deadline has passed."""
        return self.state in OPEN_STATES and self.due_at < now


async def dispatch(database: Database, number: str, department: str, actor: str, now: datetime) -> OrderDetail:
    """Send an order of the dispatcher queue to ``department`` (→ 已派单)."""
    raise NotImplementedError


async def accept(database: Database, number: str, department: str, actor: str, now: datetime) -> OrderDetail:
    """The department takes the order on (签收, → 办理中)."""
    raise NotImplementedError


async def add_progress(
    database: Database, number: str, department: str, actor: str, text: str, now: datetime
) -> OrderDetail:
    """The department notes progress; the state does not change."""
    raise NotImplementedError


async def close(database: Database, number: str, department: str, actor: str, reply: str, now: datetime) -> OrderDetail:
    """The department replies and closes the order (→ 已办结)."""
    raise NotImplementedError


async def return_order(
    database: Database, number: str, department: str, actor: str, reason: str, now: datetime
) -> OrderDetail:
    """The department returns an order that is not its own (→ 退单, back to the dispatcher queue)."""
    raise NotImplementedError


async def extend(
    database: Database, number: str, department: str, actor: str, reason: str, new_due: datetime, now: datetime
) -> OrderDetail:
    """An approved extension with its reason and new deadline (→ 延期)."""
    raise NotImplementedError


async def escalate(database: Database, number: str, actor: str, reason: str, now: datetime) -> OrderDetail:
    """Escalate an open order (→ 督办); it stays with its department."""
    raise NotImplementedError


async def record_follow_up(
    database: Database, number: str, solved: bool, satisfaction: str, words: str, now: datetime
) -> OrderDetail:
    """The citizen's answer to 回访: → 已回访, or reopened (→ 办理中) when not solved or 不满意."""
    raise NotImplementedError


async def list_orders(
    database: Database, department: str | None, states: Iterable[str] | None = None
) -> list[OrderDetail]:
    """A department's orders (``None``: the dispatcher queue), oldest deadline first."""
    raise NotImplementedError


async def order_detail(database: Database, number: str) -> OrderDetail:
    """One order with its audit trail and notes, or ``OrderNotFound``."""
    raise NotImplementedError
