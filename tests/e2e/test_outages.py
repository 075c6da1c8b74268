"""End to end: the hotline on a PostgreSQL server of its own, which is stopped and started again mid-conversation.

While the database is away the citizen gets the busy reply and nothing of the turn is kept (never an
answer from an empty tracker in memory); once it is back the form goes on where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from channels.text import BUSY_REPLY
from tests.servers import Servers, free_port, running_servers, seed_database


def _postgres_bin() -> Path | None:
    """The Debian package's server programs (initdb, pg_ctl), the newest version."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


BIN = _postgres_bin()
pytestmark = pytest.mark.skipif(BIN is None, reason="PostgreSQL's server programs (initdb, pg_ctl) are not installed")


@dataclass
class PrivatePostgres:
    """A PostgreSQL server in a temporary directory, on a free port, that a test may stop and start."""

    directory: Path
    port: int

    @property
    def url(self) -> str:
        """The URL of its ``hotline`` database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/hotline"

    def _run(self, *command: str) -> None:
        # initdb and postgres refuse to run as root: as root, they run as the postgres (or nobody) user.
        user = None
        if os.geteuid() == 0:
            user = "postgres" if _user_exists("postgres") else "nobody"
        subprocess.run(command, check=True, capture_output=True, timeout=60, user=user)

    def init(self) -> None:
        """Create the cluster (trust on the loopback, no fsync: a test's data)."""
        self._run(
            str(BIN / "initdb"), "-D", str(self.directory / "data"), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        """Start the server and wait until it takes connections (pg_ctl -w)."""
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-o", options,
            "-l", str(self.directory / "server.log"), "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server now (its connections are cut, as when the database host goes away)."""
        self._run(str(BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "fast", "-w", "-t", "60", "stop")

    def create_database(self) -> None:
        """The ``hotline`` database."""
        self._run(str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "hotline")


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    """A private PostgreSQL server (its data in /tmp, readable by the user it runs as)."""
    directory = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres" if _user_exists("postgres") else "nobody")
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    server = PrivatePostgres(directory, free_port())
    server.init()
    server.start()
    try:
        server.create_database()
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped by a failed test
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def servers(postgres: PrivatePostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Both servers with the project database and the trackers on the private PostgreSQL."""
    asyncio.run(seed_database(postgres.url))
    settings = {"DATABASE_URL": postgres.url, "TRACKER_STORE_URL": postgres.url, "OUTSIDE_CALL_TIMEOUT_S": "2"}
    with running_servers(Path(tmp_path_factory.mktemp("outages")), extra_env=settings) as running:
        yield running


def say(servers: Servers, sender: str, text: str) -> list[str]:
    """One turn through the REST channel; the texts of the bot's answer."""
    body = json.dumps({"sender": sender, "message": text}, ensure_ascii=False).encode()
    request = urllib.request.Request(
        f"{servers.rasa_url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return [str(m.get("text", "")) for m in json.loads(response.read())]


def test_a_database_outage_mid_form_gets_the_busy_reply_and_the_form_goes_on(
    servers: Servers, postgres: PrivatePostgres
) -> None:
    sender = "outage-materials"
    asked = "\n".join(say(servers, sender, "我想办护照要带什么材料"))
    assert "哪种情况" in asked  # the form waits for the situation
    postgres.stop()
    try:
        during = say(servers, sender, "首次申领")
        assert during == [BUSY_REPLY]  # never an answer from an empty tracker
    finally:
        postgres.start()
    after = "\n".join(say(servers, sender, "首次申领"))
    assert "【普通护照签发（首次申领）】" in after  # the form went on where it was
    assert "居民身份证" in after
