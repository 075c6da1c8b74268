"""The supervisor's work-order dashboard end to end: its API's permissions, the page in headless Chromium."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.core import clock
from bot.core.db import Database
from bot.core.settings import get_settings
from bot.work_orders import lifecycle
from bot.work_orders.filing import NewOrder, file_order
from tests.http_clients import PASSWORD, Agent, Http, create_agent
from tests.servers import Servers, running_servers

ENV = {"AGENT_HOURS": "00:00-24:00", "REDIS_URL": "", "HANDOFF_MAX_WAIT_S": "3600"}
PROPERTY = ("城乡建设", "住房保障与房地产", "物业服务")
NOISE = ("环境保护", "环境污染", "噪音污染")
UTILITIES = ("城乡建设", "其他", "其他")  # no routing rule: the dispatcher queue
TIANHE = "广州市天河区住房和城乡建设局"
HAIZHU_ENV = "广州市生态环境局海珠区分局"
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Seeded:
    """The servers, and the number of the order waiting in the dispatcher queue."""

    servers: Servers
    queued: str


async def _file(database: Database, order: NewOrder, days_ago: float) -> str:
    # Two similar orders in a day raise a hotspot (five by default).
    settings = dataclasses.replace(get_settings(), hotspot_min_orders=2)
    return (await file_order(database, order, clock.now() - timedelta(days=days_ago), settings=settings)).number


def _order(
    category: tuple[str, ...], district: str, channel: str, *, type: str = "投诉", title: str = "", source: str = ""
) -> NewOrder:
    return NewOrder(
        type=type,
        title=title,
        summary="反映的问题，请尽快处理",
        category=category,
        district=district,
        channel=channel,
        source=source or "conversation",
        sender_id="dashboard-e2e",
    )


def in_thread(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end in a thread of its own (Playwright's event loop runs in the test's)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


async def seed_orders(url: str) -> str:
    """Four orders: one closed on time and followed up, one open, one overdue and escalated, one queued."""
    database = Database(url)
    try:
        closed = await _file(database, _order(PROPERTY, "天河区", "webchat"), days_ago=2)
        await _file(database, _order(PROPERTY, "天河区", "voice"), days_ago=1.9)  # with the first: a hotspot
        await lifecycle.accept(database, closed, TIANHE, "张工", clock.now() - timedelta(days=1.5))
        await lifecycle.close(database, closed, TIANHE, "张工", "已修复", clock.now() - timedelta(days=1))
        await lifecycle.record_follow_up(database, closed, True, "满意", "", clock.now() - timedelta(hours=1))
        overdue = await _file(database, _order(NOISE, "海珠区", "sms", type="咨询"), days_ago=10)
        await lifecycle.escalate(database, overdue, "system", "超过办理时限", clock.now() - timedelta(days=5))
        order = _order(UTILITIES, "白云区", "", type="求助", title="小区停水三天", source="board")
        return await _file(database, order, days_ago=3 / 24)
    finally:
        await database.close()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Both servers with a supervisor and an agent, and no work orders yet."""
    with running_servers(Path(tmp_path_factory.mktemp("dashboard")), extra_env=ENV) as running:
        create_agent(running.env["DATABASE_URL"], "banzhang", "吴班长", role="supervisor")
        create_agent(running.env["DATABASE_URL"], "zhoumin", "周敏")
        yield running


@pytest.fixture(scope="module")
def seeded(servers: Servers) -> Seeded:
    """The servers with a few work orders (the tests of the empty dashboard come before the first use)."""
    return Seeded(servers, in_thread(seed_orders(servers.env["DATABASE_URL"])))


def log_in(browser: Browser, servers: Servers, username: str, clock: bool = False) -> Page:
    """A new browser context logged in to the console through its login page (with a fake clock if asked)."""
    page = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN").new_page()
    if clock:
        page.clock.install()
    page.goto(f"{servers.rasa_url}/agent/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/agent$"))
    return page


