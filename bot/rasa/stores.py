"""Rasa's tracker and lock stores, configured from bot.core.settings rather than endpoints.yml.

The tracker store never falls back to memory. Rasa's ``Agent`` wraps every tracker store in a
``FailSafeTrackerStore`` that, when the database fails, answers from an empty in-memory tracker and
keeps the turn there: the citizen is answered without context (an address typed mid-form gets
"还有什么可以帮您？") and the turn is never stored. Ours is used unwrapped: a database that is away
raises ``TrackerStoreUnavailable``, the turn fails before anything is said or stored, the connector
answers ``BUSY_REPLY``, and once the database is back the conversation goes on where it was.

What is stored holds no full phone or ID number (``bot.privacy.conversation.protect_event``): every
event is masked on its way into the database; the citizen's words are kept sealed (encrypted) beside
the masked text, for an agent who reveals the transcript, and slot values the dialogue needs later
come sealed from the action server. The store refuses to start without a valid encryption key.

Conversation locks live ``LOCK_LIFETIME_S`` (20 s), not Rasa's 60 s: a ticket is only released by
its expiry when the instance holding it died, so this is how long a killed instance blocks its
citizens. It must outlast the longest turn (otherwise two turns of one conversation could run at
once): a turn is at most a few action server calls, each bounded by the outside-call timeout (5 s)
of what it calls, so four of those.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import redis.asyncio as aioredis
import sqlalchemy as sa
from rasa.core.agent import Agent
from rasa.core.brokers.broker import EventBroker
from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bot.core.db import DatabaseUnavailable, enable_sqlite_pragmas, outage_as, private_sqlite_file
from bot.core.encryption import cipher
from bot.core.settings import Settings, get_settings
from bot.privacy.conversation import protect_event
from bot.rasa import patches as rasa_patches

logger = logging.getLogger(__name__)

# A turn is at most a few action server calls, each bounded by the outside-call timeout of what it calls.
TURNS_CALLS = 4


class TrackerStoreUnavailable(DatabaseUnavailable):
    """The tracker database could not be reached or answered too slowly: the turn cannot be taken."""


def lock_lifetime_s(settings: Settings) -> float:
    """How long a conversation's lock ticket lives: longer than the longest turn, short after a crash."""
    return max(15.0, TURNS_CALLS * settings.outside_call_timeout_s)


def _create_tracker_store(store: TrackerStore | None, domain: Domain) -> TrackerStore:
    """Rasa's ``Agent._create_tracker_store``, except that ours is never wrapped in a fallback to memory."""
    if isinstance(store, SettingsTrackerStore):
        store.domain = domain
        return store
    return _RASA_CREATE_TRACKER_STORE(store, domain)


_RASA_CREATE_TRACKER_STORE: Callable[[TrackerStore | None, Domain], TrackerStore] = Agent._create_tracker_store


def refuse_memory_fallback() -> None:
    """Have Rasa's agent use our tracker store as it is, without ``FailSafeTrackerStore`` (once)."""
    Agent._create_tracker_store = staticmethod(_create_tracker_store)


