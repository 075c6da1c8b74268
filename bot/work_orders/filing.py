"""Work orders (工单): filing one (classified, routed, with its deadline, linked to a duplicate), and finding them.

Filing is the first step of the lifecycle (bot/work_orders/lifecycle.py): an order that a routing rule
covers is dispatched at once (已派单); one that no rule covers waits in the dispatcher queue
(已受理 with no department). An order about the same problem at the same place as an open order
filed within ``DUPLICATE_WINDOW_HOURS`` is merged into it (``duplicate_of``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.appeals.categories import DISTRICTS, TYPES, Category, load_categories
from bot.core.clock import in_china
from bot.core.db import Database
from bot.core.models import Citizen, WorkOrder, WorkOrderCounter
from bot.core.numerals import digit_runs, to_digits
from bot.core.personal_data import InvalidPhone, digest, parse_phone
from bot.core.settings import Settings, get_settings
from bot.work_orders.deadlines import due_at
from bot.work_orders.hotspots import note_order
from bot.work_orders.lifecycle import (
    ACCEPTED,
    CITIZEN,
    CLOSED,
    FOLLOWED_UP,
    OPEN_STATES,
    SYSTEM,
    record_event,
)

logger = logging.getLogger(__name__)

# The hotline's own kinds of order, besides the types of appeal (诉求类型, ``bot.appeals.categories``).
CALLBACK = "回电"
SUPERVISION = "督办"
HOTLINE_KINDS = (CALLBACK, SUPERVISION)
KINDS = (*TYPES, *HOTLINE_KINDS)
URGENCIES = ("normal", "urgent")
# How the department of an order nobody has assigned yet is shown (stored as None).
UNASSIGNED = "待分派"
# States in which an order is no longer followed up.
CLOSED_STATUSES = frozenset({CLOSED, FOLLOWED_UP, "已撤销"})
ORDER_NUMBER_DIGITS = 13
# "WO2026112800001", also "wo 2026 1128 00001" (after spoken digits became Arabic ones).
_ORDER_NUMBER = re.compile(r"(?<![A-Za-z])[Ww]\s*[Oo]\s*((?:\d[\s\-]*){12}\d)(?![\d])")
_NOT_ADDRESS = re.compile(r"[\W_]+")
_ADDRESS_PREFIXES = ("中国", "广东省", "广东", "广州市", "广州")
EARTH_RADIUS_M = 6_371_000.0


class InvalidOrder(ValueError):
    """A new order with a field the hotline cannot file (the message says which, in Chinese)."""


@dataclass(frozen=True, kw_only=True)
class NewOrder:
    """What the hotline knows when it files an order.

    ``type`` (or its older name ``kind``) is the type of appeal, or 回电/督办 for the hotline's own
    orders; without one the classifier decides. ``department`` None (or 待分派) means routed by the
    category; a department given is used as it is. ``category`` is (first level, second level) or
    (first, second, third level) of the tree of APPEAL_TAXONOMY_FILE; without one an appeal is classified
    from its title and summary.
    """

    summary: str
    sender_id: str = ""
    type: str | None = None
    kind: str | None = None
    department: str | None = None
    title: str = ""
    category: Category | None = None
    district: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    since: str | None = None
    contact_phone: str | None = None
    anonymous: bool = False
    urgency: str = "normal"
    source: str = "conversation"
    channel: str = ""
    citizen_id: int | None = None
    case_number: str | None = None
    # When the citizen sent it, if earlier than filing (a message board's posting time): noted in the audit.
    received_at: datetime | None = None


@dataclass(frozen=True)
class FiledOrder:
    """A filed order's number (``WO<yyyymmdd><5-digit serial>``) with what filing decided.

    ``department``: None when it waits in the dispatcher queue; ``due_at``: its deadline;
    ``duplicate_of``: the open order it was merged into, if any.
    """

    number: str
    department: str | None
    due_at: datetime
    duplicate_of: str | None = None


@dataclass(frozen=True)
class Prepared:
    """A new order checked, classified and routed, ready to be stored."""

    order: NewOrder
    kind: str
    category: Category | None
    district: str | None
    department: str | None
    routed: bool
    contact_phone: str | None
    address_key: str | None


def normalize_district(raw: str | None) -> str | None:
    """``天河`` / ``广州市天河区`` → ``天河区``; None for nothing; ``InvalidOrder`` for a place outside Guangzhou."""
    text = re.sub(r"\s+", "", raw or "")
    for prefix in ("广东省", "广州市"):
        text = text.removeprefix(prefix)
    if not text:
        return None
    if text in DISTRICTS:
        return text
    if text + "区" in DISTRICTS:
        return text + "区"
    raise InvalidOrder(f"“{raw}”不是广州市的区（{'、'.join(DISTRICTS)}）")


def address_key(address: str | None) -> str | None:
    """The address as duplicates are matched: no spaces or punctuation, no province, city or district prefix."""
    text = _NOT_ADDRESS.sub("", unicodedata.normalize("NFKC", address or "")).lower()
    changed = True
    while changed:
        changed = False
        for prefix in (*_ADDRESS_PREFIXES, *DISTRICTS):
            if text.startswith(prefix):
                text = text.removeprefix(prefix)
                changed = True
    return text or None


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The great-circle distance in metres between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def _check_fields(order: NewOrder) -> str | None:
    """Check what does not need the classifier; returns the contact phone to store."""
    if not order.summary.strip():
        raise InvalidOrder("请说明反映的内容")
    kind = order.type or order.kind
    if kind is not None and kind not in KINDS:
        raise InvalidOrder(f"诉求类型应为{'、'.join(TYPES)}之一，不是“{kind}”")
    lengths = ((order.title, 200, "标题"), (order.address, 400, "地址"), (order.since, 100, "开始时间"))
    for value, limit, what in lengths:
        if value is not None and len(value.strip()) > limit:
            raise InvalidOrder(f"{what}不能超过{limit}字")
    if order.urgency not in URGENCIES:
        raise InvalidOrder(f"紧急程度应为normal或urgent，不是“{order.urgency}”")
    if (order.latitude is None) != (order.longitude is None):
        raise InvalidOrder("位置需要同时有纬度和经度")
    latitude, longitude = order.latitude, order.longitude
    if latitude is not None and longitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidOrder("位置的纬度或经度超出范围")
    if order.category is not None and not load_categories().is_known(order.category):
        raise InvalidOrder(f"没有“{'/'.join(order.category)}”这个分类")
    if order.anonymous or not order.contact_phone:
        return None
    try:
        return parse_phone(order.contact_phone)
    except InvalidPhone as error:
        raise InvalidOrder(f"联系电话有误：{error}") from error


def prepare(order: NewOrder) -> Prepared:
    """Check a new order, classify an appeal without a category, and route one without a department."""
    contact_phone = _check_fields(order)
    district = normalize_district(order.district)
    kind = order.type or order.kind
    category = order.category
    if category is None and kind not in HOTLINE_KINDS:
        from bot.appeals.classifier import classify  # imports scikit-learn: only when an order needs it

        classification = classify(order.title, order.summary)
        category = classification.category
        kind = kind or classification.type
    if kind is None:
        raise InvalidOrder("请说明诉求类型（咨询、求助、投诉、举报或建议）")
    department = order.department if order.department not in (None, "", UNASSIGNED) else None
    routed = False
    if department is None and category is not None:
        from bot.appeals.routing import route

        department = route(category, district)
        routed = department is not None
    return Prepared(
        order=order,
        kind=kind,
        category=category,
        district=district,
        department=department,
        routed=routed,
        contact_phone=contact_phone,
        address_key=address_key(order.address),
    )


async def _next_serial(session: AsyncSession, day: str, prefix: str) -> int:
    """The day's next serial; the counter's row stays locked until the order is stored."""
    bumped = await session.execute(
        update(WorkOrderCounter).where(WorkOrderCounter.day == day).values(last=WorkOrderCounter.last + 1)
    )
    if bumped.rowcount == 0:  # the day's first order (or orders stored before the counter existed)
        last = await session.scalar(select(func.max(WorkOrder.number)).where(WorkOrder.number.like(prefix + "%")))
        session.add(WorkOrderCounter(day=day, last=int(last[len(prefix) :]) + 1 if last else 1))
        await session.flush()
    return int(await session.scalar(select(WorkOrderCounter.last).where(WorkOrderCounter.day == day)) or 0)


async def find_duplicate(
    session: AsyncSession, prepared: Prepared, now: datetime, settings: Settings
) -> WorkOrder | None:
    """The open order this one repeats: same first-level category, same address or nearby, recent enough."""
    order = prepared.order
    has_place = prepared.address_key is not None or order.latitude is not None
    if prepared.category is None or not has_place:
        return None
    candidates = await session.scalars(
        select(WorkOrder)
        .where(
            WorkOrder.category_l1 == prepared.category[0],
            WorkOrder.status.in_(OPEN_STATES),
            WorkOrder.duplicate_of.is_(None),
            WorkOrder.created_at >= now - timedelta(hours=settings.duplicate_window_hours),
        )
        .order_by(WorkOrder.created_at, WorkOrder.number)
    )
    for candidate in candidates:
        same_district = prepared.district is None or candidate.district in (None, prepared.district)
        if prepared.address_key is not None and candidate.address_key == prepared.address_key and same_district:
            return candidate
        if (
            order.latitude is not None
            and order.longitude is not None
            and candidate.latitude is not None
            and candidate.longitude is not None
            and distance_m((order.latitude, order.longitude), (candidate.latitude, candidate.longitude))
            <= settings.duplicate_distance_m
        ):
            return candidate
    return None


def contact_digest(phone: str | None, settings: Settings) -> str | None:
    """The keyed digest of an order's contact number: what finds the orders a citizen's number was given for."""
    return None if phone is None else digest(phone, str(settings.pii_hash_key))


async def _store(session: AsyncSession, prepared: Prepared, now: datetime, settings: Settings) -> FiledOrder:
    order = prepared.order
    day = in_china(now).strftime("%Y%m%d")  # the number's date is the China day of filing
    prefix = "WO" + day
    original = await find_duplicate(session, prepared, now, settings)
    number = f"{prefix}{await _next_serial(session, day, prefix):05d}"
    department = original.department if original is not None else prepared.department
    deadline = original.due_at if original is not None else due_at(now, prepared.kind, order.urgency)
    stored = WorkOrder(
        number=number,
        kind=prepared.kind,
        department=department,
        title=order.title.strip(),
        summary=order.summary.strip(),
        category_l1=prepared.category[0] if prepared.category else None,
        category_l2=prepared.category[1] if prepared.category else None,
        category_l3=prepared.category[2] if prepared.category and len(prepared.category) > 2 else None,
        district=prepared.district,
        address=(order.address or "").strip() or None,
        address_key=prepared.address_key,
        latitude=order.latitude,
        longitude=order.longitude,
        since=(order.since or "").strip() or None,
        contact_phone=prepared.contact_phone,
        contact_phone_digest=contact_digest(prepared.contact_phone, settings),
        anonymous=order.anonymous,
        urgency=order.urgency,
        source=order.source,
        case_number=order.case_number,
        sender_id=order.sender_id,
        status=ACCEPTED,
        created_at=now,
        due_at=deadline,
        duplicate_of=original.number if original is not None else None,
        reopened=0,
        citizen_id=order.citizen_id,
        channel=order.channel,
    )
    session.add(stored)
    actor = SYSTEM if prepared.kind in HOTLINE_KINDS else CITIZEN
    notes = [f"市民于{in_china(order.received_at):%Y-%m-%d %H:%M}提交"] if order.received_at is not None else []
    if original is not None:
        notes.append(f"与工单{original.number}反映同一问题，合并办理")
    reason = "；".join(notes)
    record_event(session, stored, action="file", actor=actor, now=now, reason=reason)
    if original is None and department is not None:
        why = "按派单规则派单" if prepared.routed else "登记时指定承办部门"
        record_event(session, stored, action="dispatch", actor=SYSTEM, now=now, department=department, reason=why)
    await session.flush()
    await note_order(session, stored, now, settings.hotspot_window_hours, settings.hotspot_min_orders)
    return FiledOrder(
        number,
        duplicate_of=stored.duplicate_of,
        department=department,
        due_at=deadline,
    )


async def file_order(
    database: Database, order: NewOrder, now: datetime, *, settings: Settings | None = None
) -> FiledOrder:
    """File an order: classify, route, set its deadline, merge it into an open duplicate, record the audit.

    Returns its number ``WO<yyyymmdd><5-digit serial>`` (the China day of ``now``, an aware moment)
    with the department, the deadline and the duplicate it was merged into.

    Raises:
        InvalidOrder: a field the hotline cannot file.
    """
    # In a thread: the classifier may be loading its model, which must not hold up the event loop.
    prepared = await asyncio.to_thread(prepare, order)
    (filed,) = await store_prepared(database, [prepared], now, settings=settings)
    return filed


async def store_prepared(
    database: Database, prepared: list[Prepared], now: datetime, *, settings: Settings | None = None
) -> list[FiledOrder]:
    """Store prepared orders in one transaction, in their order (all of them or, on an error, none)."""
    settings = settings or get_settings()
    for attempt in range(2):
        try:
            async with database.session() as session:
                filed = [await _store(session, one, now, settings) for one in prepared]
            for one, order in zip(prepared, filed, strict=True):
                logger.info(
                    "work order %s filed (%s, %s)%s",
                    order.number,
                    one.kind,
                    order.department or UNASSIGNED,
                    f", merged into {order.duplicate_of}" if order.duplicate_of else "",
                )
            return filed
        except IntegrityError:  # two first orders of the day created the counter at once
            if attempt:
                raise
    raise AssertionError("unreachable")


class InvalidOrderNumber(ValueError):
    """Text that holds no well-formed work-order number."""


def find_order_number(text: str) -> str | None:
    """The ``WO`` number written in ``text`` (any case, spaces, spoken digits), or None."""
    match = _ORDER_NUMBER.search(to_digits(text))
    return None if match is None else "WO" + re.sub(r"[\s\-]", "", match.group(1))


def parse_order_number(text: str) -> str:
    """The work-order number in ``text``, with or without its ``WO``, or ``InvalidOrderNumber``."""
    number = find_order_number(text)
    if number is None:
        exact = [run for run in digit_runs(text, min_length=ORDER_NUMBER_DIGITS) if len(run) == ORDER_NUMBER_DIGITS]
        if not exact:
            raise InvalidOrderNumber("工单号是WO加13位数字，前8位是登记日期，例如WO2026112800001")
        number = "WO" + exact[0]
    try:
        datetime.strptime(number[2:10], "%Y%m%d")
    except ValueError as error:
        raise InvalidOrderNumber("工单号WO后面的8位应是登记日期，请核对后再说一遍") from error
    return number


@dataclass(frozen=True)
class OrderView:
    """What may be told to the citizen who filed an order."""

    number: str
    kind: str
    department: str
    summary: str
    status: str
    created_at: datetime
    citizen_id: int | None
    due_at: datetime | None = None
    duplicate_of: str | None = None
    reply: str | None = None
    # The conversation it was filed in.
    sender_id: str = ""
    # Whether a phone number was given for it (not anonymous): its filer can prove the order is theirs.
    has_contact_phone: bool = False

    @property
    def is_open(self) -> bool:
        """Whether the order is still being handled."""
        return self.status not in CLOSED_STATUSES


def _order_view(order: WorkOrder) -> OrderView:
    return OrderView(
        number=order.number,
        kind=order.kind,
        department=order.department or UNASSIGNED,
        summary=order.summary,
        status=order.status,
        created_at=order.created_at,
        citizen_id=order.citizen_id,
        due_at=order.due_at,
        duplicate_of=order.duplicate_of,
        reply=order.reply,
        sender_id=order.sender_id,
        has_contact_phone=bool(order.contact_phone) and not order.anonymous,
    )


def _gave_number_of(citizen_id: int) -> ColumnElement[bool]:
    """Orders filed without a verified citizen for which this citizen's verified number was given."""
    return and_(
        WorkOrder.citizen_id.is_(None),
        WorkOrder.anonymous.is_(False),
        WorkOrder.contact_phone_digest
        == select(Citizen.phone_digest).where(Citizen.id == citizen_id).scalar_subquery(),
    )


