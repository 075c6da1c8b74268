"""Working days: weekends, holidays, 调休 make-up days, year boundaries, and dates the calendar does not know."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.core.clock import UTC, china, china_date, parse_moment, start_of_china_day
from bot.work_orders.working_days import (
    CalendarError,
    OutsideCalendar,
    add_working_days,
    add_working_hours,
    default_calendar,
    is_working_day,
    parse_calendar,
    working_days_between,
)


def _end_of(day: str) -> datetime:
    return parse_moment(day + "T23:59:59")  # China time


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 27), True),  # a Friday
        (date(2026, 11, 28), False),  # a Saturday
        (date(2026, 11, 29), False),  # a Sunday
        (date(2025, 9, 28), True),  # Sunday worked for 国庆 2025
        (date(2025, 10, 8), False),  # Wednesday, last day of 国庆 and 中秋 2025
        (date(2025, 10, 11), True),  # Saturday worked for 国庆 2025
        (date(2026, 2, 14), True),  # Saturday worked for 春节 2026
        (date(2026, 2, 23), False),  # Monday, last day of 春节 2026
        (date(2026, 1, 2), False),  # Friday of 元旦 2026
        (date(2026, 1, 4), True),  # Sunday worked for 元旦 2026
        (date(2026, 9, 25), False),  # Friday, 中秋 2026
        (date(2027, 2, 9), False),  # 春节 2027 (provisional: days in lieu)
    ],
)
def test_weekends_holidays_and_make_up_days(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_the_calendar_holds_every_year_and_names_the_holidays() -> None:
    calendar = default_calendar()
    assert calendar.years == frozenset({2025, 2026, 2027})
    assert calendar.provisional_years == frozenset({2027})
    assert calendar.holiday_name(date(2026, 10, 3)) == "国庆节"
    assert calendar.holiday_name(date(2025, 1, 29)) == "春节"
    assert calendar.holiday_name(date(2026, 11, 27)) is None


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        # Accepted on a Friday afternoon: the next working day is Monday; a week later is Friday.
        (china(2026, 11, 27, 15, 0), 1, "2026-11-30"),
        (china(2026, 11, 27, 15, 0), 5, "2026-12-04"),
        # Accepted on a Saturday: the day does not count anyway.
        (china(2026, 11, 28, 10, 0), 1, "2026-11-30"),
        # Accepted late on a working day: that day does not count either.
        (china(2026, 11, 30, 23, 30), 1, "2026-12-01"),
        # 国庆 2026 (Oct 1-7 off; Sunday Sep 20 and Saturday Oct 10 worked).
        (china(2026, 9, 18, 9, 0), 1, "2026-09-20"),
        (china(2026, 9, 30, 10, 0), 1, "2026-10-08"),
        (china(2026, 9, 30, 10, 0), 3, "2026-10-10"),
        (china(2026, 9, 29, 10, 0), 5, "2026-10-12"),
        # 国庆 and 中秋 2025 (Oct 1-8 off; Sunday Sep 28 and Saturday Oct 11 worked).
        (china(2025, 9, 26, 16, 0), 1, "2025-09-28"),
        (china(2025, 9, 30, 16, 0), 1, "2025-10-09"),
        (china(2025, 9, 30, 16, 0), 3, "2025-10-11"),
        # 春节 2026 (Feb 15-23 off; Saturdays Feb 14 and Feb 28 worked).
        (china(2026, 2, 13, 11, 0), 1, "2026-02-14"),
        (china(2026, 2, 13, 11, 0), 2, "2026-02-24"),
        (china(2026, 2, 13, 11, 0), 5, "2026-02-27"),
        (china(2026, 2, 13, 11, 0), 6, "2026-02-28"),
        # 春节 2025 (Jan 28 - Feb 4 off; Sunday Jan 26 and Saturday Feb 8 worked).
        (china(2025, 1, 24, 9, 0), 1, "2025-01-26"),
        (china(2025, 1, 26, 9, 0), 1, "2025-01-27"),
        (china(2025, 1, 27, 9, 0), 1, "2025-02-05"),
        # Across the year's end: 元旦 2026 (Jan 1-3 off, Sunday Jan 4 worked) and 元旦 2027.
        (china(2025, 12, 31, 17, 0), 1, "2026-01-04"),
        (china(2026, 12, 31, 17, 0), 1, "2027-01-04"),
        (china(2026, 12, 25, 17, 0), 10, "2027-01-11"),
    ],
)
def test_adding_working_days_ends_at_the_end_of_the_nth_working_day(start: datetime, days: int, end: str) -> None:
    assert add_working_days(start, days) == _end_of(end)


def test_the_day_that_counts_is_the_china_day_whatever_the_zone_of_the_moment() -> None:
    # Friday 16:30 UTC is Saturday 00:30 in China: the weekend has begun, Monday is the first working day.
    assert add_working_days(datetime(2026, 11, 27, 16, 30, tzinfo=UTC), 1) == _end_of("2026-11-30")
    # Friday 15:30 UTC is still Friday (23:30) in China: Monday too, but Tuesday for two days.
    assert add_working_days(datetime(2026, 11, 27, 15, 30, tzinfo=UTC), 2) == _end_of("2026-12-01")
    # The deadline is the end of the China day: 15:59:59 UTC.
    assert add_working_days(china(2026, 11, 27, 15), 1) == datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC)
    assert is_working_day(datetime(2026, 11, 27, 16, 30, tzinfo=UTC)) is False  # Saturday in China
    # Working hours run on China days: from Friday 23:00 China (15:00 UTC), 2 hours end on Monday 01:00.
    assert add_working_hours(datetime(2026, 11, 27, 15, 0, tzinfo=UTC), 2) == china(2026, 11, 30, 1, 0)


def test_a_moment_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        add_working_days(datetime(2026, 11, 27, 15, 0), 1)
    with pytest.raises(ValueError, match="naive"):
        add_working_hours(datetime(2026, 11, 27, 15, 0), 2)
    with pytest.raises(ValueError, match="naive"):
        is_working_day(datetime(2026, 11, 27, 15, 0))


def test_counting_working_days_agrees_with_adding_them() -> None:
    start = date(2025, 1, 1)
    for offset in range(0, 700, 3):
        day = start + timedelta(days=offset)
        for days in (1, 2, 5, 10):
            end = add_working_days(start_of_china_day(day), days)
            assert working_days_between(day, china_date(end)) == days, (day, days)


def test_working_days_between_counts_after_the_start_up_to_the_end() -> None:
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == -3
    assert working_days_between(date(2026, 11, 27), date(2026, 11, 27)) == 0
    assert working_days_between(china(2026, 11, 27, 20, 0), china(2026, 11, 30, 8, 0)) == 1


@pytest.mark.parametrize(
    ("start", "hours", "end"),
    [
        (china(2026, 11, 26, 10, 0), 8, china(2026, 11, 26, 18, 0)),
        # Friday 20:00 plus 8 working hours: 4 on Friday, the weekend skipped, 4 on Monday.
        (china(2026, 11, 27, 20, 0), 8, china(2026, 11, 30, 4, 0)),
        # Started during 国庆: counting begins with the first working day.
        (china(2026, 10, 1, 10, 0), 2, china(2026, 10, 8, 2, 0)),
        (china(2026, 11, 27, 0, 0), 24, china(2026, 11, 28, 0, 0)),
        (china(2026, 11, 27, 0, 0), 24.5, china(2026, 11, 30, 0, 30)),
    ],
)
def test_adding_working_hours_skips_days_off(start: datetime, hours: float, end: datetime) -> None:
    assert add_working_hours(start, hours) == end


def test_dates_outside_the_calendar_are_refused_not_guessed() -> None:
    with pytest.raises(OutsideCalendar, match="2024-12-31"):
        is_working_day(date(2024, 12, 31))
    with pytest.raises(OutsideCalendar, match="2028-01-01"):
        add_working_days(china(2027, 12, 31, 9, 0), 1)
    with pytest.raises(OutsideCalendar):
        working_days_between(date(2026, 12, 1), date(2028, 1, 5))
    with pytest.raises(OutsideCalendar):
        add_working_hours(china(2024, 12, 30, 9, 0), 2)


def test_amounts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        add_working_days(china(2026, 11, 27, 9, 0), 0)
    with pytest.raises(ValueError, match="positive"):
        add_working_hours(china(2026, 11, 27, 9, 0), 0)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "years"),
        ({"years": {"2026": {"holidays": []}}}, "year number"),
        ({"years": {2026: {"holidays": [{"name": "元旦", "from": "2026-01-03", "to": "2026-01-01"}]}}}, "forwards"),
        ({"years": {2026: {"holidays": [{"name": "元旦", "from": "2025-12-31", "to": "2026-01-01"}]}}}, "forwards"),
        ({"years": {2026: {"holidays": [{"from": "2026-01-01", "to": "2026-01-01"}]}}}, "name"),
        ({"years": {2026: {"holidays": [{"name": "元旦", "from": "2026-01-01", "to": "1月3日"}]}}}, "not a date"),
        (
            {
                "years": {
                    2026: {
                        "holidays": [
                            {"name": "a", "from": "2026-01-01", "to": "2026-01-02"},
                            {"name": "b", "from": "2026-01-02", "to": "2026-01-03"},
                        ]
                    }
                }
            },
            "twice",
        ),
        ({"years": {2026: {"workdays": ["2026-01-05"]}}}, "Saturday or Sunday"),  # a Monday
        ({"years": {2026: {"workdays": ["2027-01-02"]}}}, "Saturday or Sunday"),
    ],
)
def test_a_malformed_calendar_is_refused(document: object, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        parse_calendar(document)


def test_a_well_formed_calendar_document_is_read() -> None:
    document = {
        "years": {
            2026: {
                "holidays": [{"name": "元旦", "from": "2026-01-01", "to": "2026-01-03"}],
                "workdays": ["2026-01-04"],
            }
        }
    }
    calendar = parse_calendar(document)
    assert calendar.years == frozenset({2026}) and calendar.provisional_years == frozenset()
    assert not calendar.is_working_day(date(2026, 1, 2))
    assert calendar.is_working_day(date(2026, 1, 4))