def _unavailable_as_typed(operation: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a database that is away into ``TrackerStoreUnavailable`` (its other errors pass unchanged)."""

    @functools.wraps(operation)
    async def checked(self: SettingsTrackerStore, *args: Any, **kwargs: Any) -> Any:
        with outage_as(TrackerStoreUnavailable, "the tracker store is unavailable"):
            return await operation(self, *args, **kwargs)

    return checked


class SettingsTrackerStore(SQLTrackerStore):
    """The SQL tracker store on ``TRACKER_STORE_URL`` (by default ``DATABASE_URL``)."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        # Rasa creates its tracker store once at start-up: the moment to fix its hot path, and to
        # keep its agent from hiding a database that is away behind an empty tracker in memory.
        rasa_patches.install()
        refuse_memory_fallback()
        cipher()  # no key, or a malformed one: the server does not start (PersonalDataKeyError)
        settings = get_settings()
        url = make_url(settings.tracker_store_url)
        dialect = url.get_backend_name()
        if dialect == "sqlite" and url.database:
            private_sqlite_file(Path(url.database))  # readable by its owner only, as the project database
        super().__init__(
            domain=domain,
            dialect=dialect,
            host=url.host,
            port=url.port,
            db=url.database or "rasa.db",
            username=url.username,
            password=url.password,
            event_broker=event_broker,
            query=dict(url.query) or None,
        )
        if dialect == "sqlite":
            # Rasa opens a new SQLite connection for every read and write (a tenth of a turn's
            # CPU); a small pool of connections, shared across the server's threads, is reused.
            pooled = sa.create_engine(
                url,
                poolclass=sa.pool.QueuePool,
                pool_size=4,
                max_overflow=4,
                connect_args={"check_same_thread": False, "timeout": 5},
            )
            event.listen(pooled, "connect", enable_sqlite_pragmas)
            self.engine.dispose()  # type: ignore[has-type]  # Rasa sets it untyped
            self.engine = pooled
            self.sessionmaker = sa.orm.sessionmaker(bind=pooled)
        elif dialect == "postgresql":
            # Connecting and every statement are bounded in time, and a connection the server dropped
            # (a restart) is replaced before use rather than failing the first turn after it.
            timeout_s = settings.outside_call_timeout_s
            bounded = sa.create_engine(
                url,
                pool_size=5,
                max_overflow=10,
                pool_pre_ping=True,
                pool_timeout=timeout_s,
                connect_args={
                    "connect_timeout": max(1, math.ceil(timeout_s)),
                    "options": f"-c statement_timeout={int(2 * timeout_s * 1000)}",
                },
            )
            self.engine.dispose()  # Rasa sets it untyped
            self.engine = bounded
            self.sessionmaker = sa.orm.sessionmaker(bind=bounded)

    @_unavailable_as_typed
    async def keys(self) -> Iterable[str]:
        """The conversation ids stored.

        Raises:
            TrackerStoreUnavailable: the tracker database is away.
        """
        return await super().keys()

    @_unavailable_as_typed
    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events, their phone and ID numbers masked (Rasa's own ``save`` otherwise).

        Raises:
            TrackerStoreUnavailable: the tracker database is away (nothing of the turn is stored).
        """
        await self.stream_events(tracker)
        # The database's driver blocks: on a thread, so the event loop serves other turns meanwhile.
        await asyncio.to_thread(self._store_new_events, tracker)

    def _store_new_events(self, tracker: DialogueStateTracker) -> None:
        """Write the tracker's events not stored yet, masked, in one transaction (blocking).

        The rows go in with one plain INSERT of many rows, in the events' order: an ORM object per
        event, flushed one statement at a time, cost about 5% of the server's CPU per turn.
        """
        with self.session_scope() as session:
            rows = []
            for event in self._additional_events(session, tracker):
                data = protect_event(event.as_dict())
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()

    @_unavailable_as_typed
    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        """Rasa's own query of a conversation's events, reading only their JSON.

        Rasa builds an ORM object per stored event only to read its ``data`` column (a tenth of
        a turn's CPU); the same query with just that column gives the same tracker.

        Raises:
            TrackerStoreUnavailable: the tracker database is away (never an empty tracker instead).
        """
        rows = await asyncio.to_thread(self._stored_event_data, sender_id, fetch_events_from_all_sessions)
        events = [json.loads(data) for data in rows]
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    def _stored_event_data(self, sender_id: str, fetch_events_from_all_sessions: bool) -> list[str]:
        """The JSON of a conversation's stored events, in order (blocking)."""
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions)
            return [data for (data,) in query.with_entities(self.SQLEvent.data).all()]

    def _additional_events(self, session: sa.orm.Session, tracker: DialogueStateTracker) -> Iterator[Event]:
        """The tracker's events not stored yet, counting the stored ones with one plain COUNT."""
        query = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False)
        stored = query.order_by(None).with_entities(sa.func.count(self.SQLEvent.id)).scalar() or 0
        return itertools.islice(tracker.events, stored, len(tracker.events))


class _Listener(Protocol):
    """Waits for the next release of one conversation's lock."""

    async def wait(self, timeout_s: float) -> None:
        """Return at the next release, or after ``timeout_s``."""

    async def close(self) -> None:
        """Stop listening."""


class _LocalReleases:
    """Releases announced to the waiters of this process (the in-process lock store)."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    async def listen(self, conversation_id: str) -> _Listener:
        """A listener for the conversation's next release."""
        return _EventListener(self._events, conversation_id)

    async def announce(self, conversation_id: str) -> None:
        """Wake the conversation's waiters."""
        released = self._events.pop(conversation_id, None)
        if released is not None:
            released.set()


class _EventListener:
    def __init__(self, events: dict[str, asyncio.Event], conversation_id: str) -> None:
        self._events, self._conversation_id = events, conversation_id

    async def wait(self, timeout_s: float) -> None:
        """Return at the next release, or after ``timeout_s``."""
        # Taken without an await after the lock was checked: a release cannot fall in between.
        released = self._events.setdefault(self._conversation_id, asyncio.Event())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(released.wait(), timeout_s)

    async def close(self) -> None:
        """Nothing to release."""


class _RedisReleases:
    """Releases announced on a Redis channel per conversation, to the waiters of every instance."""

    def __init__(self, url: str, prefix: str, timeout_s: float) -> None:
        self._url, self._prefix, self._timeout_s = url, prefix, timeout_s
        self._clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}

    def _client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = aioredis.Redis.from_url(
                self._url, socket_timeout=self._timeout_s, socket_connect_timeout=self._timeout_s
            )
            self._clients = {loop: client}  # a client of a loop that is gone is dropped with it
        return client

    def channel(self, conversation_id: str) -> str:
        """The Redis channel on which the conversation's lock releases are announced."""
        return f"{self._prefix}lock-released:{conversation_id}"

    async def listen(self, conversation_id: str) -> _Listener:
        """A listener subscribed to the conversation's releases (checked again by the caller after this)."""
        pubsub = self._client().pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel(conversation_id))
        except (RedisError, OSError) as error:
            logger.warning("lock releases not heard (%s): waiting by polling", type(error).__name__)
            await pubsub.close()
            return _Polling()
        return _PubSubListener(pubsub)

    async def announce(self, conversation_id: str) -> None:
        """Tell every instance's waiters that the lock was released (best effort: they also wait for expiry)."""
        try:
            await self._client().publish(self.channel(conversation_id), "1")
        except (RedisError, OSError) as error:
            logger.warning("lock release not announced (%s): waiters poll", type(error).__name__)


