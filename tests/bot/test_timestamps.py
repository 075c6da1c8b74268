"""Databases made before the one clock: their China times converted to UTC once, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import DateTime, column, insert, select, table, text
from sqlalchemy.exc import IntegrityError

from bot.core import timestamps
from bot.core.clock import UTC, china
from bot.core.db import Database, OutdatedTimestamps
from bot.core.models import (
    AgentAccount,
    AgentSession,
    Base,
    ChatMessage,
    Citizen,
    CitizenLink,
    SchemaMeta,
    UtcDateTime,
    WorkOrder,
    WorkOrderEvent,
)
from tests.bot.conftest import ORDER_ROW

# What the code before the change wrote: naive China time (local_now) and naive UTC (utc_now).
CHINA_FILED = datetime(2026, 11, 28, 9, 30, 0, 123456)  # China time; microseconds must survive
CHINA_DUE = datetime(2026, 12, 4, 23, 59, 59)
UTC_LOGIN = datetime(2026, 11, 28, 1, 45)  # UTC: 09:45 in China


def _row(name: str, **values: Any) -> Any:
    """An INSERT into an old table through plain (naive) DateTime columns, as the old models wrote it."""
    columns = [column(key, DateTime()) if isinstance(value, datetime) else column(key) for key, value in values.items()]
    return insert(table(name, *columns)).values(**values)


def _order(number: str, created_at: datetime, **values: Any) -> Any:
    return _row("work_orders", **ORDER_ROW, number=number, created_at=created_at, due_at=CHINA_DUE, **values)


async def stored_filing_time(database: Database) -> str:
    """The first order's created_at as its column holds it, read as text (no conversion)."""
    async with database.engine.connect() as connection:
        raw = await connection.scalar(text("SELECT created_at FROM work_orders WHERE number = 'WO2026112800001'"))
    return str(raw)


async def make_old_database(url: str) -> None:
    """The project's tables without the mark, holding what the old code wrote."""
    database = Database(url)
    old_tables = [t for t in Base.metadata.sorted_tables if t.name != SchemaMeta.__tablename__]
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(lambda sync: Base.metadata.create_all(sync, tables=old_tables))
            await connection.execute(_order("WO2026112800001", CHINA_FILED))
            await connection.execute(
                _order("WO2026112800002", datetime(2026, 11, 28, 10), accepted_at=datetime(2026, 11, 28, 11))
            )
            await connection.execute(
                _row(
                    "work_order_events",
                    order_number="WO2026112800001",
                    at=CHINA_FILED,
                    actor="citizen",
                    action="file",
                    to_state="已受理",
                    reason="",
                )
            )
            await connection.execute(
                _row(
                    "agents",
                    username="wangli",
                    display_name="王丽",
                    role="agent",
                    password_hash="x",
                    failed_logins=0,
                    active=True,
                    created_at=datetime(2026, 11, 1, 2, 0),
                    last_login_at=UTC_LOGIN,
                )
            )
            await connection.execute(
                _row(
                    "agent_sessions",
                    token_digest="d" * 64,
                    agent_id=1,
                    csrf_token="c" * 64,
                    created_at=UTC_LOGIN,
                    expires_at=datetime(2026, 11, 28, 13, 45),
                    last_seen_at=UTC_LOGIN,
                )
            )
            await connection.execute(
                _row("chat_messages", session_id="a" * 32, seq=0, role="system", payload="{}", created_at=UTC_LOGIN)
            )
            # Citizens (id, created_at, last_seen_at) and their links (channel, verified_at), as identify wrote them.
            web = datetime(2026, 11, 20, 2, 0)  # UTC (10:00 China)
            sms = datetime(2026, 11, 21, 10, 0)  # China
            web_later = datetime(2026, 11, 25, 3, 0)  # UTC (11:00 China)
            citizens = [
                (1, web, web),  # web chat only
                (2, sms, sms),  # SMS only
                (3, sms, web_later),  # first by SMS, last seen on the web chat
                (4, web, sms),  # first on the web chat, last seen by SMS
                (5, web, web_later),  # web chat twice: the first verification was overwritten
                (6, sms, sms),  # no link left
            ]
            for citizen_id, created_at, last_seen_at in citizens:
                await connection.execute(
                    _row(
                        "citizens",
                        id=citizen_id,
                        phone_digest=f"{citizen_id:064d}",
                        phone=f"1380000000{citizen_id}",
                        created_at=created_at,
                        last_seen_at=last_seen_at,
                    )
                )
            links = [
                (1, "webchat", "s1", web),
                (2, "sms", "m2", sms),
                (3, "sms", "m3", sms),
                (3, "webchat", "s3", web_later),
                (4, "webchat", "s4", web),
                (4, "sms", "m4", sms),
                (5, "webchat", "s5", web_later),
            ]
            for citizen_id, channel, external_id, verified_at in links:
                await connection.execute(
                    _row(
                        "citizen_links",
                        channel=channel,
                        external_id=external_id,
                        citizen_id=citizen_id,
                        verified_at=verified_at,
                    )
                )
    finally:
        await database.close()


