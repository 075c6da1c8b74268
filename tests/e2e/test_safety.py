"""End to end: danger, violence and despair get the right number first, on every channel and in any form.

Each conversation is first put in the middle of a form (a case number or a report's details asked
for), so that the words could be swallowed as the form's answer; they must not be.
"""

from __future__ import annotations

import pytest

from channels.text import MAX_MESSAGE_CHARS, TOO_LONG_REPLY
from channels.twilio.speech import speakable
from tests.e2e.test_conversation_http import post
from tests.e2e.test_telegram import Telegram, say, sent_to, settle
from tests.http_clients import Agent, WebCitizen
from tests.standins import StandIn
from tests.telegram_api import params_of
from tests.twilio_peer import AGENT_NUMBER, TwilioPeer, VoiceCall, sms_to, spoken

CASE_QUESTION = "请告诉我办件编号"
DETAILS_QUESTION = "请说一下具体情况"


@pytest.fixture(scope="module")
def hotline(channels: tuple[TwilioPeer, StandIn, Telegram, Agent]) -> tuple[str, TwilioPeer, StandIn, Telegram, Agent]:
    """Both servers with every channel, agents on duty and an agent line; an agent (陈静) logged in."""
    peer, twilio, telegram, agent = channels
    return telegram.servers.rasa_url, peer, twilio, telegram, agent


def waiting_handoff(agent: Agent, channel_label: str) -> dict:
    """The waiting handoff of a channel, once the console lists it."""
    found = agent.wait_for(
        lambda: [h for h in agent.queue()["waiting"] if h["channel_label"] == channel_label], "a waiting handoff"
    )
    return dict(found[0])


def handled(agent: Agent, handoff_id: int) -> None:
    """The agent takes the handoff and closes it (the next test starts with an empty queue)."""
    assert agent.post(f"/handoffs/{handoff_id}/take")[0] == 200
    assert agent.post(f"/handoffs/{handoff_id}/close")[0] == 200


def urgent_handoff_handled(agent: Agent, channel_label: str, reason: str = "") -> None:
    """The channel's waiting handoff is urgent (for ``reason``, when given); the agent takes and closes it."""
    handoff = waiting_handoff(agent, channel_label)
    assert handoff["urgent"] and handoff["reason"] == (reason or handoff["reason"])
    handled(agent, handoff["id"])


def test_despair_in_the_middle_of_a_form_gets_12356_first_then_an_urgent_handoff_on_the_web_chat(
    hotline: tuple[str, TwilioPeer, StandIn, Telegram, Agent],
) -> None:
    rasa_url, _, _, _, agent = hotline
    citizen = WebCitizen(rasa_url)
    citizen.say("我想查一下办件进度")
    citizen.wait_for_text(CASE_QUESTION)
    asked = len(citizen.texts("bot"))

    citizen.say("活着好累，我不想活了")
    # The queue's answer is the turn's last message: once it is there, the turn is complete.
    citizen.wait_for_text("正在为您转接人工客服")
    replies = citizen.texts("bot")[asked:]
    assert "12356" in replies[0].split("。")[0]
    assert len(replies) == 2 and "正在为您转接人工客服" in replies[1]
    assert not any(word in " ".join(replies) for word in ("编号", "还有什么可以帮您", "没听明白"))

    handoff = waiting_handoff(agent, "网页")
    assert (handoff["urgent"], handoff["reason"], handoff["position"]) == (True, "distress", 1)
    assert agent.post(f"/handoffs/{handoff['id']}/take")[0] == 200
    citizen.wait_for_text("人工客服陈静已接入")
    transcript = agent.transcript(handoff["id"])
    assert any(e["role"] == "citizen" and "不想活了" in (e["text"] or "") for e in transcript)
    assert any(e["role"] == "bot" and "12356" in (e["text"] or "") for e in transcript)

    # The form has stopped: once the agent closes, the case-number question is not asked again.
    assert agent.post(f"/handoffs/{handoff['id']}/close")[0] == 200
    citizen.wait_for_text("评价")
    assert not [t for t in citizen.texts("bot")[asked:] if CASE_QUESTION in t]


