"""Work orders: filing (routing, deadline, duplicates, hotspots), numbers as said, lookup, ownership checks."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.appeals.categories import COMPLAINT, HELP, TYPES, load_categories
from bot.appeals.routing import route
from bot.citizens.identity import identify
from bot.citizens.ownership import LockRule, Verdict, verify_tail
from bot.core.clock import UTC, china
from bot.core.db import Database
from bot.core.models import Hotspot, WorkOrder
from bot.core.settings import Settings, get_settings
from bot.work_orders.filing import (
    CALLBACK,
    UNASSIGNED,
    FiledOrder,
    InvalidOrder,
    InvalidOrderNumber,
    NewOrder,
    address_key,
    contact_tail_digest,
    distance_m,
    file_order,
    find_order,
    find_order_number,
    orders_of_citizen,
    parse_order_number,
)
from bot.work_orders.hotspots import open_hotspots
from bot.work_orders.lifecycle import list_orders, order_detail

KEY = "test-key"
NOW = china(2026, 11, 28, 9, 0)
PHONE = "13912345678"


@pytest.mark.parametrize(
    ("said", "number"),
    [
        ("查一下WO2026112800001", "WO2026112800001"),
        ("工单号wo2026112800001的进度", "WO2026112800001"),
        ("Wo 2026 1128 00001 怎么样了", "WO2026112800001"),
        ("WO二零二六一一二八零零零零一", "WO2026112800001"),
    ],
)
def test_order_numbers_as_written_and_spoken(said: str, number: str) -> None:
    assert find_order_number(said) == number
    assert parse_order_number(said) == number


def test_a_bare_thirteen_digit_answer_is_an_order_number() -> None:
    assert find_order_number("2026112800001") is None
    assert parse_order_number("是2026112800001") == "WO2026112800001"


@pytest.mark.parametrize("said", ["WO20261128001", "20261120000158", "WO2026133000001", "我不记得了"])
def test_invalid_order_numbers_say_why(said: str) -> None:
    with pytest.raises(InvalidOrderNumber):
        parse_order_number(said)


AIR = ("环境保护", "环境污染", "大气污染")
PROPERTY = ("城乡建设", "住房保障与房地产", "物业服务")
UTILITIES = ("城乡建设", "其他", "其他")  # no routing rule: the dispatcher splits it
NOISE = ("环境保护", "环境污染", "噪音污染")
TIANHE_HOUSING = "广州市天河区住房和城乡建设局"


def _report(summary: str, citizen_id: int | None, kind: str = COMPLAINT) -> NewOrder:
    return NewOrder(
        kind=kind,
        department=UNASSIGNED,
        summary=summary,
        sender_id="s1",
        channel="sms",
        citizen_id=citizen_id,
        category=AIR,
    )


async def test_a_filed_order_is_found_by_its_number(database: Database) -> None:
    citizen = await identify(database, PHONE, KEY, NOW)
    number = (await file_order(database, _report("楼下餐馆油烟太大", citizen.id), NOW)).number
    assert number == "WO2026112800001"
    order = await find_order(database, number)
    assert order is not None
    assert (order.kind, order.status, order.department) == (COMPLAINT, "已派单", "广州市生态环境局")
    assert order.summary == "楼下餐馆油烟太大"
    assert (order.citizen_id, order.created_at, order.is_open) == (citizen.id, NOW, True)
    assert await find_order(database, "WO2026112899999") is None


async def test_a_citizens_open_orders_most_recent_first_at_most_five(database: Database) -> None:
    mine = await identify(database, PHONE, KEY, NOW)
    other = await identify(database, "13800001111", KEY, NOW)
    numbers = [
        (await file_order(database, _report(f"第{n}件", mine.id), NOW + timedelta(hours=n))).number for n in range(7)
    ]
    await file_order(database, _report("别人的", other.id, HELP), NOW)
    await file_order(database, _report("没有验证的", None), NOW)
    async with database.session() as session:
        await session.execute(update(WorkOrder).where(WorkOrder.number == numbers[6]).values(status="已办结"))
    listed = await orders_of_citizen(database, mine.id)
    assert [order.number for order in listed] == [numbers[5], numbers[4], numbers[3], numbers[2], numbers[1]]
    assert [order.number for order in await orders_of_citizen(database, other.id)] == ["WO2026112800008"]


def _verify(database: Database, number: str, answer: str, now: datetime = NOW):  # type: ignore[no-untyped-def]
    return verify_tail(database, number, answer, contact_tail_digest, key=KEY, now=now, rule=LockRule(3, 30))


async def test_last_four_digits_of_the_citizen_prove_ownership(database: Database) -> None:
    citizen = await identify(database, PHONE, KEY, NOW)
    number = (await file_order(database, _report("路灯坏了", citizen.id), NOW)).number
    assert (await _verify(database, number, "后四位是五六七八")).verdict is Verdict.VERIFIED


async def test_wrong_answers_lock_the_order_for_a_while(database: Database) -> None:
    citizen = await identify(database, PHONE, KEY, NOW)
    number = (await file_order(database, _report("路灯坏了", citizen.id), NOW)).number
    assert (await _verify(database, number, "1111")).attempts_left == 2
    assert (await _verify(database, number, "2222")).attempts_left == 1
    locked = await _verify(database, number, "3333")
    assert (locked.verdict, locked.locked_until) == (Verdict.LOCKED, NOW + timedelta(minutes=30))
    assert (await _verify(database, number, "5678")).verdict is Verdict.LOCKED
    later = NOW + timedelta(minutes=31)
    assert (await _verify(database, number, "5678", later)).verdict is Verdict.VERIFIED


async def test_an_order_without_a_verified_citizen_cannot_be_claimed(database: Database) -> None:
    number = (await file_order(database, _report("噪音扰民", None), NOW)).number
    assert (await _verify(database, number, "5678")).verdict is Verdict.NOT_FOUND
    assert (await _verify(database, "WO2026112899999", "5678")).verdict is Verdict.NOT_FOUND


async def test_orders_filed_at_once_get_distinct_numbers(database: Database) -> None:
    orders = [NewOrder(kind="投诉", summary=f"第{n}件", sender_id=f"s{n}", category=UTILITIES) for n in range(8)]
    numbers = await asyncio.gather(*(file_order(database, order, china(2026, 11, 28, 10)) for order in orders))
    assert sorted(filed.number for filed in numbers) == [f"WO20261128{n:05d}" for n in range(1, 9)]


async def test_the_number_carries_the_china_day_of_filing(database: Database) -> None:
    # 16:30 UTC on the 27th is 00:30 on the 28th in China: the order is the 28th's first.
    late = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    early = datetime(2026, 11, 27, 15, 59, tzinfo=UTC)  # 23:59 on the 27th in China
    order = NewOrder(kind="投诉", summary="夜里施工", sender_id="s1", category=UTILITIES)
    first = await file_order(database, order, late)
    before = await file_order(database, dataclasses.replace(order, sender_id="s2"), early)
    assert (first.number, before.number) == ("WO2026112800001", "WO2026112700001")
    view = await find_order(database, first.number)
    assert view is not None and view.created_at == late and view.created_at.utcoffset() == timedelta(0)


async def test_an_order_is_never_filed_at_a_moment_without_a_zone(database: Database) -> None:
    order = NewOrder(kind="投诉", summary="夜里施工", sender_id="s1", category=UTILITIES)
    with pytest.raises(ValueError, match="naive"):
        await file_order(database, order, datetime(2026, 11, 28, 9))
    assert await find_order(database, "WO2026112800001") is None


# ---------------------------------------------------------------- filing: routing, deadline, audit

FRIDAY = china(2026, 11, 27, 15, 0)


def _settings(duplicate_distance_m: int = 100, hotspot_min_orders: int = 5) -> Settings:
    return dataclasses.replace(
        get_settings(),
        duplicate_window_hours=72,
        duplicate_distance_m=duplicate_distance_m,
        hotspot_window_hours=24,
        hotspot_min_orders=hotspot_min_orders,
    )


def _appeal(category: tuple[str, str] = PROPERTY, **fields: object) -> NewOrder:
    values: dict[str, object] = {
        "type": COMPLAINT,
        "title": "物业不修电梯",
        "summary": "小区3栋电梯坏了两周，物业一直不修",
        "district": "天河区",
        "address": "天河区体育西路103号",
        "sender_id": "web-1",
        "channel": "webchat",
        "category": category,
    }
    values.update(fields)
    return NewOrder(**values)  # type: ignore[arg-type]


async def test_a_routed_order_is_dispatched_at_once_with_its_deadline_and_audit(database: Database) -> None:
    filed = await file_order(database, _appeal(), FRIDAY, settings=_settings())
    assert isinstance(filed, FiledOrder) and filed.number == "WO2026112700001"
    assert (filed.department, filed.duplicate_of) == (TIANHE_HOUSING, None)
    assert filed.due_at == china(2026, 12, 4, 23, 59, 59)  # 5 working days after a Friday
    detail = await order_detail(database, filed.number)
    assert (detail.state, detail.department, detail.category, detail.type) == (
        "已派单",
        TIANHE_HOUSING,
        PROPERTY,
        "投诉",
    )
    assert [(e.actor, e.action, e.from_state, e.to_state) for e in detail.events] == [
        ("citizen", "file", None, "已受理"),
        ("system", "dispatch", "已受理", "已派单"),
    ]
    assert detail.events[1].department == TIANHE_HOUSING
    assert [order.number for order in await list_orders(database, TIANHE_HOUSING)] == [filed.number]


async def test_an_order_no_rule_covers_waits_in_the_dispatcher_queue(database: Database) -> None:
    filed = await file_order(database, _appeal(UTILITIES, summary="整栋楼停水一天了"), FRIDAY, settings=_settings())
    assert filed.department is None
    detail = await order_detail(database, filed.number)
    assert (detail.state, detail.department) == ("已受理", None)
    assert [(e.action, e.to_state) for e in detail.events] == [("file", "已受理")]
    assert [order.number for order in await list_orders(database, None)] == [filed.number]
    view = await find_order(database, filed.number)
    assert view is not None and view.department == UNASSIGNED


async def test_urgent_help_is_due_in_clock_hours(database: Database) -> None:
    saturday_night = china(2026, 11, 28, 22, 0)
    filed = await file_order(
        database, _appeal(type=HELP, urgency="urgent", summary="电梯困人"), saturday_night, settings=_settings()
    )
    assert filed.due_at == china(2026, 11, 29, 0, 0)


async def test_the_hotlines_own_orders_keep_their_department_and_are_not_classified(database: Database) -> None:
    order = NewOrder(kind=CALLBACK, department="12345热线", summary="来电要求人工服务，请回电", sender_id="voice-1")
    filed = await file_order(database, order, FRIDAY, settings=_settings())
    detail = await order_detail(database, filed.number)
    assert (detail.type, detail.department, detail.category, detail.state) == (CALLBACK, "12345热线", None, "已派单")
    assert detail.events[1].reason == "登记时指定承办部门"
    assert filed.due_at == china(2026, 11, 30, 23, 59, 59)


async def test_the_contact_phone_is_kept_only_when_given_and_not_anonymous_and_never_logged(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    given = await file_order(database, _appeal(contact_phone="139 1234 5678"), FRIDAY, settings=_settings())
    anonymous = await file_order(
        database,
        _appeal(type="举报", anonymous=True, contact_phone="13912345678", address="海珠区江南大道1号"),
        FRIDAY,
        settings=_settings(),
    )
    none = await file_order(database, _appeal(address="越秀区北京路1号"), FRIDAY, settings=_settings())
    assert (await order_detail(database, given.number)).contact_phone == "13912345678"
    assert (await order_detail(database, anonymous.number)).contact_phone is None
    assert (await order_detail(database, none.number)).contact_phone is None
    async with database.session() as session:
        stored = await session.get(WorkOrder, anonymous.number)
        assert stored is not None and stored.contact_phone is None and stored.anonymous
    assert "13912345678" not in caplog.text and given.number in caplog.text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "表扬"}, "诉求类型"),
        ({"urgency": "soon"}, "紧急程度"),
        ({"contact_phone": "12345"}, "联系电话"),
        ({"district": "福田区"}, "不是广州市的区"),
        ({"latitude": 23.1}, "纬度和经度"),
        ({"latitude": 123.1, "longitude": 113.3}, "超出范围"),
        ({"category": ("城乡建设", "噪声污染")}, "分类"),
        ({"summary": "  "}, "反映的内容"),
        ({"title": "长" * 201}, "标题不能超过200字"),
        ({"address": "路" * 401}, "地址不能超过400字"),
        ({"since": "很久" * 51}, "开始时间不能超过100字"),
    ],
)
async def test_an_order_with_a_bad_field_is_refused_and_nothing_stored(
    database: Database, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidOrder, match=message):
        await file_order(database, _appeal(**fields), FRIDAY, settings=_settings())
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(WorkOrder)) == 0


async def test_a_district_is_understood_without_its_suffix_or_city(database: Database) -> None:
    filed = await file_order(database, _appeal(district="广州市天河"), FRIDAY, settings=_settings())
    assert (await order_detail(database, filed.number)).district == "天河区"


# ---------------------------------------------------------------- duplicates


def test_addresses_match_without_city_district_spaces_or_punctuation() -> None:
    assert address_key("广东省广州市天河区 体育西路103号") == address_key("天河区体育西路１０３号。") == "体育西路103号"
    assert address_key("  ") is None


def test_distances_between_points() -> None:
    assert distance_m((23.1300, 113.3200), (23.1300, 113.3200)) == 0
    assert 50 < distance_m((23.1300, 113.3200), (23.1305, 113.3200)) < 60  # 0.0005° of latitude ≈ 55.6 m


async def test_a_report_of_the_same_problem_at_the_same_address_is_merged(database: Database) -> None:
    first = await file_order(database, _appeal(), FRIDAY, settings=_settings())
    again = await file_order(
        database,
        _appeal(address="广州市天河区 体育西路103号", summary="电梯坏了没人修"),
        FRIDAY + timedelta(hours=5),
        settings=_settings(),
    )
    assert again.duplicate_of == first.number
    assert (again.department, again.due_at) == (first.department, first.due_at)
    detail = await order_detail(database, again.number)
    assert (detail.duplicate_of, detail.state) == (first.number, "已受理")
    assert detail.events[0].reason == f"与工单{first.number}反映同一问题，合并办理"
    assert (await order_detail(database, first.number)).merged == (again.number,)
    # The department and the dispatcher see one order, not two.
    assert [order.number for order in await list_orders(database, TIANHE_HOUSING)] == [first.number]


async def test_a_report_nearby_by_coordinates_is_merged_and_one_further_away_is_not(database: Database) -> None:
    first = await file_order(
        database, _appeal(address=None, latitude=23.1300, longitude=113.3200), FRIDAY, settings=_settings()
    )
    near = await file_order(
        database, _appeal(address=None, latitude=23.1305, longitude=113.3200), FRIDAY, settings=_settings()
    )
    far = await file_order(
        database, _appeal(address=None, latitude=23.1320, longitude=113.3200), FRIDAY, settings=_settings()
    )
    assert near.duplicate_of == first.number
    assert far.duplicate_of is None
    wider = await file_order(
        database,
        _appeal(address=None, latitude=23.1320, longitude=113.3200),
        FRIDAY,
        settings=_settings(duplicate_distance_m=300),
    )
    assert wider.duplicate_of == first.number


async def test_what_is_not_a_duplicate(database: Database) -> None:
    first = await file_order(database, _appeal(), FRIDAY, settings=_settings())
    other_problem = await file_order(database, _appeal(NOISE, summary="楼下装修太吵"), FRIDAY, settings=_settings())
    other_district = await file_order(database, _appeal(district="越秀区"), FRIDAY, settings=_settings())
    no_place = await file_order(database, _appeal(address=None), FRIDAY, settings=_settings())
    too_late = await file_order(database, _appeal(), FRIDAY + timedelta(hours=73), settings=_settings())
    assert [other_problem.duplicate_of, other_district.duplicate_of, no_place.duplicate_of] == [None, None, None]
    assert too_late.duplicate_of is None
    assert first.number != too_late.number


async def test_a_closed_order_takes_no_duplicates(database: Database) -> None:
    first = await file_order(database, _appeal(), FRIDAY, settings=_settings())
    async with database.session() as session:
        await session.execute(update(WorkOrder).where(WorkOrder.number == first.number).values(status="已办结"))
    again = await file_order(database, _appeal(), FRIDAY + timedelta(hours=1), settings=_settings())
    assert again.duplicate_of is None


async def test_a_duplicate_links_to_the_original_not_to_another_duplicate(database: Database) -> None:
    first = await file_order(database, _appeal(), FRIDAY, settings=_settings())
    second = await file_order(database, _appeal(), FRIDAY + timedelta(hours=1), settings=_settings())
    third = await file_order(database, _appeal(), FRIDAY + timedelta(hours=2), settings=_settings())
    assert (second.duplicate_of, third.duplicate_of) == (first.number, first.number)


# ---------------------------------------------------------------- hotspots


async def _noise(database: Database, at: datetime, district: str = "天河区", n: int = 0) -> str:
    order = _appeal(NOISE, district=district, address=f"{district}某路{n}号", summary="夜间施工噪音")
    return (await file_order(database, order, at, settings=_settings(hotspot_min_orders=3))).number


async def test_similar_orders_in_a_short_time_raise_a_hotspot(database: Database) -> None:
    await _noise(database, FRIDAY - timedelta(hours=30), n=0)  # outside the 24-hour window
    await _noise(database, FRIDAY, n=1)
    await _noise(database, FRIDAY + timedelta(hours=1), district="海珠区", n=2)
    await _noise(database, FRIDAY + timedelta(hours=2), n=3)
    assert await open_hotspots(database) == []
    await _noise(database, FRIDAY + timedelta(hours=3), n=4)
    (spot,) = await open_hotspots(database)
    assert (spot.category, spot.district, spot.count) == (NOISE[:2], "天河区", 3)  # a hotspot is of a second level
    assert (spot.first_at, spot.last_at) == (FRIDAY, FRIDAY + timedelta(hours=3))
    await _noise(database, FRIDAY + timedelta(hours=4), n=5)
    (spot,) = await open_hotspots(database)
    assert (spot.count, spot.last_at) == (4, FRIDAY + timedelta(hours=4))
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Hotspot)) == 1


# ---------------------------------------------------------------- classification (the project's classifier)


async def test_an_appeal_without_a_category_is_classified_and_routed(database: Database) -> None:
    fumes = NewOrder(summary="楼下餐馆油烟太大，每天晚上都熏到我家", district="天河区", sender_id="web-1")
    filed = await file_order(database, fumes, FRIDAY, settings=_settings())
    detail = await order_detail(database, filed.number)
    assert detail.category is not None and detail.category[0] == "环境保护"
    assert load_categories().is_known(detail.category)
    assert detail.type in TYPES
    assert filed.department == route(detail.category, "天河区")
    assert detail.state == ("已派单" if filed.department else "已受理")
    # A type the citizen chose is kept; the classifier only adds the category.
    idea = NewOrder(type="建议", summary="建议在体育西路增加共享单车停放点", district="天河区", sender_id="web-2")
    suggested = await order_detail(database, (await file_order(database, idea, FRIDAY, settings=_settings())).number)
    assert suggested.type == "建议" and suggested.category is not None