@pytest.fixture
async def old_url(url: str) -> str:
    """The URL of a database made the old way, on SQLite and on real PostgreSQL."""
    await make_old_database(url)
    return url


async def test_an_old_database_is_converted_once(old_url: str) -> None:
    database = Database(old_url)
    try:
        assert await database.holds_old_times()
        with pytest.raises(OutdatedTimestamps, match="db init"):
            await database.create_schema()
        assert await database.holds_old_times()  # refusing changed nothing

        assert await database.upgrade() > 0
        assert not await database.holds_old_times()
        async with database.session() as session:
            first = await session.get(WorkOrder, "WO2026112800001")
            second = await session.get(WorkOrder, "WO2026112800002")
            event = await session.scalar(select(WorkOrderEvent))
            agent = await session.scalar(select(AgentAccount))
            login = await session.scalar(select(AgentSession))
            message = await session.scalar(select(ChatMessage))
            citizens = {c.id: (c.created_at, c.last_seen_at) for c in await session.scalars(select(Citizen))}
            links = {link.external_id: link.verified_at for link in await session.scalars(select(CitizenLink))}
        assert first is not None and second is not None and event is not None
        # China times are now the same moments, kept in UTC; microseconds and empty columns are kept.
        assert first.created_at == china(2026, 11, 28, 9, 30, 0, 123456)
        assert (await stored_filing_time(database)).startswith("2026-11-28 01:30:00.123456")
        assert first.due_at == china(2026, 12, 4, 23, 59, 59)
        assert first.accepted_at is None
        assert second.accepted_at == china(2026, 11, 28, 11)
        assert event.at == first.created_at
        # UTC times stay as they were.
        assert agent is not None and login is not None and message is not None
        assert agent.created_at == datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
        assert agent.last_login_at == login.created_at == login.last_seen_at == china(2026, 11, 28, 9, 45)
        assert message.created_at == china(2026, 11, 28, 9, 45)
        assert login.expires_at == datetime(2026, 11, 28, 13, 45, tzinfo=UTC)
        # Citizens: the web chat wrote UTC, the other channels China time.
        web, sms, web_later = china(2026, 11, 20, 10), china(2026, 11, 21, 10), china(2026, 11, 25, 11)
        assert citizens == {
            1: (web, web),
            2: (sms, sms),
            3: (sms, web_later),
            4: (web, sms),
            5: (web, web_later),
            6: (sms, sms),
        }
        assert links == {"s1": web, "m2": sms, "m3": sms, "s3": web_later, "s4": web, "m4": sms, "s5": web_later}

        # Again: nothing changes.
        assert await database.upgrade() == 0
        await database.create_schema()
        async with database.session() as session:
            again = await session.get(WorkOrder, "WO2026112800001")
            assert again is not None and again.created_at == first.created_at
            assert {c.id: (c.created_at, c.last_seen_at) for c in await session.scalars(select(Citizen))} == citizens
            assert (await session.scalars(select(SchemaMeta.key, SchemaMeta.value))).all() == ["timestamps"]
    finally:
        await database.close()


