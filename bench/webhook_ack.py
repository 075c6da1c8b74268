"""Webhook acknowledgement latency per channel while the bot is busy, against the REST channel's turn.

Starts the action and Rasa servers with every channel on (Twilio's and Telegram's APIs at local
stand-ins), keeps the bot busy with concurrent REST conversations, and meanwhile posts signed
Twilio SMS webhooks, Telegram updates, web chat messages and phone-call starts, one at a time.
Each probe's time is from sending the request to its complete HTTP answer (the acknowledgement;
the reply itself goes out afterwards). The baseline, measured in the same run under the same load,
is a REST turn, which answers only when the bot's turn is done.

Usage: python bench/webhook_ack.py [--probes 200] [--load 6]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
import uuid
from pathlib import Path

import aiohttp
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.servers import running_servers
from tests.standins import running_standin
from tests.telegram_api import BotApi, telegram_env
from tests.twilio_peer import ACCOUNT_SID, AUTH_TOKEN, HOTLINE_NUMBER, PUBLIC_HOST, twilio_api, twilio_env

# The servers' database and logs, kept for a look after the run.
WORKDIR = Path(__file__).resolve().parent.parent / "var" / "bench" / "webhook_ack"
TELEGRAM_TOKEN = "4242:bench"
TELEGRAM_SECRET = "bench-secret"
LOAD_TURNS = ["你好", "我想办护照需要带什么材料", "1", "在哪里办理", "社保卡掉了怎么补办", "查一下我的办件进度", "谢谢"]


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def twilio_signed(path: str, params: dict[str, str]) -> dict[str, str]:
    """Headers of a request signed as Twilio signs it, through the proxy."""
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"https://{PUBLIC_HOST}{path}", params)
    return {"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https", "X-Forwarded-Host": PUBLIC_HOST}


class Probes:
    """One acknowledgement probe per channel."""

    def __init__(self, session: aiohttp.ClientSession, rasa_url: str) -> None:
        self.session = session
        self.url = rasa_url
        self.counter = itertools.count(1)

    async def timed(self, method: str, path: str, **kwargs: object) -> float:
        """Milliseconds until the complete answer; the answer must be a success."""
        start = time.perf_counter()
        async with self.session.request(method, self.url + path, **kwargs) as response:  # type: ignore[arg-type]
            await response.read()
            assert response.status < 300, (path, response.status, await response.text())
        return (time.perf_counter() - start) * 1000

    async def sms(self) -> float:
        """A text message from a new citizen."""
        n = next(self.counter)
        params = {
            "MessageSid": f"SM{uuid.uuid4().hex}",
            "AccountSid": ACCOUNT_SID,
            "From": f"+86136{n:08d}",
            "To": HOTLINE_NUMBER,
            "Body": "办护照要带什么",
            "NumMedia": "0",
        }
        headers = twilio_signed("/webhooks/sms/webhook", params)
        return await self.timed("POST", "/webhooks/sms/webhook", data=params, headers=headers)

    async def telegram(self) -> float:
        """A Telegram text update."""
        n = next(self.counter)
        update = {
            "update_id": 10_000 + n,
            "message": {
                "message_id": n,
                "date": int(time.time()),
                "chat": {"id": 50_000 + n, "type": "private"},
                "from": {"id": 50_000 + n, "is_bot": False, "first_name": "市民"},
                "text": "办护照要带什么",
            },
        }
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        return await self.timed("POST", "/webhooks/telegram/webhook", json=update, headers=headers)

    async def web_chat(self) -> float:
        """A web chat message from a new citizen (opening the session is not timed)."""
        async with self.session.post(self.url + "/chat/api/sessions") as response:
            web_session = (await response.json())["session"]
        body = {"session": web_session, "text": "办护照要带什么", "client_id": f"bench-{uuid.uuid4().hex[:16]}"}
        return await self.timed("POST", "/chat/api/messages", json=body)

    async def call_start(self) -> float:
        """A phone call being answered (the greeting TwiML)."""
        params = {
            "CallSid": f"CA{uuid.uuid4().hex}",
            "AccountSid": ACCOUNT_SID,
            "From": f"+86137{next(self.counter):08d}",
            "To": HOTLINE_NUMBER,
            "CallStatus": "ringing",
        }
        headers = twilio_signed("/webhooks/voice/webhook", params)
        return await self.timed("POST", "/webhooks/voice/webhook", data=params, headers=headers)

    async def rest_turn(self) -> float:
        """Baseline: a REST turn, answered when the bot's turn is done."""
        body = {"sender": f"probe-{next(self.counter)}", "message": "办护照要带什么"}
        return await self.timed("POST", "/webhooks/rest/webhook", json=body)


