"""The voice channel speaks only in a voice Twilio accepts for Mandarin, with the language that voice needs."""

from __future__ import annotations

import re

import pytest

from channels.twilio.prompts import ask, say_and_hang_up
from channels.twilio.voice import TwilioVoiceInput
from channels.twilio.voices import SAY_LANGUAGES, VoiceMismatch, check_voice_settings


@pytest.mark.parametrize(
    ("voice", "language"),
    [
        ("Polly.Zhiyu", "cmn-CN"),
        ("Polly.Zhiyu-Neural", "cmn-CN"),
        ("Google.cmn-CN-Wavenet-A", "cmn-CN"),
        ("alice", "zh-CN"),
    ],
)
def test_each_mandarin_voice_is_sent_with_its_own_language(voice: str, language: str) -> None:
    assert check_voice_settings(voice, "zh-CN") == language
    document = str(ask(["您好"], 1, voice, "", listen_in="cmn-Hans-CN"))
    assert f'<Say language="{language}" voice="{voice}">' in document
    assert 'language="cmn-Hans-CN"' in document  # <Gather>'s recognition language
    assert f'<Say language="{language}" voice="{voice}">再见</Say>' in str(say_and_hang_up("再见", voice))


def test_polly_zhiyu_is_never_sent_with_zh_cn() -> None:
    assert SAY_LANGUAGES["Polly.Zhiyu"] != "zh-CN"
    assert 'language="zh-CN" voice="Polly.Zhiyu"' not in str(ask(["您好"], 1, "Polly.Zhiyu", ""))


@pytest.mark.parametrize(
    ("voice", "listen_in", "named"),
    [
        ("Polly.Joanna", "zh-CN", "TWILIO_VOICE"),
        ("man", "zh-CN", "TWILIO_VOICE"),
        ("Polly.Zhiyu", "en-US", "TWILIO_SPEECH_LANGUAGE"),
    ],
)
def test_a_mismatch_is_refused_with_the_setting_named(voice: str, listen_in: str, named: str) -> None:
    with pytest.raises(VoiceMismatch, match=named):
        check_voice_settings(voice, listen_in)


@pytest.mark.usefixtures("clean_settings")
def test_the_voice_channel_does_not_start_on_a_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_VOICE", "Polly.Joanna")
    with pytest.raises(VoiceMismatch, match=re.escape("TWILIO_VOICE='Polly.Joanna'")):
        TwilioVoiceInput().blueprint(lambda message: None)  # type: ignore[arg-type,return-value]
