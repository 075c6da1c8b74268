"""End to end: the web chat page in a real browser and its API, against the real servers.

The servers share Redis (database 15) with this process, so that an entry published here (an
agent joining) reaches the page through the same pub/sub path as one from another server instance.
Verification codes go to a local stand-in of Twilio's Messages API.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import secrets
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from bot.core.db import Database
from bot.core.encryption import decrypt
from bot.core.settings import get_settings
from channels.text import EMPTY_REPLY, TOO_LONG_REPLY
from channels.webchat.live import RedisHub
from channels.webchat.log import ChatEntry, ChatLog, publish_to_session
from tests.http_clients import json_call
from tests.servers import Servers, running_servers
from tests.standins import Recorded, StandIn, running_standin

REDIS_URL = "redis://127.0.0.1:6379/15"
ACCOUNT = "AC" + "7" * 32
GREETING = "您好，这里是12345政务服务便民热线智能助手"
Entry = dict[str, Any]


@dataclass(frozen=True)
class Hotline:
    """The running servers and the Twilio stand-in they send SMS to."""

    servers: Servers
    twilio: StandIn
    tracker_store_url: str

    @property
    def url(self) -> str:
        return self.servers.rasa_url

    @property
    def database_path(self) -> str:
        return self.servers.env["DATABASE_URL"].removeprefix("sqlite:///")

    @property
    def trackers_path(self) -> str:
        return self.tracker_store_url.removeprefix("sqlite:///")


def _twilio_accepts(_: Recorded) -> tuple[int, Any]:
    return 201, {"sid": "SM" + secrets.token_hex(16)}


@pytest.fixture(scope="module")
def hotline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hotline]:
    """Both servers on a fresh database, with Redis and a Twilio stand-in."""
    with running_standin(_twilio_accepts) as twilio:
        env = {
            "REDIS_URL": REDIS_URL,
            "TWILIO_API_BASE_URL": twilio.url,
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": "stand-in-token",
            "TWILIO_NUMBER": "+8612345000000",
        }
        # DEBUG makes the servers log every message: the masking must hold for the verified phone too.
        with running_servers(Path(tmp_path_factory.mktemp("webchat")), log_level="DEBUG", extra_env=env) as servers:
            yield Hotline(servers, twilio, get_settings().tracker_store_url)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile on a phone-sized screen."""
    profile = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    yield profile
    profile.close()


# --- helpers --------------------------------------------------------------------------------


def call(hotline: Hotline, method: str, path: str, body: object = None, raw: bytes | None = None) -> tuple[int, Any]:
    """One API request; status and decoded JSON."""
    return json_call(hotline.url + path, method, body, raw)


def new_session(hotline: Hotline) -> str:
    status, body = call(hotline, "POST", "/chat/api/sessions", {})
    assert status == 201
    return str(body["session"])


def send(hotline: Hotline, session: str, text: str, client_id: str | None = None) -> tuple[int, Any]:
    body = {"session": session, "text": text, "client_id": client_id or secrets.token_hex(8)}
    return call(hotline, "POST", "/chat/api/messages", body)


def history(hotline: Hotline, session: str) -> list[Entry]:
    """Every entry of the session after the one that started it."""
    status, body = call(hotline, "GET", f"/chat/api/history?session={session}&after=0")
    assert status == 200
    return list(body["entries"])


