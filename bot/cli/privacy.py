"""``python -m bot pii key|rotate`` and ``python -m bot retention run``: personal data at rest."""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from typing import Any

from bot.cli.common import project_database
from bot.core import clock
from bot.core.encryption import new_key
from bot.core.settings import get_settings
from bot.privacy.retention import run_retention
from bot.privacy.rotation import rotate_everything
from bot.privacy.trackers import tracker_store


def add_privacy_parsers(commands: Any) -> None:
    """Add the ``pii`` and ``retention`` commands to the command line's subparsers."""
    pii = commands.add_parser("pii", help="个人信息加密密钥").add_subparsers(dest="action", required=True)
    pii.add_parser("key", help="生成一个新的加密密钥（只输出，不保存）")
    pii.add_parser("rotate", help="用最新密钥（PII_ENCRYPTION_KEYS 的第一个）重新加密全部已加密的个人信息")
    retention = commands.add_parser("retention", help="个人信息保存期限").add_subparsers(dest="action", required=True)
    run = retention.add_parser("run", help="删除超过保存期限的个人信息（对话、网页聊天、已办结工单、市民）")
    run.add_argument(
        "--now", type=clock.parse_moment, default=None, help="按此时间运行（ISO格式，不带时区即北京时间；默认当前时间）"
    )


def privacy_command(args: argparse.Namespace) -> int:
    """Run one ``pii`` or ``retention`` action."""
    if args.command == "pii" and args.action == "key":
        print(new_key())
        return 0
    if args.command == "pii":
        return asyncio.run(rotate())
    return asyncio.run(retention(args.now))


async def rotate() -> int:
    """Encrypt everything again with the newest key and say how much."""
    async with project_database() as database, tracker_store(get_settings(), database) as trackers:
        report = await rotate_everything(database, trackers)
    print(report.summary() + "。")
    print("确认无误后，可从 PII_ENCRYPTION_KEYS 中删除旧密钥。")
    return 0


async def retention(now: datetime | None) -> int:
    """Run the retention job once, on the project database and the tracker store, and say what it removed."""
    settings = get_settings()
    async with project_database() as database, tracker_store(settings, database) as trackers:
        report = await run_retention(database, now or clock.now(), settings, trackers)
    print(report.summary() + "。")
    return 0
