"""End to end: after a real conversation, no full phone or ID number is stored in the tracker store or the web chat log.

A web chat citizen files a complaint giving a phone number, then asks for a case's progress saying
their ID number; both servers are restarted between the number and the confirmation, and the report
is filed with the number itself (it was kept sealed). The stored events and log entries hold only
masked numbers; the order's contact number is a ciphertext in the database and reads back in clear.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.serve import server_commands, wait_until_up
from bot.core.encryption import is_token
from bot.core.settings import PROJECT_ROOT, get_settings
from tests.http_clients import WebCitizen
from tests.servers import MODEL, Servers, running_servers, stop_processes, stored_order, wait_for_log_line

GIVEN = "13800138000"
ID_NUMBER = "11010519491231002X"  # the applicant of the fixture case 20261120000158 (tests/fixtures/cases.json)
APPLICANT_PHONE = "13912345678"
FULL_NUMBERS = (GIVEN, ID_NUMBER, APPLICANT_PHONE)
CLASSIFIER_READY_S = 600.0


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Both servers on a fresh SQLite database, the trackers in a file of their own beside it."""
    with running_servers(Path(tmp_path_factory.mktemp("personal-data")), extra_env={"REDIS_URL": ""}) as running:
        yield running


def restart(servers: Servers) -> list[subprocess.Popen[bytes]]:
    """Stop both servers (SIGTERM), wait until they have exited and start them again on the same databases."""
    names = ("actions", "rasa")
    stop_processes([servers.processes[name] for name in names])
    commands = server_commands(get_settings(), MODEL, servers.workdir / "credentials.yml")
    started = []
    for name in names:
        log = (servers.workdir / f"{name}-restarted.log").open("wb")
        started.append(
            subprocess.Popen(commands[name], env=servers.env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
        )
    action_port, rasa_url = servers.env["ACTION_SERVER_PORT"], servers.rasa_url
    for process, url in zip(
        started, (f"http://127.0.0.1:{action_port}/health", f"{rasa_url}/webhooks/rest/"), strict=True
    ):
        assert wait_until_up(url, process, timeout_s=240), f"{process.args[0]} did not start again"
    return started


def stored_texts(servers: Servers) -> tuple[list[str], list[str]]:
    """Every stored tracker event's JSON and every web chat log entry's payload, as the database files hold them."""
    database = Path(servers.env["DATABASE_URL"].removeprefix("sqlite:///"))
    trackers = database.with_name(database.stem + "-trackers.db")
    with sqlite3.connect(trackers) as connection:
        events = [data for (data,) in connection.execute("SELECT data FROM events")]
    with sqlite3.connect(database) as connection:
        entries = [payload for (payload,) in connection.execute("SELECT payload FROM chat_messages")]
    return events, entries


def test_no_full_number_is_stored_and_the_dialogue_goes_on_across_a_restart(servers: Servers) -> None:
    citizen = WebCitizen(servers.rasa_url)
    citizen.say("我要投诉，天河区天河路100号楼下的烧烤店油烟太大，已经一个星期了")
    citizen.wait_for_text("联系电话", role="bot")  # how long it has gone on was said: kept, not asked again
    citizen.say(f"我的电话是{GIVEN}")
    read_back = citizen.wait_for_text("请核对", role="bot")
    assert "138****8000" in read_back and GIVEN not in read_back

    started = restart(servers)  # the form is waiting for the confirmation: it goes on from the stored tracker
    try:
        wait_for_log_line(servers.workdir / "actions-restarted.log", "appeal classifier ready", CLASSIFIER_READY_S)
        citizen.say("确认提交")
        filed = citizen.wait_for_text("工单号", role="bot", timeout_s=60)
        assert "办理结果会通过您留的电话138****8000告诉您" in filed
        [number] = re.findall(r"WO\d{13}", filed)
        order = asyncio.run(stored_order(servers.env["DATABASE_URL"], number))
        assert order.contact_phone == GIVEN  # the number itself, unsealed from the tracker and read back decrypted

        citizen.say(f"我想查办件进度，我的身份证号是{ID_NUMBER}，办件编号20261120000158")
        citizen.wait_for_text("后四位", role="bot")
        citizen.say(f"手机号{APPLICANT_PHONE}")
        citizen.wait_for_text("办件编号20261120000158（", role="bot")  # its progress, shown to its applicant

        events, entries = stored_texts(servers)
        stored = "\n".join(events + entries)
        for full in FULL_NUMBERS:
            assert full not in stored, f"{full} is stored in clear"
        assert "138****8000" in stored and "110105********002X" in stored
        assert any("sealed:" in event for event in events)  # the contact number, kept to file the order
        database = servers.env["DATABASE_URL"].removeprefix("sqlite:///")
        with sqlite3.connect(database) as connection:
            (contact,) = connection.execute(
                "SELECT contact_phone FROM work_orders WHERE number = ?", (number,)
            ).fetchone()
        assert is_token(contact) and GIVEN not in contact
        assert all(json.loads(entry) for entry in entries)
    finally:
        stop_processes(started)
