"""Complaints, reports, requests for help, suggestions and unanswered policy questions as work orders.

The report form gathers what happened, where (district and address, or a shared location), since
when and how to reach the citizen, reads the order back, lets the citizen correct any field, and
files it once they confirm.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import (
    BACKEND_ERRORS,
    ENDINGS,
    choice_buttons,
    hotline,
    is_activation,
    latest_intent,
    latest_text,
    message_channel,
    report_backend_failure,
    verified_citizen,
    verified_citizen_id,
)
from bot.actions.materials import ActionAnswerPolicy
from bot.appeals.categories import COMPLAINT, DISTRICTS, HELP, REPORT, SUGGESTION
from bot.cases.records import local_now
from bot.citizens.identity import CitizenView
from bot.core.numerals import digit_runs
from bot.core.personal_data import InvalidPhone, mask_phone, parse_phone
from bot.work_orders.filing import FiledOrder, InvalidOrder, NewOrder, file_order

logger = logging.getLogger(__name__)

FORM = "report_form"
CONSULTATION = "咨询"
KINDS = {
    "complain": COMPLAINT,
    "report_violation": REPORT,
    "seek_help": HELP,
    "suggest": SUGGESTION,
    "ask_policy": CONSULTATION,
}
# Kinds that need no place (a policy question) or no "since when" (a suggestion, a question).
WITHOUT_PLACE = frozenset({CONSULTATION})
WITHOUT_SINCE = frozenset({CONSULTATION, SUGGESTION})

# Slot values with a meaning of their own.
VERIFIED = "verified"  # report_contact: the number the channel verified
ANONYMOUS = "anonymous"  # report_contact: an anonymous 举报
CONFIRMED = "yes"  # report_confirmed
CANCELLED = "cancelled"  # report_confirmed: the citizen stopped; nothing is filed
UNKNOWN = "不详"  # district, address or since the citizen does not know
WHICH_FIELD = "which_field"  # report_asking: the read-back asks which field to change
OTHER_PHONE = "other_phone"  # report_asking: the citizen does not want the verified number used

REPORT_SLOTS = (
    "report_kind",
    "report_details",
    "report_district",
    "report_address",
    "report_location",
    "report_since",
    "report_contact",
    "report_confirmed",
    "report_asking",
)

# A first message with at least this many Chinese characters besides the words that only say
# "I want to complain" is taken as the description; a shorter one gets the question.
DETAILS_IN_FIRST_MESSAGE = 8
# An answer to the question needs at least this many (so does a policy question taken as a 咨询).
DETAILS_WHEN_ASKED = 4
# Longer descriptions are cut here (the channels already refuse texts far longer than this).
MAX_DETAILS = 1000
MAX_ADDRESS = 200
MAX_SINCE = 50
TITLE_LENGTH = 20
# Words that name the kind of report or are filler, not part of the description; longest first.
INTENT_WORDS = (
    "我有一个建议",
    "我想提个建议",
    "我要提建议",
    "我有个建议",
    "我要投诉",
    "我想投诉",
    "我要举报",
    "我想举报",
    "我要求助",
    "我想求助",
    "我要反映",
    "我想反映",
    "我要报修",
    "请问",
    "你好",
    "您好",
    "投诉",
    "举报",
    "求助",
    "建议",
    "反映",
    "报修",
    "一下",
    "一个",
    "问题",
    "情况",
    "事情",
    "我要",
    "我想",
    "帮忙",
    "帮我",
    "麻烦",
    "好的",
    "是的",
    "喂",
    "嗯",
)
# What a citizen asked for the details may say instead: a question or small talk that is answered
# before the form resumes or switches. Descriptions often look like these ("我反映的是…" like a progress
# question), so only a sure classification counts; an ending (ENDINGS) always does.
DIGRESSIONS = frozenset({"greet", "thank", "bot_challenge", "ask_progress", "ask_materials"})
DIGRESSION_CONFIDENCE = 0.8
# Endings that rules handle (the form stops and the bot says goodbye, gives 110/119/120 or a person).
# A "no" is an answer to some questions of this form (the contact, the read-back).
HARD_ENDINGS = ENDINGS - {"deny"}
# Urgent matters have hours, not days (data/work_orders/deadlines.yml).
URGENT_WORDS = (
    "漏水严重",
    "爆管",
    "水管爆",
    "停电",
    "停水",
    "被困",
    "困在电梯",
    "燃气",
    "煤气",
    "漏气",
    "触电",
    "坍塌",
    "倒塌",
    "塌方",
)
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_DISTRICT_NAMES = tuple(
    (name, re.compile(rf"{name[:-1]}(?:区|(?!路|街|大道|大街|桥|山|城|村|镇|公园|广场|机场|中学|小学|医院|站))"))
    for name in DISTRICTS
)
_STOP = re.compile(r"算了|不用了|不要了|不需要了|取消|不报了|不说了|不投诉了|不举报了|不反映了|不登记了|不办了")
_UNKNOWN = re.compile(
    r"^(?:我?(?:也)?(?:不知道|不清楚|不确定|不记得|记不清|说不清|忘了)|没有具体\S*|没有|不涉及|都有|全市)"
)
_NOT_ANONYMOUS = re.compile(r"[不别](?:要|用|想|必)?匿名")
_FILLER = re.compile(
    r"^(?:就是|就在|地址是|地点是|位置是|地方是|具体是|大概在|大概是|应该是|位于|是在|我家在|我住在|在|是)+"
)
_PUNCTUATION = re.compile(r"[\s，,。.！!？?；;：:、“”\"'（）()]+")
# A place in free text: a road, street, village, estate, building, station or house number.
_PLACE_END = (
    r"(?:大道|大街|路(?![灯费况线过面上边])|街(?![坊道办])|巷|村(?![民委])|小区|花园|新村|公寓|大厦|广场|市场|公园"
    r"|地铁站|公交站|站|[0-9一二三四五六七八九十百零〇]+号楼|[0-9一二三四五六七八九十百零〇]+号(?![窗线码机]))"
)
# One name and what follows it without a break or a 的 (市桥街清河路18号, 江南西路那个菜市场).
_PLACE = re.compile(
    rf"[\u4e00-\u9fffA-Za-z0-9]{{1,14}}?{_PLACE_END}"
    rf"(?:[\u4e00-\u7683\u7685-\u9fffA-Za-z0-9]{{0,8}}?{_PLACE_END})*"
    r"(?:[东南西北中]段)?(?:[0-9一二三四五六七八九十百零〇]+号)?"
)
_NOT_A_PLACE = re.compile(r"^(?:我|你|他|她|这|那|哪|一|整|每|附近|对面|旁边|马路|走路|上路|道路|公路|一路)")
_NUMERAL = "0-9一二三四五六七八九十两半几"
# A date first (11月20日起), then a named time (上周开始), then a duration (三天了).
_SINCE_PATTERNS = (
    re.compile(r"(?:从|自)?[0-9一二三四五六七八九十]{1,2}月[0-9一二三四五六七八九十]{1,3}[日号](?:开始|起|以来)?"),
    re.compile(
        r"(?:从|自)?(?:昨天|昨晚|前天|前晚|今天|今早|今晚|上周[一二三四五六日天]?|上个?星期[一二三四五六日天]?"
        r"|上个?礼拜[一二三四五六日天]?|上个月|上月|这几天|前几天|去年|年初|月初)(?:早上|晚上|下午|开始|起|以来)?"
    ),
    re.compile(rf"(?:快|近|已经|都)?[{_NUMERAL}]+个?多?(?:天|周|星期|礼拜|月|年|小时)多?(?:了|以来|之前|前)?"),
)
_WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_YES = re.compile(r"^(?:确认提交|确认|提交|可以|好的?|行|对的?|是的?|嗯+|没问题|没错|就这样|就这个|用这个)")
_OTHER_NUMBER = re.compile(r"换|别的|另一个|另外|其他|其它|不用这个|不要这个|不要用|不用")
# Words that name a field of the read-back, for "地址不对，是…" and "改一下时间".
_FIELDS = (
    ("report_contact", re.compile(r"电话|号码|手机|联系|匿名")),
    ("report_since", re.compile(r"时间|什么时候|多久|日期|开始")),
    ("report_address", re.compile(r"地址|地点|位置|地方|在哪|门牌|路名|小区名")),
    ("report_district", re.compile(r"哪个区|区不对|区错|区是|区改|区域|行政区")),
    ("report_details", re.compile(r"事情|内容|情况|描述|经过")),
    ("report_kind", re.compile(r"类型|类别|不是投诉|不是举报|不是求助|不是建议|改成投诉|改成举报|改成求助|改成建议")),
)
# The new value in a correction: what follows the first of these.
_NEW_VALUE = re.compile(r"(?:改成|改为|换成|应该是|其实是|正确的是|是)(.+)$")
FIELD_OPTIONS = {
    "事情": "report_details",
    "地点": "report_address",
    "时间": "report_since",
    "联系方式": "report_contact",
}


def is_digression(tracker: Tracker) -> bool:
    """Whether the latest message is surely a digression rather than an answer."""
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name") in DIGRESSIONS and float(intent.get("confidence") or 0.0) >= DIGRESSION_CONFIDENCE


def is_external(tracker: Tracker) -> bool:
    """Whether the latest message is an event the hotline triggered (回访, a handoff closed)."""
    return bool((tracker.latest_message.get("metadata") or {}).get("is_external"))


def reads_answer(tracker: Tracker) -> bool:
    """Whether the form runs on the citizen's latest words, rather than again after another action answered them.

    Rasa validates on a copy of the tracker that ends with the form's own run; when the form rejected
    the message and a rule answered it (a greeting, a question), actions other than the form ran
    since the citizen spoke, and the message must not be read again.
    """
    form = (tracker.active_loop or {}).get("name")
    if tracker.latest_action_name not in (form, "action_listen", None):
        return False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return True
        if event.get("event") == "action_execution_rejected":
            return False
        if event.get("event") == "action" and event.get("name") not in (form, "action_listen"):
            return False
    return True


def description_length(text: str) -> int:
    """How many Chinese characters of ``text`` describe something, besides intent and filler words."""
    for word in INTENT_WORDS:
        text = text.replace(word, "")
    return len(_CHINESE.findall(text))


def is_stop(text: str) -> bool:
    """Whether the citizen gives up the report (算了, 不用了, 取消…)."""
    return _STOP.search(text) is not None


def is_unknown(text: str) -> bool:
    """Whether the answer says the citizen does not know (不知道, 不清楚, 没有具体地址…)."""
    return _UNKNOWN.match(_PUNCTUATION.sub("", text)) is not None


def wants_anonymity(text: str) -> bool:
    """Whether the citizen asks to stay anonymous (我要匿名), not the opposite (不匿名)."""
    return "匿名" in text and _NOT_ANONYMOUS.search(text) is None


def find_district(text: str) -> str | None:
    """The Guangzhou district named first in ``text`` (天河 or 天河区 → 天河区), or None.

    A short name that begins the name of a road or a place (天河路, 海珠广场, 白云机场) is not a
    district: 海珠路 is in 越秀区.
    """
    found = [(match.start(), district) for district, pattern in _DISTRICT_NAMES for match in pattern.finditer(text)]
    return min(found)[1] if found else None


def strip_district(text: str) -> str:
    """``text`` without the district names in it and what precedes the first one (广州市天河区…)."""
    district = find_district(text)
    if district is None:
        return text
    short = district[:-1]
    start = text.find(short) + len(short)
    rest = text[start:].removeprefix("区")
    for name in DISTRICTS:
        rest = rest.replace(name, "")
    return rest


def clean_place(text: str) -> str:
    """An address as the citizen said it, without the district, filler words and punctuation."""
    place = _PUNCTUATION.sub("", strip_district(text))
    place = _FILLER.sub("", place)
    return re.sub(r"(?:那边|这边|附近|一带|那里|这里|的)+$", "", place)


def find_address(text: str) -> str | None:
    """A road, estate, building or house number named in a description, or None when there is none."""
    for match in _PLACE.finditer(text):
        fragment = match.group()
        for word in INTENT_WORDS:
            fragment = fragment.replace(word, "")
        cut = max(fragment.rfind(marker) for marker in ("在", "于", "是", "住", "到"))
        if cut >= 0 and find_district(fragment[cut:]) is None:
            fragment = fragment[cut + 1 :]
        place = clean_place(fragment)
        if "的" in place:  # "门口的路", "小区里的广场": only what follows the last 的 names the place
            place = place.rsplit("的", 1)[1]
        if len(place) >= 2 and _NOT_A_PLACE.match(place) is None:
            return place[:MAX_ADDRESS]
    return None


def find_since(text: str) -> str | None:
    """When the problem started, if the description says so (三天了, 上周开始, 昨晚), or None."""
    for pattern in _SINCE_PATTERNS:
        match = pattern.search(text)
        if match is not None:
            return match.group()
    return None


def is_urgent(text: str) -> bool:
    """Whether the description names a danger that cannot wait days (停电, 被困, 燃气…)."""
    return any(word in text for word in URGENT_WORDS)


def make_title(details: str) -> str:
    """A short title for the order: the first clause of the description that says something."""
    text = details
    for word in INTENT_WORDS[:13]:  # "我要投诉" and the like, not the words inside a description
        text = text.replace(word, "")
    for clause in _PUNCTUATION.split(text):
        clause = clause.strip()
        if len(_CHINESE.findall(clause)) >= DETAILS_WHEN_ASKED:
            return clause[:TITLE_LENGTH]
    return (text.strip() or details)[:TITLE_LENGTH]


def deadline_text(due: datetime, now: datetime) -> str:
    """When an answer is due, in plain Chinese: 今天18:30, 明天, 12月3日（星期四）."""
    # A limit in working days ends at 23:59:59: the day says it all.
    clock = "" if (due.hour, due.minute) == (23, 59) else f"{due:%H:%M}"
    if due.date() == now.date():
        return f"今天{clock}" if clock else "今天"
    if due.date() == now.date() + timedelta(days=1):
        return f"明天{clock}"
    day = f"{due.month}月{due.day}日（{_WEEKDAYS[due.weekday()]}）{clock}"
    return day if due.year == now.year else f"{due.year}年{day}"


def message_location(message: dict[str, Any]) -> dict[str, float] | None:
    """The location a channel put in a message's metadata (Telegram: rounded), if it is a valid one."""
    location = (message.get("metadata") or {}).get("location")
    if not isinstance(location, dict):
        return None
    latitude, longitude = location.get("latitude"), location.get("longitude")
    if not isinstance(latitude, (int, float)) or not isinstance(longitude, (int, float)):
        return None
    if isinstance(latitude, bool) or isinstance(longitude, bool):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return {"latitude": float(latitude), "longitude": float(longitude)}