class EventStream:
    """A session's event stream, read as the page reads it."""

    def __init__(self, hotline: Hotline, session: str, after: int, timeout_s: float) -> None:
        address = urlsplit(hotline.url)
        self.timeout_s = timeout_s
        self._connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=timeout_s)
        self._connection.request("GET", f"/chat/api/events?session={session}&after={after}")
        self._response = self._connection.getresponse()
        assert self._response.status == 200
        assert self._response.getheader("Content-Type", "").startswith("text/event-stream")
        assert self._response.readline() == b"retry: 2000\n"  # sent once the server listens for news

    def events_until(self, found: Callable[[str, Entry], bool]) -> list[tuple[str, Entry]]:
        """The events (kind, data) up to the first that ``found`` accepts; heartbeats are skipped."""
        deadline = time.monotonic() + self.timeout_s
        seen: list[tuple[str, Entry]] = []
        kind, data = "", ""
        while time.monotonic() < deadline:
            line = self._response.readline().decode()
            if line.startswith("event: "):
                kind = line.removeprefix("event: ").rstrip("\n")
            elif line.startswith("data: "):
                data = line.removeprefix("data: ")
            elif line == "\n" and kind:
                seen.append((kind, json.loads(data)))
                if found(*seen[-1]):
                    return seen
                kind, data = "", ""
        raise AssertionError(f"no matching event within {self.timeout_s}s; saw {seen}")

    def close(self) -> None:
        self._connection.close()


@contextmanager
def event_stream(hotline: Hotline, session: str, after: int = 0, timeout_s: float = 60) -> Iterator[EventStream]:
    stream = EventStream(hotline, session, after, timeout_s)
    try:
        yield stream
    finally:
        stream.close()


def wait_for_entry(hotline: Hotline, session: str, found: Callable[[Entry], bool], after: int = 0) -> list[Entry]:
    """The session's entries after ``after`` up to the first that ``found`` accepts, from its event stream."""
    with event_stream(hotline, session, after) as stream:
        events = stream.events_until(lambda kind, data: kind == "entry" and found(data))
    return [data for kind, data in events if kind == "entry"]


def turn(
    hotline: Hotline, session: str, text: str, client_id: str | None = None
) -> tuple[tuple[int, Any], list[Entry]]:
    """Send ``text`` and follow the session's events until the bot's turn is over (typing off).

    The answer to the send, and the bot's entries of the turn (all of them: the turn is done).
    """
    last = max((entry["seq"] for entry in history(hotline, session)), default=0)
    with event_stream(hotline, session, after=last) as stream:  # listening before the send: nothing is missed
        sent = send(hotline, session, text, client_id)
        assert sent[0] == 202, sent
        events = stream.events_until(lambda kind, data: kind == "typing" and not data["on"])
    return sent, [data for kind, data in events if kind == "entry" and data["role"] == "bot"]


def is_role(role: str) -> Callable[[Entry], bool]:
    return lambda entry: entry["role"] == role


def bot_texts(entries: list[Entry]) -> str:
    return "\n".join(str(e["payload"].get("text", "")) for e in entries if e["role"] == "bot")


def user_events(hotline: Hotline, session: str) -> list[dict[str, Any]]:
    """What Rasa's tracker store holds of the citizen's messages in this session."""
    with sqlite3.connect(hotline.trackers_path) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (f"web-{session}",)
        ).fetchall()
    return [json.loads(row[0]) for row in rows]


