"""Fallback, yes/no to offers, reports and asking for a person."""

from __future__ import annotations

import pytest
import yaml
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions.conversation import (
    ActionAcceptOffer,
    ActionDeclineOffer,
    ActionHandleFallback,
    ActionRequestHuman,
)
from bot.actions.messages import BACKEND_DOWN, HUMAN_SERVICE, NOT_UNDERSTOOD_HANDOFF
from bot.catalog import runtime
from bot.citizens.identity import identify
from bot.core import clock
from bot.core.db import Database
from bot.core.models import WorkOrder
from bot.core.settings import PROJECT_ROOT, get_settings
from tests.actions.conftest import APPLICANT_PHONE, IN_PROGRESS, OVERDUE, tracker


def user_event(intent: str) -> dict[str, object]:
    return {"event": "user", "text": "x", "parse_data": {"intent": {"name": intent}}}


async def test_first_miss_asks_to_rephrase_second_hands_over_to_a_person(hotline: runtime.Hotline) -> None:
    dispatcher = CollectingDispatcher()
    once = tracker("叽里咕噜", "nlu_fallback", events=[user_event("greet"), user_event("nlu_fallback")])
    assert await ActionHandleFallback().run(dispatcher, once, {}) == []
    assert dispatcher.messages[0]["response"] == "utter_ask_rephrase"
    dispatcher = CollectingDispatcher()
    twice = tracker("叽里咕噜", "nlu_fallback", events=[user_event("nlu_fallback"), user_event("nlu_fallback")])
    assert await ActionHandleFallback().run(dispatcher, twice, {}) == [SlotSet("pending_offer", None)]
    assert dispatcher.messages[0]["text"] == NOT_UNDERSTOOD_HANDOFF
    assert dispatcher.messages[1]["custom"] == {"handoff": "requested", "reason": "not_understood"}


@pytest.mark.parametrize("text", ["几好 俾五粒星你", "给你五星好评", "服务很好，点赞", "5星", "5分", "打五分"])
async def test_praise_the_nlu_missed_is_thanked(hotline: runtime.Hotline, text: str) -> None:
    """The sixth blind set: "几好 俾五粒星你" after a report was filed got "没太听明白"."""
    dispatcher = CollectingDispatcher()
    assert await ActionHandleFallback().run(dispatcher, tracker(text, "nlu_fallback"), {}) == []
    assert dispatcher.messages[0]["text"].startswith("谢谢您的肯定")


async def test_a_word_that_is_a_service_explained_is_the_service_then_discussed(hotline: runtime.Hotline) -> None:
    """The sixth blind set's dev half, after 签注 was explained: "咁要带啲咩去办啊" was asked which service."""
    dispatcher = CollectingDispatcher()
    asked = tracker("我个仔想去香港读书 佢话要办个签注 签注系咩嚟㗎", "nlu_fallback")
    events = await ActionHandleFallback().run(dispatcher, asked, {})
    assert dispatcher.messages[0]["text"].startswith("签注就是")
    assert events == [SlotSet("service", "往来港澳通行证签注"), SlotSet("service_id", "hk-macau-endorsement")]
    events = await ActionHandleFallback().run(CollectingDispatcher(), tracker("受理是什么意思", "nlu_fallback"), {})
    assert events == []  # a word of ours names no service


