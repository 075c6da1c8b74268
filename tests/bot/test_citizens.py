"""One citizen across channels, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from bot.citizens.identity import get_citizen, identify, linked_citizen
from bot.core.clock import china
from bot.core.db import Database
from bot.core.personal_data import InvalidPhone

KEY = "test-key"
NOW = china(2026, 11, 28, 10)


async def test_the_same_number_is_the_same_citizen_on_every_channel(database: Database) -> None:
    by_sms = await identify(database, "+8613812345678", KEY, NOW, channel="sms", external_id="sms-abc")
    by_telegram = await identify(database, "13812345678", KEY, NOW, channel="telegram", external_id="4242")
    assert by_sms.id == by_telegram.id
    assert by_sms.masked_phone == "138****5678"
    assert (await linked_citizen(database, "telegram", "4242")) == by_telegram
    assert (await linked_citizen(database, "sms", "sms-abc")) == by_sms
    assert await linked_citizen(database, "telegram", "9999") is None
    assert await get_citizen(database, by_sms.id) == by_sms


async def test_a_channel_identity_follows_a_newly_verified_number(database: Database) -> None:
    first = await identify(database, "13812345678", KEY, NOW, channel="telegram", external_id="4242")
    second = await identify(database, "13900001111", KEY, NOW, channel="telegram", external_id="4242")
    assert first.id != second.id
    assert (await linked_citizen(database, "telegram", "4242")) == second


async def test_an_invalid_number_is_refused(database: Database) -> None:
    with pytest.raises(InvalidPhone):
        await identify(database, "+1 415 555 0100", KEY, NOW, channel="sms", external_id="x")
    assert await linked_citizen(database, "sms", "x") is None


async def test_two_first_contacts_at_once_make_one_citizen(database: Database) -> None:
    both = await asyncio.gather(
        identify(database, "13812340000", KEY, NOW, channel="sms", external_id="a"),
        identify(database, "13812340000", KEY, NOW, channel="voice", external_id="b"),
    )
    assert both[0].id == both[1].id
