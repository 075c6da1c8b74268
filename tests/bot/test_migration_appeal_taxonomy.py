"""Revision 0004: orders and hotspots stored under the old two-level labels get the real tree's, nothing is lost."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection

from bot.appeals.categories import load_categories
from bot.core import migrations
from bot.core.db import Database

FILED = datetime(2026, 12, 1, 2, 30)  # naive UTC, as the tables store it
_orders = sa.table(
    "work_orders",
    *(
        sa.column(name)
        for name in (
            "number",
            "kind",
            "title",
            "summary",
            "category_l1",
            "category_l2",
            "anonymous",
            "urgency",
            "source",
            "sender_id",
            "status",
            "created_at",
            "due_at",
            "reopened",
            "channel",
        )
    ),
)
_hotspots = sa.table(
    "hotspots",
    *(
        sa.column(name)
        for name in ("id", "category_l1", "category_l2", "district", "count", "first_at", "last_at", "status")
    ),
)
# (number, title, summary, old first, old second) -> what 0004 makes of it: (level1, level2, level3)
STORED = [
    (
        "WO2026120100001",
        "",
        "小区电梯经常坏，物业不修",
        "城乡建设",
        "物业管理",
        ("城乡建设", "住房保障与房地产", "物业服务"),
    ),
    (
        "WO2026120100002",
        "",
        "我们这栋楼已经停电两天了",
        "城乡建设",
        "供水供电供气",
        ("城乡建设", "城市建设和市政管理", "电力供应"),
    ),
    (
        "WO2026120100003",
        "",
        "楼下停水一整天",
        "城乡建设",
        "供水供电供气",
        ("城乡建设", "城市建设和市政管理", "自来水供应"),
    ),
    (
        "WO2026120100004",
        "地铁站扶梯停了",
        "三号线某站的扶梯坏了一周",
        "交通运输",
        "公交地铁",
        ("城乡建设", "城市建设和市政管理", "地铁城铁"),
    ),
    ("WO2026120100005", "", "餐馆后厨老鼠乱跑", "商贸旅游", "食品安全", ("卫生计生", "食品药品监管", "食品安全")),
    ("WO2026120100006", "", "路口车辆乱停", "交通运输", "交通秩序", ("政法", "交通管理", "交通安全管理")),
    (
        "WO2026120100007",
        "",
        "楼下大排档占道经营",
        "环境保护",
        "市容环境卫生",
        ("城乡建设", "城市建设和市政管理", "城管执法"),
    ),
]


async def _database_at_0003_with_old_labels(url: str) -> Database:
    """A database at revision 0003 holding orders (one unclassified, one of an unknown label) and a hotspot."""
    database = Database(url)
    async with database.migrating() as connection:
        await connection.run_sync(migrations.upgrade, "0003")
        common = {
            "kind": "投诉",
            "anonymous": False,
            "urgency": "normal",
            "source": "conversation",
            "sender_id": "tg-1",
            "status": "已派单",
            "created_at": FILED,
            "due_at": FILED,
            "reopened": 0,
            "channel": "telegram",
        }
        for number, title, summary, first, second, _ in STORED:
            await connection.execute(
                sa.insert(_orders).values(
                    number=number, title=title, summary=summary, category_l1=first, category_l2=second, **common
                )
            )
        await connection.execute(
            sa.insert(_orders).values(number="WO2026120100008", title="", summary="回电", **common)
        )
        await connection.execute(
            sa.insert(_orders).values(
                number="WO2026120100009",
                title="",
                summary="别处的分类",
                category_l1="城乡建设",
                category_l2="某某",
                **common,
            )
        )
        await connection.execute(
            sa.insert(_hotspots).values(
                id=1,
                category_l1="环境保护",
                category_l2="噪声污染",
                district="天河区",
                count=5,
                first_at=FILED,
                last_at=FILED,
                status="open",
            )
        )
    return database


def _downgrade_to_0003(sync: Connection) -> None:
    command.downgrade(migrations.alembic_config(sync), "0003")


def _labels(sync: Connection) -> dict[str, tuple[object, ...]]:
    rows = sync.execute(
        sa.text("SELECT number, category_l1, category_l2, category_l3, category_legacy FROM work_orders")
    ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def _old_labels(sync: Connection) -> dict[str, tuple[object, ...]]:
    rows = sync.execute(sa.text("SELECT number, category_l1, category_l2 FROM work_orders")).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def _hotspot(sync: Connection) -> tuple[object, ...]:
    return tuple(sync.execute(sa.text("SELECT category_l1, category_l2, category_legacy FROM hotspots")).one())


def _columns(sync: Connection, table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(sync).get_columns(table)}


async def test_0004_relabels_stored_orders_and_keeps_the_old_labels(url: str) -> None:
    database = await _database_at_0003_with_old_labels(url)
    try:
        async with database.migrating() as connection:
            await connection.run_sync(migrations.upgrade, "0004")
        async with database.engine.connect() as connection:
            labels = await connection.run_sync(_labels)
            hotspot = await connection.run_sync(_hotspot)
        tree = load_categories()
        for number, _, _, first, second, new in STORED:
            assert labels[number] == (*new, f"{first}/{second}")
            assert tree.is_known(new)
        assert labels["WO2026120100008"] == (None, None, None, None)  # nothing to re-label
        assert labels["WO2026120100009"] == ("城乡建设", "某某", None, None)  # not an old label: left as it is
        assert hotspot == ("环境保护", "环境污染", "环境保护/噪声污染")

        async with database.migrating() as connection:  # and back: the old labels where they were
            await connection.run_sync(_downgrade_to_0003)
        async with database.engine.connect() as connection:
            old = await connection.run_sync(_old_labels)
            assert "category_l3" not in await connection.run_sync(_columns, "work_orders")
            assert "category_legacy" not in await connection.run_sync(_columns, "hotspots")
            assert tuple(
                (await connection.execute(sa.text("SELECT category_l1, category_l2 FROM hotspots"))).one()
            ) == (
                "环境保护",
                "噪声污染",
            )
        assert {number: old[number] for number, *_ in STORED} == {n: (f, s) for n, _, _, f, s, _ in STORED}
    finally:
        await database.close()


async def test_a_database_with_old_labels_upgraded_to_head_reads_them_in_the_real_tree(url: str) -> None:
    database = await _database_at_0003_with_old_labels(url)
    try:
        done = await database.migrate()
        assert (done.before, done.after) == ("0003", migrations.head())
        async with database.engine.connect() as connection:
            labels = await connection.run_sync(_labels)
        assert labels["WO2026120100004"] == ("城乡建设", "城市建设和市政管理", "地铁城铁", "交通运输/公交地铁")
    finally:
        await database.close()
