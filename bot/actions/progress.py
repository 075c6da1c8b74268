"""Where an application stands: the progress form, ownership check and the answer."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import (
    ANSWERS,
    BACKEND_ERRORS,
    INTERRUPTIONS,
    choice_buttons,
    has_entity,
    hotline,
    is_activation,
    latest_intent,
    latest_text,
    reply_to,
    report_backend_failure,
    verified_phone,
)
from bot.cases import (
    CaseView,
    InvalidCaseNumber,
    Standing,
    Verdict,
    find_case,
    is_applicant_phone,
    local_now,
    parse_case_number,
    verify_owner,
)
from bot.numerals import digit_runs

FORM = "progress_form"
VERIFIED_BY_PHONE = "本机号码"


def spoken_digits(number: str) -> str:
    """``2026`` → ``2 0 2 6``, so that voice reads a number digit by digit."""
    return " ".join(number)


def progress_text(case: CaseView) -> str:
    """The status, timeline and promised date of a case, in plain Chinese."""
    lines = [f"办件编号{case.number}（{case.service_name}，{case.department}）"]
    last_at = case.timeline[-1][1] if case.timeline else None
    if case.standing is Standing.FINISHED and last_at is not None:
        lines.append(f"已于{last_at:%Y年%m月%d日}办结。")
    else:
        lines.append(f"当前进度：{case.status}。承诺办结日期：{case.promised_date:%Y年%m月%d日}。")
    steps = []
    for status, at, note in case.timeline:
        steps.append(f"{at:%m-%d %H:%M} {status}" + (f"（{note}）" if note else ""))
    lines.append("办理过程：" + " → ".join(steps))
    return "\n".join(lines)


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
        """No ownership question for a case already verified in this conversation."""
        number = tracker.get_slot("case_number")
        if number and number in (tracker.get_slot("verified_cases") or []):
            return ["case_number"]
        return domain_slots

    async def extract_case_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take a number from the citizen's words when they say one or were asked for it."""
        intent, text = latest_intent(tracker), latest_text(tracker)
        if not text or intent in INTERRUPTIONS:
            return {}
        if tracker.get_slot("requested_slot") == "verify_code":
            return {}
        said_number = has_entity(tracker, "case_number") or bool(digit_runs(text, min_length=10))
        asked = tracker.get_slot("requested_slot") == "case_number"
        if said_number or (asked and intent in ANSWERS | {"ask_progress"}):
            return {"case_number": text}
        if is_activation(tracker, FORM):
            return {"case_number": None}
        return {}

    async def validate_case_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Check the number's form and that the case exists."""
        if not value:
            return {"case_number": None}
        try:
            number = parse_case_number(str(value))
        except InvalidCaseNumber as error:
            dispatcher.utter_message(text=f"抱歉，没有听到完整的编号。{error}。")
            return {"case_number": None}
        app = hotline()
        try:
            case = await find_case(app.database, number, local_now().date())
            if case is None:
                dispatcher.utter_message(
                    text=f"没有查到编号为{number}的办件。请核对编号，"
                    "它在受理回执或短信通知里；新受理的办件可能要第二天才能查到。"
                )
                return {"case_number": None}
            phone = verified_phone(tracker)
            if phone is not None and await is_applicant_phone(
                app.database, number, phone, str(app.settings.pii_hash_key)
            ):
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
        """Take the answer to the ownership question."""
        text = reply_to(tracker, "verify_code")
        if text is not None and (digit_runs(text, min_length=4) or latest_intent(tracker) in ANSWERS):
            return {"verify_code": text}
        return {}

    async def validate_verify_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Check the last four digits; too many wrong answers lock the case for a while."""
        number = tracker.get_slot("case_number")
        if value == VERIFIED_BY_PHONE or not number:
            return {"verify_code": value if number else None}
        if not digit_runs(str(value), min_length=4):
            dispatcher.utter_message(text="请说出手机号码的后四位数字，比如“后四位是1234”。")
            return {"verify_code": None}
        app = hotline()
        try:
            outcome = await verify_owner(
                app.database,
                number,
                str(value),
                key=str(app.settings.pii_hash_key),
                now=local_now(),
                max_failures=app.settings.verify_max_failures,
                lock_minutes=app.settings.verify_lock_minutes,
            )
        except BACKEND_ERRORS as error:
            report_backend_failure(dispatcher, error)
            return {"verify_code": None, "requested_slot": None}
        if outcome.verdict is Verdict.VERIFIED:
            verified = list(tracker.get_slot("verified_cases") or [])
            return {"verify_code": "已验证", "verified_cases": [*verified, number]}
        if outcome.verdict is Verdict.WRONG:
            dispatcher.utter_message(text=f"后四位与登记的手机号不一致，还可以再试{outcome.attempts_left}次。")
            return {"verify_code": None}
        until = f"{outcome.locked_until:%H:%M}" if outcome.locked_until else "稍后"
        dispatcher.utter_message(
            text=f"验证失败次数过多，为保护您的信息，该办件的查询已暂时锁定，请在{until}以后再试。"
            "如需帮助可以说“转人工”。"
        )
        return {"verify_code": None, "case_number": None, "requested_slot": None}


class ActionShowProgress(Action):
    """Tells the verified owner where the case stands, and offers 督办 when it is overdue."""

    def name(self) -> str:
        """The action's name."""
        return "action_show_progress"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Show the progress of a verified case and reset the form's slots."""
        number = tracker.get_slot("case_number")
        reset: list[EventType] = [SlotSet("case_number", None), SlotSet("verify_code", None)]
        if not number or number not in (tracker.get_slot("verified_cases") or []):
            return reset
        try:
            case = await find_case(hotline().database, number, local_now().date())
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
                "short": f"您的办件目前的进度是{case.status}。",
                "spoken_number": spoken_digits(case.number),
            },
        )
        if case.standing is Standing.OVERDUE:
            days = (local_now().date() - case.promised_date).days
            dispatcher.utter_message(
                text=f"这件办件已经超过承诺时限{days}天。需要为您提交督办工单，催促承办部门处理吗？",
                buttons=choice_buttons(["需要督办", "不用了"]),
            )
            return [*reset, SlotSet("pending_offer", f"supervise:{case.number}")]
        dispatcher.utter_message(response="utter_anything_else")
        return reset