def shared_location(tracker: Tracker) -> dict[str, float] | None:
    """A location shared with the latest message or the one just before it (shared, then "我要投诉…")."""
    recent = [event for event in reversed(tracker.events) if event.get("event") == "user"][:2]
    for message in [tracker.latest_message, *recent]:
        location = message_location(message)
        if location is not None:
            return location
    return None


def needed_slots(kind: str | None, location: Any) -> list[str]:
    """The slots a report of this kind needs, in the order they are asked."""
    slots = ["report_kind", "report_details"]
    if kind not in WITHOUT_PLACE and not location:
        slots += ["report_district", "report_address"]
    if kind not in WITHOUT_SINCE:
        slots.append("report_since")
    return [*slots, "report_contact", "report_confirmed"]


def next_slot(slots: dict[str, Any]) -> str | None:
    """The first slot the report still needs, or None when it is confirmed or cancelled."""
    if slots.get("report_confirmed") == CANCELLED:
        return None
    needed = needed_slots(slots.get("report_kind"), slots.get("report_location"))
    return next((slot for slot in needed if slots.get(slot) is None), None)


def place_text(slots: dict[str, Any]) -> str:
    """Where it happened, as the read-back says it."""
    district, address = slots.get("report_district"), slots.get("report_address")
    parts = [part for part in (district, address) if part and part != UNKNOWN]
    if slots.get("report_location"):
        return "您发送的位置" + (f"（{''.join(parts)}）" if parts else "")
    return "".join(parts) or "未说明具体地点"


