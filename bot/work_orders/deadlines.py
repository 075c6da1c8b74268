"""Time limits of work orders by type and urgency (data/work_orders/deadlines.yml)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core.clock import require_aware
from bot.core.data_files import read_yaml
from bot.core.settings import PROJECT_ROOT
from bot.work_orders.working_days import HolidayCalendar, default_calendar

DEADLINES_PATH = PROJECT_ROOT / "data" / "work_orders" / "deadlines.yml"
URGENCIES = ("normal", "urgent")
UNITS = ("working_days", "working_hours", "hours")


class DeadlineError(ValueError):
    """The deadlines file is malformed, or an order's type or urgency has no time limit."""


@dataclass(frozen=True)
class TimeLimit:
    """An amount of time in one unit: working days, working hours or clock hours."""

    unit: str
    amount: float

    def ends(self, start: datetime, calendar: HolidayCalendar) -> datetime:
        """When a limit started at ``start`` (an aware moment) runs out; working days and hours are China's."""
        if self.unit == "working_days":
            return calendar.add_working_days(start, int(self.amount))
        if self.unit == "working_hours":
            return calendar.add_working_hours(start, self.amount)
        return require_aware(start) + timedelta(hours=self.amount)

    def describe(self) -> str:
        """The limit in Chinese, e.g. 5个工作日."""
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        return {"working_days": f"{amount}个工作日", "working_hours": f"{amount}个工作小时", "hours": f"{amount}小时"}[
            self.unit
        ]


@dataclass(frozen=True)
class Deadlines:
    """The time limit of every type of order, normal and urgent."""

    limits: dict[tuple[str, str], TimeLimit]

    def limit(self, order_type: str, urgency: str) -> TimeLimit:
        """The time limit of an order type at an urgency, or ``DeadlineError``."""
        try:
            return self.limits[(order_type, urgency)]
        except KeyError:
            types = "、".join(sorted({t for t, _ in self.limits}))
            raise DeadlineError(
                f"no time limit for type {order_type!r} at urgency {urgency!r} (types: {types}; urgency: normal/urgent)"
            ) from None


def _limit(raw: Any, where: str) -> TimeLimit:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise DeadlineError(f"{where}: expected one of {', '.join(UNITS)} with an amount")
    ((unit, amount),) = raw.items()
    if unit not in UNITS:
        raise DeadlineError(f"{where}: unknown unit {unit!r} (allowed: {', '.join(UNITS)})")
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0:
        raise DeadlineError(f"{where}: {unit} must be a positive number")
    if unit == "working_days" and not float(amount).is_integer():
        raise DeadlineError(f"{where}: working_days must be a whole number")
    return TimeLimit(unit, float(amount))


def parse_deadlines(data: Any, name: str = "deadlines.yml") -> Deadlines:
    """Build and check the time limits from the parsed YAML document."""
    if not isinstance(data, dict) or not isinstance(data.get("types"), dict) or not data["types"]:
        raise DeadlineError(f"{name}: expected a mapping 'types' of order type → normal and urgent limits")
    limits: dict[tuple[str, str], TimeLimit] = {}
    for order_type, entry in data["types"].items():
        if not isinstance(entry, dict) or set(entry) != set(URGENCIES):
            raise DeadlineError(f"{name} type {order_type}: needs exactly 'normal' and 'urgent'")
        for urgency in URGENCIES:
            limits[(str(order_type), urgency)] = _limit(entry[urgency], f"{name} type {order_type} {urgency}")
    return Deadlines(limits)


def load_deadlines(path: Path = DEADLINES_PATH) -> Deadlines:
    """Read and check the deadlines file."""
    return parse_deadlines(read_yaml(path, DeadlineError), path.name)


@functools.lru_cache(maxsize=1)
def default_deadlines() -> Deadlines:
    """The project's time limits, read once per process."""
    return load_deadlines()


def due_at(accepted_at: datetime, type: str, urgency: str = "normal") -> datetime:
    """When an order of ``type`` (投诉, 咨询 …) accepted at ``accepted_at`` must be answered."""
    return default_deadlines().limit(type, urgency).ends(accepted_at, default_calendar())
