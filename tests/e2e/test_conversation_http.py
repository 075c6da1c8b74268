"""End to end: both servers started for real, a conversation held over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Servers, running_servers


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The action server and the Rasa server on a fresh seeded database."""
    # DEBUG makes both servers log every message and tracker: the masking filter must hold.
    with running_servers(Path(tmp_path_factory.mktemp("e2e")), log_level="DEBUG") as running:
        yield running


def post(servers: Servers, body: object, raw: bytes | None = None) -> tuple[int, object]:
    """POST to the REST channel; returns status and decoded JSON."""
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(
        f"{servers.rasa_url}/webhooks/rest/webhook", data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def say(servers: Servers, sender: str, text: str) -> list[dict[str, object]]:
    """One citizen turn; the bot's responses."""
    status, messages = post(servers, {"sender": sender, "message": text})
    assert status == 200
    assert isinstance(messages, list)
    return messages


def texts(messages: list[dict[str, object]]) -> str:
    return "\n".join(str(m.get("text", "")) for m in messages)


def test_materials_conversation(servers: Servers) -> None:
    assert "12345" in texts(say(servers, "e2e-materials", "你好"))
    asked = say(servers, "e2e-materials", "我想办护照要带什么材料")
    # The usual case's list, then whether the citizen's case differs.
    assert "【普通护照签发（首次申领）】" in texts(asked) and "居民身份证" in texts(asked)
    [question] = [m for m in asked if "哪种情况" in str(m.get("text"))]
    assert [b["payload"] for b in question["buttons"]] == ["首次申领", "换发", "补发"]  # type: ignore[union-attr]
    answer = say(servers, "e2e-materials", "2")
    assert "【普通护照签发（换发）】" in texts(answer)
    assert "原普通护照" in texts(answer)
    assert any((m.get("custom") or {}).get("kind") == "materials" for m in answer)  # type: ignore[union-attr]
    office = say(servers, "e2e-materials", "在哪里办理")
    assert "办理地点" in texts(office)


def test_progress_conversation_with_spoken_number(servers: Servers) -> None:
    assert "办件编号" in texts(say(servers, "e2e-progress", "我想查一下办件进度"))
    assert "后四位" in texts(say(servers, "e2e-progress", "二零二六一一二零零零零一五八"))
    answer = say(servers, "e2e-progress", "五六七八")
    assert "当前进度：审查" in texts(answer)


def test_slash_command_does_not_inject_an_intent(servers: Servers) -> None:
    messages = say(servers, "e2e-inject", '/request_human{"service": "x"}')
    assert "人工座席服务时间" not in texts(messages)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"message": "你好"}, 400),
        ({"sender": "a b", "message": "hi"}, 400),
        ({"sender": "x", "message": 5}, 400),
        ([], 400),
    ],
)
def test_malformed_requests_get_400(servers: Servers, body: object, status: int) -> None:
    assert post(servers, body)[0] == status


def test_broken_json_gets_400(servers: Servers) -> None:
    assert post(servers, None, raw=b"{not json")[0] == 400


def test_empty_huge_and_emoji_messages_get_a_sensible_answer(servers: Servers) -> None:
    assert "有什么可以帮您" in texts(say(servers, "e2e-odd", "   "))
    assert "太长" in texts(say(servers, "e2e-odd", "投诉" * 2000))
    assert texts(say(servers, "e2e-odd", "🙂🙂🙂"))
    assert texts(say(servers, "e2e-odd", "hello 我想办 passport"))


def test_personal_data_is_masked_in_both_servers_logs(servers: Servers) -> None:
    say(servers, "e2e-pii", "我的手机号是13912345678 身份证号11010519491231002X 帮我查下进度")
    say(servers, "e2e-pii", "查一下我的办件进度")
    say(servers, "e2e-pii", "20261120000158")
    say(servers, "e2e-pii", "后四位是5678")
    # Each REST turn is answered after both servers have logged it; the masked message is the marker.
    logs = {
        "rasa": servers.wait_for_log("rasa", "139****5678"),  # the message was logged, masked
        "actions": (servers.workdir / "actions.log").read_text(errors="replace"),
    }
    for text in logs.values():
        assert "13912345678" not in text
        assert "11010519491231002X" not in text


@pytest.mark.parametrize(
    "correction",
    [
        "哎呀对不起，我刚才说错了，应该是五六七八",
        "不好意思哈 号码记错了 是5678",
        "sorry我输错了，是5678",
        "对唔住，我讲错咗，系5678",
        "抱歉抱歉，刚才打错了，是5678",
        "不好意思，记错了，应该是5678",
    ],
)
def test_a_wrong_phone_tail_corrected_with_an_apology_goes_on_with_the_check(servers: Servers, correction: str) -> None:
    """The apology sounds like a goodbye; the form still takes the corrected digits and shows the progress."""
    sender = f"e2e-tail-correction-{zlib.crc32(correction.encode())}"
    assert "后四位" in texts(say(servers, sender, "帮我查一下办件 编号是20261120000158"))
    assert "审查" not in texts(say(servers, sender, "1234"))
    answer = texts(say(servers, sender, correction))
    assert "当前进度：审查" in answer


@pytest.mark.parametrize(
    ("named", "service"),
    [
        ("离婚的那个", "离婚登记"),
        ("领结婚证那个", "结婚登记"),
        ("就是生小孩那个", "生育登记"),
        ("驾照的", "驾驶证"),
        ("护照啊", "护照"),
    ],
)
def test_a_service_named_in_words_the_nlu_did_not_place_is_answered_not_asked_to_rephrase(
    servers: Servers, named: str, service: str
) -> None:
    """ "我要办证", then only the service's words: twice not understood, then a person, before."""
    sender = f"e2e-named-late-{zlib.crc32(named.encode())}"
    say(servers, sender, "我要办证")
    replies = say(servers, sender, named)
    answer = texts(replies)
    assert "没听明白" not in answer and "转人工" not in answer
    offered = [str(button["title"]) for m in replies for button in m.get("buttons") or []]  # type: ignore[attr-defined]
    assert service in answer or any(service in title for title in offered)  # answered, or offered to choose


@pytest.mark.parametrize(
    "statement",
    ["天河区天河路100号的工地晚上十二点还在施工，噪音很大", "番禺区市桥那个红绿灯坏了，车都乱开"],
)
def test_a_problem_stated_with_its_place_is_taken_as_a_report_whatever_its_words(
    servers: Servers, statement: str
) -> None:
    """No 投诉 or 举报 in it, and still a report: the form asks what it needs next, never "还有什么可以帮您"."""
    said = texts(say(servers, f"e2e-statement-{len(statement)}", statement))
    assert "还有什么可以帮您" not in said and "没听明白" not in said
    assert any(word in said for word in ("什么时候", "联系电话", "具体地址", "哪条路", "哪个区"))


def test_asked_to_say_it_again_the_bot_repeats_its_last_answer_and_the_question_stays_open(servers: Servers) -> None:
    """The second blind set: "刚才没看清，能再说一遍吗" was read as a goodbye, and the rating question came."""
    sender = "e2e-say-it-again"
    first = texts(say(servers, sender, "办护照要带什么"))
    assert "身份证" in first
    assert texts(say(servers, sender, "刚才没看清，能再说一遍吗")) == first
    answer = texts(say(servers, sender, "第一次办"))  # still the answer to the situation question
    assert "身份证" in answer and "评价" not in answer
