"""The web chat: the page at /chat and its API at /chat/api/…, answered live by server-sent events.

A session is made by the server and kept by the browser. The page posts each message with its
own ``client_id`` (a resend after a dropped connection is dropped here) and gets 202 at once;
the bot's turn runs in the background and its responses are appended to the session's log
(``channels.webchat.log``), from which the page's event stream replays what it has not shown yet.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.citizens.identity import identify, linked_citizen
from bot.core import clock
from bot.core.db import DatabaseUnavailable
from bot.core.metrics import rejected
from bot.core.personal_data import InvalidPhone, mask_phone
from bot.core.shared_state import SharedStateUnavailable
from channels.connector import (
    ChannelRuntime,
    Delivery,
    DeliveryFailed,
    Incoming,
    OnNewMessage,
    channel_runtime,
    offered_choices,
    recall_choices,
    remember_choices,
    run_turn,
    select_choice,
)
from channels.pages import PAGE_HEADERS, add_static_route, json_object, page_file
from channels.text import BUSY_REPLY, EMPTY_REPLY, MAX_MESSAGE_CHARS, TOO_LONG_REPLY, clean_text, too_long
from channels.turn_order import Place
from channels.twilio.api import TwilioSms
from channels.webchat.log import (
    MAX_ENTRIES_PER_READ,
    ChatEntry,
    ChatLog,
    UnknownSession,
    close_web_chat_log,
    is_session_id,
    publish_to_session,
    web_chat_log,
)
from channels.webchat.verify import PhoneVerification, VerificationRefused

logger = logging.getLogger(__name__)

CHANNEL = "webchat"
STATIC_DIR = Path(__file__).resolve().parent / "static"
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
# A request body larger than this is refused before it is read as JSON.
MAX_BODY_BYTES = 256 * 1024
# The longest button title the page may show in place of the payload it sends.
MAX_SHOWN_CHARS = 200
# A comment line on an idle event stream, so that proxies and the page know it is alive.
HEARTBEAT_S = 15.0
# How long a page waits before it reconnects a dropped event stream (milliseconds).
RECONNECT_MS = 2000
UNAVAILABLE_REPLY = "系统繁忙，请稍后再试，或拨打12345转人工服务。"
UNKNOWN_SESSION_REPLY = "会话不存在，请重新开始对话"
# The chat page may be cached briefly by the browser (it has no personal data); the console's may not.
_PAGE_HEADERS = {**PAGE_HEADERS, "Cache-Control": "no-cache"}


def sender_id(session_id: str) -> str:
    """Rasa's conversation id of a web chat session."""
    return f"web-{session_id}"


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def _refused(reason: str, status: int, message: str) -> HTTPResponse:
    """A refused message, counted (``bot.core.metrics``)."""
    rejected(CHANNEL, reason)
    return _error(status, message)


def _json_object(request: Request) -> dict[str, Any] | None:
    """The request body as a JSON object, or None when it is too large, not JSON or not an object."""
    return json_object(request, MAX_BODY_BYTES)


def _session_and(request: Request, name: str) -> tuple[str, str] | None:
    """The session id and the text field ``name`` of a JSON body; None when either is missing or malformed."""
    body = _json_object(request)
    if body is None or not is_session_id(body.get("session")) or not isinstance(body.get(name), str):
        return None
    return str(body["session"]), str(body[name])


def sse_event(kind: str, data: dict[str, Any], event_id: int | None = None) -> str:
    """One server-sent event."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def bot_entry_payload(message: dict[str, Any]) -> dict[str, Any] | None:
    """What the page shows of one of the bot's responses: its text and buttons (None when neither)."""
    payload: dict[str, Any] = {}
    if message.get("text"):
        payload["text"] = str(message["text"])
    buttons = [
        {"title": str(b.get("title") or b.get("payload")), "payload": str(b.get("payload"))}
        for b in message.get("buttons") or []
        if b.get("payload")
    ]
    if buttons:
        payload["buttons"] = buttons
    return payload or None


