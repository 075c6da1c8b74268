"""Departments' API keys: shown once, stored as digests, revocable; the CLI that manages them."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.main import main
from bot.core.clock import china
from bot.core.db import Database
from bot.core.models import DepartmentKey
from bot.core.settings import get_settings
from bot.work_orders.department_keys import (
    Caller,
    InvalidDepartment,
    UnknownKey,
    add_key,
    authenticate,
    list_keys,
    revoke_key,
    routing_mentions,
)

NOW = china(2026, 11, 28, 9, 0)
TIANHE = "广州市天河区住房和城乡建设局"
YUEXIU = "广州市越秀区住房和城乡建设局"


async def test_a_key_is_stored_only_as_its_sha256_digest(database: Database) -> None:
    issued = await add_key(database, f"  {TIANHE} ", NOW)
    assert issued.department == TIANHE
    assert len(issued.key) == 43
    async with database.session() as session:
        rows = list(await session.scalars(select(DepartmentKey)))
    assert [(row.id, row.department, row.created_at, row.revoked_at) for row in rows] == [
        (issued.key_id, TIANHE, NOW, None)
    ]
    assert rows[0].key_digest == hashlib.sha256(issued.key.encode()).hexdigest()
    assert issued.key not in repr(vars(rows[0]))


async def test_a_valid_key_names_its_department(database: Database) -> None:
    tianhe = await add_key(database, TIANHE, NOW)
    second = await add_key(database, TIANHE, NOW)
    yuexiu = await add_key(database, YUEXIU, NOW)
    assert tianhe.key != second.key
    assert await authenticate(database, tianhe.key) == Caller(tianhe.key_id, TIANHE)
    assert await authenticate(database, second.key) == Caller(second.key_id, TIANHE)
    assert await authenticate(database, yuexiu.key) == Caller(yuexiu.key_id, YUEXIU)


@pytest.mark.parametrize("presented", ["", "x" * 43, "short", "A" * 44, "密" * 43, "A" * 42 + "="])
async def test_forged_and_malformed_keys_name_nobody(database: Database, presented: str) -> None:
    await add_key(database, TIANHE, NOW)
    assert await authenticate(database, presented) is None


async def test_a_revoked_key_stops_working_and_the_others_go_on(database: Database) -> None:
    old = await add_key(database, TIANHE, NOW)
    new = await add_key(database, TIANHE, NOW)
    revoked = await revoke_key(database, old.key_id, china(2026, 11, 29, 10, 0))
    assert revoked.revoked_at == china(2026, 11, 29, 10, 0)
    assert await authenticate(database, old.key) is None
    assert await authenticate(database, new.key) == Caller(new.key_id, TIANHE)
    again = await revoke_key(database, old.key_id, china(2026, 12, 1, 10, 0))
    assert again.revoked_at == china(2026, 11, 29, 10, 0)
    listed = await list_keys(database)
    assert [(k.key_id, k.department, k.revoked_at is not None) for k in listed] == [
        (old.key_id, TIANHE, True),
        (new.key_id, TIANHE, False),
    ]


async def test_unknown_keys_and_empty_names_are_refused(database: Database) -> None:
    with pytest.raises(UnknownKey):
        await revoke_key(database, 999, NOW)
    for name in ("", "   ", "局" * 201):
        with pytest.raises(InvalidDepartment):
            await add_key(database, name, NOW)
    assert await list_keys(database) == []


def test_routing_rules_are_consulted_for_the_name() -> None:
    assert routing_mentions(TIANHE)  # data/appeals/routing.yml routes 天河区 housing there
    assert not routing_mentions("广州市不存在局")
    assert not routing_mentions("天河区")  # a district, not a department


@pytest.fixture
def cli_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clean_settings: None) -> str:
    """The command line pointed at a fresh SQLite file."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    return url


async def test_the_command_line_prints_the_key_once_and_never_again(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # main() runs its own event loop: it runs in a worker thread of this test's loop.
    assert await asyncio.to_thread(main, ["departments", "add-key", TIANHE]) == 0
    printed = capsys.readouterr().out
    key = printed.strip().splitlines()[-1]
    assert "密钥只显示这一次" in printed
    database = Database(cli_database)
    try:
        caller = await authenticate(database, key)
        assert caller is not None and caller.department == TIANHE
        assert await asyncio.to_thread(main, ["departments", "list"]) == 0
        listed = capsys.readouterr().out
        assert f"{TIANHE}  密钥{caller.key_id}" in listed and "有效" in listed
        assert key not in listed
        assert await asyncio.to_thread(main, ["departments", "revoke", str(caller.key_id)]) == 0
        assert "已停用" in capsys.readouterr().out
        assert await authenticate(database, key) is None
        assert await asyncio.to_thread(main, ["departments", "list"]) == 0
        assert "已停用" in capsys.readouterr().out
        assert await asyncio.to_thread(main, ["departments", "revoke", "77"]) == 1
        assert "没有编号为77的密钥" in capsys.readouterr().err
        assert await asyncio.to_thread(main, ["departments", "add-key", " "]) == 2
        assert "部门名称不能为空" in capsys.readouterr().err
    finally:
        await database.close()


async def test_the_command_line_warns_about_a_department_no_rule_routes_to(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(main, ["departments", "add-key", "广州市某某测试中心"]) == 0
    assert "分派规则（data/appeals/routing.yml）中没有“广州市某某测试中心”" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["departments", "add-key", TIANHE]) == 0
    assert "分派规则" not in capsys.readouterr().out
