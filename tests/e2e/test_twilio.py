"""Twilio voice and SMS against the real servers: signed requests as Twilio sends them, a stand-in REST API."""

from __future__ import annotations

import re
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from bot.actions.messages import HUMAN_SERVICE
from channels.twilio.speech import digit_by_digit
from tests.servers import Servers, running_servers
from tests.standins import StandIn
from tests.twilio_peer import (
    AGENT_NUMBER,
    TwilioPeer,
    VoiceCall,
    sms_to,
    spoken,
    twilio_env,
)

APPLICANT = "+8613912345678"  # the applicant of the fixture case 20261120000158 (tests/fixtures/cases.json)
WITHHELD = "+266696687"  # the caller id Twilio sends when the caller withheld it


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, twilio: StandIn) -> Iterator[Servers]:
    """Action and Rasa servers with both Twilio channels on."""
    with running_servers(tmp_path_factory.mktemp("twilio"), extra_env=twilio_env(twilio.url)) as running:
        yield running


@pytest.fixture
def peer(servers: Servers) -> TwilioPeer:
    """Twilio, posting to our server."""
    return TwilioPeer(servers.rasa_url)


def query(servers: Servers, sql: str, *args: object, database: str = "hotline.db") -> list[tuple[object, ...]]:
    """Rows of the servers' SQLite project database (or of their tracker store's)."""
    with sqlite3.connect(servers.workdir / database) as connection:
        return connection.execute(sql, args).fetchall()


TRACKERS = "hotline-trackers.db"


def gather_of(document: ET.Element) -> ET.Element:
    """The document's Gather (it must listen)."""
    gather = document.find("Gather")
    assert gather is not None, ET.tostring(document, encoding="unicode")
    return gather


def key_for(document: ET.Element, words: str) -> str:
    """The key the bot said selects the choice with ``words``."""
    heard = spoken(document)
    start = heard.index(f"“{words}")
    return heard[start:].split("或按", 1)[1][0]


# ---------------------------------------------------------------- voice


def test_a_call_is_answered_in_mandarin_with_an_open_question(peer: TwilioPeer) -> None:
    document = VoiceCall(peer, APPLICANT).start()
    gather = gather_of(document)
    assert gather.get("input") == "speech dtmf"
    assert gather.get("language") == "zh-CN"
    assert gather.get("speechTimeout") == "auto"
    assert gather.get("bargeIn") == "true"
    assert "普通护照签发" in (gather.get("hints") or "")  # hints come from the catalogue
    say = gather.find("Say")
    # Polly's Zhiyu (the default voice) speaks cmn-CN: Twilio refuses it with zh-CN.
    assert say is not None and (say.get("voice"), say.get("language")) == ("Polly.Zhiyu", "cmn-CN")
    assert "请问有什么可以帮您" in (say.text or "")


def test_materials_are_read_short_and_texted_in_full(peer: TwilioPeer, twilio: StandIn) -> None:
    call = VoiceCall(peer, "+8613700001234")
    call.start()
    asked = call.say("办护照要带什么")
    assert "哪种情况" in spoken(asked)
    answer = call.press(key_for(asked, "首次申领"))
    heard = spoken(answer)
    assert "居民身份证" in heard or "身份证" in heard
    assert "1." not in heard and "【" not in heard  # the short spoken form, not the written list
    texted = call.press(key_for(answer, "把完整清单发短信给我"))
    assert "短信" in spoken(texted) and "尾号幺二三四" in spoken(texted)  # how it comes, and to which number
    message = twilio.wait_for(sms_to("+8613700001234"))
    assert "首次申领" in message.form["Body"] and "1." in message.form["Body"]
    assert message.headers["Authorization"].startswith("Basic ")


def test_a_withheld_caller_who_asks_for_the_list_by_sms_hears_why_it_cannot_be_sent(
    peer: TwilioPeer, twilio: StandIn
) -> None:
    """The third blind set: "好 发个短信给我吧" after a materials answer got "没太听明白" from a withheld number."""
    call = VoiceCall(peer, WITHHELD)
    call.start()
    answer = call.press(key_for(call.say("办护照要带什么"), "首次申领"))
    assert "身份证" in spoken(answer) and "发短信给我" not in spoken(answer)  # no number to text: not offered
    asked = call.say("好 发个短信给我吧")
    assert "没有显示号码" in spoken(asked) and "短信" in spoken(asked)
    assert "身份证" in spoken(call.say("再说一遍"))  # the list once more, as offered
    assert not twilio.matching(sms_to(WITHHELD))


