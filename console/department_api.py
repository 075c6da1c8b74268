"""The departments' HTTP API under /dept/api/: their work orders, and the progress of their cases.

Every request carries ``Authorization: Bearer <key>`` (``python -m bot departments add-key``); the
key names the department, and a department sees and changes only its own orders. An order of
another department answers 404, exactly like an order that does not exist, so that a key never
learns which numbers exist elsewhere. A case (办件) of another department answers 403: publishing
must refuse a number that is taken, so its existence cannot be hidden there.

The citizen's phone is given only for an order that has a contact phone and is not anonymous:
masked in lists, in full in one order's detail (the department may need to call back). Requests
and answers are JSON; errors are ``{"error": "<Chinese message>"}`` (400 adds ``details``). This
module is an input channel only to be served by Rasa's server: it never starts a bot turn.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.cases.records import (
    CaseNotFound,
    CaseOfAnotherDepartment,
    CasesRefused,
    add_case_events,
    find_case,
    parse_case,
    store_cases,
)
from bot.core import clock
from bot.core.db import Database, DatabaseUnavailable
from bot.core.personal_data import mask_phone
from bot.work_orders import lifecycle
from bot.work_orders.department_keys import Caller, authenticate
from bot.work_orders.working_days import OutsideCalendar, add_working_days
from channels.connector import OnNewMessage, channel_runtime

logger = logging.getLogger(__name__)

URL_PREFIX = "/dept/api"
# A request body larger than this is refused before it is read as JSON.
MAX_BODY_BYTES = 64 * 1024
# The longest progress note, reply or reason.
MAX_TEXT_CHARS = 2000
# An extension adds at most this many working days to the deadline.
MAX_EXTENSION_DAYS = 30
# The audit trail keeps 200 characters of actor: room for the key id after a long name.
MAX_ACTOR_DEPARTMENT_CHARS = 180
_ORDER_NUMBER = re.compile(r"WO\d{13}")
NOT_FOUND = "没有找到这个工单（工单号有误，或不属于本部门）"
UNAVAILABLE = "系统暂时无法访问数据库，请稍后重试"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="12345-departments"'}


class ApiError(Exception):
    """A request the API refuses, with its status and a Chinese message."""

    def __init__(self, status: int, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def json_response(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    """A JSON answer with its Chinese readable as it is (UTF-8, not \\u escapes)."""
    return response.json(body, status=status, headers=headers, dumps=_dumps)


def _dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False)


def error_response(status: int, message: str, details: list[str] | None = None) -> HTTPResponse:
    """The JSON body of a refusal."""
    body: dict[str, Any] = {"error": message}
    if details:
        body["details"] = details
    return json_response(body, status, _CHALLENGE if status == 401 else None)


def bearer_key(header: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header, or None."""
    scheme, _, key = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


def json_object(body: bytes | None) -> dict[str, Any]:
    """A request body as a JSON object (an empty body is ``{}``), or ``ApiError`` saying what is wrong."""
    raw = body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"请求体过大（不能超过{MAX_BODY_BYTES // 1024}KB）")
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:  # RecursionError: nested too deeply
        raise ApiError(400, "请求体不是有效的JSON（UTF-8编码）") from error
    if not isinstance(parsed, dict):
        raise ApiError(400, "请求体应是JSON对象")
    return parsed


