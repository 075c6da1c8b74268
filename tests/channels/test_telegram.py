"""The Telegram channel's rendering and sending, against a stand-in of the Bot API (no servers)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from rasa.core.channels.channel import UserMessage
from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup, Update
from telegram.request import HTTPXRequest

from bot.core.db import Database
from bot.core.settings import Secret, get_settings
from bot.core.shared_state import MemoryState
from channels.connector import ChannelRuntime, DeliveryDeferred, DeliveryRefused, offered_choices
from channels.telegram.connector import command_of, handle_update, private_chat_of, register_webhook, secret_matches
from channels.telegram.send import (
    CHOOSE_PROMPT,
    SHARE_PHONE_BUTTON,
    SHARE_PHONE_PROMPT,
    TELEGRAM_MAX_CHARS,
    Outgoing,
    asks_for_phone_tail,
    callback_choice,
    close_bot,
    describe_error,
    render_turn,
    send_all,
    send_message,
)
from channels.text import BUSY_REPLY
from tests.standins import Stall, StandIn, running_standin
from tests.telegram_api import BotApi, method_of, params_of

TOKEN = "123:UNIT"
BUTTONS = [{"title": "1. 首次申领", "payload": "首次申领"}, {"title": "2. 换发", "payload": "换发"}]


def test_buttons_become_an_inline_keyboard_whose_callbacks_name_the_choice() -> None:
    messages = [{"text": "请问是哪种情况？", "buttons": BUTTONS}]
    [outgoing] = render_turn(messages)
    assert outgoing.text == "请问是哪种情况？"
    assert outgoing.carries_choices
    assert isinstance(outgoing.markup, InlineKeyboardMarkup)
    rows = outgoing.markup.inline_keyboard
    assert [(row[0].text, row[0].callback_data) for row in rows] == [("1. 首次申领", "c:1"), ("2. 换发", "c:2")]
    # what a callback names is what the connector remembers
    choices = offered_choices(messages)
    assert [choices[callback_choice(str(row[0].callback_data)) or 0].payload for row in rows] == ["首次申领", "换发"]


def test_only_the_last_message_with_buttons_gets_the_keyboard() -> None:
    messages = [
        {"text": "第一条", "buttons": [{"title": "旧", "payload": "旧"}]},
        {"text": "第二条", "buttons": BUTTONS},
        {"text": "第三条"},
    ]
    outgoing = render_turn(messages)
    assert [o.text for o in outgoing] == ["第一条", "第二条", "第三条"]
    assert [o.carries_choices for o in outgoing] == [False, True, False]
    assert outgoing[0].markup is None and outgoing[2].markup is None


def test_buttons_without_text_get_a_prompt_and_data_only_responses_are_not_sent() -> None:
    messages = [{"text": "材料清单"}, {"custom": {"short": "简短的说法"}}, {"buttons": BUTTONS}]
    assert [o.text for o in render_turn(messages)] == ["材料清单", CHOOSE_PROMPT]


def test_a_5000_character_answer_is_split_and_the_keyboard_rides_on_the_last_part() -> None:
    long_text = "\n".join(f"第{n}项：" + "材料" * 40 for n in range(60))
    assert len(long_text) > 5000
    outgoing = render_turn([{"text": long_text, "buttons": BUTTONS}])
    assert len(outgoing) == 2
    assert all(len(o.text) <= TELEGRAM_MAX_CHARS for o in outgoing)
    assert "\n".join(o.text for o in outgoing) == long_text
    assert outgoing[0].markup is None and isinstance(outgoing[1].markup, InlineKeyboardMarkup)


def test_contact_keyboard_goes_on_the_last_message_without_a_keyboard() -> None:
    asking = [{"text": "请说一下办件编号。"}, {"text": "请说一下申请时登记的手机号的后四位。"}]
    assert asks_for_phone_tail(asking)
    outgoing = render_turn(asking, offer_contact=True)
    assert outgoing[0].markup is None
    markup = outgoing[1].markup
    assert isinstance(markup, ReplyKeyboardMarkup)
    button = markup.keyboard[0][0]
    assert (button.text, button.request_contact) == (SHARE_PHONE_BUTTON, True)


def test_contact_keyboard_gets_a_message_of_its_own_when_every_message_has_a_keyboard() -> None:
    outgoing = render_turn([{"text": "请选择", "buttons": BUTTONS}], offer_contact=True)
    assert [o.text for o in outgoing] == ["请选择", SHARE_PHONE_PROMPT]
    assert isinstance(outgoing[1].markup, ReplyKeyboardMarkup)
    assert not asks_for_phone_tail([{"text": "请选择", "buttons": BUTTONS}])


@pytest.mark.parametrize(
    ("data", "index"),
    [("c:1", 0), ("c:12", 11), ("c:0", None), ("c:", None), ("c:x", None), ("c:１", None), ("x:1", None), (None, None)],
)
def test_callback_data(data: str | None, index: int | None) -> None:
    assert callback_choice(data) == index


@pytest.mark.parametrize(
    ("text", "command"),
    [("/start", "start"), ("/START", "start"), ("/help@hotline12345_bot", "help"), ("/start abc", "start")],
)
def test_commands(text: str, command: str) -> None:
    assert command_of(text) == command


@pytest.mark.parametrize("text", ["办护照", "／start", '/request_human{"x": 1}', "start"])
def test_not_commands(text: str) -> None:
    assert command_of(text) is None


def test_secret_token_comparison() -> None:
    assert secret_matches("s3cret", "s3cret")
    assert not secret_matches("s3cret-", "s3cret")
    assert not secret_matches(None, "s3cret")
    assert not secret_matches("", "")  # an unset secret never matches


def _update(chat: dict[str, object], sender: dict[str, object]) -> Update:
    body = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": chat, "from": sender, "text": "你好"}}
    return Update.de_json(body, None)


def test_only_private_chats_of_people_are_answered() -> None:
    person = {"id": 42, "is_bot": False, "first_name": "甲"}
    assert private_chat_of(_update({"id": 42, "type": "private"}, person)) == 42
    assert private_chat_of(_update({"id": -100, "type": "group", "title": "群"}, person)) is None
    assert private_chat_of(_update({"id": 42, "type": "private"}, {**person, "is_bot": True})) is None
    assert private_chat_of(Update.de_json({"update_id": 2}, None)) is None


# Sending, through a real Bot against the stand-in.


@pytest.fixture
def api() -> Iterator[tuple[BotApi, StandIn]]:
    """The Bot API stand-in."""
    bot_api = BotApi(TOKEN)
    with running_standin(bot_api) as standin:
        yield bot_api, standin


@pytest.fixture
async def bot(api: tuple[BotApi, StandIn]) -> AsyncIterator[Bot]:
    """A Bot talking to the stand-in, initialised (getMe)."""
    _, standin = api
    client = Bot(TOKEN, base_url=f"{standin.url}/bot", request=HTTPXRequest(read_timeout=5, connect_timeout=5))
    await client.initialize()
    yield client
    await client.shutdown()


async def test_a_long_answer_is_sent_as_several_messages_in_order(bot: Bot, api: tuple[BotApi, StandIn]) -> None:
    bot_api, _ = api
    long_text = "。".join("这是一句很长的办事指南说明" for _ in range(400))
    assert len(long_text) > 5000
    keyboard_message = await send_all(bot, 42, render_turn([{"text": long_text, "buttons": BUTTONS}]))
    sent = bot_api.sent_to(42)
    assert len(sent) == 2
    assert "".join(m["text"] for m in sent) == long_text
    assert "reply_markup" not in sent[0]
    assert sent[1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "c:1"
    assert keyboard_message is not None and keyboard_message.message_id == sent[1]["message_id"]
    assert "parse_mode" not in sent[0]  # plain text: nothing in a citizen's answer is read as markup


async def test_too_many_requests_waits_as_told_then_sends(bot: Bot, api: tuple[BotApi, StandIn]) -> None:
    bot_api, _ = api
    bot_api.too_many_requests("sendMessage", retry_after=1)
    sent = await send_message(bot, 42, Outgoing("您好"))
    assert sent is not None and sent.text == "您好"
    (first, _), (second, _) = bot_api.calls_of("sendMessage")
    assert second - first >= 0.9
    assert [m["text"] for m in bot_api.sent_to(42)] == ["您好"]


async def test_sending_gives_up_after_a_bounded_number_of_attempts(bot: Bot, api: tuple[BotApi, StandIn]) -> None:
    bot_api, _ = api
    for _ in range(3):
        bot_api.too_many_requests("sendMessage", retry_after=1)
    with pytest.raises(DeliveryDeferred) as deferred:  # kept for the outbox, with the wait Telegram asked for
        await send_message(bot, 42, Outgoing("您好"))
    assert (deferred.value.remaining, deferred.value.retry_after_s) == ([{"text": "您好"}], 1.0)
    assert len(bot_api.calls_of("sendMessage")) == 3
    assert bot_api.sent_to(42) == []


async def test_a_message_taken_but_answered_too_late_is_sent_again_and_the_log_says_it_may_have_arrived(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """At least once: Telegram took it but its answer came after the client stopped waiting; nothing
    tells whether it arrived, so the outbox sends it again, and the log says why a citizen may see it twice."""
    bot_api = BotApi(TOKEN)
    stall = Stall(bot_api)
    with running_standin(stall) as standin:
        client = Bot(TOKEN, base_url=f"{standin.url}/bot", request=HTTPXRequest(read_timeout=0.5, connect_timeout=5))
        await client.initialize()
        stall.on = True
        try:
            with pytest.raises(DeliveryDeferred) as deferred:
                await send_message(client, 42, Outgoing("您好"))
        finally:
            stall.release()
            await client.shutdown()
    assert deferred.value.remaining == [{"text": "您好"}]
    assert [m["text"] for m in bot_api.sent_to(42)] == ["您好"]  # it had arrived
    assert "may have arrived and will be sent again" in caplog.text


async def test_a_bot_api_that_cannot_be_reached_did_not_take_the_message(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    client = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=HTTPXRequest(connect_timeout=2))
    with pytest.raises(DeliveryDeferred):
        await send_message(client, 42, Outgoing("您好"))
    assert "did not take the message" in caplog.text and "may have arrived" not in caplog.text


async def test_a_refused_message_is_logged_without_the_token_and_stops_the_rest(
    api: tuple[BotApi, StandIn], caplog: pytest.LogCaptureFixture
) -> None:
    bot_api, standin = api
    wrong = Bot("999:WRONG", base_url=f"{standin.url}/bot", request=HTTPXRequest(read_timeout=5, connect_timeout=5))
    with pytest.raises(DeliveryRefused):
        await send_all(wrong, 42, [Outgoing("第一条"), Outgoing("第二条")])
    assert len(bot_api.calls_of("sendMessage")) == 1
    assert "sending refused" in caplog.text
    assert "999:WRONG" not in caplog.text


def test_errors_are_described_without_token_or_phone_numbers() -> None:
    from telegram.error import BadRequest, InvalidToken

    assert "123:SECRET" not in describe_error(InvalidToken("The token `123:SECRET` was rejected"), "123:SECRET")
    described = describe_error(BadRequest("chat 13912345678 at /bot123:SECRET/x"), "123:SECRET")
    assert "13912345678" not in described and "123:SECRET" not in described
    assert "139****5678" in described


def test_standin_parses_form_calls() -> None:
    from tests.standins import Recorded

    request = Recorded(
        "POST",
        "/bot1:A/sendMessage",
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"chat_id=5&text=%E4%BD%A0%E5%A5%BD&reply_markup=%7B%22a%22%3A1%7D",
    )
    assert method_of(request) == "sendMessage"
    assert params_of(request) == {"chat_id": "5", "text": "你好", "reply_markup": {"a": 1}}


# Registering the webhook at start-up.


def _runtime(tmp_path: Path, base_url: str, public_base_url: str) -> ChannelRuntime:
    settings = replace(
        get_settings(),
        telegram_bot_token=Secret(TOKEN),
        telegram_secret_token=Secret("s3cret"),
        telegram_api_base_url=base_url,
        public_base_url=public_base_url,
    )
    return ChannelRuntime(settings, Database(f"sqlite:///{tmp_path / 'hotline.db'}"), MemoryState())


@pytest.fixture
async def fresh_bot() -> AsyncIterator[None]:
    """No Bot API client of an earlier test: the channel's client is created once per process."""
    await close_bot()
    yield
    await close_bot()


