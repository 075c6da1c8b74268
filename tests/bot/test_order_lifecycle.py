"""The work-order lifecycle: every transition valid and invalid, ownership, the audit trail, the outbox, reopening."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest

from bot.citizens.identity import identify
from bot.core.clock import china
from bot.core.db import Database
from bot.core.settings import get_settings
from bot.work_orders import lifecycle
from bot.work_orders.filing import file_order
from bot.work_orders.lifecycle import InvalidTransition, NotYourOrder, OrderNotFound
from bot.work_orders.notifications import mark_failed, mark_sent, messages_of_order, pending
from tests.bot.conftest import PROPERTY, complaint

KEY = "test-key"
FRIDAY = china(2026, 11, 27, 15, 0)
HOUSING = "广州市天河区住房和城乡建设局"
OTHER = "广州市天河区城市管理和综合执法局"
UTILITIES = ("城乡建设", "其他", "其他")
SETTINGS = dataclasses.replace(get_settings(), duplicate_window_hours=72, duplicate_distance_m=100)


async def _file(
    database: Database,
    *,
    category: tuple[str, str] = PROPERTY,
    citizen: bool = True,
    anonymous: bool = False,
    address: str | None = None,
    now: datetime = FRIDAY,
    sender: str = "web-abc",
) -> str:
    citizen_id = (await identify(database, "13912345678", KEY, now)).id if citizen else None
    order = complaint(address=address, category=category, anonymous=anonymous, sender_id=sender, citizen_id=citizen_id)
    return (await file_order(database, order, now, settings=SETTINGS)).number


def _later(minutes: int) -> datetime:
    return FRIDAY + timedelta(minutes=minutes)


async def _texts(database: Database, number: str) -> list[str]:
    return [message.text for message in await messages_of_order(database, number)]


def _trail(detail: lifecycle.OrderDetail) -> list[tuple[str, str, str | None, str]]:
    return [(event.actor, event.action, event.from_state, event.to_state) for event in detail.events]


async def test_the_whole_lifecycle_with_its_audit_trail_and_messages(database: Database) -> None:
    number = await _file(database)
    await lifecycle.accept(database, number, HOUSING, "张工", _later(10))
    await lifecycle.add_progress(database, number, HOUSING, "张工", "已约物业明天上门检修", _later(20))
    closed = await lifecycle.close(database, number, HOUSING, "张工", "电梯已修复并通过检测", _later(30))
    assert (closed.state, closed.reply, closed.closed_at) == ("已办结", "电梯已修复并通过检测", _later(30))
    done = await lifecycle.record_follow_up(database, number, True, "满意", "修得很快", _later(40))
    assert (done.state, done.solved, done.satisfaction, done.reopened) == ("已回访", True, "满意", 0)
    assert _trail(done) == [
        ("citizen", "file", None, "已受理"),
        ("system", "dispatch", "已受理", "已派单"),
        ("张工", "accept", "已派单", "办理中"),
        ("张工", "progress", "办理中", "办理中"),
        ("张工", "close", "办理中", "已办结"),
        ("citizen", "follow_up", "已办结", "已回访"),
    ]
    assert [event.at for event in done.events] == [FRIDAY, FRIDAY, _later(10), _later(20), _later(30), _later(40)]
    assert done.events[3].reason == "已约物业明天上门检修"
    assert done.events[5].reason == "已解决，满意：修得很快"
    assert [(note.author, note.kind, note.text) for note in done.notes] == [
        (HOUSING, "progress", "已约物业明天上门检修")
    ]
    assert await _texts(database, number) == [
        f"您的工单{number}已由{HOUSING}签收，正在办理。",
        f"您的工单{number}有新进展（{HOUSING}）：已约物业明天上门检修。",
        f"您的工单{number}已办结。{HOUSING}答复：电梯已修复并通过检测。稍后我们会向您回访办理结果。",
    ]
    (first, *_) = await pending(database)
    assert (first.channel, first.conversation_id, first.order_number) == ("webchat", "web-abc", number)


async def test_the_dispatcher_sends_a_queued_order_and_the_citizen_is_told(database: Database) -> None:
    number = await _file(database, category=UTILITIES)
    assert [order.number for order in await lifecycle.list_orders(database, None)] == [number]
    detail = await lifecycle.dispatch(database, number, "广州市自来水有限公司", "调度员李", _later(5))
    assert (detail.state, detail.department) == ("已派单", "广州市自来水有限公司")
    assert _trail(detail)[-1] == ("调度员李", "dispatch", "已受理", "已派单")
    assert await lifecycle.list_orders(database, None) == []
    assert await _texts(database, number) == [f"您的工单{number}已派至广州市自来水有限公司办理，办理时限至12月4日。"]


# Every state an order can be in, reached through the lifecycle itself.
async def _in_state(database: Database, state: str) -> str:
    if state in ("queue", "退单"):
        number = await _file(database, category=UTILITIES)
        if state == "退单":
            await lifecycle.dispatch(database, number, HOUSING, "调度员", _later(1))
            await lifecycle.return_order(database, number, HOUSING, "张工", "不属于本单位职责", _later(2))
        return number
    number = await _file(database)
    if state == "已派单":
        return number
    await lifecycle.accept(database, number, HOUSING, "张工", _later(1))
    if state == "延期":
        await lifecycle.extend(database, number, HOUSING, "张工", "需要厂家配件", _later(60 * 24 * 30), _later(2))
    elif state == "督办":
        await lifecycle.escalate(database, number, "system", "超过办理时限", _later(2))
    elif state in ("已办结", "已回访"):
        await lifecycle.close(database, number, HOUSING, "张工", "已修复", _later(2))
        if state == "已回访":
            await lifecycle.record_follow_up(database, number, True, "满意", "", _later(3))
    return number


Step = Callable[[Database, str], Awaitable[lifecycle.OrderDetail]]
ACTIONS: dict[str, Step] = {
    "dispatch": lambda db, n: lifecycle.dispatch(db, n, OTHER, "调度员", _later(50)),
    "accept": lambda db, n: lifecycle.accept(db, n, HOUSING, "张工", _later(50)),
    "progress": lambda db, n: lifecycle.add_progress(db, n, HOUSING, "张工", "正在处理", _later(50)),
    "close": lambda db, n: lifecycle.close(db, n, HOUSING, "张工", "已处理", _later(50)),
    "return": lambda db, n: lifecycle.return_order(db, n, HOUSING, "张工", "非本单位职责", _later(50)),
    "extend": lambda db, n: lifecycle.extend(db, n, HOUSING, "张工", "需协调", _later(60 * 24 * 40), _later(50)),
    "escalate": lambda db, n: lifecycle.escalate(db, n, "system", "超过办理时限", _later(50)),
    "follow_up": lambda db, n: lifecycle.record_follow_up(db, n, True, "基本满意", "", _later(50)),
}
Outcomes = dict[str, str | type[Exception]]
# A new order and a returned one (退单) wait in the dispatcher queue: the same moves are open to both.
IN_QUEUE: Outcomes = {
    "dispatch": "已派单",
    "accept": NotYourOrder,
    "progress": NotYourOrder,
    "close": NotYourOrder,
    "return": NotYourOrder,
    "extend": NotYourOrder,
    "escalate": "督办",
    "follow_up": InvalidTransition,
}
# What each action does from each state: the state it leads to, or the error it raises.
EXPECTED: dict[str, Outcomes] = {
    "queue": IN_QUEUE,
    "已派单": {
        "dispatch": InvalidTransition,
        "accept": "办理中",
        "progress": InvalidTransition,
        "close": InvalidTransition,
        "return": "退单",
        "extend": InvalidTransition,
        "escalate": "督办",
        "follow_up": InvalidTransition,
    },
    "办理中": {
        "dispatch": InvalidTransition,
        "accept": InvalidTransition,
        "progress": "办理中",
        "close": "已办结",
        "return": "退单",
        "extend": "延期",
        "escalate": "督办",
        "follow_up": InvalidTransition,
    },
    "延期": {
        "dispatch": InvalidTransition,
        "accept": InvalidTransition,
        "progress": "延期",
        "close": "已办结",
        "return": InvalidTransition,
        "extend": InvalidTransition,
        "escalate": "督办",
        "follow_up": InvalidTransition,
    },
    "督办": {
        "dispatch": InvalidTransition,
        "accept": InvalidTransition,  # it was accepted before it was escalated
        "progress": "督办",
        "close": "已办结",
        "return": "退单",
        "extend": "延期",
        "escalate": InvalidTransition,
        "follow_up": InvalidTransition,
    },
    "已办结": {
        "dispatch": InvalidTransition,
        "accept": InvalidTransition,
        "progress": InvalidTransition,
        "close": InvalidTransition,
        "return": InvalidTransition,
        "extend": InvalidTransition,
        "escalate": InvalidTransition,
        "follow_up": "已回访",
    },
    "已回访": dict.fromkeys(ACTIONS, InvalidTransition),  # nothing moves after the 回访
    "退单": IN_QUEUE,
}
CASES = [(state, action) for state, outcomes in EXPECTED.items() for action in outcomes]


@pytest.mark.parametrize(("state", "action"), CASES, ids=[f"{s}-{a}" for s, a in CASES])
async def test_every_action_from_every_state(database: Database, state: str, action: str) -> None:
    number = await _in_state(database, state)
    before = await lifecycle.order_detail(database, number)
    expected = EXPECTED[state][action]
    if isinstance(expected, str):
        after = await ACTIONS[action](database, number)
        assert after.state == expected
        assert len(after.events) == len(before.events) + 1
        assert after.events[-1].action == action
        assert (after.events[-1].from_state, after.events[-1].to_state) == (before.state, expected)
    else:
        with pytest.raises(expected):
            await ACTIONS[action](database, number)
        after = await lifecycle.order_detail(database, number)
        assert after == before  # nothing changed, nothing recorded


async def test_an_escalated_order_not_yet_accepted_can_be_accepted_and_worked_on(database: Database) -> None:
    number = await _file(database)
    await lifecycle.escalate(database, number, "system", "超过办理时限", _later(1))
    with pytest.raises(InvalidTransition, match="尚未签收"):
        await lifecycle.close(database, number, HOUSING, "张工", "已修复", _later(2))
    accepted = await lifecycle.accept(database, number, HOUSING, "张工", _later(3))
    assert (accepted.state, accepted.escalated_at) == ("办理中", _later(1))


async def test_an_escalated_order_in_the_queue_can_be_dispatched(database: Database) -> None:
    number = await _file(database, category=UTILITIES)
    await lifecycle.escalate(database, number, "system", "超过办理时限", _later(1))
    assert [order.state for order in await lifecycle.list_orders(database, None)] == ["督办"]
    dispatched = await lifecycle.dispatch(database, number, OTHER, "调度员", _later(2))
    assert (dispatched.state, dispatched.department) == ("已派单", OTHER)


@pytest.mark.parametrize(
    "action",
    [
        lambda db, n: lifecycle.accept(db, n, OTHER, "王工", _later(5)),
        lambda db, n: lifecycle.add_progress(db, n, OTHER, "王工", "看一下", _later(5)),
        lambda db, n: lifecycle.close(db, n, OTHER, "王工", "办好了", _later(5)),
        lambda db, n: lifecycle.return_order(db, n, OTHER, "王工", "不是我们的", _later(5)),
        lambda db, n: lifecycle.extend(db, n, OTHER, "王工", "忙", _later(60 * 24 * 30), _later(5)),
    ],
    ids=["accept", "progress", "close", "return", "extend"],
)
async def test_a_department_cannot_touch_another_departments_order(database: Database, action: Step) -> None:
    number = await _in_state(database, "办理中")
    before = await lifecycle.order_detail(database, number)
    with pytest.raises(NotYourOrder):
        await action(database, number)
    assert await lifecycle.order_detail(database, number) == before
    assert await lifecycle.list_orders(database, OTHER) == []


@pytest.mark.parametrize("action", list(ACTIONS), ids=list(ACTIONS))
async def test_an_unknown_number_is_not_found(database: Database, action: str) -> None:
    with pytest.raises(OrderNotFound):
        await ACTIONS[action](database, "WO2026112799999")


async def test_order_detail_of_an_unknown_number(database: Database) -> None:
    with pytest.raises(OrderNotFound):
        await lifecycle.order_detail(database, "WO2026112799999")


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda db, n: lifecycle.add_progress(db, n, HOUSING, "张工", " ", _later(5)), "办理进展"),
        (lambda db, n: lifecycle.close(db, n, HOUSING, "张工", "", _later(5)), "答复内容"),
        (lambda db, n: lifecycle.return_order(db, n, HOUSING, "张工", "", _later(5)), "退单理由"),
        (lambda db, n: lifecycle.extend(db, n, HOUSING, "张工", "", _later(9999), _later(5)), "延期理由"),
        (lambda db, n: lifecycle.escalate(db, n, "system", "", _later(5)), "督办理由"),
        (lambda db, n: lifecycle.dispatch(db, n, " ", "调度员", _later(5)), "承办部门"),
    ],
    ids=["progress", "close", "return", "extend", "escalate", "dispatch"],
)
async def test_a_step_without_its_text_is_refused(database: Database, action: Step, message: str) -> None:
    number = await _in_state(database, "办理中")
    with pytest.raises(InvalidTransition, match=message):
        await action(database, number)


async def test_a_returned_order_goes_back_to_the_dispatcher_who_sends_it_elsewhere(database: Database) -> None:
    number = await _in_state(database, "办理中")
    returned = await lifecycle.return_order(database, number, HOUSING, "张工", "电梯安全归市场监管局管", _later(5))
    assert (returned.state, returned.department, returned.accepted_at) == ("退单", None, None)
    assert returned.events[-1].reason == "电梯安全归市场监管局管"
    assert returned.events[-1].department == HOUSING
    assert await lifecycle.list_orders(database, HOUSING) == []
    assert [order.number for order in await lifecycle.list_orders(database, None)] == [number]
    again = await lifecycle.dispatch(database, number, "广州市天河区市场监督管理局", "调度员", _later(6))
    assert (again.state, again.department) == ("已派单", "广州市天河区市场监督管理局")
    accepted = await lifecycle.accept(database, number, "广州市天河区市场监督管理局", "刘工", _later(7))
    assert accepted.state == "办理中"
    texts = await _texts(database, number)
    assert texts[-2] == f"您的工单{number}已派至广州市天河区市场监督管理局办理，办理时限至12月4日。"


async def test_an_extension_moves_the_deadline_once(database: Database) -> None:
    number = await _in_state(database, "办理中")
    new_due = china(2026, 12, 18, 23, 59, 59)
    with pytest.raises(InvalidTransition, match="晚于"):
        await lifecycle.extend(database, number, HOUSING, "张工", "需要厂家配件", china(2026, 12, 1), _later(5))
    extended = await lifecycle.extend(database, number, HOUSING, "张工", "需要厂家配件", new_due, _later(5))
    assert (extended.state, extended.due_at) == ("延期", new_due)
    assert extended.events[-1].reason == "需要厂家配件（时限由2026-12-04 23:59延至2026-12-18 23:59）"
    assert (await _texts(database, number))[-1] == f"您的工单{number}办理时限延长至12月18日，原因：需要厂家配件。"
    with pytest.raises(InvalidTransition):
        await lifecycle.extend(database, number, HOUSING, "张工", "还要再等", new_due + timedelta(days=7), _later(6))


@pytest.mark.parametrize(
    ("solved", "satisfaction"),
    [(False, "满意"), (True, "不满意"), (False, "不满意")],
    ids=["unsolved", "unhappy", "both"],
)
async def test_not_solved_or_unsatisfied_reopens_with_the_citizens_words(
    database: Database, solved: bool, satisfaction: str
) -> None:
    number = await _in_state(database, "已办结")
    monday = china(2026, 11, 30, 10, 0)
    reopened = await lifecycle.record_follow_up(database, number, solved, satisfaction, "电梯又坏了", monday)
    assert (reopened.state, reopened.department, reopened.reopened) == ("办理中", HOUSING, 1)
    assert (reopened.solved, reopened.satisfaction, reopened.closed_at) == (solved, satisfaction, None)
    assert reopened.due_at == china(2026, 12, 7, 23, 59, 59)  # a fresh 5 working days
    assert _trail(reopened)[-1] == ("citizen", "reopen", "已办结", "办理中")
    assert [(note.author, note.kind, note.text) for note in reopened.notes] == [("citizen", "citizen", "电梯又坏了")]
    assert (await _texts(database, number))[-1] == (
        f"您对工单{number}的意见已收到，已转{HOUSING}重新办理，办理时限至12月7日。"
    )
    # The department works on it again, and the next answer can close the loop.
    await lifecycle.close(database, number, HOUSING, "张工", "已更换主板", monday + timedelta(days=1))
    done = await lifecycle.record_follow_up(database, number, True, "基本满意", "", monday + timedelta(days=2))
    assert (done.state, done.reopened) == ("已回访", 1)


async def test_a_satisfaction_outside_the_three_answers_is_refused(database: Database) -> None:
    number = await _in_state(database, "已办结")
    with pytest.raises(ValueError, match="满意度"):
        await lifecycle.record_follow_up(database, number, True, "还行", "", _later(10))


async def test_anonymous_orders_and_orders_without_a_citizen_get_no_messages(database: Database) -> None:
    anonymous = await _file(database, anonymous=True)
    unverified = await _file(database, citizen=False, address="天河区天河路1号")
    for number in (anonymous, unverified):
        await lifecycle.accept(database, number, HOUSING, "张工", _later(1))
        await lifecycle.add_progress(database, number, HOUSING, "张工", "已到现场", _later(2))
        await lifecycle.close(database, number, HOUSING, "张工", "已处理", _later(3))
        assert await _texts(database, number) == []
    assert await pending(database) == []


async def test_a_merged_order_follows_the_original(database: Database) -> None:
    original = await _file(database, address="天河区体育西路103号")
    duplicate = await _file(database, address="天河区体育西路103号", sender="tg-42", now=_later(1))
    assert (await lifecycle.order_detail(database, duplicate)).duplicate_of == original
    with pytest.raises(InvalidTransition, match="合并办理"):
        await lifecycle.accept(database, duplicate, HOUSING, "张工", _later(2))
    await lifecycle.accept(database, original, HOUSING, "张工", _later(3))
    await lifecycle.close(database, original, HOUSING, "张工", "电梯已修复", _later(4))
    merged = await lifecycle.order_detail(database, duplicate)
    assert (merged.state, merged.reply, merged.closed_at) == ("已办结", "电梯已修复", _later(4))
    assert merged.events[-1].reason == f"随工单{original}办结"
    label = f"{duplicate}（与工单{original}合并办理）"
    assert await _texts(database, duplicate) == [
        f"您的工单{label}已由{HOUSING}签收，正在办理。",
        f"您的工单{label}已办结。{HOUSING}答复：电梯已修复。稍后我们会向您回访办理结果。",
    ]
    assert [m.conversation_id for m in await messages_of_order(database, duplicate)] == ["tg-42", "tg-42"]
    # Its citizen is not satisfied: it is worked on again by itself.
    reopened = await lifecycle.record_follow_up(database, duplicate, False, "不满意", "还是坏的", _later(5))
    assert (reopened.state, reopened.duplicate_of) == ("办理中", None)
    assert reopened.events[-1].reason == f"未解决，不满意：还是坏的（不再随工单{original}办理）"
    assert (await lifecycle.order_detail(database, original)).state == "已办结"


async def test_the_outbox_is_delivered_once_and_given_up_after_failures(database: Database) -> None:
    number = await _in_state(database, "办理中")
    await lifecycle.add_progress(database, number, HOUSING, "张工", "已派人", _later(5))
    accepted, progress = await pending(database)
    await mark_sent(database, accepted.id, _later(6))
    assert [message.id for message in await pending(database)] == [progress.id]
    assert await mark_failed(database, progress.id, "telegram down") is False
    assert await mark_failed(database, progress.id, "telegram down") is False
    assert [message.attempts for message in await pending(database)] == [2]
    assert await mark_failed(database, progress.id, "telegram down") is True
    assert await pending(database) == []
    with pytest.raises(LookupError):
        await mark_sent(database, 999_999, _later(7))
