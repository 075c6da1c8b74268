"""An order filed without a verified citizen: the number given for it is texted each step and proves ownership."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from bot.citizens.identity import identify
from bot.citizens.ownership import LockRule, Verdict, Verification, verify_tail
from bot.core.clock import china
from bot.core.db import Database
from bot.core.personal_data import digest
from bot.core.settings import get_settings
from bot.work_orders import lifecycle
from bot.work_orders.filing import contact_tail_digest, file_order, find_order, is_order_of_citizen, orders_of_citizen
from bot.work_orders.notifications import messages_of_order, pending
from bot.work_orders.scheduler import request_follow_ups
from tests.bot.conftest import PROPERTY, complaint

KEY = str(get_settings().pii_hash_key)  # the key filing computes the contact digest with
FRIDAY = china(2026, 11, 27, 15, 0)
HOUSING = "广州市天河区住房和城乡建设局"
GIVEN = "13800138000"
SETTINGS = dataclasses.replace(get_settings(), duplicate_window_hours=72, duplicate_distance_m=100)


def _later(minutes: int) -> datetime:
    return FRIDAY + timedelta(minutes=minutes)


async def _file_with_number(
    database: Database, *, phone: str | None = GIVEN, anonymous: bool = False, address: str | None = None
) -> str:
    order = complaint(contact_phone=phone, anonymous=anonymous, address=address, category=PROPERTY)
    return (await file_order(database, order, FRIDAY, settings=SETTINGS)).number


async def _verify(database: Database, number: str, answer: str, now: datetime) -> Verification:
    return await verify_tail(database, number, answer, contact_tail_digest, key=KEY, now=now, rule=LockRule(3, 30))


async def _work_through(database: Database, number: str) -> None:
    await lifecycle.accept(database, number, HOUSING, "张工", _later(1))
    await lifecycle.add_progress(database, number, HOUSING, "张工", "已约物业明天上门检修", _later(2))
    await lifecycle.close(database, number, HOUSING, "张工", "电梯已修复", _later(3))


async def test_the_number_given_for_an_order_is_texted_each_step_of_the_department(database: Database) -> None:
    number = await _file_with_number(database)
    await _work_through(database, number)
    messages = await messages_of_order(database, number)
    assert [message.text for message in messages] == [
        f"您的工单{number}已由{HOUSING}签收，正在办理。",
        f"您的工单{number}有新进展（{HOUSING}）：已约物业明天上门检修。",
        f"您的工单{number}已办结。{HOUSING}答复：电梯已修复。稍后我们会向您回访办理结果。",
    ]
    thread = "sms-" + digest("+86" + GIVEN, str(get_settings().pii_hash_key))[:20]  # the SMS channel's thread
    for message in messages:
        assert (message.citizen_id, message.channel, message.conversation_id) == (None, "sms", thread)
        assert message.phone == GIVEN  # read from the order, for the sender only
        assert GIVEN not in repr(message) and GIVEN not in message.conversation_id
    assert [message.phone for message in await pending(database)] == [GIVEN] * 3


async def test_anonymous_orders_and_orders_without_any_number_still_get_nothing(database: Database) -> None:
    anonymous = await _file_with_number(database, anonymous=True)
    without = await _file_with_number(database, phone=None, address="天河区天河路1号")
    for number in (anonymous, without):
        await _work_through(database, number)
        assert await messages_of_order(database, number) == []
    assert await pending(database) == []


async def test_the_dispatcher_sending_an_order_on_is_texted_too(database: Database) -> None:
    order = complaint(contact_phone=GIVEN, category=("城乡建设", "其他", "其他"))
    number = (await file_order(database, order, FRIDAY, settings=SETTINGS)).number
    await lifecycle.dispatch(database, number, HOUSING, "调度员李", _later(1))
    [message] = await messages_of_order(database, number)
    assert message.text.startswith(f"您的工单{number}已派至{HOUSING}办理，办理时限至")
    assert message.phone == GIVEN


async def test_a_merged_order_with_a_number_gets_the_originals_messages(database: Database) -> None:
    original = await _file_with_number(database, phone=None, address="天河区体育西路103号")
    duplicate = await _file_with_number(database, address="天河区体育西路103号")
    await lifecycle.accept(database, original, HOUSING, "张工", _later(1))
    [message] = await messages_of_order(database, duplicate)
    assert message.text == f"您的工单{duplicate}（与工单{original}合并办理）已由{HOUSING}签收，正在办理。"
    assert message.phone == GIVEN


async def test_the_follow_up_question_goes_to_the_number_given_in_its_sms_thread(database: Database) -> None:
    number = await _file_with_number(database)
    await _work_through(database, number)
    asked, unreachable = await request_follow_ups(database, FRIDAY + timedelta(hours=30), 24)
    assert (asked, unreachable) == ([number], [])
    messages = await messages_of_order(database, number)
    assert [message.kind for message in messages] == ["notice"] * 3 + ["follow_up"]
    question = messages[-1]
    assert question.text.startswith(f"您的工单{number}已办结。请问您反映的问题解决了吗？")
    thread = "sms-" + digest("+86" + GIVEN, str(get_settings().pii_hash_key))[:20]
    assert (question.phone, question.conversation_id) == (GIVEN, thread)


async def test_the_last_four_digits_of_the_number_given_prove_the_order_with_the_case_lockout(
    database: Database,
) -> None:
    number = await _file_with_number(database)

    async def answer(said: str, minutes: int = 5) -> tuple[Verdict, int]:
        outcome = await _verify(database, number, said, _later(minutes))
        return outcome.verdict, outcome.attempts_left

    assert await answer("后四位是8000") == (Verdict.VERIFIED, 0)
    assert await answer("1234") == (Verdict.WRONG, 2)
    assert await answer("4321") == (Verdict.WRONG, 1)
    assert (await answer("1111"))[0] is Verdict.LOCKED
    assert (await answer("8000"))[0] is Verdict.LOCKED  # even the right answer, while locked
    assert await answer("8000", minutes=40) == (Verdict.VERIFIED, 0)


async def test_an_anonymous_order_has_nothing_to_prove_against(database: Database) -> None:
    number = await _file_with_number(database, anonymous=True)
    outcome = await _verify(database, number, "8000", FRIDAY)
    assert outcome.verdict is Verdict.NOT_FOUND
    view = await find_order(database, number)
    assert view is not None and not view.has_contact_phone and view.sender_id == "web-abc"


async def test_the_citizen_whose_number_was_given_sees_the_order_as_theirs(database: Database) -> None:
    number = await _file_with_number(database)
    anonymous = await _file_with_number(database, anonymous=True, address="天河区天河路2号")
    owner = await identify(database, GIVEN, KEY, _later(10))
    stranger = await identify(database, "13912345678", KEY, _later(10))
    assert [order.number for order in await orders_of_citizen(database, owner.id)] == [number]
    assert await orders_of_citizen(database, stranger.id) == []
    assert await is_order_of_citizen(database, number, owner.id)
    assert not await is_order_of_citizen(database, number, stranger.id)
    assert not await is_order_of_citizen(database, anonymous, owner.id)
