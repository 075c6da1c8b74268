"""End to end: `python -m bot run-prod` (what `make run-prod` runs), two Rasa instances behind nginx.

The launcher runs as a person runs it, on a PostgreSQL database it creates and a Redis database of
the real local servers, with Twilio's REST API at a local stand-in. Everything below goes through
nginx only: the web chat page in Chromium, signed SMS webhooks, the agent console and its event
stream. nginx sends each request to the next instance, so one conversation's turns are handled by
both instances (the launcher's lines say which: `rasa1 | …`, `rasa2 | …`).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, expect
from twilio.request_validator import RequestValidator

from bot.cli.serve import wait_until_up
from bot.core.settings import PROJECT_ROOT
from tests.conftest import POSTGRES_ADMIN_URL, drop_postgres_database
from tests.http_clients import Agent, WebCitizen, agent_answers_a_handoff, create_agent
from tests.servers import consecutive_ports, free_port, wait_for_log_line
from tests.standins import StandIn, running_standin
from tests.twilio_peer import ACCOUNT_SID, AUTH_TOKEN, HOTLINE_NUMBER, sms_to, twilio_api, twilio_env

MODEL = PROJECT_ROOT / "models" / "current.tar.gz"


@dataclass
class Prod:
    """The running launcher: nginx's address, its output, the database it made."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    database_url: str
    twilio: StandIn

    def output(self) -> str:
        """Everything the launcher and its servers printed so far."""
        return self.log.read_text(errors="replace")


def launch(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """`python -m bot run-prod` with two instances, its output to ``log``."""
    command = [sys.executable, "-m", "bot", "run-prod", "--instances", "2", "--port", str(port)]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)


def prod_env(database_url: str, twilio: StandIn) -> dict[str, str]:
    """The launcher's environment: its own database, a Redis prefix of its own, Twilio at the stand-in."""
    env = {
        **os.environ,
        **twilio_env(twilio.url),
        "DATABASE_URL": database_url,
        "REDIS_URL": "redis://127.0.0.1:6379/4",
        "REDIS_PREFIX": f"test:{uuid.uuid4().hex}:",
        "RASA_PORT": str(consecutive_ports()),
        "ACTION_SERVER_PORT": str(free_port()),
        "ACTION_SERVER_TOKEN": uuid.uuid4().hex,
        "HANDOFF_MAX_WAIT_S": "3600",
        "SANIC_GRACEFUL_SHUTDOWN_TIMEOUT": "1",
        "LOG_LEVEL": "INFO",
    }
    for name in ("ACTION_SERVER_URL", "TRACKER_STORE_URL", "PUBLIC_BASE_URL"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prod]:
    """The launcher on a database that does not exist yet (it creates it); stopped and dropped at the end."""
    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} is missing: `make test` trains it first")
    database_url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/hotline_prod_test_{uuid.uuid4().hex[:10]}"
    log = tmp_path_factory.mktemp("run-prod") / "run-prod.log"
    port = free_port()
    with running_standin(twilio_api) as twilio:
        process = launch(prod_env(database_url, twilio), port, log)
        try:
            url = f"http://127.0.0.1:{port}"
            if not wait_until_up(f"{url}/webhooks/rest/", process, 300):
                raise RuntimeError("run-prod did not start:\n" + log.read_text(errors="replace")[-4000:])
            wait_for_log_line(log, "按 Ctrl-C 停止", timeout_s=30)  # nginx answers just before the launcher says so
            # Before the browser's tests: Playwright keeps an event loop running in this thread afterwards.
            create_agent(database_url, "zhou", "周敏")
            yield Prod(url, process, log, database_url, twilio)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
            asyncio.run(drop_postgres_database(database_url))


def instances_that_took(prod: Prod, session: str) -> set[str]:
    """The instances whose log says they took a message of this web chat session."""
    pattern = re.compile(rf"^(rasa\d)\s*\| .*web chat {session[:8]}: message \d+ taken", re.MULTILINE)
    return set(pattern.findall(prod.output()))


def test_it_starts_behind_nginx_on_a_database_it_created(prod: Prod) -> None:
    text = prod.output()
    assert "已创建数据库" in text
    assert f"nginx {prod.url} → Rasa" in text
    assert "rasa1   | " in text and "rasa2   | " in text and "actions | " in text
    health = requests.get(f"{prod.url}/webhooks/rest/", timeout=10)
    assert health.status_code == 200