class WebChatOutbound:
    """Writing to a web chat session later: the entry is logged and pushed to the open page."""

    prefix = "web-"
    holds_chat = True
    position_updates = True

    async def send(self, delivery: Delivery) -> None:
        """Log each message in the session; the page shows system events ("人工客服 XX 已接入") as notices."""
        session_id = delivery.conversation_id.removeprefix(self.prefix)
        for message in delivery.messages:
            payload = bot_entry_payload(message) or {}
            event = (message.get("custom") or {}).get("event")
            if delivery.role == "system" and event:
                payload["event"] = str(event)
            if not payload:
                continue
            if delivery.agent_name:
                payload["agent"] = delivery.agent_name
            try:
                await publish_to_session(session_id, delivery.role, payload)
            except (UnknownSession, DatabaseUnavailable) as error:
                raise DeliveryFailed(f"web chat: {type(error).__name__}") from error

    async def thread(self, conversation_id: str, citizen_id: int | None) -> tuple[str, str]:
        """The session itself."""
        return CHANNEL, conversation_id


def _parse_after(raw: object) -> int | None:
    if raw is None or raw == "":
        return 0
    if isinstance(raw, str) and raw.isdigit() and len(raw) <= 12:
        return int(raw)
    return None


class WebChatInput(InputChannel):
    """The web chat page and its API; identity comes only from the session and its SMS check."""

    @classmethod
    def name(cls) -> str:
        """The channel's name, as the actions see it in the metadata."""
        return CHANNEL

    def url_prefix(self) -> str:
        """The page is at /chat, not under /webhooks/."""
        return "/chat"

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The page, its files and its API."""
        chat = Blueprint("hotline_webchat", __name__)

        @chat.listener("before_server_stop")
        async def release(*_: Any) -> None:
            await close_web_chat_log()

        @chat.route("", methods=["GET"])
        async def page(_: Request) -> HTTPResponse:
            return await page_file(STATIC_DIR / "index.html", _PAGE_HEADERS)

        add_static_route(chat, STATIC_DIR)

        @chat.route("/api/sessions", methods=["POST"])
        async def start_session(_: Request) -> HTTPResponse:
            try:
                session_id = await web_chat_log().start_session()
            except DatabaseUnavailable:
                logger.error("web chat: cannot start a session, the database is unavailable")
                return _error(503, UNAVAILABLE_REPLY)
            return response.json({"session": session_id}, status=201)

        @chat.route("/api/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            session_id = request.args.get("session")
            after = _parse_after(request.args.get("after"))
            if not is_session_id(session_id) or after is None:
                return _error(400, "session应为32位十六进制会话号，after应为非负整数")
            try:
                log = web_chat_log()
                if not await log.exists(session_id):
                    return _error(404, UNKNOWN_SESSION_REPLY)
                entries = await log.entries_after(session_id, after)
            except DatabaseUnavailable:
                return _error(503, UNAVAILABLE_REPLY)
            return response.json({"entries": [entry.as_json() for entry in entries]})

        @chat.route("/api/events", methods=["GET"])
        async def events(request: Request) -> HTTPResponse | None:
            session_id = request.args.get("session")
            after = _parse_after(request.args.get("after"))
            resumed = _parse_after(request.headers.get("last-event-id"))
            if not is_session_id(session_id) or after is None or resumed is None:
                return _error(400, "session应为32位十六进制会话号，after应为非负整数")
            log = web_chat_log()
            try:
                if not await log.exists(session_id):
                    return _error(404, UNKNOWN_SESSION_REPLY)
            except DatabaseUnavailable:
                return _error(503, UNAVAILABLE_REPLY)
            await _stream(request, log, session_id, max(after, resumed))
            return None

        @chat.route("/api/messages", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = _json_object(request)
            if body is None:
                return _refused("bad_json", 400, "请求体应是JSON对象：session、text、client_id")
            session_id, raw, client_id, shown = (body.get(k) for k in ("session", "text", "client_id", "shown"))
            if not is_session_id(session_id):
                return _refused("bad_request", 400, "session应为32位十六进制会话号")
            if not isinstance(raw, str):
                return _refused("bad_request", 400, "text应为字符串")
            if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
                return _refused("bad_request", 400, "client_id应为8-64位字母、数字、_或-")
            if shown is not None and (not isinstance(shown, str) or len(shown) > MAX_SHOWN_CHARS):
                return _refused("bad_request", 400, f"shown应为不超过{MAX_SHOWN_CHARS}字的字符串")
            runtime = channel_runtime()
            log = web_chat_log()
            dedup_key = f"webchat:sent:{session_id}:{client_id}"
            try:
                if not await log.exists(session_id):
                    return _refused("unknown_session", 404, UNKNOWN_SESSION_REPLY)
                if not await runtime.state.add_if_new(dedup_key, runtime.settings.dedup_window_s):
                    rejected(CHANNEL, "duplicate")
                    return response.json({"duplicate": True}, status=200)
            except (DatabaseUnavailable, SharedStateUnavailable) as error:
                logger.error("web chat %s: message not taken: %s", session_id[:8], type(error).__name__)
                return _error(503, UNAVAILABLE_REPLY)
            try:
                seq = await _take_message(runtime, log, on_new_message, session_id, raw, client_id, shown)
            except UnknownSession:  # deleted by the retention job after days without a word
                await _forget(runtime, dedup_key)
                return _error(404, UNKNOWN_SESSION_REPLY)
            except DatabaseUnavailable:
                await _forget(runtime, dedup_key)
                logger.error("web chat %s: message not stored, the database is unavailable", session_id[:8])
                return _error(503, UNAVAILABLE_REPLY)
            return response.json({"accepted": True, "seq": seq}, status=202)

        @chat.route("/api/verify/start", methods=["POST"])
        async def verify_start(request: Request) -> HTTPResponse:
            fields = _session_and(request, "phone")
            if fields is None:
                return _error(400, "请求体应是JSON对象：session、phone")
            session_id, phone = fields
            runtime = channel_runtime()
            try:
                if not await web_chat_log().exists(session_id):
                    return _error(404, UNKNOWN_SESSION_REPLY)
                masked = await _verification(runtime).start(session_id, phone)
            except InvalidPhone as error:
                return _error(400, f"{error}，请检查后重新输入。")
            except VerificationRefused as error:
                return _error(error.status, error.message)
            except (DatabaseUnavailable, SharedStateUnavailable) as error:
                logger.error("web chat %s: verification not started: %s", session_id[:8], type(error).__name__)
                return _error(503, UNAVAILABLE_REPLY)
            return response.json({"sent": True, "phone": masked})

        @chat.route("/api/verify/check", methods=["POST"])
        async def verify_check(request: Request) -> HTTPResponse:
            fields = _session_and(request, "code")
            if fields is None:
                return _error(400, "请求体应是JSON对象：session、code")
            session_id, code = fields
            runtime = channel_runtime()
            log = web_chat_log()
            try:
                if not await log.exists(session_id):
                    return _error(404, UNKNOWN_SESSION_REPLY)
                phone = await _verification(runtime).check(session_id, code)
                key = str(runtime.settings.pii_hash_key)
                citizen = await identify(runtime.database, phone, key, clock.now(), CHANNEL, session_id)
                await log.append(session_id, "system", {"event": "verified", "phone": citizen.masked_phone})
            except VerificationRefused as error:
                return _error(error.status, error.message)
            except (DatabaseUnavailable, SharedStateUnavailable) as error:
                logger.error("web chat %s: verification not checked: %s", session_id[:8], type(error).__name__)
                return _error(503, UNAVAILABLE_REPLY)
            logger.info("web chat %s: verified as citizen %d (%s)", session_id[:8], citizen.id, mask_phone(phone))
            return response.json({"verified": True, "phone": citizen.masked_phone})

        return chat


def _verification(runtime: ChannelRuntime) -> PhoneVerification:
    return PhoneVerification(
        runtime.state, TwilioSms.from_settings(runtime.settings), str(runtime.settings.pii_hash_key)
    )


async def _forget(runtime: ChannelRuntime, key: str) -> None:
    """Let a resend through again after the message could not be stored."""
    try:
        await runtime.state.delete(key)
    except SharedStateUnavailable:
        logger.warning("web chat: could not forget a message id after a failure")


async def _take_message(
    runtime: ChannelRuntime,
    log: ChatLog,
    on_new_message: OnNewMessage,
    session_id: str,
    raw: str,
    client_id: str,
    shown: str | None,
) -> int | None:
    """Store the citizen's message and start the bot's turn; the seq of the stored message.

    Empty and overlong messages are answered at once, without a turn.
    """
    sender = sender_id(session_id)
    try:
        choice = select_choice(raw, await recall_choices(runtime.state, sender))
    except SharedStateUnavailable:
        choice = None
    typed = clean_text(raw)
    # A button's payload is handed on as it is only when it is one the bot offered this session;
    # the citizen sees what they typed ("2"), or the title of the button they pressed.
    text = choice.payload if choice else typed
    display = (clean_text(shown) if shown and choice else "") or typed or text
    if not text:
        await log.append(session_id, "bot", {"text": EMPTY_REPLY})
        return None
    if too_long(text):
        entry = await log.append(
            session_id, "citizen", {"text": text[:MAX_MESSAGE_CHARS] + "…", "client_id": client_id}
        )
        await log.append(session_id, "bot", {"text": TOO_LONG_REPLY})
        return entry.seq
    # Stored and put in line together, one message of the session at a time: the turns follow the
    # order of the seqs the page shows.
    async with runtime.line.join(f"arrival:{sender}"):
        entry = await log.append(session_id, "citizen", {"text": display, "client_id": client_id})
        place = runtime.line.join(sender)
    runtime.spawn(_answer(runtime, log, on_new_message, session_id, text, place), f"webchat-turn-{session_id[:8]}")
    logger.info("web chat %s: message %d taken", session_id[:8], entry.seq)
    return entry.seq


async def _answer(
    runtime: ChannelRuntime, log: ChatLog, on_new_message: OnNewMessage, session_id: str, text: str, place: Place
) -> None:
    """One bot turn in the background, after the session's earlier messages: typing shown, the turn run,
    its responses appended to the log."""
    sender = sender_id(session_id)
    async with place:
        await log.signal(session_id, "typing")
        try:
            entries = await _turn(runtime, log, on_new_message, session_id, sender, text, place)
        except (DatabaseUnavailable, SharedStateUnavailable) as error:
            logger.error("web chat %s: turn failed: %s", session_id[:8], type(error).__name__)
            try:
                await log.append(session_id, "bot", {"text": BUSY_REPLY})
            except DatabaseUnavailable:
                logger.error("web chat %s: could not even store the busy reply", session_id[:8])
        else:
            logger.info("web chat %s: %d response(s) delivered", session_id[:8], len(entries))
        finally:
            await log.signal(session_id, "idle")


async def _turn(
    runtime: ChannelRuntime,
    log: ChatLog,
    on_new_message: OnNewMessage,
    session_id: str,
    sender: str,
    text: str,
    place: Place,
) -> list[ChatEntry]:
    citizen = await linked_citizen(runtime.database, CHANNEL, session_id)
    messages = await run_turn(on_new_message, Incoming(sender, text, CHANNEL, citizen), place)
    await remember_choices(runtime.state, sender, offered_choices(messages))
    payloads = [payload for payload in map(bot_entry_payload, messages) if payload is not None]
    return await log.append_all(session_id, "bot", payloads) if payloads else []


async def _stream(request: Request, log: ChatLog, session_id: str, after: int) -> None:
    """Send the session's entries after ``after``, then each new one as it comes, until the page goes."""
    async with log.hub.listen(session_id) as listener:  # listening before reading: nothing falls in between
        stream = await request.respond(
            content_type="text/event-stream; charset=utf-8",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        await stream.send(f"retry: {RECONNECT_MS}\n\n")
        while True:
            try:
                entries = await log.entries_after(session_id, after)
            except DatabaseUnavailable:
                logger.warning("web chat %s: event stream ended, the database is unavailable", session_id[:8])
                return  # Sanic ends the response; the page reconnects
            for entry in entries:
                await stream.send(sse_event("entry", entry.as_json(), entry.seq))
                after = entry.seq
            if len(entries) == MAX_ENTRIES_PER_READ:
                continue  # more to catch up on
            # The log is read again on news of entries, and at each heartbeat in case a signal was lost;
            # typing and idle carry no entries.
            signal = await listener.next_signal(HEARTBEAT_S)
            while signal in ("typing", "idle"):
                await stream.send(sse_event("typing", {"on": signal == "typing"}))
                signal = await listener.next_signal(HEARTBEAT_S)
            if signal is None:
                await stream.send(": heartbeat\n\n")
