"""Outages of the stores: a tracker database that is away, a lock held by an instance that died."""

from __future__ import annotations

import time
import uuid

import pytest
import redis
import sqlalchemy as sa
from rasa.core.agent import Agent
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain

from bot.core.db import DatabaseUnavailable
from bot.rasa.stores import SettingsLockStore, SettingsTrackerStore, TrackerStoreUnavailable
from tests.servers import free_port

DOMAIN = Domain.from_dict({"intents": ["greet"]})
REDIS_URL = "redis://127.0.0.1:6379/5"


@pytest.fixture
def store_away(monkeypatch: pytest.MonkeyPatch, clean_settings: None, tmp_path) -> SettingsTrackerStore:  # type: ignore[no-untyped-def]
    """Our tracker store, made on SQLite, then pointed at a PostgreSQL address where nothing listens."""
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'trackers.db'}")
    store = SettingsTrackerStore(domain=DOMAIN)
    store.engine.dispose()
    store.engine = sa.create_engine(
        f"postgresql://postgres@127.0.0.1:{free_port()}/hotline", connect_args={"connect_timeout": 2}
    )
    store.sessionmaker = sa.orm.sessionmaker(bind=store.engine)
    return store


async def test_the_agent_uses_our_tracker_store_without_a_fallback_to_memory(
    store_away: SettingsTrackerStore,
) -> None:
    agent = Agent(domain=DOMAIN, tracker_store=store_away)
    assert agent.tracker_store is store_away  # not wrapped in Rasa's FailSafeTrackerStore
    with pytest.raises(TrackerStoreUnavailable):
        await agent.tracker_store.retrieve("citizen-1")  # Rasa's wrapper answered None: an empty tracker


async def test_a_tracker_database_away_is_a_typed_error_on_every_operation(store_away: SettingsTrackerStore) -> None:
    tracker = await InMemoryTrackerStore(DOMAIN).get_or_create_tracker("citizen-2")
    for operation in (
        lambda: store_away.retrieve("citizen-2"),
        lambda: store_away.retrieve_full_tracker("citizen-2"),
        lambda: store_away.save(tracker),
        store_away.keys,
    ):
        with pytest.raises(TrackerStoreUnavailable) as raised:
            await operation()
        assert isinstance(raised.value, DatabaseUnavailable)  # the desk's handlers treat it as the database away


def test_other_tracker_stores_keep_rasas_wrapper(store_away: SettingsTrackerStore) -> None:
    agent = Agent(domain=DOMAIN, tracker_store=InMemoryTrackerStore(DOMAIN))
    assert isinstance(agent.tracker_store, FailSafeTrackerStore)


def test_lock_tickets_live_twenty_seconds_not_sixty(monkeypatch: pytest.MonkeyPatch, clean_settings: None) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("OUTSIDE_CALL_TIMEOUT_S", raising=False)
    store = SettingsLockStore()
    conversation = f"citizen-{uuid.uuid4().hex[:6]}"
    before = time.time()
    store.issue_ticket(conversation, 60)  # what Rasa's lock() passes
    lock = store.get_lock(conversation)
    assert lock is not None
    assert store.lifetime_s == 20.0
    assert before + 19 <= lock.tickets[0].expires <= time.time() + 20


async def test_a_lock_left_by_a_killed_instance_expires_after_its_lifetime(
    monkeypatch: pytest.MonkeyPatch, clean_settings: None
) -> None:
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    conversation = f"citizen-{uuid.uuid4().hex[:6]}"
    killed = SettingsLockStore(lifetime_s=2.0)
    killed.issue_ticket(conversation)  # its turn started, then the instance died: the ticket is never released
    survivor = SettingsLockStore(lifetime_s=2.0)
    started = time.monotonic()
    try:
        async with survivor.lock(conversation):
            waited = time.monotonic() - started
    finally:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).delete(f"hotline:lock:{conversation}")
    assert 1.0 <= waited <= 4.5  # the dead ticket blocked until it expired, no longer
