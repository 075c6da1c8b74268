"""One citizen across channels: a report made by SMS is followed up on Telegram by the same verified number."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_telegram import (
    SECRET,
    TOKEN,
    Telegram,
    message_update,
    messages_to,
    reply_to,
    say,
    settled_texts,
)
from tests.servers import running_servers
from tests.standins import StandIn, running_standin
from tests.telegram_api import BotApi, telegram_env
from tests.twilio_peer import TwilioPeer, sms_to, twilio_api, twilio_env

CITIZEN = "+8613955550001"
TELEGRAM_USER = 70001
STRANGER = 70002


@pytest.fixture(scope="module")
def channels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TwilioPeer, StandIn, Telegram]]:
    """Both servers with Twilio and Telegram on, each platform's API at its stand-in."""
    api = BotApi(TOKEN)
    with running_standin(twilio_api) as twilio, running_standin(api) as bot_api:
        env = {
            **twilio_env(twilio.url),
            **telegram_env(bot_api.url, TOKEN, SECRET),
        }
        with running_servers(Path(tmp_path_factory.mktemp("cross")), extra_env=env) as servers:
            yield TwilioPeer(servers.rasa_url), twilio, Telegram(servers, bot_api, api)


def report_by_sms(peer: TwilioPeer, twilio: StandIn, phone: str, report: str) -> str:
    """File a report by SMS: the sender's verified number as contact, the read-back confirmed; the last answer."""

    def answer(text: str, fragment: str) -> str:
        """Text ``text``; the first SMS sent after it that contains ``fragment``, once it is sent."""
        earlier = twilio.matching(sms_to(phone))
        peer.sms(phone, text)
        found = twilio.wait_for(  # 60 s: the first filing fits the appeal classifier in the action server
            lambda r: sms_to(phone)(r) and fragment in r.form["Body"] and all(r is not e for e in earlier),
            timeout_s=60,
        )
        return str(found.form["Body"])

    answer(report, f"尾号{phone[-4:]}")  # the SMS sender is a verified citizen: their number is offered as the contact
    answer("可以", "确认提交")
    return answer("确认提交", "工单号")


def test_a_report_by_sms_is_followed_up_on_telegram(channels: tuple[TwilioPeer, StandIn, Telegram]) -> None:
    peer, twilio, telegram = channels
    filed = report_by_sms(peer, twilio, CITIZEN, "我要投诉，天河区龙口西路的垃圾站从上周一开始没人清运，臭味很大")
    [number] = re.findall(r"WO\d{13}", filed)
    assert "办理进展会通知您" in filed

    # On Telegram the same citizen shares their own contact: the same number, verified.
    contact = {"phone_number": CITIZEN, "first_name": "王", "user_id": TELEGRAM_USER}
    verified = reply_to(telegram, TELEGRAM_USER, message_update(telegram, TELEGRAM_USER, contact=contact), "已验证")
    assert "139****0001" in verified["text"]

    # Asking about it by number shows it at once: no last-four-digits question (in any message of the answer).
    before = len(messages_to(telegram, TELEGRAM_USER))
    answer = say(telegram, TELEGRAM_USER, f"我的工单{number}处理得怎么样了", number)
    assert "投诉" in answer["text"] and ("已受理" in answer["text"] or "已派单" in answer["text"])
    assert not any("后四位" in text for text in settled_texts(telegram, TELEGRAM_USER, before))

    # Without a number, the verified citizen's open orders are listed.
    before = len(messages_to(telegram, TELEGRAM_USER))
    say(telegram, TELEGRAM_USER, "我反映的问题现在怎么样了", number)
    assert not any("后四位" in text for text in settled_texts(telegram, TELEGRAM_USER, before))


def test_another_telegram_user_does_not_see_the_order(channels: tuple[TwilioPeer, StandIn, Telegram]) -> None:
    peer, twilio, telegram = channels
    filed = report_by_sms(peer, twilio, "+8613955550002", "我要投诉，越秀区中山五路有一盏路灯从上个月开始就坏了")
    [number] = re.findall(r"WO\d{13}", filed)
    before = len(messages_to(telegram, STRANGER))
    say(telegram, STRANGER, f"查一下工单{number}")
    answer = settled_texts(telegram, STRANGER, before)  # the whole answer, not only its first message
    assert answer and not any("路灯" in text or "已受理" in text for text in answer), answer
