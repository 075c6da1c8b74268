"""A department publishing a case's progress step by step, validated as the importer validates."""

from __future__ import annotations

from datetime import date

import pytest

from bot.cases.records import (
    CaseNotFound,
    CaseOfAnotherDepartment,
    CasesRefused,
    add_case_events,
    find_case,
    parse_case,
    store_cases,
)
from bot.core.clock import china
from bot.core.db import Database

KEY = "test-key"
NOW = china(2026, 11, 28, 9, 0)
DEPARTMENT = "广州市公安局出入境管理支队"
CASE = {
    "number": "20261120000158",
    "service_name": "普通护照签发（首次申领）",
    "department": DEPARTMENT,
    "promised_date": "2026-12-10",
    "applicant_phone": "13912345678",
    "events": [{"status": "受理", "at": "2026-11-20T09:30:00", "note": "越秀办证大厅受理"}],
}


@pytest.fixture
async def case(database: Database) -> Database:
    """A database holding one case at 受理."""
    await store_cases(database, [parse_case(CASE, "办件")], KEY, NOW)
    return database


def test_a_case_is_parsed_with_the_importers_rules() -> None:
    record = parse_case(CASE, "办件")
    assert (record.number, record.department, record.promised_date) == (
        "20261120000158",
        DEPARTMENT,
        date(2026, 12, 10),
    )
    with pytest.raises(CasesRefused) as refused:
        parse_case({**CASE, "applicant_phone": "12345", "promised_date": "明天"}, "办件")
    assert refused.value.errors == [
        "办件: promised_date must be YYYY-MM-DD",
        "办件: applicant_phone is not a valid mobile number",
    ]


async def test_steps_are_appended_and_the_lookup_sees_them(case: Database) -> None:
    steps = [{"status": "审查", "at": "2026-11-21T10:00:00", "note": "材料齐全"}]
    assert await add_case_events(case, "20261120000158", DEPARTMENT, steps, NOW) == 1
    view = await find_case(case, "20261120000158", date(2026, 11, 28))
    assert view is not None
    assert view.status == "审查"
    assert view.timeline == [
        ("受理", china(2026, 11, 20, 9, 30), "越秀办证大厅受理"),
        ("审查", china(2026, 11, 21, 10, 0), "材料齐全"),
    ]


async def test_a_step_sent_again_is_not_added_twice(case: Database) -> None:
    steps = [
        {"status": "受理", "at": "2026-11-20T09:30:00", "note": "越秀办证大厅受理"},
        {"status": "审查", "at": "2026-11-21T10:00:00"},
        {"status": "审查", "at": "2026-11-21T10:00:00"},
    ]
    assert await add_case_events(case, "20261120000158", DEPARTMENT, steps, NOW) == 1
    assert await add_case_events(case, "20261120000158", DEPARTMENT, steps, NOW) == 0
    view = await find_case(case, "20261120000158", date(2026, 11, 28))
    assert view is not None and [status for status, _, _ in view.timeline] == ["受理", "审查"]


@pytest.mark.parametrize(
    ("steps", "error"),
    [
        ([{"status": "审核", "at": "2026-11-21T10:00:00"}], "unknown status '审核'"),
        ([{"status": "审查", "at": "下周一"}], "is not an ISO date-time"),
        ([{"status": "审查", "at": "2026-11-19T10:00:00"}], "event times must not go backwards"),
        (
            [{"status": "决定", "at": "2026-11-22T10:00:00"}, {"status": "审查", "at": "2026-11-23T10:00:00"}],
            "events must start with 受理 and follow",
        ),
        (["审查"], "each event needs status and at"),
    ],
)
async def test_wrong_steps_are_refused_and_nothing_changes(case: Database, steps: list[object], error: str) -> None:
    with pytest.raises(CasesRefused) as refused:
        await add_case_events(case, "20261120000158", DEPARTMENT, steps, NOW)
    assert any(error in line for line in refused.value.errors)
    view = await find_case(case, "20261120000158", date(2026, 11, 28))
    assert view is not None and [status for status, _, _ in view.timeline] == ["受理"]


async def test_another_departments_case_and_unknown_cases_are_refused(case: Database) -> None:
    steps = [{"status": "审查", "at": "2026-11-21T10:00:00"}]
    with pytest.raises(CaseOfAnotherDepartment):
        await add_case_events(case, "20261120000158", "广州市公安局", steps, NOW)
    with pytest.raises(CaseNotFound):
        await add_case_events(case, "20261120000999", DEPARTMENT, steps, NOW)
    view = await find_case(case, "20261120000158", date(2026, 11, 28))
    assert view is not None and view.status == "受理"
