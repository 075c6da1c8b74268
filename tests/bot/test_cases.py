"""Cases: import, case numbers, ownership checks with lockout, standing, 督办 orders."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cases.demo import demo_cases
from bot.cases.records import (
    CasesRefused,
    InvalidCaseNumber,
    Standing,
    applicant_tail_digest,
    file_supervision_order,
    find_case,
    import_cases,
    is_applicant_phone,
    parse_case_number,
)
from bot.citizens.ownership import LockRule, Verdict, verify_tail
from bot.core.clock import UTC, china
from bot.core.db import Database
from bot.core.models import Case, WorkOrder
from bot.core.settings import PROJECT_ROOT

FIXTURE = PROJECT_ROOT / "tests" / "fixtures" / "cases.json"
KEY = "test-key"
NOW = china(2026, 11, 28, 9, 0)


async def _import(database: Database, path: Path = FIXTURE) -> int:
    return await import_cases(database, path, KEY, NOW)


def _verify(database: Database, number: str, answer: str, now: datetime = NOW):  # type: ignore[no-untyped-def]
    return verify_tail(database, number, answer, applicant_tail_digest, key=KEY, now=now, rule=LockRule(3, 30))


@pytest.mark.parametrize(
    ("said", "number"),
    [
        ("20261120000158", "20261120000158"),
        ("编号是二零二六一一二零零零零一五八谢谢", "20261120000158"),
        ("我的办件 2026 1120 000158", "20261120000158"),
        ("两零两六幺幺两零零零零幺五八", "20261120000158"),
    ],
)
def test_case_numbers_in_digits_and_spoken_numerals(said: str, number: str) -> None:
    assert parse_case_number(said) == number


@pytest.mark.parametrize("said", ["12345", "2026112000015", "20261320000158", "没有编号"])
def test_invalid_case_numbers_say_why(said: str) -> None:
    with pytest.raises(InvalidCaseNumber):
        parse_case_number(said)


async def test_import_stores_only_digests_of_personal_data(database: Database) -> None:
    assert await _import(database) == 3
    async with database.session() as session:
        case = await session.get(Case, "20261120000158")
        assert case is not None
        stored = " ".join(str(v) for v in vars(case).values())
    assert "13912345678" not in stored and "5678" not in stored and "11010519491231002X" not in stored


async def test_import_is_idempotent(database: Database) -> None:
    await _import(database)
    await _import(database)
    async with database.session() as session:
        numbers = (await session.execute(select(Case.number))).scalars().all()
    assert sorted(numbers) == ["20260901000999", "20261001000777", "20261120000158"]
    case = await find_case(database, "20261120000158", NOW.date())
    assert case is not None and [s for s, _, _ in case.timeline] == ["受理", "审查"]


async def test_standing_in_progress_overdue_finished(database: Database) -> None:
    await _import(database)
    standings = {
        number: (await find_case(database, number, NOW.date())).standing  # type: ignore[union-attr]
        for number in ("20261120000158", "20261001000777", "20260901000999")
    }
    assert standings == {
        "20261120000158": Standing.IN_PROGRESS,
        "20261001000777": Standing.OVERDUE,
        "20260901000999": Standing.FINISHED,
    }
    assert await find_case(database, "20261120999999", NOW.date()) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"applicant_phone": "12345"}, "applicant_phone"),
        ({"applicant_id": "110105194912310021"}, "applicant_id"),
        ({"number": "2026"}, "number must be"),
        ({"promised_date": "next week"}, "promised_date"),
        ({"events": [{"status": "审查", "at": "2026-11-20T09:00:00"}]}, "start with 受理"),
        ({"events": [{"status": "受理", "at": "yesterday"}]}, "ISO"),
        ({"events": [{"status": "已通过", "at": "2026-11-20T09:00:00"}]}, "unknown status"),
    ],
)
async def test_a_bad_record_refuses_the_whole_file(
    database: Database, tmp_path: Path, change: dict[str, object], message: str
) -> None:
    records = json.loads(FIXTURE.read_text(encoding="utf-8"))
    records[1].update(change)
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CasesRefused) as refused:
        await _import(database, path)
    assert any(message in error for error in refused.value.errors)
    async with database.session() as session:
        assert (await session.execute(select(Case))).first() is None


async def test_csv_import(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(
        "number,service_name,department,promised_date,applicant_phone,applicant_id,events\n"
        "20261120000201,结婚登记,广州市民政局,2099-01-01,13700001111,,受理@2026-11-20T10:00;审查@2026-11-21T10:00\n",
        encoding="utf-8",
    )
    assert await _import(database, path) == 1
    case = await find_case(database, "20261120000201", NOW.date())
    assert case is not None and case.status == "审查"


async def test_event_times_without_a_zone_are_china_time_and_an_offset_is_honoured(
    database: Database, tmp_path: Path
) -> None:
    records = json.loads(FIXTURE.read_text(encoding="utf-8"))
    records[0]["events"] = [
        {"status": "受理", "at": "2026-11-20T09:30:00"},  # China time
        {"status": "审查", "at": "2026-11-21T02:00:00+00:00"},  # 10:00 in China
    ]
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    await _import(database, path)
    case = await find_case(database, "20261120000158", NOW.date())
    assert case is not None
    assert [at for _, at, _ in case.timeline] == [china(2026, 11, 20, 9, 30), china(2026, 11, 21, 10, 0)]
    assert case.timeline[0][1] == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


def test_demo_cases_are_dated_by_the_china_day() -> None:
    # 16:30 UTC on the 27th is already the 28th in China.
    in_progress, overdue, finished = demo_cases(datetime(2026, 11, 27, 16, 30, tzinfo=UTC))
    numbers = (in_progress.number, overdue.number, finished.number)
    assert numbers == ("20261125000101", "20261108000102", "20261116000103")
    assert in_progress.promised_date == date(2026, 12, 2)
    assert in_progress.events[0][1] == china(2026, 11, 25, 10)


async def test_right_tail_verifies_in_digits_or_numerals(database: Database) -> None:
    await _import(database)
    assert (await _verify(database, "20261120000158", "5678")).verdict is Verdict.VERIFIED
    assert (await _verify(database, "20261120000158", "后四位是五六七八")).verdict is Verdict.VERIFIED


async def test_wrong_answers_lock_the_case_then_the_lock_expires(database: Database) -> None:
    await _import(database)
    number = "20261120000158"
    first = await _verify(database, number, "1111")
    second = await _verify(database, number, "2222")
    third = await _verify(database, number, "3333")
    assert (first.verdict, first.attempts_left) == (Verdict.WRONG, 2)
    assert (second.verdict, second.attempts_left) == (Verdict.WRONG, 1)
    assert third.verdict is Verdict.LOCKED and third.locked_until == NOW + timedelta(minutes=30)
    # Locked: even the right answer is refused until the lock ends.
    assert (await _verify(database, number, "5678", NOW + timedelta(minutes=5))).verdict is Verdict.LOCKED
    later = NOW + timedelta(minutes=31)
    assert (await _verify(database, number, "5678", later)).verdict is Verdict.VERIFIED


async def test_a_right_answer_clears_earlier_failures(database: Database) -> None:
    await _import(database)
    number = "20261120000158"
    await _verify(database, number, "1111")
    await _verify(database, number, "2222")
    assert (await _verify(database, number, "5678")).verdict is Verdict.VERIFIED
    assert (await _verify(database, number, "1111")).attempts_left == 2


async def test_unknown_case_is_not_found(database: Database) -> None:
    assert (await _verify(database, "20261120999999", "5678")).verdict is Verdict.NOT_FOUND


async def test_verified_caller_number_proves_ownership(database: Database) -> None:
    await _import(database)
    assert await is_applicant_phone(database, "20261120000158", "13912345678", KEY)
    assert not await is_applicant_phone(database, "20261120000158", "13900000000", KEY)


async def test_supervision_order_for_an_overdue_case(database: Database) -> None:
    await _import(database)
    case = await find_case(database, "20261001000777", date(2026, 11, 28))
    assert case is not None
    first = await file_supervision_order(database, case, "citizen-1", NOW)
    second = await file_supervision_order(database, case, "citizen-1", NOW)
    assert (first, second) == ("WO2026112800001", "WO2026112800002")
    async with database.session() as session:
        order = await session.get(WorkOrder, first)
    assert order is not None and order.kind == "督办" and order.department == "广州住房公积金管理中心"


async def test_cases_are_imported_again_over_a_supervision_order_about_them(database: Database) -> None:
    """`make run` seeds the demo cases again on every start: a 督办 filed meanwhile must not stop it."""
    await _import(database)
    case = await find_case(database, "20261001000777", date(2026, 11, 28))
    assert case is not None
    order = await file_supervision_order(database, case, "citizen-1", NOW)
    assert await _import(database) > 0
    async with database.session() as session:
        stored = await session.get(WorkOrder, order)
        again = await session.get(Case, "20261001000777")
    assert stored is not None and stored.case_number == "20261001000777"
    assert again is not None and len(again.events) > 0
