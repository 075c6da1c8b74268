"""The blind dialogue evaluation (data/eval/dialogues): each dialogue played on its channel, as a citizen would.

Starts the action server and the Rasa server once, as `make run` does (every channel on, Twilio's
and Telegram's APIs at local stand-ins), on a fresh SQLite database seeded with the catalogue, the
three cases the set refers to (tests/fixtures/cases.json) and `make run`'s demo cases. Each dialogue
is played through its channel's real route:

  webchat   POST /chat/api/messages, replies read from the session's log once its event stream says
            the turn is over (a verified phone: /chat/api/verify/start + the SMS code + /verify/check)
  sms       POST /webhooks/sms/webhook signed with twilio's RequestValidator; replies are the texts
            the stand-in of Twilio's REST API is asked to send to the sender
  telegram  POST /webhooks/telegram/webhook (secret token); replies are the Bot API's sendMessage
            calls (a verified phone: the citizen shares their own contact first)
  voice     POST /webhooks/voice/webhook with SpeechResult, signed, following Redirects; replies are
            the <Say> texts (a verified phone is the caller id; otherwise the caller id is withheld)
  rest      POST /webhooks/rest/webhook (only for a channel the harness cannot drive, or --rest)

After the scripted turns, whenever the report form asks for a field (Rasa's requested_slot, read
from the tracker store), the harness says the dialogue's ``answers`` for it. Every ``expect`` is
checked on the replies of its turn, and the ``outcome`` on the database (work orders of the
dialogue's conversation) and on the tracker (which services were answered). How each field is read
where the set's README is silent: see README "Dialogue evaluation" and ``check_expect`` below.

Usage: python bench/eval_dialogues.py [--set dev|test] [--dialogues DIR] [--only ID] [--category C]
                                      [--json FILE] [--rest]
The exit status is 0 whatever the pass rate; 2 when the harness itself fails (a server did not start).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import re
import shutil
import sqlite3
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.cases.demo import demo_cases
from bot.cases.records import store_cases
from bot.core import clock
from bot.core.db import Database
from bot.core.encryption import decrypt, is_token
from bot.core.settings import PROJECT_ROOT, get_settings
from channels.connector import plain_texts, spoken_texts
from channels.twilio.sms import sms_sender_id
from channels.twilio.speech import digit_by_digit, speakable
from tests.http_clients import WebCitizen, read_events
from tests.servers import running_servers
from tests.standins import StandIn, running_standin
from tests.telegram_api import BotApi, telegram_env
from tests.twilio_peer import TwilioPeer, VoiceCall, spoken, twilio_api, twilio_env

DIALOGUES = PROJECT_ROOT / "data" / "eval" / "dialogues"
WORKDIR = PROJECT_ROOT / "var" / "bench" / "eval_dialogues"
TELEGRAM_TOKEN = "4242:eval"
TELEGRAM_SECRET = "eval-secret"
# How long one turn may take before its replies are given up on.
# (longer than the action server's 60 s response timeout, so that a failed turn's busy reply is seen)
TURN_TIMEOUT_S = 90.0
# SMS and Telegram replies go out one after another once the turn is done: the turn's replies are
# those that arrive until the channel has been quiet this long after the first one.
QUIET_S = 0.8
# A caller id Twilio sends when the caller withheld it (no verified number).
WITHHELD_CALLER = "+266696687"
# At most this many answers after the scripted turns (a form that keeps asking ends the dialogue).
MAX_ANSWER_TURNS = 14

ROUTES = {
    "webchat": "web chat route (/chat/api/messages, replies from the session's event stream and log)",
    "sms": "Twilio SMS webhook (/webhooks/sms/webhook, signed; replies via the Twilio REST stand-in)",
    "telegram": "Telegram webhook (/webhooks/telegram/webhook, secret token; replies via the Bot API stand-in)",
    "voice": "Twilio voice webhook (/webhooks/voice/webhook with SpeechResult, signed; replies are <Say>)",
    "rest": "REST channel (/webhooks/rest/webhook)",
}

# The report form's slots, and which of the dialogue's answers each one asks for.
SLOT_ANSWERS = {
    "report_details": "description",
    "report_district": "place",
    "report_address": "place",
    "report_since": "since",
    "report_contact": "contact",
    "report_confirmed": "confirm",
    "report_kind": "kind",
}
ANSWERING_FORMS = {"report_form"}
# Bot answers that answer a service question (the tracker's json_message kinds).
ANSWER_KINDS = {"materials", "office", "conditions"}


# ---------------------------------------------------------------------------------------------
# What a turn produced, and the checks (pure functions: tests/bot/test_eval_dialogues.py)
# ---------------------------------------------------------------------------------------------


@dataclass
class TurnResult:
    """One citizen turn and what the assistant said to it."""

    user: str
    replies: list[str]
    first: str = ""
    # None, or the handoff now open for the conversation: "normal" or "urgent".
    handoff: str | None = None
    # The form field the assistant is asking for after this turn (requested_slot), if any.
    asked: str | None = None
    scripted: bool = True


@dataclass
class Order:
    """A work order filed in the dialogue's conversation, as the database holds it."""

    number: str
    kind: str
    title: str
    summary: str
    district: str | None
    address: str | None
    since: str | None
    # The number the department calls back: the one given, or the verified number by default.
    contact: str | None
    anonymous: bool


