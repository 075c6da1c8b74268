"""Replies a platform did not take wait in the outbox and reach the citizen once, in order, when it is back.

Each test runs the connectors' real sending code (``TelegramChat.send``, the SMS connector's
``send_sms``, the desk's agent reply) against a local stand-in of the platform that is taken down,
answers 502 or 429, or refuses for good; then the outbox's sender (``deliver_pending``) runs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

import channels.connector
from bot.citizens.identity import identify
from bot.core import clock
from bot.core.db import Database
from bot.core.models import Notification
from bot.core.settings import Secret, get_settings
from bot.core.shared_state import MemoryState
from bot.handoff import records as handoffs
from bot.handoff.agents import add_agent
from bot.handoff.queue import MemoryHandoffQueue
from bot.work_orders.notifications import FAILED, PENDING, SENT, backlog, messages_of_conversation
from channels.connector import ChannelRuntime, channel_runtime
from channels.outbox import send_or_keep
from channels.telegram.connector import TelegramChat
from channels.telegram.send import close_bot, render_turn, telegram_bot
from channels.twilio.sms import send_sms, sms_sender_id
from channels.webchat.live import open_chat_hub
from console.desk import Agentish, HandoffDesk
from console.notifier import deliver_pending
from tests.standins import Outage, running_standin
from tests.telegram_api import BotApi
from tests.twilio_peer import ACCOUNT_SID, AUTH_TOKEN, HOTLINE_NUMBER, sms_to, twilio_api

TOKEN = "123:TEST"
CHAT = 4242
CITIZEN_PHONE = "+8613800138123"


@pytest.fixture
async def released_bot() -> AsyncIterator[None]:
    """The process's Bot API client is made for this test's stand-in and released after it."""
    await close_bot()
    yield
    await close_bot()


def desk_for(
    database: Database, monkeypatch: pytest.MonkeyPatch, telegram_url: str = "", twilio_url: str = ""
) -> HandoffDesk:
    """This process's runtime with the platforms at their stand-ins; the outbox retries at once (no backoff)."""
    settings = replace(
        get_settings(),
        telegram_bot_token=Secret(TOKEN),
        telegram_secret_token=Secret("s3cret"),
        telegram_api_base_url=f"{telegram_url}/bot",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=Secret(AUTH_TOKEN),
        twilio_number=HOTLINE_NUMBER,
        twilio_api_base_url=twilio_url,
        sms_max_attempts=1,
        outbox_every_s=0.0,
    )
    runtime = ChannelRuntime(settings, database, MemoryState())
    monkeypatch.setattr(channels.connector, "_runtime", runtime)
    return HandoffDesk(runtime, MemoryHandoffQueue(), open_chat_hub(settings, channel="test:console"))


async def _no_turn(_: Any) -> None:
    raise AssertionError("no bot turn in these tests")


def telegram_chat(chat_id: int = CHAT) -> TelegramChat:
    """The connector's chat, as ``handle_update`` makes it (its replies go through ``TelegramChat.send``)."""
    runtime = channel_runtime()
    return TelegramChat(telegram_bot(runtime.settings), runtime, _no_turn, chat_id, chat_id)


def texts_to(api: BotApi, chat_id: int = CHAT) -> list[str]:
    """What the chat received, in order (only what the Bot API took)."""
    return [str(m["text"]) for m in api.sent_to(chat_id)]


async def rows(database: Database) -> list[Notification]:
    async with database.session() as session:
        return list(await session.scalars(select(Notification).order_by(Notification.id)))


YES_NO = [{"title": "是", "payload": "/affirm", "answer": "yes"}, {"title": "否", "payload": "/deny", "answer": "no"}]


