"""Who is calling: the caller id verifies the citizen from the first utterance on."""

from __future__ import annotations

from bot.core.db import Database
from bot.core.settings import get_settings
from bot.core.shared_state import MemoryState
from channels.connector import ChannelRuntime
from channels.twilio.voice import caller_of


async def test_the_first_utterance_is_the_callers_even_before_the_call_start_linked_the_number(
    sqlite_database: Database,
) -> None:
    # The link made when the call is answered runs in the background: a quick first utterance came
    # before it and the caller, the applicant, was asked for the last four digits of their own phone.
    runtime = ChannelRuntime(get_settings(), sqlite_database, MemoryState())
    citizen = await caller_of(runtime, "+8613912345678", "voice-CA1")
    assert citizen is not None and citizen.phone == "13912345678"
    again = await caller_of(runtime, "+8613912345678", "voice-CA1")
    assert again is not None and again.id == citizen.id


async def test_a_withheld_caller_id_verifies_no_one(sqlite_database: Database) -> None:
    runtime = ChannelRuntime(get_settings(), sqlite_database, MemoryState())
    assert await caller_of(runtime, "anonymous", "voice-CA2") is None
