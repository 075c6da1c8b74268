"""A citizen who types traditional characters (Hong Kong keyboards, 唔係, 問, 資料) is read as one who types simplified
ones: the dialogue, the safety check and every word rule read simplified Chinese.

The turns go through ``run_turn``, the function every connector calls; the bot is a callable that records what it
heard, as in ``test_repeat``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.channels.channel import UserMessage

from bot.core.db import Database
from bot.core.settings import get_settings
from bot.core.shared_state import MemoryState
from channels import connector
from channels.connector import ChannelRuntime, Incoming, run_turn
from channels.text import simplified


class Bot:
    """Records what the dialogue heard and answers "好的"."""

    def __init__(self) -> None:
        self.heard: list[str] = []

    async def __call__(self, message: UserMessage) -> None:
        self.heard.append(message.text or "")
        await message.output_channel.send_response(message.sender_id, {"text": "好的"})


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process's channel runtime, as the connectors use it."""
    runtime = ChannelRuntime(get_settings(), Database(f"sqlite:///{tmp_path / 'hotline.db'}"), MemoryState())
    monkeypatch.setattr(connector, "_runtime", runtime)


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        # The eighth blind set's test half: 唔係唔係 (a correction) and 真係 were not read.
        (
            "唔係唔係，我搵返身份證喇，我其實係想問個仔遷戶口入嚟廣州",
            "唔系唔系，我揾返身份证喇，我其实系想问个仔迁户口入嚟广州",
        ),
        ("我想問下辦護照要咩資料", "我想问下办护照要咩资料"),
        # Cantonese characters stay as they are typed (OpenCC writes 嗰 as 𠮶, which no citizen types).
        ("嗰度啲嘢冇人理，佢哋喺度嘈", "嗰度啲嘢冇人理，佢哋喺度嘈"),
        ("办护照要带什么", "办护照要带什么"),
    ],
)
def test_traditional_characters_are_read_as_simplified(typed: str, read: str) -> None:
    assert simplified(typed) == read


async def test_the_dialogue_hears_simplified_characters(runtime: None) -> None:
    bot = Bot()
    await run_turn(bot, Incoming("sms-1", "我想問下辦護照要咩資料", "sms"))
    assert bot.heard == ["我想问下办护照要咩资料"]


async def test_despair_typed_in_traditional_characters_gets_the_crisis_line_first(runtime: None) -> None:
    """Read as typed, only the model heard a possible danger (every number); read simplified, it is despair."""
    bot = Bot()
    replies = await run_turn(bot, Incoming("tg-1", "我真的撐不下去了，覺得好絕望", "telegram"))
    assert "12356" in replies[0]["text"]
    assert replies[0]["custom"] == {"safety": "despair"}
