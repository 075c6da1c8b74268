"""The outbox sender: a message for the number given for an order goes out by SMS, and a failure is recorded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

import channels.connector
from bot.core.clock import china
from bot.core.db import Database
from bot.core.models import Notification
from bot.core.settings import Secret, get_settings
from bot.core.shared_state import MemoryState
from bot.handoff.queue import MemoryHandoffQueue
from bot.work_orders import lifecycle
from bot.work_orders.filing import file_order
from bot.work_orders.notifications import FAILED, SENT, follow_up_text, messages_of_order, pending
from bot.work_orders.scheduler import run_once
from channels.connector import ChannelRuntime
from channels.webchat.live import open_chat_hub
from console.desk import HandoffDesk
from console.notifier import deliver_pending
from tests.bot.conftest import complaint
from tests.standins import StandIn, running_standin
from tests.twilio_peer import ACCOUNT_SID, AUTH_TOKEN, HOTLINE_NUMBER, sms_to, twilio_api

FRIDAY = china(2026, 11, 27, 15, 0)
HOUSING = "广州市天河区住房和城乡建设局"


@pytest.fixture
def twilio() -> Iterator[StandIn]:
    with running_standin(twilio_api) as standin:
        yield standin


def desk_for(database: Database, monkeypatch: pytest.MonkeyPatch, api_url: str, configured: bool = True) -> HandoffDesk:
    """A desk whose runtime sends SMS to the stand-in (one attempt each), as this process's runtime."""
    settings = replace(
        get_settings(),
        twilio_account_sid=ACCOUNT_SID if configured else "",
        twilio_auth_token=Secret(AUTH_TOKEN if configured else ""),
        twilio_number=HOTLINE_NUMBER if configured else "",
        twilio_api_base_url=api_url,
        sms_max_attempts=1,
    )
    runtime = ChannelRuntime(settings, database, MemoryState())
    monkeypatch.setattr(channels.connector, "_runtime", runtime)
    return HandoffDesk(runtime, MemoryHandoffQueue(), open_chat_hub(settings, channel="test:console"))


async def accepted_order(database: Database, phone: str) -> str:
    number = (await file_order(database, complaint(contact_phone=phone), FRIDAY)).number
    await lifecycle.accept(database, number, HOUSING, "张工", FRIDAY)
    return number


async def test_a_message_for_the_number_given_is_texted_to_it(
    sqlite_database: Database, twilio: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await accepted_order(sqlite_database, "13800138000")
    desk = desk_for(sqlite_database, monkeypatch, twilio.url)
    assert await deliver_pending(desk) == 1
    [sms] = twilio.matching(sms_to("+8613800138000"))
    assert sms.form["Body"] == f"您的工单{number}已由{HOUSING}签收，正在办理。"
    assert sms.form["From"] == HOTLINE_NUMBER
    assert await pending(sqlite_database) == []
    async with sqlite_database.session() as session:
        assert list(await session.scalars(select(Notification.status))) == [SENT]


async def test_twilio_failing_is_retried_with_backoff_then_given_up_a_day_after(
    sqlite_database: Database, twilio: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await accepted_order(sqlite_database, "13800000500")  # the stand-in answers 500 to ...0500
    desk = desk_for(sqlite_database, monkeypatch, twilio.url)
    start = FRIDAY + timedelta(minutes=1)
    assert await deliver_pending(desk, now=start) == 0
    assert await deliver_pending(desk, now=start) == 0  # not again at once: it waits for its backoff
    assert len(twilio.matching(sms_to("+8613800000500"))) == 1
    [message] = await pending(sqlite_database)
    assert message.attempts == 1 and message.next_attempt_at is not None and message.next_attempt_at > start
    assert await deliver_pending(desk, now=message.next_attempt_at) == 0
    assert len(twilio.matching(sms_to("+8613800000500"))) == 2
    assert await deliver_pending(desk, now=start + timedelta(hours=25)) == 0
    assert len(twilio.matching(sms_to("+8613800000500"))) == 3
    assert await pending(sqlite_database) == []
    [message] = await messages_of_order(sqlite_database, number)
    assert message.attempts == 3
    async with sqlite_database.session() as session:
        [row] = list(await session.scalars(select(Notification)))
        assert (row.status, row.last_error) == (FAILED, "Twilio: HTTP 500")


async def test_without_sms_set_up_the_message_waits_and_fails_without_calling_twilio(
    sqlite_database: Database, twilio: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    await accepted_order(sqlite_database, "13800138000")
    desk = desk_for(sqlite_database, monkeypatch, twilio.url, configured=False)
    assert await deliver_pending(desk) == 0
    assert twilio.matching(lambda _: True) == []
    [message] = await pending(sqlite_database)
    assert message.attempts == 1


async def test_the_follow_up_of_an_order_filed_with_only_a_number_is_texted_to_that_number(
    sqlite_database: Database, twilio: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await accepted_order(sqlite_database, "13800138000")
    await lifecycle.close(sqlite_database, number, HOUSING, "张工", "电梯已修复", FRIDAY + timedelta(hours=1))
    later = FRIDAY + timedelta(hours=30)
    assert (await run_once(sqlite_database, later)).follow_ups == (number,)
    desk = desk_for(sqlite_database, monkeypatch, twilio.url)
    assert await deliver_pending(desk, now=later) == 3  # accepted, closed, and the 回访 question
    bodies = [r.form["Body"] for r in twilio.matching(sms_to("+8613800138000"))]
    assert bodies[-1] == follow_up_text(number)
    assert await pending(sqlite_database) == []
