"""Many citizens at once: the web chat (and SMS) under an open-loop load with think time.

Starts the production topology (``python -m bot run-prod``: the action server, N Rasa instances,
nginx, a fresh PostgreSQL database, Redis, Twilio's REST API at a local stand-in) and drives
``--citizens`` citizens. Each one writes a message every 4–8 s (uniform) whatever happened to the
previous one (open loop: a slow server gets more work, not less). A web chat citizen opens a
session and its event stream, as the page does; an SMS citizen posts webhooks signed as Twilio
signs them (the ``twilio`` library's ``RequestValidator``).

- acknowledgement: from sending a message to its HTTP answer (202 for the web chat, the empty
  TwiML for SMS);
- reply: from sending to the bot's first answer (the first bot entry after the message in the
  session's event stream; the first SMS to the citizen's number at the Twilio stand-in);
- errors: an acknowledgement that is not a success or fails, a reply not there 30 s after the load
  stops, an event stream that dropped.

Also printed: turns per second, CPU per server process and the load generator's own, and the
servers' memory (RSS) after the warm-up and at the end (every ``--sample-s`` for a soak).
With one instance the bench talks to it directly (``--via-nginx`` to go through nginx anyway); with
several, to nginx. Under overload a turn's second message may be counted as the next message's
reply (replies are matched to messages in order), which flatters the numbers of a saturated run.

Usage: python bench/load.py --citizens 200 [--instances 1] [--duration 90] [--warmup 20] [--sms-share 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.cli.serve import wait_until_up
from bot.core.settings import PROJECT_ROOT
from tests.servers import consecutive_ports, free_port
from tests.standins import Recorded, running_standin
from tests.twilio_peer import ACCOUNT_SID, AUTH_TOKEN, HOTLINE_NUMBER, twilio_api, twilio_env

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/3"
WEB_TURNS = [
    "你好",
    "我想办护照需要带什么材料",
    "1",
    "在哪里办理",
    "社保卡掉了怎么补办",
    "谢谢",
    "居住证怎么办理",
    "要多久能办好",
    "身份证丢了怎么补",
    "好的谢谢",
]
SMS_TURNS = ["办护照要带什么", "1", "社保卡掉了怎么补办", "谢谢"]
REPLY_WAIT_S = 30.0


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


@dataclass
class Results:
    """What the citizens measured (milliseconds), and what went wrong."""

    measuring: bool = False
    acks: dict[str, list[float]] = field(default_factory=lambda: {"web": [], "sms": []})
    replies: dict[str, list[float]] = field(default_factory=lambda: {"web": [], "sms": []})
    sent: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def error(self, kind: str, detail: str) -> None:
        """Count an error (and keep a few examples to print)."""
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.examples) < 5:
            self.examples.append(f"{kind}: {detail[:200]}")


@dataclass
class Pending:
    """A message sent and not answered yet."""

    sent_at: float
    measured: bool
    seq: int | None = None


class WebCitizen:
    """One citizen in the web chat: a session, its event stream, a message every 4–8 s."""

    def __init__(self, http: aiohttp.ClientSession, base: str, results: Results, rng: random.Random) -> None:
        self.http, self.base, self.results, self.rng = http, base, results, rng
        self.session = ""
        self.pending: deque[Pending] = deque()
        self.after = 0
        self.stream_open = asyncio.Event()
        # Bot entries seen while the oldest message's acknowledgement (its seq) had not come back yet.
        self.early: list[tuple[int, float]] = []

    async def start(self) -> None:
        """Open the session (not timed)."""
        async with self.http.post(f"{self.base}/chat/api/sessions") as response:
            body = await response.json()
            if response.status != 201:
                raise RuntimeError(f"session not opened: {response.status} {body}")
        self.session = body["session"]

    async def listen(self, stop: asyncio.Event) -> None:
        """Read the event stream; each bot entry answers the oldest pending message sent before it."""
        while not stop.is_set():
            url = f"{self.base}/chat/api/events?session={self.session}&after={self.after}"
            try:
                async with self.http.get(url, timeout=aiohttp.ClientTimeout(total=None, sock_read=60)) as response:
                    if response.status != 200:
                        self.results.error("stream", f"status {response.status}")
                        await asyncio.sleep(1)  # reconnect delay of a page (bench only)
                        continue
                    self.stream_open.set()
                    event, data = "", ""
                    async for raw in response.content:
                        line = raw.decode().rstrip("\n")
                        if line.startswith("event:"):
                            event = line[6:].strip()
                        elif line.startswith("data:"):
                            data += line[5:].strip()
                        elif not line:
                            if event == "entry" and data:
                                self._entry(json.loads(data))
                            event, data = "", ""
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                if not stop.is_set():
                    self.results.error("stream", type(error).__name__)
            if not stop.is_set():
                self.results.error("stream", "stream ended")

    def _entry(self, entry: dict[str, Any]) -> None:
        self.after = max(self.after, int(entry["seq"]))
        if entry["role"] != "bot" or not self.pending:
            return
        first = self.pending[0]
        if first.seq is None:
            self.early.append((int(entry["seq"]), time.perf_counter()))
            return
        if first.seq < entry["seq"]:
            self._answered(time.perf_counter())

    def _answered(self, at: float) -> None:
        first = self.pending.popleft()
        self.early.clear()
        if first.measured:
            self.results.replies["web"].append((at - first.sent_at) * 1000)

    async def say(self, text: str) -> None:
        """One message: the acknowledgement timed, the reply awaited in the stream."""
        body = {"session": self.session, "text": text, "client_id": uuid.uuid4().hex}
        pending = Pending(time.perf_counter(), self.results.measuring)
        self.pending.append(pending)
        try:
            async with self.http.post(f"{self.base}/chat/api/messages", json=body) as response:
                answer = await response.json(content_type=None)
                elapsed = (time.perf_counter() - pending.sent_at) * 1000
                if response.status != 202:
                    self.pending.remove(pending)
                    self.results.error("ack", f"web {response.status} {answer}")
                    return
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            self.pending.remove(pending)
            self.results.error("ack", f"web {type(error).__name__}")
            return
        pending.seq = int(answer["seq"])
        if self.pending and self.pending[0] is pending:
            early = [at for seq, at in self.early if seq > pending.seq]
            if early:  # the reply came through the stream before the acknowledgement
                self._answered(min(early))
        if pending.measured:
            self.results.acks["web"].append(elapsed)
            self.results.sent += 1


class SmsCitizen:
    """One citizen texting the hotline: signed webhooks; replies are the stand-in's Messages calls."""

    def __init__(self, http: aiohttp.ClientSession, base: str, results: Results, number: str) -> None:
        self.http, self.base, self.results, self.number = http, base, results, number
        self.pending: deque[Pending] = deque()
        self.validator = RequestValidator(AUTH_TOKEN)

    def replied(self, at: float) -> None:
        """A message to this number reached Twilio's stand-in: it answers the oldest pending message."""
        if self.pending:
            first = self.pending.popleft()
            if first.measured:
                self.results.replies["sms"].append((at - first.sent_at) * 1000)

    async def say(self, text: str) -> None:
        """One text message, signed for the URL the server rebuilds (the forwarded scheme and host)."""
        sid = "SM" + uuid.uuid4().hex
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": self.number,
            "To": HOTLINE_NUMBER,
            "Body": text,
            "NumMedia": "0",
            "ApiVersion": "2010-04-01",
        }
        url = f"{self.base}/webhooks/sms/webhook"
        host = self.base.split("://", 1)[1]
        headers = {
            "X-Twilio-Signature": self.validator.compute_signature(url, params),
            "X-Forwarded-Proto": "http",
            "X-Forwarded-Host": host,
        }
        pending = Pending(time.perf_counter(), self.results.measuring)
        self.pending.append(pending)
        try:
            async with self.http.post(url, data=params, headers=headers) as response:
                await response.read()
                elapsed = (time.perf_counter() - pending.sent_at) * 1000
                if response.status != 200:
                    self.pending.remove(pending)
                    self.results.error("ack", f"sms {response.status}")
                    return
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            self.pending.remove(pending)
            self.results.error("ack", f"sms {type(error).__name__}")
            return
        if pending.measured:
            self.results.acks["sms"].append(elapsed)
            self.results.sent += 1


