"""End to end in headless Chromium: a citizen in the web chat, an agent and a supervisor in the console."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.http_clients import PASSWORD, create_agent
from tests.servers import Servers, running_servers

ENV = {"AGENT_HOURS": "00:00-24:00", "REDIS_URL": "", "HANDOFF_MAX_WAIT_S": "3600"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Both servers on the embedded defaults, with an agent and a supervisor."""
    with running_servers(Path(tmp_path_factory.mktemp("console")), extra_env=ENV) as running:
        create_agent(running.env["DATABASE_URL"], "zhoumin", "周敏")
        create_agent(running.env["DATABASE_URL"], "banzhang", "吴班长", role="supervisor")
        yield running


def new_page(browser: Browser, width: int = 1400, height: int = 900) -> Page:
    """A page in a context of its own (its own cookies)."""
    return browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN").new_page()


def log_in(browser: Browser, servers: Servers, username: str) -> Page:
    """The console, logged in through its login page."""
    page = new_page(browser)
    page.goto(f"{servers.rasa_url}/agent")
    expect(page).to_have_url(re.compile(r"/agent/login$"))  # anonymous: sent to the login page
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/agent$"))
    expect(page.get_by_test_id("me")).to_be_visible()
    return page


def test_a_citizen_asks_for_a_person_is_answered_in_the_console_and_rates_the_service(
    servers: Servers, browser: Browser
) -> None:
    agent = log_in(browser, servers, "zhoumin")
    supervisor = log_in(browser, servers, "banzhang")
    citizen = new_page(browser, 390, 844)
    citizen.goto(f"{servers.rasa_url}/chat")
    expect(citizen.locator("body")).to_have_attribute("data-connection", "open")

    citizen.get_by_label("输入您的问题").fill("我要转人工")
    citizen.get_by_role("button", name="发送").click()
    expect(citizen.locator(".message.bot", has_text="正在为您转接人工客服")).to_be_visible()

    # The conversation appears in the agent's queue without a reload, and the agent takes it.
    item = agent.get_by_test_id("queue-waiting").get_by_test_id("queue-item")
    expect(item).to_have_count(1)
    expect(item.get_by_test_id("channel")).to_contain_text("网页")
    item.get_by_test_id("take").click()
    transcript = agent.get_by_test_id("transcript")
    expect(transcript.locator("[data-role=citizen]", has_text="我要转人工")).to_be_visible()
    expect(citizen.get_by_text("人工客服 周敏 已接入")).to_be_visible()

    # A canned phrase is inserted and edited before it is sent.
    agent.get_by_test_id("phrase").filter(has_text="问候").get_by_test_id("phrase-insert").click()
    reply = agent.get_by_test_id("reply-text")
    expect(reply).to_have_value(re.compile("人工客服"))
    reply.fill(reply.input_value() + "（周敏）")
    agent.get_by_test_id("send").click()
    expect(citizen.locator(".message.agent", has_text="（周敏）")).to_be_visible()

    citizen.get_by_label("输入您的问题").fill("我家门口的井盖丢了，很危险")
    citizen.get_by_role("button", name="发送").click()
    expect(transcript.locator("[data-role=citizen]", has_text="井盖丢了")).to_be_visible()

    agent.get_by_test_id("note-text").fill("井盖缺失，需派单")
    agent.get_by_test_id("add-note").click()
    expect(agent.get_by_test_id("note")).to_contain_text("井盖缺失")

    agent.get_by_test_id("close-handoff").click()
    agent.get_by_test_id("confirm-ok").click()
    expect(agent.get_by_test_id("queue-mine").get_by_test_id("queue-item")).to_have_count(0)

    # The bot is back and asks for a rating; the citizen presses a button.
    expect(citizen.locator(".message.bot", has_text="评价")).to_be_visible()
    citizen.locator(".message.bot").last.get_by_role("button", name=re.compile(r"^(\d+\. )?满意$")).click()
    expect(citizen.locator(".message.bot", has_text="感谢")).to_be_visible()

    supervisor.get_by_test_id("tab-supervisor").click()
    satisfied = supervisor.locator("[data-testid=stat-satisfaction-item][data-label=满意]")
    expect(satisfied).to_have_attribute("data-count", "1", timeout=40_000)
    # The bot's own conversations are rated apart (none here: this citizen was handed to a person).
    expect(supervisor.get_by_test_id("stat-bot-rated")).to_have_text("0")
    expect(supervisor.get_by_test_id("stat-bot-satisfaction-item")).to_have_count(3)
    expect(supervisor.get_by_test_id("stat-queue-length")).to_have_text("0")


def test_an_agent_cannot_see_the_supervisor_view(servers: Servers, browser: Browser) -> None:
    agent = log_in(browser, servers, "zhoumin")
    expect(agent.get_by_test_id("tab-supervisor")).to_be_hidden()
    status = agent.evaluate("fetch('/agent/api/stats').then(r => r.status)")
    assert status == 403


def test_an_urgent_handoff_raises_an_alert_nobody_can_miss_until_it_is_taken(
    servers: Servers, browser: Browser
) -> None:
    agent = log_in(browser, servers, "zhoumin")
    banner = agent.get_by_test_id("urgent-alert")
    expect(banner).to_be_hidden()
    citizen = new_page(browser, 390, 844)
    citizen.goto(f"{servers.rasa_url}/chat")
    expect(citizen.locator("body")).to_have_attribute("data-connection", "open")
    citizen.get_by_label("输入您的问题").fill("活着好累，我不想活了")
    citizen.get_by_role("button", name="发送").click()
    expect(citizen.locator(".message.bot").first).to_contain_text("12356")

    # Without a reload: the red banner, the title, and the item marked urgent at the head of the queue.
    expect(banner).to_be_visible()
    expect(agent.get_by_test_id("urgent-text")).to_contain_text("紧急")
    expect(agent).to_have_title(re.compile("^【紧急】"))
    item = agent.get_by_test_id("queue-waiting").get_by_test_id("queue-item").first
    expect(item.get_by_test_id("priority")).to_have_text("紧急")
    agent.get_by_test_id("urgent-open").click()
    expect(item.get_by_test_id("take")).to_be_focused()
    item.get_by_test_id("take").click()
    expect(banner).to_be_hidden()  # taken: a person has seen it
    expect(citizen.get_by_text("人工客服 周敏 已接入")).to_be_visible()
    agent.get_by_test_id("close-handoff").click()
    agent.get_by_test_id("confirm-ok").click()