async def test_a_502_mid_turn_keeps_only_what_telegram_did_not_take_and_later_replies_queue_behind(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch, released_bot: None, caplog: pytest.LogCaptureFixture
) -> None:
    api = BotApi(TOKEN)
    outage = Outage(api, pass_first=1)
    with running_standin(outage) as standin:
        desk = desk_for(sqlite_database, monkeypatch, telegram_url=standin.url)
        chat = telegram_chat()
        outage.on = True  # the first message goes through, then the Bot API's proxy answers 502
        caplog.set_level(logging.WARNING)
        turn = [{"text": "第一条：您好"}, {"text": "第二条：需要督办吗？", "buttons": YES_NO}]
        assert await chat.send(render_turn(turn)) is None
        assert texts_to(api) == ["第一条：您好"]
        assert "kept in the outbox" in caplog.text and "outbox backlog 1" in caplog.text
        # A later reply of the same chat does not overtake the kept one: it is not even tried.
        calls = len(standin.received)
        await chat.reply("第三条：还有什么可以帮您？")
        assert len(standin.received) == calls
        assert await backlog(sqlite_database) == 2

        outage.on = False
        caplog.set_level(logging.INFO)
        assert await deliver_pending(desk) == 2
        assert texts_to(api) == ["第一条：您好", "第二条：需要督办吗？", "第三条：还有什么可以帮您？"]
        # The operator sees each kept message go out (no text of it in the log).
        delivered = [r.getMessage() for r in caplog.records if "delivered after" in r.getMessage()]
        assert delivered == [
            f"outbox message {row.id} (conversation tg-{CHAT}, reply) delivered after {attempts} failed attempt(s)"
            for row, attempts in zip(await rows(sqlite_database), (1, 0), strict=True)
        ]
        keyboard = api.sent_to(CHAT)[1]["reply_markup"]["inline_keyboard"]
        assert [row[0]["text"] for row in keyboard] == ["是", "否"]
        assert [row.status for row in await rows(sqlite_database)] == [SENT, SENT]
        assert await deliver_pending(desk) == 0  # nothing sent twice
        assert len(texts_to(api)) == 3


async def test_a_bot_api_that_cannot_be_reached_gets_the_replies_once_it_is_back_at_its_address(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch, released_bot: None
) -> None:
    api = BotApi(TOKEN)
    with running_standin(api) as standin:
        port = int(standin.url.rsplit(":", 1)[1])
        desk = desk_for(sqlite_database, monkeypatch, telegram_url=standin.url)
        chat = telegram_chat()
    # The stand-in is down: nothing listens at the Bot API's address.
    await chat.reply("您好，请问有什么可以帮您？")
    await chat.reply("办理护照需要带身份证。")
    [first, second] = await messages_of_conversation(sqlite_database, f"tg-{CHAT}")
    assert "NetworkError" in (await rows(sqlite_database))[0].last_error
    assert await deliver_pending(desk) == 0  # still down: tried again, kept
    assert [row.status for row in await rows(sqlite_database)] == [PENDING, PENDING]

    with running_standin(api, port=port):
        assert await deliver_pending(desk) == 2
    assert texts_to(api) == ["您好，请问有什么可以帮您？", "办理护照需要带身份证。"]
    assert [row.status for row in await rows(sqlite_database)] == [SENT, SENT]
    assert (first.kind, second.kind) == ("reply", "reply")


async def test_a_429_is_retried_after_the_wait_telegram_asked_for_not_before(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch, released_bot: None
) -> None:
    api = BotApi(TOKEN)
    with running_standin(api) as standin:
        desk = desk_for(sqlite_database, monkeypatch, telegram_url=standin.url)
        api.too_many_requests("sendMessage", retry_after=45, chat_id=CHAT)  # longer than a turn waits
        before = clock.now()
        await telegram_chat().reply("您的工单已受理。")
        [row] = await rows(sqlite_database)
        assert row.status == PENDING and row.next_attempt_at is not None
        assert row.next_attempt_at - before >= timedelta(seconds=45)
        assert await deliver_pending(desk, now=before + timedelta(seconds=30)) == 0
        assert len(api.calls_of("sendMessage")) == 1
        assert await deliver_pending(desk, now=before + timedelta(seconds=50)) == 1
        assert texts_to(api) == ["您的工单已受理。"]