class _PubSubListener:
    def __init__(self, pubsub: Any) -> None:
        self._pubsub = pubsub

    async def wait(self, timeout_s: float) -> None:
        """Return at the next release, or after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        try:
            while (left := deadline - time.monotonic()) > 0:
                if await self._pubsub.get_message(timeout=left) is not None:
                    return
        except (RedisError, OSError) as error:
            logger.warning("lock releases not heard (%s): waiting by polling", type(error).__name__)
            await asyncio.sleep(min(timeout_s, _POLL_S))

    async def close(self) -> None:
        """Unsubscribe and give the connection back."""
        with contextlib.suppress(RedisError, OSError):
            await self._pubsub.unsubscribe()
        await self._pubsub.close()


class _Polling:
    """Rasa's own way, only while Redis does not answer the subscription."""

    async def wait(self, timeout_s: float) -> None:
        """Sleep a polling interval."""
        await asyncio.sleep(min(timeout_s, _POLL_S))

    async def close(self) -> None:
        """Nothing to release."""


# Rasa's polling interval, used only while Redis does not carry the releases.
_POLL_S = 1.0

# No ticket held yet: ``_RedisTickets.take`` issues one.
NO_TICKET = -1

# Rasa's ticket lock (``rasa.core.lock.TicketLock`` as its RedisLockStore keeps it: JSON with each ticket a JSON
# string) read, changed and written back in one step, so two instances never issue the same ticket number.
_LOCK_LUA = """
local function load(now)
  local kept = {}
  local raw = redis.call('GET', KEYS[1])
  if raw then
    for _, text in ipairs(cjson.decode(raw).tickets or {}) do
      local ticket = cjson.decode(text)
      if ticket.expires >= now then table.insert(kept, ticket) end
    end
  end
  return kept
end
local function store(tickets, now)
  if #tickets == 0 then
    redis.call('DEL', KEYS[1])
    return
  end
  local texts, last = {}, now
  for i, ticket in ipairs(tickets) do
    texts[i] = cjson.encode({number = ticket.number, expires = ticket.expires})
    last = math.max(last, ticket.expires)
  end
  local lock = cjson.encode({conversation_id = ARGV[1], tickets = texts})
  redis.call('SET', KEYS[1], lock, 'PX', math.ceil((last - now) * 1000) + 1000)
end
"""
# ARGV: conversation id, now, lifetime, the caller's ticket (NO_TICKET for a new one). Expired tickets are dropped;
# a caller whose ticket expired while it waited gets a new one at the back. Returns the ticket, 1 if it is served
# now (the first in line) or 0, and the milliseconds left to the ticket served now.
_TAKE_LUA = (
    _LOCK_LUA
    + """
local now, lifetime, mine = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tickets = load(now)
local held = false
for _, ticket in ipairs(tickets) do
  if ticket.number == mine then held = true end
end
if not held then
  mine = #tickets > 0 and tickets[#tickets].number + 1 or 0
  table.insert(tickets, {number = mine, expires = now + lifetime})
end
store(tickets, now)
local first = tickets[1]
return {mine, first.number == mine and 1 or 0, math.floor((first.expires - now) * 1000)}
"""
)
# ARGV: conversation id, now, the ticket given back, the channel its waiters listen on.
_RELEASE_LUA = (
    _LOCK_LUA
    + """
local now, mine = tonumber(ARGV[2]), tonumber(ARGV[3])
local kept = {}
for _, ticket in ipairs(load(now)) do
  if ticket.number ~= mine then table.insert(kept, ticket) end
end
store(kept, now)
redis.call('PUBLISH', ARGV[4], '1')
return #kept
"""
)


