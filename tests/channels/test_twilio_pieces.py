"""What the Twilio connectors do without a server: URLs, speech, SMS rendering, choices, hours."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.core.clock import UTC, china
from bot.handoff.service_hours import InvalidHours, agents_on_duty, describe_hours
from channels.connector import Choice, full_answer, offered_choices, select_choice, spoken_texts
from channels.text import asks_to_repeat, split_text
from channels.twilio.prompts import asks_for_digits
from channels.twilio.requests import rebuild_url
from channels.twilio.sms import SMS_PART_CHARS, render_sms
from channels.twilio.speech import digit_by_digit, speakable, spoken_choices
from channels.twilio.voice import asks_for_an_agent, asks_for_text

ANSWER_TURN = [
    {"text": "【护照 首次申领】所需材料：\n1. 居民身份证原件\n2. 近期证件照", "buttons": []},
    {"custom": {"kind": "materials", "short": "办护照要带身份证和照片。"}},
    {
        "text": "还需要什么帮助？",
        "buttons": [{"title": "1. 在哪里办理", "payload": "在哪里办理"}, {"title": "2. 转人工", "payload": "转人工"}],
    },
]


def test_public_base_url_wins_over_the_request() -> None:
    url = rebuild_url("/webhooks/sms/webhook", {"host": "10.0.0.5:5005"}, "http", "https://hotline.example.cn", True)
    assert url == "https://hotline.example.cn/webhooks/sms/webhook"


def test_forwarded_scheme_and_host_are_used_behind_a_proxy() -> None:
    headers = {"host": "10.0.0.5:5005", "x-forwarded-proto": "https, http", "x-forwarded-host": "12345.gov.cn"}
    assert rebuild_url("/webhooks/voice/webhook?turn=2", headers, "http", "", True) == (
        "https://12345.gov.cn/webhooks/voice/webhook?turn=2"
    )


def test_forwarded_headers_are_ignored_when_not_trusted() -> None:
    headers = {"host": "10.0.0.5:5005", "x-forwarded-proto": "https", "x-forwarded-host": "evil.example"}
    assert rebuild_url("/x", headers, "http", "", False) == "http://10.0.0.5:5005/x"


def test_long_numbers_are_read_digit_by_digit() -> None:
    assert digit_by_digit("20261120") == "二零二六 幺幺二零"
    spoken = speakable("您的办件20261120000158正在审查，11月28日前办结。")
    assert "二零二六 幺幺二零 零零零幺 五八" in spoken
    assert "11月28日" in spoken  # dates stay dates


def test_speech_never_reads_a_full_phone_or_id_number() -> None:
    spoken = speakable("已验证手机13812345678，身份证110105199001011234。")
    assert "13812345678" not in spoken and "110105199001011234" not in spoken
    assert "尾号五六七八" in spoken and "身份证尾号幺二三四" in spoken


def test_speech_drops_list_marks_and_brackets() -> None:
    assert speakable("【材料】\n1. 身份证\n2. 照片") == "材料。身份证。照片。"


def test_choices_are_spoken_with_their_keys() -> None:
    assert spoken_choices(["在哪里办理", "转人工"]) == "您可以说“在哪里办理”，或按1；说“转人工”，或按2。"


def test_the_short_form_replaces_the_full_list_when_spoken() -> None:
    assert spoken_texts(ANSWER_TURN) == ["办护照要带身份证和照片。", "还需要什么帮助？"]
    assert full_answer(ANSWER_TURN) == ANSWER_TURN[0]["text"]


def test_the_usual_case_list_before_a_situation_question_is_not_offered_by_text() -> None:
    # Offered, the texting took key 1, which the situation question needs; the caller's own list comes next.
    usual = {"custom": {"kind": "materials", "short": "办护照要带身份证和照片。", "usual_case": True}}
    question = {"text": "您属于哪种情况？", "buttons": [{"title": "1. 首次申领", "payload": "首次申领"}]}
    assert full_answer([ANSWER_TURN[0], usual, question]) is None
    # asked for by text, though, it is the list to send
    assert full_answer([ANSWER_TURN[0], usual, question], usual_case=True) == ANSWER_TURN[0]["text"]


@pytest.mark.parametrize("said", ["好 发个短信给我吧", "好的 发到我手机上吧", "需要 发这个号就行", "发我这个电话吧"])
def test_asking_for_the_list_by_text_is_heard(said: str) -> None:
    """The fourth blind set: "需要 发这个号就行" was not heard as asking for the SMS."""
    assert asks_for_text(said)


@pytest.mark.parametrize("said", ["在哪里办理", "办护照要带什么", "这个号码是我的吗"])
def test_other_words_do_not_ask_for_the_list_by_text(said: str) -> None:
    assert not asks_for_text(said)


def test_sms_numbers_the_choices() -> None:
    [body] = render_sms(ANSWER_TURN)
    assert body.endswith("回复1：在哪里办理\n回复2：转人工")
    assert "居民身份证原件" in body


def test_long_sms_answers_are_split_into_parts_of_sms_size() -> None:
    long_turn = [{"text": "\n".join(f"{n}. 材料说明" + "很长的说明。" * 10 for n in range(40))}]
    parts = render_sms(long_turn)
    assert len(parts) > 1 and all(len(part) <= SMS_PART_CHARS for part in parts)
    assert "".join(parts).replace("\n", "") == long_turn[0]["text"].replace("\n", "")


def test_split_cuts_a_sentence_longer_than_a_part() -> None:
    parts = split_text("字" * 25, 10)
    assert parts == ["字" * 10, "字" * 10, "字" * 5]


@pytest.mark.parametrize("reply", ["2", "二", "第二个", "转人工"])
def test_replies_select_offered_choices(reply: str) -> None:
    choices = offered_choices(ANSWER_TURN)
    assert select_choice(reply, choices) == Choice("转人工", "转人工")


def test_a_new_request_is_not_mistaken_for_a_choice() -> None:
    assert select_choice("我想问一下社保卡在哪里办理", offered_choices(ANSWER_TURN)) is None
    assert select_choice("5", offered_choices(ANSWER_TURN)) is None


def test_keypad_entry_is_expected_when_the_bot_asks_for_a_number() -> None:
    assert asks_for_digits(["请说一下办件编号。"])
    assert not asks_for_digits(["请问有什么可以帮您？"])
    # Only the question itself counts: a read-back or a list that mentions 号码 or 身份证 before it does not.
    assert not asks_for_digits(["联系电话：尾号5678的号码。地址：天河路100号。没问题请说“确认提交”。"])
    assert not asks_for_digits(["办护照要带身份证和照片。还想了解什么？"])
    assert asks_for_digits(["好的。请说出手机号码的后四位。"])


def test_agent_hours() -> None:
    assert agents_on_duty("08:00-20:00", china(2026, 11, 28, 8, 0))
    assert not agents_on_duty("08:00-20:00", china(2026, 11, 28, 20, 1))
    assert agents_on_duty("22:00-06:00", china(2026, 11, 28, 23, 30))
    assert agents_on_duty("00:00-24:00", china(2026, 11, 28, 23, 59, 59))
    # The hours are China's, whatever the zone of the moment: 00:30 UTC is 08:30 in China, 12:30 UTC 20:30.
    assert agents_on_duty("08:00-20:00", datetime(2026, 11, 28, 0, 30, tzinfo=UTC))
    assert not agents_on_duty("08:00-20:00", datetime(2026, 11, 28, 12, 30, tzinfo=UTC))
    with pytest.raises(ValueError, match="naive"):
        agents_on_duty("08:00-20:00", datetime(2026, 11, 28, 9))
    assert describe_hours("08:30-20:00") == "每天8:30到20:00"
    with pytest.raises(InvalidHours):
        agents_on_duty("8点到20点", china(2026, 11, 28, 9))


@pytest.mark.parametrize(
    "speech",
    [
        "你说什么 我听不清 大声点",
        "喂 喂 没听清楚 再说一遍",
        "麻烦你讲慢点",
        "可以重复一下吗",
        "您刚才说什么",
        "你说得太快了 我跟不上 再说一次",
    ],
)
def test_a_caller_who_did_not_hear_asks_to_hear_it_again(speech: str) -> None:
    assert asks_to_repeat(speech)


@pytest.mark.parametrize(
    "speech",
    [
        "楼上装修太吵我都听不清电视",  # a complaint that says 听不清
        "公交车开得太快了很危险",  # a complaint that says 太快了
        "再说一遍护照要什么",  # a new question: the bot answers it
        "办护照要带什么",
        "",
    ],
)
def test_a_request_or_a_complaint_is_not_a_request_to_repeat(speech: str) -> None:
    assert not asks_to_repeat(speech)


@pytest.mark.parametrize(
    ("digits", "speech", "agent"),
    [
        ("0", "", True),
        # The sixth blind set: the caller says the key the prompt names (a transcript of "零" is "0").
        ("", "0", True),
        ("", "零", True),
        ("", "按零", True),
        ("", "幺零", False),
        ("", "我要查二零二六一一二零零零零一五八", False),
        ("1", "", False),
    ],
)
def test_the_agent_key_pressed_or_said(digits: str, speech: str, agent: bool) -> None:
    assert asks_for_an_agent(digits, speech) is agent