@dataclass
class Failure:
    """One failed check: its kind (the expectation's name), where, what was wrong, what the bot said."""

    kind: str
    where: str
    detail: str
    reply: str = ""


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def spoken_forms(needle: str) -> list[str]:
    """How a phone reads ``needle``: numbers of four digits or more digit by digit (12356 → 幺二三五六)."""
    forms = [needle]
    spoken = re.sub(r"\d{4,}", lambda m: digit_by_digit(m.group(0)), needle)
    if spoken != needle:
        forms.append(spoken)
    return forms


def mentions(text: str, needle: str, voice: bool = False) -> bool:
    """Whether ``text`` says ``needle`` (on the phone, also as the digits are read aloud); spaces never matter."""
    haystack = _compact(text)
    forms = spoken_forms(needle) if voice else [needle]
    return any(_compact(form) in haystack for form in forms)


_QUESTION = re.compile(r"[？?]+")


def count_questions(texts: list[str]) -> int:
    """Questions asked: sentences ending in a question mark (a run of marks is one question)."""
    return sum(len(_QUESTION.findall(text)) for text in texts)


def _shown(texts: list[str], limit: int = 240) -> str:
    joined = " | ".join(t.replace("\n", " / ") for t in texts) or "(no reply)"
    return joined if len(joined) <= limit else joined[:limit] + "…"


def check_expect(expect: dict[str, Any], turn: TurnResult, where: str, voice: bool = False) -> list[Failure]:
    """The failed expectations of one turn, in the README's order.

    ``first_reply_contains_any``: the first message of the turn says one of them.
    ``contains_any`` / ``contains_all`` / ``not_contains``: over all the turn's replies.
    ``max_questions``: question sentences in all the turn's replies.
    ``handoff``: the turn left the conversation with a person (``urgent``: ahead of the queue).
    """
    failures: list[Failure] = []
    everything = "\n".join(turn.replies)
    shown = _shown(turn.replies)
    wanted = expect.get("first_reply_contains_any")
    if wanted and not any(mentions(turn.first, w, voice) for w in wanted):
        failures.append(Failure("first_reply_contains_any", where, f"first reply says none of {wanted}", shown))
    wanted = expect.get("contains_any")
    if wanted and not any(mentions(everything, w, voice) for w in wanted):
        failures.append(Failure("contains_any", where, f"replies say none of {wanted}", shown))
    wanted = expect.get("contains_all")
    if wanted:
        missing = [w for w in wanted if not mentions(everything, w, voice)]
        if missing:
            failures.append(Failure("contains_all", where, f"replies do not say {missing}", shown))
    unwanted = expect.get("not_contains")
    if unwanted:
        said = [w for w in unwanted if mentions(everything, w, voice)]
        if said:
            failures.append(Failure("not_contains", where, f"replies say {said}", shown))
    limit = expect.get("max_questions")
    if limit is not None:
        asked = count_questions(turn.replies)
        if asked > limit:
            failures.append(Failure("max_questions", where, f"{asked} questions asked (at most {limit})", shown))
    handoff = expect.get("handoff")
    if handoff is not None:
        if turn.handoff is None:
            failures.append(Failure("handoff", where, "no handoff to a person", shown))
        elif handoff == "urgent" and turn.handoff != "urgent":
            failures.append(Failure("handoff", where, "handoff not urgent (not ahead of the queue)", shown))
    return failures


def _order_problems(spec: dict[str, Any], order: Order) -> list[tuple[str, str]]:
    """What of ``spec`` this order does not meet: (field, detail) pairs, in the spec's field order."""
    problems: list[tuple[str, str]] = []
    description = f"{order.title}\n{order.summary}"
    place = f"{order.district or ''}{order.address or ''}"
    for name, wanted in spec.items():
        if isinstance(wanted, dict):  # {"any": [...]}: one of the words is enough
            words = list(wanted["any"])
            said = {"description_contains": description, "address_contains": place}.get(name, order.since or "")
            if not any(mentions(said, w) for w in words):
                problems.append((name, f"{name.removesuffix('_contains')} lacks all of {words}"))
            continue
        if name == "type" and order.kind != wanted:
            problems.append((name, f"type {order.kind!r}, expected {wanted!r}"))
        elif name == "description_contains":
            missing = [w for w in wanted if not mentions(description, w)]
            if missing:
                problems.append((name, f"description {order.summary!r} lacks {missing}"))
        elif name == "address_contains":
            missing = [w for w in wanted if not mentions(place, w)]
            if missing:
                problems.append((name, f"address {place!r} lacks {missing}"))
        elif name == "district" and order.district != wanted:
            problems.append((name, f"district {order.district!r}, expected {wanted!r}"))
        elif name == "since_contains":
            missing = [w for w in wanted if not mentions(order.since or "", w)]
            if missing:
                problems.append((name, f"since {order.since!r} lacks {missing}"))
        elif name == "contact_last4" and (order.contact or "")[-4:] != wanted:
            shown = "anonymous" if order.anonymous else ("…" + order.contact[-4:] if order.contact else "none")
            problems.append((name, f"contact {shown}, expected …{wanted}"))
    return problems


