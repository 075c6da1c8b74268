"""On real servers: /metrics moves with turns on two channels and refusals; one citizen's burst in order, fast."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.core.settings import get_settings
from tests.e2e.test_webchat import Hotline, call, event_stream, history, new_session, send, user_events
from tests.servers import running_servers

REDIS_URL = "redis://127.0.0.1:6379/0"
BURST = 20


@pytest.fixture(scope="module", params=["redis", "in-process"])
def hotline(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hotline]:
    """Both servers on a fresh database: with Redis (locks and shared state of several instances), and without."""
    workdir = Path(tmp_path_factory.mktemp("metrics"))
    redis_url = REDIS_URL if request.param == "redis" else ""
    with running_servers(workdir, extra_env={"REDIS_URL": redis_url, "METRICS_TOKEN": ""}) as servers:
        yield Hotline(servers, None, get_settings().tracker_store_url)  # type: ignore[arg-type]


def scrape(hotline: Hotline) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by (name, labels), as Prometheus reads them."""
    with urllib.request.urlopen(hotline.url + "/metrics", timeout=10) as answer:
        assert answer.status == 200
        text = answer.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def moved(before: dict[Any, float], after: dict[Any, float], name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def post_raw(hotline: Hotline, path: str, body: bytes) -> int:
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(hotline.url + path, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_turns_on_two_channels_and_refused_requests_move_the_counters(hotline: Hotline) -> None:
    before = scrape(hotline)
    status, replies = call(hotline, "POST", "/webhooks/rest/webhook", {"sender": "metrics-rest", "message": "你好"})
    assert status == 200 and replies
    session = new_session(hotline)
    with event_stream(hotline, session) as stream:
        assert send(hotline, session, "你好")[0] == 202
        stream.events_until(lambda kind, data: kind == "typing" and not data["on"])
    assert post_raw(hotline, "/webhooks/rest/webhook", b"{not json") == 400
    assert post_raw(hotline, "/webhooks/rest/webhook", b"x" * (get_settings().max_request_bytes + 1)) == 413
    unknown = {"session": "0" * 32, "text": "你好", "client_id": "abcdefgh"}
    assert call(hotline, "POST", "/chat/api/messages", unknown)[0] == 404
    after = scrape(hotline)

    assert moved(before, after, "hotline_bot_turns_total", channel="rest") == 1
    assert moved(before, after, "hotline_bot_turns_total", channel="webchat") == 1
    assert moved(before, after, "hotline_turn_seconds_count", channel="rest") == 1
    assert moved(before, after, "hotline_turn_seconds_count", channel="webchat") == 1
    assert moved(before, after, "hotline_turn_seconds_bucket", channel="webchat", le="+Inf") == 1
    assert moved(before, after, "hotline_webhook_rejections_total", channel="rest", reason="bad_json") == 1
    assert moved(before, after, "hotline_webhook_rejections_total", channel="rest", reason="too_large") == 1
    assert moved(before, after, "hotline_webhook_rejections_total", channel="webchat", reason="unknown_session") == 1
    assert after[("hotline_handoffs_waiting", ())] == 0
    assert after[("hotline_outbox_pending", ())] == 0
    assert after[("hotline_metrics_source_up", (("source", "outbox"),))] == 1


def test_metrics_are_not_served_to_a_forwarded_request(hotline: Hotline) -> None:
    request = urllib.request.Request(hotline.url + "/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403


def test_a_burst_of_one_citizen_is_answered_in_arrival_order_far_faster_than_a_second_each(hotline: Hotline) -> None:
    session = new_session(hotline)
    texts = [f"你好，这是我的第{n}条消息" for n in range(1, BURST + 1)]
    finished = 0

    def all_turns_over(kind: str, data: dict[str, Any]) -> bool:
        nonlocal finished
        finished += kind == "typing" and not data["on"]
        return finished == BURST

    with event_stream(hotline, session, timeout_s=90) as stream:  # listening before the burst: nothing is missed
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=BURST) as pool:
            answers = list(pool.map(lambda text: send(hotline, session, text), texts))
        stream.events_until(all_turns_over)
        elapsed = time.monotonic() - started
    where = hotline.servers.env["REDIS_URL"] or "in-process"
    print(f"\nburst of {BURST} web chat messages of one citizen answered in {elapsed:.2f}s ({where})")

    assert [status for status, _ in answers] == [202] * BURST
    arrival = [text for _, text in sorted((body["seq"], text) for (_, body), text in zip(answers, texts, strict=True))]
    processed = [event["text"] for event in user_events(hotline, session)]
    assert processed == arrival  # the bot took them in the order the server took them
    entries = history(hotline, session)
    citizen_seqs = [entry["seq"] for entry in entries if entry["role"] == "citizen"]
    assert len(citizen_seqs) == BURST and len([e for e in entries if e["role"] == "bot"]) >= BURST
    assert elapsed < 10.0, elapsed  # Rasa's lock polling answered about one message a second (≈ 20 s)