def contact_text(contact: str | None, citizen: CitizenView | None) -> str:
    """How the citizen will be reached, with the phone number masked."""
    if contact == ANONYMOUS:
        return "匿名（不留联系方式，办理结果无法通知您）"
    if contact == VERIFIED:
        return f"您验证过的手机（尾号{citizen.phone[-4:]}）" if citizen else "您验证过的手机"
    return f"手机{mask_phone(contact)}" if contact else "未留"


def readback(slots: dict[str, Any], citizen: CitizenView | None) -> str:
    """The order as it will be filed, one line a field."""
    kind = slots.get("report_kind") or ""
    lines = [f"请核对您要登记的{kind}：", f"类型：{kind}", f"事情：{slots.get('report_details') or ''}"]
    if kind not in WITHOUT_PLACE:
        lines.append(f"地点：{place_text(slots)}")
    if kind not in WITHOUT_SINCE:
        lines.append(f"时间：{slots.get('report_since') or ''}")
    lines.append(f"联系方式：{contact_text(slots.get('report_contact'), citizen)}")
    lines.append("没问题请点“确认提交”；要改哪里直接说就行，比如“地址不对，是天河路100号”或“改一下时间”。")
    return "\n".join(lines)


def correction(text: str) -> tuple[str | None, str]:
    """Which field a correction names and the new value it gives ("" when it gives none)."""
    field = next((slot for slot, words in _FIELDS if words.search(text)), None)
    match = _NEW_VALUE.search(text)
    value = _PUNCTUATION.sub("", match.group(1)) if match else ""
    return field, value