def check_outcome(outcome: dict[str, Any], orders: list[Order], answered: set[str]) -> list[Failure]:
    """The failed outcome checks: work orders of the dialogue's conversation, services answered.

    ``work_order``: some order meets every given field (``{}``: some order was filed at all);
    when none does, the failure names the closest order's first unmet field.
    """
    failures: list[Failure] = []
    if "work_order" in outcome:
        spec = outcome["work_order"] or {}
        if not orders:
            failures.append(Failure("work_order.filed", "outcome", "no work order was filed"))
        else:
            ranked = sorted(((_order_problems(spec, o), o) for o in orders), key=lambda p: len(p[0]))
            problems, closest = ranked[0]
            if problems:
                name, detail = problems[0]
                failures.append(Failure(f"work_order.{name}", "outcome", f"{closest.number}: {detail}"))
    if outcome.get("no_work_order") and orders:
        listed = ", ".join(f"{o.number} {o.kind} {o.summary[:40]!r}" for o in orders)
        failures.append(Failure("no_work_order", "outcome", f"work order(s) filed: {listed}"))
    name = outcome.get("service_answered")
    if name and name not in answered:
        failures.append(
            Failure("service_answered", "outcome", f"{name} not answered (answered: {sorted(answered) or 'none'})")
        )
    name = outcome.get("not_service_answered")
    if name and name in answered:
        failures.append(Failure("not_service_answered", "outcome", f"{name} was answered"))
    return failures


class AnswerBook:
    """The dialogue's answers to the form's questions: a list is said in order, then its last value again."""

    def __init__(self, answers: dict[str, Any] | None, kind: str | None = None) -> None:
        self.values: dict[str, list[str]] = {
            key: [value] if isinstance(value, str) else list(value) for key, value in (answers or {}).items()
        }
        # The form asking what kind of report this is: the citizen knows (the outcome's type), if given.
        if kind and "kind" not in self.values:
            self.values["kind"] = [kind]
        self.asked: collections.Counter[str] = collections.Counter()

    def answer(self, slot: str | None) -> str | None:
        """What to say when ``slot`` is asked; None when there is no answer (or it was asked too often)."""
        key = SLOT_ANSWERS.get(slot or "")
        if key is None or key not in self.values:
            return None
        values = self.values[key]
        n = self.asked[key]
        # Said in order; the last value once more for a re-ask; then the citizen has nothing new to say.
        if n >= len(values) + 1:
            return None
        self.asked[key] += 1
        return values[min(n, len(values) - 1)]


# ---------------------------------------------------------------------------------------------
# The databases: the tracker store (slots, the bot's messages) and the project database
# ---------------------------------------------------------------------------------------------


@contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as connection:
        yield connection


def _clear(value: str | None) -> str | None:
    """A phone number as the database keeps it (encrypted, ``bot.core.encryption``), in clear."""
    return decrypt(value) if is_token(value) else value


