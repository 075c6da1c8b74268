"""``python -m bot orders tick|import|show|list|dispatch``: work orders from the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.cli.common import project_database, refuse, refuse_file
from bot.core import clock
from bot.core.personal_data import mask_phone, mask_text
from bot.core.settings import get_settings
from bot.privacy.trackers import tracker_store
from bot.work_orders.board_import import BoardImportRefused, import_board_file
from bot.work_orders.filing import UNASSIGNED, InvalidOrderNumber, parse_order_number
from bot.work_orders.lifecycle import (
    ACTION_NAMES,
    InvalidTransition,
    OrderDetail,
    OrderNotFound,
    dispatch,
    list_orders,
    order_detail,
)
from bot.work_orders.notifications import deadline_text
from bot.work_orders.scheduler import run_once

SOURCE_NAMES = {"conversation": "对话", "board": "网上留言", "agent": "人工座席"}


def add_orders_parser(commands: Any) -> None:
    """Add the ``orders`` command and its actions to the command line's subparsers."""
    orders = commands.add_parser("orders", help="工单").add_subparsers(dest="action", required=True)
    tick = orders.add_parser("tick", help="运行一次定时任务：超期督办、回访提醒、解除热点、清理到期个人信息")
    tick.add_argument(
        "--now", type=clock.parse_moment, default=None, help="按此时间运行（ISO格式，不带时区即北京时间；默认当前时间）"
    )
    importing = orders.add_parser("import", help="把网上留言（JSONL或CSV）导入为工单")
    importing.add_argument("path", type=Path)
    showing = orders.add_parser("show", help="显示工单详情和办理记录")
    showing.add_argument("number")
    showing.add_argument("--json", action="store_true", help="以一个JSON对象输出（联系电话打码）")
    listing = orders.add_parser("list", help="列出一个部门的工单，或待分派队列")
    listing.add_argument("--department", default=None, help="部门名称（不填：待分派队列）")
    dispatching = orders.add_parser("dispatch", help="把待分派的工单派给部门")
    dispatching.add_argument("number")
    dispatching.add_argument("department")
    dispatching.add_argument("--actor", default="调度员", help="派单人")


def orders_command(args: argparse.Namespace) -> int:
    """Run one ``orders`` action."""
    if args.action == "tick":
        return asyncio.run(tick(args.now))
    if args.action == "import":
        return asyncio.run(import_file(args.path))
    if args.action == "list":
        return asyncio.run(list_department(args.department))
    try:
        number = parse_order_number(args.number)
    except InvalidOrderNumber as error:
        return refuse(error, 2)
    if args.action == "show":
        return asyncio.run(show(number, as_json=args.json))
    return asyncio.run(dispatch_order(number, args.department, args.actor))


async def tick(now: datetime | None) -> int:
    """Run the scheduler once (the retention job with it, on the tracker store too) and say what it did."""
    async with project_database() as database, tracker_store(get_settings(), database) as trackers:
        report = await run_once(database, now or clock.now(), trackers=trackers)
    print(report.summary() + "。")
    if report.escalated:
        print("督办：" + "、".join(report.escalated))
    if report.follow_ups:
        print("回访提醒：" + "、".join(report.follow_ups))
    return 0


async def import_file(path: Path) -> int:
    """Import board messages as work orders; nothing is stored if the file has errors."""
    try:
        async with project_database() as database:
            report = await import_board_file(database, path, clock.now())
    except BoardImportRefused as refused:
        return refuse_file(refused, "工单")
    print(f"导入完成：{len(report.filed)}件工单。")
    for department, count in report.by_department():
        print(f"  {department}：{count}件")
    print(f"其中待分派{report.queued}件，与在办工单合并{report.merged}件。")
    return 0