def test_without_orders_every_part_says_so(servers: Servers, browser: Browser) -> None:
    page = log_in(browser, servers, "banzhang")
    page.goto(f"{servers.rasa_url}/agent/dashboard")
    expect(page.get_by_test_id("dashboard")).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("kpi-filed")).to_have_text("0")
    expect(page.get_by_test_id("kpi-on-time")).to_have_text("—")
    expect(page.get_by_test_id("per-day-empty")).to_have_text("近14天没有新增工单")
    expect(page.get_by_test_id("by-channel-empty")).to_be_visible()
    expect(page.get_by_test_id("satisfaction-empty")).to_have_text("统计期内还没有回访结果")
    expect(page.get_by_test_id("departments-empty")).to_be_visible()
    expect(page.get_by_test_id("hotspots-empty")).to_have_text("目前没有舆情热点")
    expect(page.locator("[data-testid=map-district][data-level='0']")).to_have_count(11)
    expect(page.get_by_test_id("queue-empty")).to_have_text("没有待分派的工单")
    expect(page.get_by_test_id("queue-table")).to_be_hidden()
    page.screenshot(path=servers.workdir / "dashboard-empty.png", full_page=True)


def test_the_api_refuses_anonymous_requests_and_agents(seeded: Seeded) -> None:
    url = seeded.servers.rasa_url
    status, body = Http(url).call("GET", "/agent/api/dashboard")
    assert (status, body) == (401, {"error": "请先登录"})
    agent = Agent(url, "zhoumin")
    assert agent.login()[0] == 200
    assert agent.get("/dashboard") == (403, {"error": "您没有权限进行此操作"})


def test_the_api_gives_a_supervisor_the_numbers_and_refuses_a_bad_period(seeded: Seeded) -> None:
    supervisor = Agent(seeded.servers.rasa_url, "banzhang")
    assert supervisor.login()[0] == 200
    status, body = supervisor.get("/dashboard")
    assert status == 200, body
    assert body["days"] == 14 and len(body["per_day"]) == 14
    assert body["totals"] == {
        "filed": 4,
        "open": 2,
        "overdue": 1,
        "closed": 1,
        "closed_on_time": 1,
        "on_time_rate": 1.0,
        "queue": 1,
        "hotspots": 1,
    }
    assert [order["number"] for order in body["queue"]["orders"]] == [seeded.queued]
    assert body["hotspot_districts"] == {"天河区": 2}
    status, body = supervisor.get("/dashboard?days=7")
    assert (status, body["totals"]["filed"]) == (200, 3)  # the order of ten days ago is before the period
    for bad in ("0", "91", "abc", "7.5", "-3"):
        assert supervisor.get(f"/dashboard?days={bad}") == (400, {"error": "统计天数应为1到90之间的整数"})