async def current_citizen(tracker: Tracker) -> CitizenView | None:
    """The verified citizen of the latest message, or None (also when the database is down: then a number is asked)."""
    try:
        return await verified_citizen(tracker)
    except BACKEND_ERRORS as error:
        logger.warning("citizen lookup failed: %s", type(error).__name__)
        return None


class ValidateReportForm(Action):
    """Reads each answer of the report form, in the light of the question it answers, and picks the next question.

    One message may fill several fields (a first message that says what, where and since when) and a
    correction at the read-back changes one field; so the turn is read as a whole rather than slot
    by slot. Returning no event means "not an answer": the form is rejected and the rules handle the
    message (a greeting, a question, goodbye), after which the form asks again.
    """

    def name(self) -> str:
        """The action's name."""
        return "validate_report_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Read the citizen's message, when it is one to read, and set the next question."""
        activation = is_activation(tracker, FORM)
        if is_external(tracker) and not activation:
            return []
        updates: dict[str, Any] = {}
        if activation:
            updates = await self.read_first_message(tracker)
        elif reads_answer(tracker):
            read = await self.read_answer(dispatcher, tracker)
            if read is None:
                return []
            updates = read
        slots = {**tracker.slots, **updates}
        events: list[EventType] = [SlotSet(slot, value) for slot, value in updates.items()]
        return [*events, SlotSet("requested_slot", next_slot(slots))]

    async def read_first_message(self, tracker: Tracker) -> dict[str, Any]:
        """A new report: its kind from the intent, and whatever the first message already says."""
        text = latest_text(tracker)
        kind = KINDS.get(latest_intent(tracker)) or tracker.get_slot("report_kind")
        updates: dict[str, Any] = dict.fromkeys(REPORT_SLOTS)
        updates["policy_answered"] = None
        updates["report_kind"] = kind
        needed = DETAILS_WHEN_ASKED if kind == CONSULTATION else DETAILS_IN_FIRST_MESSAGE
        if is_external(tracker) or description_length(text) < needed:
            return updates
        updates["report_details"] = text[:MAX_DETAILS]
        if kind not in WITHOUT_PLACE:
            updates["report_district"] = find_district(text)
            updates["report_address"] = find_address(text)
            updates["report_location"] = shared_location(tracker)
        if kind not in WITHOUT_SINCE:
            updates["report_since"] = find_since(text)
        if kind == REPORT and wants_anonymity(text):
            updates["report_contact"] = ANONYMOUS
        return updates

    async def read_answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any] | None:
        """The answer to the question the form asked, or None when the message is not one."""
        text, intent = latest_text(tracker), latest_intent(tracker)
        if not text or intent in HARD_ENDINGS:
            return None
        if is_stop(text):
            return {"report_confirmed": CANCELLED}
        if is_digression(tracker):
            return None
        asked = tracker.get_slot("requested_slot")
        location = message_location(tracker.latest_message)
        if location is not None and asked in ("report_details", "report_district", "report_address"):
            return {"report_location": location}
        if asked == "report_kind":
            return self.read_kind(text, intent)
        if asked == "report_details":
            return None if intent == "deny" else self.read_details(dispatcher, tracker, text)
        if asked in ("report_district", "report_address", "report_since"):
            if is_unknown(text):
                return {asked: UNKNOWN}
            if intent == "deny":
                return None
            if asked == "report_district":
                return self.read_district(dispatcher, text)
            if asked == "report_address":
                return self.read_address(dispatcher, text)
            return self.read_since(text)
        if asked == "report_contact":
            return await self.read_contact(dispatcher, tracker, text, intent)
        if asked == "report_confirmed":
            return self.read_confirmation(dispatcher, tracker, text, intent)
        return None

    def read_kind(self, text: str, intent: str) -> dict[str, Any]:
        """The kind of report, from the intent or the words (投诉/举报/求助/建议)."""
        kind = KINDS.get(intent)
        if kind is None or kind == CONSULTATION:
            kind = next((word for word in (COMPLAINT, REPORT, HELP, SUGGESTION) if word in text), None)
        return {"report_kind": kind}

    def read_details(self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> dict[str, Any]:
        """What happened; where and since when too, when the answer says so and they are not known yet."""
        if description_length(text) < DETAILS_WHEN_ASKED:
            dispatcher.utter_message(text="请再具体说说：发生了什么事，在哪个区、哪条路或哪个小区？")
            return {"report_details": None}
        updates: dict[str, Any] = {"report_details": text[:MAX_DETAILS]}
        found = {
            "report_district": find_district(text),
            "report_address": find_address(text),
            "report_since": find_since(text),
        }
        for slot, value in found.items():
            if value is not None and tracker.get_slot(slot) is None:
                updates[slot] = value
        return updates

    def read_district(self, dispatcher: CollectingDispatcher, text: str) -> dict[str, Any]:
        """The district (and the address, when the answer names a road or an estate too)."""
        district = find_district(text)
        if district is None:
            dispatcher.utter_message(
                text="没听出是哪个区。广州市有越秀、海珠、荔湾、天河、白云、黄埔、番禺、花都、南沙、从化、增城11个区，请说是哪个区。"
            )
            return {"report_district": None}
        address = find_address(text)
        return {"report_district": district, **({"report_address": address} if address else {})}

    def read_address(self, dispatcher: CollectingDispatcher, text: str) -> dict[str, Any]:
        """The address as the citizen said it (a district named with it corrects the district)."""
        place = clean_place(text)
        if len(re.findall(r"[\u4e00-\u9fff0-9A-Za-z]", place)) < 2:
            dispatcher.utter_message(text="请说具体一点：哪条路、哪个小区，或者门牌号？")
            return {"report_address": None}
        district = find_district(text)
        return {"report_address": place[:MAX_ADDRESS], **({"report_district": district} if district else {})}

    def read_since(self, text: str) -> dict[str, Any]:
        """Since when, in the citizen's own words (三天了, 上周开始, 昨晚)."""
        since = _PUNCTUATION.sub(" ", text).strip()
        return {"report_since": since[:MAX_SINCE] or None}

    async def read_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, intent: str
    ) -> dict[str, Any]:
        """The verified number, another number (checked), or anonymity (举报 only)."""
        kind = tracker.get_slot("report_kind")
        if wants_anonymity(text):
            if kind == REPORT:
                return {"report_contact": ANONYMOUS, "report_asking": None}
            dispatcher.utter_message(
                text="只有举报可以匿名。投诉、求助、建议和咨询需要留一个联系电话，以便把办理结果告诉您。"
            )
            return {"report_contact": None}
        runs = digit_runs(text, min_length=5)
        if runs:
            try:
                phone = parse_phone(max(runs, key=len))
            except InvalidPhone:
                dispatcher.utter_message(text="这个号码好像不对：手机号应为以1开头的11位数字，请再说一遍。")
                return {"report_contact": None}
            return {"report_contact": phone, "report_asking": None}
        said = _PUNCTUATION.sub("", text)
        if verified_citizen_id(tracker) is not None and tracker.get_slot("report_asking") != OTHER_PHONE:
            if intent == "deny" or _OTHER_NUMBER.search(said):
                return {"report_contact": None, "report_asking": OTHER_PHONE}
            if intent == "affirm" or _YES.match(said):
                return {"report_contact": VERIFIED}
        elif intent == "deny" and kind != REPORT:
            dispatcher.utter_message(
                text="投诉、求助、建议和咨询需要留一个联系电话，以便把办理结果告诉您；不想登记了可以说“算了”。"
            )
        return {"report_contact": None}

    def read_confirmation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, intent: str
    ) -> dict[str, Any]:
        """Confirm, or change the field the citizen names (with its new value when they say it)."""
        said = _PUNCTUATION.sub("", text)
        if said in FIELD_OPTIONS and tracker.get_slot("report_asking") == WHICH_FIELD:
            return self.reopen(FIELD_OPTIONS[said])
        field, value = correction(text)
        if field is None:
            if intent == "affirm" or _YES.match(said):
                return {"report_confirmed": CONFIRMED, "report_asking": None}
            if find_district(text) or find_address(text):
                field, value = "report_address", text
            elif digit_runs(text, min_length=11):
                field, value = "report_contact", text
            else:
                return {"report_confirmed": None, "report_asking": WHICH_FIELD}
        if not value:
            return self.reopen(field)
        return self.apply(dispatcher, field, value)

    def reopen(self, field: str) -> dict[str, Any]:
        """Clear one field so that the form asks it again, then reads the order back again."""
        updates: dict[str, Any] = {"report_confirmed": None, "report_asking": None, field: None}
        if field in ("report_district", "report_address"):
            updates["report_location"] = None
        return updates

    def apply(self, dispatcher: CollectingDispatcher, field: str, value: str) -> dict[str, Any]:
        """Put a corrected value in its field, checked as when it was first asked."""
        updates: dict[str, Any] = {"report_confirmed": None, "report_asking": None}
        if field in ("report_address", "report_district"):
            updates["report_location"] = None
            district = find_district(value)
            if district is not None:
                updates["report_district"] = district
            place = clean_place(value)
            if len(place) >= 2:
                updates["report_address"] = place[:MAX_ADDRESS]
            elif district is None:
                updates[field] = None
            return updates
        if field == "report_since":
            return {**updates, **self.read_since(value)}
        if field == "report_details":
            return {**updates, "report_details": value[:MAX_DETAILS] if len(value) >= 2 else None}
        if field == "report_kind":
            named = [(value.rfind(word), word) for word in (COMPLAINT, REPORT, HELP, SUGGESTION) if word in value]
            return {**updates, "report_kind": max(named)[1] if named else None}
        runs = digit_runs(value, min_length=5)
        if wants_anonymity(value) or not runs:
            return {**updates, "report_contact": None}
        try:
            return {**updates, "report_contact": parse_phone(max(runs, key=len))}
        except InvalidPhone:
            dispatcher.utter_message(text="这个号码好像不对：手机号应为以1开头的11位数字，请再说一遍。")
            return {**updates, "report_contact": None}


