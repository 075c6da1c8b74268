"""What the end-to-end modules share: Debian's Chromium, Twilio's REST API stand-in, a hotline with every channel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.test_telegram import SECRET, TOKEN, Telegram
from tests.http_clients import Agent, create_agent
from tests.servers import running_servers
from tests.standins import StandIn, running_standin
from tests.telegram_api import BotApi, telegram_env
from tests.twilio_peer import TwilioPeer, twilio_api, twilio_env

# Debian's Chromium, never a browser downloaded by Playwright (`make browsers` installs it).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, headless, once per module that needs it.

    Not once per session: Playwright's sync API keeps an event loop running in this thread, and the
    modules set up their servers with ``asyncio.run``, which cannot run beside it.
    """
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def twilio() -> Iterator[StandIn]:
    """The stand-in of Twilio's REST API."""
    with running_standin(twilio_api) as standin:
        yield standin


@pytest.fixture(scope="module")
def channels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TwilioPeer, StandIn, Telegram, Agent]]:
    """Both servers with Twilio and Telegram at their stand-ins, and an agent logged in to the console."""
    api = BotApi(TOKEN)
    with running_standin(twilio_api) as twilio, running_standin(api) as bot_api:
        env = {
            **twilio_env(twilio.url),
            **telegram_env(bot_api.url, TOKEN, SECRET),
            "REDIS_URL": "",
            "HANDOFF_MAX_WAIT_S": "3600",
        }
        with running_servers(Path(tmp_path_factory.mktemp("handoff-channels")), extra_env=env) as servers:
            create_agent(servers.env["DATABASE_URL"], "chen", "陈静")
            agent = Agent(servers.rasa_url, "chen")
            assert agent.login()[0] == 200
            yield TwilioPeer(servers.rasa_url), twilio, Telegram(servers, bot_api, api), agent
