"""Command line of the hotline: ``python -m bot catalog|cases|db|seed|nlu|chat|run|run-prod|agents``.

A command imports what only it needs when it runs (the catalogue search, the demo cases): a command
that needs neither starts in half the time."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bot.appeals.categories import CategoryError
from bot.appeals.model_store import AppealModelError
from bot.appeals.routing import RoutingError
from bot.cli.agents import add_agents_parser, agents_command
from bot.cli.appeals import add_appeals_parser, add_model_option, classify_command, train_command
from bot.cli.common import database_as_it_is, open_database, project_database, refuse, refuse_file
from bot.cli.orders import add_orders_parser, orders_command
from bot.cli.privacy import add_privacy_parsers, privacy_command
from bot.core import clock
from bot.core.db import DatabaseUnavailable, OutdatedTimestamps, SchemaOutdated
from bot.core.encryption import PersonalDataKeyError
from bot.core.settings import PROJECT_ROOT, get_settings


async def catalog_import(path: Path) -> int:
    """Import a catalogue file or folder; nothing is stored if it has errors."""
    from bot.catalog.formats import CatalogFormatError, read_catalog
    from bot.catalog.store import CatalogRefused, import_records

    try:
        parsed = read_catalog(path)
    except CatalogFormatError as error:
        return refuse(error, 2)
    try:
        async with project_database() as database:
            report = await import_records(database, parsed)
    except CatalogRefused as refused:
        return refuse_file(refused, "事项")
    for line in report.warnings:
        print(f"提示：{line}")
    print(
        f"导入完成：新增{report.added}项，更新{report.updated}项，未变{report.unchanged}项"
        f"（共{len(parsed.records)}项）。"
    )
    return 0


async def catalog_search(query: str, as_json: bool, limit: int) -> int:
    """Print the ranked matches for a query."""
    from bot.catalog.runtime import Hotline
    from bot.catalog.store import load_services

    hotline = Hotline(get_settings(), open_database())
    try:
        index = await hotline.catalog_index()
        matches = index.search(query, limit=limit)
        services = {s.id: s for s in await load_services(hotline.database)} if matches else {}
    finally:
        await hotline.database.close()
    rows = []
    for match in matches:
        service = services[match.entry.id]
        rows.append(
            {
                "id": service.id,
                "name": service.name,
                "department": service.department,
                "score": match.score,
                "situations": [
                    {"name": s.name, "materials": [m["name"] for m in s.materials]} for s in service.situations
                ],
            }
        )
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        print("没有找到匹配的事项。")
    else:
        for n, row in enumerate(rows, start=1):
            print(f"{n}. {row['name']}（{row['department']}）  相似度{row['score']:.2f}  [{row['id']}]")
    return 0


async def cases_import(path: Path) -> int:
    """Import cases from a CSV or JSON file; nothing is stored if it has errors."""
    from bot.cases.records import CasesRefused, import_cases

    settings = get_settings()
    try:
        async with project_database() as database:
            count = await import_cases(database, path, str(settings.pii_hash_key), clock.now())
    except CasesRefused as refused:
        return refuse_file(refused, "办件")
    except OSError as error:
        return refuse(f"无法读取{path}：{error.strerror}", 2)
    print(f"导入完成：{count}件办件。")
    return 0


async def seed() -> int:
    """Upgrade the schema (converting an old database's times to UTC), load the default catalogue and the demo cases.

    Without PII_ENCRYPTION_KEYS, the key of personal data is first made into var/ (``make run``).
    """
    from bot.cases.demo import DEMO_PHONE, demo_cases
    from bot.cases.records import store_cases
    from bot.cli.serve import ensure_local_key

    settings = ensure_local_key(get_settings())
    await db_upgrade()
    status = await catalog_import(settings.catalog_path)
    if status:
        return status
    async with database_as_it_is() as database:
        now = clock.now()
        cases = demo_cases(now)
        await store_cases(database, cases, str(settings.pii_hash_key), now)
    print("演示办件（登记手机号后四位均为" + DEMO_PHONE[-4:] + "）：")
    labels = ("办理中", "已超期", "已办结")
    for label, case in zip(labels, cases, strict=False):
        print(f"  {case.number}  {case.service_name}  {label}")
    return 0


def nlu_generate(check: bool) -> int:
    """Write (or check) the jieba dictionary and service lookup generated from the catalogue."""
    from bot.catalog.formats import read_catalog
    from bot.catalog.nlu_generate import generated_files

    parsed = read_catalog(PROJECT_ROOT / "data" / "catalog")
    if parsed.errors:
        for line in parsed.errors:
            print(f"错误：{line}", file=sys.stderr)
        return 1
    stale = []
    for path, text in generated_files(parsed, PROJECT_ROOT).items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if check:
            stale.append(str(path.relative_to(PROJECT_ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"已生成 {path.relative_to(PROJECT_ROOT)}")
    if stale:
        print("与目录不一致，请运行 python -m bot nlu generate：" + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


async def departments_command(action: str, department: str, key_id: int) -> int:
    """Issue (shown once), list or revoke departments' API keys."""
    from bot.work_orders.department_keys import (
        InvalidDepartment,
        UnknownKey,
        add_key,
        list_keys,
        revoke_key,
        routing_mentions,
    )

    async with project_database() as database:
        if action == "add-key":
            try:
                issued = await add_key(database, department, clock.now())
            except InvalidDepartment as error:
                return refuse(error, 2)
            if not routing_mentions(issued.department):
                rules = "分派规则（data/appeals/routing.yml）"
                print(f"提示：{rules}中没有“{issued.department}”，请核对部门名称（只发布办件进度的部门可忽略）。")
            print(f"已为“{issued.department}”新建密钥，编号{issued.key_id}。密钥只显示这一次，请妥善交给该部门：")
            print(issued.key)
            return 0
        if action == "revoke":
            try:
                info = await revoke_key(database, key_id, clock.now())
            except UnknownKey as error:
                return refuse(error, 1)
            since = clock.in_china(info.revoked_at or clock.now())
            print(f"密钥{info.key_id}（{info.department}）已停用（{since:%Y-%m-%d %H:%M}起）。")
            return 0
        keys = await list_keys(database)
    if not keys:
        print("还没有部门密钥。")
    for info in keys:
        state = f"已停用 {clock.in_china(info.revoked_at):%Y-%m-%d %H:%M}" if info.revoked_at else "有效"
        print(f"{info.department}  密钥{info.key_id}  创建于{clock.in_china(info.created_at):%Y-%m-%d %H:%M}  {state}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; a database that is down exits with 3."""
    try:
        return _run(argv)
    except DatabaseUnavailable as error:
        print(f"错误：数据库不可用（{error}），请检查 DATABASE_URL 和数据库服务。", file=sys.stderr)
        return 3
    except (CategoryError, RoutingError) as error:  # the tree of appeals (APPEAL_TAXONOMY_FILE) or its routing
        return refuse(error, 3)
    except (OutdatedTimestamps, SchemaOutdated, PersonalDataKeyError) as error:
        return refuse(error, 3)
    except AppealModelError as error:
        return refuse(f"{error}（APPEAL_MODEL_DIR）", 3)


def _run(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="12345 热线助手")
    commands = parser.add_subparsers(dest="command", required=True)

    catalog = commands.add_parser("catalog", help="办事指南").add_subparsers(dest="action", required=True)
    catalog_import_parser = catalog.add_parser("import", help="导入目录（项目YAML或JSONL）")
    catalog_import_parser.add_argument("path", type=Path)
    search = catalog.add_parser("search", help="检索事项")
    search.add_argument("query")
    search.add_argument("--json", action="store_true", help="以JSON输出")
    search.add_argument("--limit", type=int, default=5)

    cases = commands.add_parser("cases", help="办件").add_subparsers(dest="action", required=True)
    cases_import_parser = cases.add_parser("import", help="导入办件（CSV或JSON）")
    cases_import_parser.add_argument("path", type=Path)

    db = commands.add_parser("db", help="数据库").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="升级数据库结构到最新版本（新库建表；旧版本数据库中的北京时间一次性转换为UTC）")
    db.add_parser("init", help="同 upgrade（保留给已有脚本）")
    db.add_parser("current", help="显示数据库结构的版本（不是最新时退出码为1）")
    revision = db.add_parser("revision", help="新建一个迁移版本（开发用）")
    revision.add_argument("-m", "--message", required=True, help="这一版改了什么（一行，英文）")
    revision.add_argument("--autogenerate", action="store_true", help="由 bot/core/models.py 与数据库的差异生成操作")
    commands.add_parser("seed", help="建表并载入默认目录和演示办件")
    nlu = commands.add_parser("nlu", help="训练数据").add_subparsers(dest="action", required=True)
    generate = nlu.add_parser("generate", help="由目录生成结巴词典和事项查找表")
    generate.add_argument("--check", action="store_true", help="只检查是否最新")
    chat = commands.add_parser("chat", help="在终端与运行中的助手对话")
    chat.add_argument("--url", default=None)
    commands.add_parser("run", help="启动动作服务器和Rasa服务器")
    prod = commands.add_parser("run-prod", help="生产拓扑：多个Rasa实例和动作服务器在nginx之后（PostgreSQL、Redis）")
    prod.add_argument("--instances", type=int, default=2, choices=range(1, 9), metavar="N", help="Rasa实例数（默认2）")
    prod.add_argument("--port", type=int, default=8080, help="nginx监听的端口（默认8080）")
    add_agents_parser(commands)
    add_orders_parser(commands)
    add_privacy_parsers(commands)
    departments = commands.add_parser("departments", help="部门接口密钥").add_subparsers(dest="action", required=True)
    departments.add_parser("add-key", help="为部门新建密钥（只显示一次）").add_argument("department")
    departments.add_parser("list", help="列出部门和密钥编号（不显示密钥）")
    departments.add_parser("revoke", help="停用一个密钥").add_argument("key_id", type=int)
    add_model_option(commands.add_parser("classify", help="诉求分类：从标准输入每行读一条留言，每行输出一个JSON"))
    add_appeals_parser(commands)

    args = parser.parse_args(argv)
    if args.command == "catalog" and args.action == "import":
        return asyncio.run(catalog_import(args.path))
    if args.command == "catalog" and args.action == "search":
        return asyncio.run(catalog_search(args.query, args.json, args.limit))
    if args.command == "cases":
        return asyncio.run(cases_import(args.path))
    if args.command == "db":
        return asyncio.run(db_command(args.action, getattr(args, "message", ""), getattr(args, "autogenerate", False)))
    if args.command == "seed":
        return asyncio.run(seed())
    if args.command == "nlu":
        return nlu_generate(args.check)
    if args.command == "chat":
        from bot.cli.chat import chat as run_chat

        return run_chat(args.url)
    if args.command == "departments":
        return asyncio.run(
            departments_command(args.action, getattr(args, "department", ""), getattr(args, "key_id", 0))
        )
    if args.command == "agents":
        return agents_command(args)
    if args.command == "orders":
        return orders_command(args)
    if args.command in ("pii", "retention"):
        return privacy_command(args)
    if args.command == "classify":
        return classify_command(args.model)
    if args.command == "appeals":
        return train_command(args.path, args.out, args.examples)
    if args.command == "run":
        from bot.cli.serve import ensure_local_key, run_servers

        ensure_local_key(get_settings())
        asyncio.run(_require_current_schema())  # refused with exit status 3 (main), before any server starts
        _require_appeal_model()  # likewise a configured appeal model that is missing or broken
        _require_appeal_files()  # and a missing or broken classification tree or routing file
        return run_servers()
    if args.command == "run-prod":
        from bot.cli.prod import run_prod
        from bot.cli.serve import ensure_local_key

        ensure_local_key(get_settings())  # as make run: the key of personal data, when none is set
        _require_appeal_files()
        return run_prod(args.instances, args.port)
    parser.error("unknown command")
    return 2


async def db_upgrade() -> int:
    """Bring the project database to the newest revision and say what was done."""
    from bot.core import migrations

    async with database_as_it_is() as database:
        done = await database.migrate()
    if done.before_alembic:
        print(f"已识别启用版本迁移之前建立的数据库，记为版本{migrations.FIRST}。")
    if done.converted:
        print(f"已将旧数据中的{done.converted}个时间由北京时间转换为UTC存储。")
    if done.before is None and not done.before_alembic:
        print(f"数据表已创建，数据库版本：{migrations.describe(done.after)}。")
    elif done.before == done.after:
        print(f"数据库已是最新版本：{migrations.describe(done.after)}。")
    else:
        print(f"数据库已升级：{done.before or migrations.FIRST} → {migrations.describe(done.after)}。")
    return 0


async def db_current() -> int:
    """Print the database's revision against the newest one; exit status 1 when it is not the newest."""
    from bot.core import migrations

    async with database_as_it_is() as database:
        state = await database.schema_state()
    if state.revision is not None:
        print(f"数据库版本：{migrations.describe(state.revision)}")
    print(f"最新版本：{migrations.describe(state.head)}")
    problem = state.problem()
    if problem is not None:
        print(problem)
        return 1
    print("数据库结构是最新的。")
    return 0


async def db_revision(message: str, autogenerate: bool) -> int:
    """Write the next revision file; with ``autogenerate``, from what the models add to a database at the newest one."""
    from bot.core import migrations

    async with database_as_it_is() as database:
        await database.require_current_schema()  # autogenerate compares the models with the newest schema
        async with database.migrating() as connection:
            script = await connection.run_sync(migrations.new_revision, message, autogenerate)
    print(f"已生成 {Path(script.path).relative_to(PROJECT_ROOT)}：请检查其中的操作（SQLite 上以批处理方式修改表）。")
    return 0


async def db_command(action: str, message: str, autogenerate: bool) -> int:
    """``db upgrade`` (``init`` is the same), ``db current`` or ``db revision``."""
    if action == "current":
        return await db_current()
    if action == "revision":
        return await db_revision(message, autogenerate)
    status = await db_upgrade()
    if action == "init":
        print("数据表已创建。")
    return status


def _require_appeal_files() -> None:
    """Read the classification tree (APPEAL_TAXONOMY_FILE) and the routing rules: ``CategoryError`` or
    ``RoutingError`` naming the file and the line when one is missing or broken."""
    from bot.appeals.routing import load_routing

    load_routing()  # reads the tree first


def _require_appeal_model() -> None:
    """Load the model APPEAL_MODEL_DIR names, if any: ``AppealModelError`` when it is missing or broken."""
    from bot.appeals.model_store import configured_model

    configured_model()


async def _require_current_schema() -> None:
    async with database_as_it_is() as database:
        await database.require_current_schema()
