"""The web chat's log, live signals and SMS verification, on real databases, real Redis and a Twilio stand-in."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta

import pytest

from bot.core.db import Database
from bot.core.personal_data import InvalidPhone
from bot.core.shared_state import MemoryState
from channels.twilio.api import TwilioSms
from channels.webchat.connector import bot_entry_payload, sse_event
from channels.webchat.live import MemoryHub, RedisHub
from channels.webchat.log import ChatLog, UnknownSession, is_session_id, new_session_id, publish_to_session
from channels.webchat.verify import MAX_ATTEMPTS, SMS_TEXT, PhoneVerification, VerificationRefused
from tests.standins import Recorded, StandIn, running_standin

REDIS_URL = "redis://127.0.0.1:6379/15"
ACCOUNT = "AC" + "0" * 32
BUTTONS = [{"title": "1. 首次申领", "payload": "首次申领"}, {"title": "2. 换发", "payload": "换发"}]


@pytest.fixture
async def chat(database: Database) -> AsyncIterator[ChatLog]:
    """A web chat log on an empty database (SQLite and PostgreSQL), with in-process signals."""
    log = ChatLog(database, MemoryHub())
    yield log
    await log.close()


async def test_a_session_keeps_its_entries_in_order(chat: ChatLog) -> None:
    session_id = await chat.start_session()
    assert is_session_id(session_id)
    assert await chat.exists(session_id)
    asked = await chat.append(session_id, "citizen", {"text": "办护照要带什么", "client_id": "c1c1c1c1"})
    answered = await chat.append(session_id, "bot", {"text": "您属于哪种情况？", "buttons": BUTTONS})
    assert (asked.seq, answered.seq) == (1, 2)
    entries = await chat.entries_after(session_id, 0)
    assert [(e.seq, e.role, e.payload) for e in entries] == [
        (1, "citizen", {"text": "办护照要带什么", "client_id": "c1c1c1c1"}),
        (2, "bot", {"text": "您属于哪种情况？", "buttons": BUTTONS}),
    ]
    assert [e.seq for e in await chat.entries_after(session_id, 1)] == [2]
    at = entries[0].as_json()["at"]  # the moment with its zone: China time, as every page shows it
    assert at.endswith("+08:00")
    assert abs(datetime.fromisoformat(at) - entries[0].created_at) < timedelta(seconds=1)
    assert entries[0].created_at.utcoffset() == timedelta(0)  # read back aware, in UTC


async def test_appends_at_the_same_time_get_consecutive_seqs(chat: ChatLog) -> None:
    session_id = await chat.start_session()
    other = await chat.start_session()
    entries = await asyncio.gather(
        *(chat.append(session_id, "agent", {"text": f"第{n}条"}) for n in range(20)),
        chat.append(other, "bot", {"text": "别的会话"}),
    )
    assert sorted(e.seq for e in entries[:20]) == list(range(1, 21))
    stored = await chat.entries_after(session_id, 0)
    assert [e.seq for e in stored] == list(range(1, 21))
    assert {e.payload["text"] for e in stored} == {f"第{n}条" for n in range(20)}
    assert [e.payload for e in await chat.entries_after(other, 0)] == [{"text": "别的会话"}]


async def test_a_turns_answers_are_stored_together_in_order_and_wake_the_page_once(database: Database) -> None:
    hub = MemoryHub()
    chat = ChatLog(database, hub)
    session_id = await chat.start_session()
    await chat.append(session_id, "citizen", {"text": "办护照要带什么", "client_id": "c1c1c1c1"})
    answers = [
        {"text": "通常需要身份证。"},
        {"text": "您属于哪种情况？", "buttons": BUTTONS},
        {"text": "电话13812345678"},
    ]
    async with hub.listen(session_id) as page:
        stored, _ = await asyncio.gather(
            chat.append_all(session_id, "bot", answers),
            chat.append(session_id, "agent", {"text": "同时到达"}),
        )
        assert await page.next_signal(2.0) == "entries"
        assert await page.next_signal(2.0) == "entries"  # the agent's entry: one signal each, not one per answer
        assert await page.next_signal(0.05) is None
    seqs = [e.seq for e in stored]
    assert seqs == list(range(seqs[0], seqs[0] + 3))
    entries = await chat.entries_after(session_id, 1)
    assert sorted(e.seq for e in entries) == [2, 3, 4, 5]
    bot = [e for e in entries if e.role == "bot"]
    assert [e.seq for e in bot] == seqs
    assert [e.payload for e in bot] == [answers[0], answers[1], {"text": "电话138****5678"}]  # masked at rest too
    with pytest.raises(ValueError):
        await chat.append_all(session_id, "bot", [])
    with pytest.raises(UnknownSession):
        await chat.append_all(new_session_id(), "bot", answers)
    await chat.close()


async def test_unknown_sessions_and_roles_are_refused(chat: ChatLog) -> None:
    stranger = new_session_id()
    assert not await chat.exists(stranger)
    with pytest.raises(UnknownSession):
        await chat.append(stranger, "bot", {"text": "你好"})
    assert await chat.entries_after(stranger, 0) == []
    session_id = await chat.start_session()
    with pytest.raises(ValueError):
        await chat.append(session_id, "admin", {"text": "x"})
    assert await chat.entries_after(session_id, 0) == []


@pytest.mark.parametrize("value", ["", "0" * 31, "G" * 32, "A" * 32, "0" * 33, None, 7])
def test_session_ids_are_32_lowercase_hex_digits(value: object) -> None:
    assert not is_session_id(value)
    assert is_session_id(new_session_id())
    assert new_session_id() != new_session_id()


async def test_in_process_signals_reach_only_the_sessions_pages(sqlite_database: Database) -> None:
    hub = MemoryHub()
    chat = ChatLog(sqlite_database, hub)
    mine, theirs = await chat.start_session(), await chat.start_session()
    async with hub.listen(mine) as my_page, hub.listen(theirs) as their_page:
        entry = await publish_to_session(mine, "system", {"event": "agent_joined", "agent": "王丽"}, chat=chat)
        assert await my_page.next_signal(2.0) == "entries"
        assert await their_page.next_signal(0.05) is None
    assert [(e.seq, e.payload) for e in await chat.entries_after(mine, 0)] == [
        (entry.seq, {"event": "agent_joined", "agent": "王丽"})
    ]


async def test_redis_signals_reach_the_pages_of_another_instance(sqlite_database: Database) -> None:
    channel = f"hotline:webchat-test:{uuid.uuid4().hex}"
    publishing, serving = RedisHub(REDIS_URL, 2.0, channel), RedisHub(REDIS_URL, 2.0, channel)
    writer, reader = ChatLog(sqlite_database, publishing), ChatLog(sqlite_database, serving)
    try:
        session_id = await writer.start_session()
        async with serving.listen(session_id) as page:
            await publish_to_session(session_id, "agent", {"text": "您好，我是人工客服", "agent": "王丽"}, chat=writer)
            assert await page.next_signal(5.0) == "entries"
            await writer.signal(session_id, "typing")
            assert await page.next_signal(5.0) == "typing"
        [entry] = await reader.entries_after(session_id, 0)
        assert (entry.role, entry.payload["text"]) == ("agent", "您好，我是人工客服")
    finally:
        await writer.close()
        await reader.close()


def test_bot_responses_keep_text_and_buttons_and_drop_data_only_ones() -> None:
    assert bot_entry_payload({"text": "第一行\n第二行", "buttons": BUTTONS}) == {
        "text": "第一行\n第二行",
        "buttons": BUTTONS,
    }
    assert bot_entry_payload({"custom": {"short": "简短"}}) is None
    assert bot_entry_payload({"buttons": [{"payload": "换发"}]}) == {"buttons": [{"title": "换发", "payload": "换发"}]}


def test_a_server_sent_event_carries_its_id_kind_and_json() -> None:
    event = sse_event("entry", {"seq": 3, "payload": {"text": "办理地点\n越秀区"}}, 3)
    assert event == 'id: 3\nevent: entry\ndata: {"seq": 3, "payload": {"text": "办理地点\\n越秀区"}}\n\n'


# --- SMS verification -----------------------------------------------------------------------


def _twilio_answer(request: Recorded) -> tuple[int, object]:
    if request.form.get("To") == "+8613000000000":
        return 400, {"code": 21211, "message": "Invalid 'To' Phone Number"}
    return 201, {"sid": "SM" + uuid.uuid4().hex}


@pytest.fixture
def twilio() -> Iterator[StandIn]:
    """A stand-in of Twilio's Messages API."""
    with running_standin(_twilio_answer) as standin:
        yield standin


