"""The one clock: every moment is timezone-aware, kept in UTC, and read in China time where people see it.

Naive datetimes are refused everywhere they could enter: a moment without a zone is a programming
error, never silently taken for UTC or for China time. Only three ways lead from a zoneless value
to a moment, each saying which zone it means: ``china(...)`` (a China wall-clock time),
``at_china(naive)`` and ``parse_moment(text)`` (a naive time read from a file or a command line is
China time; an explicit offset is honoured).
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc


class NaiveDatetime(ValueError):
    """A datetime without a time zone where a moment is needed."""


def require_aware(moment: datetime) -> datetime:
    """``moment`` itself if it has a time zone, else ``NaiveDatetime``."""
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveDatetime(
            f"naive datetime {moment.isoformat()}: a moment needs a time zone "
            "(bot.core.clock.now(), china(...) or parse_moment(...))"
        )
    return moment


def now() -> datetime:
    """The current moment, aware, in UTC."""
    return datetime.now(UTC)


def china(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0
) -> datetime:
    """A China wall-clock time as an aware moment, e.g. ``china(2026, 11, 28, 9, 30)``."""
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=CHINA)


def in_china(moment: datetime) -> datetime:
    """The same moment read in China time (``NaiveDatetime`` for a naive one)."""
    return require_aware(moment).astimezone(CHINA)


def in_utc(moment: datetime) -> datetime:
    """The same moment read in UTC (``NaiveDatetime`` for a naive one)."""
    return require_aware(moment).astimezone(UTC)


def at_china(wall_clock: datetime) -> datetime:
    """A naive China wall-clock time as an aware moment; an aware one is returned as it is."""
    return wall_clock.replace(tzinfo=CHINA) if wall_clock.tzinfo is None else wall_clock


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date-time as a moment: without an offset it is China time, with one the offset holds.

    Raises:
        ValueError: not an ISO 8601 date-time.
    """
    return at_china(datetime.fromisoformat(text.strip()))


def from_timestamp(seconds: float) -> datetime:
    """A POSIX timestamp (a Rasa event's, say) as an aware moment in UTC."""
    return datetime.fromtimestamp(seconds, UTC)


def china_date(moment: datetime) -> date:
    """The calendar day in China at ``moment``."""
    return in_china(moment).date()


def today() -> date:
    """Today's date in China."""
    return china_date(now())


def start_of_china_day(day: date) -> datetime:
    """Midnight (China time) at the start of ``day``."""
    return datetime.combine(day, time(0), tzinfo=CHINA)


def china_day_at(day: date, wall_clock: time) -> datetime:
    """The moment of a China wall-clock time on ``day``."""
    return datetime.combine(day, wall_clock.replace(tzinfo=None), tzinfo=CHINA)
