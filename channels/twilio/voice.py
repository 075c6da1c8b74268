"""Twilio voice: ``/webhooks/voice/webhook``. A Mandarin conversation on the phone, in TwiML.

Each of the caller's utterances (speech or keys) arrives as a Gather action with ``?turn=N``. The
bot's turn runs in the background; if it takes longer than ``VOICE_REPLY_WAIT_S`` the caller hears
a holding phrase and Twilio is redirected to ``/wait``, which picks up the answer: no webhook ever
comes near Twilio's 15-second limit. The caller id (``From``) identifies the citizen for the call.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.twiml.voice_response import VoiceResponse

from bot.catalog.store import load_services
from bot.citizens.identity import CitizenView, get_citizen, linked_citizen
from bot.core import clock
from bot.core.db import DatabaseUnavailable
from bot.core.metrics import rejected
from bot.core.personal_data import e164_phone, mask_phone
from bot.core.settings import get_settings
from bot.core.shared_state import SharedStateUnavailable
from bot.handoff.service_hours import agents_on_duty, describe_hours
from bot.work_orders.callbacks import file_callback
from channels.connector import (
    ChannelRuntime,
    Choice,
    Delivery,
    DeliveryFailed,
    Incoming,
    OnNewMessage,
    channel_runtime,
    full_answer,
    health,
    offered_choices,
    recall_choices,
    remember_choices,
    run_turn,
    select_choice,
    spoken_texts,
)
from channels.text import BUSY_REPLY, asks_to_repeat, clean_text, split_text, too_long
from channels.twilio.prompts import (
    GREETING,
    HOLDING,
    LIST_TEXTED,
    NO_NUMBER_FOR_SMS,
    NO_SMS,
    SAYING_AGAIN,
    SILENCE_PROMPTS,
    TOO_LONG_SPEECH,
    TOO_MANY_KEYS,
    TRANSFERRING,
    ask,
    asks_for_digits,
    say_and_hang_up,
)
from channels.twilio.requests import checked_form, refusal, twiml
from channels.twilio.sms import SMS_PART_CHARS, citizen_of, send_sms, sms_sender_id, text_citizen
from channels.twilio.speech import digit_by_digit, speakable, spoken_choices
from channels.twilio.voices import VoiceMismatch, check_voice_settings, say_language

logger = logging.getLogger(__name__)

# Words that ask for the long answer by text ("发短信给我", "发我手机上吧", "发这个号就行").
_WANTS_TEXT = re.compile(r"短信|信息|发(给)?我|发到(我的?)?手机|手机上|发(到|去|给)?(我?这个|我的?)(号|电话|手机)")
SMS_CHOICE = Choice(title="把完整清单发短信给我", payload="__voice_sms__", answer="yes")
_ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
STATE_TTL_S = 3600
# Turn and attempt counters in the webhook's query: a few ASCII digits (Twilio echoes what we wrote).
_COUNTER = re.compile(r"[0-9]{1,5}")
# The longest key entry taken as an answer (a case number has 14 digits, an ID number 18).
MAX_KEYED_DIGITS = 32
_HINT_WORDS = ("转人工", "查进度", "办件进度", "投诉", "举报", "求助", "建议", "办理地点", "需要什么材料")


# The agent's key said rather than pressed (the sixth blind set: a caller said "0").
_AGENT_KEY_SAID = frozenset({"0", "零", "〇", "按0", "按零", "按〇"})


@dataclass(frozen=True)
class Call:
    """One phone call: its Twilio id, the conversation it is, and who is calling."""

    sid: str
    phone: str
    citizen: CitizenView | None

    @property
    def sender_id(self) -> str:
        """The conversation id of this call."""
        return f"voice-{self.sid}"


async def caller_of(runtime: ChannelRuntime, phone: str, sender_id: str) -> CitizenView | None:
    """The citizen the caller id verifies: linked when the call was answered, or now if that link is not made yet."""
    try:
        citizen = await linked_citizen(runtime.database, "voice", sender_id)
    except DatabaseUnavailable:
        logger.warning("voice: citizen lookup failed, database unavailable")
        return None
    return citizen or await citizen_of(runtime, phone, sender_id, channel="voice")


def asks_for_an_agent(digits: str, speech: str) -> bool:
    """Whether the caller pressed 0, or said only the key the prompts name for a person (零; heard as "0")."""
    return digits == "0" or (not digits and speech.replace(" ", "") in _AGENT_KEY_SAID)


def asks_for_text(speech: str) -> bool:
    """Whether the caller asks for the last long answer by SMS."""
    return _WANTS_TEXT.search(speech) is not None


class TwilioVoiceInput(InputChannel):
    """Calls to the hotline number."""

    def __init__(self) -> None:
        self._hints: str | None = None
        self._pending: dict[tuple[str, int], asyncio.Task[str]] = {}

    @classmethod
    def name(cls) -> str:
        """The channel's name and URL prefix."""
        return "voice"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Settings come from bot/core/settings.py, not from credentials.yml."""
        return cls()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The channel's routes: the call, waiting for slow answers, the transfer, and the call's end.

        Raises:
            VoiceMismatch: TWILIO_VOICE or TWILIO_SPEECH_LANGUAGE is not one Twilio accepts for Mandarin
                (the voice channel, and with it the server, does not start).
        """
        settings = get_settings()
        try:
            check_voice_settings(settings.twilio_voice, settings.twilio_speech_language)
        except VoiceMismatch as error:
            logger.critical("voice channel not started: %s", error)
            raise
        webhook = Blueprint("hotline_voice", __name__)

        async def checked(request: Request) -> tuple[ChannelRuntime, dict[str, str], Call | HTTPResponse]:
            runtime = channel_runtime()
            form = checked_form(request, runtime.settings, ("CallSid",), "voice")
            if isinstance(form, HTTPResponse):
                return runtime, {}, form
            call_sid = form["CallSid"]
            sender_id = f"voice-{call_sid}"
            citizen = None
            if request.args.get("turn") is None and request.path.endswith("/webhook"):
                # The call is answered at once; the caller id is linked to the citizen meanwhile.
                identifying = citizen_of(runtime, form.get("From", ""), sender_id, channel="voice")
                runtime.spawn(identifying, f"voice {call_sid} identify")
            else:
                citizen = await caller_of(runtime, form.get("From", ""), sender_id)
            return runtime, form, Call(call_sid, form.get("From", ""), citizen)

        webhook.add_route(health, "/", methods=["GET"])

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            runtime, form, call = await checked(request)
            if isinstance(call, HTTPResponse):
                return call
            turn_text = request.args.get("turn")
            if turn_text is None:
                return twiml(
                    ask(
                        [GREETING],
                        1,
                        runtime.settings.twilio_voice,
                        await self._hints_for(runtime),
                        listen_in=runtime.settings.twilio_speech_language,
                    )
                )
            if not _COUNTER.fullmatch(turn_text):
                rejected("voice", "bad_request")
                return refusal(400, "turn应为1-5位数字")
            turn = int(turn_text)
            try:
                first = await runtime.state.add_if_new(f"voice:turn:{call.sid}:{turn}", STATE_TTL_S)
            except SharedStateUnavailable:
                first = True
            if not first:  # Twilio repeated a request: give the same answer
                rejected("voice", "duplicate")
                return twiml(await self._wait_for(runtime, call, turn, attempt=1))
            return twiml(await self._listen(runtime, on_new_message, call, turn, form))

        @webhook.route("/wait", methods=["POST"])
        async def wait(request: Request) -> HTTPResponse:
            runtime, _form, call = await checked(request)
            if isinstance(call, HTTPResponse):
                return call
            turn_text, attempt_text = request.args.get("turn", ""), request.args.get("attempt", "")
            if not (_COUNTER.fullmatch(turn_text) and _COUNTER.fullmatch(attempt_text)):
                rejected("voice", "bad_request")
                return refusal(400, "turn和attempt应为1-5位数字")
            return twiml(await self._wait_for(runtime, call, int(turn_text), int(attempt_text)))

        @webhook.route("/transfer-status", methods=["POST"])
        async def transfer_status(request: Request) -> HTTPResponse:
            runtime, form, call = await checked(request)
            if isinstance(call, HTTPResponse):
                return call
            if form.get("DialCallStatus") == "completed":
                document = VoiceResponse()
                document.hangup()
                return twiml(document)
            return twiml(await self._callback(runtime, call, "人工坐席未接通"))

        @webhook.route("/whisper", methods=["POST"])
        async def whisper(request: Request) -> HTTPResponse:
            runtime, _form, call = await checked(request)
            if isinstance(call, HTTPResponse):
                return call
            conversation = request.args.get("conversation", "")
            document = VoiceResponse()
            document.say(
                f"12345智能助理转接来电。对话编号尾号{' '.join(conversation[-4:])}，对话记录请在坐席台查看。",
                voice=runtime.settings.twilio_voice,
                language=say_language(runtime.settings.twilio_voice),
            )
            return twiml(document)

        @webhook.route("/status", methods=["POST"])
        async def status(request: Request) -> HTTPResponse:
            runtime, form, call = await checked(request)
            if isinstance(call, HTTPResponse):
                return call
            if form.get("CallStatus") in _ENDED:
                await self._hang_up(runtime, on_new_message, call)
            return response.empty()

        return webhook

    async def _hints_for(self, runtime: ChannelRuntime) -> str:
        """Speech hints: the catalogue's service names and the hotline's common words."""
        if self._hints is None:
            try:
                services = await load_services(runtime.database)
            except DatabaseUnavailable:
                return ",".join(_HINT_WORDS)
            names = [s.name for s in services if s.source == "project" and len(s.name) <= 100]
            self._hints = ",".join([*_HINT_WORDS, *names][:400])
        return self._hints

    async def _listen(
        self,
        runtime: ChannelRuntime,
        on_new_message: OnNewMessage,
        call: Call,
        turn: int,
        form: dict[str, str],
    ) -> str:
        """Answer one utterance: keys, speech or silence."""
        digits = form.get("Digits", "").strip()
        speech = clean_text(form.get("SpeechResult", ""))
        hints = await self._hints_for(runtime)
        voice = runtime.settings.twilio_voice
        if asks_for_an_agent(digits, speech):
            return await self._transfer(runtime, call)
        if not digits and not speech:
            return await self._silence(runtime, call, turn, hints)
        if len(digits) > MAX_KEYED_DIGITS:  # asked again, before anything reads the keys
            return str(
                ask(
                    [TOO_MANY_KEYS],
                    turn + 1,
                    voice,
                    hints,
                    digits=True,
                    listen_in=runtime.settings.twilio_speech_language,
                )
            )
        if too_long(speech):
            return str(
                ask([TOO_LONG_SPEECH], turn + 1, voice, hints, listen_in=runtime.settings.twilio_speech_language)
            )
        try:
            await runtime.state.delete(f"voice:silence:{call.sid}")
        except SharedStateUnavailable:
            logger.warning("voice: silence count not reset, shared state unavailable")
        if not digits and asks_to_repeat(speech):  # nothing else said: no danger, no new question
            again = await self._said_last(runtime, call, turn, hints)
            if again is not None:
                return again
        choice = select_choice(digits or speech, await recall_choices(runtime.state, call.sender_id))
        wants_text = asks_for_text(speech)
        if choice == SMS_CHOICE or (not choice and wants_text and await self._full_list(runtime, call)):
            return await self._text_full_list(runtime, call, turn, hints)
        text = choice.payload if choice else (digits or speech)
        task = runtime.spawn(self._turn(runtime, on_new_message, call, turn, text), f"voice {call.sid} turn {turn}")
        self._pending[(call.sid, turn)] = task
        task.add_done_callback(lambda _: self._pending.pop((call.sid, turn), None))
        try:
            return await asyncio.wait_for(asyncio.shield(task), runtime.settings.voice_reply_wait_s)
        except asyncio.TimeoutError:
            return str(self._holding(turn, 1, voice))

    async def _turn(
        self,
        runtime: ChannelRuntime,
        on_new_message: OnNewMessage,
        call: Call,
        turn: int,
        text: str,
    ) -> str:
        """Run the bot's turn and keep the TwiML of its answer for whichever request picks it up."""
        messages = await run_turn(on_new_message, Incoming(call.sender_id, text, self.name(), call.citizen))
        request = next(((m.get("custom") or {}) for m in messages if (m.get("custom") or {}).get("handoff")), None)
        if request is not None:  # what the bot said first (a safety reply) is spoken before the transfer
            first = tuple(speakable(text) for text in spoken_texts(messages))
            document = await self._transfer(runtime, call, first, str(request.get("reason") or "requested"))
        else:
            document = await self._speak(runtime, call, turn, messages)
        try:
            await runtime.state.put(f"voice:answer:{call.sid}:{turn}", document, STATE_TTL_S)
        except SharedStateUnavailable:
            logger.warning("voice: answer of %s kept only in this instance", call.sender_id)
        return document

    async def _speak(self, runtime: ChannelRuntime, call: Call, turn: int, messages: list[dict[str, Any]]) -> str:
        """The bot's responses read aloud, with its choices (and an offer to text a long list)."""
        sentences = [speakable(text) for text in spoken_texts(messages)] or [speakable(BUSY_REPLY)]
        choices = offered_choices(messages)
        full = full_answer(messages)
        # Kept even when the number is withheld (asked to text it, the caller hears why it cannot be), and
        # for the usual case before a situation question too (asked for, it is texted; not offered: the
        # question's keys are its own).
        kept = full or full_answer(messages, usual_case=True)
        if kept:
            await runtime.state.put(f"voice:full:{call.sid}", kept, STATE_TTL_S)
        if full and call.citizen is not None:
            choices = [SMS_CHOICE, *choices]
        await remember_choices(runtime.state, call.sender_id, choices)
        expects_digits = asks_for_digits(sentences)
        if choices and not expects_digits:
            sentences.append(spoken_choices([c.title for c in choices]))
        try:  # for a caller who asks to hear it again
            await runtime.state.put(
                f"voice:last:{call.sid}", json.dumps({"sentences": sentences, "digits": expects_digits}), STATE_TTL_S
            )
        except SharedStateUnavailable:
            logger.warning("voice: the answer of %s cannot be said again, shared state unavailable", call.sender_id)
        voice, hints = runtime.settings.twilio_voice, await self._hints_for(runtime)
        return str(
            ask(
                sentences,
                turn + 1,
                voice,
                hints,
                digits=expects_digits,
                listen_in=runtime.settings.twilio_speech_language,
            )
        )

    async def _said_last(self, runtime: ChannelRuntime, call: Call, turn: int, hints: str) -> str | None:
        """The bot's last answer once more, listening as it did (None when there is none to repeat)."""
        try:
            kept = await runtime.state.get(f"voice:last:{call.sid}")
        except SharedStateUnavailable:
            return None
        if kept is None:
            return None
        last = json.loads(kept)
        return str(
            ask(
                [SAYING_AGAIN, *last["sentences"]],
                turn + 1,
                runtime.settings.twilio_voice,
                hints,
                digits=bool(last["digits"]),
                listen_in=runtime.settings.twilio_speech_language,
            )
        )

    async def _full_list(self, runtime: ChannelRuntime, call: Call) -> str | None:
        """The full text of the last long answer, if one was offered by SMS."""
        try:
            return await runtime.state.get(f"voice:full:{call.sid}")
        except SharedStateUnavailable:
            return None

    async def _text_full_list(self, runtime: ChannelRuntime, call: Call, turn: int, hints: str) -> str:
        """Text the last long answer to the caller's own number."""
        voice = runtime.settings.twilio_voice
        full = await self._full_list(runtime, call)
        if not full or call.citizen is None:
            said = NO_NUMBER_FOR_SMS if full else NO_SMS
            return str(ask([said], turn + 1, voice, hints, listen_in=runtime.settings.twilio_speech_language))
        bodies = split_text(full, SMS_PART_CHARS)
        runtime.spawn(send_sms(runtime, call.phone, bodies), f"voice {call.sid} sms")
        tail = digit_by_digit(call.citizen.phone[-4:])
        return str(
            ask(
                [LIST_TEXTED.format(tail=tail)],
                turn + 1,
                voice,
                hints,
                listen_in=runtime.settings.twilio_speech_language,
            )
        )

    async def _silence(self, runtime: ChannelRuntime, call: Call, turn: int, hints: str) -> str:
        """Reprompt, then a simpler question, then a person."""
        try:
            count = await runtime.state.increment(f"voice:silence:{call.sid}", STATE_TTL_S)
        except SharedStateUnavailable:
            count = 1
        if count > len(SILENCE_PROMPTS):
            return await self._transfer(runtime, call)
        return str(
            ask(
                [SILENCE_PROMPTS[count - 1]],
                turn + 1,
                runtime.settings.twilio_voice,
                hints,
                listen_in=runtime.settings.twilio_speech_language,
            )
        )

    def _holding(self, turn: int, attempt: int, voice: str) -> VoiceResponse:
        """A holding phrase, then Twilio comes back for the answer."""
        document = VoiceResponse()
        document.say(HOLDING[min(attempt, len(HOLDING)) - 1], voice=voice, language=say_language(voice))
        document.redirect(f"/webhooks/voice/wait?turn={turn}&attempt={attempt}", method="POST")
        return document

    async def _wait_for(self, runtime: ChannelRuntime, call: Call, turn: int, attempt: int) -> str:
        """The answer of a turn, waited for up to the reply budget; else hold again, or hand over."""
        budget = runtime.settings.voice_reply_wait_s
        task = self._pending.get((call.sid, turn))
        if task is not None:  # the turn runs in this instance
            try:
                return await asyncio.wait_for(asyncio.shield(task), budget)
            except asyncio.TimeoutError:
                pass
        else:  # the turn runs in another instance, or has finished: its answer is in the shared state
            deadline = time.monotonic() + budget
            while True:
                try:
                    answer = await runtime.state.get(f"voice:answer:{call.sid}:{turn}")
                except SharedStateUnavailable:
                    answer = None
                if answer is not None:
                    return answer
                if time.monotonic() >= deadline:
                    break
                await asyncio.sleep(0.2)  # polling another instance's result
        if attempt >= len(HOLDING):
            logger.error("voice: turn %d of %s got no answer in time; transferring", turn, call.sender_id)
            return await self._transfer(runtime, call)
        return str(self._holding(turn, attempt + 1, runtime.settings.twilio_voice))

    async def _transfer(
        self, runtime: ChannelRuntime, call: Call, first: tuple[str, ...] = (), reason: str = "requested"
    ) -> str:
        """Say ``first``, then hand the call to the agent line; without one, or out of hours, record a callback."""
        settings = runtime.settings
        in_hours = agents_on_duty(settings.agent_hours, clock.now())
        if settings.agent_phone_number and in_hours:
            document = VoiceResponse()
            for sentence in (*first, TRANSFERRING):
                document.say(sentence, voice=settings.twilio_voice, language=say_language(settings.twilio_voice))
            dial = document.dial(action="/webhooks/voice/transfer-status", method="POST", timeout=30)
            dial.number(settings.agent_phone_number, url=f"/webhooks/voice/whisper?conversation={call.sender_id}")
            if runtime.desk is not None:
                await runtime.desk.phone_transfer(call.sender_id, call.citizen.id if call.citizen else None, reason)
            logger.info("voice: %s transferred to the agent line", call.sender_id)
            return str(document)
        if in_hours:
            logger.error("voice: no agent line configured (AGENT_PHONE_NUMBER); %s gets a callback", call.sender_id)
        why = "没有可接听的人工坐席" if in_hours else "非人工服务时间"
        return str(await self._callback(runtime, call, why, first))

    async def _callback(
        self, runtime: ChannelRuntime, call: Call, reason: str, first: tuple[str, ...] = ()
    ) -> VoiceResponse:
        """Record a callback work order for the caller and tell them so (after ``first``)."""
        voice = runtime.settings.twilio_voice
        hours = describe_hours(runtime.settings.agent_hours)
        if agents_on_duty(runtime.settings.agent_hours, clock.now()):
            why = "现在没有可以接听的人工坐席"
        else:
            why = f"现在不是人工服务时间，人工服务时间是{hours}"
        phone = call.citizen.masked_phone if call.citizen else mask_phone(call.phone) if call.phone else "未知号码"
        try:
            filed = await file_callback(
                runtime.database,
                caller=f"来电（{phone}）",
                why=reason,
                conversation_id=call.sender_id,
                channel=self.name(),
                citizen_id=call.citizen.id if call.citizen else None,
                now=clock.now(),
            )
            number = filed.number
        except DatabaseUnavailable:
            logger.error("voice: callback for %s not recorded, database unavailable", call.sender_id)
            return say_and_hang_up(f"抱歉，{why}，暂时无法为您转接人工，请稍后再拨打12345。", voice, first)
        return say_and_hang_up(
            f"抱歉，{why}。我们已经为您登记了回电，"
            f"工单号{speakable(number).rstrip('。')}。工作人员会尽快给您回电。感谢您的来电，再见。",
            voice,
            first,
        )

    async def _hang_up(self, runtime: ChannelRuntime, on_new_message: OnNewMessage, call: Call) -> None:
        """The caller hung up: stop what is pending, forget the call's state, end the conversation's session."""
        for (sid, turn), task in list(self._pending.items()):
            if sid == call.sid:
                task.cancel()
                self._pending.pop((sid, turn), None)
        try:
            await runtime.state.delete(
                f"voice:silence:{call.sid}", f"voice:full:{call.sid}", f"choices:{call.sender_id}"
            )
        except SharedStateUnavailable:
            logger.warning("voice: state of %s left to expire", call.sender_id)
        ending = UserMessage(
            "/session_start",
            CollectingOutputChannel(),
            call.sender_id,
            input_channel=self.name(),
            metadata={"channel": self.name(), "citizen_id": None, "event": "hangup"},
        )
        try:
            await on_new_message(ending)
        except Exception:
            logger.exception("voice: the session of %s did not end cleanly", call.sender_id)
        logger.info("voice: call %s ended", call.sender_id)


class VoiceOutbound:
    """Writing to a caller later: the call is over, so by SMS to the caller's verified number."""

    prefix = "voice-"
    # A caller who asks for a person is put through to the agent line, not queued in the console.
    holds_chat = False
    position_updates = False

    async def send(self, delivery: Delivery) -> None:
        """Text the messages to the caller."""
        await text_citizen(delivery.citizen_id, delivery.messages)

    async def thread(self, conversation_id: str, citizen_id: int | None) -> tuple[str, str]:
        """The caller's SMS thread, so that an answer by text is understood."""
        runtime = channel_runtime()
        citizen = await get_citizen(runtime.database, citizen_id) if citizen_id is not None else None
        if citizen is None:
            raise DeliveryFailed("the caller's number is not known")
        return "sms", sms_sender_id(e164_phone(citizen.phone), str(runtime.settings.pii_hash_key))
