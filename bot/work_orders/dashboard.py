"""The supervisor dashboard's numbers: orders per day, load and deadlines per department, 回访, hotspots, the queue.

Pure reads over the database, for a period of whole China days ending today (moments are aware;
days are China's).
Conventions:
- Orders per day count every order filed, duplicates included: that is what reached the hotline.
- Open, overdue and closed orders leave out the orders merged into another as duplicates: they
  follow their original and are not worked on by themselves (as ``order_lifecycle.list_orders``).
- An order is overdue when it is open and its deadline (after an approved extension, the new one)
  has passed; it was closed on time when it was closed no later than its deadline.
- Satisfaction counts the orders whose 回访 was answered in the period, by their latest answer.
- The dispatcher queue (待分派) is every order without a department in 已受理, 退单 or 督办, oldest
  wait first; an order waits from when it was filed or, when a department returned it, from the return.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select

from bot.core.clock import china_date, start_of_china_day
from bot.core.db import Database
from bot.core.models import WorkOrder, WorkOrderEvent
from bot.core.personal_data import mask_text
from bot.core.scales import BASICALLY_SATISFIED, RATINGS, SATISFIED
from bot.work_orders.hotspots import HotspotView, open_hotspots
from bot.work_orders.lifecycle import OPEN_STATES, QUEUE_STATES

DEFAULT_DAYS = 14
MAX_DAYS = 90
QUEUE_LIMIT = 100
TITLE_CHARS = 40
# Where an order came from: messages from the board and orders agents filed by their source, the others
# by the channel the citizen used (its name: the staff's pages label it), or OTHER_ORIGIN.
SOURCE_ORIGINS = ("board", "agent")
OTHER_ORIGIN = "other"
NO_CATEGORY = "未分类"
NO_DISTRICT = "未填写区"
# The answers that count as satisfied in the satisfaction rate.
POSITIVE_RATINGS = (SATISFIED, BASICALLY_SATISFIED)


def origin(source: str, channel: str) -> str:
    """Where an order came from: ``board``, ``agent``, the citizen's channel, or ``other``."""
    if source in SOURCE_ORIGINS:
        return source
    return channel or OTHER_ORIGIN


def period_start(now: datetime, days: int) -> datetime:
    """Midnight (China time) of the first of the ``days`` whole China days that end on ``now``'s day."""
    return start_of_china_day(china_date(now) - timedelta(days=days - 1))


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to 4 places, or None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class DayCounts:
    """The orders filed on one day, in all and by first-level category, channel and district."""

    day: date
    total: int
    categories: dict[str, int] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    districts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DepartmentLoad:
    """A department's open and overdue orders now, and the orders it closed in the period."""

    department: str
    open: int
    overdue: int
    closed: int
    closed_on_time: int

    @property
    def on_time_rate(self) -> float | None:
        """Orders closed on time out of those closed in the period (None when none was closed)."""
        return rate(self.closed_on_time, self.closed)


@dataclass(frozen=True)
class Satisfaction:
    """回访 answers in the period: how many orders got each answer."""

    counts: dict[str, int]

    @property
    def answered(self) -> int:
        """How many orders were followed up."""
        return sum(self.counts.values())

    @property
    def satisfied_rate(self) -> float | None:
        """满意 and 基本满意 out of all answers (None without answers)."""
        return rate(sum(self.counts[label] for label in POSITIVE_RATINGS), self.answered)


@dataclass(frozen=True)
class QueuedOrder:
    """An order waiting in the dispatcher queue for a department."""

    number: str
    type: str
    title: str
    district: str | None
    state: str
    waiting_since: datetime
    due_at: datetime
    urgency: str

    def waiting_s(self, now: datetime) -> int:
        """Seconds it has waited until ``now``."""
        return max(0, int((now - self.waiting_since).total_seconds()))


@dataclass(frozen=True)
class DispatcherQueue:
    """The oldest waiting orders (at most ``QUEUE_LIMIT``) and how many wait in all."""

    orders: tuple[QueuedOrder, ...]
    total: int


