"""Whether human agents are on duty: the ``AGENT_HOURS`` window, in China time."""

from __future__ import annotations

from datetime import datetime, time

from bot.core.clock import in_china


class InvalidHours(ValueError):
    """``AGENT_HOURS`` is not of the form ``HH:MM-HH:MM``."""


def parse_hours(hours: str) -> tuple[time, time]:
    """``"08:00-20:00"`` → (08:00, 20:00); ``"00:00-24:00"`` means all day."""
    try:
        start_text, end_text = (part.strip() for part in hours.split("-"))
        start = time.fromisoformat(start_text)
        end = time.max if end_text == "24:00" else time.fromisoformat(end_text)
    except ValueError as error:
        raise InvalidHours(f"AGENT_HOURS should look like 08:00-20:00, not {hours!r}") from error
    return start, end


def agents_on_duty(hours: str, now: datetime) -> bool:
    """Whether the moment ``now``, read in China time, falls within the agents' hours; a window may pass midnight."""
    start, end = parse_hours(hours)
    moment = in_china(now).time()
    if start <= end:
        return start <= moment <= end
    return moment >= start or moment <= end


def describe_hours(hours: str) -> str:
    """The hours as a citizen hears them: "每天8:00到20:00"."""
    start, end = parse_hours(hours)
    end_text = "24:00" if end == time.max else f"{end.hour}:{end.minute:02d}"
    return f"每天{start.hour}:{start.minute:02d}到{end_text}"
