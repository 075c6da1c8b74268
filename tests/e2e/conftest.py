"""What the end-to-end modules share: Debian's Chromium and the stand-in of Twilio's REST API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.standins import StandIn, running_standin
from tests.twilio_peer import twilio_api

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
