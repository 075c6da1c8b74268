"""Working days in China: weekends and public holidays off, 调休 make-up Saturdays and Sundays on.

A time limit of N working days ends at 23:59:59 (China time) of the Nth working day after the
China day it starts: the starting day itself never counts, whatever the hour (as for the time limits of
administrative procedures, 期间开始之日不计算在内). Dates outside the years of the calendar file
raise ``OutsideCalendar``: an unknown year is never guessed. Moments are aware (``bot.core.clock``);
every day and hour here is China's, whatever the zone a moment comes in.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.core.clock import china_date, china_day_at, in_china, start_of_china_day
from bot.core.data_files import read_yaml
from bot.core.settings import PROJECT_ROOT

CALENDAR_PATH = PROJECT_ROOT / "data" / "calendar" / "holidays.yml"
# The last second of a working day: when a time limit in working days ends.
END_OF_DAY = time(23, 59, 59)


class CalendarError(ValueError):
    """The holiday calendar file is missing or malformed."""


class OutsideCalendar(ValueError):
    """A date in a year the holiday calendar does not cover."""


@dataclass(frozen=True)
class HolidayCalendar:
    """Which days are working days, for the years the calendar file covers."""

    years: frozenset[int]
    holidays: dict[date, str]
    workdays: frozenset[date]
    provisional_years: frozenset[int]

    def _check(self, day: date) -> None:
        if day.year not in self.years:
            covered = "、".join(str(year) for year in sorted(self.years))
            raise OutsideCalendar(
                f"节假日日历只包含{covered}年，{day.isoformat()}不在其中，请先更新 {CALENDAR_PATH.name}"
            )

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day (a weekday that is no holiday, or a 调休 weekend day)."""
        day = _as_date(day)
        self._check(day)
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def holiday_name(self, day: date) -> str | None:
        """The holiday ``day`` belongs to (元旦, 春节 …), or None."""
        day = _as_date(day)
        self._check(day)
        return self.holidays.get(day)

    def nth_working_day_after(self, day: date, days: int) -> date:
        """The ``days``-th working day after ``day`` (``day`` itself not counted)."""
        if days < 1:
            raise ValueError(f"days must be at least 1, not {days}")
        current = _as_date(day)
        self._check(current)
        found = 0
        while found < days:
            current += timedelta(days=1)
            if self.is_working_day(current):
                found += 1
        return current

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end (23:59:59 China time) of the ``days``-th working day after the China day of ``start``."""
        return china_day_at(self.nth_working_day_after(china_date(start), days), END_OF_DAY)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """``start`` plus ``hours`` of time that falls on working days (whole China days of 24 hours)."""
        if hours <= 0:
            raise ValueError(f"hours must be positive, not {hours}")
        remaining = timedelta(hours=hours)
        cursor = in_china(start)
        while True:
            midnight = start_of_china_day(cursor.date() + timedelta(days=1))
            if self.is_working_day(cursor.date()):
                if remaining <= midnight - cursor:
                    return cursor + remaining
                remaining -= midnight - cursor
            cursor = midnight

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days lie after ``start`` up to and including ``end`` (negative if ``end`` is earlier)."""
        first, last = _as_date(start), _as_date(end)
        if last < first:
            return -self.working_days_between(last, first)
        self._check(first)
        self._check(last)
        count = 0
        current = first
        while current < last:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count


def _as_date(value: date) -> date:
    """A date as it is; a moment as its China day (a naive datetime is refused)."""
    return china_date(value) if isinstance(value, datetime) else value


def _day(raw: Any, where: str) -> date:
    if isinstance(raw, datetime):  # YAML reads a date-time without a zone: its day is the day meant
        return raw.date()
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError as error:
        raise CalendarError(f"{where}: {raw!r} is not a date YYYY-MM-DD") from error


def parse_calendar(data: Any, name: str = "holidays.yml") -> HolidayCalendar:
    """Build and check a calendar from the parsed YAML document."""
    if not isinstance(data, dict) or not isinstance(data.get("years"), dict) or not data["years"]:
        raise CalendarError(f"{name}: expected a mapping 'years' of year → holidays and workdays")
    years: set[int] = set()
    provisional: set[int] = set()
    holidays: dict[date, str] = {}
    workdays: set[date] = set()
    for raw_year, entry in data["years"].items():
        where = f"{name} year {raw_year}"
        if not isinstance(raw_year, int) or not isinstance(entry, dict):
            raise CalendarError(f"{where}: expected a year number with 'holidays' and 'workdays'")
        years.add(raw_year)
        if entry.get("provisional", False):
            provisional.add(raw_year)
        for item in entry.get("holidays") or []:
            if not isinstance(item, dict) or not str(item.get("name") or "").strip():
                raise CalendarError(f"{where}: each holiday needs name, from and to")
            first, last = _day(item.get("from"), where), _day(item.get("to"), where)
            if last < first or first.year != raw_year or last.year != raw_year:
                raise CalendarError(f"{where}: {item['name']} must run forwards within {raw_year}")
            day = first
            while day <= last:
                if day in holidays:
                    raise CalendarError(f"{where}: {day.isoformat()} is listed twice")
                holidays[day] = str(item["name"]).strip()
                day += timedelta(days=1)
        for raw_day in entry.get("workdays") or []:
            day = _day(raw_day, where)
            if day.year != raw_year or day.weekday() < 5 or day in holidays:
                raise CalendarError(
                    f"{where}: make-up working day {day.isoformat()} must be a Saturday or Sunday of {raw_year}"
                    " that is no holiday"
                )
            workdays.add(day)
    return HolidayCalendar(frozenset(years), holidays, frozenset(workdays), frozenset(provisional))


def load_calendar(path: Path = CALENDAR_PATH) -> HolidayCalendar:
    """Read and check the holiday calendar file."""
    return parse_calendar(read_yaml(path, CalendarError), path.name)


@functools.lru_cache(maxsize=1)
def default_calendar() -> HolidayCalendar:
    """The project's calendar, read once per process."""
    return load_calendar()


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day in the project's calendar."""
    return default_calendar().is_working_day(day)


def add_working_days(start: datetime, days: int) -> datetime:
    """The end (23:59:59 China time) of the ``days``-th working day after the China day of ``start``."""
    return default_calendar().add_working_days(start, days)


def add_working_hours(start: datetime, hours: float) -> datetime:
    """``start`` plus ``hours`` counted on working days only."""
    return default_calendar().add_working_hours(start, hours)


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after ``start`` up to and including ``end``."""
    return default_calendar().working_days_between(start, end)
