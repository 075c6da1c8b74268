"""The one clock: aware moments, China wall-clock times, and the column type that stores them in UTC."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from bot.core import clock
from bot.core.clock import CHINA, UTC, NaiveDatetime, china, in_china, in_utc, parse_moment
from bot.core.db import Database
from bot.core.models import DepartmentKey


def test_now_is_aware_and_in_utc() -> None:
    before = datetime.now(timezone.utc)
    now = clock.now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(timezone.utc)


def test_a_china_wall_clock_time_is_eight_hours_ahead_of_utc() -> None:
    moment = china(2026, 11, 28, 9, 30)
    assert moment.tzinfo is CHINA
    assert moment == datetime(2026, 11, 28, 1, 30, tzinfo=UTC)
    assert in_utc(moment) == datetime(2026, 11, 28, 1, 30, tzinfo=UTC)
    assert in_utc(moment).utcoffset() == timedelta(0)


def test_any_moment_is_read_in_china_time() -> None:
    late_utc = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    assert in_china(late_utc) == late_utc
    assert (in_china(late_utc).date(), in_china(late_utc).time()) == (date(2026, 11, 28), time(0, 30))
    assert in_china(late_utc).utcoffset() == timedelta(hours=8)
    assert clock.china_date(late_utc) == date(2026, 11, 28)
    other = datetime(2026, 11, 28, 2, 0, tzinfo=timezone(timedelta(hours=-5)))  # New York, 07:00 UTC
    assert in_china(other).hour == 15


def test_a_naive_datetime_is_refused_clearly() -> None:
    naive = datetime(2026, 11, 28, 9, 30)
    for view in (in_china, in_utc, clock.require_aware, clock.china_date):
        with pytest.raises(NaiveDatetime, match=r"naive datetime 2026-11-28T09:30:00"):
            view(naive)
    assert issubclass(NaiveDatetime, ValueError)


def test_times_without_a_zone_from_files_and_command_lines_are_china_time() -> None:
    assert parse_moment("2026-11-28T09:30") == china(2026, 11, 28, 9, 30)
    assert parse_moment(" 2026-11-28 09:30:00 ") == china(2026, 11, 28, 9, 30)
    assert parse_moment("2026-11-28T01:30:00+00:00") == china(2026, 11, 28, 9, 30)  # an offset is honoured
    assert parse_moment("2026-11-28T09:30+08:00") == china(2026, 11, 28, 9, 30)
    assert clock.at_china(datetime(2026, 11, 28, 9, 30)) == china(2026, 11, 28, 9, 30)
    assert clock.at_china(datetime(2026, 11, 28, 1, 30, tzinfo=UTC)) == china(2026, 11, 28, 9, 30)
    with pytest.raises(ValueError):
        parse_moment("11月28日")


def test_china_days_and_a_rasa_timestamp() -> None:
    assert clock.start_of_china_day(date(2026, 11, 28)) == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    assert clock.china_day_at(date(2026, 11, 28), time(23, 59, 59)) == datetime(2026, 11, 28, 15, 59, 59, tzinfo=UTC)
    moment = clock.from_timestamp(1_795_833_000.0)
    assert moment.utcoffset() == timedelta(0)
    assert moment.timestamp() == 1_795_833_000.0
    assert clock.today() == in_china(clock.now()).date()


async def test_moments_are_stored_as_naive_utc_and_read_back_aware(database: Database) -> None:
    async with database.session() as session:
        session.add(DepartmentKey(department="某局", key_digest="a" * 64, created_at=china(2026, 11, 28, 9)))
    async with database.session() as session:
        raw = await session.scalar(text("SELECT created_at FROM department_keys"))
        read = await session.scalar(select(DepartmentKey.created_at))
        found = await session.scalar(
            select(DepartmentKey.id).where(DepartmentKey.created_at == datetime(2026, 11, 28, 1, tzinfo=UTC))
        )
    # SQLite keeps text, PostgreSQL a timestamp without time zone: both hold 01:00, the UTC time.
    assert str(raw).startswith("2026-11-28 01:00:00")
    assert read == china(2026, 11, 28, 9) and read.utcoffset() == timedelta(0)
    assert found is not None


async def test_a_naive_datetime_is_never_stored(database: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with database.session() as session:
            session.add(DepartmentKey(department="某局", key_digest="b" * 64, created_at=datetime(2026, 11, 28, 9)))
    with pytest.raises(StatementError, match="naive datetime"):
        async with database.session() as session:
            await session.scalar(select(DepartmentKey.id).where(DepartmentKey.created_at < datetime(2026, 11, 28, 9)))
    async with database.session() as session:
        assert await session.scalar(select(DepartmentKey.id)) is None
