"""The agent console's login, logout and /me routes, its session cookie, and the check every handler makes.

The console's blueprint (url_prefix ``/agent``) gets ``/api/login``, ``/api/logout`` and ``/api/me``
from ``add_auth_routes``; each of its handlers starts with ``authorised(request, roles, change)``.
The cookie holds a random token (``HttpOnly; SameSite=Strict; Path=/agent``, ``Secure`` over
HTTPS); every change carries the session's CSRF token in ``X-CSRF-Token``; a login must come from
the console's own script (``X-Requested-With: hotline-console``), so a cross-site form cannot log
someone in.
"""

from __future__ import annotations

import dataclasses
import hmac
import ipaddress
import json
import logging
import math
import weakref
from datetime import datetime
from pathlib import Path
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.core import clock
from bot.core.db import DatabaseUnavailable
from bot.core.settings import Settings
from bot.core.shared_state import SharedState
from bot.handoff.agents import (
    ROLES,
    ActiveSession,
    AgentView,
    LoginRefused,
    LoginRules,
    end_session,
    session_for,
)
from bot.handoff.login_throttle import LoginThrottle, LoginThrottled, ThrottleRules, throttled_login
from channels.connector import channel_runtime
from channels.pages import page_file

logger = logging.getLogger(__name__)

COOKIE_NAME = "hotline_agent"
COOKIE_PATH = "/agent"
CSRF_HEADER = "X-CSRF-Token"
REQUESTED_WITH = "hotline-console"
# A login body larger than this is refused before it is read as JSON.
MAX_LOGIN_BODY_BYTES = 8 * 1024
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_NO_STORE = {"Cache-Control": "no-store"}

WRONG_LOGIN = "用户名或密码错误"
CSRF_REFUSED = "缺少或无效的CSRF令牌，请刷新页面"
LOGIN_REQUIRED = "请先登录"
SESSION_ENDED = "登录已过期，请重新登录"
WRONG_ROLE = "您没有权限进行此操作"
FOREIGN_LOGIN = "请从客服工作台的登录页面登录"
MALFORMED_LOGIN = "请输入用户名和密码"
UNAVAILABLE = "系统繁忙，请稍后再试"


def throttled_message(minutes: int) -> str:
    """What a throttled address is told, whatever the username: how many minutes until it can try again."""
    return f"登录失败次数过多，请{minutes}分钟后再试"


def minutes_left(until: datetime, now: datetime) -> int:
    """Whole minutes (rounded up, at least one) from ``now`` until ``until``."""
    return max(1, math.ceil((until - now).total_seconds() / 60))


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> HTTPResponse:
    return response.json({"error": message}, status=status, headers=_NO_STORE | (headers or {}))


def client_address(request: Request, settings: Settings) -> str:
    """The address a request came from: the peer's, or behind a proxy the one the proxy saw.

    ``X-Forwarded-For`` is believed only when ``TRUST_FORWARDED_HEADERS`` is on and the peer itself
    is a loopback or private address (a proxy of ours): a client on the internet cannot name itself.
    """
    peer = request.ip or ""
    if settings.trust_forwarded_headers and _is_internal(peer):
        hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",") if hop.strip()]
        if hops:
            return hops[-1]  # the address our proxy appended: what it saw
    return peer or "unknown"


def _is_internal(address: str) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return parsed.is_loopback or parsed.is_private


# One throttle per shared state: its in-process fallback counts must outlive a request.
_throttles: weakref.WeakKeyDictionary[SharedState, LoginThrottle] = weakref.WeakKeyDictionary()


def login_throttle(state: SharedState, settings: Settings) -> LoginThrottle:
    """The failed-login throttle on this shared state, with the current settings' limits."""
    rules = ThrottleRules.from_settings(settings)
    throttle = _throttles.get(state)
    if throttle is None:
        throttle = _throttles[state] = LoginThrottle(state, rules)
    return throttle if throttle.rules == rules else dataclasses.replace(throttle, rules=rules)


def is_https(request: Request, settings: Settings) -> bool:
    """Whether the browser reached us over HTTPS: directly, through a trusted proxy, or by configuration."""
    if request.scheme in ("https", "wss"):
        return True
    if settings.trust_forwarded_headers:
        forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if forwarded == "https":
            return True
    return settings.public_base_url.lower().startswith("https://")


def set_session_cookie(resp: HTTPResponse, token: str, secure: bool) -> None:
    """Put the session's token in the console's cookie (a browser-session cookie)."""
    resp.cookies[COOKIE_NAME] = token
    cookie = resp.cookies[COOKIE_NAME]
    cookie["path"] = COOKIE_PATH
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    if secure:
        cookie["secure"] = True


def clear_session_cookie(resp: HTTPResponse, secure: bool) -> None:
    """Tell the browser to forget the console's cookie."""
    set_session_cookie(resp, "", secure)
    resp.cookies[COOKIE_NAME]["max-age"] = 0


def session_token(request: Request) -> str | None:
    """The console cookie's token, if the request carries one."""
    token = request.cookies.get(COOKIE_NAME)
    return token or None


def login_rules(settings: Settings) -> LoginRules:
    """The lock-out and session lifetimes from the settings."""
    return LoginRules.from_settings(settings)


async def current_session(request: Request) -> ActiveSession | None:
    """The request's valid session (no role or CSRF check), noted as seen; None without one.

    Long requests (the console's event stream) call this now and then to stay online and to
    notice a logout or an expiry.

    Raises:
        DatabaseUnavailable: the database is down.
    """
    token = session_token(request)
    if token is None:
        return None
    runtime = channel_runtime()
    return await session_for(runtime.database, token, clock.now(), login_rules(runtime.settings))