async def test_a_failed_conversion_changes_nothing(old_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    statements = timestamps.conversion_statements

    def failing(dialect: str) -> list[str]:
        return [*statements(dialect), "UPDATE work_orders SET summary = NULL"]  # NOT NULL: refused

    monkeypatch.setattr(timestamps, "conversion_statements", failing)
    database = Database(old_url)
    try:
        with pytest.raises(IntegrityError):
            await database.upgrade()
        assert await database.holds_old_times()
        assert (await stored_filing_time(database)).startswith("2026-11-28 09:30:00.123456")
    finally:
        await database.close()


async def test_two_conversions_at_once_convert_once(old_url: str) -> None:
    databases = [Database(old_url), Database(old_url)]
    try:
        counts = await asyncio.gather(*(database.upgrade() for database in databases), return_exceptions=True)
        converted = [count for count in counts if isinstance(count, int) and count > 0]
        assert len(converted) == 1, counts
        async with databases[0].session() as session:
            order = await session.get(WorkOrder, "WO2026112800001")
        assert order is not None and order.created_at == china(2026, 11, 28, 9, 30, 0, 123456)
    finally:
        for database in databases:
            await database.close()


async def test_a_new_database_only_gets_the_mark(database: Database) -> None:
    assert not await database.holds_old_times()
    assert await database.upgrade() == 0
    async with database.engine.connect() as connection:
        assert await timestamps.is_marked(connection)


async def test_an_unmarked_database_without_rows_is_marked_as_it_is(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        old_tables = [t for t in Base.metadata.sorted_tables if t.name != SchemaMeta.__tablename__]
        async with database.engine.begin() as connection:
            await connection.run_sync(lambda sync: Base.metadata.create_all(sync, tables=old_tables))
        assert not await database.holds_old_times()
        await database.create_schema()
        async with database.engine.connect() as connection:
            assert await timestamps.is_marked(connection)
    finally:
        await database.close()


def test_every_stored_moment_is_listed_once_as_china_utc_or_mixed() -> None:
    stored = {
        (name, col.name)
        for name, model_table in Base.metadata.tables.items()
        for col in model_table.columns
        if isinstance(col.type, UtcDateTime)
    }
    listed = [
        (name, col)
        for lists in (timestamps.CHINA_TIME_COLUMNS, timestamps.UTC_COLUMNS, timestamps.MIXED_COLUMNS)
        for name, cols in lists.items()
        for col in cols
    ]
    assert sorted(listed) == sorted(stored)


def test_the_web_chat_is_named_as_its_connector_names_it() -> None:
    from channels.webchat.connector import CHANNEL

    assert timestamps.WEB_CHAT == CHANNEL


def test_db_init_converts_and_other_commands_wait_for_it(
    old_url: str, clean_settings: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli.main import main

    monkeypatch.setenv("DATABASE_URL", old_url)
    assert main(["orders", "list"]) == 3  # it would write UTC among China times
    assert "python -m bot db init" in capsys.readouterr().err
    assert main(["db", "init"]) == 0
    out = capsys.readouterr().out
    assert "由北京时间转换为UTC" in out and "数据表已创建" in out
    assert main(["db", "init"]) == 0
    assert "转换" not in capsys.readouterr().out  # once only
    assert main(["orders", "show", "WO2026112800001"]) == 0
    assert "登记：2026-11-28 09:30" in capsys.readouterr().out  # China time again, as it was filed


def test_seed_converts_an_old_database_before_adding_the_demo_cases(
    old_url: str, clean_settings: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli.main import main

    monkeypatch.setenv("DATABASE_URL", old_url)
    assert main(["seed"]) == 0
    assert "由北京时间转换为UTC" in capsys.readouterr().out
    assert main(["orders", "show", "WO2026112800001"]) == 0
    assert "登记：2026-11-28 09:30" in capsys.readouterr().out
