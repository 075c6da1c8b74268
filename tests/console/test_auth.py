"""The console's login, logout and /me over real HTTP (and HTTPS), with the session cookie, CSRF and roles."""

from __future__ import annotations

import datetime as dt
import ssl
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import update

import channels.connector
from bot.core import clock
from bot.core.db import Database
from bot.core.models import AgentSession
from bot.core.settings import Settings, get_settings
from bot.core.shared_state import MemoryState
from bot.handoff.agents import add_agent
from channels.connector import ChannelRuntime
from console.auth import (
    CSRF_REFUSED,
    LOGIN_REQUIRED,
    SESSION_ENDED,
    WRONG_LOGIN,
    WRONG_ROLE,
    add_auth_routes,
    authorised,
    throttled_message,
)
from tests.servers import free_port

PASSWORD = "correct-horse-42"
CONSOLE = {"X-Requested-With": "hotline-console"}


def _console_app() -> Sanic:
    """A Sanic app with the console's auth routes and three protected routes, as the console mounts them."""
    console = Blueprint(f"console_{uuid.uuid4().hex[:8]}", url_prefix="/agent")
    add_auth_routes(console)

    async def read(request: Request) -> HTTPResponse:
        agent = await authorised(request)
        if isinstance(agent, HTTPResponse):
            return agent
        return response.json({"read_by": agent.username})

    async def change(request: Request) -> HTTPResponse:
        agent = await authorised(request, change=True)
        if isinstance(agent, HTTPResponse):
            return agent
        return response.json({"changed_by": agent.username})

    async def supervise(request: Request) -> HTTPResponse:
        agent = await authorised(request, roles=("supervisor",))
        if isinstance(agent, HTTPResponse):
            return agent
        return response.json({"supervisor": agent.username})

    console.add_route(read, "/api/things", methods=["GET"], name="read")
    console.add_route(change, "/api/things", methods=["POST"], name="change")
    console.add_route(supervise, "/api/stats", methods=["GET"], name="supervise")
    console.add_route(read, "/api/careless", methods=["DELETE"], name="careless")  # authorised() without change=True
    app = Sanic(f"agent_auth_test_{uuid.uuid4().hex[:8]}")
    app.blueprint(console)
    return app


@dataclass
class Console:
    """A running console app: its address, its runtime's settings and database."""

    url: str
    database: Database
    runtime: ChannelRuntime
    client: httpx.AsyncClient

    def use_settings(self, **changes: Any) -> None:
        """Change the settings the routes read from here on."""
        self.runtime.settings = replace(self.runtime.settings, **changes)

    async def login(self, username: str, password: str = PASSWORD, **headers: str) -> httpx.Response:
        """POST /agent/api/login as the console's script does."""
        return await self.client.post(
            f"{self.url}/agent/api/login", json={"username": username, "password": password}, headers=CONSOLE | headers
        )


async def _serve(
    database: Database, monkeypatch: pytest.MonkeyPatch, tls: ssl.SSLContext | None = None
) -> AsyncIterator[Console]:
    settings: Settings = replace(get_settings(), public_base_url="", trust_forwarded_headers=True)
    runtime = ChannelRuntime(settings, database, MemoryState())
    monkeypatch.setattr(channels.connector, "_runtime", runtime)
    # Sanic rewrites its request handler at every start; in test mode it rewrites the original each
    # time rather than its own earlier rewrite (several apps start in this process).
    monkeypatch.setattr(Sanic, "test_mode", True)
    app = _console_app()
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, ssl=tls, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    scheme = "https" if tls else "http"
    try:
        # The client keeps no cookies: each test sends the cookie of the "browser" it means explicitly.
        no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        async with httpx.AsyncClient(timeout=10.0, verify=False, cookies=no_cookies) as client:
            yield Console(f"{scheme}://127.0.0.1:{port}", database, runtime, client)
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


