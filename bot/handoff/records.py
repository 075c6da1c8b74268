"""Handoffs to a person, as the project database keeps them: status, notes, audit, rating, phrases.

A handoff is ``waiting`` until an agent takes it (``assigned``), then ``closed`` by the agent.
A waiting one may end ``cancelled`` (the citizen changed their mind) or ``callback`` (nobody took
it in time, or it came outside service hours: a callback work order was filed instead). A phone
call that was transferred is recorded as ``phone``, so that the console can show its transcript.
Which instance's agent wins a waiting handoff is decided by the queue (``bot.handoff.queue``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from bot.core.clock import in_china
from bot.core.db import Database
from bot.core.models import AgentAccount, CannedPhrase, Handoff, HandoffAudit, HandoffNote
from bot.core.scales import RATINGS

WAITING, ASSIGNED, CLOSED, CANCELLED, CALLBACK, PHONE = (
    "waiting",
    "assigned",
    "closed",
    "cancelled",
    "callback",
    "phone",
)
ACTIVE = (WAITING, ASSIGNED)
REASON_LABELS = {
    "requested": "用户要求转人工",
    "not_understood": "机器人两次未听懂",
    "emergency": "紧急情况",
    "distress": "用户情绪低落",
    "backend_down": "系统故障",
    "beyond_bot": "超出机器人处理范围",
}
# Higher first in the queue.
REASON_PRIORITY = {"emergency": 2, "distress": 2, "backend_down": 1, "beyond_bot": 1}
# Danger or despair: raised in the console with an alert, never closed by the waiting timeout.
URGENT_PRIORITY = 2
# What a citizen says to give up waiting for a person.
_CANCEL = re.compile(
    r"^(算了|不用了|不要了|不需要了|取消|取消转人工|不转了|不等了|我不等了|不用转了)[吧啊呀。！!，,.\s]*$"
)
# What a citizen says to be put through to a person (转人工, 叫个人来跟我讲, 搵个真人), not a person spoken
# of (投诉你们的工作人员, 物业说找个人来修).
_PERSON_ASKED = re.compile(
    r"转(?:接)?人[工公]|人工(?:客服|服务|坐席)|(?:要|找|揾|搵|接|转|畀)(?:个)?(?:人工|真人|活人)"
    r"|(?:叫|找|让|揾|搵|请)(?:个|一个|你们的?)?(?:人|真人|活人|工作人员|话务员|接线员|客服)(?:来|嚟|过来)?"
    r"(?:跟|同|和|帮|听)(?:我|电话)"
)
# When nothing is known yet about how long agents take.
DEFAULT_HANDLING_S = 240.0
MAX_NOTE_CHARS = 2000
MAX_PHRASE_TITLE = 40
MAX_PHRASE_TEXT = 500


class HandoffNotFound(LookupError):
    """No handoff has this id."""


class HandoffConflict(RuntimeError):
    """The handoff is not in a state that allows this (already taken, closed, cancelled)."""


class PhraseNotFound(LookupError):
    """No phrase of this agent has this id."""


# A person declined (算啦唔使揾真人啦 我直接问你: the ninth blind set).
_PERSON_DECLINED = re.compile(
    r"(?:唔使|唔洗|不用|不要|唔要|别|不需要)再?(?:揾|搵|找|转|叫|接)(?:个)?(?:人工|真人|活人|人)"
)


def asks_for_a_person(text: str) -> bool:
    """Whether the citizen asks to talk to a person (你叫个人来跟我讲吧, 转人工), not that they need none."""
    return _PERSON_ASKED.search(text) is not None and _PERSON_DECLINED.search(text) is None


def is_cancel(text: str) -> bool:
    """Whether the citizen's words give up waiting for a person (算了, 不用了…)."""
    return _CANCEL.match(text.strip()) is not None


@dataclass(frozen=True)
class HandoffView:
    """A handoff as the desk and the console see it."""

    id: int
    conversation_id: str
    channel: str
    citizen_id: int | None
    reason: str
    priority: int
    summary: dict[str, Any]
    status: str
    agent_id: int | None
    agent_name: str | None
    created_at: datetime
    assigned_at: datetime | None
    closed_at: datetime | None
    rating: str | None
    callback_order: str | None

    @property
    def is_active(self) -> bool:
        """Waiting or with an agent."""
        return self.status in ACTIVE

    @property
    def urgent(self) -> bool:
        """Danger or despair: a person must see it."""
        return self.priority >= URGENT_PRIORITY


