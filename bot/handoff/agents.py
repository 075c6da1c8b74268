"""Console accounts of agents and supervisors: passwords, logins, sessions, who is online.

Passwords are kept as scrypt hashes (``scrypt$n$r$p$salt_b64$hash_b64``). A login gives a random
token (the cookie) and a CSRF token; only the token's SHA-256 digest is stored. A session ends
after an idle time or a maximum age, whichever comes first. Times are naive UTC, passed in.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.db import Database
from bot.core.models import AgentAccount, AgentSession
from bot.core.settings import Settings

logger = logging.getLogger(__name__)

ROLES = ("agent", "supervisor")
ROLE_LABELS = {"agent": "客服", "supervisor": "班长"}
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
MAX_NAME_CHARS = 64
# An agent is online while one of their sessions was seen this recently (the console's event stream
# keeps it fresh); a session's last_seen_at is written at most once per SEEN_EVERY.
ONLINE_WINDOW = timedelta(minutes=2)
SEEN_EVERY = timedelta(minutes=1)
_USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{1,63}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,128}")

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SALT_BYTES, _HASH_BYTES = 16, 32
_SCRYPT_MAXMEM = 64 * 1024 * 1024


class AccountRefused(ValueError):
    """An account change the rules refuse; the message is for the person at the command line."""


class InvalidAccount(AccountRefused):
    """A username, name or role that cannot be used."""


class PasswordTooShort(AccountRefused):
    """A new password shorter than MIN_PASSWORD_CHARS."""


class UsernameTaken(AccountRefused):
    """An account with this username exists already."""


class UnknownAgent(AccountRefused):
    """No account has this username."""


class LoginRefused(Exception):
    """Wrong username or password (or a disabled account): one answer for all of them."""


@dataclass(frozen=True)
class AgentView:
    """What the console knows of a logged-in agent or supervisor."""

    id: int
    username: str
    name: str
    role: str

    def as_json(self) -> dict[str, Any]:
        """The agent as the console's API shows it."""
        return {"id": self.id, "username": self.username, "name": self.name, "role": self.role}


@dataclass(frozen=True)
class AgentListing:
    """One account as ``python -m bot agents list`` shows it (never the password hash)."""

    agent: AgentView
    active: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class LoginRules:
    """The lifetime of a session (failed logins are throttled by ``bot.handoff.login_throttle``)."""

    idle: timedelta = timedelta(minutes=60)
    max_age: timedelta = timedelta(hours=12)

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginRules:
        """The rules of AGENT_SESSION_IDLE_MINUTES and AGENT_SESSION_MAX_HOURS."""
        return cls(
            idle=timedelta(minutes=settings.agent_session_idle_minutes),
            max_age=timedelta(hours=settings.agent_session_max_hours),
        )


@dataclass(frozen=True)
class NewSession:
    """A login's outcome: the cookie's token and the CSRF token (neither is stored in clear but the CSRF)."""

    agent: AgentView
    token: str
    csrf: str
    expires_at: datetime


@dataclass(frozen=True)
class ActiveSession:
    """A valid session: whose it is and the CSRF token its changes must carry."""

    agent: AgentView
    csrf: str
    token_digest: str
    expires_at: datetime


# Passwords.


def hash_password(password: str) -> str:
    """The scrypt hash of a password with a fresh random salt, as stored."""
    salt = secrets.token_bytes(_SALT_BYTES)
    derived = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=_SCRYPT_MAXMEM,
        dklen=_HASH_BYTES,
    )
    encoded = (base64.b64encode(salt).decode("ascii"), base64.b64encode(derived).decode("ascii"))
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encoded[0]}${encoded[1]}"