def test_a_caller_who_asks_for_the_list_by_sms_at_the_situation_question_gets_the_usual_case_texted(
    peer: TwilioPeer, twilio: StandIn
) -> None:
    """The fourth blind set: "好的 发到我手机上吧" at the situation question was taken for a wrong answer to it."""
    call = VoiceCall(peer, "+8613700005656")
    call.start()
    asked = call.say("办护照要带什么")
    assert "哪种情况" in spoken(asked) and "发短信给我" not in spoken(asked)  # its keys are the question's
    texted = call.say("好的 发到我手机上吧")
    assert "尾号五六五六" in spoken(texted)
    message = twilio.wait_for(sms_to("+8613700005656"))
    assert "首次申领" in message.form["Body"] and "1." in message.form["Body"]


def test_a_caller_who_did_not_hear_gets_the_last_answer_again(peer: TwilioPeer) -> None:
    call = VoiceCall(peer, "+8613700004444")
    call.start()
    asked = call.say("办护照要带什么")
    again = call.say("你说什么 我听不清 大声点")
    heard, before = spoken(again), spoken(asked)
    assert heard.startswith("好的，我再说一遍")
    assert before in heard  # the whole last answer, its choices included
    answer = call.press(key_for(again, "首次申领"))  # its keys still choose as before
    assert "身份证" in spoken(answer)


def test_a_choice_is_selected_by_its_key(peer: TwilioPeer) -> None:
    call = VoiceCall(peer, "+8613700002222")
    call.start()
    asked = call.say("办护照要带什么")
    answer = call.press(key_for(asked, "首次申领"))
    where = call.press(key_for(answer, "在哪里办理"))
    assert "出入境" in spoken(where)


def test_a_case_number_is_typed_on_the_keypad(peer: TwilioPeer) -> None:
    call = VoiceCall(peer, APPLICANT)
    call.start()
    asked = call.say("我想查一下办件进度")
    assert gather_of(asked).get("finishOnKey") == "#"  # a number may be typed, ended by #
    answer = call.press("20261120000158")
    if "后四位" in spoken(answer):  # ownership not yet proved by the caller id
        answer = call.press("5678")
    assert "审查" in spoken(answer)
    assert "发短信" not in spoken(answer)  # only material lists are offered by SMS


def test_zero_reaches_a_person_with_the_conversation_attached(peer: TwilioPeer) -> None:
    call = VoiceCall(peer, APPLICANT)
    call.start()
    document = call.press("0")
    dial = document.find("Dial")
    assert dial is not None and dial.get("action") == "/webhooks/voice/transfer-status"
    number = dial.find("Number")
    assert number is not None and number.text == AGENT_NUMBER
    assert f"conversation=voice-{call.sid}" in (number.get("url") or "")
    assert "转接人工" in spoken(document)
    whisper = peer.post(f"/webhooks/voice/whisper?conversation=voice-{call.sid}", call.params())
    assert "坐席台" in whisper.text


def test_asking_for_a_person_transfers_the_call(peer: TwilioPeer) -> None:
    call = VoiceCall(peer, APPLICANT)
    call.start()
    document = call.say("转人工")
    assert document.find("Dial") is not None


def test_saying_the_agent_key_transfers_the_call(peer: TwilioPeer) -> None:
    """The sixth blind set: a caller said "0" (the key the prompts name) and was asked what to do."""
    call = VoiceCall(peer, APPLICANT)
    call.start()
    assert call.say("0").find("Dial") is not None


def test_silence_reprompts_then_simplifies_then_transfers(peer: TwilioPeer) -> None:
    call = VoiceCall(peer, "+8613700003333")
    call.start()
    assert "没有听清" in spoken(call.silence())
    assert "按0" in spoken(call.silence())
    assert call.silence().find("Dial") is not None