class Store:
    """Reads what the servers wrote: trackers (Rasa's SQL tracker store) and the project database."""

    def __init__(self, database: Path, trackers: Path) -> None:
        self.database = database
        self.trackers = trackers

    def events(self, sender_id: str, after_id: int = 0) -> list[tuple[int, dict[str, Any]]]:
        """The conversation's events after row ``after_id``: (row id, event)."""
        if not self.trackers.exists():
            return []
        with _read_only(self.trackers) as db:
            rows = db.execute(
                "SELECT id, data FROM events WHERE sender_id = ? AND id > ? ORDER BY id", (sender_id, after_id)
            ).fetchall()
        return [(row_id, json.loads(data)) for row_id, data in rows]

    def last_event_id(self, sender_id: str) -> int:
        """The id of the conversation's last stored event (0 when none)."""
        events = self.events(sender_id)
        return events[-1][0] if events else 0

    def form_state(self, sender_id: str) -> tuple[str | None, str | None, bool]:
        """(active form, requested slot, paused) after replaying the conversation's events."""
        loop: str | None = None
        slots: dict[str, Any] = {}
        paused = False
        for _, event in self.events(sender_id):
            kind = event.get("event")
            if kind == "slot":
                slots[str(event.get("name"))] = event.get("value")
            elif kind in ("reset_slots", "restart"):
                slots.clear()
                loop = None
            elif kind == "active_loop":
                loop = event.get("name")
            elif kind == "pause":
                paused = True
            elif kind == "resume":
                paused = False
        return loop, slots.get("requested_slot"), paused

    def bot_messages(self, sender_id: str, after_id: int) -> list[dict[str, Any]]:
        """The bot's messages after row ``after_id``, as Rasa's collected dicts (text, buttons, custom)."""
        messages = []
        for _, event in self.events(sender_id, after_id):
            if event.get("event") == "bot":
                data = event.get("data") or {}
                messages.append(
                    {"text": event.get("text"), "buttons": data.get("buttons"), "custom": data.get("custom")}
                )
        return messages

    def answered_services(self, sender_id: str) -> set[str]:
        """Catalogue names of the services the bot answered a question about in this conversation."""
        names: set[str] = set()
        ids: set[str] = set()
        for message in self.bot_messages(sender_id, 0):
            custom = message.get("custom") or {}
            if custom.get("kind") in ANSWER_KINDS:
                if custom.get("service"):
                    names.add(str(custom["service"]))
                elif custom.get("service_id"):
                    ids.add(str(custom["service_id"]))
        if ids:
            with _read_only(self.database) as db:
                marks = ",".join("?" * len(ids))
                names |= {n for (n,) in db.execute(f"SELECT name FROM services WHERE id IN ({marks})", tuple(ids))}
        return names

    def orders(self, sender_id: str) -> list[Order]:
        """Work orders filed in this conversation."""
        with _read_only(self.database) as db:
            rows = db.execute(
                "SELECT w.number, w.kind, w.title, w.summary, w.district, w.address, w.since, w.contact_phone,"
                " w.anonymous, c.phone FROM work_orders w LEFT JOIN citizens c ON c.id = w.citizen_id"
                " WHERE w.sender_id = ? ORDER BY w.created_at",
                (sender_id,),
            ).fetchall()
        return [
            Order(
                number=r[0],
                kind=r[1],
                title=r[2] or "",
                summary=r[3] or "",
                district=r[4],
                address=r[5],
                since=r[6],
                contact=None if r[8] else _clear(r[7] or r[9]),
                anonymous=bool(r[8]),
            )
            for r in rows
        ]

    def handoff(self, conversation_id: str, after_id: int) -> str | None:
        """The conversation's handoff opened after row ``after_id`` or still open: "urgent", "normal" or None."""
        with _read_only(self.database) as db:
            row = db.execute(
                "SELECT priority FROM handoffs WHERE conversation_id = ? AND (id > ? OR status IN"
                " ('waiting', 'assigned', 'phone')) ORDER BY id DESC LIMIT 1",
                (conversation_id, after_id),
            ).fetchone()
        if row is None:
            return None
        return "urgent" if row[0] >= 2 else "normal"

    def waiting_for_agent(self, conversation_id: str) -> bool:
        """Whether the conversation waits in the agents' queue (or is with an agent)."""
        with _read_only(self.database) as db:
            row = db.execute(
                "SELECT 1 FROM handoffs WHERE conversation_id = ? AND status IN ('waiting', 'assigned') LIMIT 1",
                (conversation_id,),
            ).fetchone()
        return row is not None

    def last_handoff_id(self) -> int:
        """The newest handoff's id (0 when none)."""
        with _read_only(self.database) as db:
            return int(db.execute("SELECT COALESCE(MAX(id), 0) FROM handoffs").fetchone()[0])

    def forget_case_locks(self) -> None:
        """Clear the ownership lockouts: one dialogue's wrong answers must not lock the next one out."""
        with closing(sqlite3.connect(self.database, timeout=10)) as db:
            db.execute("DELETE FROM verification_locks")
            db.commit()


# ---------------------------------------------------------------------------------------------
# The citizens: one per channel, each through its channel's real route
# ---------------------------------------------------------------------------------------------


@dataclass
class Reply:
    """The channel's rendering of one turn's replies (``first`` as the channel shows the first message)."""

    texts: list[str]
    first: str = ""


def _quiet_collect(fetch: Callable[[], list[str]], before: int, timeout_s: float = TURN_TIMEOUT_S) -> list[str]:
    """The items after index ``before``, once one has come and then none for QUIET_S (or none came in time)."""
    deadline = time.monotonic() + timeout_s
    seen = before
    last_change = time.monotonic()
    while time.monotonic() < deadline:
        items = fetch()
        if len(items) != seen:
            seen, last_change = len(items), time.monotonic()
        elif seen > before and time.monotonic() - last_change >= QUIET_S:
            break
        time.sleep(0.05)  # polling the stand-in's record; it has no change notification to wait on
    return fetch()[before:]


class Citizen:
    """A citizen on one channel: ``conversation_id`` is Rasa's sender id of the conversation."""

    channel = "rest"
    conversation_id = ""
    voice = False

    def start(self) -> None:
        """Open the conversation (and verify the phone, where the dialogue has one)."""

    def say(self, text: str) -> Reply:
        """One turn: the channel's replies."""
        raise NotImplementedError

    def finish(self) -> None:
        """End the conversation as the citizen would (a call is hung up)."""


class RestCitizen(Citizen):
    """The REST channel: the replies are the HTTP answer."""

    channel = "rest"

    def __init__(self, rasa_url: str, name: str) -> None:
        self.url = rasa_url
        self.conversation_id = f"eval-{name}-{uuid.uuid4().hex[:6]}"

    def say(self, text: str) -> Reply:
        """POST the message; the answer is the turn's messages."""
        answer = requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": self.conversation_id, "message": text},
            timeout=TURN_TIMEOUT_S,
        )
        answer.raise_for_status()
        texts = plain_texts(answer.json())
        return Reply(texts, texts[0] if texts else "")


