"""The supervisor's work-order dashboard in the agent console: its page and its JSON.

``add_dashboard_routes`` adds to the console's blueprint (mounted at /agent):
- ``GET /dashboard``: the page (its script draws the charts from the JSON; it sends anyone not
  logged in to the login page and tells an agent that the dashboard is for supervisors);
- ``GET /api/dashboard?days=N``: the numbers of the ``N`` days ending today (default 14, 1-90),
  for supervisors only (401 anonymous, 403 another role, 400 a bad ``days``, 503 database down).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.appeals.categories import DISTRICTS, FIRST_LEVELS
from bot.core import clock
from bot.core.db import DatabaseUnavailable
from bot.core.scales import RATINGS
from bot.work_orders.dashboard import (
    DEFAULT_DAYS,
    MAX_DAYS,
    NO_CATEGORY,
    NO_DISTRICT,
    Dashboard,
    check_days,
    dashboard,
)
from channels.connector import channel_runtime
from channels.pages import PAGE_HEADERS, china_time
from channels.registry import CHANNELS
from console.auth import authorised, guarded_page

logger = logging.getLogger(__name__)

PAGE = Path(__file__).resolve().parent / "static" / "dashboard.html"
SUPERVISOR = ("supervisor",)
UNAVAILABLE = "系统繁忙，请稍后再试"
BAD_DAYS = f"统计天数应为1到{MAX_DAYS}之间的整数"
_NO_STORE = {"Cache-Control": "no-store"}
# Where orders come from, as the page names them: the citizens' channels, the board, agents, the rest.
ORIGIN_LABELS = {
    **{spec.name: spec.staff_label for spec in CHANNELS if spec.name and spec.outbound},
    "board": "留言板",
    "agent": "客服",
    "other": "其他",
}
ORIGINS = tuple(ORIGIN_LABELS.values())


def _labelled(counts: dict[str, int]) -> dict[str, int]:
    """Counts by origin as counts by the origin's label."""
    labelled: dict[str, int] = {}
    for name, count in counts.items():
        label = ORIGIN_LABELS.get(name, ORIGIN_LABELS["other"])
        labelled[label] = labelled.get(label, 0) + count
    return labelled


def _ordered(counts: dict[str, int], names: tuple[str, ...], other: str | None) -> list[dict[str, Any]]:
    """``counts`` as a list in the order of ``names`` (zeros included), then ``other`` if it occurs."""
    listed = [{"name": name, "count": counts.get(name, 0)} for name in names]
    if other is not None and counts.get(other):
        listed.append({"name": other, "count": counts[other]})
    return listed


def dashboard_json(board: Dashboard) -> dict[str, Any]:
    """The dashboard as the page reads it."""
    categories = board.totals("categories")
    hotspot_districts: dict[str, int] = {}
    for spot in board.hotspots:
        hotspot_districts[spot.district] = hotspot_districts.get(spot.district, 0) + spot.count
    return {
        "generated_at": china_time(board.now),
        "days": board.days,
        "since": china_time(board.since),
        "names": {
            "categories": [*FIRST_LEVELS, NO_CATEGORY],
            "channels": list(ORIGINS),
            "districts": [*DISTRICTS, NO_DISTRICT],
            "satisfaction": list(RATINGS),
        },
        "totals": {
            "filed": board.filed,
            "open": board.open,
            "overdue": board.overdue,
            "closed": board.closed,
            "closed_on_time": board.closed_on_time,
            "on_time_rate": board.on_time_rate,
            "queue": board.queue.total,
            "hotspots": len(board.hotspots),
        },
        "per_day": [
            {
                "day": day.day.isoformat(),
                "total": day.total,
                "categories": day.categories,
                "channels": _labelled(day.channels),
                "districts": day.districts,
            }
            for day in board.per_day
        ],
        "by_category": sorted(
            ({"name": name, "count": count} for name, count in categories.items()),
            key=lambda item: (-int(item["count"]), str(item["name"])),
        ),
        "by_channel": _ordered(_labelled(board.totals("channels")), ORIGINS, None),
        "by_district": _ordered(board.totals("districts"), DISTRICTS, NO_DISTRICT),
        "departments": [
            {
                "name": load.department,
                "open": load.open,
                "overdue": load.overdue,
                "closed": load.closed,
                "closed_on_time": load.closed_on_time,
                "on_time_rate": load.on_time_rate,
            }
            for load in board.departments
        ],
        "satisfaction": {
            "counts": board.satisfaction.counts,
            "answered": board.satisfaction.answered,
            "satisfied_rate": board.satisfaction.satisfied_rate,
        },
        "hotspots": [
            {
                "id": spot.id,
                "category": list(spot.category),
                "district": spot.district,
                "count": spot.count,
                "first_at": china_time(spot.first_at),
                "last_at": china_time(spot.last_at),
            }
            for spot in board.hotspots
        ],
        "hotspot_districts": hotspot_districts,
        "queue": {
            "total": board.queue.total,
            "orders": [
                {
                    "number": order.number,
                    "type": order.type,
                    "title": order.title,
                    "district": order.district,
                    "state": order.state,
                    "urgency": order.urgency,
                    "waiting_since": china_time(order.waiting_since),
                    "waiting_s": order.waiting_s(board.now),
                    "due_at": china_time(order.due_at),
                    "overdue": order.due_at < board.now,
                }
                for order in board.queue.orders
            ],
        },
    }


def parse_days(raw: str | None) -> int | None:
    """The ``days`` query parameter (absent: the default), or None when it is not a whole number in range."""
    if raw is None or raw == "":
        return DEFAULT_DAYS
    if not raw.isascii() or not raw.isdigit():
        return None
    try:
        return check_days(int(raw))
    except ValueError:
        return None


async def dashboard_page(request: Request) -> HTTPResponse:
    """GET /agent/dashboard: the page for supervisors (anyone else is sent to log in, or refused)."""
    return await guarded_page(request, PAGE, PAGE_HEADERS, SUPERVISOR)


async def dashboard_api(request: Request) -> HTTPResponse:
    """GET /agent/api/dashboard?days=N: the dashboard's numbers, for supervisors."""
    agent = await authorised(request, roles=SUPERVISOR)
    if isinstance(agent, HTTPResponse):
        return agent
    days = parse_days(request.args.get("days"))
    if days is None:
        return response.json({"error": BAD_DAYS}, status=400, headers=_NO_STORE)
    try:
        board = await dashboard(channel_runtime().database, clock.now(), days)
    except DatabaseUnavailable:
        logger.error("dashboard: not read, the database is unavailable")
        return response.json({"error": UNAVAILABLE}, status=503, headers=_NO_STORE)
    return response.json(dashboard_json(board), headers=_NO_STORE)


def add_dashboard_routes(blueprint: Blueprint) -> None:
    """Add /dashboard and /api/dashboard to the console's blueprint (mounted at /agent)."""
    blueprint.add_route(dashboard_page, "/dashboard", methods=["GET"], name="agent_dashboard_page")
    blueprint.add_route(dashboard_api, "/api/dashboard", methods=["GET"], name="agent_api_dashboard")