async def test_the_webhook_is_registered_with_the_secret_token(
    api: tuple[BotApi, StandIn], tmp_path: Path, fresh_bot: None
) -> None:
    bot_api, standin = api
    await register_webhook(_runtime(tmp_path, f"{standin.url}/bot", "https://hotline.example.gov.cn/"))
    [(_, params)] = bot_api.calls_of("setWebhook")
    assert params["url"] == "https://hotline.example.gov.cn/webhooks/telegram/webhook"
    assert params["secret_token"] == "s3cret"
    assert params["allowed_updates"] == ["message", "edited_message", "callback_query"]
    assert [method for _, method, _ in bot_api.calls] == ["getMe", "setWebhook"]


async def test_a_refused_registration_is_logged_not_raised(
    api: tuple[BotApi, StandIn], tmp_path: Path, fresh_bot: None, caplog: pytest.LogCaptureFixture
) -> None:
    bot_api, standin = api
    await register_webhook(_runtime(tmp_path, f"{standin.url}/wrong-prefix", "https://hotline.example.gov.cn"))
    assert bot_api.calls_of("setWebhook") == []
    assert "registering the webhook https://hotline.example.gov.cn/webhooks/telegram/webhook failed" in caplog.text
    assert TOKEN not in caplog.text


async def test_an_unreachable_bot_api_is_logged_not_raised(
    tmp_path: Path, fresh_bot: None, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await register_webhook(_runtime(tmp_path, f"http://127.0.0.1:{port}/bot", "https://hotline.example.gov.cn"))
    assert "registering the webhook" in caplog.text and "NetworkError" in caplog.text


async def test_no_registration_without_a_public_address(
    api: tuple[BotApi, StandIn], tmp_path: Path, fresh_bot: None, caplog: pytest.LogCaptureFixture
) -> None:
    bot_api, standin = api
    await register_webhook(_runtime(tmp_path, f"{standin.url}/bot", ""))
    assert bot_api.calls == []
    assert "PUBLIC_BASE_URL is empty" in caplog.text


# One update handled with the project database down (Rasa's turn is stood in by an echo).


def _private_update(**content: object) -> Update:
    sender = {"id": 42, "is_bot": False, "first_name": "甲"}
    message = {"message_id": 7, "date": 0, "chat": {"id": 42, "type": "private"}, "from": sender, **content}
    return Update.de_json({"update_id": 1, "message": message}, None)


async def test_a_database_that_is_down_does_not_stop_the_conversation(
    api: tuple[BotApi, StandIn], tmp_path: Path, fresh_bot: None
) -> None:
    bot_api, standin = api
    runtime = _runtime(tmp_path, f"{standin.url}/bot", "")
    runtime.database = Database(f"sqlite:///{tmp_path / 'missing' / 'hotline.db'}")  # a folder that does not exist
    received: list[UserMessage] = []

    async def echo(message: UserMessage) -> None:
        received.append(message)
        await message.output_channel.send_text_message(message.sender_id, f"收到：{message.text}")

    await handle_update(_private_update(text="办护照要带什么"), 42, echo, runtime)
    assert [m["text"] for m in bot_api.sent_to(42)] == ["收到：办护照要带什么"]
    assert received[0].metadata == {"channel": "telegram", "citizen_id": None, "location": None}
    assert received[0].sender_id == "tg-42"

    contact = {"phone_number": "13912345678", "first_name": "甲", "user_id": 42}
    await handle_update(_private_update(contact=contact), 42, echo, runtime)
    assert bot_api.sent_to(42)[-1]["text"] == BUSY_REPLY
    await runtime.database.close()