class ActionAskReportDistrict(Action):
    """Asks for the district; where a location can be shared, says so."""

    def name(self) -> str:
        """The action's name."""
        return "action_ask_report_district"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Ask which of Guangzhou's districts."""
        text = "请问是在广州市哪个区？比如天河区、越秀区。"
        if message_channel(tracker) == "telegram":
            text += "也可以直接发送位置。"
        dispatcher.utter_message(text=text)
        return []


class ActionAskReportContact(Action):
    """Asks how to reach the citizen: their verified number by default, or another one."""

    def name(self) -> str:
        """The action's name."""
        return "action_ask_report_contact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Offer the verified number (tail only), or ask for one; a 举报 may be anonymous."""
        report = tracker.get_slot("report_kind") == REPORT
        citizen = None if tracker.get_slot("report_asking") == OTHER_PHONE else await current_citizen(tracker)
        if citizen is not None:
            options = ["可以", "换一个号码", *(["匿名举报"] if report else [])]
            dispatcher.utter_message(
                text=f"我们会通过您验证过的手机尾号{citizen.phone[-4:]}联系您，可以吗？",
                buttons=choice_buttons(options),
            )
            return []
        text = "请留一个联系电话（11位手机号），方便把办理结果告诉您。"
        if report:
            text += "如果不想留联系方式，可以说“我要匿名”。"
        dispatcher.utter_message(text=text, buttons=choice_buttons(["匿名举报"]) if report else [])
        return []


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
            dispatcher.utter_message(
                text="请问要修改哪一项？也可以直接说改成什么，比如“地址是天河路100号”。",
                buttons=choice_buttons(options),
            )
            return []
        citizen = await current_citizen(tracker) if tracker.get_slot("report_contact") == VERIFIED else None
        dispatcher.utter_message(text=readback(tracker.slots, citizen), buttons=choice_buttons(["确认提交", "修改"]))
        return []