@pytest.mark.parametrize(
    ("status", "description", "reason"),
    [
        (403, "Forbidden: bot was blocked by the user", "Forbidden: Forbidden: bot was blocked by the user"),
        (400, "Bad Request: chat not found", "BadRequest: Chat not found"),
    ],
    ids=["blocked", "chat-not-found"],
)
async def test_a_refusal_for_good_is_recorded_as_failed_with_its_reason_and_never_retried(
    sqlite_database: Database,
    monkeypatch: pytest.MonkeyPatch,
    released_bot: None,
    status: int,
    description: str,
    reason: str,
) -> None:
    api = BotApi(TOKEN)
    with running_standin(api) as standin:
        desk = desk_for(sqlite_database, monkeypatch, telegram_url=standin.url)
        api.refuse(CHAT, status, description)
        await telegram_chat().reply("您好")
        [row] = await rows(sqlite_database)
        assert (row.status, row.last_error) == (FAILED, f"Telegram: {reason}")
        assert await deliver_pending(desk) == 0
        assert len(api.calls_of("sendMessage")) == 1
        # A failed message holds nobody up: the next reply to another chat, or this one, is sent at once.
        assert await backlog(sqlite_database) == 0
        await telegram_chat(CHAT + 1).reply("您好")
        assert texts_to(api, CHAT + 1) == ["您好"]


async def test_an_sms_reply_twilio_did_not_take_is_texted_once_when_it_answers_again(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    outage = Outage(twilio_api, on=True, status=503)
    with running_standin(outage) as twilio:
        desk_for(sqlite_database, monkeypatch, twilio_url=twilio.url)
        runtime = channel_runtime()
        key = str(runtime.settings.pii_hash_key)
        citizen = await identify(sqlite_database, CITIZEN_PHONE, key, clock.now(), "sms", "x")
        thread = sms_sender_id(CITIZEN_PHONE, key)
        bodies = ["您好，请问有什么可以帮您？", "回复1：办护照"]
        kept = [{"text": body} for body in bodies]
        sent = await send_or_keep("sms", thread, citizen.id, kept, lambda: send_sms(runtime, CITIZEN_PHONE, bodies))
        assert sent is None
        assert [m.messages for m in await messages_of_conversation(sqlite_database, thread)] == [kept]
        outage.on = False
        assert await deliver_pending(HandoffDesk(runtime, MemoryHandoffQueue(), open_chat_hub(runtime.settings))) == 1
        delivered = [r.form["Body"] for r in outage.passed if sms_to(CITIZEN_PHONE)(r)]
        assert delivered == ["您好，请问有什么可以帮您？\n回复1：办护照"]


async def test_an_agents_message_to_a_chat_telegram_cannot_reach_is_kept_and_delivered_as_the_agents(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch, released_bot: None
) -> None:
    api = BotApi(TOKEN)
    outage = Outage(api, on=True)
    with running_standin(outage) as standin:
        desk = desk_for(sqlite_database, monkeypatch, telegram_url=standin.url)
        now = clock.now()
        agent = await add_agent(sqlite_database, "chen", "陈静", "agent", "a-long-password-1", now)
        handoff, _ = await handoffs.open_handoff(sqlite_database, f"tg-{CHAT}", "telegram", None, "requested", {}, now)
        await handoffs.assign(sqlite_database, handoff.id, agent.id, now)
        handoff = await handoffs.get_handoff(sqlite_database, handoff.id)
        sent = await desk.send(handoff, Agentish(agent.id, agent.name, agent.role), "您好，我是客服陈静。")
        assert sent is False
        [kept] = await messages_of_conversation(sqlite_database, f"tg-{CHAT}")
        assert (kept.role, kept.agent_name, kept.text) == ("agent", "陈静", "您好，我是客服陈静。")
        outage.on = False
        assert await deliver_pending(desk) == 1
        assert texts_to(api) == ["您好，我是客服陈静。"]