def _sms(base_url: str, account: str = ACCOUNT) -> TwilioSms:
    return TwilioSms(account, "token", "+8612345000000", base_url, timeout_s=2.0, max_attempts=1)


def _sent_code(twilio: StandIn, phone: str) -> str:
    sms = twilio.wait_for(lambda r: r.form.get("To") == phone, timeout_s=5)
    assert sms.path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    match = re.search(r"(?<!\d)\d{6}(?!\d)", sms.form["Body"])
    assert match is not None
    assert sms.form["Body"] == SMS_TEXT.format(code=match.group())
    return match.group()


async def test_the_right_code_proves_the_phone(twilio: StandIn) -> None:
    verification = PhoneVerification(MemoryState(), _sms(twilio.url), "key")
    session_id = new_session_id()
    assert await verification.start(session_id, "139-1234-5678") == "139****5678"
    code = _sent_code(twilio, "+8613912345678")
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(VerificationRefused) as refused:
        await verification.check(session_id, wrong)
    assert (refused.value.status, refused.value.message) == (403, f"验证码不正确，还可以再试{MAX_ATTEMPTS - 1}次。")
    assert await verification.check(session_id, f" {code} ") == "13912345678"
    with pytest.raises(VerificationRefused) as used:  # a code proves once
        await verification.check(session_id, code)
    assert used.value.status == 410