async def _checked(request: Request, roles: tuple[str, ...], change: bool) -> ActiveSession | HTTPResponse:
    """The request's session if it may do this, else the 401/403/503 response to return."""
    runtime = channel_runtime()
    token = session_token(request)
    if token is None:
        return _error(401, LOGIN_REQUIRED)
    try:
        active = await session_for(runtime.database, token, clock.now(), login_rules(runtime.settings))
    except DatabaseUnavailable:
        logger.error("agent console: cannot check a session, the database is unavailable")
        return _error(503, UNAVAILABLE)
    if active is None:
        ended = _error(401, SESSION_ENDED)
        clear_session_cookie(ended, is_https(request, runtime.settings))
        return ended
    if change or request.method.upper() not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent.encode("utf-8"), active.csrf.encode("utf-8")):
            logger.warning("agent %s: a change without a valid CSRF token was refused", active.agent.username)
            return _error(403, CSRF_REFUSED)
    if active.agent.role not in roles:
        return _error(403, WRONG_ROLE)
    request.ctx.agent_session = active
    return active


async def authorised(
    request: Request, roles: tuple[str, ...] = ROLES, change: bool = False
) -> AgentView | HTTPResponse:
    """The logged-in agent if they may do this, else the response to return instead.

    401 without a valid session (anonymous, expired, logged out); 403 for a role not in ``roles``
    or, for a change (``change`` or any method but GET/HEAD/OPTIONS), a missing or wrong
    ``X-CSRF-Token``; 503 when the database is down.
    """
    checked = await _checked(request, roles, change)
    return checked if isinstance(checked, HTTPResponse) else checked.agent


async def guarded_page(
    request: Request, page: Path, headers: dict[str, str], roles: tuple[str, ...] = ROLES
) -> HTTPResponse:
    """A console page for a logged-in agent of these roles.

    Anyone not logged in is sent to the login page; another role gets the page with status 403
    (its script, refused by the API too, says what the page is for).
    """
    checked = await authorised(request, roles)
    if isinstance(checked, HTTPResponse):
        if checked.status == 401:
            return response.redirect("/agent/login", headers={"Cache-Control": "no-store"})
        if checked.status != 403:
            return checked
    status = 403 if isinstance(checked, HTTPResponse) else 200
    return await page_file(page, headers, status)


def _login_body(request: Request) -> tuple[str, str] | None:
    """The username and password of a login request, or None when the body is not such a JSON object."""
    if len(request.body or b"") > MAX_LOGIN_BODY_BYTES:
        return None
    try:
        body: Any = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deeply
        return None
    if not isinstance(body, dict):
        return None
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username.strip() or not password:
        return None
    return username, password


async def login_route(request: Request) -> HTTPResponse:
    """POST /agent/api/login: a session cookie and the CSRF token, or 401 (any wrong login), or 429.

    An unknown username and a wrong password get the same 401 after the same work; too many
    failures from one address (for one username, or for any) get 429 for that address only.
    """
    if request.headers.get("x-requested-with", "") != REQUESTED_WITH:
        return _error(403, FOREIGN_LOGIN)
    credentials = _login_body(request)
    if credentials is None:
        return _error(400, MALFORMED_LOGIN)
    runtime = channel_runtime()
    now = clock.now()
    try:
        previous = session_token(request)
        if previous is not None:
            await end_session(runtime.database, previous)
        started = await throttled_login(
            runtime.database,
            login_throttle(runtime.state, runtime.settings),
            client_address(request, runtime.settings),
            credentials[0],
            credentials[1],
            now,
            login_rules(runtime.settings),
        )
    except LoginRefused:
        return _error(401, WRONG_LOGIN)
    except LoginThrottled as throttled:
        wait_s = max(1, math.ceil((throttled.until - now).total_seconds()))
        minutes = minutes_left(throttled.until, now)
        return _error(429, throttled_message(minutes), {"Retry-After": str(wait_s)})
    except DatabaseUnavailable:
        logger.error("agent console: cannot log in, the database is unavailable")
        return _error(503, UNAVAILABLE)
    answer = response.json({"agent": started.agent.as_json(), "csrf": started.csrf}, headers=_NO_STORE)
    set_session_cookie(answer, started.token, is_https(request, runtime.settings))
    return answer


async def logout_route(request: Request) -> HTTPResponse:
    """POST /agent/api/logout (with the CSRF token): the session is deleted and the cookie cleared."""
    checked = await _checked(request, ROLES, change=True)
    if isinstance(checked, HTTPResponse):
        return checked
    runtime = channel_runtime()
    token = session_token(request)
    try:
        if token is not None:
            await end_session(runtime.database, token)
    except DatabaseUnavailable:
        return _error(503, UNAVAILABLE)
    logger.info("agent %s logged out", checked.agent.username)
    answer = response.json({"logged_out": True}, headers=_NO_STORE)
    clear_session_cookie(answer, is_https(request, runtime.settings))
    return answer


async def me_route(request: Request) -> HTTPResponse:
    """GET /agent/api/me: who is logged in and the session's CSRF token, or 401."""
    checked = await _checked(request, ROLES, change=False)
    if isinstance(checked, HTTPResponse):
        return checked
    return response.json({"agent": checked.agent.as_json(), "csrf": checked.csrf}, headers=_NO_STORE)


def add_auth_routes(blueprint: Blueprint) -> None:
    """Add /api/login, /api/logout and /api/me to the console's blueprint (mounted at /agent)."""
    blueprint.add_route(login_route, "/api/login", methods=["POST"], name="agent_api_login")
    blueprint.add_route(logout_route, "/api/logout", methods=["POST"], name="agent_api_logout")
    blueprint.add_route(me_route, "/api/me", methods=["GET"], name="agent_api_me")
