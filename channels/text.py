"""What every connector does to a citizen's text before the assistant sees it."""

from __future__ import annotations

import re
import unicodedata

from bot.safety.danger import assess

# Longer than any real request; a longer message is answered without parsing it.
MAX_MESSAGE_CHARS = 2000
TOO_LONG_REPLY = "您的消息太长了（超过2000字），请分几次、简要地说明您要办的事或反映的问题。"
EMPTY_REPLY = "您好，请问有什么可以帮您？可以直接说要办的事，比如“办护照要带什么”。"
BUSY_REPLY = "系统繁忙，暂时无法回答。请稍后再试，或拨打12345转人工服务。"
# After a safety reply, when the urgent handoff itself failed: the numbers were already given.
URGENT_HANDOFF_FAILED = "人工客服暂时无法接通，请务必先拨打上面的电话求助。"


def too_long(text: str) -> bool:
    """Whether a message is longer than any real request; one that speaks of danger never is (safety first)."""
    return len(text) > MAX_MESSAGE_CHARS and assess(text) is None


def clean_text(text: str) -> str:
    """Strip control characters and surrounding space; never let a leading "/" inject an intent.

    Rasa reads ``/intent{...}`` as an intent and entities; citizens' text must never be read
    that way, so a leading ASCII slash becomes a full-width one (the NLU reads it as text).
    """
    text = "".join(char for char in text if char in "\n\t" or unicodedata.category(char)[0] != "C").strip()
    if text.startswith("/"):
        text = "／" + text[1:]
    return text


def split_text(text: str, limit: int) -> list[str]:
    """Split a long text into parts of at most ``limit`` characters, at line or sentence ends."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        pieces = [line]
        if len(line) > limit:
            pieces = [p for p in re.split(r"(?<=[。；！？;!?])", line) if p]
        for piece in pieces:
            while len(piece) > limit:  # a sentence longer than a part: cut it hard
                if current:
                    parts.append(current)
                    current = ""
                parts.append(piece[:limit])
                piece = piece[limit:]
            joiner = "\n" if current and piece is pieces[0] else ""
            if len(current) + len(joiner) + len(piece) > limit:
                parts.append(current)
                current, joiner = "", ""
            current += joiner + piece
    if current:
        parts.append(current)
    return [part for part in parts if part.strip()]
