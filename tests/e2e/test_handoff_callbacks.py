"""End to end: when nobody can take a conversation (a long wait, outside service hours) a callback is filed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core import clock
from channels.twilio.speech import speakable
from tests.http_clients import WebCitizen
from tests.servers import Servers, running_servers
from tests.standins import StandIn, running_standin
from tests.twilio_peer import TwilioPeer, VoiceCall, sms_to, spoken, twilio_api, twilio_env


def closed_hours() -> str:
    """An AGENT_HOURS window that does not contain the present moment (China time)."""
    start = clock.in_china(clock.now()) + timedelta(hours=2)
    end = start + timedelta(hours=1)
    return f"{start:%H:00}-{end:%H:00}"


@contextmanager
def twilio_hotline(
    tmp_path_factory: pytest.TempPathFactory, name: str, **env: str
) -> Iterator[tuple[Servers, StandIn]]:
    """Both servers with Twilio at its stand-in, on the embedded defaults, with these settings."""
    with running_standin(twilio_api) as twilio:
        settings = {**twilio_env(twilio.url), "REDIS_URL": "", **env}
        with running_servers(Path(tmp_path_factory.mktemp(name)), extra_env=settings) as servers:
            yield servers, twilio


@pytest.fixture(scope="module")
def quick_timeout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TwilioPeer, StandIn, str]]:
    """Agents on duty, but a citizen waits at most two seconds."""
    with twilio_hotline(tmp_path_factory, "callback", HANDOFF_MAX_WAIT_S="2", HANDOFF_SWEEP_S="0.5") as (
        servers,
        twilio,
    ):
        yield TwilioPeer(servers.rasa_url), twilio, servers.rasa_url


def test_nobody_takes_the_conversation_so_a_callback_is_filed_and_the_bot_resumes(
    quick_timeout: tuple[TwilioPeer, StandIn, str],
) -> None:
    peer, twilio, _ = quick_timeout
    citizen = "+8613955552001"
    peer.sms(citizen, "转人工")
    assert "转接人工客服" in twilio.wait_for(sms_to(citizen)).form["Body"]
    notice = twilio.wait_for(lambda r: sms_to(citizen)(r) and "回电工单" in r.form["Body"]).form["Body"]
    assert re.search(r"WO\d{13}", notice) and "尾号2001" in notice
    peer.sms(citizen, "办护照要带什么材料")
    twilio.wait_for(lambda r: sms_to(citizen)(r) and "护照" in r.form["Body"])  # the bot answers again


def test_an_unverified_chat_nobody_took_in_service_hours_is_not_sent_to_service_hours_and_the_bot_resumes(
    quick_timeout: tuple[TwilioPeer, StandIn, str],
) -> None:
    _, _, rasa_url = quick_timeout
    citizen = WebCitizen(rasa_url)
    citizen.say("转人工")
    notice = citizen.wait_for_text("暂时无法为您接通人工客服")
    assert "稍后再联系我们" in notice and "人工服务时间" not in notice
    citizen.say("办护照要带什么材料")
    citizen.wait_for_text("护照", role="bot")  # no longer waiting for a person: the bot answers


def test_an_urgent_handoff_is_never_closed_by_the_waiting_timeout(
    quick_timeout: tuple[TwilioPeer, StandIn, str],
) -> None:
    _, _, rasa_url = quick_timeout
    urgent, ordinary = WebCitizen(rasa_url), WebCitizen(rasa_url)
    urgent.say("我真的撑不下去了")
    urgent.wait_for_text("正在为您转接人工客服")
    ordinary.say("转人工")
    # The ordinary handoff came later: the sweep that timed it out found the urgent one past its time too.
    ordinary.wait_for_text("暂时无法为您接通人工客服")
    assert not [t for t in urgent.texts("bot") if "无法为您接通" in t]
    urgent.say("还有人吗")
    urgent.wait_for_text("已收到您的留言")  # still waiting for a person


@pytest.fixture(scope="module")
def no_agent_line(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwilioPeer]:
    """Agents on duty, but no agent line for phone calls."""
    with twilio_hotline(tmp_path_factory, "no-line", AGENT_PHONE_NUMBER="") as (servers, _):
        yield TwilioPeer(servers.rasa_url)


def test_pressing_0_without_an_agent_line_says_no_line_is_available_not_that_it_is_out_of_hours(
    no_agent_line: TwilioPeer,
) -> None:
    call = VoiceCall(no_agent_line, "+8613955552003")
    call.start()
    document = call.press("0")
    said = spoken(document)
    assert "没有可以接听的人工坐席" in said and "不是人工服务时间" not in said
    assert "回电" in said and document.find("Hangup") is not None


def test_despair_on_a_call_without_an_agent_line_still_hears_12356_first(no_agent_line: TwilioPeer) -> None:
    call = VoiceCall(no_agent_line, "+8613955552004")
    call.start()
    document = call.say("活着没意思 我想一睡不醒算了")
    says = [say.text or "" for say in document.iter("Say")]
    assert speakable("12356").rstrip("。") in says[0] and "没有可以接听的人工坐席" in says[-1]


@pytest.fixture(scope="module")
def after_hours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Servers, TwilioPeer, StandIn]]:
    """Outside the agents' hours."""
    with twilio_hotline(tmp_path_factory, "after-hours", AGENT_HOURS=closed_hours()) as (servers, twilio):
        yield servers, TwilioPeer(servers.rasa_url), twilio


def test_outside_service_hours_a_known_number_gets_a_callback_order(
    after_hours: tuple[Servers, TwilioPeer, StandIn],
) -> None:
    _, peer, twilio = after_hours
    citizen = "+8613955552002"
    peer.sms(citizen, "我要找人工")
    answer = twilio.wait_for(sms_to(citizen)).form["Body"]
    assert "非人工服务时间" in answer and "回电工单" in answer and re.search(r"WO\d{13}", answer)


def test_outside_service_hours_an_unverified_chat_is_told_how_to_get_a_callback(
    after_hours: tuple[Servers, TwilioPeer, StandIn],
) -> None:
    servers, _, _ = after_hours
    citizen = WebCitizen(servers.rasa_url)
    citizen.say("转人工")
    answer = citizen.wait_for_text("非人工服务时间")
    assert "验证手机号" in answer and "WO" not in answer
