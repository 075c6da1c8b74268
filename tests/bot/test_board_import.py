"""Board messages (网上留言) imported as work orders: all or nothing, errors by line, counts; orders show and list."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.core.clock import china
from bot.core.db import Database
from bot.core.models import WorkOrder
from bot.work_orders.board_import import BoardImportRefused, import_board_file
from bot.work_orders.lifecycle import list_orders, order_detail
from tests.conftest import bot_command

NOW = china(2026, 11, 28, 9, 0)
HOUSING = "广州市天河区住房和城乡建设局"
MESSAGES = [
    {
        "title": "物业不修电梯",
        "text": "小区3栋电梯坏了两周，物业一直不修，老人上下楼很困难",
        "district": "天河区",
        "address": "天河区体育西路103号",
        "phone": "13912345678",
        "created_at": "2026-11-27T20:15",
        "category": "城乡建设/住房保障与房地产/物业服务",
        "type": "投诉",
    },
    {
        "title": "停水",
        "text": "我们小区停水一整天了",
        "district": "海珠区",
        "address": "海珠区江南大道1号",
        "category": "城乡建设/其他/其他",
        "type": "求助",
    },
    {
        "title": "电梯还是没修",
        "text": "体育西路103号的电梯坏了很久",
        "district": "天河区",
        "address": "广州市天河区体育西路103号",
        "created_at": "2026-11-28T08:00",
        "category": "城乡建设/住房保障与房地产/物业服务",
        "type": "投诉",
    },
]


def _jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(record, ensure_ascii=False) for record in records) + "\n", encoding="utf-8")
    return path


async def _count(database: Database) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(WorkOrder)) or 0)


async def test_a_board_file_becomes_routed_queued_and_merged_orders(database: Database, tmp_path: Path) -> None:
    report = await import_board_file(database, _jsonl(tmp_path / "board.jsonl", MESSAGES), NOW)
    assert len(report.filed) == 3
    assert report.by_department() == [(HOUSING, 1), ("待分派", 1)]
    assert (report.queued, report.merged) == (1, 1)
    # Oldest message first: the evening message is the original, the morning one its duplicate.
    elevator = await order_detail(database, report.filed[1].number)
    assert (elevator.title, elevator.department, elevator.source, elevator.contact_phone) == (
        "物业不修电梯",
        HOUSING,
        "board",
        "13912345678",
    )
    assert elevator.events[0].reason == "市民于2026-11-27 20:15提交"
    assert elevator.merged == (report.filed[2].number,)
    water = await order_detail(database, report.filed[0].number)
    assert (water.type, water.department, water.state) == ("求助", None, "已受理")
    assert [order.number for order in await list_orders(database, None)] == [water.number]


async def test_posting_times_without_a_zone_are_china_time_and_an_offset_is_honoured(
    database: Database, tmp_path: Path
) -> None:
    # 12:30 UTC is 20:30 in China: after the first message (20:15 China), before the third (next morning).
    in_utc = {**MESSAGES[2], "created_at": "2026-11-27T12:30:00+00:00"}
    report = await import_board_file(database, _jsonl(tmp_path / "board.jsonl", [in_utc, MESSAGES[0]]), NOW)
    original, duplicate = [await order_detail(database, filed.number) for filed in report.filed]
    assert (original.title, duplicate.title) == ("物业不修电梯", "电梯还是没修")
    assert duplicate.duplicate_of == original.number
    assert original.events[0].reason == "市民于2026-11-27 20:15提交"
    assert duplicate.events[0].reason.startswith("市民于2026-11-27 20:30提交")


async def test_a_csv_board_file(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "board.csv"
    path.write_text(
        "title,text,district,address,phone,created_at,type,category\n"
        "路灯不亮,北京路口的路灯坏了一周,越秀区,北京路1号,,2026-11-27T21:00,投诉,城乡建设/城市建设和市政管理/城市公共设施\n",
        encoding="utf-8",
    )
    report = await import_board_file(database, path, NOW)
    assert report.by_department() == [("广州市越秀区城市管理和综合执法局", 1)]
    detail = await order_detail(database, report.filed[0].number)
    assert (detail.summary, detail.contact_phone) == ("北京路口的路灯坏了一周", None)


async def test_one_bad_record_refuses_the_whole_file_with_every_error_by_line(
    database: Database, tmp_path: Path
) -> None:
    bad = [
        MESSAGES[0],
        {**MESSAGES[1], "phone": "12345"},
        {"title": "没有内容"},
        {**MESSAGES[1], "district": "福田区"},
        {**MESSAGES[1], "created_at": "昨天晚上"},
        {**MESSAGES[1], "author": "张三"},
        {**MESSAGES[1], "category": "城乡建设"},
        ["not", "an", "object"],
    ]
    path = _jsonl(tmp_path / "board.jsonl", bad)
    with path.open("a", encoding="utf-8") as file:
        file.write("{broken json\n")
    with pytest.raises(BoardImportRefused) as refused:
        await import_board_file(database, path, NOW)
    errors = refused.value.errors
    assert [error.split("：", 1)[0] for error in errors] == [
        "第2行",
        "第3行",
        "第4行",
        "第5行",
        "第6行",
        "第7行",
        "第8行",
        "第9行",
    ]
    assert "联系电话有误" in errors[0] and "text" in errors[1] and "福田区" in errors[2]
    assert "created_at" in errors[3] and "author" in errors[4] and "一级/二级" in errors[5]
    assert "JSON" in errors[7]
    assert await _count(database) == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("board.txt", "x", "expected a .jsonl or .csv"), ("board.jsonl", "\n\n", "no messages")],
)
async def test_files_that_are_not_board_exports(
    database: Database, tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BoardImportRefused, match="1 errors") as refused:
        await import_board_file(database, path, NOW)
    assert message in refused.value.errors[0]


async def test_a_missing_file(database: Database, tmp_path: Path) -> None:
    with pytest.raises(BoardImportRefused) as refused:
        await import_board_file(database, tmp_path / "absent.jsonl", NOW)
    assert "cannot read" in refused.value.errors[0]


# The command line, in a real process on a SQLite file.


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}", "LOG_LEVEL": "WARNING"}
    return bot_command("orders", *args, env=env)


def _stored(tmp_path: Path) -> int:
    async def count() -> int:
        database = Database(f"sqlite:///{tmp_path / 'hotline.db'}")
        try:
            await database.create_schema()
            return await _count(database)
        finally:
            await database.close()

    return asyncio.run(count())


def test_import_show_list_and_dispatch_from_the_command_line(tmp_path: Path) -> None:
    refused = _cli(tmp_path, "import", str(_jsonl(tmp_path / "bad.jsonl", [MESSAGES[0], {"title": "空"}])))
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == ["错误：第2行：缺少留言内容text", "导入失败：1处错误，未导入任何工单。"]
    assert _stored(tmp_path) == 0

    imported = _cli(tmp_path, "import", str(_jsonl(tmp_path / "board.jsonl", MESSAGES)))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines() == [
        "导入完成：3件工单。",
        f"  {HOUSING}：1件",
        "  待分派：1件",
        "其中待分派1件，与在办工单合并1件。",
    ]
    assert _stored(tmp_path) == 3

    listed = _cli(tmp_path, "list")
    assert listed.returncode == 0
    (queued_line,) = [line for line in listed.stdout.splitlines() if line.startswith("  WO")]
    water = queued_line.split()[0]
    assert "已受理" in queued_line and "停水" in queued_line
    elevator = f"WO{water[2:10]}{int(water[10:]) + 1:05d}"  # filed right after: oldest message first

    shown = _cli(tmp_path, "show", elevator.lower())
    assert shown.returncode == 0, shown.stderr
    assert "联系电话：139****5678" in shown.stdout
    assert "13912345678" not in shown.stdout
    assert f"承办部门：{HOUSING}" in shown.stdout
    assert "受理  已受理  citizen：市民于2026-11-27 20:15提交" in shown.stdout
    assert "派单  已受理→已派单  system" in shown.stdout

    dispatched = _cli(tmp_path, "dispatch", water, "广州市自来水有限公司", "--actor", "调度员李")
    assert dispatched.returncode == 0, dispatched.stderr
    assert dispatched.stdout.startswith(f"工单{water}已派至广州市自来水有限公司")
    again = _cli(tmp_path, "dispatch", water, "广州市自来水有限公司")
    assert (again.returncode, again.stderr.strip()) == (1, f"错误：工单{water}当前状态为已派单，不能派单")
    assert _cli(tmp_path, "list").stdout.splitlines() == ["待分派：0件"]

    missing = _cli(tmp_path, "show", "WO2026112899999")
    assert (missing.returncode, missing.stderr.strip()) == (1, "错误：没有工单WO2026112899999")
    assert _cli(tmp_path, "show", "12345").returncode == 2


async def test_messages_without_a_category_are_classified(database: Database, tmp_path: Path) -> None:
    message = {"title": "餐馆油烟", "text": "楼下餐馆油烟太大，每天晚上都熏到我家", "district": "天河区"}
    report = await import_board_file(database, _jsonl(tmp_path / "board.jsonl", [message]), NOW)
    detail = await order_detail(database, report.filed[0].number)
    assert detail.category is not None and detail.category[0] == "环境保护"
    assert detail.type in ("咨询", "求助", "投诉", "举报", "建议")


async def test_a_category_of_two_or_three_levels_of_the_tree_is_kept_as_the_board_gave_it(
    database: Database, tmp_path: Path
) -> None:
    two = {**MESSAGES[1], "category": "环境保护/环境污染", "text": "河边工厂排出的水是黑的"}
    three = {**MESSAGES[0], "category": "政法/交通管理/交通安全管理", "text": "路口的车乱停"}
    report = await import_board_file(database, _jsonl(tmp_path / "board.jsonl", [two, three]), NOW)
    details = [await order_detail(database, filed.number) for filed in report.filed]
    assert {detail.category: detail.department for detail in details} == {
        ("环境保护", "环境污染"): "广州市生态环境局海珠区分局",
        ("政法", "交通管理", "交通安全管理"): "广州市公安局交通警察支队天河区大队",
    }


async def test_a_category_outside_the_tree_refuses_the_file(database: Database, tmp_path: Path) -> None:
    bad = [
        {**MESSAGES[1], "category": "城乡建设/城乡规划/物业"},
        {**MESSAGES[1], "category": "城乡建设/城乡规划/违章建筑/天台"},
        {**MESSAGES[1], "category": "城乡建设/物业管理"},  # a label of our old tree
    ]
    with pytest.raises(BoardImportRefused) as refused:
        await import_board_file(database, _jsonl(tmp_path / "board.jsonl", bad), NOW)
    errors = refused.value.errors
    assert "第1行" in errors[0] and "没有“城乡建设/城乡规划/物业”这个分类" in errors[0]
    assert "第2行" in errors[1] and "“一级/二级”或“一级/二级/三级”" in errors[1]
    assert "第3行" in errors[2] and "没有“城乡建设/物业管理”这个分类" in errors[2]
    assert await _count(database) == 0