def test_an_unanswered_transfer_becomes_a_callback_order(peer: TwilioPeer, servers: Servers) -> None:
    call = VoiceCall(peer, "+8613700004444")
    call.start()
    call.press("0")
    response = peer.post("/webhooks/voice/transfer-status", call.params(DialCallStatus="no-answer"))
    document = ET.fromstring(response.text)
    heard = spoken(document)
    assert "登记了回电" in heard and document.find("Hangup") is not None
    [(number, kind, summary, channel)] = query(
        servers, "select number, kind, summary, channel from work_orders where sender_id = ?", f"voice-{call.sid}"
    )
    assert digit_by_digit(str(number)[2:]) in heard  # the order number is read digit by digit
    assert (kind, channel) == ("回电", "voice")
    assert "137****4444" in str(summary) and "13700004444" not in str(summary)


def test_a_hang_up_ends_the_session(peer: TwilioPeer, servers: Servers) -> None:
    call = VoiceCall(peer, "+8613700005555")
    call.start()
    call.say("我想查一下办件进度")  # a form is active now
    assert call.hang_up().status_code == 204
    events = query(
        servers,
        "select type_name, action_name from events where sender_id = ? order by id",
        f"voice-{call.sid}",
        database=TRACKERS,
    )
    assert events[-3:] == [
        ("action", "action_session_start"),
        ("session_started", None),
        ("action", "action_listen"),
    ]


def test_a_repeated_request_gets_the_same_answer_once(peer: TwilioPeer, servers: Servers) -> None:
    call = VoiceCall(peer, "+8613700006666")
    call.start()
    params = call.params(SpeechResult="办户口迁移要什么材料", Confidence="0.9")
    first = peer.post(call.action, params)
    second = peer.post(call.action, params)
    assert first.text == second.text
    said = query(
        servers,
        "select count(*) from events where sender_id = ? and type_name = 'user'",
        f"voice-{call.sid}",
        database=TRACKERS,
    )
    assert said == [(1,)]


@pytest.mark.parametrize(
    ("signature", "tamper"),
    [("", False), ("forged-signature", False), (None, True)],
    ids=["unsigned", "forged", "altered"],
)
def test_requests_not_signed_by_twilio_are_refused(peer: TwilioPeer, signature: str | None, tamper: bool) -> None:
    call = VoiceCall(peer, APPLICANT)
    params = call.params(SpeechResult="转人工")
    signed = dict(params, SpeechResult="你好") if tamper else None
    response = peer.post("/webhooks/voice/webhook?turn=1", params, signature=signature, signed_params=signed)
    assert response.status_code == 403
    sms = peer.post("/webhooks/sms/webhook", {"Body": "hi"}, signature=signature, signed_params=signed)
    assert sms.status_code == 403


def test_another_account_is_refused(peer: TwilioPeer) -> None:
    stranger = TwilioPeer(peer.rasa_url, account_sid="AC" + "f" * 32)
    assert VoiceCall(stranger, APPLICANT).params()["AccountSid"] != peer.account_sid
    response = stranger.post("/webhooks/voice/webhook", VoiceCall(stranger, APPLICANT).params())
    assert response.status_code == 403


def test_malformed_requests_are_refused(peer: TwilioPeer) -> None:
    assert peer.post("/webhooks/voice/webhook", {"AccountSid": peer.account_sid}).status_code == 400
    call = VoiceCall(peer, APPLICANT)
    assert peer.post("/webhooks/voice/webhook?turn=abc", call.params()).status_code == 400
    assert peer.post("/webhooks/sms/webhook", {"AccountSid": peer.account_sid, "Body": "x"}).status_code == 400


# ---------------------------------------------------------------- SMS


def test_sms_is_acknowledged_empty_and_answered_with_numbered_choices(peer: TwilioPeer, twilio: StandIn) -> None:
    response = peer.sms("+8613600001111", "办护照要带什么")
    assert response.status_code == 200
    assert ET.fromstring(response.text).tag == "Response" and len(ET.fromstring(response.text)) == 0
    # The usual case's list (long: it may take several texts), then the question with its numbered choices.
    question = twilio.wait_for(lambda r: sms_to("+8613600001111")(r) and "哪种情况" in r.form["Body"])
    assert question.form["From"] == "+8602012345"
    peer.sms("+8613600001111", number_of(question.form["Body"], "换发"))
    reply = twilio.wait_for(lambda r: sms_to("+8613600001111")(r) and "在哪里办理" in r.form["Body"])
    assert "原普通护照" in reply.form["Body"]
    peer.sms("+8613600001111", number_of(reply.form["Body"], "在哪里办理"))
    where = twilio.wait_for(lambda r: sms_to("+8613600001111")(r) and "】办理地点：" in r.form["Body"])
    assert "广州市越秀区解放南路155号" in where.form["Body"]


