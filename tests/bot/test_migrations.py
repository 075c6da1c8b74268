"""The schema under Alembic, on SQLite and PostgreSQL: revisions make the models' schema, old databases are kept."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert, inspect, select, text
from sqlalchemy.engine import Connection

from bot.core import migrations
from bot.core.clock import UTC
from bot.core.db import Database, DatabaseUnavailable, OutdatedTimestamps, SchemaOutdated
from bot.core.models import Base, Citizen, Notification, WorkOrder
from tests.bot.conftest import ORDER_ROW
from tests.bot.test_timestamps import make_old_database, stored_filing_time

FILED = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
NAIVE = FILED.replace(tzinfo=None)  # as plain columns store it


async def _schema_differences(database: Database) -> list[Any]:
    async with database.engine.connect() as connection:
        return await connection.run_sync(migrations.differences)


async def _revision(database: Database) -> str | None:
    async with database.engine.connect() as connection:
        return await connection.run_sync(migrations.current)


# The citizens table as plain columns: what revision 0001 stored (the phone number in clear).
CLEAR_CITIZENS = Table(
    "citizens",
    MetaData(),
    Column("id", Integer),
    Column("phone_digest", String),
    Column("phone", String),
    Column("created_at", DateTime),
    Column("last_seen_at", DateTime),
)


async def make_database_before_alembic(url: str) -> None:
    """Revision 0001's tables without a version (what create_schema made), marked UTC, with an order and its notice."""
    database = Database(url)
    try:
        async with database.migrating() as connection:
            await connection.run_sync(migrations.upgrade, migrations.FIRST)
            await connection.execute(text("DROP TABLE alembic_version"))
            await connection.execute(text("INSERT INTO schema_meta (key, value) VALUES ('timestamps', 'utc')"))
            await connection.execute(  # the phone in clear, as it was kept before revision 0005
                insert(CLEAR_CITIZENS).values(
                    id=7, phone_digest="d" * 64, phone="13800138000", created_at=NAIVE, last_seen_at=NAIVE
                )
            )
            await connection.execute(
                insert(WorkOrder.__table__).values(
                    **ORDER_ROW, number="WO2026120100001", created_at=FILED, due_at=FILED, citizen_id=7
                )
            )
            await connection.execute(
                insert(Notification.__table__).values(
                    order_number="WO2026120100001",
                    citizen_id=7,
                    channel="telegram",
                    conversation_id="tg-1",
                    text="您的工单已派单",
                    kind="notice",
                    status="pending",
                    attempts=1,
                    created_at=FILED,
                )
            )
    finally:
        await database.close()


def _notification_columns(sync: Connection) -> dict[str, bool]:
    return {column["name"]: column["nullable"] for column in inspect(sync).get_columns("notifications")}


async def test_the_revisions_make_exactly_the_models_schema(url: str) -> None:
    database = Database(url)
    try:
        assert (await database.schema_state()).is_new
        done = await database.migrate()
        assert (done.before, done.after, done.before_alembic, done.converted) == (None, migrations.head(), False, 0)
        assert await _schema_differences(database) == []
        state = await database.require_current_schema()
        assert state.is_current and state.marked and state.problem() is None
        again = await database.migrate()  # nothing left to do
        assert (again.before, again.after) == (migrations.head(), migrations.head())
    finally:
        await database.close()


async def test_create_schema_makes_the_same_schema_stamped_at_the_newest_revision(url: str) -> None:
    database = Database(url)
    try:
        await database.create_schema()
        assert await _revision(database) == migrations.head()
        assert await _schema_differences(database) == []
        await database.create_schema()  # again: nothing changes
        assert (await database.require_current_schema()).marked
    finally:
        await database.close()