class _RedisTickets:
    """Conversation lock tickets in Redis, taken and given back in one atomic round trip each (Rasa's RedisLockStore
    makes seven a turn, and two instances reading and writing the lock between them can issue the same ticket).

    The calls block the event loop for a local round trip each, like Rasa's: measured, awaiting them on redis-py's
    asyncio client made the turns no faster (its client costs more CPU than the round trip it saves).
    """

    def __init__(self, client: Any, key_prefix: str, channel: Callable[[str], str]) -> None:
        self._key_prefix, self._channel = key_prefix, channel
        self._take = client.register_script(_TAKE_LUA)
        self._release = client.register_script(_RELEASE_LUA)

    def take(self, conversation_id: str, ticket: int, lifetime_s: float) -> tuple[int, bool, float]:
        """Issue a ticket (or keep ``ticket``): its number, whether it is served now, seconds left to the one served."""
        mine, serving, left_ms = self._take(
            keys=[self._key_prefix + conversation_id], args=[conversation_id, time.time(), lifetime_s, ticket]
        )
        return int(mine), bool(serving), max(0.0, int(left_ms) / 1000)

    def release(self, conversation_id: str, ticket: int) -> None:
        """Give the ticket back and wake the conversation's waiters on every instance."""
        self._release(
            keys=[self._key_prefix + conversation_id],
            args=[conversation_id, time.time(), ticket, self._channel(conversation_id)],
        )