@pytest.fixture
async def console(database: Database, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Console]:
    """The console app over plain HTTP on SQLite and PostgreSQL, with an agent and a supervisor."""
    await add_agent(database, "wangli", "王丽", "agent", PASSWORD, clock.now())
    await add_agent(database, "zhaomin", "赵敏", "supervisor", PASSWORD, clock.now())
    async for running in _serve(database, monkeypatch):
        yield running


def _set_cookies(answer: httpx.Response) -> list[str]:
    return answer.headers.get_list("set-cookie")


def _cookie(answer: httpx.Response) -> dict[str, str]:
    """The session cookie's value and attributes (lower-case names; flags map to "")."""
    [header] = _set_cookies(answer)
    name_value, *attributes = [part.strip() for part in header.split(";")]
    name, value = name_value.split("=", 1)
    assert name == "hotline_agent"
    parsed = {"value": value}
    for attribute in attributes:
        key, _, setting = attribute.partition("=")
        parsed[key.lower()] = setting
    return parsed


def _session(answer: httpx.Response) -> tuple[dict[str, str], str]:
    """The Cookie header and CSRF token a successful login gave."""
    assert answer.status_code == 200, answer.text
    return {"Cookie": f"hotline_agent={_cookie(answer)['value']}"}, answer.json()["csrf"]


# Logging in.


async def test_a_login_sets_an_http_only_strict_cookie_for_the_console_and_me_answers(console: Console) -> None:
    answer = await console.login("wangli")
    assert answer.status_code == 200
    body = answer.json()
    assert body["agent"] == {"id": body["agent"]["id"], "username": "wangli", "name": "王丽", "role": "agent"}
    cookie = _cookie(answer)
    assert len(cookie["value"]) >= 43
    assert (cookie["httponly"], cookie["samesite"], cookie["path"]) == ("", "Strict", "/agent")
    assert "secure" not in cookie  # plain HTTP, no proxy saying otherwise
    assert answer.headers["cache-control"] == "no-store"

    me = await console.client.get(f"{console.url}/agent/api/me", headers={"Cookie": f"hotline_agent={cookie['value']}"})
    assert me.status_code == 200
    assert me.json() == {"agent": body["agent"], "csrf": body["csrf"]}


async def test_wrong_password_and_unknown_username_get_the_same_401(console: Console) -> None:
    wrong = await console.login("wangli", "not-the-password")
    unknown = await console.login("nobody", PASSWORD)
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert answer.json() == {"error": WRONG_LOGIN}
        assert _set_cookies(answer) == []


@pytest.mark.parametrize("header", [None, "XMLHttpRequest", "hotline-console-x"])
async def test_a_login_without_the_consoles_header_is_refused(console: Console, header: str | None) -> None:
    headers = {} if header is None else {"X-Requested-With": header}
    answer = await console.client.post(
        f"{console.url}/agent/api/login", json={"username": "wangli", "password": PASSWORD}, headers=headers
    )
    assert answer.status_code == 403
    assert "登录页面" in answer.json()["error"]
    assert _set_cookies(answer) == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"username": "wangli"}',
        b'{"username": 1, "password": "x"}',
        b"{" + b" " * 9000 + b"}",
    ],
)
async def test_a_malformed_login_is_a_400(console: Console, body: bytes) -> None:
    answer = await console.client.post(f"{console.url}/agent/api/login", content=body, headers=CONSOLE)
    assert answer.status_code == 400
    assert answer.json() == {"error": "请输入用户名和密码"}


def _from(address: str) -> dict[str, str]:
    """Headers of a login that came through our proxy from ``address`` (the test client is on loopback)."""
    return {"X-Forwarded-For": address}


