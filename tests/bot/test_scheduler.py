"""The scheduler: 督办 of overdue orders once per deadline, 回访 questions after closing, quiet hotspots closed."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.citizens.identity import identify
from bot.core.clock import china
from bot.core.db import Database
from bot.core.settings import get_settings
from bot.work_orders import lifecycle
from bot.work_orders.filing import file_order, orders_awaiting_follow_up
from bot.work_orders.hotspots import open_hotspots
from bot.work_orders.notifications import FOLLOW_UP, contact_thread, messages_of_order, pending
from bot.work_orders.scheduler import TickReport, run_once
from tests.bot.conftest import complaint
from tests.conftest import bot_command

KEY = "test-key"
FRIDAY = china(2026, 11, 27, 15, 0)
DUE = china(2026, 12, 4, 23, 59, 59)  # 5 working days after FRIDAY
HOUSING = "广州市天河区住房和城乡建设局"
UTILITIES = ("城乡建设", "其他", "其他")
SETTINGS = dataclasses.replace(
    get_settings(),
    duplicate_window_hours=72,
    duplicate_distance_m=100,
    hotspot_window_hours=24,
    hotspot_min_orders=3,
    follow_up_after_hours=24,
)


async def _file(database: Database, *, now: datetime = FRIDAY, **fields: Any) -> str:
    """File a lift complaint at ``now``; ``fields`` change it (category, address, anonymous, citizen_id)."""
    order = complaint(summary="小区电梯坏了两周", **fields)
    return (await file_order(database, order, now, settings=SETTINGS)).number


async def _tick(database: Database, now: datetime) -> TickReport:
    return await run_once(database, now, settings=SETTINGS)


async def test_overdue_open_orders_are_escalated_once(database: Database) -> None:
    dispatched = await _file(database)
    queued = await _file(database, category=UTILITIES)
    in_progress = await _file(database, address="天河区天河路1号")
    await lifecycle.accept(database, in_progress, HOUSING, "张工", FRIDAY + timedelta(hours=1))
    closed = await _file(database, address="天河区天河路2号")
    await lifecycle.accept(database, closed, HOUSING, "张工", FRIDAY + timedelta(hours=1))
    await lifecycle.close(database, closed, HOUSING, "张工", "已修复", FRIDAY + timedelta(hours=2))
    merged = await _file(database, address="天河区天河路1号")
    assert (await lifecycle.order_detail(database, merged)).duplicate_of == in_progress

    assert (await _tick(database, DUE)).escalated == ()  # due, not yet overdue
    report = await _tick(database, DUE + timedelta(seconds=1))
    assert report.escalated == (dispatched, queued, in_progress)
    assert report.summary().startswith("督办3件")
    for number in report.escalated:
        detail = await lifecycle.order_detail(database, number)
        assert detail.state == "督办"
        assert (detail.events[-1].actor, detail.events[-1].reason) == ("system", "超过办理时限")
    assert (await lifecycle.order_detail(database, merged)).state == "已受理"  # follows its original
    # Running again does nothing new, even after the department picked the order up.
    await lifecycle.accept(database, dispatched, HOUSING, "张工", DUE + timedelta(hours=1))
    again = await _tick(database, DUE + timedelta(hours=2))
    assert again.escalated == ()
    assert (await lifecycle.order_detail(database, dispatched)).state == "办理中"


async def test_an_extended_order_is_escalated_again_only_when_the_new_deadline_passes(database: Database) -> None:
    number = await _file(database)
    await lifecycle.accept(database, number, HOUSING, "张工", FRIDAY + timedelta(hours=1))
    assert (await _tick(database, DUE + timedelta(hours=1))).escalated == (number,)
    new_due = china(2026, 12, 11, 23, 59, 59)
    await lifecycle.extend(database, number, HOUSING, "张工", "需要厂家配件", new_due, DUE + timedelta(hours=2))
    assert (await _tick(database, new_due)).escalated == ()
    assert (await _tick(database, new_due + timedelta(minutes=1))).escalated == (number,)
    assert (await _tick(database, new_due + timedelta(minutes=2))).escalated == ()
    actions = [event.action for event in (await lifecycle.order_detail(database, number)).events]
    assert actions.count("escalate") == 2


async def test_closed_orders_get_one_follow_up_question_after_a_day(database: Database) -> None:
    citizen = await identify(database, "13912345678", KEY, FRIDAY)
    number = await _file(database, citizen_id=citizen.id)
    anonymous = await _file(database, citizen_id=citizen.id, anonymous=True, address="天河区天河路3号")
    for each in (number, anonymous):
        await lifecycle.accept(database, each, HOUSING, "张工", FRIDAY + timedelta(hours=1))
        await lifecycle.close(database, each, HOUSING, "张工", "已修复", FRIDAY + timedelta(hours=2))
    before = len(await pending(database))

    assert (await _tick(database, FRIDAY + timedelta(hours=25))).follow_ups == ()
    report = await _tick(database, FRIDAY + timedelta(hours=26))
    assert (report.follow_ups, report.unreachable) == ((number,), (anonymous,))
    assert report.summary() == "督办0件，回访提醒1件，无法回访（匿名或无联系方式）1件"
    question = (await messages_of_order(database, number))[-1]
    assert question.text == (
        f"您的工单{number}已办结。请问您反映的问题解决了吗？对办理结果是满意、基本满意还是不满意？"
        "欢迎直接回复，也可以说说您的意见。"
    )
    assert len(await pending(database)) == before + 1
    assert await messages_of_order(database, anonymous) == []
    events = (await lifecycle.order_detail(database, number)).events
    assert (events[-1].action, events[-1].from_state, events[-1].to_state) == ("follow_up_request", "已办结", "已办结")
    assert [order.number for order in await orders_awaiting_follow_up(database, citizen.id)] == [number, anonymous]

    assert await _tick(database, FRIDAY + timedelta(hours=30)) == TickReport((), (), (), 0)
    assert len(await pending(database)) == before + 1

    await lifecycle.record_follow_up(database, number, True, "满意", "", FRIDAY + timedelta(hours=31))
    assert [order.number for order in await orders_awaiting_follow_up(database, citizen.id)] == [anonymous]


async def test_a_reporter_who_only_gave_a_number_gets_the_follow_up_by_sms(database: Database) -> None:
    given = await _file(database, contact_phone="13800138000")
    nobody = await _file(database, address="天河区天河路5号")  # neither a verified citizen nor a number
    for each in (given, nobody):
        await lifecycle.accept(database, each, HOUSING, "张工", FRIDAY + timedelta(hours=1))
        await lifecycle.close(database, each, HOUSING, "张工", "已修复", FRIDAY + timedelta(hours=2))

    report = await _tick(database, FRIDAY + timedelta(hours=26))
    assert (report.follow_ups, report.unreachable) == ((given,), (nobody,))
    question = (await messages_of_order(database, given))[-1]
    # Queued like a verified citizen's, for the number's SMS thread (where its answer arrives).
    assert (question.kind, question.channel, question.citizen_id) == (FOLLOW_UP, "sms", None)
    assert question.conversation_id == contact_thread("13800138000") == contact_thread("+8613800138000")
    assert question.phone == "13800138000"
    assert question.text.startswith(f"您的工单{given}已办结。请问您反映的问题解决了吗？")
    reasons = {number: (await lifecycle.order_detail(database, number)).events[-1].reason for number in (given, nobody)}
    assert reasons == {given: "已发送回访提醒", nobody: "没有验证过的手机号，也没有留联系电话，未发送回访提醒"}


async def test_a_reopened_order_is_followed_up_again_after_its_next_closing(database: Database) -> None:
    citizen = await identify(database, "13912345678", KEY, FRIDAY)
    number = await _file(database, citizen_id=citizen.id)
    await lifecycle.accept(database, number, HOUSING, "张工", FRIDAY + timedelta(hours=1))
    await lifecycle.close(database, number, HOUSING, "张工", "已修复", FRIDAY + timedelta(hours=2))
    assert (await _tick(database, FRIDAY + timedelta(hours=26))).follow_ups == (number,)
    monday = china(2026, 11, 30, 10, 0)
    await lifecycle.record_follow_up(database, number, False, "不满意", "还是坏的", monday)
    await lifecycle.close(database, number, HOUSING, "张工", "已更换主板", monday + timedelta(hours=3))
    assert (await _tick(database, monday + timedelta(hours=26))).follow_ups == ()
    assert (await _tick(database, monday + timedelta(hours=27))).follow_ups == (number,)


async def test_a_hotspot_closes_after_a_quiet_window(database: Database) -> None:
    for n in range(3):
        await _file(database, address=f"天河区某路{n}号", now=FRIDAY + timedelta(hours=n))
    assert len(await open_hotspots(database)) == 1
    last = FRIDAY + timedelta(hours=2)
    assert (await _tick(database, last + timedelta(hours=23))).hotspots_closed == 0
    report = await _tick(database, last + timedelta(hours=24))
    assert report.hotspots_closed == 1
    assert "热点解除1个" in report.summary()
    assert await open_hotspots(database) == []


def test_tick_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}

    async def prepare() -> str:
        database = Database(url)
        try:
            await database.create_schema()
            return await _file(database)
        finally:
            await database.close()

    number = asyncio.run(prepare())

    def tick(now: str) -> subprocess.CompletedProcess[str]:
        return bot_command("orders", "tick", "--now", now, env=env)

    # Without an offset --now is China time: 23:30 on the 4th is before the deadline (23:59:59 China time).
    assert tick("2026-12-04T23:30").stdout.splitlines() == ["督办0件，回访提醒0件。"]
    assert tick("2026-12-04T15:30:00+00:00").stdout.splitlines() == ["督办0件，回访提醒0件。"]  # the same moment
    first = tick("2026-12-05T09:00")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["督办1件，回访提醒0件。", f"督办：{number}"]
    second = tick("2026-12-05T09:05")
    assert second.stdout.splitlines() == ["督办0件，回访提醒0件。"]