def test_thanks_and_praise_read_as_thanks_are_thanked_back() -> None:
    """The eighth blind set's dev half: "五星，谢谢你们" got "不客气…" and no word of thanks for the praise."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    (reply,) = domain["responses"]["utter_thank"]
    assert reply["text"].startswith("不客气") and "感谢" in reply["text"]


async def test_words_the_nlu_missed_that_name_a_service_go_to_the_service_form(hotline: runtime.Hotline) -> None:
    """ "我要办证" then "结婚的那个": the second was read as nothing, then handed to a person."""
    dispatcher = CollectingDispatcher()
    missed = tracker("结婚的那个", "nlu_fallback", events=[user_event("nlu_fallback"), user_event("nlu_fallback")])
    assert await ActionHandleFallback().run(dispatcher, missed, {}) == [FollowupAction("service_form")]
    assert dispatcher.messages == []


async def test_a_certificate_asked_for_without_saying_which_goes_to_the_service_form(hotline: runtime.Hotline) -> None:
    """The second blind set: "喂 我要办个证" got "没太听明白"; the form asks which one (test_materials)."""
    dispatcher = CollectingDispatcher()
    missed = tracker("喂 我要办个证", "nlu_fallback", events=[user_event("nlu_fallback")])
    assert await ActionHandleFallback().run(dispatcher, missed, {}) == [FollowupAction("service_form")]
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "text",
    [
        "督办之后一般多久会有回复？",
        # The fifth blind set, on the phone: not understanding the word is asking what it means.
        "督办是什么意思啊 我听不懂",
        "咩叫督办啊",
        "读办是什么？要另外交钱吗",  # the sixth blind set: 督办 typed by its sound
    ],
)
async def test_a_question_about_supervision_at_its_offer_is_answered_and_the_offer_stands(
    hotline: runtime.Hotline, text: str
) -> None:
    """The fourth blind set: "督办之后一般多久会有回复？" at the 督办 offer got a list of services, and the yes
    after it ("那行吧，办一个") found no offer."""
    dispatcher = CollectingDispatcher()
    asked = tracker(
        text,
        "nlu_fallback",
        slots={"pending_offer": f"supervise:{OVERDUE}", "verified_cases": [OVERDUE]},
        events=[user_event("nlu_fallback")],
    )
    assert await ActionHandleFallback().run(dispatcher, asked, {}) == []
    [answer] = dispatcher.messages
    assert answer["text"].startswith("督办就是") and answer["text"].endswith("需要为您提交督办吗？")
    assert [b["payload"] for b in answer["buttons"]] == ["/affirm", "/deny"]


async def test_a_question_about_supervision_answered_yes_in_the_same_breath_files_it(hotline: runtime.Hotline) -> None:
    """The ninth blind set's test half: "督办即系帮我催佢哋快啲系咪 咁好啊 搞啦" got the explanation, and no 督办."""
    asked = tracker(
        "督办即系帮我催佢哋快啲系咪 咁好啊 搞啦",
        "nlu_fallback",
        slots={"pending_offer": f"supervise:{OVERDUE}", "verified_cases": [OVERDUE]},
        events=[user_event("nlu_fallback")],
    )
    dispatcher = CollectingDispatcher()
    assert await ActionHandleFallback().run(dispatcher, asked, {}) == [FollowupAction("action_accept_offer")]
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "办结是什么意思，是可以去拿了吗？",
            "领取",
        ),  # the sixth blind set's test half: asked for the case number again
        ("受理是什么意思", "收到"),
        ("咩叫审查啊", "审核"),
        ("工单系咩意思", "工单就是"),
        ("审查是什么意思？是不是材料有问题？一般还要多久", "并不代表"),  # the seventh blind set
        ("办结和办理中有什么区别？我的一个申请显示办理中好久了", "办完"),  # the eighth blind set
        ("签注是什么意思？我看港澳通行证那里写着签注", "通行证"),
        ('等下，"住所"是什么意思？我们打算先用家里地址注册', "地址"),
        ("备案即系点", "登记"),
    ],
)
async def test_a_word_of_ours_the_citizen_does_not_know_is_explained(
    hotline: runtime.Hotline, text: str, said: str
) -> None:
    dispatcher = CollectingDispatcher()
    asked = tracker(text, "nlu_fallback", events=[user_event("ask_progress"), user_event("nlu_fallback")])
    events = await ActionHandleFallback().run(dispatcher, asked, {})
    assert [e for e in events if e.get("name") not in ("service", "service_id")] == []  # at most the service named
    assert said in dispatcher.messages[0]["text"]
    assert "没太听明白" not in dispatcher.messages[0]["text"]


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("得，帮我跟下", "action_accept_offer"),  # the seventh blind set's test half: "没太听明白" at the 督办 offer
        ("行吧，帮我督半一下", "action_accept_offer"),
        ("系啊", "action_accept_offer"),
        ("算了吧，等等再说", "action_decline_offer"),
        ("唔使喇", "action_decline_offer"),
    ],
)
async def test_a_yes_or_no_the_nlu_missed_answers_the_pending_offer(
    hotline: runtime.Hotline, text: str, action: str
) -> None:
    dispatcher = CollectingDispatcher()
    missed = tracker(text, "nlu_fallback", slots={"pending_offer": f"supervise:{OVERDUE}", "verified_cases": [OVERDUE]})
    assert await ActionHandleFallback().run(dispatcher, missed, {}) == [FollowupAction(action)]
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("text", "accepted"), [("唔使钱就搞啦", True), ("免费的话就帮我催一下", True), ("唔使喇", False)]
)
async def test_a_yes_the_nlu_read_as_a_no_accepts_the_pending_offer(
    hotline: runtime.Hotline, text: str, accepted: bool
) -> None:
    """The ninth blind set: "唔使钱就搞啦" (it costs nothing, so do it) after 督办 was explained dropped the offer."""
    dispatcher = CollectingDispatcher()
    said_no = tracker(text, "deny", slots={"pending_offer": f"supervise:{OVERDUE}", "verified_cases": [OVERDUE]})
    events = await ActionDeclineOffer().run(dispatcher, said_no, {})
    assert (events == [FollowupAction("action_accept_offer")]) is accepted
    assert (dispatcher.messages == []) is accepted


