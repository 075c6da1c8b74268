"""The retention job with the clock moved forward, on SQLite and PostgreSQL: what goes, what stays for statistics."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, select, text

from bot.citizens.identity import identify, linked_citizen
from bot.core.clock import china
from bot.core.db import Database
from bot.core.models import ChatMessage, Citizen, CitizenLink, WorkOrder, WorkOrderEvent
from bot.core.settings import get_settings
from bot.privacy.retention import RetentionReport, run_retention
from bot.rasa.stores import SettingsTrackerStore
from bot.work_orders import lifecycle
from bot.work_orders.filing import file_order
from bot.work_orders.scheduler import run_once
from channels.webchat.live import MemoryHub
from channels.webchat.log import ChatLog
from tests.bot.conftest import PROPERTY, complaint

KEY = str(get_settings().pii_hash_key)
FILED = china(2026, 1, 5, 9)
HOUSING = "广州市天河区住房和城乡建设局"
PHONE = "13800138000"
SETTINGS = dataclasses.replace(
    get_settings(), retention_conversation_days=90, retention_anonymous_webchat_days=7, retention_order_days=365
)
DOMAIN = Domain.from_dict({"intents": ["greet"]})


def _later(days: float) -> datetime:
    return FILED + timedelta(days=days)


@pytest.fixture
def trackers(
    database: Database, monkeypatch: pytest.MonkeyPatch, clean_settings: None, tmp_path: Path
) -> Iterator[SettingsTrackerStore]:
    """Rasa's tracker store on the test's database (PostgreSQL) or a file beside it (SQLite), as configured."""
    url = database.url if not database.is_sqlite else f"sqlite:///{tmp_path / 'trackers.db'}"
    monkeypatch.setenv("TRACKER_STORE_URL", url)
    store = SettingsTrackerStore(domain=DOMAIN)
    yield store
    store.engine.dispose()


@pytest.fixture
async def tracker_database(database: Database, trackers: SettingsTrackerStore) -> AsyncIterator[Database]:
    """The tracker store's database as the retention job opens it."""
    same = get_settings().tracker_store_url == database.url
    opened = database if same else Database(get_settings().tracker_store_url)
    yield opened
    if not same:
        await opened.close()


async def _conversation(store: SettingsTrackerStore, sender: str, *moments: datetime) -> None:
    """A conversation with one session per moment, each with one message."""
    events = []
    for moment in moments:
        events += [SessionStarted(timestamp=moment.timestamp()), UserUttered("你好", timestamp=moment.timestamp() + 1)]
    await store.save(DialogueStateTracker.from_events(sender, events))


async def _senders(database: Database) -> dict[str, int]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(text("SELECT sender_id, count(*) FROM events GROUP BY sender_id"))
        return {sender: count for sender, count in rows}


async def _exists(database: Database, session_id: str) -> bool:
    """Whether the session is stored (asked of a fresh log: a log remembers the sessions it saw)."""
    return await ChatLog(database, MemoryHub()).exists(session_id)


async def _closed_order(database: Database, citizen_id: int | None, closed: datetime, **fields: object) -> str:
    given: dict[str, object] = {
        "summary": f"电梯坏了，联系我{PHONE}或者身份证11010519491231002X",
        "address": "天河区天河路1号",
        "latitude": 23.13,
        "longitude": 113.32,
        "contact_phone": PHONE if citizen_id is None else None,
        "citizen_id": citizen_id,
        "category": PROPERTY,
    }
    order = complaint(**{**given, **fields})
    number = (await file_order(database, order, FILED, settings=SETTINGS)).number
    await lifecycle.accept(database, number, HOUSING, "张工", FILED + timedelta(hours=1))
    await lifecycle.close(database, number, HOUSING, "张工", f"已修好，有问题打{PHONE}", closed)
    return number


async def test_a_closed_order_keeps_only_what_statistics_need_after_the_period(database: Database) -> None:
    citizen = await identify(database, PHONE, KEY, FILED)
    given = await _closed_order(database, None, _later(10))
    filed = await _closed_order(database, citizen.id, _later(10), address="天河区天河路2号")
    recent = await _closed_order(database, None, _later(300), address="天河区天河路3号")

    nothing = await run_retention(database, _later(374), SETTINGS)  # 364 days after closing: too early
    assert nothing == RetentionReport()
    report = await run_retention(database, _later(376), SETTINGS)
    assert report.orders == 2  # the recent one stays whole

    async with database.session() as session:
        for number in (given, filed):
            order = await session.get(WorkOrder, number)
            assert order is not None
            removed = (order.contact_phone, order.contact_phone_digest, order.address, order.address_key)
            assert removed == (None, None, None, None)
            assert (order.latitude, order.longitude, order.citizen_id, order.sender_id) == (None, None, None, "")
            assert PHONE not in order.summary and "11010519491231002X" not in order.summary
            assert "138****8000" in order.summary and "110105********002X" in order.summary
            assert order.reply is not None and PHONE not in order.reply
            kept = (order.kind, order.category_l1, order.category_l2, order.district, order.status, order.department)
            assert kept == ("投诉", *PROPERTY[:2], "天河区", lifecycle.CLOSED, HOUSING)
            assert order.created_at == FILED and order.closed_at == _later(10) and order.due_at is not None
            assert order.personal_data_removed_at == _later(376)
            reasons = await session.scalars(select(WorkOrderEvent.reason).where(WorkOrderEvent.order_number == number))
            assert all(PHONE not in reason for reason in reasons)
        still = await session.get(WorkOrder, recent)
        assert still is not None and still.contact_phone == PHONE and still.address == "天河区天河路3号"
    assert await run_retention(database, _later(377), SETTINGS) == RetentionReport()  # nothing new