def text_field(body: dict[str, Any], name: str, label: str) -> str:
    """A required, non-empty text field of at most ``MAX_TEXT_CHARS`` characters."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"缺少{name}（{label}），应为非空字符串")
    if len(value.strip()) > MAX_TEXT_CHARS:
        raise ApiError(400, f"{name}（{label}）不能超过{MAX_TEXT_CHARS}字")
    return value.strip()


def extension_days(body: dict[str, Any]) -> int:
    """The ``days`` of an extension: a whole number of working days from 1 to ``MAX_EXTENSION_DAYS``."""
    days = body.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ApiError(400, f"days（延期工作日数）应为1到{MAX_EXTENSION_DAYS}之间的整数")
    return days


def requested_states(values: list[str]) -> list[str] | None:
    """The states of ``?state=…`` (repeated or comma-separated), None for all; unknown ones are refused."""
    states = [part.strip() for value in values for part in value.split(",") if part.strip()]
    unknown = [state for state in states if state not in lifecycle.STATES]
    if unknown:
        raise ApiError(400, f"未知的状态：{'、'.join(unknown)}（可选：{'、'.join(lifecycle.STATES)}）")
    return states or None


def timestamp(value: datetime | None) -> str | None:
    """A moment as ISO 8601 in China time, with its +08:00 offset."""
    return None if value is None else clock.in_china(value).isoformat()


def order_summary(order: lifecycle.OrderDetail, now: datetime) -> dict[str, Any]:
    """An order as the list shows it: what the work needs, the phone masked."""
    phone = order.contact_phone if order.contact_phone and not order.anonymous else None
    return {
        "number": order.number,
        "type": order.type,
        "title": order.title,
        "category": list(order.category) if order.category else None,
        "district": order.district,
        "address": order.address,
        "state": order.state,
        "urgency": order.urgency,
        "due_at": timestamp(order.due_at),
        "overdue": order.is_overdue(now),
        "created_at": timestamp(order.created_at),
        "contact_phone": mask_phone(phone) if phone else None,
    }


def order_document(order: lifecycle.OrderDetail, now: datetime) -> dict[str, Any]:
    """One order in full: the citizen's words, the phone (unless anonymous), audit trail and notes."""
    return {
        **order_summary(order, now),
        "summary": order.summary,
        "since": order.since,
        "latitude": order.latitude,
        "longitude": order.longitude,
        "contact_phone": order.contact_phone if order.contact_phone and not order.anonymous else None,
        "anonymous": order.anonymous,
        "accepted_at": timestamp(order.accepted_at),
        "closed_at": timestamp(order.closed_at),
        "escalated_at": timestamp(order.escalated_at),
        "duplicate_of": order.duplicate_of,
        "merged": list(order.merged),
        "reopened": order.reopened,
        "reply": order.reply,
        "solved": order.solved,
        "satisfaction": order.satisfaction,
        "events": [
            {
                "at": timestamp(event.at),
                "actor": event.actor,
                "action": event.action,
                "from_state": event.from_state,
                "to_state": event.to_state,
                "reason": event.reason,
            }
            for event in order.events
        ],
        "notes": [
            {"at": timestamp(note.at), "author": note.author, "kind": note.kind, "text": note.text}
            for note in order.notes
        ],
    }


def actor_of(caller: Caller) -> str:
    """Who the audit trail names for a call: the department and its key's id (never the key)."""
    return f"{caller.department[:MAX_ACTOR_DEPARTMENT_CHARS]}（接口密钥{caller.key_id}）"


def _order_number(raw: str) -> str:
    if not _ORDER_NUMBER.fullmatch(raw):
        raise ApiError(404, NOT_FOUND)
    return raw


async def _own_order(database: Database, number: str, caller: Caller) -> lifecycle.OrderDetail:
    """The caller's order, or 404 (another department's order looks like no order at all)."""
    try:
        order = await lifecycle.order_detail(database, _order_number(number))
    except lifecycle.OrderNotFound as error:
        raise ApiError(404, NOT_FOUND) from error
    if order.department != caller.department:
        raise ApiError(404, NOT_FOUND)
    return order


# ---------------------------------------------------------------- the endpoints' work


async def list_own_orders(database: Database, caller: Caller, request: Request) -> HTTPResponse:
    """GET /orders?state=…"""
    states = requested_states(request.args.getlist("state") or [])
    orders = await lifecycle.list_orders(database, caller.department, states)
    now = clock.now()
    return json_response({"orders": [order_summary(order, now) for order in orders]})


async def show_order(database: Database, caller: Caller, number: str) -> HTTPResponse:
    """GET /orders/<number>"""
    return json_response(order_document(await _own_order(database, number, caller), clock.now()))


async def change_order(
    database: Database, caller: Caller, number: str, step: str, body: dict[str, Any]
) -> HTTPResponse:
    """POST /orders/<number>/<step>: one lifecycle transition by the caller's department."""
    if step not in ("accept", "progress", "close", "return", "extend"):
        raise ApiError(404, "没有这个操作（可用：accept、progress、close、return、extend）")
    current = await _own_order(database, number, caller)
    number = current.number
    actor, department, now = actor_of(caller), caller.department, clock.now()
    if step == "accept":
        order = await lifecycle.accept(database, number, department, actor, now)
    elif step == "progress":
        text = text_field(body, "text", "办理进展")
        order = await lifecycle.add_progress(database, number, department, actor, text, now)
    elif step == "close":
        reply = text_field(body, "reply", "答复市民的内容")
        order = await lifecycle.close(database, number, department, actor, reply, now)
    elif step == "return":
        reason = text_field(body, "reason", "退单理由")
        order = await lifecycle.return_order(database, number, department, actor, reason, now)
    else:
        reason = text_field(body, "reason", "延期理由")
        days = extension_days(body)
        new_due = add_working_days(max(current.due_at, now), days)
        order = await lifecycle.extend(database, number, department, actor, reason, new_due, now)
    return json_response(order_document(order, now))