async def test_a_cancelled_report_taken_up_again_in_words_the_nlu_missed_goes_back_to_it(
    hotline: runtime.Hotline,
) -> None:
    """The seventh blind set's test half: "唉都系帮我报返啦" after "算啦算啦 唔讲啦" was not understood."""
    events = [
        {"event": "slot", "name": "report_details", "value": "我哋对面楼嗰间KTV成晚播歌"},
        {"event": "slot", "name": "report_kind", "value": "投诉"},
        {"event": "slot", "name": "report_confirmed", "value": "cancelled"},
        {"event": "slot", "name": "report_details", "value": None},
    ]
    missed = tracker("唉都系帮我报返啦 我今晚真系要瞓觉", "nlu_fallback", events=events)
    dispatcher = CollectingDispatcher()
    assert await ActionHandleFallback().run(dispatcher, missed, {}) == [FollowupAction("report_form")]


async def test_a_report_ended_by_a_no_and_taken_up_again_goes_back_to_it(hotline: runtime.Hotline) -> None:
    """The seventh blind set's test half: "啊算啦算啦 唔讲啦" ended the form (the rule for a no keeps its slots), and
    "唉都系帮我报返啦" was not understood."""
    slots = {"report_kind": "投诉", "report_details": "我哋对面楼嗰间KTV成晚播歌", "report_district": "番禺区"}
    missed = tracker("唉都系帮我报返啦 我今晚真系要瞓觉", "nlu_fallback", slots=slots)
    dispatcher = CollectingDispatcher()
    assert await ActionHandleFallback().run(dispatcher, missed, {}) == [FollowupAction("report_form")]


async def test_inside_another_form_a_miss_is_not_taken_for_a_service(hotline: runtime.Hotline) -> None:
    dispatcher = CollectingDispatcher()
    missed = tracker("结婚的那个", "nlu_fallback", active_loop="report_form", events=[user_event("nlu_fallback")])
    assert await ActionHandleFallback().run(dispatcher, missed, {}) == []
    assert dispatcher.messages[0]["response"] == "utter_ask_rephrase"