class WebChatCitizen(Citizen):
    """The web chat page's API: the message is posted, the turn is over when the stream says typing stopped."""

    channel = "webchat"

    def __init__(self, rasa_url: str, twilio: StandIn, phone: str | None) -> None:
        self.url = rasa_url
        self.twilio = twilio
        self.phone = phone
        self.web: WebCitizen | None = None
        self.last_seq = 0

    def start(self) -> None:
        """Open a session; verify the phone by the SMS code, as the page's 验证手机号 does."""
        self.web = WebCitizen(self.url)
        self.conversation_id = f"web-{self.web.session}"
        if self.phone:
            target = "+86" + self.phone
            sent_before = len(self.twilio.matching(lambda r: r.form.get("To") == target))
            status, body = self.web.call(
                "POST", "/chat/api/verify/start", {"session": self.web.session, "phone": self.phone}
            )
            if status != 200:
                raise RuntimeError(f"web chat verification refused: {status} {body}")
            texts = _quiet_collect(
                lambda: [r.form.get("Body", "") for r in self.twilio.matching(lambda r: r.form.get("To") == target)],
                sent_before,
            )
            code = next((m.group(0) for t in texts if (m := re.search(r"\d{6}", t))), None)
            if code is None:
                raise RuntimeError("web chat verification: no SMS code arrived")
            status, body = self.web.call("POST", "/chat/api/verify/check", {"session": self.web.session, "code": code})
            if status != 200:
                raise RuntimeError(f"web chat verification failed: {status} {body}")
        self.last_seq = max((e["seq"] for e in self.web.entries()), default=0)

    def say(self, text: str) -> Reply:
        """Post the message with the event stream open; read the bot's entries once typing has stopped."""
        assert self.web is not None
        web = self.web
        events_url = f"{self.url}/chat/api/events?session={web.session}&after={self.last_seq}"
        with web.opener.open(urllib.request.Request(events_url), timeout=TURN_TIMEOUT_S) as stream:
            status, body = web.call(
                "POST", "/chat/api/messages", {"session": web.session, "text": text, "client_id": uuid.uuid4().hex}
            )
            if status not in (200, 202):
                raise RuntimeError(f"web chat message refused: {status} {body}")
            if body and body.get("seq") is not None:  # a stored message starts a turn (empty ones are answered at once)
                typing = False
                for kind, data in read_events(stream, TURN_TIMEOUT_S):
                    if kind == "typing":
                        on = bool(json.loads(data).get("on"))
                        if on:
                            typing = True
                        elif typing:
                            break
        entries = [e for e in web.entries() if e["seq"] > self.last_seq]
        self.last_seq = max((e["seq"] for e in entries), default=self.last_seq)
        texts = [str(e["payload"]["text"]) for e in entries if e["role"] != "citizen" and e["payload"].get("text")]
        return Reply(texts, texts[0] if texts else "")


class SmsCitizen(Citizen):
    """Text messages: signed webhooks in, the texts Twilio's API is asked to send out."""

    channel = "sms"

    def __init__(self, peer: TwilioPeer, twilio: StandIn, phone: str, key: str) -> None:
        self.peer = peer
        self.twilio = twilio
        self.phone = phone
        self.target = "+86" + phone
        self.conversation_id = sms_sender_id(self.target, key)

    def _texts(self) -> list[str]:
        return [r.form.get("Body", "") for r in self.twilio.matching(lambda r: r.form.get("To") == self.target)]

    def say(self, text: str) -> Reply:
        """Send the text; the turn's replies are the texts sent back."""
        before = len(self._texts())
        answer = self.peer.sms(self.target, text)
        if answer.status_code != 200:
            raise RuntimeError(f"sms webhook answered {answer.status_code}: {answer.text[:200]}")
        texts = _quiet_collect(self._texts, before)
        return Reply(texts, texts[0] if texts else "")

    def start_over(self, waiting: bool) -> None:
        """Another day's conversation from a number an earlier dialogue used: leave the agents' queue if it
        waits there (算了, as the queue's message says), then start over (/restart), as a citizen can."""
        if waiting:
            self.say("算了")
        self.say("/restart")