@dataclass(frozen=True)
class NoteView:
    """An internal note."""

    id: int
    text: str
    agent_name: str
    created_at: datetime


@dataclass(frozen=True)
class PhraseView:
    """A canned phrase (常用语)."""

    id: int
    title: str
    text: str
    shared: bool


def _view(row: Handoff, agent_name: str | None) -> HandoffView:
    return HandoffView(
        id=row.id,
        conversation_id=row.conversation_id,
        channel=row.channel,
        citizen_id=row.citizen_id,
        reason=row.reason,
        priority=row.priority,
        summary=dict(row.summary or {}),
        status=row.status,
        agent_id=row.agent_id,
        agent_name=agent_name,
        created_at=row.created_at,
        assigned_at=row.assigned_at,
        closed_at=row.closed_at,
        rating=row.rating,
        callback_order=row.callback_order,
    )


def _with_agent() -> Any:
    return select(Handoff, AgentAccount.display_name).outerjoin(AgentAccount, AgentAccount.id == Handoff.agent_id)


async def open_handoff(
    database: Database,
    conversation_id: str,
    channel: str,
    citizen_id: int | None,
    reason: str,
    summary: dict[str, Any],
    now: datetime,
    status: str = WAITING,
) -> tuple[HandoffView, bool]:
    """The conversation's active handoff, or a new one; True when it is new."""
    existing = await active_handoff(database, conversation_id)
    if existing is not None:
        return existing, False
    row = Handoff(
        conversation_id=conversation_id,
        channel=channel,
        citizen_id=citizen_id,
        reason=reason if reason in REASON_LABELS else "requested",
        priority=REASON_PRIORITY.get(reason, 0),
        summary=summary,
        status=status,
        created_at=now,
    )
    async with database.session() as session:
        session.add(row)
        await session.flush()
        session.add(HandoffAudit(handoff_id=row.id, action="opened", detail={"reason": row.reason}, created_at=now))
    return _view(row, None), True


async def active_handoff(database: Database, conversation_id: str) -> HandoffView | None:
    """The conversation's waiting or assigned handoff, if any."""
    async with database.session() as session:
        found = (
            await session.execute(
                _with_agent()
                .where(Handoff.conversation_id == conversation_id, Handoff.status.in_(ACTIVE))
                .order_by(Handoff.id.desc())
                .limit(1)
            )
        ).first()
    return None if found is None else _view(found[0], found[1])


async def get_handoff(database: Database, handoff_id: int) -> HandoffView:
    """A handoff by id.

    Raises:
        HandoffNotFound: no handoff has this id.
    """
    async with database.session() as session:
        found = (await session.execute(_with_agent().where(Handoff.id == handoff_id))).first()
    if found is None:
        raise HandoffNotFound(handoff_id)
    return _view(found[0], found[1])


async def latest_handoff(database: Database, conversation_id: str) -> HandoffView | None:
    """The conversation's most recent handoff, whatever its status."""
    async with database.session() as session:
        found = (
            await session.execute(
                _with_agent().where(Handoff.conversation_id == conversation_id).order_by(Handoff.id.desc()).limit(1)
            )
        ).first()
    return None if found is None else _view(found[0], found[1])


async def list_handoffs(
    database: Database, statuses: tuple[str, ...], agent_id: int | None = None
) -> list[HandoffView]:
    """Handoffs in these statuses (of one agent, when given), oldest first."""
    query = _with_agent().where(Handoff.status.in_(statuses)).order_by(Handoff.created_at, Handoff.id)
    if agent_id is not None:
        query = query.where(Handoff.agent_id == agent_id)
    async with database.session() as session:
        rows = (await session.execute(query)).all()
    return [_view(row[0], row[1]) for row in rows]


