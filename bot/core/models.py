"""Tables of the project database."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, declarative_base, relationship, synonym
from sqlalchemy.types import TypeDecorator

from bot.core.clock import UTC, in_utc
from bot.core.encryption import EncryptedString

Base: Any = declarative_base()


class UtcDateTime(TypeDecorator):
    """A moment stored as naive UTC (SQLite and PostgreSQL alike) and read back aware, in UTC.

    A naive datetime is refused on the way in (``NaiveDatetime``, wrapped by SQLAlchemy in a
    ``StatementError``): its zone would be a guess.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """An aware moment → naive UTC for the database."""
        return None if value is None else in_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Naive UTC from the database → an aware moment in UTC."""
        return None if value is None else value.replace(tzinfo=UTC)


class Service(Base):
    """A service (事项) of the catalogue."""

    __tablename__ = "services"

    id: Mapped[str] = Column(String(64), primary_key=True)
    name: Mapped[str] = Column(String(400), nullable=False, index=True)
    department: Mapped[str] = Column(String(200), nullable=False)
    source: Mapped[str] = Column(String(32), nullable=False)  # "project" or "gd"
    area: Mapped[str] = Column(String(100), nullable=False, default="")
    aliases: Mapped[list[str]] = Column(JSON, nullable=False, default=list)
    summary: Mapped[str] = Column(Text, nullable=False, default="")
    online_channel: Mapped[str | None] = Column(String(200))
    url: Mapped[str | None] = Column(String(500))
    content_hash: Mapped[str] = Column(String(64), nullable=False)
    situations: Mapped[list[Situation]] = relationship(
        "Situation",
        back_populates="service",
        order_by="Situation.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class Situation(Base):
    """A situation (情形) of a service, with everything a citizen needs to act."""

    __tablename__ = "situations"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = Column(
        String(64), ForeignKey("services.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = Column(Integer, nullable=False)
    name: Mapped[str] = Column(String(200), nullable=False)
    aliases: Mapped[list[str]] = Column(JSON, nullable=False, default=list)
    conditions: Mapped[list[str]] = Column(JSON, nullable=False, default=list)
    materials: Mapped[list[dict[str, Any]]] = Column(JSON, nullable=False, default=list)
    offices: Mapped[list[dict[str, str]]] = Column(JSON, nullable=False, default=list)
    fee: Mapped[str] = Column(String(200), nullable=False, default="")
    time_limit_days: Mapped[int | None] = Column(Integer)
    fully_online: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    visits: Mapped[int | None] = Column(Integer)
    service: Mapped[Service] = relationship("Service", back_populates="situations")


class Case(Base):
    """An application (办件) filed with a department."""

    __tablename__ = "cases"

    number: Mapped[str] = Column(String(32), primary_key=True)
    service_name: Mapped[str] = Column(String(400), nullable=False)
    department: Mapped[str] = Column(String(200), nullable=False)
    status: Mapped[str] = Column(String(32), nullable=False)
    promised_date: Mapped[date] = Column(Date, nullable=False)
    # Applicant data is kept only as keyed digests, for verification.
    phone_digest: Mapped[str] = Column(String(64), nullable=False)
    phone_tail_digest: Mapped[str] = Column(String(64), nullable=False)
    id_digest: Mapped[str | None] = Column(String(64))
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    events: Mapped[list[CaseEvent]] = relationship(
        "CaseEvent",
        back_populates="case",
        order_by="CaseEvent.at",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class CaseEvent(Base):
    """One step of a case's status timeline."""

    __tablename__ = "case_events"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    case_number: Mapped[str] = Column(
        String(32), ForeignKey("cases.number", ondelete="CASCADE"), nullable=False, index=True
    )
    status: Mapped[str] = Column(String(32), nullable=False)
    at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    note: Mapped[str] = Column(Text, nullable=False, default="")
    case: Mapped[Case] = relationship("Case", back_populates="events")


class VerificationLock(Base):
    """Failed ownership checks of a case, and the lock they lead to."""

    __tablename__ = "verification_locks"

    case_number: Mapped[str] = Column(String(32), primary_key=True)
    failures: Mapped[int] = Column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = Column(UtcDateTime)