async def citizen_loop(
    citizen: WebCitizen | SmsCitizen, turns: list[str], rng: random.Random, stop: asyncio.Event, tasks: set[Any]
) -> None:
    """Messages at 4–8 s intervals from a random phase, each sent without waiting for the last (open loop)."""
    offset = rng.randrange(len(turns))
    next_at = time.perf_counter() + rng.uniform(0, 6)
    n = 0
    while True:
        delay = next_at - time.perf_counter()
        if delay > 0:
            try:
                await asyncio.wait_for(stop.wait(), delay)
                return
            except asyncio.TimeoutError:
                pass
        if stop.is_set():
            return
        task = asyncio.create_task(citizen.say(turns[(offset + n) % len(turns)]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        n += 1
        next_at += rng.uniform(4, 8)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """A process's resident memory in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def server_processes(launcher: int) -> dict[str, int]:
    """The launcher's servers by name (actions, rasa1…, nginx master and workers), from /proc."""
    found: dict[str, int] = {}
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    rasa = 0
    for pid in sorted(children.get(launcher, [])):
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        text = b" ".join(command).decode(errors="replace")
        if "rasa_sdk" in text:
            found["actions"] = pid
        elif "nginx" in text:
            found["nginx"] = pid
            for number, worker in enumerate(sorted(children.get(pid, [])), 1):
                found[f"nginx-w{number}"] = worker
        elif " run " in text and "rasa" in text:
            rasa += 1
            found[f"rasa{rasa}"] = pid
    return found


@dataclass
class Deployment:
    """The running topology: where to send requests and which processes to watch."""

    url: str
    nginx_url: str
    pids: dict[str, int]


class RunProd:
    """``python -m bot run-prod`` on a fresh database, with Twilio at a stand-in; stopped with SIGTERM."""

    def __init__(self, instances: int, workdir: Path, twilio_url: str) -> None:
        self.instances = instances
        self.workdir = workdir
        self.database = f"hotline_bench_{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.rasa_port = consecutive_ports()
        self.env = {
            **os.environ,
            **twilio_env(twilio_url),
            "DATABASE_URL": f"{POSTGRES}/{self.database}",
            "REDIS_URL": REDIS_URL,
            "REDIS_PREFIX": f"bench:{uuid.uuid4().hex[:8]}:",
            "RASA_PORT": str(self.rasa_port),
            "ACTION_SERVER_PORT": str(free_port()),
            "ACTION_SERVER_TOKEN": secrets.token_urlsafe(24),
            "LOG_LEVEL": "WARNING",
            "HANDOFF_MAX_WAIT_S": "3600",
        }
        self.env.pop("ACTION_SERVER_URL", None)
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Deployment:
        log = (self.workdir / "run-prod.log").open("wb")
        command = [sys.executable, "-m", "bot", "run-prod", "--instances", str(self.instances)]
        command += ["--port", str(self.port)]
        self.process = subprocess.Popen(command, env=self.env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
        nginx = f"http://127.0.0.1:{self.port}"
        if not wait_until_up(f"{nginx}/webhooks/rest/", self.process, 400):
            self.__exit__()
            raise RuntimeError("run-prod did not start:\n" + (self.workdir / "run-prod.log").read_text()[-3000:])
        direct = f"http://127.0.0.1:{self.rasa_port}"
        return Deployment(direct, nginx, server_processes(self.process.pid))

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.process.kill()
        asyncio.run(drop_database(self.database))


async def drop_database(name: str) -> None:
    """Drop the bench's database."""
    connection = await asyncpg.connect(f"{POSTGRES}/postgres", timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def line(name: str, values: list[float]) -> str:
    """n, p50, p95, p99 and max of one measurement."""
    if not values:
        return f"{name:<12} {0:>6}"
    cells = [percentile(values, p) for p in (0.5, 0.95, 0.99)] + [max(values)]
    return f"{name:<12} {len(values):>6} " + " ".join(f"{value:8.1f}" for value in cells)


async def drive(args: argparse.Namespace, base: str, pids: dict[str, int], sms_replies: Any) -> dict[str, Any]:
    """Run the citizens: ramp-up and warm-up (not measured), the measured minutes, then the wait for replies."""
    results = Results()
    rng = random.Random(args.seed)
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    stop = asyncio.Event()
    sending: set[Any] = set()
    samples: list[dict[str, float]] = []
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        sms_count = round(args.citizens * args.sms_share)
        web = [WebCitizen(http, base, results, random.Random(rng.random())) for _ in range(args.citizens - sms_count)]
        sms = [SmsCitizen(http, base, results, f"+86139{n:08d}") for n in range(sms_count)]
        sms_replies.update({citizen.number: citizen for citizen in sms})
        await asyncio.gather(*(citizen.start() for citizen in web))
        listeners = [asyncio.create_task(citizen.listen(stop)) for citizen in web]
        await asyncio.gather(*(citizen.stream_open.wait() for citizen in web))
        loops = [
            asyncio.create_task(citizen_loop(c, WEB_TURNS, random.Random(rng.random()), stop, sending)) for c in web
        ] + [asyncio.create_task(citizen_loop(c, SMS_TURNS, random.Random(rng.random()), stop, sending)) for c in sms]
        await asyncio.sleep(args.warmup)  # the warm-up: load runs, nothing is recorded (bench only)
        results.measuring = True
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        own_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        samples.append({"t": 0.0, **{name: rss_mb(pid) for name, pid in pids.items()}})
        while (elapsed := time.perf_counter() - started) < args.duration:
            await asyncio.sleep(min(args.sample_s, args.duration - elapsed))  # the sampling period (bench only)
            samples.append({"t": time.perf_counter() - started, **{name: rss_mb(pid) for name, pid in pids.items()}})
        results.measuring = False
        seconds = time.perf_counter() - started
        cpu = {name: (cpu_seconds(pid) - cpu_before[name]) / seconds for name, pid in pids.items()}
        own = resource.getrusage(resource.RUSAGE_SELF)
        cpu["load generator"] = (own.ru_utime + own.ru_stime - own_before.ru_utime - own_before.ru_stime) / seconds
        stop.set()
        await asyncio.gather(*loops)
        if sending:
            await asyncio.wait(sending, timeout=REPLY_WAIT_S)
        deadline = time.perf_counter() + REPLY_WAIT_S
        everyone: list[WebCitizen | SmsCitizen] = [*web, *sms]
        while any(p.measured for c in everyone for p in c.pending) and time.perf_counter() < deadline:
            await asyncio.sleep(0.2)  # waiting for the last replies (bench only)
        for citizen in everyone:
            for pending in citizen.pending:
                if pending.measured:
                    results.error("no reply", f"{type(citizen).__name__} after {REPLY_WAIT_S:.0f} s")
        for task in listeners:
            task.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)
    return {"results": results, "seconds": seconds, "cpu": cpu, "samples": samples, "web": len(web), "sms": sms_count}


def report(args: argparse.Namespace, target: str, outcome: dict[str, Any]) -> dict[str, Any]:
    """Print the numbers; the summary for --json."""
    results: Results = outcome["results"]
    seconds = outcome["seconds"]
    turns = len(results.replies["web"]) + len(results.replies["sms"])
    print(
        f"{args.citizens} citizens ({outcome['web']} web chat, {outcome['sms']} SMS), {args.instances} instance(s), "
        f"{target}; {seconds:.0f} s measured after a {args.warmup:.0f} s warm-up"
    )
    print(f"{'(ms)':<12} {'n':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
    for kind in ("web", "sms"):
        print(line(f"{kind} ack", results.acks[kind]))
        print(line(f"{kind} reply", results.replies[kind]))
    errors = sum(results.errors.values())
    print(f"errors: {errors} {results.errors if errors else ''}")
    for example in results.examples:
        print(f"  {example}")
    print(f"messages sent {results.sent}, replies {turns}, turns/s {turns / seconds:.1f}")
    print("CPU (share of one core): " + ", ".join(f"{name} {share:.0%}" for name, share in outcome["cpu"].items()))
    first, last = outcome["samples"][0], outcome["samples"][-1]
    servers = [name for name in first if name != "t"]
    print("RSS MB (after warm-up → end): " + ", ".join(f"{n} {first[n]:.0f}→{last[n]:.0f}" for n in servers))
    if args.duration >= 300:
        for name in servers:
            series = " ".join(f"{s[name]:.0f}" for s in outcome["samples"])
            growth = (last[name] - first[name]) / first[name] * 100 if first[name] else 0.0
            print(f"  {name}: growth {growth:+.1f}% ({series})")
    all_web = results.replies["web"]
    return {
        "citizens": args.citizens,
        "instances": args.instances,
        "target": target,
        "seconds": round(seconds),
        "web_ack_p50": percentile(results.acks["web"], 0.5) if results.acks["web"] else None,
        "web_ack_p99": percentile(results.acks["web"], 0.99) if results.acks["web"] else None,
        "web_reply_p50": percentile(all_web, 0.5) if all_web else None,
        "web_reply_p95": percentile(all_web, 0.95) if all_web else None,
        "web_reply_p99": percentile(all_web, 0.99) if all_web else None,
        "sms_ack_p99": percentile(results.acks["sms"], 0.99) if results.acks["sms"] else None,
        "sms_reply_p95": percentile(results.replies["sms"], 0.95) if results.replies["sms"] else None,
        "errors": errors,
        "turns_per_s": turns / seconds,
        "cpu": outcome["cpu"],
        "rss_first": first,
        "rss_last": last,
    }


def main() -> int:
    """Start the topology, drive the citizens, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=100)
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--duration", type=float, default=90.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds of load before measuring")
    parser.add_argument("--sms-share", type=float, default=0.1, help="share of the citizens who text")
    parser.add_argument("--sample-s", type=float, default=30.0, help="memory sampling period")
    parser.add_argument("--via-nginx", action="store_true", help="through nginx also with one instance")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--json", type=Path, help="append the summary as a JSON line to this file")
    args = parser.parse_args()
    loop_box: dict[str, asyncio.AbstractEventLoop] = {}
    sms_citizens: dict[str, SmsCitizen] = {}
    lock = threading.Lock()

    def twilio(request: Recorded) -> tuple[int, Any]:
        answer = twilio_api(request)
        at = time.perf_counter()
        citizen = sms_citizens.get(request.form.get("To", ""))
        if citizen is not None and "loop" in loop_box:
            with lock:
                loop_box["loop"].call_soon_threadsafe(citizen.replied, at)
        return answer

    async def run(base: str, pids: dict[str, int]) -> dict[str, Any]:
        loop_box["loop"] = asyncio.get_running_loop()
        return await drive(args, base, pids, sms_citizens)

    with tempfile.TemporaryDirectory() as tmp, running_standin(twilio) as standin:
        deployment_of = RunProd(args.instances, Path(tmp), standin.url)
        with deployment_of as deployment:
            through_nginx = args.instances > 1 or args.via_nginx
            base = deployment.nginx_url if through_nginx else deployment.url
            target = "through nginx" if through_nginx else "directly"
            print(f"servers: {deployment.pids}", flush=True)
            outcome = asyncio.run(run(base, deployment.pids))
    summary = report(args, target, outcome)
    if args.json:
        with args.json.open("a") as file:
            file.write(json.dumps(summary, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
