"""The report's read-back for confirmation, and filing the confirmed report as a work order."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import messages
from bot.actions.common import (
    BACKEND_ERRORS,
    choice_buttons,
    current_citizen,
    has_entity,
    hotline,
    message_channel,
    report_backend_failure,
    verified_citizen_id,
)
from bot.actions.report_slots import (
    ANONYMOUS,
    CANCELLED,
    CONFIRMED,
    FIELD_OPTIONS,
    REPORT_SLOTS,
    UNKNOWN,
    VERIFIED,
    WHICH_FIELD,
    WITHOUT_PLACE,
    WITHOUT_SINCE,
)
from bot.appeals.extraction import is_urgent, make_title
from bot.citizens.identity import CitizenView
from bot.core import clock
from bot.core.personal_data import mask_phone
from bot.work_orders.filing import FiledOrder, InvalidOrder, NewOrder, file_order
from bot.work_orders.notifications import deadline_text

logger = logging.getLogger(__name__)


def place_text(slots: dict[str, Any]) -> str:
    """Where it happened, as the read-back says it."""
    district, address = slots.get("report_district"), slots.get("report_address")
    place = "".join(part for part in (district, address) if part and part != UNKNOWN)
    if slots.get("report_location"):
        return messages.SHARED_LOCATION_AT.format(place=place) if place else messages.SHARED_LOCATION
    return place or messages.NO_PLACE


def contact_text(contact: str | None, citizen: CitizenView | None) -> str:
    """How the citizen will be reached, with the phone number masked."""
    if contact == ANONYMOUS:
        return messages.CONTACT_ANONYMOUS
    if contact == VERIFIED:
        return messages.CONTACT_VERIFIED_TAIL.format(tail=citizen.phone[-4:]) if citizen else messages.CONTACT_VERIFIED
    return messages.CONTACT_PHONE.format(phone=mask_phone(contact)) if contact else messages.CONTACT_NONE


def readback(slots: dict[str, Any], citizen: CitizenView | None, *, spoken: bool = False) -> str:
    """The order as it will be filed, one line a field; ``spoken``: as the phone says it (say or press, not tap)."""
    kind = slots.get("report_kind") or ""
    lines = [
        messages.READBACK_TITLE.format(kind=kind),
        messages.READBACK_KIND.format(kind=kind),
        messages.READBACK_DETAILS.format(details=slots.get("report_details") or ""),
    ]
    if kind not in WITHOUT_PLACE:
        lines.append(messages.READBACK_PLACE.format(place=place_text(slots)))
    if kind not in WITHOUT_SINCE:
        lines.append(messages.READBACK_SINCE.format(since=slots.get("report_since") or ""))
    lines.append(messages.READBACK_CONTACT.format(contact=contact_text(slots.get("report_contact"), citizen)))
    lines.append(messages.READBACK_HOW_TO_CHANGE_SPOKEN if spoken else messages.READBACK_HOW_TO_CHANGE)
    return "\n".join(lines)


class ActionAskReportConfirmed(Action):
    """Reads the order back for confirmation, or asks which field to change."""

    def name(self) -> str:
        """The action's name."""
        return "action_ask_report_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """The read-back with 确认提交 / 修改, or the fields to choose from."""
        if tracker.get_slot("report_asking") == WHICH_FIELD:
            kind = tracker.get_slot("report_kind")
            options = [
                option
                for option, slot in FIELD_OPTIONS.items()
                if not (slot == "report_address" and kind in WITHOUT_PLACE)
                and not (slot == "report_since" and kind in WITHOUT_SINCE)
            ]
            dispatcher.utter_message(text=messages.ASK_WHICH_FIELD, buttons=choice_buttons(options))
            return []
        citizen = await current_citizen(tracker) if tracker.get_slot("report_contact") == VERIFIED else None
        dispatcher.utter_message(
            text=readback(tracker.slots, citizen),
            buttons=choice_buttons(messages.READBACK_CHOICES, ("yes", "no")),
            json_message={"kind": "readback", "short": readback(tracker.slots, citizen, spoken=True)},
        )
        return []


def filed_text(kind: str, filed: FiledOrder, contact: str | None, citizen_id: int | None, now: datetime) -> str:
    """What the citizen is told once the order is filed: number, department, deadline, duplicate, follow-up."""
    handled_by = (
        messages.HANDED_TO.format(department=filed.department) if filed.department else messages.TO_BE_DISPATCHED
    )
    lines = [
        messages.REPORT_FILED.format(kind=kind, number=filed.number),
        messages.ANSWER_DUE.format(handled_by=handled_by, deadline=deadline_text(filed.due_at, now)),
    ]
    if filed.duplicate_of:
        lines.append(messages.ALREADY_BEING_HANDLED.format(number=filed.duplicate_of))
    if contact == ANONYMOUS:
        lines.append(messages.FILED_ANONYMOUSLY)
    elif citizen_id is not None:
        lines.append(messages.PROGRESS_WILL_BE_TOLD)
    elif contact and contact != VERIFIED:
        lines.append(messages.RESULT_BY_PHONE.format(phone=mask_phone(contact)))
    else:
        lines.append(messages.KEEP_THE_NUMBER)
    return "".join(lines)


class ActionFileReport(Action):
    """Files the confirmed report as a work order and tells the citizen its number, department and deadline."""

    def name(self) -> str:
        """The action's name."""
        return "action_file_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """File the order (for the verified citizen, unless anonymous), or say the report was cancelled."""
        slots = tracker.slots
        reset: list[EventType] = [SlotSet(slot, None) for slot in REPORT_SLOTS]
        if slots.get("report_confirmed") == CANCELLED:
            if has_entity(tracker, "service"):  # 算了不是反映，我想问残疾证要什么材料: the question is answered next
                dispatcher.utter_message(text=messages.REPORT_DROPPED_FOR_QUESTION)
                return [*reset, FollowupAction("service_form")]
            dispatcher.utter_message(response="utter_form_cancelled")
            return reset
        kind, details = slots.get("report_kind"), slots.get("report_details")
        if slots.get("report_confirmed") != CONFIRMED or not kind or not details:
            return reset
        contact = slots.get("report_contact")
        anonymous = contact == ANONYMOUS
        citizen_id = None if anonymous else verified_citizen_id(tracker)
        location = slots.get("report_location") or {}
        district, address, since = (
            None if slots.get(slot) in (None, UNKNOWN) else str(slots.get(slot))
            for slot in ("report_district", "report_address", "report_since")
        )
        order = NewOrder(
            kind=kind,
            type=kind,
            summary=details,
            title=make_title(details),
            district=district,
            address=address,
            latitude=location.get("latitude"),
            longitude=location.get("longitude"),
            since=since,
            contact_phone=contact if contact not in (None, VERIFIED, ANONYMOUS) else None,
            anonymous=anonymous,
            urgency="urgent" if is_urgent(details) else "normal",
            source="conversation",
            sender_id=tracker.sender_id,
            channel=message_channel(tracker),
            citizen_id=citizen_id,
        )
        now = clock.now()
        try:
            filed = await file_order(hotline().database, order, now)
        except BACKEND_ERRORS as error:
            report_backend_failure(dispatcher, error)
            return reset
        except InvalidOrder as error:  # the form checks every field; this would be a bug
            logger.error("report not filed: %s", error)
            dispatcher.utter_message(text=messages.REPORT_NOT_FILED.format(error=error))
            return reset
        spoken_number = " ".join(filed.number)
        text = filed_text(kind, filed, contact, citizen_id, now)
        dispatcher.utter_message(
            text=text,
            json_message={
                "kind": "work_order",
                "number": filed.number,
                "type": kind,
                "department": filed.department,
                "due_at": clock.in_china(filed.due_at).isoformat(timespec="minutes"),
                "duplicate_of": filed.duplicate_of,
                # Spoken: the number digit by digit, with the department and the deadline as written.
                "short": text.replace(filed.number, spoken_number),
                "spoken_number": spoken_number,
            },
        )
        dispatcher.utter_message(response="utter_anything_else")
        return reset