class WorkOrder(Base):
    """A work order (工单) the hotline files with a department, and where it stands."""

    __tablename__ = "work_orders"

    number: Mapped[str] = Column(String(32), primary_key=True)
    # The type of appeal (咨询/求助/投诉/举报/建议), or the hotline's own kinds (回电, 督办 of a case).
    kind: Mapped[str] = Column(String(16), nullable=False)
    type: Mapped[str] = synonym("kind")
    # None: in the dispatcher queue (待分派).
    department: Mapped[str | None] = Column(String(200), index=True)
    title: Mapped[str] = Column(String(200), nullable=False, default="")
    summary: Mapped[str] = Column(Text, nullable=False)
    # The category in the tree of APPEAL_TAXONOMY_FILE; the third level only when the classifier was sure of it.
    category_l1: Mapped[str | None] = Column(String(32))
    category_l2: Mapped[str | None] = Column(String(64))
    category_l3: Mapped[str | None] = Column(String(64))
    # The label of our old two-level tree (first/second) an order had before revision 0004 re-labelled it.
    category_legacy: Mapped[str | None] = Column(String(100))
    district: Mapped[str | None] = Column(String(16))
    address: Mapped[str | None] = Column(String(400))
    # The address without spaces, punctuation or city prefix: what duplicates are matched on.
    address_key: Mapped[str | None] = Column(String(400))
    latitude: Mapped[float | None] = Column(Float)
    longitude: Mapped[float | None] = Column(Float)
    since: Mapped[str | None] = Column(String(100))
    # Only a number the citizen gave for this order; never for anonymous orders. Encrypted (read back to
    # send SMS); its keyed digest is what lookups compare.
    contact_phone: Mapped[str | None] = Column(EncryptedString(255))
    contact_phone_digest: Mapped[str | None] = Column(String(64), index=True)
    anonymous: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    urgency: Mapped[str] = Column(String(8), nullable=False, default="normal")
    source: Mapped[str] = Column(String(16), nullable=False, default="conversation")
    case_number: Mapped[str | None] = Column(String(32), ForeignKey("cases.number"))
    sender_id: Mapped[str] = Column(String(200), nullable=False)
    # The lifecycle state (已受理, 已派单, 办理中, 已办结, 已回访, 退单, 延期, 督办).
    status: Mapped[str] = Column(String(16), nullable=False, index=True)
    state: Mapped[str] = synonym("status")
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    due_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    accepted_at: Mapped[datetime | None] = Column(UtcDateTime)
    closed_at: Mapped[datetime | None] = Column(UtcDateTime)
    escalated_at: Mapped[datetime | None] = Column(UtcDateTime)
    follow_up_requested_at: Mapped[datetime | None] = Column(UtcDateTime)
    duplicate_of: Mapped[str | None] = Column(String(32), ForeignKey("work_orders.number"), index=True)
    reopened: Mapped[int] = Column(Integer, nullable=False, default=0)
    reply: Mapped[str | None] = Column(Text)
    solved: Mapped[bool | None] = Column(Boolean)
    satisfaction: Mapped[str | None] = Column(String(8))
    # Who filed it and where, so that it can be followed up from any channel.
    citizen_id: Mapped[int | None] = Column(Integer, ForeignKey("citizens.id"), index=True)
    channel: Mapped[str] = Column(String(32), nullable=False, default="")
    # When the retention job removed its personal data (contact, place, filer; numbers in its texts masked).
    personal_data_removed_at: Mapped[datetime | None] = Column(UtcDateTime)


class WorkOrderCounter(Base):
    """The last serial of a day's work-order numbers (taken under the row's lock)."""

    __tablename__ = "work_order_counters"

    day: Mapped[str] = Column(String(8), primary_key=True)
    last: Mapped[int] = Column(Integer, nullable=False)


class WorkOrderEvent(Base):
    """One step of a work order's audit trail: who did what, when, from which state to which, and why."""

    __tablename__ = "work_order_events"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    order_number: Mapped[str] = Column(
        String(32), ForeignKey("work_orders.number", ondelete="CASCADE"), nullable=False, index=True
    )
    at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    actor: Mapped[str] = Column(String(200), nullable=False)
    action: Mapped[str] = Column(String(32), nullable=False)
    from_state: Mapped[str | None] = Column(String(16))
    to_state: Mapped[str] = Column(String(16), nullable=False)
    department: Mapped[str | None] = Column(String(200))
    reason: Mapped[str] = Column(Text, nullable=False, default="")


