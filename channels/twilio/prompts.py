"""What the phone says and how it listens: the call's own sentences and the TwiML of a question."""

from __future__ import annotations

import re
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from channels.twilio.voices import say_language

GREETING = "您好，这里是12345政务服务便民热线，我是智能助理。请问有什么可以帮您？"
SILENCE_PROMPTS = (
    "抱歉，我没有听清。请再说一遍您要办的事。",
    "您可以说“办护照要带什么”“查办件进度”，或者说说您要反映的问题。需要人工服务，请按0。",
)
HOLDING = ("好的，请稍等，我正在为您查询。", "还在查询，请再稍等一下。", "马上就好，请不要挂机。")
TRANSFERRING = "好的，正在为您转接人工客服，请稍候。"
SAYING_AGAIN = "好的，我再说一遍。"
# The list is on its way: the caller hears that it comes by SMS, and to which number (the fifth blind set).
LIST_TEXTED = "好的，完整清单马上用短信发到您尾号{tail}的手机上。还有什么可以帮您？"
NO_SMS = "抱歉，这个号码收不到短信。您可以在网上办事大厅查看完整清单。还有什么可以帮您？"
# Asked to text the list when the caller's number is withheld.
NO_NUMBER_FOR_SMS = (
    "抱歉，您的来电没有显示号码，没法给您发短信。您可以在网上办事大厅查看完整清单，"
    "或者说“再说一遍”，我再念一次。还有什么可以帮您？"
)
TOO_MANY_KEYS = "抱歉，您按的数字太多了，我没有记下。请重新输入，按井号键结束；需要人工服务，请按0。"
TOO_LONG_SPEECH = "抱歉，您说的内容太长了，我没有记下。请简短地说一下您要办的事，比如“办护照要带什么”。"
# Words of a bot question that wants a number typed on the keypad (case number, phone tail).
_ASKS_FOR_DIGITS = ("编号", "后四位", "号码", "身份证")


def asks_for_digits(sentences: list[str]) -> bool:
    """Whether the bot's last sentence (not its whole last message) asks for a number the caller may type."""
    if not sentences:
        return False
    pieces = [piece for piece in re.split(r"(?<=[。！？!?])", sentences[-1]) if piece.strip()]
    return bool(pieces) and any(word in pieces[-1] for word in _ASKS_FOR_DIGITS)


def ask(
    sentences: list[str], next_turn: int, voice: str, hints: str, digits: bool = False, listen_in: str = "zh-CN"
) -> VoiceResponse:
    """Say ``sentences`` and listen for speech (recognised in ``listen_in``) or keys, with barge-in."""
    document = VoiceResponse()
    keys: dict[str, Any] = {"finish_on_key": "#"} if digits else {"num_digits": 1}
    gather = document.gather(
        input="speech dtmf",
        language=listen_in,
        speech_timeout="auto",
        hints=hints,
        action=f"/webhooks/voice/webhook?turn={next_turn}",
        method="POST",
        action_on_empty_result=True,
        barge_in=True,
        timeout=6,
        **keys,
    )
    gather.say(" ".join(s for s in sentences if s), voice=voice, language=say_language(voice))
    return document


def say_and_hang_up(text: str, voice: str, first: tuple[str, ...] = ()) -> VoiceResponse:
    """A last sentence (after the turn's own, if any), then the end of the call."""
    document = VoiceResponse()
    for sentence in (*first, text):
        document.say(sentence, voice=voice, language=say_language(voice))
    document.hangup()
    return document