def detail_lines(detail: OrderDetail) -> list[str]:
    """An order's detail and audit trail as printed lines, personal data masked."""
    category = "/".join(detail.category) if detail.category else "未分类"
    place = " ".join(part for part in (detail.district, detail.address) if part) or "未提供"
    source = SOURCE_NAMES.get(detail.source, detail.source) + (f"（{detail.channel}）" if detail.channel else "")
    phone = "匿名" if detail.anonymous else mask_phone(detail.contact_phone) if detail.contact_phone else "无"
    lines = [
        f"工单{detail.number}  {detail.type}  {'紧急' if detail.urgency == 'urgent' else '一般'}  状态：{detail.state}",
        f"承办部门：{detail.department or UNASSIGNED}  办理时限：{clock.in_china(detail.due_at):%Y-%m-%d %H:%M}",
        f"分类：{category}  地点：{mask_text(place)}",
        f"来源：{source}  登记：{clock.in_china(detail.created_at):%Y-%m-%d %H:%M}",
        f"联系电话：{phone}",
    ]
    if detail.title:
        lines.append(f"标题：{mask_text(detail.title)}")
    lines.append(f"内容：{mask_text(detail.summary)}")
    if detail.duplicate_of:
        lines.append(f"与工单{detail.duplicate_of}合并办理")
    if detail.merged:
        lines.append("合并的重复工单：" + "、".join(detail.merged))
    if detail.reply:
        lines.append(f"答复：{mask_text(detail.reply)}")
    if detail.satisfaction:
        lines.append(f"回访：{'已解决' if detail.solved else '未解决'}，{detail.satisfaction}；重办{detail.reopened}次")
    lines.append("办理记录：")
    for event in detail.events:
        step = f"{event.from_state}→{event.to_state}" if event.from_state else event.to_state
        who = event.actor + (f"（{event.department}）" if event.department and event.department != event.actor else "")
        why = f"：{mask_text(event.reason)}" if event.reason else ""
        action = ACTION_NAMES.get(event.action, event.action)
        lines.append(f"  {clock.in_china(event.at):%Y-%m-%d %H:%M}  {action}  {step}  {who}{why}")
    return lines


def detail_json(detail: OrderDetail) -> dict[str, Any]:
    """An order as one JSON object: times in China time with +08:00, the contact phone masked."""

    def moment(value: datetime | None) -> str | None:
        return clock.in_china(value).isoformat() if value is not None else None

    contact = "匿名" if detail.anonymous else mask_phone(detail.contact_phone) if detail.contact_phone else None
    return {
        "number": detail.number,
        "type": detail.type,
        "category": list(detail.category) if detail.category else [],
        "department": detail.department,
        "status": detail.state,
        "district": detail.district,
        "address": detail.address,
        "since": detail.since,
        "description": detail.summary,
        "title": detail.title,
        "contact": contact,
        "channel": detail.channel or detail.source,
        "created_at": moment(detail.created_at),
        "deadline": moment(detail.due_at),
        "events": [
            {
                "at": moment(event.at),
                "action": event.action,
                "from": event.from_state,
                "to": event.to_state,
                "actor": event.actor,
                "department": event.department,
                "reason": event.reason,
            }
            for event in detail.events
        ],
    }


async def show(number: str, as_json: bool = False) -> int:
    """Print an order's detail with its audit trail (phone masked), as lines or one JSON object."""
    try:
        async with project_database() as database:
            detail = await order_detail(database, number)
    except OrderNotFound:
        return refuse(f"没有工单{number}", 1)
    if as_json:
        print(json.dumps(detail_json(detail), ensure_ascii=False, indent=2))
    else:
        print("\n".join(detail_lines(detail)))
    return 0


async def list_department(department: str | None) -> int:
    """Print a department's orders, or the dispatcher queue, earliest deadline first."""
    async with project_database() as database:
        orders = await list_orders(database, department)
    now = clock.now()
    label = department or UNASSIGNED
    print(f"{label}：{len(orders)}件")
    for order in orders:
        late = "  已超期" if order.is_overdue(now) else ""
        preview = mask_text(order.title or order.summary)[:30]
        print(f"  {order.number}  {order.state}  时限{deadline_text(order.due_at)}{late}  {preview}")
    return 0


async def dispatch_order(number: str, department: str, actor: str) -> int:
    """Send an order of the dispatcher queue to a department."""
    try:
        async with project_database() as database:
            detail = await dispatch(database, number, department, actor, clock.now())
    except (OrderNotFound, InvalidTransition) as error:
        return refuse(error, 1)
    print(f"工单{detail.number}已派至{detail.department}，办理时限{clock.in_china(detail.due_at):%Y-%m-%d %H:%M}。")
    return 0