class TelegramCitizen(Citizen):
    """A private Telegram chat: updates in through the webhook, sendMessage calls out."""

    channel = "telegram"
    _updates = iter(range(1_000_000, 10_000_000))

    def __init__(self, rasa_url: str, bot_api: BotApi, chat_id: int, phone: str | None) -> None:
        self.url = rasa_url
        self.bot_api = bot_api
        self.chat_id = chat_id
        self.phone = phone
        self.conversation_id = f"tg-{chat_id}"
        self.message_id = 0

    def _texts(self) -> list[str]:
        return [str(m.get("text", "")) for m in self.bot_api.sent_to(self.chat_id)]

    def _post(self, message: dict[str, Any]) -> list[str]:
        self.message_id += 1
        update = {
            "update_id": next(self._updates),
            "message": {
                "message_id": self.message_id,
                "date": int(time.time()),
                "chat": {"id": self.chat_id, "type": "private", "first_name": "市民"},
                "from": {"id": self.chat_id, "is_bot": False, "first_name": "市民"},
                **message,
            },
        }
        before = len(self._texts())
        answer = requests.post(
            f"{self.url}/webhooks/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
            timeout=TURN_TIMEOUT_S,
        )
        if answer.status_code != 200:
            raise RuntimeError(f"telegram webhook answered {answer.status_code}: {answer.text[:200]}")
        return _quiet_collect(self._texts, before)

    def start(self) -> None:
        """Share the citizen's own contact, when the dialogue has a verified phone."""
        if self.phone:
            contact = {"phone_number": "+86" + self.phone, "first_name": "市民", "user_id": self.chat_id}
            self._post({"contact": contact})

    def say(self, text: str) -> Reply:
        """Send the text; the turn's replies are the messages sent to the chat."""
        texts = self._post({"text": text})
        return Reply(texts, texts[0] if texts else "")


class VoiceCitizen(Citizen):
    """A phone call: each utterance is Gather's SpeechResult; the caller hears the <Say> texts."""

    channel = "voice"
    voice = True

    def __init__(self, peer: TwilioPeer, phone: str | None) -> None:
        self.call = VoiceCall(peer, "+86" + phone if phone else WITHHELD_CALLER)
        self.conversation_id = f"voice-{self.call.sid}"

    def start(self) -> None:
        """The call is answered (the greeting is not a reply to any turn)."""
        self.call.start()

    def say(self, text: str) -> Reply:
        """Say it; the reply is what the final TwiML document reads (holding phrases are not replies)."""
        document = self.call.say(text)
        said = spoken(document).strip()
        return Reply([said] if said else [], said)

    def finish(self) -> None:
        """Hang up (Twilio's status callback)."""
        self.call.hang_up()


def first_message(channel: str, messages: list[dict[str, Any]], reply: Reply) -> str:
    """The first reply as the citizen meets it.

    SMS joins a turn's messages into one text and the phone reads them in one <Say>: there the first
    message is the tracker's first bot message of the turn (as the phone reads it), when the channel's
    output starts with it; otherwise (and on the other channels) the channel's first message.
    """
    if channel == "sms":
        texts = plain_texts(messages)
        if texts and reply.texts and reply.texts[0].startswith(texts[0]):
            return texts[0]
    if channel == "voice":
        texts = [speakable(t) for t in spoken_texts(messages)]
        if texts and texts[0] and reply.texts and _compact(reply.texts[0]).startswith(_compact(texts[0])):
            return texts[0]
    return reply.first


# ---------------------------------------------------------------------------------------------
# Playing a dialogue
# ---------------------------------------------------------------------------------------------


@dataclass
class DialogueResult:
    """A dialogue's result: passed when no check failed."""

    id: str
    category: str
    channel: str
    route: str
    register: str
    passed: bool
    failures: list[Failure] = field(default_factory=list)
    turns: list[TurnResult] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)