class WorkOrderNote(Base):
    """A progress note of the department, or the citizen's words when they reopen an order."""

    __tablename__ = "work_order_notes"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    order_number: Mapped[str] = Column(
        String(32), ForeignKey("work_orders.number", ondelete="CASCADE"), nullable=False, index=True
    )
    at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    author: Mapped[str] = Column(String(200), nullable=False)
    kind: Mapped[str] = Column(String(16), nullable=False)  # progress or citizen
    text: Mapped[str] = Column(Text, nullable=False)


class Notification(Base):
    """A message to the citizen waiting in the outbox until it is delivered: about their work order, or a
    reply (the bot's, an agent's) that their channel could not take when it was sent."""

    __tablename__ = "notifications"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    # None for a reply that is about no order.
    order_number: Mapped[str | None] = Column(
        String(32), ForeignKey("work_orders.number", ondelete="CASCADE"), index=True
    )
    # None: the message goes to the number given for the order (its contact_phone), by SMS.
    citizen_id: Mapped[int | None] = Column(Integer, ForeignKey("citizens.id"))
    channel: Mapped[str] = Column(String(32), nullable=False)
    # Messages of one conversation go out in the order they were written.
    conversation_id: Mapped[str] = Column(String(200), nullable=False, index=True)
    text: Mapped[str] = Column(Text, nullable=False)
    # "notice" (sent as it is), "follow_up" (the 回访 dialogue is started in the conversation) or
    # "reply" (the messages of ``payload``, as the channel renders them)
    kind: Mapped[str] = Column(String(16), nullable=False, default="notice")
    # A reply's messages (Rasa response dicts) with their role and agent: {"messages", "role", "agent"}.
    payload: Mapped[dict[str, Any] | None] = Column(JSON)
    # Not tried again before this moment (backoff, or the platform's retry-after); None: at once.
    next_attempt_at: Mapped[datetime | None] = Column(UtcDateTime)
    status: Mapped[str] = Column(String(8), nullable=False, index=True)  # pending, sent or failed
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    sent_at: Mapped[datetime | None] = Column(UtcDateTime)
    last_error: Mapped[str | None] = Column(String(200))


class Hotspot(Base):
    """A cluster of similar orders (same second-level category and district) in a short time: a 舆情 alert."""

    __tablename__ = "hotspots"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    category_l1: Mapped[str] = Column(String(32), nullable=False)
    category_l2: Mapped[str] = Column(String(64), nullable=False)
    # The label of our old two-level tree (first/second) before revision 0004 re-labelled the hotspot.
    category_legacy: Mapped[str | None] = Column(String(100))
    district: Mapped[str] = Column(String(16), nullable=False)
    count: Mapped[int] = Column(Integer, nullable=False)
    first_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    last_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    status: Mapped[str] = Column(String(8), nullable=False, index=True)  # open or closed
    closed_at: Mapped[datetime | None] = Column(UtcDateTime)


class Citizen(Base):
    """One citizen across channels, keyed by a phone number a channel verified."""

    __tablename__ = "citizens"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    # The keyed digest finds the citizen; the number itself is kept, encrypted, to call or text them back.
    phone_digest: Mapped[str] = Column(String(64), nullable=False, unique=True)
    phone: Mapped[str] = Column(EncryptedString(255), nullable=False)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    last_seen_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)


class CitizenLink(Base):
    """A channel identity (Telegram user, SMS sender, web chat session) verified as a citizen."""

    __tablename__ = "citizen_links"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = Column(String(32), nullable=False)
    external_id: Mapped[str] = Column(String(200), nullable=False)
    citizen_id: Mapped[int] = Column(Integer, ForeignKey("citizens.id", ondelete="CASCADE"), nullable=False)
    verified_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)


class ChatMessage(Base):
    """One entry of a web chat session's log: what the citizen, the bot or an agent said, or a notice."""

    __tablename__ = "chat_messages"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    # 128 random bits in hex, made by the server; seq counts the session's entries from 0.
    session_id: Mapped[str] = Column(String(32), nullable=False, index=True)
    seq: Mapped[int] = Column(Integer, nullable=False)
    role: Mapped[str] = Column(String(16), nullable=False)  # citizen, bot, agent or system
    payload: Mapped[dict[str, Any]] = Column(JSON, nullable=False)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)


