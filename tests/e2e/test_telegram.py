"""End to end: the real servers with the Telegram channel, updates posted as Telegram posts them, a stand-in Bot API."""

from __future__ import annotations

import itertools
import json
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from channels.telegram.connector import (
    EDITED_REPLY,
    EXPIRED_CHOICE_REPLY,
    HELP_REPLY,
    INVALID_PHONE_REPLY,
    LOCATION_REPLY,
    NOT_OWN_CONTACT_REPLY,
    TEXT_ONLY_REPLY,
)
from channels.telegram.send import SHARE_PHONE_BUTTON
from channels.text import EMPTY_REPLY, TOO_LONG_REPLY
from tests.servers import Servers, running_servers
from tests.standins import Recorded, StandIn, running_standin
from tests.telegram_api import BotApi, method_of, params_of, telegram_env

TOKEN = "123:TEST"
SECRET = "s3cret"
PUBLIC_BASE_URL = "https://hotline.example.gov.cn"
# A citizen's name as Telegram sends it: personal data that must not reach any log.
FIRST_NAME = "王晓明"
APPLICANT_PHONE = "13912345678"  # the applicant of the fixture cases (tests/fixtures/cases.json)
IN_PROGRESS = "20261120000158"


@dataclass
class Telegram:
    """The running servers, the Bot API stand-in and what it recorded."""

    servers: Servers
    standin: StandIn
    api: BotApi
    # Unique across runs: with REDIS_URL set, the ids already seen outlive the servers.
    update_ids: Iterator[int] = field(default_factory=lambda: itertools.count(time.time_ns() // 10**6 % 10**9))

    @property
    def webhook(self) -> str:
        """Where Telegram posts updates."""
        return f"{self.servers.rasa_url}/webhooks/telegram/webhook"


@pytest.fixture(scope="module")
def telegram(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Telegram]:
    """The Bot API stand-in, then both servers with the Telegram channel pointed at it."""
    api = BotApi(TOKEN)
    with running_standin(api) as standin:
        env = {
            **telegram_env(standin.url, TOKEN, SECRET),
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "TELEGRAM_REGISTER_WEBHOOK": "true",
        }
        # DEBUG makes both servers log every message and tracker: the masking must hold.
        workdir = Path(tmp_path_factory.mktemp("telegram"))
        with running_servers(workdir, log_level="DEBUG", extra_env=env) as servers:
            yield Telegram(servers, standin, api)


def person(user_id: int) -> dict[str, Any]:
    """A Telegram user as an update describes the sender."""
    return {"id": user_id, "is_bot": False, "first_name": FIRST_NAME, "language_code": "zh-hans"}


def message_update(tg: Telegram, chat_id: int, update_id: int | None = None, **content: Any) -> dict[str, Any]:
    """An Update with a new message of a private chat (``text=…``, ``photo=…``, ``contact=…``)."""
    message = {
        "message_id": next(tg.update_ids),
        "date": 1795000000,
        "chat": {"id": chat_id, "type": "private", "first_name": FIRST_NAME},
        "from": person(chat_id),
        **content,
    }
    return {"update_id": update_id if update_id is not None else next(tg.update_ids), "message": message}


def post(tg: Telegram, body: Any, secret: str | None = SECRET, raw: bytes | None = None) -> int:
    """POST to the webhook as Telegram does; the HTTP status."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(tg.webhook, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def sent_to(tg: Telegram, chat_id: int, contains: str = "") -> Callable[[Recorded], bool]:
    """A predicate: a sendMessage to the chat, accepted by the Bot API, whose text contains ``contains``."""

    def matches(request: Recorded) -> bool:
        if method_of(request) != "sendMessage" or not tg.api.accepted(request):
            return False
        params = params_of(request)
        return params.get("chat_id") == str(chat_id) and contains in str(params.get("text"))

    return matches


def messages_to(tg: Telegram, chat_id: int, contains: str = "") -> list[Recorded]:
    """The sendMessage requests to a chat so far."""
    return tg.standin.matching(sent_to(tg, chat_id, contains))


def reply_to(tg: Telegram, chat_id: int, update: dict[str, Any], contains: str = "") -> dict[str, Any]:
    """Post an update and wait for a new message to its chat containing ``contains``; its parameters."""
    before = messages_to(tg, chat_id)
    assert post(tg, update) == 200
    predicate = sent_to(tg, chat_id, contains)
    found = tg.standin.wait_for(lambda r: predicate(r) and all(r is not old for old in before), timeout_s=60)
    return params_of(found)


def say(tg: Telegram, chat_id: int, text: str, contains: str = "") -> dict[str, Any]:
    """The citizen types ``text``; the first new reply containing ``contains``."""
    return reply_to(tg, chat_id, message_update(tg, chat_id, text=text), contains)


def sent_message(tg: Telegram, chat_id: int, params: dict[str, Any]) -> dict[str, Any]:
    """The message the Bot API stand-in took for ``params`` (a reply waited for): its parameters and message_id."""
    return next(m for m in tg.api.sent_to(chat_id) if m["text"] == params["text"] and "reply_markup" in m)


def answered_callback(tg: Telegram, query_id: str) -> Recorded:
    """The answerCallbackQuery call that stops the spinner of the pressed button ``query_id``, once it is made."""
    return tg.standin.wait_for(
        lambda r: method_of(r) == "answerCallbackQuery" and params_of(r).get("callback_query_id") == query_id
    )


def settle(tg: Telegram, chat_id: int) -> None:
    """Wait until every earlier update of the chat was answered (a chat's updates are handled in order)."""
    say(tg, chat_id, "/help", HELP_REPLY)


def settled_texts(tg: Telegram, chat_id: int, before: int) -> list[str]:
    """The chat settled: the texts sent to it after its first ``before`` messages (the settling help left out)."""
    settle(tg, chat_id)
    *texts, settled = [params_of(r)["text"] for r in messages_to(tg, chat_id)[before:]]
    assert settled == HELP_REPLY
    return texts


def inline_buttons(params: dict[str, Any]) -> list[tuple[str, str]]:
    """The (text, callback_data) of a message's inline keyboard."""
    rows = (params.get("reply_markup") or {}).get("inline_keyboard") or []
    return [(row[0]["text"], row[0]["callback_data"]) for row in rows]


def offers_contact(params: dict[str, Any]) -> bool:
    """Whether a message carries the share-your-number keyboard."""
    rows = (params.get("reply_markup") or {}).get("keyboard") or []
    return any(button.get("request_contact") and button["text"] == SHARE_PHONE_BUTTON for row in rows for button in row)


def callback_update(tg: Telegram, chat_id: int, message_id: int, data: str) -> dict[str, Any]:
    """An Update for a pressed inline button under the bot's message ``message_id``."""
    return {
        "update_id": next(tg.update_ids),
        "callback_query": {
            "id": f"cbq-{next(tg.update_ids)}",
            "from": person(chat_id),
            "chat_instance": "-4242",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": 1795000000,
                "chat": {"id": chat_id, "type": "private", "first_name": FIRST_NAME},
                "from": {"id": 123, "is_bot": True, "first_name": "12345热线"},
                "text": "请问是哪种情况？",
            },
        },
    }


def test_webhook_is_registered_at_start_with_the_secret_token(telegram: Telegram) -> None:
    registered = telegram.standin.wait_for(lambda r: method_of(r) == "setWebhook")
    params = params_of(registered)
    assert registered.path == f"/bot{TOKEN}/setWebhook"
    assert params["url"] == f"{PUBLIC_BASE_URL}/webhooks/telegram/webhook"
    assert params["secret_token"] == SECRET
    assert {"message", "callback_query"} <= set(params["allowed_updates"])


def test_health(telegram: Telegram) -> None:
    with urllib.request.urlopen(f"{telegram.servers.rasa_url}/webhooks/telegram/", timeout=10) as response:
        assert response.status == 200


def test_materials_question_gets_buttons_and_a_pressed_button_answers(telegram: Telegram) -> None:
    chat = 2001
    asked = say(telegram, chat, "办护照要带什么", "哪种情况")
    buttons = inline_buttons(asked)
    assert buttons == [("1. 首次申领", "c:1"), ("2. 换发", "c:2"), ("3. 补发", "c:3")]
    keyboard_message = sent_message(telegram, chat, asked)  # the message waited for, not the chat's latest
    assert inline_buttons(keyboard_message) == buttons
    update = callback_update(telegram, chat, keyboard_message["message_id"], "c:1")
    answer = reply_to(telegram, chat, update, "【普通护照签发（首次申领）】")
    assert "居民身份证" in answer["text"]
    assert telegram.api.accepted(answered_callback(telegram, update["callback_query"]["id"]))


def test_a_typed_number_selects_an_offered_choice(telegram: Telegram) -> None:
    chat = 2002
    say(telegram, chat, "办护照要带什么", "哪种情况")
    answer = say(telegram, chat, "2", "【普通护照签发（换发）】")
    assert "parse_mode" not in answer


def test_an_old_or_unknown_button_is_expired(telegram: Telegram) -> None:
    chat = 2003
    keyboard_message = sent_message(telegram, chat, say(telegram, chat, "办护照要带什么", "哪种情况"))
    stale = callback_update(telegram, chat, keyboard_message["message_id"] - 500, "c:1")
    assert reply_to(telegram, chat, stale)["text"] == EXPIRED_CHOICE_REPLY
    unknown = callback_update(telegram, chat, keyboard_message["message_id"], "c:9")
    assert reply_to(telegram, chat, unknown)["text"] == EXPIRED_CHOICE_REPLY
    for pressed in (stale, unknown):  # each spinner is stopped, expired or not
        assert telegram.api.accepted(answered_callback(telegram, pressed["callback_query"]["id"]))


def test_start_greets_and_offers_to_share_the_phone_number(telegram: Telegram) -> None:
    chat = 2004
    greeting = say(telegram, chat, "/start", "12345")
    # The share-your-number button may come with a later message of the same answer: wait for the one that has it.
    telegram.standin.wait_for(lambda r: sent_to(telegram, chat)(r) and offers_contact(params_of(r)))
    assert "／start" not in greeting["text"]


def test_help_command(telegram: Telegram) -> None:
    assert say(telegram, 2005, "/help")["text"] == HELP_REPLY


def test_a_typed_intent_is_text_not_an_intent(telegram: Telegram) -> None:
    chat = 2006
    say(telegram, chat, '/request_human{"service": "x"}')
    settle(telegram, chat)
    texts = [params_of(r)["text"] for r in messages_to(telegram, chat)]
    assert not any("人工座席服务时间" in text for text in texts), texts


def test_restart_starts_over_and_drops_the_question_it_was_asking(telegram: Telegram) -> None:
    """The third blind set: /restart during an offer kept it open, and the next "嗯" accepted it."""
    chat = 2041
    say(telegram, chat, "办护照要带什么", "哪种情况")
    assert "重新开始" in say(telegram, chat, "/restart")["text"]
    before = len(messages_to(telegram, chat))
    say(telegram, chat, "1")
    texts = settled_texts(telegram, chat, before)
    # The dropped question's first option was not taken: no materials came, whatever the fresh prompt's examples say.
    assert not any("材料" in text for text in texts), texts


def test_own_contact_verifies_and_the_progress_lookup_needs_no_tail(telegram: Telegram) -> None:
    chat = 2007
    contact = {"phone_number": "+86" + APPLICANT_PHONE, "first_name": FIRST_NAME, "user_id": chat}
    confirmed = reply_to(telegram, chat, message_update(telegram, chat, contact=contact))
    assert confirmed["text"].startswith("已验证您的手机号 139****5678")
    assert confirmed["reply_markup"] == {"remove_keyboard": True}
    say(telegram, chat, "查一下办件进度", "办件编号")
    before = len(messages_to(telegram, chat))
    say(telegram, chat, IN_PROGRESS, "当前进度：审查")
    later = settled_texts(telegram, chat, before)  # every message of that answer, not only the first
    assert not any("后四位" in text for text in later), later


def test_someone_elses_contact_is_refused_and_not_linked(telegram: Telegram) -> None:
    chat = 2008
    contact = {"phone_number": APPLICANT_PHONE, "first_name": "李四", "user_id": 99999}
    assert reply_to(telegram, chat, message_update(telegram, chat, contact=contact))["text"] == NOT_OWN_CONTACT_REPLY
    say(telegram, chat, "查一下办件进度", "办件编号")
    asked = say(telegram, chat, IN_PROGRESS, "后四位")
    assert offers_contact(asked)


def test_an_invalid_shared_number_gets_a_polite_answer(telegram: Telegram) -> None:
    chat = 2009
    contact = {"phone_number": "+4420794600000", "first_name": FIRST_NAME, "user_id": chat}
    assert reply_to(telegram, chat, message_update(telegram, chat, contact=contact))["text"] == INVALID_PHONE_REPLY


def test_location_is_acknowledged_and_kept_rounded_in_metadata_only(telegram: Telegram) -> None:
    chat = 2010
    location = {"latitude": 23.129163, "longitude": 113.264435}
    assert reply_to(telegram, chat, message_update(telegram, chat, location=location))["text"] == LOCATION_REPLY
    settle(telegram, chat)
    database = telegram.servers.workdir / "hotline-trackers.db"  # the tracker store's own SQLite file
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (f"tg-{chat}",)
        ).fetchall()
    located = [event for event in (json.loads(data) for (data,) in rows) if event["text"] == "（发送了位置）"]
    assert located, rows
    event = located[0]
    assert event["metadata"]["location"] == {"latitude": 23.1292, "longitude": 113.2644}
    assert event["metadata"]["channel"] == "telegram"
    assert "23.129163" not in event["text"]


@pytest.mark.parametrize(
    "content",
    [
        {"photo": [{"file_id": "AgAD", "file_unique_id": "u1", "width": 90, "height": 90}]},
        {
            "sticker": {
                "file_id": "CAAD",
                "file_unique_id": "u2",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        },
        {"voice": {"file_id": "AwAD", "file_unique_id": "u3", "duration": 3}},
        {"document": {"file_id": "BQAD", "file_unique_id": "u4", "file_name": "材料.pdf"}},
    ],
    ids=["photo", "sticker", "voice", "document"],
)
def test_media_gets_a_polite_answer(telegram: Telegram, content: dict[str, Any]) -> None:
    chat = 2011
    assert reply_to(telegram, chat, message_update(telegram, chat, **content))["text"] == TEXT_ONLY_REPLY


def test_an_edited_message_gets_a_polite_answer(telegram: Telegram) -> None:
    chat = 2012
    update = message_update(telegram, chat, text="办护照")
    edited = {"update_id": update["update_id"], "edited_message": {**update["message"], "edit_date": 1795000100}}
    assert reply_to(telegram, chat, edited)["text"] == EDITED_REPLY


def test_a_moving_live_location_is_not_answered(telegram: Telegram) -> None:
    chat = 2021
    update = message_update(telegram, chat, location={"latitude": 23.1, "longitude": 113.2, "live_period": 900})
    moved = {
        "update_id": next(telegram.update_ids),
        "edited_message": {**update["message"], "location": {"latitude": 23.2, "longitude": 113.3}, "edit_date": 1},
    }
    assert post(telegram, moved) == 200
    settle(telegram, chat)
    assert [params_of(r)["text"] for r in messages_to(telegram, chat)] == [HELP_REPLY]


def test_the_update_is_acknowledged_before_the_bot_answers(telegram: Telegram) -> None:
    chat = 2022
    assert post(telegram, message_update(telegram, chat, text="社保卡掉了怎么补")) == 200
    acknowledged_at = time.monotonic()
    telegram.standin.wait_for(sent_to(telegram, chat), timeout_s=60)
    [(sent_at, _), *_] = [(at, p) for at, p in telegram.api.calls_of("sendMessage") if p.get("chat_id") == str(chat)]
    assert acknowledged_at < sent_at


def test_empty_and_too_long_texts(telegram: Telegram) -> None:
    assert say(telegram, 2013, "\u200b\u200b")["text"] == EMPTY_REPLY
    assert say(telegram, 2013, "投诉" * 1001)["text"] == TOO_LONG_REPLY


def test_updates_not_from_a_private_chat_are_acknowledged_silently(telegram: Telegram) -> None:
    group = -1002014
    group_message = message_update(telegram, 2014, text="办护照要带什么")
    group_message["message"]["chat"] = {"id": group, "type": "group", "title": "街坊群"}
    channel_post = {
        "update_id": next(telegram.update_ids),
        "channel_post": {"message_id": 1, "date": 1795000000, "chat": {"id": group, "type": "channel"}, "text": "hi"},
    }
    assert post(telegram, group_message) == 200
    assert post(telegram, channel_post) == 200
    assert post(telegram, {"update_id": next(telegram.update_ids)}) == 200
    settle(telegram, 2014)
    assert messages_to(telegram, group) == []
    assert [params_of(r)["text"] for r in messages_to(telegram, 2014)] == [HELP_REPLY]


@pytest.mark.parametrize("secret", ["wrong", None], ids=["wrong", "missing"])
def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_done(telegram: Telegram, secret: str | None) -> None:
    chat = 2015 if secret else 2016
    update = message_update(telegram, chat, text="/help")
    assert post(telegram, update, secret=secret) == 403
    # the refused update was not handled, not even marked as seen: the genuine one is answered once
    assert reply_to(telegram, chat, update)["text"] == HELP_REPLY
    say(telegram, chat, "谢谢")
    assert len(messages_to(telegram, chat, HELP_REPLY)) == 1


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[]", b'{"message": {}}', b'{"update_id": "7"}', b'{"update_id": 7, "message": "hi"}'],
    ids=["broken", "array", "no-update-id", "string-id", "message-not-an-object"],
)
def test_a_body_that_is_not_an_update_gets_400(telegram: Telegram, raw: bytes) -> None:
    assert post(telegram, None, raw=raw) == 400


def test_a_repeated_update_is_handled_once(telegram: Telegram) -> None:
    chat = 2017
    update = message_update(telegram, chat, text="/help")
    assert post(telegram, update) == 200
    assert post(telegram, update) == 200
    telegram.standin.wait_for(sent_to(telegram, chat, HELP_REPLY))  # the first is answered
    # The chat's updates are answered in order: once 谢谢 is answered, a second help would have been sent.
    say(telegram, chat, "谢谢")
    assert len(messages_to(telegram, chat, HELP_REPLY)) == 1


def test_updates_out_of_order_are_both_handled(telegram: Telegram) -> None:
    chat = 2018
    later, earlier = next(telegram.update_ids) + 100, next(telegram.update_ids)
    reply_to(telegram, chat, message_update(telegram, chat, update_id=later, text="办护照要带什么"), "哪种情况")
    reply_to(telegram, chat, message_update(telegram, chat, update_id=earlier, text="/help"), HELP_REPLY)


def test_too_many_requests_is_retried_after_the_time_telegram_asks(telegram: Telegram) -> None:
    chat = 2019
    telegram.api.too_many_requests("sendMessage", retry_after=1, chat_id=chat)
    assert say(telegram, chat, "/help")["text"] == HELP_REPLY
    attempts = [at for at, params in telegram.api.calls_of("sendMessage") if params.get("chat_id") == str(chat)]
    assert len(attempts) == 2
    assert attempts[1] - attempts[0] >= 0.9


def test_logs_hold_no_token_phone_name_or_coordinates(telegram: Telegram) -> None:
    # runs last: after contacts, locations and names went through both servers.
    # Every chat's updates are handled to their end (and logged) before a later help in that chat is answered.
    for chat in telegram.api.chats():
        settle(telegram, chat)
    rasa_log = telegram.servers.wait_for_log("rasa", "telegram: webhook registered")
    actions_log = (telegram.servers.workdir / "actions.log").read_text(errors="replace")  # its calls were answered
    for log in (rasa_log, actions_log):
        assert TOKEN not in log
        assert APPLICANT_PHONE not in log
        assert FIRST_NAME not in log
        assert "23.129163" not in log and "113.264435" not in log
    channel_lines = [line for line in rasa_log.splitlines() if "channels.telegram.connector" in line]
    assert not any("23.129" in line or "113.264" in line for line in channel_lines)


def test_a_conversation_the_bot_served_ends_with_a_rating_and_a_low_one_with_its_reason(telegram: Telegram) -> None:
    chat = 2030
    say(telegram, chat, "无犯罪记录证明要什么材料", "【无犯罪记录证明】")
    asked = say(telegram, chat, "没有了，谢谢", "满意")
    assert asked["text"].count("？") == 1  # one question, and the goodbye is in it
    buttons = inline_buttons(asked)
    assert [title for title, _ in buttons] == ["1. 满意", "2. 基本满意", "3. 不满意"]
    pressed = callback_update(telegram, chat, sent_message(telegram, chat, asked)["message_id"], buttons[2][1])
    apology = reply_to(telegram, chat, pressed, "抱歉")
    assert "改进" in apology["text"]
    thanks = say(telegram, chat, "材料列得太长了，有事打13812345678", "感谢")
    assert "再见" in thanks["text"]
    with sqlite3.connect(telegram.servers.workdir / "hotline.db") as connection:
        rows = connection.execute("SELECT channel, rating, reason FROM bot_ratings").fetchall()
    assert rows == [("telegram", "不满意", "材料列得太长了，有事打138****5678")]


def test_a_greeting_and_a_goodbye_get_no_rating_question(telegram: Telegram) -> None:
    chat = 2031
    say(telegram, chat, "你好", "12345")
    before = len(messages_to(telegram, chat))
    assert post(telegram, message_update(telegram, chat, text="拜拜")) == 200
    assert settled_texts(telegram, chat, before) == ["感谢您的来电，再见！如有需要，随时拨打12345。"]