@dataclass
class Harness:
    """The running servers and stand-ins, and how to reach them."""

    rasa_url: str
    store: Store
    twilio: StandIn
    bot_api: BotApi
    key: str
    force_rest: bool = False

    def citizen(self, dialogue: dict[str, Any]) -> Citizen:
        """The citizen of a dialogue, on its channel (or REST)."""
        channel = "rest" if self.force_rest else dialogue["channel"]
        number = int(re.sub(r"\D", "", dialogue["id"]) or 0)
        phone = dialogue.get("verified_phone")
        if channel == "webchat":
            return WebChatCitizen(self.rasa_url, self.twilio, phone)
        if channel == "sms":
            # An SMS always comes from a number: without a verified phone, a number of no one's cases.
            return SmsCitizen(TwilioPeer(self.rasa_url), self.twilio, phone or f"1990000{number:04d}", self.key)
        if channel == "telegram":
            return TelegramCitizen(self.rasa_url, self.bot_api, 800_000 + number, phone)
        if channel == "voice":
            return VoiceCitizen(TwilioPeer(self.rasa_url), phone)
        return RestCitizen(self.rasa_url, dialogue["id"])

    def turn(self, citizen: Citizen, text: str, scripted: bool) -> TurnResult:
        """One turn, with what the databases say after it."""
        conversation = citizen.conversation_id
        after_event = self.store.last_event_id(conversation)
        after_handoff = self.store.last_handoff_id()
        reply = citizen.say(text)
        messages = self.store.bot_messages(conversation, after_event)
        loop, requested, paused = self.store.form_state(conversation)
        return TurnResult(
            user=text,
            replies=reply.texts,
            first=first_message(citizen.channel, messages, reply),
            handoff=self.store.handoff(conversation, after_handoff),
            asked=None if paused or loop not in ANSWERING_FORMS else requested,
            scripted=scripted,
        )

    def play(self, dialogue: dict[str, Any]) -> DialogueResult:
        """Play the scripted turns, answer the form's questions, check every expectation and the outcome."""
        citizen = self.citizen(dialogue)
        result = DialogueResult(
            id=dialogue["id"],
            category=dialogue["category"],
            channel=dialogue["channel"],
            route=citizen.channel,
            register=dialogue.get("register", ""),
            passed=False,
        )
        self.store.forget_case_locks()
        # An SMS comes from the citizen's number: two dialogues with one verified phone share a conversation,
        # and only the orders filed during this one are its outcome.
        conversation = citizen.conversation_id
        earlier = {order.number for order in self.store.orders(conversation)} if conversation else set()
        try:
            if isinstance(citizen, SmsCitizen) and self.store.last_event_id(conversation):
                citizen.start_over(waiting=self.store.waiting_for_agent(conversation))
            citizen.start()
            for n, step in enumerate(dialogue["turns"], 1):
                turn = self.turn(citizen, step["user"], scripted=True)
                result.turns.append(turn)
                if step.get("expect"):
                    result.failures += check_expect(step["expect"], turn, f"turn {n}", voice=citizen.voice)
            spec = (dialogue.get("outcome") or {}).get("work_order") or {}
            book = AnswerBook(dialogue.get("answers"), spec.get("type"))
            asked = result.turns[-1].asked if result.turns else None
            for _ in range(MAX_ANSWER_TURNS):
                text = book.answer(asked) if dialogue.get("answers") else None
                if text is None:
                    break
                turn = self.turn(citizen, text, scripted=False)
                result.turns.append(turn)
                asked = turn.asked
            citizen.finish()
        except Exception as error:  # the bot's side failed (an HTTP error, a timeout): this dialogue fails
            result.failures.append(Failure("error", "harness", f"{type(error).__name__}: {error}"))
        conversation = citizen.conversation_id
        if conversation:
            result.orders = [order for order in self.store.orders(conversation) if order.number not in earlier]
            result.answered = sorted(self.store.answered_services(conversation))
            last = _shown(result.turns[-1].replies) if result.turns else ""
            for failure in check_outcome(dialogue.get("outcome") or {}, result.orders, set(result.answered)):
                if last:
                    failure.reply = f"(last turn: {result.turns[-1].user}) {last}"
                result.failures.append(failure)
        result.passed = not result.failures
        return result


WARM_UP = {
    "turns": [{"user": "我要投诉，从化区温泉镇温泉东路的路灯坏了好几天，晚上很黑"}],
    "answers": {
        "description": "路灯坏了好几天，晚上很黑",
        "place": "从化区温泉镇温泉东路",
        "since": "三天前",
        "contact": "13900001111",
        "confirm": "对",
    },
}


def warm_up(harness: Harness, attempts: int = 3) -> str:
    """File one report through the REST channel before measuring, so that no dialogue pays the cold start.

    The action server fits the appeal classifier at the first order it files (once per process); on
    a busy machine that has taken longer than the 60 s an action may take, and that turn failed.
    Returns what happened, for the output.

    Raises:
        RuntimeError: no report was filed: the servers do not work (a Rasa server that could not load its model
            answers 系统繁忙 to everything), and no dialogue is played against them.
    """
    started = time.monotonic()
    for attempt in range(1, attempts + 1):
        citizen = RestCitizen(harness.rasa_url, f"warmup{attempt}")
        book = AnswerBook(WARM_UP["answers"])
        try:
            asked = harness.turn(citizen, WARM_UP["turns"][0]["user"], scripted=False).asked
            for _ in range(MAX_ANSWER_TURNS):
                text = book.answer(asked)
                if text is None:
                    break
                asked = harness.turn(citizen, text, scripted=False).asked
        except requests.RequestException as error:
            print(f"warm-up attempt {attempt}: {type(error).__name__}", flush=True)
        if harness.store.orders(citizen.conversation_id):
            return f"warm-up: a report was filed after {time.monotonic() - started:.0f} s ({attempt} attempt(s))"
    raise RuntimeError(f"warm-up: no report filed in {attempts} attempts ({time.monotonic() - started:.0f} s)")


def load_dialogues(directory: Path, name: str, only: str | None, category: str | None) -> list[dict[str, Any]]:
    """The set's dialogues, filtered. A set whose writer listed alternatives (``lists: any`` in its ``harness.yml``,
    as its README says) has each list of an order's words marked as needing one of them: ``{"any": [...]}``."""
    dialogues = yaml.safe_load((directory / f"{name}.yml").read_text(encoding="utf-8"))
    settings = directory / "harness.yml"
    if settings.exists() and (yaml.safe_load(settings.read_text(encoding="utf-8")) or {}).get("lists") == "any":
        for dialogue in dialogues:
            spec = (dialogue.get("outcome") or {}).get("work_order") or {}
            for field in ("description_contains", "address_contains", "since_contains"):
                if isinstance(spec.get(field), list):
                    spec[field] = {"any": spec[field]}
    return [
        d for d in dialogues if (only is None or d["id"] == only) and (category is None or d["category"] == category)
    ]