async def test_a_miss_while_the_database_is_down_says_so_and_hands_over() -> None:
    """The catalogue cannot be read: the citizen is told and handed to a person, not asked to rephrase."""
    down = runtime.Hotline(get_settings(), Database("postgresql://postgres@127.0.0.1:1/nowhere"))
    runtime.use(down)
    try:
        dispatcher = CollectingDispatcher()
        missed = tracker("结婚的那个", "nlu_fallback", events=[user_event("nlu_fallback")])
        assert await ActionHandleFallback().run(dispatcher, missed, {}) == []
        assert dispatcher.messages[0]["text"] == BACKEND_DOWN
    finally:
        await down.database.close()
        runtime.use(None)


async def test_yes_to_supervision_files_a_work_order(hotline: runtime.Hotline) -> None:
    dispatcher = CollectingDispatcher()
    slots = {"pending_offer": f"supervise:{OVERDUE}", "verified_cases": [OVERDUE]}
    events = await ActionAcceptOffer().run(dispatcher, tracker("好的", "affirm", slots=slots), {})
    assert events == [SlotSet("pending_offer", None)]
    number = dispatcher.messages[0]["custom"]["number"]
    assert dispatcher.messages[0]["text"].startswith(f"已为您提交督办工单，工单编号{number}")
    async with hotline.database.session() as session:
        order = (await session.execute(select(WorkOrder))).scalar_one()
    assert (order.number, order.case_number, order.kind) == (number, OVERDUE, "督办")
    assert (order.channel, order.citizen_id) == ("", None)


async def test_a_supervision_order_remembers_the_verified_citizen(hotline: runtime.Hotline) -> None:
    citizen = await identify(hotline.database, APPLICANT_PHONE, str(hotline.settings.pii_hash_key), clock.now())
    slots = {"pending_offer": f"supervise:{OVERDUE}", "verified_cases": [OVERDUE]}
    metadata = {"channel": "voice", "citizen_id": citizen.id}
    await ActionAcceptOffer().run(CollectingDispatcher(), tracker("好的", "affirm", slots=slots, metadata=metadata), {})
    async with hotline.database.session() as session:
        order = (await session.execute(select(WorkOrder))).scalar_one()
    assert (order.channel, order.citizen_id, order.case_number) == ("voice", citizen.id, OVERDUE)


def offered_then_declined(number: str) -> list[dict[str, object]]:
    """The events of a 督办 offer the citizen said no to."""
    return [
        {"event": "slot", "name": "pending_offer", "value": f"supervise:{number}"},
        user_event("deny"),
        {"event": "slot", "name": "pending_offer", "value": None},
    ]


async def test_supervision_asked_for_after_declining_it_is_filed(hotline: runtime.Hotline) -> None:
    """The fifth blind set: "先不用", then "想了想还是督办吧，都拖了一个多月了" started a complaint about nothing."""
    dispatcher = CollectingDispatcher()
    t = tracker(
        "想了想还是督办吧，都拖了一个多月了",
        "affirm",
        slots={"verified_cases": [OVERDUE]},
        events=offered_then_declined(OVERDUE),
    )
    assert await ActionAcceptOffer().run(dispatcher, t, {}) == [SlotSet("pending_offer", None)]
    number = dispatcher.messages[0]["custom"]["number"]
    assert dispatcher.messages[0]["text"].startswith(f"已为您提交督办工单，工单编号{number}")
    async with hotline.database.session() as session:
        order = (await session.execute(select(WorkOrder))).scalar_one()
    assert (order.case_number, order.kind) == (OVERDUE, "督办")


async def test_supervision_with_a_complaint_files_it_then_takes_the_complaint(hotline: runtime.Hotline) -> None:
    """The fifth blind set: "要督办。还有…工作人员态度很差…一并反映一下" started the complaint and filed no 督办."""
    dispatcher = CollectingDispatcher()
    text = "要督办。还有我想投诉一下，窗口那个工作人员态度很差，让我来回跑了三趟"
    slots = {"pending_offer": f"supervise:{OVERDUE}", "verified_cases": [OVERDUE]}
    events = await ActionAcceptOffer().run(dispatcher, tracker(text, "affirm", slots=slots), {})
    assert events == [SlotSet("pending_offer", None), SlotSet("report_kind", "投诉"), FollowupAction("report_form")]
    assert dispatcher.messages[0]["text"].startswith("已为您提交督办工单")
    async with hotline.database.session() as session:
        assert (await session.execute(select(WorkOrder.kind))).scalars().all() == ["督办"]


