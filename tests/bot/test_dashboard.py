"""The supervisor dashboard's numbers, from orders filed and moved through their lifecycle (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from bot.core.clock import UTC, china
from bot.core.db import Database
from bot.core.settings import get_settings
from bot.work_orders import lifecycle
from bot.work_orders.dashboard import Dashboard, dashboard, short_title
from bot.work_orders.filing import file_order
from tests.bot.conftest import PROPERTY, complaint

NOW = china(2026, 12, 4, 16, 0)  # a Friday
# Two similar orders in a day raise a hotspot here (five by default).
SETTINGS = dataclasses.replace(get_settings(), hotspot_min_orders=2, duplicate_window_hours=72)
NOISE = ("环境保护", "环境污染", "噪音污染")
UTILITIES = ("城乡建设", "其他", "其他")  # no routing rule: the dispatcher queue
TIANHE = "广州市天河区住房和城乡建设局"
YUEXIU = "广州市越秀区住房和城乡建设局"
PANYU = "广州市番禺区住房和城乡建设局"
HAIZHU_ENV = "广州市生态环境局海珠区分局"
HOTLINE = "12345热线"


async def _file(database: Database, at: datetime, **fields: Any) -> str:
    """File an order of the scenario at ``at``: a web chat complaint, with ``fields`` changed."""
    order = complaint(summary="反映的问题，请尽快处理", sender_id="dashboard-test", **fields)
    return (await file_order(database, order, at, settings=SETTINGS)).number


@dataclasses.dataclass
class Filed:
    """The orders of the scenario, by the letter the test names them with."""

    on_time: str
    late: str
    reopened: str
    escalated: str
    duplicate: str
    returned: str
    waiting: str
    callback: str
    old: str


async def _scenario(database: Database) -> Filed:
    """Orders over two weeks: closed on time and late, followed up, reopened, escalated, returned, queued."""
    day = china(2026, 11, 23, 10, 0)  # a Monday
    infrastructure = ("城乡建设", "城市建设和市政管理", "基础设施")
    old = await _file(database, china(2026, 11, 10, 9), category=infrastructure, district="荔湾区")
    old_department = (await lifecycle.order_detail(database, old)).department or ""
    await lifecycle.accept(database, old, old_department, "李工", china(2026, 11, 10, 10))
    await lifecycle.close(database, old, old_department, "李工", "已处理", china(2026, 11, 11, 9))
    await lifecycle.record_follow_up(database, old, True, "满意", "", china(2026, 11, 12, 9))

    on_time = await _file(database, day, category=PROPERTY, district="天河区", channel="webchat")
    late = await _file(database, day + timedelta(hours=1), category=PROPERTY, district="天河区", channel="voice")
    await lifecycle.accept(database, on_time, TIANHE, "张工", day + timedelta(hours=2))
    await lifecycle.close(database, on_time, TIANHE, "张工", "已修复", china(2026, 11, 25, 9))
    await lifecycle.record_follow_up(database, on_time, True, "满意", "", china(2026, 11, 26, 9))
    await lifecycle.accept(database, late, TIANHE, "张工", day + timedelta(hours=2))
    assert (await lifecycle.order_detail(database, late)).due_at < china(2026, 12, 2, 10)
    await lifecycle.close(database, late, TIANHE, "张工", "已修复", china(2026, 12, 2, 10))
    await lifecycle.record_follow_up(database, late, True, "基本满意", "慢了点", china(2026, 12, 3, 9))

    escalated = await _file(
        database, china(2026, 11, 24, 9), category=NOISE, district="海珠区", channel="sms", address="江南大道1号"
    )
    duplicate = await _file(database, china(2026, 11, 24, 12), category=NOISE, district="海珠区", address="江南大道1号")
    assert (await lifecycle.order_detail(database, duplicate)).duplicate_of == escalated
    await lifecycle.escalate(
        database,
        escalated,
        "system",
        "超过办理时限",
        (await lifecycle.order_detail(database, escalated)).due_at + timedelta(hours=1),
    )

    reopened = await _file(database, china(2026, 11, 25, 9), category=PROPERTY, district="越秀区", channel="telegram")
    await lifecycle.accept(database, reopened, YUEXIU, "王工", china(2026, 11, 25, 10))
    await lifecycle.close(database, reopened, YUEXIU, "王工", "已协调", china(2026, 11, 26, 9))
    await lifecycle.record_follow_up(database, reopened, False, "不满意", "没修好", china(2026, 12, 3, 9))

    returned = await _file(
        database, china(2026, 12, 1, 9), category=PROPERTY, district="番禺区", source="agent", title="电梯困人"
    )
    await lifecycle.accept(database, returned, PANYU, "赵工", china(2026, 12, 1, 10))
    await lifecycle.return_order(database, returned, PANYU, "赵工", "不属于本单位职责", china(2026, 12, 4, 10))

    waiting = await _file(
        database,
        china(2026, 12, 3, 9),
        category=UTILITIES,
        district="白云区",
        channel="",
        source="board",
        type="求助",
        title="停水三天，电话13812345678",
    )
    assert (await lifecycle.order_detail(database, waiting)).department is None
    callback = await _file(
        database,
        china(2026, 12, 4, 8),
        category=None,
        district=None,
        channel="voice",
        type="回电",
        department=HOTLINE,
    )
    return Filed(on_time, late, reopened, escalated, duplicate, returned, waiting, callback, old)


async def _board(database: Database, days: int = 14) -> tuple[Dashboard, Filed]:
    filed = await _scenario(database)
    return await dashboard(database, NOW, days), filed


async def test_orders_per_day_count_every_order_filed_by_category_channel_and_district(database: Database) -> None:
    board, _ = await _board(database)
    assert board.since == china(2026, 11, 21)
    assert [day.day for day in board.per_day] == [date(2026, 11, 21) + timedelta(days=n) for n in range(14)]
    per_day = {day.day.isoformat(): day for day in board.per_day if day.total}
    assert {key: day.total for key, day in per_day.items()} == {
        "2026-11-23": 2,
        "2026-11-24": 2,  # the duplicate counts: it reached the hotline
        "2026-11-25": 1,
        "2026-12-01": 1,
        "2026-12-03": 1,
        "2026-12-04": 1,
    }
    assert per_day["2026-11-24"].categories == {"环境保护": 2}
    assert per_day["2026-11-24"].channels == {"sms": 1, "webchat": 1}
    assert per_day["2026-11-24"].districts == {"海珠区": 2}
    assert per_day["2026-12-04"].categories == {"未分类": 1}
    assert per_day["2026-12-04"].districts == {"未填写区": 1}
    assert board.filed == 8  # the order of 10 November is before the period
    assert board.totals("categories") == {"城乡建设": 5, "环境保护": 2, "未分类": 1}
    assert board.totals("channels") == {"webchat": 2, "voice": 2, "sms": 1, "telegram": 1, "agent": 1, "board": 1}
    assert board.totals("districts") == {
        "天河区": 2,
        "海珠区": 2,
        "越秀区": 1,
        "番禺区": 1,
        "白云区": 1,
        "未填写区": 1,
    }


async def test_open_overdue_and_on_time_by_department(database: Database) -> None:
    board, _ = await _board(database)
    loads = {load.department: load for load in board.departments}
    assert set(loads) == {TIANHE, YUEXIU, HAIZHU_ENV, HOTLINE}  # 荔湾 closed before the period; 番禺 returned it
    assert (loads[HAIZHU_ENV].open, loads[HAIZHU_ENV].overdue) == (1, 1)  # escalated; its duplicate not counted
    assert (loads[YUEXIU].open, loads[YUEXIU].overdue, loads[YUEXIU].closed) == (1, 0, 0)  # reopened
    assert (loads[HOTLINE].open, loads[HOTLINE].overdue) == (1, 0)
    tianhe = loads[TIANHE]
    assert (tianhe.open, tianhe.closed, tianhe.closed_on_time, tianhe.on_time_rate) == (0, 2, 1, 0.5)
    assert loads[HAIZHU_ENV].on_time_rate is None  # nothing closed
    assert board.departments[0].department == HAIZHU_ENV  # the most overdue first
    assert (board.open, board.overdue, board.closed, board.closed_on_time, board.on_time_rate) == (3, 1, 2, 1, 0.5)


async def test_satisfaction_counts_the_latest_answer_of_orders_followed_up_in_the_period(database: Database) -> None:
    board, _ = await _board(database)
    assert board.satisfaction.counts == {"满意": 1, "基本满意": 1, "不满意": 1}  # not the 满意 of 12 November
    assert board.satisfaction.answered == 3
    assert board.satisfaction.satisfied_rate == 0.6667


async def test_the_dispatcher_queue_waits_from_filing_or_return_oldest_first(database: Database) -> None:
    board, filed = await _board(database)
    assert board.queue.total == 2
    waiting, returned = board.queue.orders
    assert (waiting.number, waiting.type, waiting.state) == (filed.waiting, "求助", "已受理")
    assert waiting.district == "白云区"
    assert waiting.title == "停水三天，电话138****5678"  # personal data masked
    assert waiting.waiting_s(NOW) == 31 * 3600
    # Filed earlier, but it waits only since the department returned it this morning.
    assert (returned.number, returned.title, returned.state) == (filed.returned, "电梯困人", "退单")
    assert returned.waiting_since == china(2026, 12, 4, 10)
    assert returned.waiting_s(NOW) == 6 * 3600


async def test_open_hotspots_are_shown(database: Database) -> None:
    board, _ = await _board(database)
    spots = sorted((spot.district, spot.category, spot.count) for spot in board.hotspots)
    assert spots == [("天河区", PROPERTY[:2], 2), ("海珠区", NOISE[:2], 2)]  # hotspots are of second levels


async def test_a_period_of_one_day_is_today_only(database: Database) -> None:
    board, _ = await _board(database, days=1)
    assert [(day.day, day.total) for day in board.per_day] == [(date(2026, 12, 4), 1)]
    assert (board.closed, board.on_time_rate) == (0, None)
    assert (board.satisfaction.answered, board.satisfaction.satisfied_rate) == (0, None)
    assert board.open == 3  # open orders are counted now, whatever the period


async def test_orders_are_counted_on_their_china_day_not_the_utc_day(database: Database) -> None:
    # Early in the morning in China is the evening before in UTC; late at night is the same day in both.
    for day, hour, minute in ((3, 23, 30), (4, 0, 30), (4, 7, 59), (4, 8, 0)):
        await _file(database, china(2026, 12, day, hour, minute), category=NOISE, district="海珠区")
    board = await dashboard(database, NOW, 2)
    assert board.since == china(2026, 12, 3) == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    assert [(day.day, day.total) for day in board.per_day] == [(date(2026, 12, 3), 1), (date(2026, 12, 4), 3)]
    today_only = await dashboard(database, NOW, 1)
    assert [(day.day, day.total) for day in today_only.per_day] == [(date(2026, 12, 4), 3)]
    # Just after midnight in China the new day has begun, though it is still the 3rd in UTC.
    night = await dashboard(database, china(2026, 12, 4, 0, 45), 1)
    assert [(day.day, day.total) for day in night.per_day] == [(date(2026, 12, 4), 1)]


async def test_an_empty_database_gives_zeros_and_empty_lists(database: Database) -> None:
    board = await dashboard(database, NOW)
    assert len(board.per_day) == 14 and board.filed == 0
    assert (board.departments, board.hotspots, board.queue.orders, board.queue.total) == ((), (), (), 0)
    assert board.satisfaction.counts == {"满意": 0, "基本满意": 0, "不满意": 0}
    assert board.on_time_rate is None


@pytest.mark.parametrize("days", [0, -1, 91])
async def test_a_period_out_of_range_is_refused(database: Database, days: int) -> None:
    with pytest.raises(ValueError, match="1到90天"):
        await dashboard(database, NOW, days)


def test_a_long_title_is_cut_and_an_empty_one_is_the_summary() -> None:
    assert short_title("", "  身份证110105199001011234的\n问题 ") == "身份证110105********1234的 问题"
    assert short_title("很" * 50, "") == "很" * 39 + "…"
