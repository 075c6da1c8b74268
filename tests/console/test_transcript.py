"""What the console shows of a conversation: the transcript, masked until revealed, and the queue's summary line."""

from __future__ import annotations

from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, SlotSet, UserUttered
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker

from console.transcript import summary_of, transcript_of


def _tracker() -> DialogueStateTracker:
    slots = [TextSlot(name, mappings=[]) for name in ("service", "case_number", "order_number", "district")]
    tracker = DialogueStateTracker("web-1", slots)
    for event in (
        UserUttered("你好", intent={"name": "greet"}, timestamp=1764900000),
        BotUttered("您好，请问有什么可以帮您？", timestamp=1764900001),
        UserUttered(
            "查一下办件20261120000158，我电话13912345678", intent={"name": "ask_progress"}, timestamp=1764900002
        ),
        SlotSet("case_number", "20261120000158", timestamp=1764900003),
        ActionExecuted("action_listen", timestamp=1764900004),
        UserUttered("/request_human", intent={"name": "request_human"}, timestamp=1764900005),
        ConversationPaused(timestamp=1764900006),
        BotUttered("我是客服王芳", metadata={"agent": "王芳"}, timestamp=1764900007),
    ):
        tracker.update(event)
    return tracker


def test_the_transcript_shows_who_said_what_with_numbers_masked_until_revealed() -> None:
    entries = transcript_of(_tracker())
    assert [(e["role"], e["text"], e["agent"]) for e in entries] == [
        ("citizen", "你好", None),
        ("bot", "您好，请问有什么可以帮您？", None),
        ("citizen", "查一下办件20261120000158，我电话139****5678", None),
        ("system", "转人工：智能助手暂停", None),
        ("agent", "我是客服王芳", "王芳"),
    ]
    assert entries[0]["at"] == "2025-12-05T10:00:00+08:00"  # China time
    revealed = transcript_of(_tracker(), reveal=True)
    assert revealed[2]["text"] == "查一下办件20261120000158，我电话13912345678"
    assert [e["text"] for e in transcript_of(_tracker(), limit=2)] == ["转人工：智能助手暂停", "我是客服王芳"]


def test_the_summary_names_the_last_meaningful_intent_the_case_and_the_last_words_masked() -> None:
    summary = summary_of(_tracker())
    assert summary["intent"] == "查办件进度"
    assert summary["case"] == "20261120000158"
    assert summary["line"] == "查办件进度 · 20261120000158 · “查一下办件20261120000158，我电话139****5678”"


def test_without_a_tracker_the_summary_is_the_latest_words() -> None:
    assert summary_of(None, "我要投诉 13912345678") == {"line": "“我要投诉 139****5678”"}
    assert summary_of(None) == {"line": ""}
