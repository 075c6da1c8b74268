"""The agent console at /agent: its pages and its API, for agents and supervisors.

Every API route asks ``console.auth.authorised`` first (login, role, CSRF on changes).
An agent reads and acts on the handoffs assigned to them; supervisors may read them all. The
handoffs themselves move through the desk (``console.desk``), which ``console.startup`` attaches
to every turn when the server starts.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.core import clock
from bot.core.db import DatabaseUnavailable
from bot.core.personal_data import InvalidPhone, parse_phone
from bot.core.shared_state import SharedStateUnavailable
from bot.handoff import records as handoffs
from bot.handoff.agents import AgentView, list_agents, online_agents
from bot.handoff.queue import QueueUnavailable
from bot.handoff.records import HandoffConflict, HandoffNotFound, HandoffView, PhraseNotFound
from bot.ratings.records import bot_rating_counts
from bot.work_orders.filing import InvalidOrder, NewOrder, file_order
from channels.connector import DeliveryFailed, OnNewMessage, channel_runtime
from channels.pages import PAGE_HEADERS, add_static_route, china_time, json_error, json_object, page_file
from channels.registry import staff_label
from channels.text import MAX_MESSAGE_CHARS, clean_text
from console.auth import add_auth_routes, authorised, current_session, guarded_page
from console.dashboard import add_dashboard_routes
from console.desk import CONSOLE, Agentish, HandoffDesk, NotYours, handoff_desk

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_BODY_BYTES = 64 * 1024
HEARTBEAT_S = 15.0
SUPERVISOR = ("supervisor",)
ORDER_TYPES = ("咨询", "求助", "投诉", "举报", "建议")
VERIFIED_CONTACT = "已验证手机"
UNAVAILABLE = "系统繁忙，请稍后再试"


def _ok(body: dict[str, Any], status: int = 200) -> HTTPResponse:
    return response.json(body, status=status, headers={"Cache-Control": "no-store"})


def _body(request: Request) -> dict[str, Any] | None:
    return json_object(request, MAX_BODY_BYTES)


def _text(body: dict[str, Any] | None, key: str, maximum: int, minimum: int = 1) -> str | None:
    value = body.get(key) if body else None
    if not isinstance(value, str):
        return None
    value = clean_text(value)
    return value if minimum <= len(value) <= maximum else None


def _actor(agent: AgentView) -> Agentish:
    return Agentish(id=agent.id, name=agent.name, role=agent.role)


async def handoff_json(desk: HandoffDesk, handoff: HandoffView) -> dict[str, Any]:
    """A handoff as the console shows it in its lists."""
    now = clock.now()
    position = await desk.queue.position(handoff.id) if handoff.status == handoffs.WAITING else None
    end = handoff.assigned_at or handoff.closed_at or now
    return {
        "id": handoff.id,
        "channel": handoff.channel,
        "channel_label": staff_label(handoff.channel),
        "status": handoff.status,
        "priority": handoff.priority,
        "urgent": handoff.urgent,
        "reason": handoff.reason,
        "reason_label": handoffs.REASON_LABELS.get(handoff.reason, handoff.reason),
        "waiting_s": int(((now if handoff.status == handoffs.WAITING else end) - handoff.created_at).total_seconds()),
        "position": position,
        "created_at": china_time(handoff.created_at),
        "summary": handoff.summary,
        "agent": {"id": handoff.agent_id, "name": handoff.agent_name} if handoff.agent_id else None,
        "rating": handoff.rating,
        "callback_order": handoff.callback_order,
    }


class AgentConsoleInput(InputChannel):
    """The console's pages and API; never hands anything to the bot itself."""

    @classmethod
    def name(cls) -> str:
        """The channel's name."""
        return "agent_console"

    def url_prefix(self) -> str:
        """The console is at /agent."""
        return "/agent"

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The pages and the API (the instance's background work is ``console.startup``)."""
        console = Blueprint("hotline_agent_console", __name__)
        add_auth_routes(console)
        add_dashboard_routes(console)

        @console.route("", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            return await guarded_page(request, STATIC_DIR / "index.html", PAGE_HEADERS)

        @console.route("/login", methods=["GET"])
        async def login_page(_: Request) -> HTTPResponse:
            return await page_file(STATIC_DIR / "login.html", PAGE_HEADERS)

        add_static_route(console, STATIC_DIR)

        @console.route("/api/queue", methods=["GET"])
        async def queue(request: Request) -> HTTPResponse:
            agent = await authorised(request)
            if isinstance(agent, HTTPResponse):
                return agent
            desk, database = handoff_desk(), channel_runtime().database
            try:
                order = await desk.queue.waiting()
                waiting = {h.id: h for h in await handoffs.list_handoffs(database, (handoffs.WAITING,))}
                mine = await handoffs.list_handoffs(
                    database, (handoffs.ASSIGNED,), None if agent.role == "supervisor" else agent.id
                )
                phone = await handoffs.recent_phone_handoffs(database, clock.start_of_china_day(clock.today()))
                body = {
                    "waiting": [await handoff_json(desk, waiting[i]) for i in order if i in waiting],
                    "mine": [await handoff_json(desk, h) for h in mine],
                    "phone": [await handoff_json(desk, h) for h in phone],
                }
            except (DatabaseUnavailable, QueueUnavailable) as error:
                logger.error("console: queue not read: %s", type(error).__name__)
                return json_error(503, UNAVAILABLE)
            return _ok(body)

        @console.route("/api/events", methods=["GET"])
        async def events(request: Request) -> HTTPResponse | None:
            agent = await authorised(request)
            if isinstance(agent, HTTPResponse):
                return agent
            await _stream(request, handoff_desk(), agent)
            return None

        @console.route("/api/handoffs/<handoff_id:int>", methods=["GET"])
        async def read(request: Request, handoff_id: int) -> HTTPResponse:
            return await _read(request, handoff_id, reveal_reason=None)

        @console.route("/api/handoffs/<handoff_id:int>/reveal", methods=["POST"])
        async def reveal(request: Request, handoff_id: int) -> HTTPResponse:
            reason = _text(_body(request), "reason", 200, minimum=2)
            if reason is None:
                agent = await authorised(request, change=True)
                return (
                    agent
                    if isinstance(agent, HTTPResponse)
                    else json_error(400, "请填写查看完整信息的理由（至少2个字）")
                )
            return await _read(request, handoff_id, reveal_reason=reason)

        @console.route("/api/handoffs/<handoff_id:int>/take", methods=["POST"])
        async def take(request: Request, handoff_id: int) -> HTTPResponse:
            agent = await authorised(request, change=True)
            if isinstance(agent, HTTPResponse):
                return agent
            desk = handoff_desk()
            try:
                taken = await desk.take(handoff_id, _actor(agent))
                return _ok({"handoff": await handoff_json(desk, taken)})
            except HandoffNotFound:
                return json_error(404, "没有这个会话")
            except HandoffConflict as conflict:
                return json_error(409, str(conflict))
            except (DatabaseUnavailable, QueueUnavailable, SharedStateUnavailable) as error:
                logger.error("console: take failed: %s", type(error).__name__)
                return json_error(503, UNAVAILABLE)

        @console.route("/api/handoffs/<handoff_id:int>/messages", methods=["POST"])
        async def send(request: Request, handoff_id: int) -> HTTPResponse:
            return await _act(request, handoff_id, "messages")

        @console.route("/api/handoffs/<handoff_id:int>/close", methods=["POST"])
        async def close(request: Request, handoff_id: int) -> HTTPResponse:
            return await _act(request, handoff_id, "close")

        @console.route("/api/handoffs/<handoff_id:int>/transfer", methods=["POST"])
        async def transfer(request: Request, handoff_id: int) -> HTTPResponse:
            return await _act(request, handoff_id, "transfer")

        @console.route("/api/handoffs/<handoff_id:int>/notes", methods=["POST"])
        async def note(request: Request, handoff_id: int) -> HTTPResponse:
            return await _act(request, handoff_id, "notes")

        @console.route("/api/handoffs/<handoff_id:int>/work-order-draft", methods=["GET"])
        async def draft(request: Request, handoff_id: int) -> HTTPResponse:
            return await _act(request, handoff_id, "draft")

        @console.route("/api/handoffs/<handoff_id:int>/work-order", methods=["POST"])
        async def work_order(request: Request, handoff_id: int) -> HTTPResponse:
            return await _act(request, handoff_id, "work-order")

        @console.route("/api/agents", methods=["GET"])
        async def agents(request: Request) -> HTTPResponse:
            agent = await authorised(request)
            if isinstance(agent, HTTPResponse):
                return agent
            database = channel_runtime().database
            try:
                online = {a.id for a in await online_agents(database, clock.now())}
                busy = {h.agent_id for h in await handoffs.list_handoffs(database, (handoffs.ASSIGNED,))}
                listing = [a for a in await list_agents(database) if a.active]
            except DatabaseUnavailable:
                return json_error(503, UNAVAILABLE)
            return _ok(
                {
                    "agents": [
                        {
                            "id": a.agent.id,
                            "name": a.agent.name,
                            "role": a.agent.role,
                            "online": a.agent.id in online,
                            "busy": a.agent.id in busy,
                        }
                        for a in listing
                    ]
                }
            )

        @console.route("/api/phrases", methods=["GET", "POST"])
        async def phrases(request: Request) -> HTTPResponse:
            return await _phrases(request, None)

        @console.route("/api/phrases/<phrase_id:int>", methods=["PUT", "DELETE"])
        async def phrase(request: Request, phrase_id: int) -> HTTPResponse:
            return await _phrases(request, phrase_id)

        @console.route("/api/stats", methods=["GET"])
        async def stats(request: Request) -> HTTPResponse:
            agent = await authorised(request, roles=SUPERVISOR)
            if isinstance(agent, HTTPResponse):
                return agent
            try:
                return _ok(await supervisor_stats(handoff_desk()))
            except (DatabaseUnavailable, QueueUnavailable):
                return json_error(503, UNAVAILABLE)

        return console


async def supervisor_stats(desk: HandoffDesk) -> dict[str, Any]:
    """The numbers of the supervisor view."""
    database, now = desk.runtime.database, clock.now()
    waiting = await handoffs.list_handoffs(database, (handoffs.WAITING,))
    online = await online_agents(database, now)
    busy = {h.agent_id for h in await handoffs.list_handoffs(database, (handoffs.ASSIGNED,))}
    day = await handoffs.handoff_stats(database, now)
    bot_day = await bot_rating_counts(database, now - timedelta(days=1))
    return {
        "queue_length": len(waiting),
        "longest_wait_s": max((int((now - h.created_at).total_seconds()) for h in waiting), default=0),
        "agents_online": len(online),
        "agents_busy": len([a for a in online if a.id in busy]),
        "handoffs_per_hour": [
            {"hour": clock.in_china(hour).isoformat(timespec="minutes"), "count": n} for hour, n in day.per_hour
        ],
        "average_wait_s": None if day.average_wait_s is None else round(day.average_wait_s),
        "satisfaction": day.satisfaction,
        "rated": sum(day.satisfaction.values()),
        # Conversations the bot handled alone, rated at their goodbye (the last day), apart from the handoffs'.
        "bot_satisfaction": bot_day,
        "bot_rated": sum(bot_day.values()),
        "closed_today": day.closed_today,
    }


async def _readable(request: Request, handoff_id: int, change: bool) -> tuple[AgentView, HandoffView] | HTTPResponse:
    """The agent and the handoff, when the agent may see it: theirs, or any for a supervisor."""
    agent = await authorised(request, change=change)
    if isinstance(agent, HTTPResponse):
        return agent
    try:
        handoff = await handoffs.get_handoff(channel_runtime().database, handoff_id)
    except HandoffNotFound:
        return json_error(404, "没有这个会话")
    except DatabaseUnavailable:
        return json_error(503, UNAVAILABLE)
    if agent.role != "supervisor" and handoff.agent_id != agent.id and handoff.status != handoffs.PHONE:
        return json_error(403, "这个会话没有分配给您")
    return agent, handoff


async def _read(request: Request, handoff_id: int, reveal_reason: str | None) -> HTTPResponse:
    """A handoff with its transcript and notes; personal numbers shown only with a logged reason."""
    found = await _readable(request, handoff_id, change=reveal_reason is not None)
    if isinstance(found, HTTPResponse):
        return found
    agent, handoff = found
    desk, database = handoff_desk(), channel_runtime().database
    try:
        if reveal_reason is not None:
            await handoffs.record_audit(
                database, handoff.id, agent.id, "revealed", {"reason": reveal_reason}, clock.now()
            )
            logger.info("console: agent %d revealed the personal data of handoff %d", agent.id, handoff.id)
        transcript = await desk.conversations.transcript(handoff.conversation_id, reveal=reveal_reason is not None)
        notes = await handoffs.notes(database, handoff.id)
        body = {
            "handoff": await handoff_json(desk, handoff),
            "transcript": transcript,
            "notes": [_note_json(n) for n in notes],
            "revealed": reveal_reason is not None,
        }
    except (DatabaseUnavailable, QueueUnavailable):
        return json_error(503, UNAVAILABLE)
    return _ok(body)


def _note_json(note: handoffs.NoteView) -> dict[str, Any]:
    return {
        "id": note.id,
        "text": note.text,
        "at": china_time(note.created_at),
        "agent": note.agent_name,
    }


async def _act(request: Request, handoff_id: int, what: str) -> HTTPResponse:
    """Something an agent does with a handoff assigned to them."""
    found = await _readable(request, handoff_id, change=what != "draft")
    if isinstance(found, HTTPResponse):
        return found
    agent, handoff = found
    desk, database = handoff_desk(), channel_runtime().database
    body = _body(request) if what != "draft" else {}
    try:
        if what == "messages":
            text = _text(body, "text", MAX_MESSAGE_CHARS)
            if text is None:
                return json_error(400, f"回复内容应为1-{MAX_MESSAGE_CHARS}字")
            sent = await desk.send(handoff, _actor(agent), text)
            return _ok({"sent": sent, "queued": not sent}, 202)
        if what == "close":
            await desk.close(handoff, _actor(agent))
            return _ok({"closed": True})
        if what == "transfer":
            target = body.get("agent_id") if body else None
            online = {a.id: a for a in await online_agents(database, clock.now())}
            if not isinstance(target, int) or target not in online or target == agent.id:
                return json_error(400, "请选择一位在线的其他客服")
            await desk.transfer(handoff, _actor(agent), _actor(online[target]))
            return _ok({"transferred": True})
        if what == "notes":
            text = _text(body, "text", handoffs.MAX_NOTE_CHARS)
            if text is None:
                return json_error(400, f"备注应为1-{handoffs.MAX_NOTE_CHARS}字")
            note = await handoffs.add_note(database, handoff.id, agent.id, text, clock.now())
            await desk.signal(f"handoff:{handoff.id}")
            return _ok({"note": _note_json(note)}, 201)
        if what == "draft":
            return _ok(await _draft(desk, handoff))
        return await _file_order(request, desk, handoff, agent)
    except NotYours:
        return json_error(403, "这个会话没有分配给您")
    except HandoffConflict as conflict:
        return json_error(409, str(conflict))
    except DeliveryFailed as error:
        logger.error("console: handoff %d: message not delivered: %s", handoff.id, error)
        return json_error(502, "消息未能送达用户，请稍后重试")
    except (DatabaseUnavailable, QueueUnavailable, SharedStateUnavailable) as error:
        logger.error("console: %s on handoff %d failed: %s", what, handoff.id, type(error).__name__)
        return json_error(503, UNAVAILABLE)


async def _draft(desk: HandoffDesk, handoff: HandoffView) -> dict[str, Any]:
    """A work order's fields prefilled from the conversation."""
    transcript = await desk.conversations.transcript(handoff.conversation_id)
    said = [e["text"] for e in transcript if e["role"] == "citizen"]
    intent = str(handoff.summary.get("intent") or "")
    kind = next((t for t in ("投诉", "举报", "求助", "建议") if t in intent), "咨询")
    details = "\n".join(said[-5:])
    return {
        "type": kind,
        "title": (said[-1] if said else handoff.summary.get("line", ""))[:30],
        "details": details,
        "district": handoff.summary.get("district") or "",
        "address": "",
        "contact": VERIFIED_CONTACT if handoff.citizen_id else "",
    }


async def _file_order(request: Request, desk: HandoffDesk, handoff: HandoffView, agent: AgentView) -> HTTPResponse:
    """File the work order an agent filled in, with the conversation attached; routed like any other."""
    body = _body(request)
    kind = body.get("type") if body else None
    title = _text(body, "title", 100)
    details = _text(body, "details", 2000)
    if kind not in ORDER_TYPES or title is None or details is None:
        return json_error(400, "请选择类型，并填写标题（1-100字）和详情（1-2000字）")
    contact = _text(body, "contact", 40, minimum=0) or ""
    phone = None
    if contact and contact != VERIFIED_CONTACT:
        try:
            phone = parse_phone(contact)
        except InvalidPhone:
            return json_error(400, "联系方式应为11位手机号，或留空使用已验证的手机")
    order = NewOrder(
        type=str(kind),
        title=title,
        summary=f"{details}\n（客服{agent.name}根据对话{handoff.conversation_id}登记）",
        district=_text(body, "district", 20, minimum=0) or None,
        address=_text(body, "address", 200, minimum=0) or None,
        contact_phone=phone,
        source="agent",
        sender_id=handoff.conversation_id,
        channel=handoff.channel,
        citizen_id=handoff.citizen_id,
    )
    try:
        filed = await file_order(desk.runtime.database, order, clock.now())
    except InvalidOrder as error:
        return json_error(400, str(error))
    await handoffs.record_audit(
        desk.runtime.database, handoff.id, agent.id, "work_order", {"number": filed.number}, clock.now()
    )
    return _ok({"number": filed.number, "department": filed.department, "duplicate_of": filed.duplicate_of}, 201)


async def _phrases(request: Request, phrase_id: int | None) -> HTTPResponse:
    """List, add, change or delete canned phrases (an agent changes only their own)."""
    agent = await authorised(request, change=request.method != "GET")
    if isinstance(agent, HTTPResponse):
        return agent
    database = channel_runtime().database
    try:
        if request.method == "GET":
            listed = await handoffs.list_phrases(database, agent.id)
            return _ok({"phrases": [vars(p) for p in listed]})
        if request.method == "DELETE" and phrase_id is not None:
            await handoffs.delete_phrase(database, agent.id, phrase_id)
            return _ok({"deleted": True})
        body = _body(request)
        title, text = (body or {}).get("title"), (body or {}).get("text")
        if not isinstance(title, str) or not isinstance(text, str):
            return json_error(400, "请求体应是JSON对象：title、text")
        if phrase_id is None:
            added = await handoffs.add_phrase(database, agent.id, title, text, clock.now())
            return _ok({"phrase": vars(added)}, 201)
        changed = await handoffs.update_phrase(database, agent.id, phrase_id, title, text)
        return _ok({"phrase": vars(changed)})
    except PhraseNotFound:
        return json_error(404, "没有这条您自己的常用语")
    except ValueError as error:
        return json_error(400, str(error))
    except DatabaseUnavailable:
        return json_error(503, UNAVAILABLE)


async def _stream(request: Request, desk: HandoffDesk, agent: AgentView) -> None:
    """Console signals as server-sent events until the page goes or the session ends."""
    async with desk.hub.listen(CONSOLE) as listener:
        stream = await request.respond(
            content_type="text/event-stream; charset=utf-8",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        await stream.send("retry: 2000\n\n")
        while True:
            signal = await listener.next_signal(HEARTBEAT_S)
            if signal is None:
                try:
                    if await current_session(request) is None:  # logged out or expired; keeps the agent online
                        return
                except DatabaseUnavailable:
                    return
                await stream.send(": ping\n\n")
            elif signal.startswith("handoff:"):
                await stream.send(f"event: handoff\ndata: {json.dumps({'id': int(signal.split(':', 1)[1])})}\n\n")
            elif signal == "stats" and agent.role != "supervisor":
                continue
            else:
                await stream.send(f"event: {signal}\ndata: {{}}\n\n")
                if signal == "queue" and agent.role == "supervisor":
                    await stream.send("event: stats\ndata: {}\n\n")