def filed_text(kind: str, filed: FiledOrder, contact: str | None, citizen_id: int | None, now: datetime) -> str:
    """What the citizen is told once the order is filed: number, department, deadline, duplicate, follow-up."""
    handled_by = f"已转交{filed.department}办理" if filed.department else "将由调度员分派给承办部门"
    lines = [
        f"已为您登记{kind}，工单号{filed.number}。",
        f"{handled_by}，{deadline_text(filed.due_at, now)}前会给您答复。",
    ]
    if filed.duplicate_of:
        lines.append(f"这个问题已经在工单{filed.duplicate_of}中处理，办理结果也会通知您。")
    if contact == ANONYMOUS:
        lines.append("您是匿名举报，我们不会记录您的联系方式。请记下工单号，了解进度请拨打12345热线报上工单号。")
    elif citizen_id is not None:
        lines.append("办理进展会通知您。")
    elif contact and contact != VERIFIED:
        lines.append(
            f"办理结果会通过您留的电话{mask_phone(contact)}告诉您。请记下工单号，了解进度请拨打12345热线报上工单号。"
        )
    else:
        lines.append("请记下工单号，了解进度请拨打12345热线报上工单号。")
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
        now = local_now()
        try:
            filed = await file_order(hotline().database, order, now)
        except BACKEND_ERRORS as error:
            report_backend_failure(dispatcher, error)
            return reset
        except InvalidOrder as error:  # the form checks every field; this would be a bug
            logger.error("report not filed: %s", error)
            dispatcher.utter_message(text=f"抱歉，工单没能登记：{error}。请拨打12345热线，由人工座席为您登记。")
            return reset
        dispatcher.utter_message(
            text=filed_text(kind, filed, contact, citizen_id, now),
            json_message={
                "kind": "work_order",
                "number": filed.number,
                "type": kind,
                "department": filed.department,
                "due_at": filed.due_at.isoformat(timespec="minutes"),
                "duplicate_of": filed.duplicate_of,
                "short": f"已为您登记{kind}，工单号{' '.join(filed.number)}。",
                "spoken_number": " ".join(filed.number),
            },
        )
        dispatcher.utter_message(response="utter_anything_else")
        return reset


class ActionTakePolicyQuestion(Action):
    """Answers a policy question from the catalogue, or takes it down as a 咨询 work order."""

    def name(self) -> str:
        """The action's name."""
        return "action_take_policy_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """The catalogue's answer when it surely matches a service; otherwise the report form takes over."""
        try:
            resolution = (await hotline().catalog_index()).resolve(latest_text(tracker))
        except BACKEND_ERRORS as error:
            report_backend_failure(dispatcher, error)
            return [SlotSet("policy_answered", True)]
        if resolution.sure:
            events = await ActionAnswerPolicy().run(dispatcher, tracker, domain)
            return [*events, SlotSet("policy_answered", True)]
        dispatcher.utter_message(text="这个政策问题需要相关部门答复。我帮您登记一张咨询工单，答复会告诉您。")
        return [SlotSet("policy_answered", False)]