async def test_five_failures_from_one_address_get_429_there_while_the_agent_logs_in_elsewhere(console: Console) -> None:
    attacker, office = _from("203.0.113.5"), _from("10.1.2.3")
    for _ in range(4):
        assert (await console.login("wangli", "not-the-password", **attacker)).status_code == 401
    throttled = await console.login("wangli", "not-the-password", **attacker)
    assert (throttled.status_code, throttled.json()) == (429, {"error": "登录失败次数过多，请15分钟后再试"})
    assert throttled.json()["error"] == throttled_message(15)
    assert 890 <= int(throttled.headers["retry-after"]) <= 900
    right = await console.login("wangli", **attacker)
    assert right.status_code == 429 and _set_cookies(right) == []  # the attacker's right guess is not even checked
    assert (await console.login("wangli", **office)).status_code == 200  # the agent at the office is not locked out
    assert (await console.login("zhaomin", **attacker)).status_code == 200  # nor another account from there


async def test_an_unknown_username_gets_exactly_what_a_known_one_gets(console: Console) -> None:
    answers = {}
    for username, address in (("wangli", "203.0.113.5"), ("nobody", "203.0.113.6")):
        seen = []
        for _ in range(6):
            answer = await console.login(username, "not-the-password", **_from(address))
            seen.append((answer.status_code, answer.json()))
        answers[username] = seen
    assert answers["wangli"] == answers["nobody"]
    assert [status for status, _ in answers["nobody"]] == [401] * 4 + [429] * 2


async def test_many_usernames_tried_from_one_address_throttle_that_address(console: Console) -> None:
    console.use_settings(agent_lockout_address_failures=6)
    sprayer = _from("198.51.100.9")
    for n in range(5):
        assert (await console.login(f"guess{n}", "not-the-password", **sprayer)).status_code == 401
    assert (await console.login("guess5", "not-the-password", **sprayer)).status_code == 429
    assert (await console.login("wangli", **sprayer)).status_code == 429
    assert (await console.login("wangli", **_from("10.1.2.3"))).status_code == 200


async def test_without_trusted_forwarding_the_peer_address_is_what_counts(console: Console) -> None:
    """X-Forwarded-For is believed only from a proxy of ours and with TRUST_FORWARDED_HEADERS on."""
    console.use_settings(trust_forwarded_headers=False)
    for n in range(4):
        assert (await console.login("wangli", "not-the-password", **_from(f"203.0.113.{n}"))).status_code == 401
    # All five came from the test client's own address, whatever they said.
    assert (await console.login("wangli", "not-the-password", **_from("203.0.113.99"))).status_code == 429


async def test_an_unknown_username_takes_as_long_as_a_wrong_password(console: Console) -> None:
    """Both check a scrypt hash (a decoy for the unknown one): the time does not tell which usernames exist."""

    async def median_s(username: str, address: str) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            answer = await console.login(username, "not-the-password", **_from(address))
            times.append(time.perf_counter() - started)
            assert answer.status_code == 401
        return sorted(times)[1]

    await console.login("warm-up", "not-the-password", **_from("192.0.2.1"))  # the decoy hash is made once
    known, unknown = await median_s("wangli", "192.0.2.2"), await median_s("nobody", "192.0.2.3")
    assert unknown >= 0.5 * known and known >= 0.5 * unknown, (known, unknown)


# The Secure flag.


async def test_the_cookie_is_secure_behind_a_trusted_https_proxy(console: Console) -> None:
    forwarded = await console.login("wangli", **{"X-Forwarded-Proto": "https"})
    assert "secure" in _cookie(forwarded)
    console.use_settings(trust_forwarded_headers=False)
    untrusted = await console.login("wangli", **{"X-Forwarded-Proto": "https"})
    assert "secure" not in _cookie(untrusted)
    plain = await console.login("wangli", **{"X-Forwarded-Proto": "http"})
    assert "secure" not in _cookie(plain)


async def test_the_cookie_is_secure_when_the_public_address_is_https(console: Console) -> None:
    console.use_settings(public_base_url="https://12345.example.gov.cn")
    assert "secure" in _cookie(await console.login("wangli"))
    console.use_settings(public_base_url="http://12345.example.gov.cn")
    assert "secure" not in _cookie(await console.login("wangli"))