async def test_supervision_asked_for_with_no_case_looked_up_asks_for_the_number(hotline: runtime.Hotline) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAcceptOffer().run(dispatcher, tracker("帮我督办一下", "affirm"), {})
    assert events == [SlotSet("pending_offer", None), FollowupAction("progress_form")]
    assert dispatcher.messages[0]["text"].startswith("督办要先查到您的办件")


async def test_supervision_needs_a_verified_case(hotline: runtime.Hotline) -> None:
    dispatcher = CollectingDispatcher()
    slots = {"pending_offer": f"supervise:{IN_PROGRESS}", "verified_cases": []}
    await ActionAcceptOffer().run(dispatcher, tracker("好", "affirm", slots=slots), {})
    assert dispatcher.messages[0]["response"] == "utter_anything_else"
    async with hotline.database.session() as session:
        assert (await session.execute(select(WorkOrder))).first() is None


async def test_yes_with_nothing_offered() -> None:
    dispatcher = CollectingDispatcher()
    assert await ActionAcceptOffer().run(dispatcher, tracker("好的", "affirm"), {}) == [SlotSet("pending_offer", None)]
    assert dispatcher.messages[0]["text"] == "好的。请问有什么可以帮您？"


async def test_no_drops_the_offer() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionDeclineOffer().run(dispatcher, tracker("不用了", "deny", slots={"pending_offer": "human"}), {})
    assert events == [SlotSet("pending_offer", None)]


async def test_request_human_says_how_to_reach_an_agent_and_asks_the_channel_to_transfer() -> None:
    dispatcher = CollectingDispatcher()
    assert await ActionRequestHuman().run(dispatcher, tracker("转人工", "request_human"), {}) == [
        SlotSet("pending_offer", None)
    ]
    assert dispatcher.messages[0]["text"] == HUMAN_SERVICE
    assert "12345" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[0]["custom"] == {"handoff": "requested", "reason": "requested"}
    assert len(dispatcher.messages) == 1


async def test_an_emergency_asks_for_a_person_ahead_of_the_queue() -> None:
    dispatcher = CollectingDispatcher()
    await ActionRequestHuman().run(dispatcher, tracker("着火了", "emergency"), {})
    assert dispatcher.messages[0]["custom"] == {"handoff": "requested", "reason": "emergency"}


async def test_yes_to_a_person_also_asks_the_channel_to_transfer() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAcceptOffer().run(dispatcher, tracker("好的", "affirm", slots={"pending_offer": "human"}), {})
    assert events == [SlotSet("pending_offer", None)]
    assert dispatcher.messages[0]["text"] == HUMAN_SERVICE
    assert dispatcher.messages[0]["custom"] == {"handoff": "requested", "reason": "requested"}


async def test_a_typed_command_is_not_a_yes_to_the_offer(hotline: runtime.Hotline) -> None:
    """A typed "/restart" reaches the bot as "／restart": even if the NLU calls it a yes, nothing is filed."""
    slots = {"pending_offer": f"supervise:{OVERDUE}", "verified_cases": [OVERDUE]}
    dispatcher = CollectingDispatcher()
    events = await ActionAcceptOffer().run(dispatcher, tracker("／restart", "affirm", slots=slots), {})
    assert events == []  # the offer stays open
    assert dispatcher.messages[0]["text"] == "请直接回答“需要”或“不用”，也可以回复选项的序号。"
    async with hotline.database.session() as session:
        assert (await session.scalars(select(WorkOrder))).all() == []