async def recent_phone_handoffs(database: Database, since: datetime) -> list[HandoffView]:
    """Phone transfers since ``since``, newest first."""
    query = _with_agent().where(Handoff.status == PHONE, Handoff.created_at >= since).order_by(Handoff.id.desc())
    async with database.session() as session:
        rows = (await session.execute(query.limit(50))).all()
    return [_view(row[0], row[1]) for row in rows]


async def _move(
    database: Database,
    handoff_id: int,
    from_statuses: tuple[str, ...],
    values: dict[str, Any],
    audit: HandoffAudit,
) -> None:
    """Change a handoff only if it is in one of ``from_statuses``, with an audit row, in one transaction."""
    async with database.session() as session:
        result = await session.execute(
            update(Handoff)
            .where(Handoff.id == handoff_id, Handoff.status.in_(from_statuses))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            exists = await session.scalar(select(Handoff.id).where(Handoff.id == handoff_id))
            if exists is None:
                raise HandoffNotFound(handoff_id)
            raise HandoffConflict(f"handoff {handoff_id} is not {' or '.join(from_statuses)}")
        session.add(audit)


async def make_urgent(database: Database, handoff_id: int, reason: str, now: datetime) -> bool:
    """Raise an active handoff to urgent (danger or despair said while it waits); False if it already was."""
    async with database.session() as session:
        result = await session.execute(
            update(Handoff)
            .where(Handoff.id == handoff_id, Handoff.status.in_(ACTIVE), Handoff.priority < URGENT_PRIORITY)
            .values(priority=URGENT_PRIORITY, reason=reason)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            return False
        session.add(HandoffAudit(handoff_id=handoff_id, action="urgent", detail={"reason": reason}, created_at=now))
    return True


async def assign(database: Database, handoff_id: int, agent_id: int, now: datetime) -> None:
    """A waiting handoff taken by an agent (after the queue gave it to them)."""
    await _move(
        database,
        handoff_id,
        (WAITING,),
        {"status": ASSIGNED, "agent_id": agent_id, "assigned_at": now},
        HandoffAudit(handoff_id=handoff_id, agent_id=agent_id, action="taken", detail={}, created_at=now),
    )


async def transfer(database: Database, handoff_id: int, by_agent: int, to_agent: int, now: datetime) -> None:
    """An assigned handoff given to another agent."""
    await _move(
        database,
        handoff_id,
        (ASSIGNED,),
        {"agent_id": to_agent},
        HandoffAudit(
            handoff_id=handoff_id, agent_id=by_agent, action="transferred", detail={"to": to_agent}, created_at=now
        ),
    )


async def cancel(database: Database, handoff_id: int, now: datetime) -> None:
    """A waiting handoff the citizen gave up."""
    await _move(
        database,
        handoff_id,
        (WAITING,),
        {"status": CANCELLED, "closed_at": now},
        HandoffAudit(handoff_id=handoff_id, action="cancelled", detail={}, created_at=now),
    )


async def close(database: Database, handoff_id: int, agent_id: int, now: datetime) -> None:
    """An assigned handoff the agent is done with."""
    await _move(
        database,
        handoff_id,
        (ASSIGNED,),
        {"status": CLOSED, "closed_at": now},
        HandoffAudit(handoff_id=handoff_id, agent_id=agent_id, action="closed", detail={}, created_at=now),
    )


async def to_callback(database: Database, handoff_id: int, order_number: str | None, now: datetime) -> None:
    """A waiting handoff nobody took: a callback order was filed instead (None when it could not be)."""
    await _move(
        database,
        handoff_id,
        (WAITING,),
        {"status": CALLBACK, "closed_at": now, "callback_order": order_number},
        HandoffAudit(handoff_id=handoff_id, action="callback", detail={"order": order_number}, created_at=now),
    )


async def record_audit(
    database: Database, handoff_id: int, agent_id: int | None, action: str, detail: dict[str, Any], now: datetime
) -> None:
    """Record something an agent did with a handoff (a reveal of personal data, with its reason)."""
    async with database.session() as session:
        session.add(
            HandoffAudit(handoff_id=handoff_id, agent_id=agent_id, action=action, detail=detail, created_at=now)
        )


async def audit_trail(database: Database, handoff_id: int) -> list[tuple[str, int | None, dict[str, Any], datetime]]:
    """The handoff's audit rows, oldest first: (action, agent id, detail, when)."""
    async with database.session() as session:
        rows = await session.scalars(
            select(HandoffAudit).where(HandoffAudit.handoff_id == handoff_id).order_by(HandoffAudit.id)
        )
        return [(row.action, row.agent_id, dict(row.detail), row.created_at) for row in rows]


async def record_rating(database: Database, handoff_id: int, rating: str, now: datetime) -> bool:
    """Store the citizen's rating of a closed handoff; False when it is not closed or already rated."""
    if rating not in RATINGS:
        raise ValueError(f"unknown rating {rating!r}")
    async with database.session() as session:
        result = await session.execute(
            update(Handoff)
            .where(Handoff.id == handoff_id, Handoff.status == CLOSED, Handoff.rating.is_(None))
            .values(rating=rating, rated_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)


async def add_note(database: Database, handoff_id: int, agent_id: int, text: str, now: datetime) -> NoteView:
    """Keep an agent's internal note on a handoff."""
    text = text.strip()
    if not text or len(text) > MAX_NOTE_CHARS:
        raise ValueError(f"a note has 1 to {MAX_NOTE_CHARS} characters")
    async with database.session() as session:
        note = HandoffNote(handoff_id=handoff_id, agent_id=agent_id, text=text, created_at=now)
        session.add(note)
        await session.flush()
        name = await session.scalar(select(AgentAccount.display_name).where(AgentAccount.id == agent_id))
        return NoteView(id=note.id, text=text, agent_name=str(name), created_at=now)


async def notes(database: Database, handoff_id: int) -> list[NoteView]:
    """The handoff's notes, oldest first."""
    async with database.session() as session:
        rows = (
            await session.execute(
                select(HandoffNote, AgentAccount.display_name)
                .join(AgentAccount, AgentAccount.id == HandoffNote.agent_id)
                .where(HandoffNote.handoff_id == handoff_id)
                .order_by(HandoffNote.id)
            )
        ).all()
    return [NoteView(id=n.id, text=n.text, agent_name=name, created_at=n.created_at) for n, name in rows]


async def average_handling_s(database: Database, recent: int = 20) -> float:
    """How long agents took with the latest closed handoffs, on average (a default before any)."""
    async with database.session() as session:
        rows = (
            await session.execute(
                select(Handoff.assigned_at, Handoff.closed_at)
                .where(Handoff.status == CLOSED, Handoff.assigned_at.is_not(None))
                .order_by(Handoff.id.desc())
                .limit(recent)
            )
        ).all()
    spans = [(closed - assigned).total_seconds() for assigned, closed in rows if assigned and closed]
    return sum(spans) / len(spans) if spans else DEFAULT_HANDLING_S


@dataclass(frozen=True)
class HandoffStats:
    """What the supervisor view shows of the day's handoffs."""

    per_hour: list[tuple[datetime, int]]
    average_wait_s: float | None
    satisfaction: dict[str, int]
    closed_today: int


async def handoff_stats(database: Database, now: datetime, hours: int = 12) -> HandoffStats:
    """Handoffs per China-time hour over the last ``hours``, average wait and ratings of the last day."""
    first_hour = in_china(now).replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    day_ago = now - timedelta(days=1)
    async with database.session() as session:
        created = (await session.scalars(select(Handoff.created_at).where(Handoff.created_at >= first_hour))).all()
        waits = (
            await session.execute(
                select(Handoff.created_at, Handoff.assigned_at).where(
                    Handoff.assigned_at.is_not(None), Handoff.assigned_at >= day_ago
                )
            )
        ).all()
        ratings = (
            await session.execute(
                select(Handoff.rating, func.count())
                .where(Handoff.rating.is_not(None), Handoff.rated_at >= day_ago)
                .group_by(Handoff.rating)
            )
        ).all()
        closed_today = await session.scalar(
            select(func.count()).select_from(Handoff).where(Handoff.status == CLOSED, Handoff.closed_at >= day_ago)
        )
    counts = {first_hour + timedelta(hours=n): 0 for n in range(hours)}
    for at in created:
        hour = in_china(at).replace(minute=0, second=0, microsecond=0)
        if hour in counts:
            counts[hour] += 1
    spans = [(assigned - created_at).total_seconds() for created_at, assigned in waits]
    satisfaction = {rating: 0 for rating in RATINGS}
    satisfaction.update({str(rating): int(count) for rating, count in ratings})
    return HandoffStats(
        per_hour=sorted(counts.items()),
        average_wait_s=sum(spans) / len(spans) if spans else None,
        satisfaction=satisfaction,
        closed_today=int(closed_today or 0),
    )


def _check_phrase(title: str, text: str) -> tuple[str, str]:
    title, text = title.strip(), text.strip()
    if not title or len(title) > MAX_PHRASE_TITLE or not text or len(text) > MAX_PHRASE_TEXT:
        raise ValueError(f"标题1-{MAX_PHRASE_TITLE}字，内容1-{MAX_PHRASE_TEXT}字")
    return title, text


async def list_phrases(database: Database, agent_id: int) -> list[PhraseView]:
    """The shared phrases, then the agent's own."""
    async with database.session() as session:
        rows = await session.scalars(
            select(CannedPhrase)
            .where((CannedPhrase.agent_id.is_(None)) | (CannedPhrase.agent_id == agent_id))
            .order_by(CannedPhrase.agent_id.is_not(None), CannedPhrase.id)
        )
        return [PhraseView(id=p.id, title=p.title, text=p.text, shared=p.agent_id is None) for p in rows]


async def add_phrase(database: Database, agent_id: int | None, title: str, text: str, now: datetime) -> PhraseView:
    """Keep a phrase of the agent's own (or a shared one, with no agent)."""
    title, text = _check_phrase(title, text)
    async with database.session() as session:
        phrase = CannedPhrase(agent_id=agent_id, title=title, text=text, created_at=now)
        session.add(phrase)
        await session.flush()
        return PhraseView(id=phrase.id, title=title, text=text, shared=agent_id is None)


async def update_phrase(database: Database, agent_id: int, phrase_id: int, title: str, text: str) -> PhraseView:
    """Change one of the agent's own phrases.

    Raises:
        PhraseNotFound: the agent has no phrase with this id.
    """
    title, text = _check_phrase(title, text)
    async with database.session() as session:
        phrase = await session.scalar(
            select(CannedPhrase).where(CannedPhrase.id == phrase_id, CannedPhrase.agent_id == agent_id)
        )
        if phrase is None:
            raise PhraseNotFound(phrase_id)
        phrase.title, phrase.text = title, text
        return PhraseView(id=phrase.id, title=title, text=text, shared=False)


async def delete_phrase(database: Database, agent_id: int, phrase_id: int) -> None:
    """Delete one of the agent's own phrases.

    Raises:
        PhraseNotFound: the agent has no phrase with this id.
    """
    async with database.session() as session:
        phrase = await session.scalar(
            select(CannedPhrase).where(CannedPhrase.id == phrase_id, CannedPhrase.agent_id == agent_id)
        )
        if phrase is None:
            raise PhraseNotFound(phrase_id)
        await session.delete(phrase)


DEFAULT_PHRASES = (
    ("问候", "您好，我是12345热线人工客服，很高兴为您服务。请问有什么可以帮您？"),
    ("稍等", "好的，请您稍等，我帮您查询一下。"),
    ("核实", "为了核实您的身份，请提供申请时登记的手机号码后四位。"),
    ("已登记", "您反映的问题已为您登记，我们会转交相关部门办理，办理结果会及时通知您。"),
    ("结束", "请问还有其他可以帮您的吗？如果没有，本次服务就到这里，感谢您的来电。"),
)


async def ensure_default_phrases(database: Database, now: datetime) -> None:
    """Give a new installation the shared phrases every centre starts with."""
    async with database.session() as session:
        if await session.scalar(select(func.count()).select_from(CannedPhrase).where(CannedPhrase.agent_id.is_(None))):
            return
        for title, text in DEFAULT_PHRASES:
            session.add(CannedPhrase(agent_id=None, title=title, text=text, created_at=now))