async def _seed_demo_cases(url: str) -> None:
    """`make run`'s demo cases, beside the fixture cases the set refers to."""
    database = Database(url)
    try:
        now = clock.now()
        await store_cases(database, demo_cases(now), str(get_settings().pii_hash_key), now)
    finally:
        await database.close()


def report(results: list[DialogueResult], name: str) -> str:
    """Pass rates per category and overall, each failed dialogue's first failure, and the failure kinds."""
    lines = [f"Dialogue evaluation, {name} set: {len(results)} dialogues"]
    by_category: dict[str, list[DialogueResult]] = collections.defaultdict(list)
    for r in results:
        by_category[r.category].append(r)
    lines.append(f"{'category':<12} {'passed':>6} {'n':>4} {'rate':>7}")
    for category in sorted(by_category):
        group = by_category[category]
        passed = sum(r.passed for r in group)
        lines.append(f"{category:<12} {passed:>6} {len(group):>4} {passed / len(group):>7.1%}")
    passed = sum(r.passed for r in results)
    if results:
        lines.append(f"{'overall':<12} {passed:>6} {len(results):>4} {passed / len(results):>7.1%}")
    routes = sorted({(r.channel, r.route) for r in results})
    lines.append("")
    lines.append("Channels played through:")
    lines += [f"  {channel:<9} → {ROUTES[route]}" for channel, route in routes]
    failed = [r for r in results if not r.passed]
    if failed:
        lines.append("")
        lines.append("Failed dialogues (first failed check, the bot's reply):")
        for r in failed:
            first = r.failures[0]
            lines.append(f"  {r.id} [{r.category}/{r.channel}] {first.where}: {first.kind}: {first.detail}")
            if first.reply:
                lines.append(f"      bot: {first.reply}")
        kinds = collections.Counter(f.kind for r in failed for f in r.failures)
        lines.append("")
        lines.append("Failed checks by kind (all checks of all dialogues):")
        for kind, count in kinds.most_common():
            examples = [r.id for r in failed if any(f.kind == kind for f in r.failures)][:5]
            lines.append(f"  {count:>3}  {kind:<32} e.g. {', '.join(examples)}")
    return "\n".join(lines)


def main() -> int:
    """Run the evaluation; 0 whatever the pass rate, 2 when the servers did not start."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="name", choices=("dev", "test"), default="dev")
    parser.add_argument("--dialogues", default=DIALOGUES.name, help="the set's directory under data/eval (dialogues)")
    parser.add_argument("--only", help="one dialogue id (dlg-0001)")
    parser.add_argument("--category", help="one category (safety, materials, …)")
    parser.add_argument("--json", type=Path, help="write the results (turns, replies, failures) to this file")
    parser.add_argument("--rest", action="store_true", help="play every dialogue through the REST channel")
    args = parser.parse_args()
    dialogues = load_dialogues(DIALOGUES.parent / args.dialogues, args.name, args.only, args.category)
    if not dialogues:
        print("no dialogue matches", file=sys.stderr)
        return 2
    bot_api = BotApi(TELEGRAM_TOKEN)
    results: list[DialogueResult] = []
    warmed = ""
    started = time.monotonic()
    try:
        with running_standin(twilio_api) as twilio, running_standin(bot_api) as telegram:
            env = {
                **twilio_env(twilio.url),
                **telegram_env(telegram.url, TELEGRAM_TOKEN, TELEGRAM_SECRET),
                "LOG_LEVEL": "WARNING",
            }
            shutil.rmtree(WORKDIR, ignore_errors=True)
            WORKDIR.mkdir(parents=True)
            with running_servers(WORKDIR, extra_env=env) as servers:
                database = WORKDIR / "hotline.db"
                asyncio.run(_seed_demo_cases(f"sqlite:///{database}"))
                harness = Harness(
                    rasa_url=servers.rasa_url,
                    store=Store(database, WORKDIR / "hotline-trackers.db"),
                    twilio=twilio,
                    bot_api=bot_api,
                    key=str(get_settings().pii_hash_key),
                    force_rest=args.rest,
                )
                warmed = warm_up(harness)
                print(warmed, flush=True)
                for n, dialogue in enumerate(dialogues, 1):
                    result = harness.play(dialogue)
                    results.append(result)
                    mark = "ok  " if result.passed else "FAIL"
                    print(
                        f"[{n:>3}/{len(dialogues)}] {mark} {result.id} {result.category}/{result.channel}", flush=True
                    )
    except RuntimeError as error:
        if not results:
            print(f"the harness could not start the servers, or they do not work: {error}", file=sys.stderr)
            return 2
        raise
    print()
    print(report(results, f"{args.dialogues}/{args.name}"))
    print(warmed)
    print(f"\n({time.monotonic() - started:.0f} s; servers' logs and databases in {WORKDIR.relative_to(PROJECT_ROOT)})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"set": args.name, "results": [asdict(r) for r in results]}
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
