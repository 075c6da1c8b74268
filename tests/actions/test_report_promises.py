"""What filing a report promises, kept: a number given is followed up by it; the phone says what to say or press."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages, progress
from bot.actions.progress import ActionShowProgress, ValidateProgressForm
from bot.actions.report_filing import ActionAskReportConfirmed, ActionFileReport
from bot.catalog import runtime
from bot.core.db import DatabaseUnavailable
from bot.work_orders.filing import find_order
from channels.connector import spoken_texts
from channels.twilio.speech import speakable
from tests.actions.conftest import COMPLAINT, ask, citizen_id, run_validation, tracker

GIVEN = "13800138000"
NUMBER = re.compile(r"WO\d{13}")


def as_rasa_sends(dispatched: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An action's messages as Rasa's output channel hands them to a connector: text (with buttons), then custom."""
    sent: list[dict[str, Any]] = []
    for message in dispatched:
        if message.get("text"):
            sent.append(
                {"text": message["text"], **({"buttons": message["buttons"]} if message.get("buttons") else {})}
            )
        if message.get("custom"):
            sent.append({"custom": message["custom"]})
    return sent


def heard(dispatcher: CollectingDispatcher) -> str:
    """What a caller hears of an action's messages (the voice connector's reading)."""
    return " ".join(speakable(text) for text in spoken_texts(as_rasa_sends(dispatcher.messages)))


async def file_report(
    slots: dict[str, Any], metadata: dict[str, Any], sender: str = "citizen-1"
) -> CollectingDispatcher:
    t = tracker("确认提交", slots={**slots, "report_confirmed": "yes"}, metadata=metadata)
    t.sender_id = sender
    dispatcher = CollectingDispatcher()
    await ActionFileReport().run(dispatcher, t, {})
    return dispatcher


async def run_form(t: Tracker) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    return await run_validation(ValidateProgressForm(), "progress_form", ["case_number", "verify_code"], t)


def asking(text: str, sender: str, slots: dict[str, Any] | None = None) -> Tracker:
    t = tracker(text, "ask_progress" if slots is None else "inform", slots=slots, metadata={"channel": "webchat"})
    if slots is not None:
        t.active_loop = {"name": "progress_form"}
    t.sender_id = sender
    return t


async def filed_with_number(hotline: runtime.Hotline, contact: str = GIVEN) -> str:
    dispatcher = await file_report({**COMPLAINT, "report_contact": contact}, {"channel": "webchat"}, sender="web-1")
    match = NUMBER.search(dispatcher.messages[0]["text"])
    assert match is not None
    return match.group(0)


# --- the report read back and filed on the phone ----------------------------------------------------


async def test_the_read_back_on_the_phone_says_what_to_say_never_to_tap(hotline: runtime.Hotline) -> None:
    t = tracker("", slots={**COMPLAINT, "report_contact": GIVEN}, metadata={"channel": "voice"})
    dispatcher = await ask(ActionAskReportConfirmed(), t)
    spoken = heard(dispatcher)
    assert "点" not in spoken.replace("地点", "")
    assert spoken.endswith("没问题请说“确认提交”；要改哪里直接说就行，比如“地址不对，是天河路100号”。")
    assert "联系方式：手机尾号八零零零" in spoken and GIVEN not in spoken
    # The written read-back keeps its button words for the screens that show the button.
    assert dispatcher.messages[0]["text"].endswith(messages.READBACK_HOW_TO_CHANGE)
    assert dispatcher.messages[0]["custom"]["kind"] == "readback"


def test_no_sentence_tells_the_citizen_to_tap() -> None:
    tapping = [
        name
        for name, value in vars(messages).items()
        if isinstance(value, str) and re.search(r"点击|请点|点“|点按", value) and not name.endswith("_SPOKEN")
    ]
    # None: not even the written read-back (an SMS has no button to tap either).
    assert tapping == []


@pytest.mark.parametrize("channel", ["voice", "webchat"])
async def test_filing_names_the_number_the_department_and_the_deadline_also_on_the_phone(
    hotline: runtime.Hotline, channel: str
) -> None:
    metadata = {"channel": channel, "citizen_id": await citizen_id(hotline)}
    dispatcher = await file_report({**COMPLAINT, "report_contact": "verified"}, metadata)
    custom = dispatcher.messages[0]["custom"]
    order = await find_order(hotline.database, custom["number"])
    assert order is not None and custom["department"] == order.department
    spoken = heard(dispatcher)
    assert order.department in spoken and "前会给您答复" in spoken
    assert " ".join(order.number) in spoken  # digit by digit
    assert "点" not in spoken


async def test_a_number_given_is_promised_the_result_and_read_as_its_tail(hotline: runtime.Hotline) -> None:
    dispatcher = await file_report({**COMPLAINT, "report_contact": GIVEN}, {"channel": "voice"})
    text = dispatcher.messages[0]["text"]
    assert "办理结果会通过您留的电话138****8000告诉您。" in text and GIVEN not in text
    spoken = heard(dispatcher)
    assert "尾号八零零零" in spoken and GIVEN not in spoken


# --- following the order up: this conversation, then any other with the last four digits -----------