@dataclass(frozen=True)
class Dashboard:
    """Everything the supervisor dashboard shows, for the ``days`` days ending on ``now``'s day."""

    now: datetime
    days: int
    since: datetime
    per_day: tuple[DayCounts, ...]
    departments: tuple[DepartmentLoad, ...]
    satisfaction: Satisfaction
    hotspots: tuple[HotspotView, ...]
    queue: DispatcherQueue

    @property
    def filed(self) -> int:
        """Orders filed in the period."""
        return sum(day.total for day in self.per_day)

    @property
    def open(self) -> int:
        """Open orders with a department now."""
        return sum(load.open for load in self.departments)

    @property
    def overdue(self) -> int:
        """Open orders with a department whose deadline has passed."""
        return sum(load.overdue for load in self.departments)

    @property
    def closed(self) -> int:
        """Orders closed in the period."""
        return sum(load.closed for load in self.departments)

    @property
    def closed_on_time(self) -> int:
        """Orders closed in the period no later than their deadline."""
        return sum(load.closed_on_time for load in self.departments)

    @property
    def on_time_rate(self) -> float | None:
        """Orders closed on time out of all closed in the period."""
        return rate(self.closed_on_time, self.closed)

    def totals(self, dimension: str) -> dict[str, int]:
        """Orders filed in the period by ``categories``, ``channels`` or ``districts``."""
        counted: Counter[str] = Counter()
        for day in self.per_day:
            counted.update(getattr(day, dimension))
        return dict(counted)


async def orders_per_day(database: Database, now: datetime, days: int) -> list[DayCounts]:
    """Orders filed on each of the ``days`` China days ending today, oldest day first (days without orders as 0).

    The database keeps UTC: the orders are counted by their China day here, not by the database's date.
    """
    since = period_start(now, days)
    query = select(
        WorkOrder.created_at, WorkOrder.category_l1, WorkOrder.district, WorkOrder.source, WorkOrder.channel
    ).where(WorkOrder.created_at >= since, WorkOrder.created_at <= now)
    categories: dict[date, Counter[str]] = defaultdict(Counter)
    channels: dict[date, Counter[str]] = defaultdict(Counter)
    districts: dict[date, Counter[str]] = defaultdict(Counter)
    async with database.session() as session:
        for created_at, category, district, source, channel in await session.execute(query):
            key = china_date(created_at)
            categories[key][category or NO_CATEGORY] += 1
            channels[key][origin(source, channel)] += 1
            districts[key][district or NO_DISTRICT] += 1
    result = []
    for offset in range(days):
        on = china_date(since) + timedelta(days=offset)
        result.append(
            DayCounts(
                day=on,
                total=sum(categories[on].values()),
                categories=dict(categories[on]),
                channels=dict(channels[on]),
                districts=dict(districts[on]),
            )
        )
    return result


async def department_loads(database: Database, now: datetime, since: datetime) -> list[DepartmentLoad]:
    """Per department: open and overdue orders now, closed and closed on time since ``since``; most overdue first."""
    open_query = (
        select(
            WorkOrder.department,
            func.count(),
            func.coalesce(func.sum(case((WorkOrder.due_at < now, 1), else_=0)), 0),
        )
        .where(
            WorkOrder.status.in_(OPEN_STATES),
            WorkOrder.department.is_not(None),
            WorkOrder.duplicate_of.is_(None),
        )
        .group_by(WorkOrder.department)
    )
    closed_query = (
        select(
            WorkOrder.department,
            func.count(),
            func.coalesce(func.sum(case((WorkOrder.closed_at <= WorkOrder.due_at, 1), else_=0)), 0),
        )
        .where(
            WorkOrder.closed_at.is_not(None),
            WorkOrder.closed_at >= since,
            WorkOrder.closed_at <= now,
            WorkOrder.department.is_not(None),
            WorkOrder.duplicate_of.is_(None),
        )
        .group_by(WorkOrder.department)
    )
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    async with database.session() as session:
        for department, total, overdue in await session.execute(open_query):
            counts[department][0], counts[department][1] = int(total), int(overdue)
        for department, total, on_time in await session.execute(closed_query):
            counts[department][2], counts[department][3] = int(total), int(on_time)
    loads = [DepartmentLoad(name, *numbers) for name, numbers in counts.items()]
    return sorted(loads, key=lambda load: (-load.overdue, -load.open, -load.closed, load.department))


