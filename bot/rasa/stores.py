"""Rasa's tracker and lock stores, configured from bot.core.settings rather than endpoints.yml."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bot.core.db import enable_sqlite_pragmas
from bot.core.settings import get_settings
from bot.rasa import patches as rasa_patches


class SettingsTrackerStore(SQLTrackerStore):
    """The SQL tracker store on ``TRACKER_STORE_URL`` (by default ``DATABASE_URL``)."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        # Rasa creates its tracker store once at start-up: the moment to fix its hot path.
        rasa_patches.install()
        url = make_url(get_settings().tracker_store_url)
        dialect = url.get_backend_name()
        if dialect == "sqlite" and url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
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

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        """Rasa's own query of a conversation's events, reading only their JSON.

        Rasa builds an ORM object per stored event only to read its ``data`` column (a tenth of
        a turn's CPU); the same query with just that column gives the same tracker.
        """
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions)
            rows = query.with_entities(self.SQLEvent.data).all()
        events = [json.loads(data) for (data,) in rows]
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    def _additional_events(self, session: sa.orm.Session, tracker: DialogueStateTracker) -> Iterator[Event]:
        """The tracker's events not stored yet, counting the stored ones with one plain COUNT."""
        query = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False)
        stored = query.order_by(None).with_entities(sa.func.count(self.SQLEvent.id)).scalar() or 0
        return itertools.islice(tracker.events, stored, len(tracker.events))


class SettingsLockStore(LockStore):
    """Rasa's Redis lock store when ``REDIS_URL`` is set, its in-memory one otherwise."""

    def __init__(self, endpoint_config: EndpointConfig | None = None) -> None:
        settings = get_settings()
        self.store: LockStore
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
        else:
            self.store = InMemoryLockStore()
        super().__init__()

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """Fetch the lock of a conversation."""
        return self.store.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        """Delete the lock of a conversation."""
        self.store.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        """Save a conversation's lock."""
        self.store.save_lock(lock)
