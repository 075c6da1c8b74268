"""Deadlines of work orders by type and urgency, in working days across weekends and holidays or in clock hours."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.core.clock import UTC, china
from bot.work_orders.deadlines import DeadlineError, default_deadlines, due_at, parse_deadlines
from bot.work_orders.working_days import default_calendar


@pytest.mark.parametrize(
    ("accepted", "order_type", "urgency", "due"),
    [
        # A complaint on a Friday afternoon: 5 working days, the weekend not counted.
        (china(2026, 11, 27, 15, 0), "投诉", "normal", china(2026, 12, 4, 23, 59, 59)),
        (china(2026, 11, 27, 15, 0), "咨询", "normal", china(2026, 11, 30, 23, 59, 59)),
        (china(2026, 11, 27, 15, 0), "建议", "normal", china(2026, 12, 11, 23, 59, 59)),
        # A request for help just before 国庆 2026: the holiday does not count, Saturday Oct 10 does.
        (china(2026, 9, 30, 10, 0), "求助", "normal", china(2026, 10, 13, 23, 59, 59)),
        # Urgent: clock hours, even during a holiday or at night.
        (china(2026, 10, 2, 22, 30), "求助", "urgent", china(2026, 10, 3, 0, 30)),
        (china(2026, 11, 28, 9, 0), "举报", "urgent", china(2026, 11, 29, 9, 0)),
        # A suggestion is never counted in hours.
        (china(2026, 11, 27, 15, 0), "建议", "urgent", china(2026, 12, 11, 23, 59, 59)),
        # The hotline's own orders: a callback the next working day; pressing a department in 3.
        (china(2026, 2, 13, 18, 0), "回电", "normal", china(2026, 2, 14, 23, 59, 59)),
        (china(2025, 12, 31, 9, 0), "督办", "normal", china(2026, 1, 6, 23, 59, 59)),
    ],
)
def test_due_at_by_type_and_urgency(accepted: datetime, order_type: str, urgency: str, due: datetime) -> None:
    assert due_at(accepted, order_type, urgency) == due


def test_a_complaint_filed_at_night_utc_counts_from_the_china_day() -> None:
    # Sunday 17:00 UTC is Monday 01:00 in China: Monday does not count, five working days end on Monday next.
    assert due_at(datetime(2026, 11, 29, 17, 0, tzinfo=UTC), "投诉") == china(2026, 12, 7, 23, 59, 59)
    # Urgent limits are clock hours, whatever the zone.
    assert due_at(datetime(2026, 11, 29, 17, 0, tzinfo=UTC), "求助", "urgent") == china(2026, 11, 30, 3, 0)


def test_a_moment_without_a_zone_has_no_deadline() -> None:
    with pytest.raises(ValueError, match="naive"):
        due_at(datetime(2026, 11, 27, 9, 0), "投诉")
    with pytest.raises(ValueError, match="naive"):
        due_at(datetime(2026, 11, 27, 9, 0), "求助", "urgent")


def test_every_type_of_appeal_has_a_limit_described_in_chinese() -> None:
    deadlines = default_deadlines()
    assert deadlines.limit("投诉", "normal").describe() == "5个工作日"
    assert deadlines.limit("求助", "urgent").describe() == "2小时"
    for order_type in ("咨询", "求助", "投诉", "举报", "建议", "回电", "督办"):
        for urgency in ("normal", "urgent"):
            assert deadlines.limit(order_type, urgency).amount > 0


def test_an_unknown_type_or_urgency_has_no_deadline() -> None:
    with pytest.raises(DeadlineError, match="表扬"):
        due_at(china(2026, 11, 27, 9, 0), "表扬", "normal")
    with pytest.raises(DeadlineError, match="soon"):
        due_at(china(2026, 11, 27, 9, 0), "投诉", "soon")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (None, "types"),
        ({"types": {"投诉": {"normal": {"working_days": 5}}}}, "exactly"),
        ({"types": {"投诉": {"normal": {"days": 5}, "urgent": {"hours": 2}}}}, "unknown unit"),
        ({"types": {"投诉": {"normal": {"working_days": 0}, "urgent": {"hours": 2}}}}, "positive"),
        ({"types": {"投诉": {"normal": {"working_days": 2.5}, "urgent": {"hours": 2}}}}, "whole"),
        ({"types": {"投诉": {"normal": {"working_days": 5, "hours": 2}, "urgent": {"hours": 2}}}}, "one of"),
        ({"types": {"投诉": {"normal": {"working_days": "五"}, "urgent": {"hours": 2}}}}, "positive"),
    ],
)
def test_a_malformed_deadlines_file_is_refused(document: object, message: str) -> None:
    with pytest.raises(DeadlineError, match=message):
        parse_deadlines(document)


def test_a_working_hours_limit_counts_only_working_days() -> None:
    deadlines = parse_deadlines({"types": {"回电": {"normal": {"working_hours": 24}, "urgent": {"hours": 1}}}})
    limit = deadlines.limit("回电", "normal")
    assert limit.describe() == "24个工作小时"
    assert limit.ends(china(2026, 11, 27, 12, 0), default_calendar()) == china(2026, 11, 30, 12, 0)
