"""Turn latency of the hotline against Rasa's stock starter assistant, measured in the same run.

Starts our action server and Rasa server (SQLite, seeded catalogue and cases) and the assistant
that `rasa init` creates (trained once into var/bench/stock), then runs many concurrent
conversations through each one's REST channel and prints p50/p95/p99 per turn and turns per second.

Usage: python bench/turn_latency.py [--conversations 40] [--concurrency 12] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.cli.serve import wait_until_up
from bot.core.settings import PROJECT_ROOT
from tests.servers import free_port, running_servers

STOCK_DIR = PROJECT_ROOT / "var" / "bench" / "stock"
OURS = [
    "你好",
    "我想办护照需要带什么材料",
    "1",
    "在哪里办理",
    "社保卡掉了怎么补办",
    "查一下我的办件进度",
    "二零二六一一二零零零零一五八",
    "后四位是五六七八",
    "谢谢你啊",
    "再见",
]
STOCK = ["hello", "I am sad", "yes", "great", "are you a bot?", "goodbye", "hi", "very good", "no", "bye"]


def stock_assistant() -> Path:
    """The `rasa init` assistant with its trained model, made once and kept under var/bench."""
    models = STOCK_DIR / "models"
    if not any(models.glob("*.tar.gz")):
        STOCK_DIR.mkdir(parents=True, exist_ok=True)
        rasa = Path(sys.executable).parent / "rasa"
        subprocess.run([str(rasa), "init", "--no-prompt", "--init-dir", str(STOCK_DIR)], check=True)
    return max(models.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)


async def conversation(
    session: aiohttp.ClientSession, url: str, sender: str, turns: list[str], latencies: list[float]
) -> None:
    """One citizen's turns, one after the other; each turn's latency is recorded."""
    for text in turns:
        started = time.perf_counter()
        async with session.post(url, json={"sender": sender, "message": text}) as response:
            body = await response.json()
            if response.status != 200 or not isinstance(body, list):
                raise RuntimeError(f"{url}: {response.status} {body!r} for {text!r}")
        latencies.append(time.perf_counter() - started)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(url: str, turns: list[str], conversations: int, concurrency: int, tag: str) -> tuple[list[float], float]:
    """Run the conversations with at most ``concurrency`` at once; the latencies and the seconds taken."""
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=120)

    async def one(index: int) -> None:
        async with gate:
            await conversation(session, url, f"{tag}-{index}", turns, latencies)

    async with aiohttp.ClientSession(timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(conversations)))
        return latencies, time.perf_counter() - started


def summary(latencies: list[float], seconds: float, cpu: float) -> dict[str, float]:
    """Percentiles in ms, turns per second, and CPU ms of the Rasa process per turn."""
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return {
        "turns": len(ordered),
        "p50": statistics.median(ordered) * 1000,
        "p95": pct(0.95),
        "p99": pct(0.99),
        "tps": len(ordered) / seconds,
        "cpu_ms": cpu / len(ordered) * 1000,
    }


def start_stock(model: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Rasa's stock assistant on a free port, as `rasa init` configured it."""
    port = free_port()
    rasa = Path(sys.executable).parent / "rasa"
    log = (workdir / "stock.log").open("wb")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    process = subprocess.Popen(
        [
            str(rasa),
            "run",
            "--model",
            str(model),
            "--port",
            str(port),
            "--credentials",
            str(STOCK_DIR / "credentials.yml"),
        ],
        cwd=STOCK_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    if not wait_until_up(f"http://127.0.0.1:{port}/webhooks/rest/", process, 240):
        raise RuntimeError("the stock assistant did not start: " + (workdir / "stock.log").read_text()[-2000:])
    return process, f"http://127.0.0.1:{port}/webhooks/rest/webhook"


def main() -> int:
    """Both assistants run side by side; their loads alternate for a few rounds; pooled numbers."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    model = stock_assistant()
    pooled: dict[str, tuple[list[float], float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        stock, stock_url = start_stock(model, workdir)
        try:
            with running_servers(workdir / "ours") as servers:
                targets = {
                    "stock (rasa init)": (stock_url, STOCK, stock.pid),
                    "hotline 12345": (f"{servers.rasa_url}/webhooks/rest/webhook", OURS, servers.pids["rasa"]),
                }
                for name, (url, turns, _) in targets.items():  # warm-up, not counted
                    asyncio.run(load(url, turns, 3, 3, f"warm-{name[:5]}"))
                for round_number in range(args.rounds):
                    for name, (url, turns, pid) in targets.items():
                        cpu_before = cpu_seconds(pid)
                        latencies, seconds = asyncio.run(
                            load(url, turns, args.conversations, args.concurrency, f"r{round_number}-{name[:5]}")
                        )
                        cpu = cpu_seconds(pid) - cpu_before
                        previous = pooled.get(name, ([], 0.0, 0.0))
                        pooled[name] = (previous[0] + latencies, previous[1] + seconds, previous[2] + cpu)
        finally:
            stock.terminate()
            stock.wait(timeout=30)
    results = {name: summary(*values) for name, values in pooled.items()}
    print(
        f"\n{args.rounds} rounds × {args.conversations} conversations × 10 turns per assistant, "
        f"{args.concurrency} at once, loads alternating, one Rasa process each, on {os.cpu_count()} cores"
    )
    header = ("turns", "p50 ms", "p95 ms", "p99 ms", "turns/s")
    print(f"{'assistant':20s} " + " ".join(f"{h:>8s}" for h in header) + f" {'Rasa CPU ms/turn':>17s}")
    for name, row in results.items():
        print(
            f"{name:20s} {row['turns']:6.0f} {row['p50']:8.1f} {row['p95']:8.1f} {row['p99']:8.1f} "
            f"{row['tps']:8.1f} {row['cpu_ms']:17.1f}"
        )
    ours, stock_row = results["hotline 12345"], results["stock (rasa init)"]
    print(f"\np50 ratio hotline/stock: {ours['p50'] / stock_row['p50']:.2f}  (goal ≤ 1.5)")
    print(
        f"hotline turns/s on this machine: {ours['tps']:.1f}; one Rasa process with a core to itself: "
        f"{1000 / ours['cpu_ms']:.1f} turns/s (goal ≥ 40)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
