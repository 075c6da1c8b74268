"""Which Mandarin voices Twilio's ``<Say>`` accepts with which language, and ``<Gather>``'s recognition language.

Twilio refuses a ``<Say>`` whose voice and language do not match (Amazon Polly's Zhiyu speaks
``cmn-CN``, not ``zh-CN``), and the call then goes silent. The settings are checked against this table
when the voice channel starts; a mismatch stops it with a clear message instead.
Sources: Twilio's text-to-speech voice list and Amazon Polly's voice list (language code cmn-CN).
"""

from __future__ import annotations

# <Say> voices that speak Mandarin, with the language each must be sent with.
SAY_LANGUAGES: dict[str, str] = {
    "alice": "zh-CN",
    "Polly.Zhiyu": "cmn-CN",
    "Polly.Zhiyu-Neural": "cmn-CN",
    **{f"Google.cmn-CN-{kind}-{letter}": "cmn-CN" for kind in ("Standard", "Wavenet") for letter in "ABCD"},
}
# <Gather> speech recognition languages for Mandarin (Simplified, China).
GATHER_LANGUAGES = frozenset({"zh-CN", "cmn-Hans-CN"})


class VoiceMismatch(ValueError):
    """The voice settings name a voice or a recognition language Twilio does not accept for Mandarin."""


def say_language(voice: str) -> str:
    """The language ``<Say>`` must be sent with for this voice.

    Raises:
        VoiceMismatch: the voice does not speak Mandarin (or is unknown).
    """
    language = SAY_LANGUAGES.get(voice)
    if language is None:
        known = "、".join(sorted(SAY_LANGUAGES))
        raise VoiceMismatch(f"TWILIO_VOICE={voice!r} 不是Twilio支持的普通话语音；可用：{known}")
    return language


def check_voice_settings(voice: str, gather_language: str) -> str:
    """The ``<Say>`` language for these settings, once both are known to match Mandarin.

    Raises:
        VoiceMismatch: with a message that names the setting and what it may be.
    """
    language = say_language(voice)
    if gather_language not in GATHER_LANGUAGES:
        known = "、".join(sorted(GATHER_LANGUAGES))
        raise VoiceMismatch(f"TWILIO_SPEECH_LANGUAGE={gather_language!r} 不是普通话识别语言；可用：{known}")
    return language
