"""End to end: a web chat citizen without a verified phone files a complaint giving a number.

The department accepts, notes progress and closes it through its API; the number given gets an SMS
(Twilio's REST API, at its stand-in) for each step, and the citizen follows the order up in the
same conversation without being asked to prove anything. A day after closing, the 回访 reaches the
number by SMS, like a verified citizen's, and its answers by SMS are recorded.
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
from tests.http_clients import WebCitizen
from tests.servers import Servers, new_department_key, running_servers, stored_order
from tests.standins import Recorded, StandIn, running_standin
from tests.twilio_peer import TwilioPeer, sms_to, twilio_api, twilio_env

GIVEN = "13800138000"
TEXTED_TO = "+86" + GIVEN
# Filing classifies the report: the action server fits its classifier as it starts (minutes on a busy machine).
CLASSIFIER_READY_S = 600.0


@pytest.fixture(scope="module")
def hotline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Servers, StandIn]]:
    """Both servers with SMS at its stand-in; the outbox is delivered every half second."""
    with running_standin(twilio_api) as twilio:
        env = {**twilio_env(twilio.url), "REDIS_URL": "", "OUTBOX_EVERY_S": "0.5"}
        with running_servers(Path(tmp_path_factory.mktemp("promises")), extra_env=env) as servers:
            yield servers, twilio


def department_call(servers: Servers, key: str, path: str, body: Any) -> int:
    """One POST to the department API with the department's key; its status."""
    request = urllib.request.Request(
        f"{servers.rasa_url}/dept/api{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def texted(twilio: StandIn, fragment: str, earlier: list[Recorded] | None = None) -> str:
    """The body of the SMS to the number given that contains ``fragment`` (not one of ``earlier``), once it is sent."""

    def matching(request: Recorded) -> bool:
        new = all(request is not old for old in earlier or [])
        return sms_to(TEXTED_TO)(request) and fragment in request.form["Body"] and new

    return str(twilio.wait_for(matching, timeout_s=120).form["Body"])


def test_the_number_given_is_texted_each_step_and_the_order_followed_here(
    hotline: tuple[Servers, StandIn],
) -> None:
    servers, twilio = hotline
    url = servers.env["DATABASE_URL"]
    citizen = WebCitizen(servers.rasa_url)

    citizen.say("我要投诉，天河区天河路100号楼下的烧烤店油烟太大，已经一个星期了")
    citizen.wait_for_text("联系电话", role="bot")  # how long it has gone on was said: kept, not asked again
    citizen.say(GIVEN)
    read_back = citizen.wait_for_text("请核对", role="bot")
    assert "138****8000" in read_back and GIVEN not in read_back
    servers.wait_for_log("actions", "appeal classifier ready", timeout_s=CLASSIFIER_READY_S)
    citizen.say("确认提交")
    filed = citizen.wait_for_text("工单号", role="bot", timeout_s=60)
    assert "办理结果会通过您留的电话138****8000告诉您" in filed
    [number] = re.findall(r"WO\d{13}", filed)
    order = asyncio.run(stored_order(url, number))
    assert order.department and order.department in filed and "前会给您答复" in filed
    key = asyncio.run(new_department_key(url, order.department))

    assert department_call(servers, key, f"/orders/{number}/accept", {}) == 200
    assert texted(twilio, "签收") == f"您的工单{number}已由{order.department}签收，正在办理。"
    assert department_call(servers, key, f"/orders/{number}/progress", {"text": "已约店主整改"}) == 200
    assert texted(twilio, "新进展") == f"您的工单{number}有新进展（{order.department}）：已约店主整改。"
    assert department_call(servers, key, f"/orders/{number}/close", {"reply": "已责令安装油烟净化器"}) == 200
    closed = texted(twilio, "已办结")
    assert closed.startswith(f"您的工单{number}已办结。{order.department}答复：已责令安装油烟净化器。")
    assert len(twilio.matching(sms_to(TEXTED_TO))) == 3

    # The same conversation follows the order up: no ownership question, no refusal.
    citizen.say(f"查一下工单{number}的进度")
    shown = citizen.wait_for_text("当前状态", role="bot")
    assert shown.startswith(f"工单号{number}（投诉）") and "已办结" in shown
    assert not any("登记时没有验证手机号" in text or "后四位" in text for text in citizen.texts("bot"))

    # 回访 a day later, by SMS to the number given, like a verified citizen's; its answers by SMS are recorded.
    later = (clock.now() + timedelta(hours=25)).isoformat(timespec="seconds")
    tick = bot_command("orders", "tick", "--now", later, env=servers.env, timeout=300)
    assert "回访提醒1件" in tick.stdout and "无法回访" not in tick.stdout, tick.stdout + tick.stderr
    question = texted(twilio, "解决了吗")
    assert number in question and "已责令安装油烟净化器" in question
    peer = TwilioPeer(servers.rasa_url)
    earlier = twilio.matching(sms_to(TEXTED_TO))
    peer.sms(TEXTED_TO, "解决了")
    texted(twilio, "满意", earlier)
    earlier = twilio.matching(sms_to(TEXTED_TO))
    peer.sms(TEXTED_TO, "满意")
    assert f"工单{number}的回访已完成" in texted(twilio, "回访已完成", earlier)
    assert asyncio.run(stored_order(url, number)).state == "已回访"
