"""End to end: handoffs over Telegram and SMS (replies checked at the platforms' stand-ins) and by phone."""

from __future__ import annotations

from channels.telegram.connector import HELP_REPLY
from tests.e2e.test_telegram import Telegram, message_update, post, say, sent_to, settle
from tests.http_clients import Agent
from tests.standins import StandIn
from tests.telegram_api import params_of
from tests.twilio_peer import AGENT_NUMBER, TwilioPeer, VoiceCall, sms_to

SMS_CITIZEN = "+8613955551001"
CALLER = "+8613955551002"
TELEGRAM_CHAT = 71001


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
    # A chat's updates are answered in order: once a later /help is answered, the message above was handled.
    settle(telegram, TELEGRAM_CHAT)
    said = [params_of(r)["text"] for r in telegram.standin.matching(sent_to(telegram, TELEGRAM_CHAT))]
    assert said == [params_of(r)["text"] for r in say_only] + [HELP_REPLY]  # the bot said nothing


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
    # The bot's next words come when the agent closes: nothing may come between (the bot stays quiet).
    assert agent.post(f"/handoffs/{handoff_id}/close")[0] == 200
    rating = twilio.wait_for(lambda r: sms_to(SMS_CITIZEN)(r) and "评价" in r.form["Body"])
    assert twilio.matching(sms_to(SMS_CITIZEN))[before] is rating


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