def password_matches(password: str, stored: str) -> bool:
    """Whether ``password`` is the one hashed in ``stored`` (constant-time; False for a malformed hash)."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt" or not all(p.isdigit() for p in parts[1:4]):
        return False
    n, r, p = (int(x) for x in parts[1:4])
    try:
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
        derived = hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=len(expected)
        )
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(derived, expected)


@functools.lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """A hash to check unknown usernames against, so that they take as long as wrong passwords."""
    return hash_password(secrets.token_urlsafe(16))


def check_new_password(password: str) -> None:
    """Refuse a password that is too short (or absurdly long).

    Raises:
        PasswordTooShort: fewer than MIN_PASSWORD_CHARS characters.
        InvalidAccount: more than MAX_PASSWORD_CHARS characters.
    """
    if len(password) < MIN_PASSWORD_CHARS:
        raise PasswordTooShort(f"密码至少需要{MIN_PASSWORD_CHARS}个字符。")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidAccount(f"密码不能超过{MAX_PASSWORD_CHARS}个字符。")


def normalise_username(username: str) -> str:
    """A username as stored: trimmed and lower-case."""
    return username.strip().lower()


def check_account(username: str, name: str, role: str) -> None:
    """Refuse a username, display name or role that cannot be used.

    Raises:
        InvalidAccount: the username is not 2-64 of a-z 0-9 _ . - (starting with a letter or digit),
            the name is empty or too long, or the role is not agent or supervisor.
    """
    if not _USERNAME.fullmatch(username):
        raise InvalidAccount("用户名应为2到64位小写字母、数字或 _ . - ，并以字母或数字开头。")
    if not name.strip() or len(name.strip()) > MAX_NAME_CHARS:
        raise InvalidAccount(f"姓名不能为空，且不超过{MAX_NAME_CHARS}个字符。")
    if role not in ROLES:
        raise InvalidAccount("角色只能是 agent（客服）或 supervisor（班长）。")


def token_digest(token: str) -> str:
    """The SHA-256 digest (hex) under which a session token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _view(account: AgentAccount) -> AgentView:
    return AgentView(id=account.id, username=account.username, name=account.display_name, role=account.role)


# Accounts.


async def add_agent(database: Database, username: str, name: str, role: str, password: str, now: datetime) -> AgentView:
    """Create an agent or supervisor account.

    Raises:
        InvalidAccount: a username, name or role that cannot be used.
        PasswordTooShort: the password is shorter than MIN_PASSWORD_CHARS.
        UsernameTaken: the username exists already.
    """
    username = normalise_username(username)
    check_account(username, name, role)
    check_new_password(password)
    password_hash = await asyncio.to_thread(hash_password, password)
    account = AgentAccount(
        username=username,
        display_name=name.strip(),
        role=role,
        password_hash=password_hash,
        failed_logins=0,
        active=True,
        created_at=now,
    )
    try:
        async with database.session() as session:
            if await _account(session, username) is not None:
                raise UsernameTaken(f"用户名 {username} 已存在。")
            session.add(account)
            await session.flush()
            view = _view(account)
    except IntegrityError as error:  # created at the same moment by someone else
        raise UsernameTaken(f"用户名 {username} 已存在。") from error
    logger.info("agent account %s created (%s)", username, role)
    return view


async def list_agents(database: Database) -> list[AgentListing]:
    """Every account, active or not, in the order they were created."""
    async with database.session() as session:
        accounts = (await session.execute(select(AgentAccount).order_by(AgentAccount.id))).scalars().all()
    return [
        AgentListing(
            agent=_view(a),
            active=a.active,
            created_at=a.created_at,
            last_login_at=a.last_login_at,
        )
        for a in accounts
    ]


async def change_password(database: Database, username: str, password: str) -> None:
    """Set a new password; this lifts a lock-out and ends the account's sessions.

    Raises:
        PasswordTooShort: the password is shorter than MIN_PASSWORD_CHARS.
        UnknownAgent: no account has this username.
    """
    username = normalise_username(username)
    check_new_password(password)
    password_hash = await asyncio.to_thread(hash_password, password)
    async with database.session() as session:
        account = await _account(session, username)
        if account is not None:
            account.password_hash = password_hash
            account.failed_logins = 0
            account.locked_until = None
            await session.execute(delete(AgentSession).where(AgentSession.agent_id == account.id))
    if account is None:
        raise UnknownAgent(f"没有用户名为 {username} 的账号。")
    logger.info("agent account %s: password changed, sessions ended", username)


async def disable_agent(database: Database, username: str) -> None:
    """Disable an account: it can no longer log in, and its sessions end at once.

    Raises:
        UnknownAgent: no account has this username.
    """
    username = normalise_username(username)
    async with database.session() as session:
        account = await _account(session, username)
        if account is not None:
            account.active = False
            await session.execute(delete(AgentSession).where(AgentSession.agent_id == account.id))
    if account is None:
        raise UnknownAgent(f"没有用户名为 {username} 的账号。")
    logger.info("agent account %s disabled", username)


async def _account(session: AsyncSession, username: str) -> AgentAccount | None:
    return (await session.execute(select(AgentAccount).where(AgentAccount.username == username))).scalar_one_or_none()


# Logins and sessions.