async def satisfaction(database: Database, now: datetime, since: datetime) -> Satisfaction:
    """The latest 回访 answer of each order followed up since ``since``, counted by answer."""
    answered = (
        select(WorkOrderEvent.order_number)
        .where(
            WorkOrderEvent.action.in_(("follow_up", "reopen")),
            WorkOrderEvent.at >= since,
            WorkOrderEvent.at <= now,
        )
        .distinct()
    )
    query = (
        select(WorkOrder.satisfaction, func.count())
        .where(WorkOrder.number.in_(answered), WorkOrder.satisfaction.in_(RATINGS))
        .group_by(WorkOrder.satisfaction)
    )
    counts = dict.fromkeys(RATINGS, 0)
    async with database.session() as session:
        for label, count in await session.execute(query):
            counts[label] = int(count)
    return Satisfaction(counts)


def short_title(title: str, summary: str) -> str:
    """The order's title, or the start of its summary, with 身份证号 and phone numbers masked."""
    text = " ".join((title.strip() or summary.strip()).split())
    text = mask_text(text)
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


async def dispatcher_queue(database: Database, limit: int = QUEUE_LIMIT) -> DispatcherQueue:
    """The orders waiting for a department, the longest wait first (at most ``limit``), and their number."""
    waiting = (
        WorkOrder.department.is_(None),
        WorkOrder.status.in_(QUEUE_STATES),
        WorkOrder.duplicate_of.is_(None),
    )
    entered = (
        select(WorkOrderEvent.order_number, func.max(WorkOrderEvent.at).label("at"))
        .where(
            WorkOrderEvent.action.in_(("file", "return")),
            WorkOrderEvent.order_number.in_(select(WorkOrder.number).where(*waiting)),
        )
        .group_by(WorkOrderEvent.order_number)
        .subquery()
    )
    since = func.coalesce(entered.c.at, WorkOrder.created_at)
    query = (
        select(WorkOrder, since)
        .outerjoin(entered, entered.c.order_number == WorkOrder.number)
        .where(*waiting)
        .order_by(since, WorkOrder.number)
        .limit(limit)
    )
    async with database.session() as session:
        total = int(await session.scalar(select(func.count()).select_from(WorkOrder).where(*waiting)) or 0)
        rows = (await session.execute(query)).all()
    orders = tuple(
        QueuedOrder(
            number=order.number,
            type=order.kind,
            title=short_title(order.title, order.summary),
            district=order.district,
            state=order.status,
            waiting_since=waiting_since,
            due_at=order.due_at,
            urgency=order.urgency,
        )
        for order, waiting_since in rows
    )
    return DispatcherQueue(orders=orders, total=total)


def check_days(days: int) -> int:
    """``days`` if it is a period the dashboard shows (1 to ``MAX_DAYS``), else ``ValueError``."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"统计天数应为1到{MAX_DAYS}天")
    return days


async def dashboard(database: Database, now: datetime, days: int = DEFAULT_DAYS) -> Dashboard:
    """Everything the dashboard shows, for the ``days`` China days ending on ``now``'s day."""
    check_days(days)
    since = period_start(now, days)
    return Dashboard(
        now=now,
        days=days,
        since=since,
        per_day=tuple(await orders_per_day(database, now, days)),
        departments=tuple(await department_loads(database, now, since)),
        satisfaction=await satisfaction(database, now, since),
        hotspots=tuple(await open_hotspots(database)),
        queue=await dispatcher_queue(database),
    )
