"""Action tests: a real SQLite database with the project catalogue and fixture cases."""

from __future__ import annotations

from collections.abc import AsyncIterator
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


@pytest.fixture
async def hotline(tmp_path: Path) -> AsyncIterator[runtime.Hotline]:
    """The hotline the actions use, on a fresh database with catalogue and cases."""
    database = Database(f"sqlite:///{tmp_path / 'actions.db'}")
    await database.create_schema()
    await import_records(database, read_catalog(PROJECT_ROOT / "data" / "catalog"))
    settings = get_settings()
    await import_cases(database, FIXTURE_CASES, str(settings.pii_hash_key), NOW)
    app = runtime.Hotline(settings, database)
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
