"""Starting the real action server (and Rasa server) on a fresh database, for tests."""

from __future__ import annotations

import asyncio
import ctypes
import os
import re
import secrets
import select
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.cases.records import import_cases
from bot.catalog.formats import read_catalog
from bot.catalog.store import import_records
from bot.cli.serve import server_commands, server_environment, wait_until_up
from bot.core import clock
from bot.core.clock import china
from bot.core.db import Database
from bot.core.encryption import new_key
from bot.core.settings import PROJECT_ROOT, get_settings
from bot.work_orders.department_keys import add_key
from bot.work_orders.lifecycle import OrderDetail, order_detail
from channels.registry import write_credentials

MODEL = PROJECT_ROOT / "models" / "current.tar.gz"
FIXTURE_CASES = PROJECT_ROOT / "tests" / "fixtures" / "cases.json"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def consecutive_ports() -> int:
    """A free port whose next port is free too (run-prod's instances listen on RASA_PORT and RASA_PORT + 1)."""
    while True:
        port = free_port()
        try:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue


async def seed_database(url: str) -> None:
    """Schema, the project catalogue and the fixture cases."""
    database = Database(url)
    try:
        await database.create_schema()
        await import_records(database, read_catalog(PROJECT_ROOT / "data" / "catalog"))
        key = str(get_settings().pii_hash_key)
        await import_cases(database, FIXTURE_CASES, key, china(2026, 11, 28, 9))
    finally:
        await database.close()


async def stored_order(url: str, number: str) -> OrderDetail:
    """The work order as the servers' database at ``url`` holds it."""
    database = Database(url)
    try:
        return await order_detail(database, number)
    finally:
        await database.close()


async def new_department_key(url: str, department: str) -> str:
    """A key of the department API for ``department``, made as `python -m bot departments add-key` makes it."""
    database = Database(url)
    try:
        return (await add_key(database, department, clock.now())).key
    finally:
        await database.close()


_IN_MODIFY = 0x00000002
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC


class FileWrites:
    """Writes to one file, told by the kernel (Linux inotify): a wait for a file without polling it."""

    def __init__(self, path: Path) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self._descriptor = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self._descriptor < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        if libc.inotify_add_watch(self._descriptor, os.fsencode(path), _IN_MODIFY) < 0:
            error = ctypes.get_errno()
            os.close(self._descriptor)
            raise OSError(error, f"inotify_add_watch failed for {path}")

    def wait(self, timeout_s: float) -> bool:
        """Whether the file was written to since the last wait (waiting up to ``timeout_s`` for a write)."""
        readable, _, _ = select.select([self._descriptor], [], [], max(timeout_s, 0.0))
        if not readable:
            return False
        try:
            while os.read(self._descriptor, 65536):  # every queued event: the next wait is for a new write
                pass
        except BlockingIOError:
            pass
        return True

    def close(self) -> None:
        """Stop watching."""
        os.close(self._descriptor)


def wait_for_log_line(path: Path, needle: str | re.Pattern[str], timeout_s: float = 30.0) -> str:
    """The text of the log ``path`` once a line of it contains ``needle`` (or matches it).

    Checked once the file is watched, then each time the server writes to it.
    """

    def found(text: str) -> bool:
        return needle in text if isinstance(needle, str) else needle.search(text) is not None

    deadline = time.monotonic() + timeout_s
    writes = FileWrites(path)  # watching before the first read: a write in between cannot be missed
    try:
        while True:
            text = path.read_text(errors="replace")
            if found(text):
                return text
            if not writes.wait(deadline - time.monotonic()):
                raise AssertionError(f"{needle!r} not in {path.name} within {timeout_s}s")
    finally:
        writes.close()


@dataclass(frozen=True)
class Servers:
    """Addresses of the running servers."""

    # The action server's webhook as the Rasa server calls it: with its token (a proxy in front forwards to it).
    action_url: str
    rasa_url: str
    env: dict[str, str]
    workdir: Path
    pids: dict[str, int]
    # The server processes by name (to stop one and wait until it has exited).
    processes: dict[str, subprocess.Popen[bytes]]
    # Every Rasa server instance's address (the first is ``rasa_url``).
    rasa_urls: tuple[str, ...] = ()

    def wait_for_log(self, name: str, needle: str | re.Pattern[str], timeout_s: float = 30.0) -> str:
        """Server ``name``'s log (``workdir/<name>.log``) once a line of it contains (or matches) ``needle``.

        A line the server writes after the event a test waited for is not in a log read at once:
        wait for the line that shows the server is done (a marker), then read.
        """
        return wait_for_log_line(self.workdir / f"{name}.log", needle, timeout_s)


