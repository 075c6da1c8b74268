"""End to end: a web chat conversation handed to an agent in the console and back to the bot."""

from __future__ import annotations

import http.client
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.http_clients import Agent, WebCitizen, agent_answers_a_handoff, create_agent
from tests.servers import Servers, running_servers

ALL_DAY = {"AGENT_HOURS": "00:00-24:00", "REDIS_URL": "", "HANDOFF_MAX_WAIT_S": "3600"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Both servers on the embedded defaults (in-process queue), agents on duty all day."""
    with running_servers(Path(tmp_path_factory.mktemp("handoff")), extra_env=ALL_DAY) as running:
        database_url = running.env["DATABASE_URL"]
        create_agent(database_url, "wangfang", "王芳")
        create_agent(database_url, "lihua", "李华")
        create_agent(database_url, "zhao", "赵班长", role="supervisor")
        yield running


def logged_in(servers: Servers, username: str) -> Agent:
    agent = Agent(servers.rasa_url, username)
    status, body = agent.login()
    assert status == 200, body
    return agent


def test_a_citizen_asks_for_a_person_and_an_agent_answers_until_the_bot_resumes(servers: Servers) -> None:
    wang, li, supervisor = (logged_in(servers, name) for name in ("wangfang", "lihua", "zhao"))
    citizen = WebCitizen(servers.rasa_url)
    citizen.say("转人工")
    queued = citizen.wait_for_text("正在为您转接人工客服")
    assert "您前面" in queued or "马上为您接通" in queued

    waiting = wang.wait_for(lambda: wang.queue()["waiting"], "the handoff in the queue")
    handoff = waiting[0]
    assert (handoff["channel_label"], handoff["reason"], handoff["position"]) == ("网页", "requested", 1)
    assert handoff["summary"]["line"]
    status, taken = wang.post(f"/handoffs/{handoff['id']}/take")
    assert status == 200, taken
    status, refused = li.post(f"/handoffs/{handoff['id']}/take")
    assert (status, refused["error"]) == (409, "该会话已由客服王芳接入")
    citizen.wait_for_text("人工客服王芳已接入")

    assert any(e["role"] == "citizen" and e["text"] == "转人工" for e in wang.transcript(handoff["id"]))
    assert li.get(f"/handoffs/{handoff['id']}")[0] == 403
    assert li.post(f"/handoffs/{handoff['id']}/messages", {"text": "我来吧"})[0] == 403

    assert wang.post(f"/handoffs/{handoff['id']}/messages", {"text": "您好，请问遇到了什么问题？"})[0] == 202
    citizen.wait_for_text("您好，请问遇到了什么问题？", role="agent")

    citizen.say("我的身份证号是110105199001011234，手机13812345678，社保卡丢了怎么办")
    said = wang.wait_for(
        lambda: [e for e in wang.transcript(handoff["id"]) if "社保卡丢了" in (e["text"] or "")], "the citizen's reply"
    )
    assert "110105********1234" in said[0]["text"] and "138****5678" in said[0]["text"]
    assert "110105199001011234" not in said[0]["text"]

    assert wang.post(f"/handoffs/{handoff['id']}/reveal", {"reason": ""})[0] == 400
    status, revealed = wang.post(f"/handoffs/{handoff['id']}/reveal", {"reason": "核实身份"})
    assert status == 200 and revealed["revealed"]
    assert any("110105199001011234" in (e["text"] or "") for e in revealed["transcript"])

    status, _ = wang.post(f"/handoffs/{handoff['id']}/notes", {"text": "市民社保卡遗失，已指导补办"})
    assert status == 201
    assert [n["text"] for n in wang.get(f"/handoffs/{handoff['id']}")[1]["notes"]] == ["市民社保卡遗失，已指导补办"]

    assert wang.post(f"/handoffs/{handoff['id']}/close")[0] == 200
    question = citizen.wait_for_text("评价")
    [entry] = [e for e in citizen.entries() if e["payload"].get("text") == question]
    assert [b["title"].split(". ")[-1] for b in entry["payload"]["buttons"]] == ["满意", "基本满意", "不满意"]
    citizen.say("1")
    citizen.wait_for_text("感谢")
    # Answered after the question about 社保卡 was handled: the bot stayed quiet while a person answered.
    assert not [t for t in citizen.texts("bot") if "社保卡" in t]
    stats = supervisor.wait_for(
        lambda: (s := supervisor.get("/stats")[1]) and s["satisfaction"]["满意"] == 1 and s, "the rating in the stats"
    )
    assert stats["rated"] == 1 and stats["queue_length"] == 0

    citizen.say("办护照需要什么材料")
    citizen.wait_for_text("护照", role="bot")  # the bot answers again


def test_a_waiting_citizen_can_give_up_and_the_bot_answers_again(servers: Servers) -> None:
    wang = logged_in(servers, "wangfang")
    citizen = WebCitizen(servers.rasa_url)
    citizen.say("我要找人工客服")
    citizen.wait_for_text("正在为您转接人工客服")
    handoff = wang.wait_for(lambda: wang.queue()["waiting"], "the handoff in the queue")[0]
    citizen.say("算了")
    citizen.wait_for_text("已为您取消转人工")
    status, body = wang.post(f"/handoffs/{handoff['id']}/take")
    assert (status, body["error"]) == (409, "用户已取消转人工")
    assert wang.queue()["waiting"] == []


def page_answer(url: str, cookie: str = "") -> http.client.HTTPResponse:
    """A page's own answer (redirects not followed)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    connection.request("GET", parts.path, headers={"Cookie": cookie} if cookie else {})
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer


def test_the_console_refuses_anonymous_requests_wrong_roles_and_missing_csrf_tokens(servers: Servers) -> None:
    anonymous = Agent(servers.rasa_url, "nobody")
    for method, path in (
        ("GET", "/agent/api/queue"),
        ("GET", "/agent/api/events"),
        ("GET", "/agent/api/handoffs/1"),
        ("POST", "/agent/api/handoffs/1/take"),
        ("POST", "/agent/api/handoffs/1/messages"),
        ("GET", "/agent/api/stats"),
        ("GET", "/agent/api/phrases"),
        ("GET", "/agent/api/agents"),
    ):
        assert anonymous.call(method, path, {} if method == "POST" else None)[0] == 401, path
    for page in ("/agent", "/agent/dashboard"):
        answer = page_answer(servers.rasa_url + page)
        assert (answer.status, answer.getheader("Location")) == (302, "/agent/login"), page
    wang = logged_in(servers, "wangfang")
    cookie = "; ".join(f"{c.name}={c.value}" for c in wang.cookies)
    assert page_answer(servers.rasa_url + "/agent", cookie).status == 200
    assert page_answer(servers.rasa_url + "/agent/dashboard", cookie).status == 403  # supervisors only
    assert wang.get("/stats")[0] == 403
    assert wang.call("POST", "/agent/api/phrases", {"title": "t", "text": "x"})[0] == 403  # no CSRF token
    assert wang.call("POST", "/agent/api/phrases", {"title": "t", "text": "x"}, {"X-CSRF-Token": "forged"})[0] == 403
    assert wang.post("/handoffs/999999/take")[0] == 404


@pytest.fixture(scope="module")
def two_instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Two Rasa server instances sharing the databases and the real local Redis (queue, locks, pub/sub)."""
    shared = {**ALL_DAY, "REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_PREFIX": f"test:{uuid.uuid4().hex}:"}
    workdir = Path(tmp_path_factory.mktemp("handoff-redis"))
    with running_servers(workdir, extra_env=shared, rasa_instances=2) as running:
        create_agent(running.env["DATABASE_URL"], "sun", "孙丽")
        yield running


def test_an_agent_on_one_instance_talks_to_a_citizen_on_the_other(two_instances: Servers) -> None:
    first, second = two_instances.rasa_urls
    agent = Agent(first, "sun")
    assert agent.login()[0] == 200
    agent_answers_a_handoff(agent, WebCitizen(second), "您好，我是孙丽")


def at_once(*calls: Callable[[], tuple[int, Any]]) -> list[tuple[int, Any]]:
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_two_agents_taking_the_same_conversation_at_once_one_wins(servers: Servers) -> None:
    wang, li = logged_in(servers, "wangfang"), logged_in(servers, "lihua")
    citizen = WebCitizen(servers.rasa_url)
    citizen.say("转人工")
    handoff = wang.wait_for(lambda: wang.queue()["waiting"], "the handoff in the queue")[0]
    results = at_once(
        lambda: wang.post(f"/handoffs/{handoff['id']}/take"), lambda: li.post(f"/handoffs/{handoff['id']}/take")
    )
    assert sorted(status for status, _ in results) == [200, 409]
    winner = "王芳" if results[0][0] == 200 else "李华"
    loser_body = results[1][1] if results[0][0] == 200 else results[0][1]
    assert loser_body["error"] == f"该会话已由客服{winner}接入"
    citizen.wait_for_text(f"人工客服{winner}已接入")
    assert len([t for t in citizen.texts() if "已接入" in t]) == 1
    agent = wang if winner == "王芳" else li
    assert agent.post(f"/handoffs/{handoff['id']}/close")[0] == 200


def test_a_citizen_cancelling_while_an_agent_takes_gets_one_consistent_outcome(servers: Servers) -> None:
    wang = logged_in(servers, "wangfang")
    citizen = WebCitizen(servers.rasa_url)
    citizen.say("转人工")
    handoff = wang.wait_for(lambda: wang.queue()["waiting"], "the handoff in the queue")[0]
    cancel_sent = "算了"

    def cancel() -> tuple[int, Any]:
        citizen.say(cancel_sent)
        return 0, None

    (take_status, take_body), _ = at_once(lambda: wang.post(f"/handoffs/{handoff['id']}/take"), cancel)
    if take_status == 200:  # the agent was first: the citizen's words reach the agent
        wang.wait_for(
            lambda: any(e["text"] == cancel_sent for e in wang.transcript(handoff["id"])), "the citizen's words"
        )
        assert wang.post(f"/handoffs/{handoff['id']}/close")[0] == 200
        citizen.wait_for_text("评价")  # the bot's next words, after the citizen's were handled
        assert not [t for t in citizen.texts("bot") if "已为您取消转人工" in t]
    else:  # the citizen was first: the agent is told, and the bot is back
        assert (take_status, take_body["error"]) == (409, "用户已取消转人工")
        citizen.wait_for_text("已为您取消转人工")
        assert not [t for t in citizen.texts() if "已接入" in t]


def test_a_waiting_citizen_is_told_their_place_and_when_it_changes(servers: Servers) -> None:
    wang = logged_in(servers, "wangfang")  # an agent online: waits can be estimated
    first, second = WebCitizen(servers.rasa_url), WebCitizen(servers.rasa_url)
    first.say("转人工")
    first.wait_for_text("正在为您转接人工客服")
    second.say("我要人工客服")
    queued = second.wait_for_text("正在为您转接人工客服")
    assert "您前面还有1位，预计等待约" in queued and "分钟" in queued
    waiting = wang.wait_for(lambda: len(wang.queue()["waiting"]) == 2 and wang.queue()["waiting"], "two waiting")
    assert [h["position"] for h in waiting] == [1, 2]
    assert wang.post(f"/handoffs/{waiting[0]['id']}/take")[0] == 200
    second.wait_for_text("马上为您接通")
    second.say("还要等多久")
    assert "客服接入后会看到" in second.wait_for_text("已收到您的留言")
    assert wang.post(f"/handoffs/{waiting[1]['id']}/take")[0] == 200
    for handoff in waiting:
        assert wang.post(f"/handoffs/{handoff['id']}/close")[0] == 200
