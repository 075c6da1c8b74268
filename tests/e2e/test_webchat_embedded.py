"""End to end: the web chat as `make run` starts it, without Redis (in-process signals) and without Twilio."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_webchat import GREETING
from tests.http_clients import json_call
from tests.servers import Servers, running_servers


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Both servers with the embedded defaults: no REDIS_URL, no Twilio account."""
    embedded = {"REDIS_URL": "", "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "TWILIO_NUMBER": ""}
    with running_servers(Path(tmp_path_factory.mktemp("webchat-embedded")), extra_env=embedded) as running:
        yield running


@pytest.fixture(scope="module")
def page(servers: Servers, browser: Browser) -> Iterator[Page]:
    """The chat page in Debian's Chromium, headless, on a phone-sized screen."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    opened = context.new_page()
    opened.goto(f"{servers.rasa_url}/chat")
    expect(opened.locator("body")).to_have_attribute("data-connection", "open")
    yield opened
    context.close()


def test_replies_reach_the_page_through_in_process_signals(page: Page) -> None:
    page.get_by_label("输入您的问题").fill("你好")
    page.get_by_role("button", name="发送").click()
    expect(page.locator(".message.bot")).to_contain_text(GREETING)
    expect(page.locator(".message.citizen .bubble")).to_have_text(["你好"])
    expect(page.locator("#typing")).to_be_hidden()


def test_without_an_sms_account_verification_is_said_to_be_unavailable(servers: Servers, page: Page) -> None:
    session = str(page.evaluate("localStorage.getItem('hotline12345.webchat.session')"))
    status, body = json_call(
        servers.rasa_url + "/chat/api/verify/start", "POST", {"session": session, "phone": "13912345678"}
    )
    assert (status, body["error"]) == (503, "短信验证暂不可用，请稍后再试，或拨打12345人工服务。")
    page.get_by_role("button", name="验证手机号").click()
    page.get_by_role("textbox", name="手机号", exact=True).fill("13912345678")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#verify-status")).to_have_text("短信验证暂不可用，请稍后再试，或拨打12345人工服务。")


@pytest.mark.parametrize("path", ["/webhooks/sms/webhook", "/webhooks/voice/webhook", "/webhooks/telegram/webhook"])
def test_channels_without_settings_are_not_started(servers: Servers, path: str) -> None:
    request = urllib.request.Request(servers.rasa_url + path, data=b"{}", headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 404
