"""The web chat's durable log: every session's entries in order, and their delivery to open pages.

A session is made by the server (128 random bits) and starts with a ``session_started`` entry;
each later entry gets the next ``seq`` of its session. A page that reloads or reconnects asks
for the entries after the last ``seq`` it showed, so nothing said while it was away is lost.

Phone and ID numbers are masked in every entry before it is stored (the page shows them masked too,
even to the citizen who typed them). The retention job (``bot.privacy.retention``) deletes idle sessions.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

from sqlalchemy import JSON, String, func, insert, literal, select

from bot.core import clock
from bot.core.db import Database
from bot.core.models import ChatMessage, UtcDateTime
from bot.privacy.conversation import masked
from channels.connector import channel_runtime
from channels.pages import china_time
from channels.webchat.live import ChatHub, HubUnavailable, open_chat_hub

logger = logging.getLogger(__name__)

ROLES = frozenset({"citizen", "bot", "agent", "system"})
_SESSION_ID = re.compile(r"[0-9a-f]{32}")
# The most entries one read returns; a page catches up over several reads.
MAX_ENTRIES_PER_READ = 500


class UnknownSession(LookupError):
    """No web chat session has this id."""


def new_session_id() -> str:
    """A fresh session id: 128 random bits as 32 hex digits."""
    return secrets.token_hex(16)


def is_session_id(value: object) -> TypeGuard[str]:
    """Whether ``value`` has the form of a session id."""
    return isinstance(value, str) and _SESSION_ID.fullmatch(value) is not None


@dataclass(frozen=True)
class ChatEntry:
    """One entry of a session's log."""

    seq: int
    role: str
    payload: dict[str, Any]
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        """The entry as the page receives it."""
        return {"seq": self.seq, "role": self.role, "payload": self.payload, "at": china_time(self.created_at)}


def _entry(row: ChatMessage) -> ChatEntry:
    return ChatEntry(seq=row.seq, role=row.role, payload=dict(row.payload), created_at=row.created_at)


class ChatLog:
    """The sessions' entries in the project database, and the hub that wakes their pages."""

    def __init__(self, database: Database, hub: ChatHub) -> None:
        self.database = database
        self.hub = hub
        # A session is deleted only after days without a word (the retention job), so one seen to exist
        # is remembered: a message to a known session is taken without a database round trip before it
        # is stored (one deleted meanwhile fails at its append: UnknownSession).
        self._known: set[str] = set()

    async def start_session(self) -> str:
        """Make a new session and return its id."""
        session_id = new_session_id()
        async with self.database.session() as session:
            session.add(
                ChatMessage(
                    session_id=session_id,
                    seq=0,
                    role="system",
                    payload={"event": "session_started"},
                    created_at=clock.now(),
                )
            )
        self._remember(session_id)
        return session_id

    def _remember(self, session_id: str) -> None:
        if len(self._known) >= 100_000:
            self._known.clear()
        self._known.add(session_id)

    async def exists(self, session_id: str) -> bool:
        """Whether the session was made by this hotline."""
        if session_id in self._known:
            return True
        async with self.database.session() as session:
            found = await session.scalar(
                select(ChatMessage.id).where(ChatMessage.session_id == session_id, ChatMessage.seq == 0)
            )
        if found is not None:
            self._remember(session_id)
        return found is not None

    async def append(self, session_id: str, role: str, payload: dict[str, Any]) -> ChatEntry:
        """Store an entry as the session's next one and wake the session's pages.

        Raises:
            UnknownSession: no session has this id.
            ValueError: the role is not one of ``ROLES``.
            DatabaseUnavailable: the project database is down.
        """
        (entry,) = await self.append_all(session_id, role, [payload])
        return entry

    async def append_all(self, session_id: str, role: str, payloads: list[dict[str, Any]]) -> list[ChatEntry]:
        """Store entries as the session's next ones, in order and in one transaction, and wake its pages once.

        Raises:
            UnknownSession: no session has this id.
            ValueError: the role is not one of ``ROLES``, or there is nothing to store.
            DatabaseUnavailable: the project database is down.
        """
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        if not payloads:
            raise ValueError("no entries to store")
        stored = [masked(payload) for payload in payloads]  # never a full phone or ID number at rest
        now = clock.now()
        async with self.database.session() as session:
            # Appends to one session take turns: PostgreSQL locks the session's first entry until
            # commit; SQLite has one writer at a time and takes each seq within the INSERT itself.
            first = await session.scalar(
                select(ChatMessage.id)
                .where(ChatMessage.session_id == session_id, ChatMessage.seq == 0)
                .with_for_update()
            )
            if first is None:
                raise UnknownSession(session_id)
            columns = ["session_id", "seq", "role", "payload", "created_at"]
            for payload in stored:
                next_entry = select(
                    literal(session_id, String()),
                    func.max(ChatMessage.seq) + 1,
                    literal(role, String()),
                    literal(payload, JSON()),
                    literal(now, UtcDateTime()),
                ).where(ChatMessage.session_id == session_id)
                await session.execute(insert(ChatMessage).from_select(columns, next_entry))
            last = await session.scalar(select(func.max(ChatMessage.seq)).where(ChatMessage.session_id == session_id))
        first_seq = int(last) - len(stored) + 1
        entries = [
            ChatEntry(seq=first_seq + n, role=role, payload=payload, created_at=now) for n, payload in enumerate(stored)
        ]
        await self.signal(session_id, "entries")
        return entries

    async def entries_after(self, session_id: str, after: int, limit: int = MAX_ENTRIES_PER_READ) -> list[ChatEntry]:
        """The session's entries with a seq above ``after``, oldest first."""
        async with self.database.session() as session:
            rows = await session.scalars(
                select(ChatMessage)
                .where(ChatMessage.session_id == session_id, ChatMessage.seq > after)
                .order_by(ChatMessage.seq)
                .limit(limit)
            )
            return [_entry(row) for row in rows]

    async def signal(self, session_id: str, signal: str) -> None:
        """Wake the session's pages; when the hub is down they find new entries at their next heartbeat."""
        try:
            await self.hub.notify(session_id, signal)
        except HubUnavailable as error:
            logger.warning("web chat %s: signal %s not sent (%s)", session_id[:8], signal, error)

    async def close(self) -> None:
        """Release the hub's connections (the database belongs to the caller)."""
        await self.hub.close()


_chat_log: ChatLog | None = None


def web_chat_log() -> ChatLog:
    """This process's web chat log, on the connectors' database, created on first use (no I/O until then)."""
    global _chat_log
    if _chat_log is None:
        runtime = channel_runtime()
        _chat_log = ChatLog(runtime.database, open_chat_hub(runtime.settings))
    return _chat_log


async def close_web_chat_log() -> None:
    """Release this process's web chat connections (the server is stopping)."""
    global _chat_log
    if _chat_log is not None:
        await _chat_log.close()
        _chat_log = None


async def publish_to_session(
    session_id: str, role: str, payload: dict[str, Any], chat: ChatLog | None = None
) -> ChatEntry:
    """Deliver an entry to a web chat session: stored in its log and pushed to its open pages.

    An agent's message is ``("agent", {"text": ..., "agent": name})``; an agent joining is
    ``("system", {"event": "agent_joined", "agent": name})``. ``chat`` defaults to this process's log.

    Raises:
        UnknownSession: no session has this id.
        DatabaseUnavailable: the project database is down.
    """
    return await (chat or web_chat_log()).append(session_id, role, payload)