async def test_five_wrong_codes_use_the_code_up(twilio: StandIn) -> None:
    verification = PhoneVerification(MemoryState(), _sms(twilio.url), "key")
    session_id = new_session_id()
    await verification.start(session_id, "13912345678")
    code = _sent_code(twilio, "+8613912345678")
    wrong = "000000" if code != "000000" else "111111"
    statuses = []
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(VerificationRefused) as refused:
            await verification.check(session_id, wrong)
        statuses.append(refused.value.status)
    assert statuses == [403] * MAX_ATTEMPTS
    with pytest.raises(VerificationRefused) as gone:
        await verification.check(session_id, code)
    assert gone.value.status == 410


async def test_codes_are_not_sent_too_often_or_to_invalid_numbers(twilio: StandIn) -> None:
    verification = PhoneVerification(MemoryState(), _sms(twilio.url), "key")
    session_id = new_session_id()
    with pytest.raises(InvalidPhone):
        await verification.start(session_id, "12345")
    await verification.start(session_id, "13912345678")
    with pytest.raises(VerificationRefused) as too_soon:
        await verification.start(session_id, "13912345678")
    assert too_soon.value.status == 429
    for _ in range(4):  # other sessions, same number: five codes an hour
        await verification.start(new_session_id(), "13912345678")
    with pytest.raises(VerificationRefused) as too_many:
        await verification.start(new_session_id(), "13912345678")
    assert too_many.value.status == 429
    assert len(twilio.matching(lambda r: r.form.get("To") == "+8613912345678")) == 5
    with pytest.raises(VerificationRefused) as malformed:
        await verification.check(session_id, "12ab56")
    assert malformed.value.status == 400


async def test_a_failed_sms_or_missing_account_is_said_plainly(twilio: StandIn) -> None:
    verification = PhoneVerification(MemoryState(), _sms(twilio.url), "key")
    session_id = new_session_id()
    with pytest.raises(VerificationRefused) as failed:
        await verification.start(session_id, "13000000000")
    assert failed.value.status == 502
    with pytest.raises(VerificationRefused) as nothing_waiting:
        await verification.check(session_id, "123456")
    assert nothing_waiting.value.status == 410
    await verification.start(session_id, "13912345678")  # a failure does not make the citizen wait
    unconfigured = PhoneVerification(MemoryState(), _sms(twilio.url, account=""), "key")
    with pytest.raises(VerificationRefused) as unavailable:
        await unconfigured.start(new_session_id(), "13912345678")
    assert (unavailable.value.status, unavailable.value.message) == (
        503,
        "短信验证暂不可用，请稍后再试，或拨打12345人工服务。",
    )
