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
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import declarative_base, relationship

Base: Any = declarative_base()


class Service(Base):
    """A service (事项) of the catalogue."""

    __tablename__ = "services"

    id: str = Column(String(64), primary_key=True)
    name: str = Column(String(400), nullable=False, index=True)
    department: str = Column(String(200), nullable=False)
    source: str = Column(String(32), nullable=False)  # "project" or "gd"
    area: str = Column(String(100), nullable=False, default="")
    aliases: list[str] = Column(JSON, nullable=False, default=list)
    summary: str = Column(Text, nullable=False, default="")
    online_channel: str | None = Column(String(200))
    url: str | None = Column(String(500))
    content_hash: str = Column(String(64), nullable=False)
    situations: list[Situation] = relationship(
        "Situation",
        back_populates="service",
        order_by="Situation.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class Situation(Base):
    """A situation (情形) of a service, with everything a citizen needs to act."""

    __tablename__ = "situations"

    id: int = Column(Integer, primary_key=True, autoincrement=True)
    service_id: str = Column(
        String(64), ForeignKey("services.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: int = Column(Integer, nullable=False)
    name: str = Column(String(200), nullable=False)
    aliases: list[str] = Column(JSON, nullable=False, default=list)
    conditions: list[str] = Column(JSON, nullable=False, default=list)
    materials: list[dict[str, Any]] = Column(JSON, nullable=False, default=list)
    offices: list[dict[str, str]] = Column(JSON, nullable=False, default=list)
    fee: str = Column(String(200), nullable=False, default="")
    time_limit_days: int | None = Column(Integer)
    fully_online: bool = Column(Boolean, nullable=False, default=False)
    visits: int | None = Column(Integer)
    service: Service = relationship("Service", back_populates="situations")


class Case(Base):
    """An application (办件) filed with a department."""

    __tablename__ = "cases"

    number: str = Column(String(32), primary_key=True)
    service_name: str = Column(String(400), nullable=False)
    department: str = Column(String(200), nullable=False)
    status: str = Column(String(32), nullable=False)
    promised_date: date = Column(Date, nullable=False)
    # Applicant data is kept only as keyed digests, for verification.
    phone_digest: str = Column(String(64), nullable=False)
    phone_tail_digest: str = Column(String(64), nullable=False)
    id_digest: str | None = Column(String(64))
    created_at: datetime = Column(DateTime, nullable=False)
    updated_at: datetime = Column(DateTime, nullable=False)
    events: list[CaseEvent] = relationship(
        "CaseEvent",
        back_populates="case",
        order_by="CaseEvent.at",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class CaseEvent(Base):
    """One step of a case's status timeline."""

    __tablename__ = "case_events"

    id: int = Column(Integer, primary_key=True, autoincrement=True)
    case_number: str = Column(
        String(32), ForeignKey("cases.number", ondelete="CASCADE"), nullable=False, index=True
    )
    status: str = Column(String(32), nullable=False)
    at: datetime = Column(DateTime, nullable=False)
    note: str = Column(Text, nullable=False, default="")
    case: Case = relationship("Case", back_populates="events")


class VerificationLock(Base):
    """Failed ownership checks of a case, and the lock they lead to."""

    __tablename__ = "verification_locks"

    case_number: str = Column(String(32), primary_key=True)
    failures: int = Column(Integer, nullable=False, default=0)
    locked_until: datetime | None = Column(DateTime)


class WorkOrder(Base):
    """A work order (工单) the hotline files with a department."""

    __tablename__ = "work_orders"

    number: str = Column(String(32), primary_key=True)
    kind: str = Column(String(16), nullable=False)
    department: str = Column(String(200), nullable=False)
    summary: str = Column(Text, nullable=False)
    case_number: str | None = Column(String(32), ForeignKey("cases.number"))
    sender_id: str = Column(String(200), nullable=False)
    status: str = Column(String(16), nullable=False)
    created_at: datetime = Column(DateTime, nullable=False)