def run_async(work: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to its end on a thread of its own (Playwright's sync API owns this thread's loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result(timeout=30)


async def publish_from_elsewhere(hotline: Hotline, session: str, role: str, payload: dict[str, Any]) -> ChatEntry:
    """What another server instance (an agent's console) does: append to the log, signal through Redis."""
    database = Database(hotline.servers.env["DATABASE_URL"])
    chat = ChatLog(database, RedisHub(REDIS_URL, 5.0))
    try:
        return await publish_to_session(session, role, payload, chat=chat)
    finally:
        await chat.close()
        await database.close()


def open_chat(context: BrowserContext, hotline: Hotline) -> Page:
    page = context.new_page()
    page.goto(f"{hotline.url}/chat")
    expect(page.locator("body")).to_have_attribute("data-connection", "open")
    return page


def session_of(page: Page) -> str:
    return str(page.evaluate("localStorage.getItem('hotline12345.webchat.session')"))


def bubbles(page: Page) -> list[str]:
    return page.locator("#messages .bubble").all_inner_texts()


def random_mobile() -> str:
    return f"139{secrets.randbelow(10**8):08d}"


def sent_code(hotline: Hotline, phone: str) -> str:
    sms = hotline.twilio.wait_for(lambda r: r.form.get("To") == f"+86{phone}")
    match = re.search(r"(?<!\d)\d{6}(?!\d)", sms.form["Body"])
    assert match is not None, sms.form["Body"]
    return match.group()


# --- in the browser -------------------------------------------------------------------------


def test_a_conversation_in_the_browser_survives_a_reload(hotline: Hotline, context: BrowserContext) -> None:
    page = open_chat(context, hotline)
    page.get_by_label("输入您的问题").fill("办护照要带什么")
    page.get_by_role("button", name="发送").click()
    # The first turn of a fresh server loads the NLU's words: on a loaded machine it takes longer than 5 s.
    expect(page.locator(".message.bot", has_text="您属于哪种情况")).to_be_visible(timeout=30_000)
    # The usual case's list came with the question; the case picked gets its own list.
    page.get_by_role("button", name="2. 换发").click()
    materials = page.locator(".message.bot", has_text="需要准备以下").filter(has_text="【普通护照签发（换发）】")
    expect(materials).to_contain_text("原普通护照")
    page.get_by_role("button", name="1. 在哪里办理").click()
    offices = page.locator(".message.bot", has_text="】办理地点：")
    expect(offices).to_contain_text("广州市越秀区解放南路155号")
    expect(page.locator("#typing")).to_be_hidden()
    citizen = page.locator(".message.citizen .bubble")
    expect(citizen).to_have_text(["办护照要带什么", "换发", "在哪里办理"])
    # line breaks of the materials list are kept
    first_line, second_line = materials.locator(".bubble").inner_text().split("\n")[:2]
    assert first_line == "【普通护照签发（换发）】" and second_line.startswith("需要准备以下")
    expect(page.get_by_role("button", name="1. 需要带什么材料")).to_be_visible()  # the turn's last message is in
    shown = bubbles(page)
    session = session_of(page)
    page.screenshot(path=str(hotline.servers.workdir / "webchat-before-reload.png"), full_page=True)

    page.reload()
    expect(page.locator("body")).to_have_attribute("data-connection", "open")
    expect(page.locator("#messages .bubble")).to_have_count(len(shown))
    assert bubbles(page) == shown
    assert session_of(page) == session
    expect(page.get_by_role("button", name="1. 需要带什么材料")).to_be_visible()


def test_what_arrives_while_the_page_is_closed_is_shown_on_return(hotline: Hotline, context: BrowserContext) -> None:
    page = open_chat(context, hotline)
    session = session_of(page)
    page.close()
    status, accepted = send(hotline, session, "社保卡掉了怎么补")
    assert status == 202
    reply = wait_for_entry(hotline, session, is_role("bot"), after=accepted["seq"])[-1]
    answer = str(reply["payload"]["text"]).split("\n")[0]
    agent = run_async(publish_from_elsewhere(hotline, session, "agent", {"text": "稍后我再联系您。", "agent": "李明"}))
    assert agent.seq > reply["seq"]

    page = open_chat(context, hotline)
    expect(page.locator(".message.citizen .bubble")).to_have_text(["社保卡掉了怎么补"])
    expect(page.locator(".message.bot").first).to_contain_text(answer)
    expect(page.locator(".message.agent")).to_contain_text("人工客服 李明")
    expect(page.locator(".message.agent .bubble")).to_have_text("稍后我再联系您。")


def test_an_agent_joining_is_pushed_to_the_open_page(hotline: Hotline, context: BrowserContext) -> None:
    page = open_chat(context, hotline)
    session = session_of(page)
    page.evaluate("window.stillTheSamePage = true")
    run_async(publish_from_elsewhere(hotline, session, "system", {"event": "agent_joined", "agent": "王丽"}))
    expect(page.get_by_text("人工客服 王丽 已接入")).to_be_visible(timeout=10_000)
    run_async(publish_from_elsewhere(hotline, session, "agent", {"text": "您好，我是王丽。\n请讲。", "agent": "王丽"}))
    expect(page.locator(".message.agent .bubble")).to_have_text("您好，我是王丽。\n请讲。", timeout=10_000)
    assert page.evaluate("window.stillTheSamePage") is True  # no reload happened


def test_a_message_sent_while_offline_is_delivered_once_when_back(hotline: Hotline, context: BrowserContext) -> None:
    page = open_chat(context, hotline)
    session = session_of(page)
    context.set_offline(True)
    page.get_by_label("输入您的问题").fill("社保卡掉了怎么补")
    page.get_by_label("输入您的问题").press("Enter")
    expect(page.locator(".message.citizen.retrying")).to_contain_text("发送失败，正在重试")
    expect(page.get_by_text("连接中断，正在重连…")).to_be_visible()
    context.set_offline(False)
    expect(page.get_by_text("连接中断，正在重连…")).to_be_hidden(timeout=30_000)
    expect(page.locator(".message.bot").first).to_be_visible(timeout=30_000)
    # The page has settled its message (the log holds it): it sends nothing more.
    expect(page.locator(".message.citizen.sending, .message.citizen.retrying")).to_have_count(0)
    expect(page.locator(".message.citizen .bubble")).to_have_text(["社保卡掉了怎么补"])
    assert [e["payload"]["text"] for e in history(hotline, session) if e["role"] == "citizen"] == ["社保卡掉了怎么补"]


def test_the_page_verifies_a_phone_by_sms_code(hotline: Hotline, context: BrowserContext) -> None:
    page = open_chat(context, hotline)
    phone = random_mobile()
    page.get_by_role("button", name="验证手机号").click()
    page.get_by_role("textbox", name="手机号", exact=True).fill("12345")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#verify-status")).to_have_text("手机号应为以1开头的11位数字，请检查后重新输入。")
    page.get_by_role("textbox", name="手机号", exact=True).fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#verify-status")).to_contain_text(f"验证码已发送至 {phone[:3]}****{phone[-4:]}")
    page.get_by_role("textbox", name="验证码", exact=True).fill(sent_code(hotline, phone))
    page.get_by_role("button", name="验证", exact=True).click()
    expect(page.locator("#verify-status")).to_contain_text("验证成功")
    expect(page.locator(".notice", has_text=f"手机号 {phone[:3]}****{phone[-4:]} 已验证")).to_be_visible()
    expect(page.get_by_role("button", name=f"已验证 {phone[:3]}****{phone[-4:]}")).to_be_visible()
    page.screenshot(path=str(hotline.servers.workdir / "webchat-verified.png"))


def test_a_session_the_server_does_not_know_is_replaced(hotline: Hotline, context: BrowserContext) -> None:
    page = open_chat(context, hotline)
    forgotten = secrets.token_hex(16)
    page.evaluate(f"localStorage.setItem('hotline12345.webchat.session', '{forgotten}')")
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-connection", "open", timeout=15_000)
    assert session_of(page) != forgotten
    page.get_by_label("输入您的问题").fill("你好")
    page.get_by_label("输入您的问题").press("Enter")
    expect(page.locator(".message.bot")).to_contain_text(GREETING)


def test_large_text_is_larger_and_remembered(hotline: Hotline, context: BrowserContext) -> None:
    page = open_chat(context, hotline)
    size = "getComputedStyle(document.querySelector('.intro')).fontSize"
    assert page.evaluate(size) == "18px"
    page.get_by_role("button", name="大字").click()
    expect(page.get_by_role("button", name="大字")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate(size) == "23px"
    page.reload()
    expect(page.get_by_role("button", name="大字")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate(size) == "23px"


# --- over HTTP ------------------------------------------------------------------------------


def test_the_page_and_its_files_are_served_by_the_project(hotline: Hotline) -> None:
    with urllib.request.urlopen(f"{hotline.url}/chat", timeout=10) as response:
        page = response.read().decode()
        assert response.headers["Content-Type"].startswith("text/html")
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert '<html lang="zh-CN">' in page and "/chat/static/app.js" in page
    for name in ("app.js", "style.css"):
        with urllib.request.urlopen(f"{hotline.url}/chat/static/{name}", timeout=10) as response:
            assert response.status == 200
    status, _ = call(hotline, "GET", "/chat/static/missing.js")
    assert status == 404


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[]",
        json.dumps({"text": "你好", "client_id": "abcdefgh"}).encode(),
        json.dumps({"session": "not-a-session", "text": "你好", "client_id": "abcdefgh"}).encode(),
        json.dumps({"session": "SESSION", "text": 5, "client_id": "abcdefgh"}).encode(),
        json.dumps({"session": "SESSION", "text": "你好"}).encode(),
        json.dumps({"session": "SESSION", "text": "你好", "client_id": "a b"}).encode(),
        json.dumps({"session": "SESSION", "text": "你好", "client_id": "abcdefgh", "shown": ["x"]}).encode(),
    ],
)
def test_malformed_messages_are_refused_and_nothing_is_stored(hotline: Hotline, raw: bytes) -> None:
    session = new_session(hotline)
    status, body = call(hotline, "POST", "/chat/api/messages", raw=raw.replace(b"SESSION", session.encode()))
    assert status == 400
    assert body["error"]
    assert history(hotline, session) == []


@pytest.mark.parametrize("path", ["/chat/api/verify/start", "/chat/api/verify/check"])
def test_malformed_verification_requests_are_refused(hotline: Hotline, path: str) -> None:
    assert call(hotline, "POST", path, raw=b"{broken")[0] == 400
    assert call(hotline, "POST", path, {"session": new_session(hotline)})[0] == 400


def test_unknown_sessions_are_not_found(hotline: Hotline) -> None:
    stranger = secrets.token_hex(16)
    assert send(hotline, stranger, "你好")[0] == 404
    assert call(hotline, "GET", f"/chat/api/history?session={stranger}")[0] == 404
    assert call(hotline, "GET", f"/chat/api/events?session={stranger}")[0] == 404
    assert call(hotline, "POST", "/chat/api/verify/start", {"session": stranger, "phone": random_mobile()})[0] == 404
    assert call(hotline, "GET", "/chat/api/events?session=../../etc")[0] == 400
    assert call(hotline, "GET", f"/chat/api/history?session={stranger}&after=-1")[0] == 400


def test_empty_and_overlong_messages_get_polite_replies_without_a_turn(hotline: Hotline) -> None:
    session = new_session(hotline)
    status, accepted = send(hotline, session, "  \n ")
    assert (status, accepted["seq"]) == (202, None)
    status, accepted = send(hotline, session, "长" * 2001)
    assert status == 202
    entries = history(hotline, session)
    assert [(e["role"], e["payload"].get("text", "")[:3]) for e in entries] == [
        ("bot", EMPTY_REPLY[:3]),
        ("citizen", "长长长"),
        ("bot", TOO_LONG_REPLY[:3]),
    ]
    assert entries[0]["payload"]["text"] == EMPTY_REPLY and entries[2]["payload"]["text"] == TOO_LONG_REPLY
    assert entries[1]["seq"] == accepted["seq"]
    turn(hotline, session, "你好")  # a later turn, answered: the bot has had every earlier message it would get
    assert [event["text"] for event in user_events(hotline, session)] == ["你好"]  # neither reached the bot


def test_a_leading_slash_is_text_not_an_intent(hotline: Hotline) -> None:
    session = new_session(hotline)
    _, answer = turn(hotline, session, "/greet")  # the whole answer, not only its first message
    assert GREETING not in bot_texts(answer)
    [event] = user_events(hotline, session)
    assert event["text"] == "／greet"
    assert event["parse_data"]["intent"]["name"] != "greet"


def test_a_typed_number_picks_an_offered_choice(hotline: Hotline) -> None:
    session = new_session(hotline)
    _, asked = turn(hotline, session, "办护照要带什么")
    offered = next(entry for entry in asked if entry["payload"].get("buttons"))
    assert [b["payload"] for b in offered["payload"]["buttons"]] == ["首次申领", "换发", "补发"]
    (_, accepted), answer = turn(hotline, session, "2")
    assert "【普通护照签发（换发）】" in bot_texts(answer)
    [typed] = [e for e in history(hotline, session) if e["seq"] == accepted["seq"]]
    assert typed["payload"]["text"] == "2"  # the citizen sees what they typed
    assert user_events(hotline, session)[-1]["text"] == "换发"


def test_the_stream_says_when_the_bot_is_typing(hotline: Hotline) -> None:
    session = new_session(hotline)
    with event_stream(hotline, session) as stream:
        status, accepted = send(hotline, session, "办护照要带什么")
        assert status == 202
        events = stream.events_until(lambda kind, data: kind == "typing" and not data["on"])
    seen = [(kind, data["role"] if kind == "entry" else data["on"]) for kind, data in events]
    assert seen[:2] == [("entry", "citizen"), ("typing", True)]
    assert seen[-1] == ("typing", False)
    assert ("entry", "bot") in seen[2:-1]
    assert events[0][1]["seq"] == accepted["seq"]


def test_a_resent_message_is_answered_once(hotline: Hotline) -> None:
    session = new_session(hotline)
    with event_stream(hotline, session) as stream:
        first = send(hotline, session, "你好", client_id="resend-0001")
        again = send(hotline, session, "你好", client_id="resend-0001")
        assert first[0] == 202 and again == (200, {"duplicate": True})
        stream.events_until(lambda kind, data: kind == "typing" and not data["on"])  # its turn is over
    assert send(hotline, session, "你好", client_id="resend-0001") == (200, {"duplicate": True})
    # A later message answered: a second turn for the resent one would have reached the bot before it.
    turn(hotline, session, "谢谢", client_id="later-0001")
    assert [e["payload"].get("client_id") for e in history(hotline, session) if e["role"] == "citizen"] == [
        "resend-0001",
        "later-0001",
    ]
    assert [event["text"] for event in user_events(hotline, session)] == ["你好", "谢谢"]


def test_a_session_verified_by_sms_code_is_linked_to_the_citizen(hotline: Hotline) -> None:
    session = new_session(hotline)
    phone = random_mobile()
    masked = f"{phone[:3]}****{phone[-4:]}"
    status, body = call(hotline, "POST", "/chat/api/verify/start", {"session": session, "phone": "1381234"})
    assert (status, body["error"]) == (400, "手机号应为以1开头的11位数字，请检查后重新输入。")
    status, body = call(hotline, "POST", "/chat/api/verify/start", {"session": session, "phone": phone})
    assert (status, body) == (200, {"sent": True, "phone": masked})
    assert call(hotline, "POST", "/chat/api/verify/start", {"session": session, "phone": phone})[0] == 429
    code = sent_code(hotline, phone)
    wrong = "000000" if code != "000000" else "111111"
    status, body = call(hotline, "POST", "/chat/api/verify/check", {"session": session, "code": wrong})
    assert (status, body["error"]) == (403, "验证码不正确，还可以再试4次。")
    status, body = call(hotline, "POST", "/chat/api/verify/check", {"session": session, "code": code})
    assert (status, body) == (200, {"verified": True, "phone": masked})
    assert history(hotline, session)[-1]["payload"] == {"event": "verified", "phone": masked}

    turn(hotline, session, "你好")
    [event] = user_events(hotline, session)
    assert event["metadata"]["channel"] == "webchat"
    with sqlite3.connect(hotline.database_path) as db:
        linked = db.execute(
            "SELECT citizens.id, citizens.phone FROM citizen_links JOIN citizens ON citizens.id = citizen_id "
            "WHERE channel = 'webchat' AND external_id = ?",
            (session,),
        ).fetchone()
    assert linked is not None and phone not in linked[1] and decrypt(linked[1]) == phone  # kept encrypted
    assert event["metadata"]["citizen_id"] == linked[0]
    # The turn's last line: everything the turn logged is in the log before it.
    delivered = re.compile(rf"web chat {session[:8]}: \d+ response\(s\) delivered")
    logs = hotline.servers.wait_for_log("rasa", delivered)
    assert phone not in logs
    assert masked in logs