async def publish_case(database: Database, caller: Caller, body: dict[str, Any], key: str) -> HTTPResponse:
    """POST /cases: create the caller's case, or add steps to it."""
    if "department" in body and str(body["department"]).strip() != caller.department:
        raise ApiError(403, "只能发布本部门的办件（department与密钥所属部门不一致）")
    events = body.get("events")
    if not isinstance(events, list) or not events:
        raise ApiError(400, "events应为非空列表，每项包含status、at（ISO时间）和可选的note")
    number = str(body.get("number", "")).strip()
    now = clock.now()
    created = False
    try:
        added = await add_case_events(database, number, caller.department, events, now)
    except CaseNotFound:
        record = parse_case({**body, "department": caller.department}, "办件")
        await store_cases(database, [record], key, now)
        created, added = True, len(record.events)
    view = await find_case(database, number, clock.china_date(now))
    if view is None:  # only if it was deleted in between
        raise ApiError(404, "办件保存后未能读取，请重试")
    document = {
        "number": view.number,
        "service_name": view.service_name,
        "status": view.status,
        "promised_date": view.promised_date.isoformat(),
        "created": created,
        "added": added,
        "timeline": [{"status": s, "at": timestamp(at), "note": note} for s, at, note in view.timeline],
    }
    return json_response(document, 201 if created else 200)


async def answer(request: Request, work: Callable[[Database, Caller], Awaitable[HTTPResponse]]) -> HTTPResponse:
    """Authenticate the caller, do the work, and turn every refusal into its status; log the call."""
    database = channel_runtime().database
    caller: Caller | None = None
    try:
        key = bearer_key(request.headers.get("authorization"))
        if key is None:
            raise ApiError(401, "缺少部门密钥：请在请求头中加入 Authorization: Bearer <密钥>")
        caller = await authenticate(database, key)
        if caller is None:
            raise ApiError(401, "部门密钥无效或已停用")
        result = await work(database, caller)
    except ApiError as refused:
        result = error_response(refused.status, refused.message, refused.details)
    except CasesRefused as refused:
        result = error_response(400, "办件数据有误，未作任何保存", refused.errors)
    except CaseOfAnotherDepartment:
        result = error_response(403, "这个办件编号属于其他部门，只能发布本部门的办件")
    except (lifecycle.OrderNotFound, lifecycle.NotYourOrder):
        result = error_response(404, NOT_FOUND)
    except lifecycle.InvalidTransition as refused:
        result = error_response(409, str(refused))
    except OutsideCalendar as refused:
        result = error_response(409, str(refused))
    except DatabaseUnavailable:
        logger.error("department API: %s %s failed, the database is unavailable", request.method, request.path)
        result = error_response(503, UNAVAILABLE)
    if caller is None:
        logger.warning(
            "department API: %s %s refused without a valid key (%d)", request.method, request.path, result.status
        )
    else:
        logger.info(
            "department API: %s (key %d) %s %s -> %d",
            caller.department,
            caller.key_id,
            request.method,
            request.path,
            result.status,
        )
    return result


class DepartmentApiInput(InputChannel):
    """The departments' API: authenticated by key; never a conversation with the bot."""

    @classmethod
    def name(cls) -> str:
        """The channel's name in credentials.yml."""
        return "department_api"

    def url_prefix(self) -> str:
        """Served at /dept/api, not under /webhooks/."""
        return URL_PREFIX

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The API's routes (``on_new_message`` is never called)."""
        api = Blueprint("hotline_department_api", __name__)

        @api.route("/orders", methods=["GET"])
        async def orders(request: Request) -> HTTPResponse:
            return await answer(request, lambda database, caller: list_own_orders(database, caller, request))

        @api.route("/orders/<number:str>", methods=["GET"])
        async def order(request: Request, number: str) -> HTTPResponse:
            return await answer(request, lambda database, caller: show_order(database, caller, number))

        @api.route("/orders/<number:str>/<step:str>", methods=["POST"])
        async def step(request: Request, number: str, step: str) -> HTTPResponse:
            async def work(database: Database, caller: Caller) -> HTTPResponse:
                return await change_order(database, caller, number, step, json_object(request.body))

            return await answer(request, work)

        @api.route("/cases", methods=["POST"])
        async def cases(request: Request) -> HTTPResponse:
            async def work(database: Database, caller: Caller) -> HTTPResponse:
                key = str(channel_runtime().settings.pii_hash_key)
                return await publish_case(database, caller, json_object(request.body), key)

            return await answer(request, work)

        return api