def _tls_context(folder: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


async def test_the_cookie_is_secure_over_https(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    await add_agent(sqlite_database, "wangli", "王丽", "agent", PASSWORD, clock.now())
    async for running in _serve(sqlite_database, monkeypatch, tls=_tls_context(tmp_path)):
        assert running.url.startswith("https://")
        answer = await running.login("wangli")
        assert answer.status_code == 200
        cookie = _cookie(answer)
        assert "secure" in cookie and cookie["samesite"] == "Strict" and "httponly" in cookie


# Protected routes.


async def test_anonymous_requests_get_401(console: Console) -> None:
    for method, path in [("GET", "me"), ("GET", "things"), ("POST", "things"), ("GET", "stats"), ("POST", "logout")]:
        answer = await console.client.request(method, f"{console.url}/agent/api/{path}")
        assert (answer.status_code, answer.json()) == (401, {"error": LOGIN_REQUIRED}), path


async def test_an_unknown_cookie_gets_401_and_is_cleared(console: Console) -> None:
    answer = await console.client.get(
        f"{console.url}/agent/api/things", headers={"Cookie": "hotline_agent=" + "A" * 43}
    )
    assert (answer.status_code, answer.json()) == (401, {"error": SESSION_ENDED})
    cleared = _cookie(answer)
    assert (cleared["value"], cleared["max-age"], cleared["path"]) == ('""', "0", "/agent")


async def _change_sessions(console: Console, **values: Any) -> None:
    """Set columns of every stored session (to make them look idle or old)."""
    async with console.database.session() as session:
        await session.execute(update(AgentSession).values(**values))


async def test_a_session_idle_for_an_hour_gets_401(console: Console) -> None:
    cookie, _ = _session(await console.login("wangli"))
    assert (await console.client.get(f"{console.url}/agent/api/things", headers=cookie)).status_code == 200
    await _change_sessions(console, last_seen_at=clock.now() - timedelta(minutes=61))
    answer = await console.client.get(f"{console.url}/agent/api/things", headers=cookie)
    assert (answer.status_code, answer.json()) == (401, {"error": SESSION_ENDED})


async def test_a_session_older_than_its_maximum_age_gets_401(console: Console) -> None:
    cookie, _ = _session(await console.login("wangli"))
    await _change_sessions(console, expires_at=clock.now() - timedelta(seconds=1))
    answer = await console.client.get(f"{console.url}/agent/api/me", headers=cookie)
    assert (answer.status_code, answer.json()) == (401, {"error": SESSION_ENDED})


async def test_a_wrong_role_gets_403(console: Console) -> None:
    agent, _ = _session(await console.login("wangli"))
    supervisor, _ = _session(await console.login("zhaomin"))
    refused = await console.client.get(f"{console.url}/agent/api/stats", headers=agent)
    assert (refused.status_code, refused.json()) == (403, {"error": WRONG_ROLE})
    allowed = await console.client.get(f"{console.url}/agent/api/stats", headers=supervisor)
    assert (allowed.status_code, allowed.json()) == (200, {"supervisor": "zhaomin"})
    both = await console.client.get(f"{console.url}/agent/api/things", headers=supervisor)
    assert (both.status_code, both.json()) == (200, {"read_by": "zhaomin"})


async def test_a_change_needs_the_sessions_csrf_token(console: Console) -> None:
    cookie, csrf = _session(await console.login("wangli"))
    _, other_csrf = _session(await console.login("zhaomin"))
    things = f"{console.url}/agent/api/things"
    for token in (None, "", "wrong", other_csrf, csrf[:-1]):
        headers = cookie if token is None else cookie | {"X-CSRF-Token": token}
        answer = await console.client.post(things, headers=headers, json={})
        assert (answer.status_code, answer.json()) == (403, {"error": CSRF_REFUSED}), token
    answer = await console.client.post(things, headers=cookie | {"X-CSRF-Token": csrf}, json={})
    assert (answer.status_code, answer.json()) == (200, {"changed_by": "wangli"})
    assert (await console.client.get(things, headers=cookie)).status_code == 200  # reading needs no token


async def test_any_method_but_get_is_a_change_even_when_the_handler_does_not_say_so(console: Console) -> None:
    cookie, csrf = _session(await console.login("wangli"))
    careless = f"{console.url}/agent/api/careless"
    refused = await console.client.delete(careless, headers=cookie)
    assert (refused.status_code, refused.json()) == (403, {"error": CSRF_REFUSED})
    allowed = await console.client.delete(careless, headers=cookie | {"X-CSRF-Token": csrf})
    assert (allowed.status_code, allowed.json()) == (200, {"read_by": "wangli"})


# Logging out.


async def test_logout_needs_the_csrf_token_then_ends_the_session_and_clears_the_cookie(console: Console) -> None:
    cookie, csrf = _session(await console.login("wangli"))
    logout = f"{console.url}/agent/api/logout"
    refused = await console.client.post(logout, headers=cookie | {"X-CSRF-Token": "wrong"})
    assert (refused.status_code, refused.json()) == (403, {"error": CSRF_REFUSED})
    assert (await console.client.get(f"{console.url}/agent/api/me", headers=cookie)).status_code == 200
    done = await console.client.post(logout, headers=cookie | {"X-CSRF-Token": csrf})
    assert (done.status_code, done.json()) == (200, {"logged_out": True})
    cleared = _cookie(done)
    assert (cleared["value"], cleared["max-age"], cleared["path"], cleared["samesite"]) == (
        '""',
        "0",
        "/agent",
        "Strict",
    )
    for path in ("me", "things"):
        answer = await console.client.get(f"{console.url}/agent/api/{path}", headers=cookie)
        assert (answer.status_code, answer.json()) == (401, {"error": SESSION_ENDED})


async def test_logging_in_again_ends_the_browsers_previous_session(console: Console) -> None:
    first, _ = _session(await console.login("wangli"))
    second = await console.client.post(
        f"{console.url}/agent/api/login",
        json={"username": "zhaomin", "password": PASSWORD},
        headers=CONSOLE | first,
    )
    assert second.json()["agent"]["username"] == "zhaomin"
    assert (await console.client.get(f"{console.url}/agent/api/me", headers=first)).status_code == 401


# Failures and logs.


async def test_a_database_that_is_down_gets_503(
    console: Console, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cookie, _ = _session(await console.login("wangli"))
    console.runtime.database = Database(f"sqlite:///{tmp_path / 'missing' / 'hotline.db'}")  # no such folder
    try:
        login = await console.login("wangli")
        assert (login.status_code, login.json()) == (503, {"error": "系统繁忙，请稍后再试"})
        me = await console.client.get(f"{console.url}/agent/api/me", headers=cookie)
        assert me.status_code == 503
    finally:
        await console.runtime.database.close()
    assert "the database is unavailable" in caplog.text


async def test_logs_name_the_agent_but_never_a_password_or_token(
    console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    await console.login("wangli", "not-the-password")
    await console.login("correct-horse-42-typed-as-a-username", PASSWORD)
    answer = await console.login("wangli")
    cookie, csrf = _session(answer)
    await console.client.post(f"{console.url}/agent/api/things", headers=cookie)
    await console.client.post(f"{console.url}/agent/api/logout", headers=cookie | {"X-CSRF-Token": csrf})
    assert "agent wangli logged in" in caplog.text and "agent wangli logged out" in caplog.text
    assert "wrong password" in caplog.text
    token = _cookie(answer)["value"]
    for secret in ("not-the-password", PASSWORD, token, csrf):
        assert secret not in caplog.text
