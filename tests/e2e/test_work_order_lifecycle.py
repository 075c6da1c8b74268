"""End to end: a complaint by SMS becomes a work order that a department works on through its API.

The department accepts, returns it (the dispatcher sends it back), extends it, lets the deadline
pass (the scheduler escalates it), notes progress and closes it; the citizen is told each step by
SMS, asked for 回访 after 办结, and a 不满意 reopens the order with the citizen's words.
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core import clock
from tests.conftest import bot_command
from tests.servers import Servers, new_department_key, running_servers, stored_order
from tests.standins import Recorded, StandIn, running_standin
from tests.twilio_peer import TwilioPeer, sms_to, twilio_api, twilio_env

CITIZEN = "+8613955553001"


@pytest.fixture(scope="module")
def hotline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Servers, TwilioPeer, StandIn]]:
    """Both servers with SMS at its stand-in; the outbox is delivered every half second."""
    with running_standin(twilio_api) as twilio:
        env = {**twilio_env(twilio.url), "REDIS_URL": "", "OUTBOX_EVERY_S": "0.5"}
        with running_servers(Path(tmp_path_factory.mktemp("lifecycle")), extra_env=env) as servers:
            yield servers, TwilioPeer(servers.rasa_url), twilio


def texts_so_far(twilio: StandIn) -> list[Recorded]:
    """The SMS sent to the citizen so far."""
    return twilio.matching(sms_to(CITIZEN))


def texted(twilio: StandIn, fragment: str, earlier: list[Recorded]) -> str:
    """The body of the first SMS to the citizen, not among ``earlier``, containing ``fragment``, once it is sent."""

    def new_and_matching(request: Recorded) -> bool:
        return sms_to(CITIZEN)(request) and fragment in request.form["Body"] and all(request is not e for e in earlier)

    return str(twilio.wait_for(new_and_matching, timeout_s=60).form["Body"])


def sms(peer: TwilioPeer, twilio: StandIn, text: str) -> list[Recorded]:
    """The citizen texts ``text``; the SMS they had been sent before (their answer comes after those)."""
    earlier = texts_so_far(twilio)
    peer.sms(CITIZEN, text)
    return earlier


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def department_call(servers: Servers, key: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One call of the department API with the department's key."""
    request = urllib.request.Request(
        f"{servers.rasa_url}/dept/api{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def orders_command(servers: Servers, *args: str) -> str:
    """``python -m bot orders …`` against the servers' database; its output."""
    done = bot_command("orders", *args, env=servers.env, timeout=300)
    done.check_returncode()
    return done.stdout


def test_a_complaint_goes_through_its_whole_life(hotline: tuple[Servers, TwilioPeer, StandIn]) -> None:
    servers, peer, twilio = hotline
    url = servers.env["DATABASE_URL"]

    # Intake by SMS: what, where and for how long in one message (all kept, none asked again); the
    # verified number as contact; read back with both.
    texted(twilio, "尾号3001", sms(peer, twilio, "我要投诉，天河区天河路100号楼下的烧烤店油烟太大，已经一个星期了"))
    read_back = texted(twilio, "确认", sms(peer, twilio, "可以"))
    assert "天河路100号" in read_back and "尾号3001" in read_back
    assert "一个星期" in read_back
    filed = texted(twilio, "工单号", sms(peer, twilio, "确认提交"))
    [number] = re.findall(r"WO\d{13}", filed)
    order = run(stored_order(url, number))
    assert order.department and order.department in filed
    key = run(new_department_key(url, order.department))

    # The department works on it through its API; each step reaches the citizen by SMS.
    status, listed = department_call(servers, key, "GET", "/orders")
    assert status == 200 and number in [o["number"] for o in listed["orders"]]
    earlier = texts_so_far(twilio)
    assert department_call(servers, key, "POST", f"/orders/{number}/accept", {})[0] == 200
    texted(twilio, "签收", earlier)

    # The department returns it (not theirs); the dispatcher sends it back; it is accepted again.
    returned = {"reason": "该店位于越秀区，请核实地址"}
    assert department_call(servers, key, "POST", f"/orders/{number}/return", returned)[0] == 200
    assert run(stored_order(url, number)).department is None  # back in the dispatcher queue
    assert department_call(servers, key, "GET", f"/orders/{number}")[0] == 404  # no longer theirs
    assert number in orders_command(servers, "dispatch", number, order.department)
    assert department_call(servers, key, "POST", f"/orders/{number}/accept", {})[0] == 200

    # An extension, then the (extended) deadline passes: the scheduler escalates it (督办).
    extension = {"reason": "需协调城管联合执法", "days": 3}
    earlier = texts_so_far(twilio)
    assert department_call(servers, key, "POST", f"/orders/{number}/extend", extension)[0] == 200
    texted(twilio, "办理时限延长至", earlier)
    due = run(stored_order(url, number)).due_at
    assert "督办1件" in orders_command(servers, "tick", "--now", (due + timedelta(hours=1)).isoformat())
    assert run(stored_order(url, number)).state == "督办"

    earlier = texts_so_far(twilio)
    assert department_call(servers, key, "POST", f"/orders/{number}/progress", {"text": "已上门检查"})[0] == 200
    texted(twilio, "已上门检查", earlier)
    reply = {"reply": "已责令店主加装油烟净化器"}
    earlier = texts_so_far(twilio)
    assert department_call(servers, key, "POST", f"/orders/{number}/close", reply)[0] == 200
    texted(twilio, "已责令店主加装油烟净化器", earlier)
    assert department_call(servers, key, "POST", f"/orders/{number}/close", {"reply": "again"})[0] == 409

    # 回访: the scheduler asks a day later; the citizen is not satisfied, so the order is reopened.
    later = (clock.now() + timedelta(hours=25)).isoformat(timespec="seconds")
    earlier = texts_so_far(twilio)
    assert "回访" in orders_command(servers, "tick", "--now", later)
    question = texted(twilio, "解决了吗", earlier)
    assert number in question
    texted(twilio, "满意", sms(peer, twilio, "未解决"))
    texted(twilio, "还有什么问题", sms(peer, twilio, "不满意"))
    texted(twilio, "重新交办", sms(peer, twilio, "油烟还是很大，晚上根本开不了窗"))
    reopened = run(stored_order(url, number))
    assert reopened.state == "办理中"
    actions = [event.action for event in reopened.events]
    for step in ("file", "dispatch", "accept", "return", "extend", "escalate", "progress", "close", "reopen"):
        assert step in actions, (step, actions)
    assert actions.index("return") < actions.index("extend") < actions.index("close") < actions.index("reopen")
    status, detail = department_call(servers, key, "GET", f"/orders/{number}")
    assert status == 200 and detail["state"] == "办理中" and detail["reopened"] == 1
    assert any("开不了窗" in note["text"] for note in detail["notes"])
