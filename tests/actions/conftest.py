"""Action tests: a real SQLite database with the project catalogue and fixture cases."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.cases.records import import_cases
from bot.catalog import runtime
from bot.catalog.formats import read_catalog
from bot.catalog.store import import_records
from bot.citizens.identity import identify
from bot.core.clock import china
from bot.core.db import Database
from bot.core.settings import PROJECT_ROOT, get_settings

FIXTURE_CASES = PROJECT_ROOT / "tests" / "fixtures" / "cases.json"
IN_PROGRESS, OVERDUE, FINISHED = "20261120000158", "20261001000777", "20260901000999"
APPLICANT_PHONE = "13912345678"
NOW = china(2026, 11, 28, 9)
# A complaint with everything but the contact and the confirmation (the report form).
COMPLAINT = {
    "report_kind": "投诉",
    "report_details": "天河区龙口西路的垃圾站三天没人清运了，臭味很大",
    "report_district": "天河区",
    "report_address": "龙口西路",
    "report_since": "三天",
}
# The same complaint ready to be read back: reached on the citizen's verified number.
READY = {**COMPLAINT, "report_contact": "verified"}


async def _make_actions_database(url: str) -> None:
    """Schema, the project catalogue and the fixture cases in a new SQLite database."""
    database = Database(url)
    try:
        await database.create_schema()
        await import_records(database, read_catalog(PROJECT_ROOT / "data" / "catalog"))
        await import_cases(database, FIXTURE_CASES, str(get_settings().pii_hash_key), NOW)
    finally:
        await database.close()


@pytest.fixture(scope="session")
def actions_database_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The database every action test starts from, made once per test process: each test gets a copy.

    Reading the catalogue and importing it took most of the setup of each of 150 tests.
    """
    path = tmp_path_factory.mktemp("actions_template") / "actions.db"
    # In a thread of its own: the fixtures that ask for it run inside a test's event loop.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, _make_actions_database(f"sqlite:///{path}")).result()
    return path


@pytest.fixture
async def hotline(tmp_path: Path, actions_database_file: Path) -> AsyncIterator[runtime.Hotline]:
    """The hotline the actions use, on a fresh database with catalogue and cases (a copy of the session's)."""
    copy = tmp_path / "actions.db"
    with closing(sqlite3.connect(actions_database_file)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
    database = Database(f"sqlite:///{copy}")
    app = runtime.Hotline(get_settings(), database)
    runtime.use(app)
    yield app
    runtime.use(None)
    await database.close()


def tracker(
    text: str = "",
    intent: str = "inform",
    *,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    latest_action: str = "service_form",
    metadata: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    confidence: float = 0.9,
) -> Tracker:
    """A tracker whose latest message is ``text`` with ``intent``."""
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "metadata": metadata or {},
    }
    return Tracker(
        sender_id="citizen-1",
        slots=dict(slots or {}),
        latest_message=message,
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name=latest_action,
    )


async def run_validation(
    action: FormValidationAction, form: str, required: list[str], t: Tracker
) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    """Run a form's validation action as Rasa would; the events and what it said."""
    dispatcher = CollectingDispatcher()
    domain = {"forms": {form: {"required_slots": required}}}
    events = await action.run(dispatcher, t, domain)
    return events, dispatcher


async def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    """Run an action with an empty domain; the events and what it said."""
    dispatcher = CollectingDispatcher()
    return await action.run(dispatcher, t, {}), dispatcher


async def ask(action: Any, t: Tracker) -> CollectingDispatcher:
    """Run an action that asks a question (it sets no slot); what it said."""
    dispatcher = CollectingDispatcher()
    assert await action.run(dispatcher, t, {}) == []
    return dispatcher


async def citizen_id(hotline: runtime.Hotline, phone: str = APPLICANT_PHONE) -> int:
    """The id of the citizen with this phone number, registered if new."""
    citizen = await identify(hotline.database, phone, str(hotline.settings.pii_hash_key), NOW)
    return citizen.id


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    """The texts of what an action said, in order."""
    return [message["text"] for message in dispatcher.messages]


def buttons(message: dict[str, Any]) -> list[str]:
    """The payloads of a message's buttons."""
    return [button["payload"] for button in message["buttons"]]