class SettingsLockStore(LockStore):
    """Rasa's Redis lock store when ``REDIS_URL`` is set, its in-memory one otherwise; short-lived tickets.

    A waiter is woken when the lock is released (an event in-process, a Redis channel across
    instances), not by Rasa's one-second polling: one citizen's burst of messages is taken one turn
    right after the other. A ticket whose holder died is passed when it expires.
    """

    def __init__(self, endpoint_config: EndpointConfig | None = None, lifetime_s: float | None = None) -> None:
        settings = get_settings()
        # Every ticket lives this long, whatever Rasa asks for (its callers pass its 60 s default).
        self.lifetime_s = lifetime_s if lifetime_s is not None else lock_lifetime_s(settings)
        self.store: LockStore
        self.releases: _LocalReleases | _RedisReleases
        self.tickets: _RedisTickets | None = None
        if settings.redis_url:
            url = make_url(settings.redis_url)
            self.store = RedisLockStore(
                host=url.host or "localhost",
                port=url.port or 6379,
                db=int(url.database or 1),
                username=url.username,
                password=url.password,
                use_ssl=url.drivername == "rediss",
                key_prefix="hotline",
            )
            self.releases = _RedisReleases(settings.redis_url, settings.redis_prefix, settings.outside_call_timeout_s)
            self.tickets = _RedisTickets(self.store.red, self.store.key_prefix, self.releases.channel)
        else:
            self.store = InMemoryLockStore()
            self.releases = _LocalReleases()
        super().__init__()

    @contextlib.asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = 0.0, wait_time_in_seconds: float = 1
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock for a turn (Rasa's ticket lock, ``lifetime_s`` per ticket).

        Waiting ends when the lock is released (announced) or when the ticket served now expires
        (its holder died), never on a polling interval. Rasa's own waiting loop never ends when the
        waiter's ticket expires while it waits (behind a dead instance's ticket issued just before
        it, or a long turn): the ticket is gone, so the lock never serves it. Here an expired ticket
        is replaced by a fresh one at the back.
        """
        if self.tickets is not None:
            async with self._redis_lock(self.tickets, conversation_id) as lock:
                yield lock
            return
        tickets = [self.issue_ticket(conversation_id)]
        listener: _Listener | None = None
        try:
            while True:
                lock = self.get_lock(conversation_id)
                if lock is None or lock._ticket_for_ticket_number(tickets[-1]) is None:
                    tickets.append(self.issue_ticket(conversation_id))  # ours expired while waiting
                    continue
                if not lock.is_locked(tickets[-1]):
                    break
                if listener is None:  # listening first, then checked again: no release falls in between
                    listener = await self.releases.listen(conversation_id)
                    continue
                serving = lock._ticket_for_ticket_number(lock.now_serving)
                await listener.wait(max(0.0, serving.expires - time.time()) + 0.01 if serving else 0.01)
                self.update_lock(conversation_id)
            if listener is not None:
                await listener.close()
                listener = None
            yield lock
        finally:
            if listener is not None:
                await listener.close()
            self.cleanup(conversation_id, tickets[-1])
            await self.releases.announce(conversation_id)

    @contextlib.asynccontextmanager
    async def _redis_lock(self, tickets: _RedisTickets, conversation_id: str) -> AsyncIterator[TicketLock]:
        """The same waiting on Redis, each step one atomic script: two round trips a turn when nobody waits."""
        ticket, serving, left_s = tickets.take(conversation_id, NO_TICKET, self.lifetime_s)
        listener: _Listener | None = None
        try:
            while not serving:
                if listener is None:  # listening first, then checked again: no release falls in between
                    listener = await self.releases.listen(conversation_id)
                else:
                    await listener.wait(left_s + 0.01)
                ticket, serving, left_s = tickets.take(conversation_id, ticket, self.lifetime_s)
            if listener is not None:
                await listener.close()
                listener = None
            yield TicketLock(conversation_id)
        finally:
            if listener is not None:
                await listener.close()
            tickets.release(conversation_id, ticket)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = 0.0) -> int:
        """A ticket for the conversation's lock, living ``lifetime_s`` (Rasa's ``lock_lifetime`` is ignored)."""
        return super().issue_ticket(conversation_id, self.lifetime_s)

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """Fetch the lock of a conversation."""
        return self.store.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        """Delete the lock of a conversation."""
        self.store.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        """Save a conversation's lock."""
        self.store.save_lock(lock)
