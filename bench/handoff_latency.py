"""How long a handoff's messages take to arrive, measured end to end on running servers.

- agent → citizen: from the agent's POST to the entry appearing in the citizen's web chat stream;
- citizen → agent: from the citizen's POST to the console's event stream signalling it;
- baseline, same run: a bot turn in the web chat (the citizen's POST to the bot's answer in the stream).

Prints medians and 95th percentiles in milliseconds. Usage: ``python bench/handoff_latency.py [ROUNDS]``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.http_clients import Agent, WebCitizen, create_agent, read_events
from tests.servers import running_servers


def first_event(opener: urllib.request.OpenerDirector, url: str, wanted: Callable[[str, str], bool]) -> threading.Event:
    """An event set when the stream at ``url`` says something ``wanted`` (the stream is open before return)."""
    arrived, opened = threading.Event(), threading.Event()

    def listen() -> None:
        events = read_events(opener, url, 30.0)
        opened.set()
        for kind, data in events:
            if wanted(kind, data):
                arrived.set()
                return

    threading.Thread(target=listen, daemon=True).start()
    opened.wait(10)
    time.sleep(0.05)  # the server has subscribed the stream before the probe is sent (bench only)
    return arrived


def timed(send: Callable[[], object], arrived: threading.Event) -> float:
    """Milliseconds from ``send`` to ``arrived``."""
    start = time.perf_counter()
    send()
    if not arrived.wait(30):
        raise RuntimeError("nothing arrived within 30 s")
    return (time.perf_counter() - start) * 1000


def summary(name: str, values: list[float]) -> str:
    """Median and 95th percentile."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"{name:<28} median {statistics.median(values):7.1f} ms   p95 {p95:7.1f} ms   (n={len(values)})"


def main(rounds: int) -> None:
    """Run the three measurements and print them."""
    env = {"AGENT_HOURS": "00:00-24:00", "REDIS_URL": "", "HANDOFF_MAX_WAIT_S": "3600", "LOG_LEVEL": "WARNING"}
    with tempfile.TemporaryDirectory() as workdir, running_servers(Path(workdir), extra_env=env) as servers:
        create_agent(servers.env["DATABASE_URL"], "bench", "测速")
        agent = Agent(servers.rasa_url, "bench")
        agent.login()
        baseline_citizen = WebCitizen(servers.rasa_url)
        citizen = WebCitizen(servers.rasa_url)
        citizen.say("转人工")
        citizen.wait_for_text("正在为您转接人工客服")
        handoff = agent.wait_for(lambda: agent.queue()["waiting"], "the handoff")[0]
        agent.post(f"/handoffs/{handoff['id']}/take")
        events = f"{servers.rasa_url}/chat/api/events"
        path = f"/handoffs/{handoff['id']}/messages"
        bot, to_citizen, to_agent = [], [], []
        for n in range(rounds):
            seen = len(baseline_citizen.entries())
            arrived = first_event(
                baseline_citizen.opener,
                f"{events}?session={baseline_citizen.session}&after={seen}",
                lambda kind, data: kind == "entry" and '"role": "bot"' in data,
            )
            bot.append(timed(lambda: baseline_citizen.say("办护照要带什么"), arrived))
            seen = len(citizen.entries())
            text = f"测速消息{n}"
            arrived = first_event(
                citizen.opener,
                f"{events}?session={citizen.session}&after={seen}",
                lambda kind, data, text=text: kind == "entry" and text in data,
            )
            message = {"text": text}
            to_citizen.append(timed(lambda message=message: agent.post(path, message), arrived))
            arrived = first_event(
                agent.opener,
                f"{servers.rasa_url}/agent/api/events",
                lambda kind, data: kind == "handoff" and str(handoff["id"]) in data,
            )
            to_agent.append(timed(lambda: citizen.say("好的，谢谢"), arrived))
        print(summary("baseline: bot turn (web)", bot))
        print(summary("agent → citizen (web chat)", to_citizen))
        print(summary("citizen → agent (console)", to_agent))
        base = statistics.median(bot)
        print(
            f"ratios to the baseline (medians): agent→citizen {statistics.median(to_citizen) / base:.2f}, "
            f"citizen→agent {statistics.median(to_agent) / base:.2f}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
