"""End to end: when nobody can take a conversation (a long wait, outside service hours) a callback is filed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core import clock
from tests.http_clients import WebCitizen
from tests.servers import Servers, running_servers
from tests.standins import StandIn, running_standin
from tests.twilio_peer import TwilioPeer, sms_to, twilio_api, twilio_env


def closed_hours() -> str:
    """An AGENT_HOURS window that does not contain the present moment (China time)."""
    start = clock.in_china(clock.now()) + timedelta(hours=2)
    end = start + timedelta(hours=1)
    return f"{start:%H:00}-{end:%H:00}"


@pytest.fixture(scope="module")
def quick_timeout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TwilioPeer, StandIn]]:
    """Agents on duty, but a citizen waits at most two seconds."""
    with running_standin(twilio_api) as twilio:
        env = {**twilio_env(twilio.url), "REDIS_URL": "", "HANDOFF_MAX_WAIT_S": "2", "HANDOFF_SWEEP_S": "0.5"}
        with running_servers(Path(tmp_path_factory.mktemp("callback")), extra_env=env) as servers:
            yield TwilioPeer(servers.rasa_url), twilio


def test_nobody_takes_the_conversation_so_a_callback_is_filed_and_the_bot_resumes(
    quick_timeout: tuple[TwilioPeer, StandIn],
) -> None:
    peer, twilio = quick_timeout
    citizen = "+8613955552001"
    peer.sms(citizen, "转人工")
    assert "转接人工客服" in twilio.wait_for(sms_to(citizen)).form["Body"]
    notice = twilio.wait_for(lambda r: sms_to(citizen)(r) and "回电工单" in r.form["Body"]).form["Body"]
    assert re.search(r"WO\d{13}", notice) and "尾号2001" in notice
    peer.sms(citizen, "办护照要带什么材料")
    twilio.wait_for(lambda r: sms_to(citizen)(r) and "护照" in r.form["Body"])  # the bot answers again


@pytest.fixture(scope="module")
def after_hours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Servers, TwilioPeer, StandIn]]:
    """Outside the agents' hours."""
    with running_standin(twilio_api) as twilio:
        env = {**twilio_env(twilio.url), "REDIS_URL": "", "AGENT_HOURS": closed_hours()}
        with running_servers(Path(tmp_path_factory.mktemp("after-hours")), extra_env=env) as servers:
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
