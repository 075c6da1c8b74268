"""Rasa's tracker and lock stores as configured from the settings: SQLite, PostgreSQL, Redis."""

from __future__ import annotations

import uuid

import pytest
import redis
import sqlalchemy as sa
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa.stores import SettingsLockStore, SettingsTrackerStore
from tests.conftest import create_postgres_database, drop_postgres_database

DOMAIN = Domain.from_dict(
    {"intents": ["greet"], "slots": {"service": {"type": "text", "mappings": [{"type": "custom"}]}}}
)
REDIS_URL = "redis://127.0.0.1:6379/5"


async def _round_trip(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("TRACKER_STORE_URL", url)
    store = SettingsTrackerStore(domain=DOMAIN)
    sender = f"citizen-{uuid.uuid4().hex[:6]}"
    tracker = DialogueStateTracker.from_events(sender, [UserUttered("你好"), SlotSet("service", "护照")])
    await store.save(tracker)
    loaded = await store.retrieve(sender)
    assert loaded is not None
    assert loaded.get_slot("service") == "护照"
    assert loaded.latest_message is not None and loaded.latest_message.text == "你好"
    # A later turn stores only its new events.
    loaded.update(UserUttered("办护照"))
    await store.save(loaded)
    again = await store.retrieve(sender)
    assert again is not None
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["你好", "办护照"]
    store.engine.dispose()


async def test_tracker_store_on_sqlite(monkeypatch: pytest.MonkeyPatch, clean_settings: None, tmp_path) -> None:  # type: ignore[no-untyped-def]
    await _round_trip(monkeypatch, f"sqlite:///{tmp_path / 'sub' / 'trackers.db'}")


async def test_tracker_store_on_postgresql(monkeypatch: pytest.MonkeyPatch, clean_settings: None) -> None:
    url = await create_postgres_database()
    try:
        await _round_trip(monkeypatch, url)
    finally:
        await drop_postgres_database(url)


def test_lock_store_is_in_process_without_redis(monkeypatch: pytest.MonkeyPatch, clean_settings: None) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert isinstance(SettingsLockStore().store, InMemoryLockStore)


async def test_lock_store_uses_real_redis(monkeypatch: pytest.MonkeyPatch, clean_settings: None) -> None:
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    store = SettingsLockStore()
    assert isinstance(store.store, RedisLockStore)
    conversation = f"citizen-{uuid.uuid4().hex[:6]}"
    async with store.lock(conversation):
        keys = redis.Redis.from_url(REDIS_URL, socket_timeout=2).keys("hotline*")
        assert any(conversation.encode() in key for key in keys)
    assert store.get_lock(conversation) is None


async def test_only_the_latest_session_is_read_back(
    monkeypatch: pytest.MonkeyPatch, clean_settings: None, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'trackers.db'}")
    store = SettingsTrackerStore(domain=DOMAIN)
    events = [
        SessionStarted(timestamp=1.0),
        UserUttered("旧的消息", timestamp=2.0),
        SessionStarted(timestamp=3.0),
        UserUttered("新的消息", timestamp=4.0),
    ]
    await store.save(DialogueStateTracker.from_events("citizen-sessions", events))
    latest = await store.retrieve("citizen-sessions")
    full = await store.retrieve_full_tracker("citizen-sessions")
    assert latest is not None and full is not None
    assert [e.text for e in latest.events if isinstance(e, UserUttered)] == ["新的消息"]
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == ["旧的消息", "新的消息"]
    store.engine.dispose()


async def test_stored_rows_are_those_rasas_own_store_writes(
    monkeypatch: pytest.MonkeyPatch, clean_settings: None, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """One INSERT of many rows stores what Rasa's ORM object per event stored, in the same order."""
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'ours.db'}")
    ours = SettingsTrackerStore(domain=DOMAIN)
    rasas = SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "rasa.db"))
    first = [
        SessionStarted(timestamp=1.0),
        ActionExecuted("action_listen", timestamp=2.0),
        UserUttered("你好", {"name": "greet", "confidence": 0.9}, timestamp=3.0),
        SlotSet("service", "护照", timestamp=4.0),
    ]
    later = [ActionExecuted("utter_greet", timestamp=5.0), BotUttered("您好", timestamp=6.0)]
    for store in (ours, rasas):
        tracker = DialogueStateTracker.from_events("citizen-rows", first)
        await store.save(tracker)
        await store.save(tracker)  # nothing new: nothing stored
        tracker.update_with_events(later, DOMAIN, override_timestamp=False)
        await store.save(tracker)

    def rows(store: SQLTrackerStore) -> list[tuple[object, ...]]:
        with store.engine.connect() as connection:
            return list(
                connection.execute(
                    sa.text(
                        "SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data FROM events"
                        " ORDER BY id"
                    )
                )
            )

    assert len(rows(ours)) == 6
    assert rows(ours) == rows(rasas)
    ours.engine.dispose()
    rasas.engine.dispose()