class AgentAccount(Base):
    """An agent or supervisor of the console (``python -m bot agents add``)."""

    __tablename__ = "agents"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = Column(String(64), nullable=False, unique=True)
    display_name: Mapped[str] = Column(String(64), nullable=False)
    role: Mapped[str] = Column(String(16), nullable=False)  # "agent" or "supervisor"
    password_hash: Mapped[str] = Column(String(255), nullable=False)
    failed_logins: Mapped[int] = Column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = Column(UtcDateTime)
    active: Mapped[bool] = Column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    last_login_at: Mapped[datetime | None] = Column(UtcDateTime)


class AgentSession(Base):
    """A console login: the cookie's token is kept only as its digest."""

    __tablename__ = "agent_sessions"

    token_digest: Mapped[str] = Column(String(64), primary_key=True)
    agent_id: Mapped[int] = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token: Mapped[str] = Column(String(64), nullable=False)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    expires_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    last_seen_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)


class Handoff(Base):
    """A conversation handed to a person: waiting, assigned, then closed (or cancelled)."""

    __tablename__ = "handoffs"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = Column(String(200), nullable=False, index=True)
    channel: Mapped[str] = Column(String(32), nullable=False)
    citizen_id: Mapped[int | None] = Column(Integer, ForeignKey("citizens.id"))
    reason: Mapped[str] = Column(String(32), nullable=False)
    priority: Mapped[int] = Column(Integer, nullable=False, default=0)
    summary: Mapped[dict[str, Any]] = Column(JSON, nullable=False, default=dict)
    # waiting, assigned, closed, cancelled, callback (nobody took it: a callback order) or phone
    status: Mapped[str] = Column(String(16), nullable=False, index=True)
    agent_id: Mapped[int | None] = Column(Integer, ForeignKey("agents.id"))
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    assigned_at: Mapped[datetime | None] = Column(UtcDateTime)
    closed_at: Mapped[datetime | None] = Column(UtcDateTime)
    rating: Mapped[str | None] = Column(String(8))
    rated_at: Mapped[datetime | None] = Column(UtcDateTime)
    callback_order: Mapped[str | None] = Column(String(32))


class BotRating(Base):
    """A citizen's rating of a conversation the bot handled alone: the channel, when, and no personal data.

    ``reason`` is what the citizen said was wrong after a low rating, its phone and ID numbers masked.
    """

    __tablename__ = "bot_ratings"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = Column(String(32), nullable=False)
    rating: Mapped[str] = Column(String(8), nullable=False)
    reason: Mapped[str | None] = Column(Text)
    rated_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, index=True)


class HandoffNote(Base):
    """An agent's internal note on a handoff (never shown to the citizen)."""

    __tablename__ = "handoff_notes"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    handoff_id: Mapped[int] = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    agent_id: Mapped[int] = Column(Integer, ForeignKey("agents.id"), nullable=False)
    text: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)


class HandoffAudit(Base):
    """Who did what to a handoff: took, transferred, revealed personal data (with the reason), closed."""

    __tablename__ = "handoff_audit"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    handoff_id: Mapped[int] = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    agent_id: Mapped[int | None] = Column(Integer, ForeignKey("agents.id"))
    action: Mapped[str] = Column(String(32), nullable=False)
    detail: Mapped[dict[str, Any]] = Column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)


class CannedPhrase(Base):
    """A phrase (常用语) an agent inserts into a reply: shared (no agent) or an agent's own."""

    __tablename__ = "canned_phrases"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[int | None] = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = Column(String(40), nullable=False)
    text: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)


class DepartmentKey(Base):
    """A department's key to its HTTP API: only the SHA-256 digest is kept; revoked keys stay listed."""

    __tablename__ = "department_keys"

    id: Mapped[int] = Column(Integer, primary_key=True, autoincrement=True)
    department: Mapped[str] = Column(String(200), nullable=False, index=True)
    key_digest: Mapped[str] = Column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = Column(UtcDateTime)


class SchemaMeta(Base):
    """Facts about the database itself, as keys and values (``timestamps``: ``utc`` once converted)."""

    __tablename__ = "schema_meta"

    key: Mapped[str] = Column(String(64), primary_key=True)
    value: Mapped[str] = Column(String(200), nullable=False)


class HandledMessage(Base):
    """A platform's message already taken (an SMS ``MessageSid``, a Telegram ``update_id``) until it expires.

    The lasting copy of the connectors' duplicate check: a replay is dropped even after Redis lost its keys.
    """

    __tablename__ = "handled_messages"

    key: Mapped[str] = Column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, index=True)