async def test_the_order_is_shown_in_the_conversation_it_was_filed_in(hotline: runtime.Hotline) -> None:
    number = await filed_with_number(hotline)
    events, dispatcher = await run_form(asking(f"我刚才的工单{number}怎么样了", "web-1"))
    assert dispatcher.messages == []
    assert SlotSet("order_number", number) in events
    assert SlotSet("order_verify_code", progress.FILED_HERE) in events
    assert SlotSet("verified_orders", [number]) in events
    assert events[-1] == SlotSet("requested_slot", None)
    show = CollectingDispatcher()
    await ActionShowProgress().run(show, asking("", "web-1", {"order_number": number, "verified_orders": [number]}), {})
    assert show.messages[0]["text"].startswith(f"工单号{number}（投诉）\n当前状态：")
    assert "垃圾站" in show.messages[0]["text"]


async def test_from_another_conversation_the_last_four_digits_of_the_number_given_are_asked(
    hotline: runtime.Hotline,
) -> None:
    number = await filed_with_number(hotline)
    events, dispatcher = await run_form(asking(f"查一下工单{number}", "web-2"))
    assert dispatcher.messages == []
    assert events[-1] == SlotSet("requested_slot", "order_verify_code")
    slots = {"order_number": number, "requested_slot": "order_verify_code"}
    events, dispatcher = await run_form(asking("后四位是8000", "web-2", slots))
    assert dispatcher.messages == []
    assert SlotSet("order_verify_code", "已验证") in events
    assert SlotSet("verified_orders", [number]) in events


async def test_wrong_last_four_digits_lock_the_order_as_a_case_is_locked(hotline: runtime.Hotline) -> None:
    number = await filed_with_number(hotline)
    slots = {"order_number": number, "requested_slot": "order_verify_code"}
    said = []
    for answer in ("1111", "2222", "3333", "8000"):
        events, dispatcher = await run_form(asking(answer, "web-3", slots))
        said.append(dispatcher.messages[0]["text"])
    assert said[:2] == ["后四位与登记的手机号不一致，还可以再试2次。", "后四位与登记的手机号不一致，还可以再试1次。"]
    assert said[2].startswith("验证失败次数过多，为保护您的信息，该工单的查询已暂时锁定")
    assert said[3].startswith("验证失败次数过多")  # the right answer too, while the lock lasts
    assert events[-1] == SlotSet("requested_slot", None)
    assert SlotSet("verified_orders", [number]) not in events


async def test_the_citizen_whose_number_was_given_needs_no_digits_on_their_verified_channel(
    hotline: runtime.Hotline,
) -> None:
    number = await filed_with_number(hotline)
    t = tracker(
        f"工单{number}", "ask_progress", metadata={"channel": "sms", "citizen_id": await citizen_id(hotline, GIVEN)}
    )
    t.sender_id = "sms-x"
    events, dispatcher = await run_form(t)
    assert dispatcher.messages == []
    assert SlotSet("order_verify_code", progress.VERIFIED_BY_PHONE) in events


async def test_an_anonymous_order_is_not_revealed_elsewhere_but_is_in_its_own_conversation(
    hotline: runtime.Hotline,
) -> None:
    number = await filed_with_number(hotline, contact="anonymous")
    events, dispatcher = await run_form(asking(f"工单{number}", "web-4"))
    assert dispatcher.messages[0]["text"] == messages.NO_CLAIM_WITHOUT_CITIZEN
    assert SlotSet("order_verify_code", progress.NOT_VERIFIED) in events
    events, dispatcher = await run_form(asking(f"工单{number}", "web-1"))
    assert SlotSet("order_verify_code", progress.FILED_HERE) in events


async def test_database_down_while_checking_whose_order_it_is(
    hotline: runtime.Hotline, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await filed_with_number(hotline)

    async def down(*_: Any) -> bool:
        raise DatabaseUnavailable("down")

    monkeypatch.setattr(progress, "is_order_of_citizen", down)
    t = tracker(
        f"工单{number}", "ask_progress", metadata={"channel": "sms", "citizen_id": await citizen_id(hotline, GIVEN)}
    )
    events, dispatcher = await run_form(t)
    assert dispatcher.messages[0]["text"] == messages.BACKEND_DOWN
    assert SlotSet("order_verify_code", progress.NOT_VERIFIED) in events


@pytest.mark.parametrize("text", ["我刚才的工单怎么样了", "刚刚那个单子的编号再说一下？大概几天有回复"])
async def test_the_order_filed_here_asked_about_without_its_number_is_shown(
    hotline: runtime.Hotline, text: str
) -> None:
    """The eighth blind set's test half: "刚刚那个单子…" was asked for a 14-digit case number."""
    number = await filed_with_number(hotline)
    filed = {
        "event": "bot",
        "text": f"已为您登记投诉，工单号{number}。",
        "data": {"custom": {"kind": "work_order", "number": number}},
    }
    t = asking(text, "web-1")
    t.events.insert(0, filed)
    events, _ = await run_form(t)
    assert SlotSet("order_number", number) in events
    assert events[-1] == SlotSet("requested_slot", None)
    events, _ = await run_form(asking(text, "web-2"))  # nothing filed in this conversation: its number is asked
    assert events[-1] == SlotSet("requested_slot", "order_number")
