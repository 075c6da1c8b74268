"""What a turn reads before the dialogue does, on every channel (``run_turn``, the function every connector calls).

- A citizen who types traditional characters (Hong Kong keyboards: 唔係, 問, 資料) is read as one who types
  simplified ones: the dialogue, the safety check and every word rule read simplified Chinese.
- Violence told as past (上个礼拜…被一个档主打了…想问一下应该怎么处理) is no emergency now, but a careful operator
  still says where it is reported: the police (110 or a police station), with the injuries examined and kept as
  evidence. The eighth blind set's test half: it was offered 交通违法处理.

The bot is a callable that records what it heard, as in ``test_repeat``.
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


@pytest.fixture(autouse=True)
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
        # The tenth blind set's dev half: 劏鸡 was filed as 㓥鸡; 𨋢 (a lift), 癐 (tired) became variants too.
        ("士多成日喺门口劏鸡", "士多成日喺门口劏鸡"),
        ("部𨋢坏咗，好癐", "部𨋢坏咗，好癐"),
        ("办护照要带什么", "办护照要带什么"),
        # The ninth blind set's dev half: a case number in full-width digits was "not heard complete".
        ("查进度 ２０２６１１２００００１５８", "查进度 20261120000158"),
        ("尾号ＡＢ１２，全角的“，”和“？”不变？", "尾号AB12，全角的“，”和“？”不变？"),
    ],
)
def test_traditional_characters_are_read_as_simplified(typed: str, read: str) -> None:
    assert simplified(typed) == read


async def test_the_dialogue_hears_simplified_characters() -> None:
    bot = Bot()
    await run_turn(bot, Incoming("sms-1", "我想問下辦護照要咩資料", "sms"))
    assert bot.heard == ["我想问下办护照要咩资料"]


async def test_despair_typed_in_traditional_characters_gets_the_crisis_line_first() -> None:
    """Read as typed, only the model heard a possible danger (every number); read simplified, it is despair."""
    bot = Bot()
    replies = await run_turn(bot, Incoming("tg-1", "我真的撐不下去了，覺得好絕望", "telegram"))
    assert "12356" in replies[0]["text"]
    assert replies[0]["custom"] == {"safety": "despair"}


async def test_despair_in_words_the_converter_changes_gets_the_crisis_line_first() -> None:
    """The ninth blind set's test half, on the phone: OpenCC writes 捱 as 挨, which the word list did not know (the
    report form's district question came instead of 12356)."""
    bot = Bot()
    text = "其实攞唔攞到都冇所谓啦 我都唔想再捱落去 反正冇人理我 个仔都唔听我电话"
    replies = await run_turn(bot, Incoming("voice-1", text, "voice"))
    assert "12356" in replies[0]["text"]
    assert replies[0]["custom"] == {"safety": "despair"}


@pytest.mark.parametrize(
    "text",
    [
        "上个礼拜在菜市场被一个档主打了，脸上还有伤，现在想问一下应该怎么处理",
        "前几天喺楼下俾人打咗，想问下点样处理",
        # The tenth blind set's test half: pushed down and kicked last week (a service question came).
        "上个星期在地铁站出口被一个男的推倒踢了几脚，手到现在还肿着，那人跑了，我该怎么办？",
    ],
)
async def test_violence_told_as_past_is_told_where_to_report_it(text: str) -> None:
    bot = Bot()
    replies = await run_turn(bot, Incoming("web-1", text, "webchat"))
    assert "110" in replies[0]["text"] and "派出所" in replies[0]["text"] and "验伤" in replies[0]["text"]
    assert "custom" not in replies[0]  # no urgent handoff: nothing happens now
    assert bot.heard == []


@pytest.mark.parametrize(
    "text", ["上个月楼下着火了，物业到现在都没处理", "电视剧里那个打老婆的情节好恶心", "昨天被护士打了一针，手好痛"]
)
async def test_other_past_dangers_go_to_the_dialogue(text: str) -> None:
    bot = Bot()
    replies = await run_turn(bot, Incoming("web-1", text, "webchat"))
    assert [r["text"] for r in replies] == ["好的"]