def test_a_supervisor_sees_the_dashboard(seeded: Seeded, browser: Browser) -> None:
    page = log_in(browser, seeded.servers, "banzhang")
    page.get_by_test_id("dashboard-link").click()
    expect(page).to_have_url(re.compile(r"/agent/dashboard$"))
    expect(page.get_by_test_id("dashboard")).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("me")).to_have_text("班长 吴班长")

    expect(page.get_by_test_id("kpi-filed")).to_have_text("4")
    expect(page.get_by_test_id("kpi-open")).to_have_text("2")
    expect(page.get_by_test_id("kpi-overdue")).to_have_text("1")
    expect(page.get_by_test_id("kpi-on-time")).to_have_text("100%")
    expect(page.get_by_test_id("kpi-satisfied")).to_have_text("100%")
    expect(page.get_by_test_id("kpi-queue")).to_have_text("1")
    expect(page.get_by_test_id("updated")).to_have_text(re.compile(r"\d{1,2}:\d{2}"))

    # The dispatcher queue, with the order filed three hours ago.
    row = page.locator(f"[data-testid=queue-row][data-number={seeded.queued}]")
    expect(row.get_by_test_id("queue-title")).to_have_text("小区停水三天")
    expect(row.get_by_test_id("queue-district")).to_have_text("白云区")
    expect(row.get_by_test_id("queue-state")).to_have_text("已受理")
    expect(row.get_by_test_id("queue-wait")).to_have_text(re.compile(r"^3小时"))

    # Bars carry their counts.
    expect(page.locator("[data-testid=by-district] [data-testid=bar][data-name=天河区]")).to_have_attribute(
        "data-count", "2"
    )
    expect(page.locator("[data-testid=by-channel] [data-testid=bar][data-name=留言板]")).to_have_attribute(
        "data-count", "1"
    )
    overdue = page.locator(f"[data-testid=department][data-name={HAIZHU_ENV}]")
    expect(overdue).to_have_attribute("data-overdue", "1")
    expect(overdue).to_have_attribute("data-on-time-rate", "")
    tianhe = page.locator(f"[data-testid=department][data-name={TIANHE}]")
    expect(tianhe).to_have_attribute("data-open", "1")
    expect(tianhe).to_have_attribute("data-on-time-rate", "100")
    satisfied = page.locator("[data-testid=satisfaction-item][data-label=满意]")
    expect(satisfied).to_have_attribute("data-count", "1")

    # The hotspot: its district is highlighted on the map and listed.
    tianhe_tile = page.locator("[data-testid=map-district][data-district=天河区]")
    expect(tianhe_tile).to_have_attribute("data-count", "2")
    expect(tianhe_tile).to_have_attribute("data-level", "4")
    expect(page.locator("[data-testid=map-district][data-district=海珠区]")).to_have_attribute("data-level", "0")
    expect(page.get_by_test_id("map-district")).to_have_count(11)
    expect(page.get_by_test_id("hotspot")).to_have_text(re.compile("天河区.*2件.*城乡建设 / 住房保障与房地产"))

    # Orders per day, grouped by category, then by channel.
    expect(page.locator("[data-testid=per-day-legend] [data-name=城乡建设]")).to_have_attribute("data-count", "3")
    page.get_by_test_id("per-day-by-channels").click()
    expect(page.get_by_test_id("per-day")).to_have_attribute("data-dimension", "channels")
    expect(page.locator("[data-testid=per-day-legend] [data-name=电话]")).to_have_attribute("data-count", "1")
    expect(page.get_by_test_id("day-segment")).to_have_count(4)
    page.screenshot(path=seeded.servers.workdir / "dashboard.png", full_page=True)

    # A shorter period leaves out the order of ten days ago.
    page.get_by_test_id("days").select_option("7")
    expect(page.get_by_test_id("period")).to_contain_text("近7天")
    expect(page.get_by_test_id("kpi-filed")).to_have_text("3")
    expect(page).to_have_url(re.compile(r"/agent/dashboard\?days=7$"))


def test_the_dashboard_refreshes_every_minute(seeded: Seeded, browser: Browser) -> None:
    page = log_in(browser, seeded.servers, "banzhang", clock=True)
    page.goto(f"{seeded.servers.rasa_url}/agent/dashboard")
    expect(page.get_by_test_id("dashboard")).to_have_attribute("data-state", "ready")
    before = int(page.get_by_test_id("kpi-queue").inner_text())
    order = _order(UTILITIES, "增城区", "", type="求助", title="又停水了", source="board")
    added = in_thread(_file_once(seeded.servers.env["DATABASE_URL"], order))
    page.clock.run_for(59_000)
    expect(page.get_by_test_id("kpi-queue")).to_have_text(str(before))
    page.clock.run_for(2_000)
    expect(page.get_by_test_id("kpi-queue")).to_have_text(str(before + 1))
    expect(page.locator(f"[data-testid=queue-row][data-number={added}]")).to_be_visible()


async def _file_once(url: str, order: NewOrder) -> str:
    database = Database(url)
    try:
        return await _file(database, order, days_ago=0)
    finally:
        await database.close()


def test_an_agent_is_told_the_dashboard_is_for_supervisors(seeded: Seeded, browser: Browser) -> None:
    page = log_in(browser, seeded.servers, "zhoumin")
    expect(page.get_by_test_id("dashboard-link")).to_be_hidden()
    page.goto(f"{seeded.servers.rasa_url}/agent/dashboard")
    expect(page.get_by_test_id("forbidden")).to_be_visible()
    expect(page.get_by_test_id("forbidden")).to_contain_text("工单看板仅供班长查看")
    expect(page.get_by_test_id("dashboard")).to_be_hidden()


def test_an_anonymous_visitor_is_sent_to_the_login_page(seeded: Seeded, browser: Browser) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{seeded.servers.rasa_url}/agent/dashboard")
    expect(page).to_have_url(re.compile(r"/agent/login$"))