def test_a_web_chat_conversation_in_the_browser_goes_on_across_both_instances(prod: Prod, browser: Browser) -> None:
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    page.goto(f"{prod.url}/chat")
    expect(page.locator("body")).to_have_attribute("data-connection", "open")
    page.get_by_label("输入您的问题").fill("办护照要带什么")
    page.get_by_role("button", name="发送").click()
    expect(page.locator(".message.bot", has_text="您属于哪种情况")).to_be_visible(timeout=30_000)
    # The usual case's list came first; the choice of another case, on the other instance, gets its own.
    page.get_by_role("button", name="2. 换发").click()
    renewal = page.locator(".message.bot", has_text="【普通护照签发（换发）】")
    expect(renewal).to_contain_text("原普通护照", timeout=30_000)
    page.get_by_role("button", name="1. 在哪里办理").click()
    expect(page.locator(".message.bot", has_text="】办理地点：")).to_contain_text("广州市越秀区解放南路155号")
    page.get_by_label("输入您的问题").fill("社保卡掉了怎么补办")
    page.get_by_role("button", name="发送").click()
    expect(page.locator(".message.bot", has_text="社会保障卡")).to_be_visible(timeout=30_000)
    session = str(page.evaluate("localStorage.getItem('hotline12345.webchat.session')"))
    # The four messages went to alternate instances; the form's state followed them (PostgreSQL, Redis).
    assert instances_that_took(prod, session) == {"rasa1", "rasa2"}
    page.reload()  # the page's history and its event stream, through nginx again
    expect(page.locator("body")).to_have_attribute("data-connection", "open")
    expect(page.locator(".message.citizen .bubble")).to_have_text(
        ["办护照要带什么", "换发", "在哪里办理", "社保卡掉了怎么补办"]
    )


def signed_sms(prod: Prod, sender: str, body: str, host: str | None = None) -> requests.Response:
    """A text message as Twilio sends it to nginx: signed for the URL nginx forwards (its scheme and host)."""
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": HOTLINE_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    address = host or prod.url.removeprefix("http://")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"http://{address}/webhooks/sms/webhook", params)
    headers = {"X-Twilio-Signature": signature, "X-Forwarded-Host": address, "X-Forwarded-Proto": "http"}
    return requests.post(f"{prod.url}/webhooks/sms/webhook", data=params, headers=headers, timeout=30)


def test_sms_through_nginx_is_verified_against_the_address_nginx_forwards_and_answered(prod: Prod) -> None:
    sender = "+8613900007001"
    assert signed_sms(prod, sender, "办护照要带什么").status_code == 200
    # The usual case's list (long: it may take several texts), then the question with its numbered choices.
    prod.twilio.wait_for(lambda r: sms_to(sender)(r) and "您属于哪种情况" in r.form["Body"], timeout_s=60)
    assert signed_sms(prod, sender, "2").status_code == 200  # the other instance: the choice is remembered
    renewal = "【普通护照签发（换发）】"
    answer = prod.twilio.wait_for(lambda r: sms_to(sender)(r) and renewal in r.form["Body"], timeout_s=60)
    assert "原普通护照" in answer.form["Body"]


def test_a_request_signed_for_another_host_is_refused_because_nginx_sets_the_forwarded_host(prod: Prod) -> None:
    sender = "+8613900007002"
    forged = signed_sms(prod, sender, "办护照要带什么", host="attacker.example.com")
    assert forged.status_code == 403
    assert not prod.twilio.matching(sms_to(sender))


def test_nginx_refuses_a_body_over_the_limit_before_an_instance_reads_it(prod: Prod) -> None:
    citizen = WebCitizen(prod.url)
    big = {"session": citizen.session, "text": "办" * 200_000, "client_id": uuid.uuid4().hex}
    response = requests.post(f"{prod.url}/chat/api/messages", json=big, timeout=30)
    assert response.status_code == 413
    assert not citizen.entries()


def test_an_agent_in_the_console_through_nginx_answers_a_citizen_of_the_other_instance(prod: Prod) -> None:
    agent = Agent(prod.url, "zhou")
    assert agent.login()[0] == 200
    # The console's event stream (through nginx, unbuffered) says when the queue changed.
    agent_answers_a_handoff(agent, WebCitizen(prod.url), "您好，我是周敏")


def test_sigterm_stops_nginx_the_instances_and_the_action_server(prod: Prod) -> None:
    """Last in the module: the launcher is stopped as a supervisor stops it."""
    children = [
        int(pid)
        for pid in subprocess.run(
            ["pgrep", "-P", str(prod.process.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
    ]
    assert len(children) == 4  # actions, rasa1, rasa2, nginx
    prod.process.send_signal(signal.SIGTERM)
    assert prod.process.wait(timeout=60) == 0
    wait_for_log_line(prod.log, "正在停止", timeout_s=5)
    for pid in children:
        assert not Path(f"/proc/{pid}").exists(), f"server {pid} is still running"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{prod.url}/webhooks/rest/", timeout=5)


def test_run_prod_refuses_the_embedded_defaults(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}",
        "REDIS_URL": "redis://127.0.0.1:6379/4",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run-prod"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3
    assert "run-prod 需要 PostgreSQL" in done.stderr
    env = {**env, "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres", "REDIS_URL": ""}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run-prod"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3
    assert "run-prod 需要 Redis" in done.stderr