def test_danger_said_while_waiting_for_a_person_moves_the_citizen_ahead_of_the_queue(
    hotline: tuple[str, TwilioPeer, StandIn, Telegram, Agent],
) -> None:
    rasa_url, _, _, _, agent = hotline
    first, second = WebCitizen(rasa_url), WebCitizen(rasa_url)
    first.say("转人工")
    first.wait_for_text("正在为您转接人工客服")
    second.say("我要找人工客服")
    second.wait_for_text("您前面还有1位")

    second.say("他又拿刀在门口砸门了")
    notice = second.wait_for_text("已为您优先转接人工客服")
    replies = second.texts("bot")
    assert "110" in replies[replies.index(notice) - 1].split("。")[0]
    waiting = agent.wait_for(
        lambda: (w := agent.queue()["waiting"]) and w[0]["urgent"] and w, "the urgent handoff at the head"
    )
    assert [h["urgent"] for h in waiting[:2]] == [True, False]
    assert waiting[0]["reason"] == "emergency"
    for handoff in waiting[:2]:
        handled(agent, handoff["id"])


def test_violence_by_sms_gets_110_in_the_first_message(
    hotline: tuple[str, TwilioPeer, StandIn, Telegram, Agent],
) -> None:
    _, peer, twilio, _, agent = hotline
    citizen = "+8613955553001"
    peer.sms(citizen, "我要投诉")
    twilio.wait_for(sms_to(citizen))  # the bot's question about the complaint
    before = len(twilio.matching(sms_to(citizen)))
    peer.sms(citizen, "我老公喝醉了又在打我")
    twilio.wait_for(lambda r: sms_to(citizen)(r) and "转接人工客服" in r.form["Body"])
    first = twilio.matching(sms_to(citizen))[before].form["Body"]
    assert "110" in first.split("。")[0]
    urgent_handoff_handled(agent, "短信", "emergency")


def test_someone_about_to_jump_gets_110_first_on_telegram(
    hotline: tuple[str, TwilioPeer, StandIn, Telegram, Agent],
) -> None:
    _, _, _, telegram, agent = hotline
    chat = 73001
    say(telegram, chat, "我要反映个问题", "")
    settle(telegram, chat)
    before = len(telegram.standin.matching(sent_to(telegram, chat)))
    say(telegram, chat, "天河城对面楼顶上有个人坐在边上，好像要跳下来", "转接人工客服")
    first = params_of(telegram.standin.matching(sent_to(telegram, chat))[before])["text"]
    assert "110" in first.split("。")[0]
    urgent_handoff_handled(agent, "Telegram")


def test_on_the_phone_the_crisis_number_is_spoken_first_then_the_call_is_put_through(
    hotline: tuple[str, TwilioPeer, StandIn, Telegram, Agent],
) -> None:
    _, peer, _, _, agent = hotline
    call = VoiceCall(peer, "+8613955553002")
    call.start()
    assert CASE_QUESTION in spoken(call.say("我查一下我那个办件进度"))
    document = call.say("查什么查 我老婆走了 我也不想活了")
    says = [say.text or "" for say in document.iter("Say")]
    assert speakable("12356").rstrip("。") in says[0]
    dial = document.find("Dial")
    assert dial is not None and dial.findtext("Number") == AGENT_NUMBER
    assert list(document).index(dial) > 0  # spoken first, then the transfer
    phone = agent.wait_for(lambda: agent.queue()["phone"], "the transferred call in the console")
    assert phone[0]["urgent"] and phone[0]["reason"] == "distress"


def test_a_gas_smell_in_the_middle_of_a_report_gets_119_and_what_to_do(
    hotline: tuple[str, TwilioPeer, StandIn, Telegram, Agent],
) -> None:
    rasa_url, _, _, _, agent = hotline
    citizen = WebCitizen(rasa_url)
    citizen.say("我要投诉楼下五金店天天早上六点切割，很吵")
    citizen.wait_for_text("？")
    asked = len(citizen.texts("bot"))
    citizen.say("哎等下，楼道里突然好大一股煤气味")
    citizen.wait_for_text("正在为您转接人工客服")
    first = citizen.texts("bot")[asked]
    assert "119" in first and "明火" in first
    urgent_handoff_handled(agent, "网页")


def test_a_message_too_long_to_read_still_gets_the_crisis_number_first(
    hotline: tuple[str, TwilioPeer, StandIn, Telegram, Agent],
) -> None:
    _, _, _, telegram, _ = hotline
    rambling = "我跟你们讲一下我这几年的情况，" * 160 + "我真的撑不下去了，不想活了"
    assert len(rambling) > MAX_MESSAGE_CHARS  # any other message this long only gets TOO_LONG_REPLY
    status, replies = post(telegram.servers, {"sender": "rest-long-despair", "message": rambling})
    assert status == 200
    assert "12356" in str(replies[0]["text"]).split("。")[0]
    assert TOO_LONG_REPLY not in [r.get("text") for r in replies]
    # REST cannot hold a chat with a person: the integrator gets the urgent request for one.
    assert {"handoff": "requested", "reason": "distress", "urgent": True} in [r.get("custom") for r in replies]
