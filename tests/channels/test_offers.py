"""Every offer the bot makes accepts every natural answer: yes/no words, the number, the ordinal, the button.

The offers are built as the actions build them; the answers are read as every connector reads them
(``select_choice``) before the NLU sees the text.
"""

from __future__ import annotations

import pytest

from bot.actions import messages
from bot.actions.common import choice_buttons, offer_buttons
from bot.actions.follow_up import SOLVED_OPTIONS
from channels.connector import Choice, offered_choices, select_choice
from channels.twilio.voice import SMS_CHOICE

YES = ["需要", "要", "好", "好的", "可以", "行", "嗯", "对", "是的", "麻烦你了", "好的，谢谢", "需要，麻烦你了", "嗯嗯"]
YES += [
    "冇问题",
    "冇问题，就咁啦",
    "好啊，唔该晒",
]  # Cantonese (the third blind set: read as a goodbye at the read-back)
NO = ["不用", "不要", "算了", "唔使", "不用了，谢谢", "不需要"]
# A yes that goes on only to go ahead with the offer is a yes; one that goes on to something else is no answer.
GO_AHEAD = ["好吧，帮我催一下", "可以 你就发过来吧", "嗯，登记一下", "那就催一下吧", "发给我吧", "好 发个短信给我吧"]
# The fourth blind set: the ones the offer is about named (佢哋, 他们), and 办 for the 督办 itself.
GO_AHEAD += ["好啊 帮我催下佢哋啦", "好的，帮我催一下他们", "那行吧，办一个", "可以，帮我办一下"]
GO_AHEAD += ["需要，尽快啊，我等着这笔钱交房租"]  # its test half: hurried, with why
GO_AHEAD += [
    "哦 就是帮我催一下 好好好 那你帮我催",
    "需要，督办吧",
]  # and its test half: the offer named  # the fifth blind set, on the phone, once 督办 was explained
SOMETHING_ELSE = ["好的，我还想问一下护照", "可以，帮我转人工", "行，那个社保卡怎么办", "算了 不用催了"]
SOMETHING_ELSE += ["好，我要办护照"]
OFFERS = {
    "督办": offer_buttons(*messages.SUPERVISION_CHOICES),
    "转人工": offer_buttons(*messages.POLICY_HUMAN_CHOICES),
    "确认提交": choice_buttons(messages.READBACK_CHOICES, ("yes", "no")),
    "联系电话": choice_buttons([*messages.VERIFIED_PHONE_CHOICES, messages.ANONYMOUS_CHOICE], ("yes", "no")),
    "回访": choice_buttons(SOLVED_OPTIONS, ("yes", "no")),
}


def choices_of(buttons: list[dict]) -> list[Choice]:
    return offered_choices([{"text": "？", "buttons": buttons}])


@pytest.mark.parametrize("offer", OFFERS)
@pytest.mark.parametrize("answer", [*YES, "1", "一", "第一个", "第1个"])
def test_yes_number_and_ordinal_select_the_first_option(offer: str, answer: str) -> None:
    choices = choices_of(OFFERS[offer])
    assert select_choice(answer, choices) == choices[0]


@pytest.mark.parametrize("offer", OFFERS)
@pytest.mark.parametrize("answer", [*NO, "2", "二", "第二个"])
def test_no_number_and_ordinal_select_the_second_option(offer: str, answer: str) -> None:
    choices = choices_of(OFFERS[offer])
    assert select_choice(answer, choices) == choices[1]


@pytest.mark.parametrize("offer", OFFERS)
def test_each_button_selects_its_own_choice_and_nothing_else(offer: str) -> None:
    choices = choices_of(OFFERS[offer])
    for choice in choices:
        assert select_choice(choice.title, choices) == choice


def test_the_yes_no_offers_send_the_answer_itself_not_words_the_nlu_could_misread() -> None:
    for offer in ("督办", "转人工"):
        assert [c.payload for c in choices_of(OFFERS[offer])] == ["/affirm", "/deny"]


@pytest.mark.parametrize("offer", OFFERS)
@pytest.mark.parametrize("typed", ["/restart", "/affirm", "／restart", " /1", "/deny"])
def test_text_that_starts_with_a_slash_is_never_an_answer(offer: str, typed: str) -> None:
    assert select_choice(typed, choices_of(OFFERS[offer])) is None


@pytest.mark.parametrize("words", ["对不起我说错了", "要办护照", "我想问一下社保卡", "好像不对"])
def test_other_words_are_not_an_answer(words: str) -> None:
    assert select_choice(words, choices_of(OFFERS["督办"])) is None


@pytest.mark.parametrize("offer", OFFERS)
@pytest.mark.parametrize("answer", GO_AHEAD)
def test_a_yes_that_goes_on_to_go_ahead_selects_the_first_option(offer: str, answer: str) -> None:
    choices = choices_of(OFFERS[offer])
    assert select_choice(answer, choices) == choices[0]


@pytest.mark.parametrize("words", SOMETHING_ELSE)
def test_a_yes_that_goes_on_to_something_else_is_not_an_answer(words: str) -> None:
    assert select_choice(words, choices_of(OFFERS["督办"])) is None


def test_on_the_phone_a_yes_to_the_sms_offer_texts_the_list() -> None:
    choices = [SMS_CHOICE, *choices_of(choice_buttons(["在哪里办理", "办理时间"]))]
    for answer in ("好的", "要", "可以", "1", "第一个", "可以呀，你发给我", "好 发短信给我吧"):
        assert select_choice(answer, choices) == SMS_CHOICE


def test_ratings_are_chosen_by_number_or_words_and_a_plain_yes_is_not_a_rating() -> None:
    from bot.core.scales import RATINGS

    choices = choices_of(choice_buttons(RATINGS))
    assert select_choice("1", choices) == choices[0]
    assert select_choice("不满意", choices) == choices[2]
    assert select_choice("好的", choices) is None


@pytest.mark.parametrize(
    "answer",
    [
        "这个电话就行",
        "打这个电话",
        "就用我这个号码",
        "这个号码就行",
        "用返我而家打嚟呢个号码啦",  # the fourth blind set: Cantonese, asked again and again
        "就用我现在打的这个号码吧",
        "我这个电话就行",  # the fourth blind set's test half: asked again and again on the phone
    ],
)
def test_the_number_offered_is_accepted_in_the_words_people_use(answer: str) -> None:
    choices = choices_of(OFFERS["联系电话"])
    assert select_choice(answer, choices) == choices[0]