def number_of(body: str, words: str) -> str:
    """The number an SMS told the citizen to reply with for ``words``."""
    line = next(line for line in body.splitlines() if line.startswith("回复") and words in line)
    return line.split("：")[0].removeprefix("回复")


def test_a_repeated_message_sid_is_answered_once(peer: TwilioPeer, twilio: StandIn) -> None:
    sender = "+8613600002222"
    first = peer.sms(sender, "你好", MessageSid="SM" + "d" * 32)
    again = peer.sms(sender, "你好", MessageSid="SM" + "d" * 32)
    assert first.status_code == again.status_code == 200
    twilio.wait_for(lambda r: sms_to(sender)(r) and "您好" in r.form["Body"])  # the answer to the first 你好
    peer.sms(sender, "谢谢")
    # The citizen's turns run one after another: once 谢谢 is answered, a second greeting would have been sent.
    twilio.wait_for(lambda r: sms_to(sender)(r) and "您好" not in r.form["Body"])
    greetings = [r for r in twilio.matching(sms_to(sender)) if "您好" in r.form["Body"]]
    assert len(greetings) == 1


@pytest.mark.parametrize(
    ("body", "extra", "expected"),
    [
        ("", {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/x.jpg"}, "只能处理文字"),
        ("   ", {}, "有什么可以帮您"),
        ("办" * 2001, {}, "太长"),
    ],
    ids=["media-only", "empty", "huge"],
)
def test_empty_media_and_huge_texts_get_a_polite_answer(
    peer: TwilioPeer, twilio: StandIn, body: str, extra: dict[str, str], expected: str
) -> None:
    sender = f"+86136000033{len(body) % 100:02d}"
    twilio.clear()
    assert peer.sms(sender, body, **extra).status_code == 200
    assert expected in twilio.wait_for(sms_to(sender)).form["Body"]


def test_a_leading_slash_does_not_inject_an_intent(peer: TwilioPeer, twilio: StandIn) -> None:
    sender = "+8613600004444"
    peer.sms(sender, "/request_human")
    body = twilio.wait_for(sms_to(sender)).form["Body"]
    assert HUMAN_SERVICE not in body


def test_delivery_is_retried_with_backoff_and_failure_is_logged_masked(
    peer: TwilioPeer, twilio: StandIn, servers: Servers
) -> None:
    peer.sms("+8613900000429", "你好")
    twilio.wait_for(lambda r: sms_to("+8613900000429")(r) and len(twilio.matching(sms_to("+8613900000429"))) == 2)
    peer.sms("+8613900000500", "你好")
    twilio.wait_for(lambda r: len(twilio.matching(sms_to("+8613900000500"))) == 3)
    # The failure is logged right after the last attempt: the log holds the whole delivery once it is there.
    log = servers.wait_for_log("rasa", "sms to 139****0500 not delivered after 3 attempt(s)")
    assert "13900000500" not in log


def test_no_phone_number_is_logged_unmasked(servers: Servers, peer: TwilioPeer, twilio: StandIn) -> None:
    peer.sms("+8613600005555", "你好")
    twilio.wait_for(sms_to("+8613600005555"))  # the turn's last act (a delivered SMS logs nothing after it)
    # A turn whose answer cannot be delivered ends with a line (after its last attempt): the marker to read up to.
    peer.sms("+8613600000500", "你好")
    logs = {
        "rasa.log": servers.wait_for_log("rasa", "sms to 136****0500 not delivered after 3 attempt(s)"),
        "actions.log": (servers.workdir / "actions.log").read_text(errors="replace"),
    }
    for name, text in logs.items():
        assert not re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", text), f"a phone number in {name}"