async def test_a_citizen_not_seen_for_the_period_goes_once_no_order_needs_them(database: Database) -> None:
    quiet = await identify(database, PHONE, KEY, FILED, "webchat", "a" * 32)
    busy = await identify(database, "13912345678", KEY, FILED)
    await _closed_order(database, quiet.id, _later(1))
    open_order = complaint(citizen_id=busy.id, category=PROPERTY)
    await file_order(database, open_order, FILED, settings=SETTINGS)
    seen_again = await identify(database, "13700001111", KEY, _later(300))

    report = await run_retention(database, _later(367), SETTINGS)
    assert (report.orders, report.citizens) == (1, 1)  # the order lets go of its citizen first, then the citizen goes
    async with database.session() as session:
        left = set(await session.scalars(select(Citizen.id)))
        links = await session.scalar(select(func.count()).select_from(CitizenLink))
    assert left == {busy.id, seen_again.id} and links == 0
    assert await linked_citizen(database, "webchat", "a" * 32) is None


async def test_idle_web_chat_sessions_go_anonymous_ones_first(database: Database) -> None:
    log = ChatLog(database, MemoryHub())
    anonymous, verified, active = [await log.start_session() for _ in range(3)]
    # start_session stamps the real clock; the entries that count are moved to the test's time line.
    async with database.session() as session:
        await session.execute(ChatMessage.__table__.update().values(created_at=FILED))
    await identify(database, PHONE, KEY, FILED, "webchat", verified)
    async with database.session() as session:
        for session_id in (anonymous, verified, active):
            session.add(
                ChatMessage(session_id=session_id, seq=1, role="citizen", payload={"text": "你好"}, created_at=FILED)
            )
        session.add(
            ChatMessage(session_id=active, seq=2, role="citizen", payload={"text": "在吗"}, created_at=_later(88))
        )

    assert (await run_retention(database, _later(6), SETTINGS)).chat_sessions == 0
    first = await run_retention(database, _later(8), SETTINGS)
    assert (first.chat_sessions, first.chat_entries) == (1, 2)
    assert [await _exists(database, s) for s in (anonymous, verified, active)] == [False, True, True]
    second = await run_retention(database, _later(91), SETTINGS)
    assert second.chat_sessions == 1
    assert [await _exists(database, s) for s in (verified, active)] == [False, True]
    assert await linked_citizen(database, "webchat", verified) is None
    assert (await run_retention(database, _later(96), SETTINGS)).chat_sessions == 1
    await log.close()


async def test_conversation_events_go_after_the_period_and_the_current_session_stays(
    database: Database, trackers: SettingsTrackerStore, tracker_database: Database
) -> None:
    await _conversation(trackers, "tg-idle", FILED)
    await _conversation(trackers, "tg-going-on", FILED, _later(95))
    anonymous_session = "b" * 32
    log = ChatLog(database, MemoryHub())
    async with database.session() as session:
        session.add(ChatMessage(session_id=anonymous_session, seq=0, role="system", payload={}, created_at=_later(80)))
    await _conversation(trackers, f"web-{anonymous_session}", _later(80))

    report = await run_retention(database, _later(91), SETTINGS, tracker_database)
    # tg-idle: all 2 events; tg-going-on: its first session's 2 events; the anonymous web chat: all 2.
    assert (report.tracker_events, report.conversations, report.chat_sessions) == (6, 2, 1)
    assert await _senders(tracker_database) == {"tg-going-on": 2}
    going_on = await trackers.retrieve("tg-going-on")
    assert going_on is not None and going_on.latest_message is not None
    assert await run_retention(database, _later(92), SETTINGS, tracker_database) == RetentionReport()
    await log.close()


async def test_the_scheduler_runs_the_retention_job(database: Database) -> None:
    await _closed_order(database, None, _later(1))
    report = await run_once(database, _later(400), settings=SETTINGS)
    assert report.retention.orders == 1
    assert "清除工单个人信息1件" in report.summary()
