"""End to end: handoffs over Telegram and SMS (replies checked at the platforms' stand-ins) and by phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_telegram import SECRET, TOKEN, Telegram, message_update, post, say, sent_to
from tests.http_clients import Agent, create_agent
from tests.servers import running_servers
from tests.standins import StandIn, running_standin
from tests.telegram_api import BotApi, telegram_env
from tests.twilio_peer import AGENT_NUMBER, TwilioPeer, VoiceCall, sms_to, twilio_api, twilio_env

SMS_CITIZEN = "+8613955551001"
CALLER = "+8613955551002"
TELEGRAM_CHAT = 71001


@pytest.fixture(scope="module")
def channels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TwilioPeer, StandIn, Telegram, Agent]]:
    """Both servers with Twilio and Telegram at their stand-ins, and an agent logged in to the console."""
    api = BotApi(TOKEN)
    with running_standin(twilio_api) as twilio, running_standin(api) as bot_api:
        env = {
            **twilio_env(twilio.url),
            **telegram_env(bot_api.url, TOKEN, SECRET),
            "REDIS_URL": "",
            "HANDOFF_MAX_WAIT_S": "3600",
        }
        with running_servers(Path(tmp_path_factory.mktemp("handoff-channels")), extra_env=env) as servers:
            create_agent(servers.env["DATABASE_URL"], "chen", "陈静")
            agent = Agent(servers.rasa_url, "chen")
            assert agent.login()[0] == 200
            yield TwilioPeer(servers.rasa_url), twilio, Telegram(servers, bot_api, api), agent


def take_next(agent: Agent, channel_label: str) -> int:
    """Take the first waiting handoff of a channel; its id."""
    waiting = agent.wait_for(
        lambda: [h for h in agent.queue()["waiting"] if h["channel_label"] == channel_label], "a waiting handoff"
    )
    status, body = agent.post(f"/handoffs/{waiting[0]['id']}/take")
    assert status == 200, body
    return int(waiting[0]["id"])


def test_a_telegram_citizen_talks_to_an_agent(channels: tuple[TwilioPeer, StandIn, Telegram, Agent]) -> None:
    _, _, telegram, agent = channels
    queued = say(telegram, TELEGRAM_CHAT, "我要人工服务", "转接人工客服")
    assert "算了" in queued["text"]
    handoff_id = take_next(agent, "Telegram")
    telegram.standin.wait_for(sent_to(telegram, TELEGRAM_CHAT, "人工客服陈静已接入"))

    assert agent.post(f"/handoffs/{handoff_id}/messages", {"text": "您好，这里是人工客服，请讲。"})[0] == 202
    telegram.standin.wait_for(sent_to(telegram, TELEGRAM_CHAT, "这里是人工客服"))
    say_only = telegram.standin.matching(sent_to(telegram, TELEGRAM_CHAT))
    assert post(telegram, message_update(telegram, TELEGRAM_CHAT, text="我家楼下的路灯坏了一个月了")) == 200
    agent.wait_for(
        lambda: any("路灯坏了" in e["text"] for e in agent.transcript(handoff_id)),
        "the citizen's message in the console",
    )
    assert telegram.standin.matching(sent_to(telegram, TELEGRAM_CHAT)) == say_only  # the bot said nothing


def test_an_sms_citizen_talks_to_an_agent(channels: tuple[TwilioPeer, StandIn, Telegram, Agent]) -> None:
    peer, twilio, _, agent = channels
    peer.sms(SMS_CITIZEN, "转人工")
    assert "转接人工客服" in twilio.wait_for(sms_to(SMS_CITIZEN)).form["Body"]
    handoff_id = take_next(agent, "短信")
    twilio.wait_for(lambda r: sms_to(SMS_CITIZEN)(r) and "已接入" in r.form["Body"])

    assert agent.post(f"/handoffs/{handoff_id}/messages", {"text": "请问您的办件编号是多少？"})[0] == 202
    twilio.wait_for(lambda r: sms_to(SMS_CITIZEN)(r) and r.form["Body"] == "请问您的办件编号是多少？")
    before = len(twilio.matching(sms_to(SMS_CITIZEN)))
    peer.sms(SMS_CITIZEN, "编号是20261001000777")
    agent.wait_for(
        lambda: any("20261001000777" in e["text"] for e in agent.transcript(handoff_id)), "the citizen's SMS"
    )
    assert len(twilio.matching(sms_to(SMS_CITIZEN))) == before  # the bot stays quiet


def test_a_call_is_put_through_to_the_agent_line_and_its_transcript_is_in_the_console(
    channels: tuple[TwilioPeer, StandIn, Telegram, Agent],
) -> None:
    peer, _, _, agent = channels
    call = VoiceCall(peer, CALLER)
    call.start()
    call.say("办护照需要什么材料")
    document = call.press("0")
    dial = document.find("Dial")
    assert dial is not None and dial.findtext("Number") == AGENT_NUMBER
    assert f"conversation=voice-{call.sid}" in (dial.find("Number").get("url") or "")  # type: ignore[union-attr]
    phone = agent.wait_for(lambda: agent.queue()["phone"], "the transferred call in the console")
    assert phone[0]["channel_label"] == "电话"
    status, body = agent.get(f"/handoffs/{phone[0]['id']}")
    assert status == 200
    assert any(e["role"] == "citizen" and "护照" in e["text"] for e in body["transcript"])