async def test_a_database_made_before_alembic_is_taken_in_with_its_data(url: str) -> None:
    await make_database_before_alembic(url)
    database = Database(url)
    try:
        state = await database.schema_state()
        assert state.before_alembic and state.marked and not state.old_times
        with pytest.raises(SchemaOutdated, match="python -m bot db upgrade"):
            await database.require_current_schema()
        async with database.engine.connect() as connection:
            assert not (await connection.run_sync(_notification_columns))["citizen_id"]

        done = await database.migrate()
        assert (done.before, done.after, done.before_alembic, done.converted) == (None, migrations.head(), True, 0)
        assert await _schema_differences(database) == []
        async with database.session() as session:
            kept = await session.scalar(select(Notification))
            assert kept is not None
            assert (kept.order_number, kept.citizen_id, kept.text, kept.status, kept.attempts, kept.created_at) == (
                "WO2026120100001",
                7,
                "您的工单已派单",
                "pending",
                1,
                FILED,
            )
            # A message to the number a reporter gave, without a verified citizen.
            session.add(
                Notification(
                    order_number="WO2026120100001",
                    citizen_id=None,
                    channel="sms",
                    conversation_id="sms-contact",
                    text="您的工单已受理",
                    status="pending",
                    created_at=FILED,
                )
            )
        async with database.session() as session:
            assert sorted(n.citizen_id or 0 for n in await session.scalars(select(Notification))) == [0, 7]
            # The copied table (SQLite's batch mode) keeps its foreign keys and their ON DELETE CASCADE.
            order = await session.get(WorkOrder, "WO2026120100001")
            await session.delete(order)
        async with database.session() as session:
            assert (await session.scalars(select(Notification))).all() == []
        async with database.engine.connect() as connection:
            indexes = await connection.run_sync(lambda sync: inspect(sync).get_indexes("notifications"))
        assert {index["name"] for index in indexes} == {
            "ix_notifications_order_number",
            "ix_notifications_status",
            "ix_notifications_conversation_id",
        }
    finally:
        await database.close()


async def test_a_database_before_alembic_gets_the_tables_it_lacks_and_its_times_converted(url: str) -> None:
    await make_old_database(url)  # every table but schema_meta, with China times
    database = Database(url)
    try:
        done = await database.migrate()
        assert done.before_alembic and done.converted > 0
        assert await _schema_differences(database) == []
        async with database.session() as session:
            order = await session.get(WorkOrder, "WO2026112800001")
        assert order is not None and order.created_at == datetime(2026, 11, 28, 1, 30, 0, 123456, tzinfo=UTC)
    finally:
        await database.close()