def server_overrides(
    url: str, action_port: int, rasa_port: int, log_level: str = "INFO", extra_env: dict[str, str] | None = None
) -> dict[str, str]:
    """The settings test servers run with: their database and ports, a fresh token, and a personal-data key.

    The key is the environment's (the suite's, from conftest), else one made for this run: a benchmark or
    the dialogue evaluation starts servers outside pytest, and the servers refuse to start without one.
    """
    return {
        "DATABASE_URL": url,
        "ACTION_SERVER_PORT": str(action_port),
        "RASA_PORT": str(rasa_port),
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
        "ACTION_SERVER_TOKEN": secrets.token_urlsafe(24),
        "PII_ENCRYPTION_KEYS": os.environ.get("PII_ENCRYPTION_KEYS") or new_key(),
        "RASA_TELEMETRY_ENABLED": "false",
        "LOG_LEVEL": log_level,
        # Sanic waits up to 15 s at shutdown for open connections (a console's or a page's event stream)
        # to finish; the tests' servers may drop them after a second.
        "SANIC_GRACEFUL_SHUTDOWN_TIMEOUT": "1",
        **(extra_env or {}),
    }


def stop_processes(processes: list[subprocess.Popen[bytes]], within_s: float = 20.0) -> None:
    """Stop servers as an operator would (SIGTERM), killing any that has not exited within ``within_s``."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=within_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_servers(
    workdir: Path,
    with_rasa: bool = True,
    log_level: str = "INFO",
    extra_env: dict[str, str] | None = None,
    rasa_instances: int = 1,
) -> Iterator[Servers]:
    """Run the servers on free ports against a fresh seeded SQLite database; logs go to ``workdir``.

    ``extra_env`` adds settings (channel credentials, stand-in API addresses) for both servers;
    ``rasa_instances`` Rasa servers share the action server, the databases and Redis (if set).
    """
    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} is missing: `make test` trains it first (or run `make model`)")
    url = f"sqlite:///{workdir / 'hotline.db'}"
    asyncio.run(seed_database(url))
    action_port, rasa_port = free_port(), free_port()
    more_ports = [free_port() for _ in range(rasa_instances - 1)]
    overrides = server_overrides(url, action_port, rasa_port, log_level, extra_env)
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    get_settings.cache_clear()
    settings = get_settings()
    env = server_environment(settings)
    credentials = workdir / "credentials.yml"
    write_credentials(settings, credentials)
    commands = server_commands(settings, MODEL, credentials)
    processes: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        names = ["actions", "rasa"] if with_rasa else ["actions"]
        health = {
            "actions": f"http://127.0.0.1:{action_port}/health",
            "rasa": f"http://127.0.0.1:{rasa_port}/webhooks/rest/",
        }
        for number, port in enumerate(more_ports, 2):
            commands[f"rasa{number}"] = [str(port) if part == str(rasa_port) else part for part in commands["rasa"]]
            health[f"rasa{number}"] = f"http://127.0.0.1:{port}/webhooks/rest/"
            names.append(f"rasa{number}")
        for name in names:
            log = (workdir / f"{name}.log").open("wb")
            logs.append(log)
            processes.append(
                subprocess.Popen(commands[name], env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
            )
        for name, process in zip(names, processes, strict=False):
            if not wait_until_up(health[name], process, timeout_s=240):
                tail = (workdir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the {name} server did not start:\n{tail}")
        yield Servers(
            action_url=f"http://127.0.0.1:{action_port}/webhook?token={env['ACTION_SERVER_TOKEN']}",
            rasa_url=f"http://127.0.0.1:{rasa_port}",
            env=env,
            workdir=workdir,
            pids={name: process.pid for name, process in zip(names, processes, strict=True)},
            processes=dict(zip(names, processes, strict=True)),
            rasa_urls=tuple(f"http://127.0.0.1:{port}" for port in [rasa_port, *more_ports]) if with_rasa else (),
        )
    finally:
        stop_processes(processes)
        for log in logs:
            log.close()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