async def keep_busy(session: aiohttp.ClientSession, url: str, stop: asyncio.Event, turns: list[float]) -> None:
    """One citizen after another talking to the REST channel until told to stop."""
    while not stop.is_set():
        sender = f"load-{uuid.uuid4().hex[:8]}"
        for text in LOAD_TURNS:
            if stop.is_set():
                return
            start = time.perf_counter()
            async with session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}) as r:
                await r.read()
            turns.append((time.perf_counter() - start) * 1000)


async def measure(rasa_url: str, probes: int, load: int) -> dict[str, list[float]]:
    """Every probe ``probes`` times, interleaved, with ``load`` busy conversations running."""
    timeout = aiohttp.ClientTimeout(total=60)
    # A new connection per request, as the platforms' webhook calls arrive (and no keep-alive races).
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        probe = Probes(session, rasa_url)
        for warm in (probe.sms, probe.telegram, probe.web_chat, probe.call_start, probe.rest_turn):
            await warm()
        stop = asyncio.Event()
        load_turns: list[float] = []
        workers = [asyncio.create_task(keep_busy(session, rasa_url, stop, load_turns)) for _ in range(load)]
        results: dict[str, list[float]] = {name: [] for name in ("sms", "telegram", "web_chat", "call_start", "rest")}
        kinds = {
            "sms": probe.sms,
            "telegram": probe.telegram,
            "web_chat": probe.web_chat,
            "call_start": probe.call_start,
            "rest": probe.rest_turn,
        }
        for _ in range(probes):
            for name, run in kinds.items():
                results[name].append(await run())
        stop.set()
        await asyncio.gather(*workers)
        results["load_turns"] = load_turns
        return results


def main() -> None:
    """Run the benchmark and print p50/p99 per channel, and the ratio to the REST turn."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=200, help="probes per channel")
    parser.add_argument("--load", type=int, default=6, help="concurrent busy conversations")
    args = parser.parse_args()
    bot_api = BotApi(TELEGRAM_TOKEN)
    with running_standin(twilio_api) as twilio, running_standin(bot_api) as telegram:
        env = {
            **twilio_env(twilio.url),
            **telegram_env(telegram.url, TELEGRAM_TOKEN, TELEGRAM_SECRET),
            "LOG_LEVEL": "WARNING",
        }
        WORKDIR.mkdir(parents=True, exist_ok=True)
        (WORKDIR / "hotline.db").unlink(missing_ok=True)
        with running_servers(WORKDIR, extra_env=env) as servers:
            results = asyncio.run(measure(servers.rasa_url, args.probes, args.load))
    rest_p50 = statistics.median(results["rest"])
    print(f"{args.probes} probes per channel, {args.load} busy conversations ({len(results['load_turns'])} turns)")
    print(f"{'channel':<12} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'p50 / REST turn p50':>20}")
    for name, values in results.items():
        if name == "load_turns":
            continue
        p50 = statistics.median(values)
        print(f"{name:<12} {p50:8.1f} {percentile(values, 0.99):8.1f} {max(values):8.1f} {p50 / rest_p50:20.3f}")
    load = results["load_turns"]
    if load:
        print(f"{'(load turn)':<12} {statistics.median(load):8.1f} {percentile(load, 0.99):8.1f} {max(load):8.1f}")


if __name__ == "__main__":
    main()
