"""``python -m bot agents add|list|passwd|disable``: the console's accounts from the command line."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import datetime
from typing import Any, TextIO

from bot.cli.common import project_database
from bot.core import clock
from bot.handoff.agents import (
    ROLE_LABELS,
    ROLES,
    AccountRefused,
    add_agent,
    change_password,
    check_account,
    check_new_password,
    disable_agent,
    list_agents,
    normalise_username,
)


class PasswordMismatch(AccountRefused):
    """The password typed twice was not the same."""


def add_agents_parser(commands: Any) -> None:
    """Add the ``agents`` command and its actions to the command line's subparsers."""
    agents = commands.add_parser("agents", help="客服工作台账号").add_subparsers(dest="action", required=True)
    add = agents.add_parser("add", help="新建账号（密码从标准输入读取，或在终端输入两次）")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="显示的姓名，如 张三")
    add.add_argument("--role", choices=ROLES, default="agent", help="agent（客服）或 supervisor（班长）")
    agents.add_parser("list", help="列出账号")
    passwd = agents.add_parser("passwd", help="修改密码（并解除锁定、结束已登录的会话）")
    passwd.add_argument("username")
    disable = agents.add_parser("disable", help="停用账号（并结束已登录的会话）")
    disable.add_argument("username")


def read_password(stdin: TextIO, ask: Any = getpass.getpass) -> str:
    """The new password: one line of stdin when it is not a terminal, else typed twice (not echoed).

    Raises:
        PasswordMismatch: the two typed passwords differ.
    """
    if not stdin.isatty():
        return stdin.readline().rstrip("\r\n")
    first = ask("新密码：")
    if ask("再次输入新密码：") != first:
        raise PasswordMismatch("两次输入的密码不一致。")
    return str(first)


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return clock.in_china(moment).strftime("%Y-%m-%d %H:%M")


def agents_command(args: argparse.Namespace) -> int:
    """Run one ``agents`` action; a refused change prints why and exits with 1."""
    try:
        if args.action == "add":
            username = normalise_username(args.username)
            check_account(username, args.name, args.role)
            password = read_password(sys.stdin)
            check_new_password(password)
            return asyncio.run(_add(username, args.name, args.role, password))
        if args.action == "passwd":
            password = read_password(sys.stdin)
            check_new_password(password)
            return asyncio.run(_passwd(args.username, password))
        if args.action == "disable":
            return asyncio.run(_disable(args.username))
        return asyncio.run(_list())
    except AccountRefused as refused:
        print(f"错误：{refused}", file=sys.stderr)
        return 1


async def _add(username: str, name: str, role: str, password: str) -> int:
    async with project_database() as database:
        agent = await add_agent(database, username, name, role, password, clock.now())
    print(f"已创建账号 {agent.username}（{agent.name}，{ROLE_LABELS[agent.role]}）。")
    return 0


async def _passwd(username: str, password: str) -> int:
    async with project_database() as database:
        await change_password(database, username, password)
    print(f"已修改 {normalise_username(username)} 的密码，该账号已登录的会话均已退出。")
    return 0


async def _disable(username: str) -> int:
    async with project_database() as database:
        await disable_agent(database, username)
    print(f"已停用账号 {normalise_username(username)}，该账号已登录的会话均已退出。")
    return 0


async def _list() -> int:
    async with project_database() as database:
        listings = await list_agents(database)
    if not listings:
        print("还没有账号。新建：python -m bot agents add 用户名 --name 姓名 --role agent")
        return 0
    for listing in listings:
        agent = listing.agent
        state = "启用" if listing.active else "停用"
        print(
            f"{agent.id}\t{agent.username}\t{agent.name}\t{ROLE_LABELS[agent.role]}\t{state}\t"
            f"最近登录 {_when(listing.last_login_at)}"
        )
    return 0