async def test_a_failed_upgrade_leaves_the_database_as_it_was(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    await make_old_database(url)
    real = migrations.upgrade

    def failing(connection: Connection, target: str = "head") -> None:
        real(connection, target)
        if target == "head":  # after the stamp, the conversion and every revision
            raise RuntimeError("disk full")

    monkeypatch.setattr(migrations, "upgrade", failing)
    database = Database(url)
    try:
        with pytest.raises(RuntimeError, match="disk full"):
            await database.migrate()
        state = await database.schema_state()
        assert state.before_alembic and state.old_times
        async with database.engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        assert "alembic_version" not in tables and "schema_meta" not in tables
        assert (await stored_filing_time(database)).startswith("2026-11-28 09:30:00.123456")
    finally:
        await database.close()


async def test_two_upgrades_at_once_run_one_after_the_other(url: str) -> None:
    databases = [Database(url), Database(url)]
    try:
        done = await asyncio.gather(*(database.migrate() for database in databases))
        assert sorted(str(d.before) for d in done) == sorted(["None", migrations.head()])
        assert await _schema_differences(databases[0]) == []
    finally:
        for database in databases:
            await database.close()


async def test_an_older_revision_is_refused_until_upgraded(url: str) -> None:
    database = Database(url)
    try:
        async with database.migrating() as connection:
            await connection.run_sync(migrations.upgrade, migrations.FIRST)
        with pytest.raises(SchemaOutdated, match=f"数据库版本为{migrations.FIRST}.*python -m bot db upgrade"):
            await database.require_current_schema()
        done = await database.migrate()
        assert (done.before, done.after, done.before_alembic) == (migrations.FIRST, migrations.head(), False)
        async with database.engine.connect() as connection:
            assert (await connection.run_sync(_notification_columns))["citizen_id"]
    finally:
        await database.close()


async def test_a_revision_that_is_not_ours_is_refused(url: str) -> None:
    database = Database(url)
    try:
        await database.migrate()
        async with database.engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(SchemaOutdated, match="9999不是本程序的版本"):
            await database.require_current_schema()
        with pytest.raises(SchemaOutdated, match="9999"):
            await database.migrate()
        with pytest.raises(SchemaOutdated, match="9999"):
            await database.create_schema()
        assert await _revision(database) == "9999"
    finally:
        await database.close()


async def test_old_times_are_refused_before_the_schema_is_looked_at(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    await make_old_database(url)
    database = Database(url)
    try:
        with pytest.raises(OutdatedTimestamps, match="python -m bot db upgrade"):
            await database.require_current_schema()
        with pytest.raises(OutdatedTimestamps):
            await database.create_schema()
        assert (await database.schema_state()).revision is None  # refusing changed nothing
    finally:
        await database.close()


async def test_a_database_that_is_down_cannot_be_upgraded() -> None:
    database = Database("postgresql://postgres@127.0.0.1:9/nowhere")  # nothing listens on the discard port
    try:
        with pytest.raises(DatabaseUnavailable, match="cannot change the schema"):
            await database.migrate()
        with pytest.raises(DatabaseUnavailable):
            await database.schema_state()
    finally:
        await database.close()


@pytest.fixture
def umask_zero() -> Iterator[None]:
    """No umask: the modes below are the project's own, not the environment's."""
    previous = os.umask(0)
    yield
    os.umask(previous)


async def test_a_new_sqlite_database_is_private_to_its_owner(tmp_path: Path, umask_zero: None) -> None:
    tmp_path.chmod(0o755)
    path = tmp_path / "var" / "data" / "hotline.db"
    database = Database(f"sqlite:///{path}")
    try:
        await database.create_schema()
        async with database.session() as session:  # a write, and the connection stays open: -wal and -shm exist
            session.add(Citizen(phone_digest="d" * 64, phone="13800138000", created_at=FILED, last_seen_at=FILED))
        made = [path, path.with_name("hotline.db-wal"), path.with_name("hotline.db-shm")]
        assert [file.name for file in made if not file.exists()] == []
        assert {oct(stat.S_IMODE(file.stat().st_mode)) for file in made} == {"0o600"}
        assert oct(stat.S_IMODE(path.parent.stat().st_mode)) == "0o700"
        assert oct(stat.S_IMODE(path.parent.parent.stat().st_mode)) == "0o700"
        assert oct(stat.S_IMODE(tmp_path.stat().st_mode)) == "0o755"  # a folder that was there is left as it is
    finally:
        await database.close()


async def test_a_database_file_that_exists_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    path.touch(mode=0o640)
    path.chmod(0o640)
    database = Database(f"sqlite:///{path}")
    try:
        await database.create_schema()
        assert oct(stat.S_IMODE(path.stat().st_mode)) == "0o640"
    finally:
        await database.close()


# The command line


@pytest.fixture
def cli_url(url: str, clean_settings: None, monkeypatch: pytest.MonkeyPatch) -> str:
    """The commands' database (DATABASE_URL) is ``url``."""
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_db_upgrade_and_current_on_a_new_database(cli_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli.main import main

    head = migrations.describe(migrations.head())
    assert main(["db", "current"]) == 1
    out = capsys.readouterr().out
    assert f"最新版本：{head}" in out and "数据库尚未建表，请先运行 python -m bot db upgrade" in out
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"数据表已创建，数据库版本：{head}。\n"
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"数据库已是最新版本：{head}。\n"
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out == f"数据库版本：{head}\n最新版本：{head}\n数据库结构是最新的。\n"


def test_db_upgrade_takes_in_a_database_made_before_alembic(
    cli_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import serve
    from bot.cli.main import main

    asyncio.run(make_database_before_alembic(cli_url))
    started: list[bool] = []
    monkeypatch.setattr(serve, "run_servers", lambda: started.append(True) or 0)
    assert main(["db", "current"]) == 1
    assert "启用版本迁移之前建立的（没有版本记录），请先运行 python -m bot db upgrade" in capsys.readouterr().out
    assert main(["orders", "list"]) == 3  # commands never migrate
    assert "python -m bot db upgrade" in capsys.readouterr().err
    assert main(["run"]) == 3  # the servers do not start
    assert "python -m bot db upgrade" in capsys.readouterr().err and not started

    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == (
        f"已识别启用版本迁移之前建立的数据库，记为版本{migrations.FIRST}。\n"
        f"数据库已升级：{migrations.FIRST} → {migrations.describe(migrations.head())}。\n"
    )
    assert main(["orders", "show", "WO2026120100001"]) == 0
    assert "小区电梯经常坏" in capsys.readouterr().out
    assert main(["run"]) == 0 and started


def test_db_commands_on_a_database_that_is_down(
    clean_settings: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli.main import main

    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:9/nowhere")
    for command in ("upgrade", "current"):
        assert main(["db", command]) == 3
        assert "数据库不可用" in capsys.readouterr().err


@pytest.fixture
def scratch_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the migrations folder that ``db revision`` writes into (the project's stays as it is)."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    real = migrations.alembic_config

    def config(connection: Connection | None = None) -> Any:
        made = real(connection)
        made.set_main_option("script_location", str(copy))
        return made

    monkeypatch.setattr(migrations, "alembic_config", config)
    migrations.scripts.cache_clear()
    yield copy
    migrations.scripts.cache_clear()


def test_db_revision_autogenerates_the_next_revision_from_the_models(
    tmp_path: Path,
    clean_settings: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    scratch_migrations: Path,
) -> None:
    from bot.cli import main as cli

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'hotline.db'}")
    monkeypatch.setattr(cli, "PROJECT_ROOT", tmp_path)
    newest = migrations.head()
    assert cli.main(["db", "upgrade"]) == 0
    added = Table("scratch_notes", Base.metadata, Column("id", Integer, primary_key=True), Column("text", String(40)))
    try:
        assert cli.main(["db", "revision", "-m", "scratch notes", "--autogenerate"]) == 0
        number = f"{int(newest) + 1:04d}"
        written = scratch_migrations / "versions" / f"{number}_scratch_notes.py"
        assert f"已生成 migrations/versions/{written.name}" in capsys.readouterr().out
        source = written.read_text()
        assert f'revision = "{number}"' in source.replace("'", '"')
        assert f'down_revision = "{newest}"' in source.replace("'", '"')
        assert "op.create_table('scratch_notes'" in source
        assert migrations.head() == number
        assert cli.main(["db", "current"]) == 1  # the new revision is not applied yet
        capsys.readouterr()
        assert cli.main(["db", "upgrade"]) == 0
        assert f"数据库已升级：{newest} → {number} scratch notes。" in capsys.readouterr().out

        async def differences() -> list[Any]:
            database = Database(f"sqlite:///{tmp_path / 'hotline.db'}")
            try:
                return await _schema_differences(database)
            finally:
                await database.close()

        assert asyncio.run(differences()) == []
    finally:
        Base.metadata.remove(added)


async def test_revision_0005_encrypts_the_phone_numbers_and_masks_the_chat_log_and_its_downgrade_decrypts(
    url: str,
) -> None:
    from alembic import command

    from bot.core.encryption import decrypt, is_token
    from bot.core.personal_data import digest
    from bot.core.settings import get_settings

    database = Database(url)
    try:
        async with database.migrating() as connection:
            await connection.run_sync(migrations.upgrade, "0003")
            await connection.execute(
                insert(CLEAR_CITIZENS).values(
                    id=7, phone_digest="d" * 64, phone="13800138000", created_at=NAIVE, last_seen_at=NAIVE
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO work_orders (number, kind, title, summary, sender_id, status, anonymous, urgency,"
                    " source, reopened, channel, created_at, due_at, contact_phone) VALUES ('WO2026120100001', '投诉',"
                    " '', '路灯坏了', 'web-x', '已派单', false, 'normal', 'conversation', 0, 'webchat', :at, :at,"
                    " '13912345678')"
                ),
                {"at": NAIVE},
            )
            await connection.execute(
                text(
                    "INSERT INTO chat_messages (session_id, seq, role, payload, created_at)"
                    " VALUES ('" + "a" * 32 + "', 0, 'citizen', :payload, :at)"
                ),
                {"payload": '{"text": "我的电话13912345678"}', "at": NAIVE},
            )
            await connection.run_sync(migrations.upgrade, "0005")
        phone = (await _rows(database, "SELECT phone FROM citizens"))[0][0]
        orders = await _rows(database, "SELECT contact_phone, contact_phone_digest FROM work_orders")
        contact, contact_digest = orders[0]
        payload = (await _rows(database, "SELECT payload FROM chat_messages"))[0][0]
        assert is_token(phone) and decrypt(phone) == "13800138000"
        assert is_token(contact) and decrypt(contact) == "13912345678"
        assert contact_digest == digest("13912345678", str(get_settings().pii_hash_key))
        assert "13912345678" not in str(payload) and "139****5678" in str(payload)
        async with database.migrating() as connection:
            await connection.run_sync(lambda sync: command.downgrade(migrations.alembic_config(sync), "0003"))
        await database.engine.dispose()  # PostgreSQL: statements prepared before the tables changed
        assert await _rows(database, "SELECT phone FROM citizens") == [("13800138000",)]
        assert await _rows(database, "SELECT contact_phone FROM work_orders") == [("13912345678",)]
    finally:
        await database.close()


async def _rows(database: Database, sql: str) -> list[tuple[Any, ...]]:
    async with database.engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql))]
