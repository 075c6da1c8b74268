"""Slow and failing action servers: the phone holds and picks the answer up; a citizen always gets an answer."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from channels.text import BUSY_REPLY
from tests.servers import Servers, running_servers
from tests.standins import Recorded, StandIn, running_standin
from tests.twilio_peer import TwilioPeer, VoiceCall, sms_to, spoken, twilio_env

ACTION_DELAY_S = 2.0


class SlowActionServer:
    """A stand-in in front of the real action server that answers every call ``ACTION_DELAY_S`` late."""

    def __init__(self) -> None:
        self.target = ""

    def __call__(self, request: Recorded) -> tuple[int, Any]:
        """Forward the call after the delay."""
        time.sleep(ACTION_DELAY_S)  # the slowness being simulated, not a synchronisation
        headers = {"Content-Type": "application/json"}
        forwarded = requests.post(self.target, data=request.body, headers=headers, timeout=30)
        return forwarded.status_code, forwarded.json()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, twilio: StandIn) -> Iterator[Servers]:
    """The servers with the action server behind the slow stand-in and a 3-second reply budget."""
    slow = SlowActionServer()
    with running_standin(slow) as proxy:
        env = {**twilio_env(twilio.url), "VOICE_REPLY_WAIT_S": "3", "ACTION_SERVER_URL": f"{proxy.url}/webhook"}
        with running_servers(tmp_path_factory.mktemp("slow"), extra_env=env) as running:
            slow.target = running.action_url
            yield running


def test_a_slow_answer_is_held_and_picked_up_by_a_redirect(servers: Servers) -> None:
    call = VoiceCall(TwilioPeer(servers.rasa_url), "+8613700007777")
    call.start()
    answer = call.say("办护照要带什么")
    first = call.documents[1]  # the first answer to the utterance
    redirect = first.find("Redirect")
    assert redirect is not None and (redirect.text or "").startswith("/webhooks/voice/wait?turn=1&attempt=1")
    assert "请稍等" in spoken(first)
    assert first.find("Gather") is None
    assert "哪种情况" in spoken(answer)  # the answer, fetched by Twilio's redirect
    assert answer.find("Gather") is not None


def test_an_action_server_that_is_down_gets_the_citizen_a_clear_answer(servers: Servers, twilio: StandIn) -> None:
    # Last in this module: it stops the action server.
    os.kill(servers.pids["actions"], signal.SIGKILL)  # the action server crashes
    os.waitpid(servers.pids["actions"], 0)  # it has exited
    peer = TwilioPeer(servers.rasa_url)
    peer.sms("+8613700008888", "办护照要带什么")
    assert twilio.wait_for(sms_to("+8613700008888"), timeout_s=60).form["Body"] == BUSY_REPLY
    call = VoiceCall(peer, "+8613700009999")
    call.start()
    assert "系统繁忙" in spoken(call.say("办护照要带什么"))