async def find_order(database: Database, number: str) -> OrderView | None:
    """The order with this number, or None."""
    async with database.session() as session:
        order = await session.get(WorkOrder, number)
        return None if order is None else _order_view(order)


async def orders_of_citizen(database: Database, citizen_id: int, limit: int = 5) -> list[OrderView]:
    """A citizen's open orders (theirs, or filed elsewhere with their number as the contact), most recent first."""
    async with database.session() as session:
        orders = await session.scalars(
            select(WorkOrder)
            .where(
                or_(WorkOrder.citizen_id == citizen_id, _gave_number_of(citizen_id)),
                WorkOrder.status.not_in(CLOSED_STATUSES),
            )
            .order_by(WorkOrder.created_at.desc(), WorkOrder.number.desc())
            .limit(limit)
        )
        return [_order_view(order) for order in orders]


async def orders_awaiting_follow_up(database: Database, citizen_id: int) -> list[OrderView]:
    """A citizen's closed orders whose 回访 question was sent and not answered yet, oldest first."""
    async with database.session() as session:
        orders = await session.scalars(
            select(WorkOrder)
            .where(
                WorkOrder.citizen_id == citizen_id,
                WorkOrder.status == CLOSED,
                WorkOrder.follow_up_requested_at.is_not(None),
            )
            .order_by(WorkOrder.closed_at, WorkOrder.number)
        )
        return [_order_view(order) for order in orders]


async def is_order_of_citizen(database: Database, number: str, citizen_id: int) -> bool:
    """Whether the order is this verified citizen's: filed by them, or filed with their number as the contact."""
    async with database.session() as session:
        found = await session.scalar(
            select(WorkOrder.number).where(
                WorkOrder.number == number, or_(WorkOrder.citizen_id == citizen_id, _gave_number_of(citizen_id))
            )
        )
        return found is not None


async def contact_tail_digest(session: AsyncSession, number: str, key: str) -> str | None:
    """The digest of the last four digits of the filing citizen's phone, or of the number given for the order.

    For ``verify_tail``. None for no such order, and for one with neither a verified citizen nor a
    number given (anonymous, or none left): there is nothing to check against.
    """
    order = await session.get(WorkOrder, number)
    if order is None:
        return None
    phone = None
    if order.citizen_id is not None:
        phone = await session.scalar(select(Citizen.phone).where(Citizen.id == order.citizen_id))
    elif order.contact_phone and not order.anonymous:
        phone = order.contact_phone
    return digest(number + phone[-4:], key) if phone else None
