"""Work orders: filing (routing, deadline, duplicates, hotspots), numbers as said, lookup, ownership checks."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from bot.citizens import identify
from bot.db import Database
from bot.hotspots import open_hotspots
from bot.models import Hotspot, WorkOrder
from bot.order_lifecycle import list_orders, order_detail
from bot.settings import Settings, get_settings
from bot.work_orders import (
    CALLBACK,
    COMPLAINT,
    HELP,
    UNASSIGNED,
    FiledOrder,
    InvalidOrder,
    InvalidOrderNumber,
    NewOrder,
    Verdict,
    address_key,
    distance_m,
    file_order,
    find_order,
    find_order_number,
    orders_of_citizen,
    parse_order_number,
    verify_order_owner,
)

KEY = "test-key"
NOW = datetime(2026, 11, 28, 9, 0)
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


AIR = ("环境保护", "大气污染")
PROPERTY = ("城乡建设", "物业管理")
UTILITIES = ("城乡建设", "供水供电供气")  # no routing rule: the dispatcher splits it
NOISE = ("环境保护", "噪声污染")
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
    number = await file_order(database, _report("楼下餐馆油烟太大", citizen.id), NOW)
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
    numbers = [await file_order(database, _report(f"第{n}件", mine.id), NOW + timedelta(hours=n)) for n in range(7)]
    await file_order(database, _report("别人的", other.id, HELP), NOW)
    await file_order(database, _report("没有验证的", None), NOW)
    async with database.session() as session:
        await session.execute(update(WorkOrder).where(WorkOrder.number == numbers[6]).values(status="已办结"))
    listed = await orders_of_citizen(database, mine.id)
    assert [order.number for order in listed] == [numbers[5], numbers[4], numbers[3], numbers[2], numbers[1]]
    assert [order.number for order in await orders_of_citizen(database, other.id)] == ["WO2026112800008"]


def _verify(database: Database, number: str, answer: str, now: datetime = NOW):  # type: ignore[no-untyped-def]
    return verify_order_owner(database, number, answer, key=KEY, now=now, max_failures=3, lock_minutes=30)


async def test_last_four_digits_of_the_citizen_prove_ownership(database: Database) -> None:
    citizen = await identify(database, PHONE, KEY, NOW)
    number = await file_order(database, _report("路灯坏了", citizen.id), NOW)
    assert (await _verify(database, number, "后四位是五六七八")).verdict is Verdict.VERIFIED


async def test_wrong_answers_lock_the_order_for_a_while(database: Database) -> None:
    citizen = await identify(database, PHONE, KEY, NOW)
    number = await file_order(database, _report("路灯坏了", citizen.id), NOW)
    assert (await _verify(database, number, "1111")).attempts_left == 2
    assert (await _verify(database, number, "2222")).attempts_left == 1
    locked = await _verify(database, number, "3333")
    assert (locked.verdict, locked.locked_until) == (Verdict.LOCKED, NOW + timedelta(minutes=30))
    assert (await _verify(database, number, "5678")).verdict is Verdict.LOCKED
    later = NOW + timedelta(minutes=31)
    assert (await _verify(database, number, "5678", later)).verdict is Verdict.VERIFIED


async def test_an_order_without_a_verified_citizen_cannot_be_claimed(database: Database) -> None:
    number = await file_order(database, _report("噪音扰民", None), NOW)
    assert (await _verify(database, number, "5678")).verdict is Verdict.NOT_FOUND
    assert (await _verify(database, "WO2026112899999", "5678")).verdict is Verdict.NOT_FOUND


async def test_orders_filed_at_once_get_distinct_numbers(database: Database) -> None:
    orders = [NewOrder(kind="投诉", summary=f"第{n}件", sender_id=f"s{n}", category=UTILITIES) for n in range(8)]
    numbers = await asyncio.gather(*(file_order(database, order, datetime(2026, 11, 28, 10)) for order in orders))
    assert sorted(numbers) == [f"WO20261128{n:05d}" for n in range(1, 9)]