async def login(database: Database, username: str, password: str, now: datetime, rules: LoginRules) -> NewSession:
    """Check a username and password and start a session.

    Every failure is the same ``LoginRefused`` after the same work (an unknown username is checked
    against a decoy hash). Nothing here locks an account: repeated failures are throttled by where
    they come from (``bot.handoff.login_throttle``), so nobody can lock an agent out by failing on
    their name.

    Raises:
        LoginRefused: unknown username, wrong password or disabled account (indistinguishable).
        DatabaseUnavailable: the database is down.
    """
    username = normalise_username(username)
    async with database.session() as session:
        account = await _account(session, username) if len(username) <= 64 else None
        found = (account.id, account.password_hash, account.active) if account else None
    matched = await asyncio.to_thread(password_matches, password, found[1] if found else _decoy_hash())
    if found is None or not found[2] or not matched:
        logger.warning("agent login refused: unknown username, wrong password or disabled account")
        raise LoginRefused()
    return await _start_session(database, found[0], username, now, rules)


async def _start_session(
    database: Database, agent_id: int, username: str, now: datetime, rules: LoginRules
) -> NewSession:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires_at = now + rules.max_age
    async with database.session() as session:
        # failed_logins and locked_until are no longer used (throttling is by source address); a lock an
        # older version left is cleared here.
        reset = await session.execute(
            update(AgentAccount)
            .where(AgentAccount.id == agent_id, AgentAccount.active.is_(True))
            .values(failed_logins=0, locked_until=None, last_login_at=now)
            .execution_options(synchronize_session=False)
        )
        account = await session.get(AgentAccount, agent_id)
        if reset.rowcount and account is not None:
            session.add(
                AgentSession(
                    token_digest=token_digest(token),
                    agent_id=agent_id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=expires_at,
                    last_seen_at=now,
                )
            )
            await session.execute(delete(AgentSession).where(_expired(now, rules)))
    if account is None or not account.active or not reset.rowcount:  # disabled between the check and now
        raise LoginRefused()
    logger.info("agent %s logged in", username)
    return NewSession(agent=_view(account), token=token, csrf=csrf, expires_at=expires_at)


def _expired(now: datetime, rules: LoginRules) -> Any:
    return or_(AgentSession.expires_at <= now, AgentSession.last_seen_at <= now - rules.idle)


async def session_for(database: Database, token: str, now: datetime, rules: LoginRules) -> ActiveSession | None:
    """The valid session of a cookie's token, or None; notes that it was seen (at most once a minute).

    An expired session (idle too long, too old) or one of a disabled account is deleted.
    """
    if not _TOKEN.fullmatch(token):
        return None
    digest = token_digest(token)
    async with database.session() as session:
        row = (
            await session.execute(
                select(AgentSession, AgentAccount)
                .join(AgentAccount, AgentAccount.id == AgentSession.agent_id)
                .where(AgentSession.token_digest == digest)
            )
        ).one_or_none()
        if row is None:
            return None
        stored, account = row
        if not account.active or stored.expires_at <= now or stored.last_seen_at <= now - rules.idle:
            await session.execute(delete(AgentSession).where(AgentSession.token_digest == digest))
            logger.info("agent %s: session ended (expired or account disabled)", account.username)
            return None
        if now - stored.last_seen_at >= SEEN_EVERY:
            await session.execute(
                update(AgentSession)
                .where(AgentSession.token_digest == digest, AgentSession.last_seen_at < now)
                .values(last_seen_at=now)
                .execution_options(synchronize_session=False)
            )
        return ActiveSession(
            agent=_view(account), csrf=stored.csrf_token, token_digest=digest, expires_at=stored.expires_at
        )


async def end_session(database: Database, token: str) -> bool:
    """Delete the session of a cookie's token (logout); whether there was one."""
    if not _TOKEN.fullmatch(token):
        return False
    async with database.session() as session:
        deleted = await session.execute(delete(AgentSession).where(AgentSession.token_digest == token_digest(token)))
    return bool(deleted.rowcount)


async def agent_by_id(database: Database, agent_id: int) -> AgentView | None:
    """An account by its id (active or not), or None."""
    async with database.session() as session:
        account = await session.get(AgentAccount, agent_id)
        return None if account is None else _view(account)


async def online_agents(database: Database, now: datetime) -> list[AgentView]:
    """Active agents and supervisors with a live session seen within ONLINE_WINDOW, by id."""
    seen = select(AgentSession.agent_id).where(
        AgentSession.last_seen_at >= now - ONLINE_WINDOW, AgentSession.expires_at > now
    )
    async with database.session() as session:
        accounts = (
            await session.execute(
                select(AgentAccount)
                .where(AgentAccount.active.is_(True), AgentAccount.id.in_(seen))
                .order_by(AgentAccount.id)
            )
        ).scalars()
        return [_view(a) for a in accounts]
