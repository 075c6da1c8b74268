"""Console accounts: passwords, logins (never locked by failures), sessions, who is online; the CLI."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.cli.agents import PasswordMismatch, read_password
from bot.core.clock import china
from bot.core.db import Database
from bot.core.models import AgentAccount, AgentSession
from bot.core.settings import get_settings
from bot.handoff.agents import (
    AgentView,
    InvalidAccount,
    LoginRefused,
    LoginRules,
    PasswordTooShort,
    UnknownAgent,
    UsernameTaken,
    add_agent,
    change_password,
    disable_agent,
    end_session,
    hash_password,
    list_agents,
    login,
    online_agents,
    password_matches,
    session_for,
)
from tests.conftest import bot_command

T0 = china(2026, 11, 28, 9, 0)
RULES = LoginRules()
PASSWORD = "correct-horse-42"
WRONG = "wrong-password-1"


async def _agent(database: Database, username: str = "wangli", role: str = "agent", name: str = "王丽") -> AgentView:
    return await add_agent(database, username, name, role, PASSWORD, T0)


async def _stored_account(database: Database, username: str) -> AgentAccount:
    async with database.session() as session:
        return (await session.execute(select(AgentAccount).where(AgentAccount.username == username))).scalar_one()


async def _sessions(database: Database) -> list[AgentSession]:
    async with database.session() as session:
        return list((await session.execute(select(AgentSession))).scalars())


# Passwords.


def test_a_password_is_stored_as_a_salted_scrypt_hash() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second  # a fresh salt each time
    algorithm, n, r, p, salt, derived = first.split("$")
    assert (algorithm, n, r, p) == ("scrypt", str(2**14), "8", "1")
    assert salt and derived and PASSWORD not in first
    assert password_matches(PASSWORD, first) and password_matches(PASSWORD, second)
    assert not password_matches(WRONG, first)
    assert not password_matches(PASSWORD[:-1], first)


@pytest.mark.parametrize(
    "stored", ["", "plain", "scrypt$16384$8$1$!!$!!", "bcrypt$1$2$3$YQ==$YQ==", "scrypt$a$8$1$YQ==$YQ=="]
)
def test_a_malformed_stored_hash_matches_nothing(stored: str) -> None:
    assert not password_matches(PASSWORD, stored)


# Accounts.


async def test_an_account_is_created_with_a_normalised_username_and_listed_without_its_hash(database: Database) -> None:
    view = await add_agent(database, "  WangLi ", " 王丽 ", "supervisor", PASSWORD, T0)
    assert view == AgentView(id=view.id, username="wangli", name="王丽", role="supervisor")
    [listing] = await list_agents(database)
    assert listing.agent == view and listing.active and listing.last_login_at is None
    assert not hasattr(listing, "password_hash")
    stored = await _stored_account(database, "wangli")
    assert stored.password_hash.startswith("scrypt$") and PASSWORD not in stored.password_hash
    assert password_matches(PASSWORD, stored.password_hash)


async def test_a_username_is_taken_once_whatever_its_case(database: Database) -> None:
    await _agent(database)
    with pytest.raises(UsernameTaken, match="wangli 已存在"):
        await add_agent(database, "WANGLI", "另一个王丽", "agent", PASSWORD, T0)
    assert [a.agent.name for a in await list_agents(database)] == ["王丽"]


@pytest.mark.parametrize(
    ("username", "name", "role", "password", "refusal"),
    [
        ("zhang", "张三", "agent", "123456789", PasswordTooShort),
        ("zhang", "张三", "agent", "", PasswordTooShort),
        ("zhang", "张三", "admin", PASSWORD, InvalidAccount),
        ("z", "张三", "agent", PASSWORD, InvalidAccount),
        ("张三", "张三", "agent", PASSWORD, InvalidAccount),
        ("zhang", "  ", "agent", PASSWORD, InvalidAccount),
    ],
)
async def test_unusable_accounts_are_refused_and_nothing_is_stored(
    sqlite_database: Database, username: str, name: str, role: str, password: str, refusal: type[Exception]
) -> None:
    with pytest.raises(refusal):
        await add_agent(sqlite_database, username, name, role, password, T0)
    assert await list_agents(sqlite_database) == []


async def test_a_ten_character_password_is_long_enough(sqlite_database: Database) -> None:
    await add_agent(sqlite_database, "zhang", "张三", "agent", "0123456789", T0)
    assert (await login(sqlite_database, "zhang", "0123456789", T0, RULES)).agent.username == "zhang"


# Logging in.


async def test_a_login_starts_a_session_kept_only_as_the_tokens_digest(database: Database) -> None:
    agent = await _agent(database)
    started = await login(database, "WangLi", PASSWORD, T0, RULES)
    assert started.agent == agent
    assert started.expires_at == T0 + timedelta(hours=12)
    assert len(started.token) >= 43 and len(started.csrf) >= 43 and started.token != started.csrf
    [stored] = await _sessions(database)
    assert stored.token_digest == hashlib.sha256(started.token.encode()).hexdigest()
    assert started.token not in (stored.token_digest, stored.csrf_token)
    assert (stored.agent_id, stored.created_at, stored.last_seen_at, stored.expires_at) == (
        agent.id,
        T0,
        T0,
        T0 + timedelta(hours=12),
    )
    active = await session_for(database, started.token, T0, RULES)
    assert active is not None and (active.agent, active.csrf) == (agent, started.csrf)
    assert (await _stored_account(database, "wangli")).last_login_at == T0


async def test_unknown_username_and_wrong_password_are_refused_alike(database: Database) -> None:
    await _agent(database)
    with pytest.raises(LoginRefused) as unknown:
        await login(database, "nobody", PASSWORD, T0, RULES)
    with pytest.raises(LoginRefused) as wrong:
        await login(database, "wangli", WRONG, T0, RULES)
    assert (str(unknown.value), type(unknown.value)) == (str(wrong.value), type(wrong.value))
    assert await _sessions(database) == []


async def test_failures_never_lock_the_account(database: Database) -> None:
    await _agent(database)
    for n in range(20):
        with pytest.raises(LoginRefused):
            await login(database, "wangli", WRONG, T0 + timedelta(seconds=n), RULES)
    started = await login(database, "wangli", PASSWORD, T0 + timedelta(seconds=21), RULES)
    assert started.agent.username == "wangli"


async def test_a_lock_an_older_version_stored_neither_refuses_nor_stays(database: Database) -> None:
    await _agent(database)
    async with database.session() as session:
        await session.execute(update(AgentAccount).values(failed_logins=5, locked_until=T0 + timedelta(minutes=15)))
    assert (await login(database, "wangli", PASSWORD, T0, RULES)).agent.username == "wangli"
    stored = await _stored_account(database, "wangli")
    assert (stored.failed_logins, stored.locked_until) == (0, None)


def test_the_rules_come_from_the_settings(monkeypatch: pytest.MonkeyPatch, clean_settings: None) -> None:
    monkeypatch.setenv("AGENT_SESSION_IDLE_MINUTES", "20")
    monkeypatch.setenv("AGENT_SESSION_MAX_HOURS", "8")
    expected = LoginRules(idle=timedelta(minutes=20), max_age=timedelta(hours=8))
    assert LoginRules.from_settings(get_settings()) == expected


def test_the_default_rules_are_an_idle_hour_and_twelve_hours(
    monkeypatch: pytest.MonkeyPatch, clean_settings: None
) -> None:
    for name in (
        "AGENT_SESSION_IDLE_MINUTES",
        "AGENT_SESSION_MAX_HOURS",
    ):
        monkeypatch.delenv(name, raising=False)
    assert LoginRules.from_settings(get_settings()) == RULES == LoginRules(timedelta(minutes=60), timedelta(hours=12))


# Sessions.


async def test_a_session_ends_after_an_idle_hour(database: Database) -> None:
    await _agent(database)
    token = (await login(database, "wangli", PASSWORD, T0, RULES)).token
    kept_alive = T0 + timedelta(minutes=59)
    assert await session_for(database, token, kept_alive, RULES) is not None
    assert await session_for(database, token, kept_alive + timedelta(minutes=59), RULES) is not None
    assert await session_for(database, token, kept_alive + timedelta(minutes=59 + 60), RULES) is None
    assert await _sessions(database) == []  # the expired session is deleted
    assert await session_for(database, token, kept_alive + timedelta(minutes=60), RULES) is None


async def test_a_session_ends_after_twelve_hours_however_busy(database: Database) -> None:
    await _agent(database)
    token = (await login(database, "wangli", PASSWORD, T0, RULES)).token
    moment = T0
    while moment < T0 + timedelta(hours=11, minutes=50):
        moment += timedelta(minutes=50)
        assert await session_for(database, token, min(moment, T0 + timedelta(hours=11, minutes=59)), RULES)
    assert await session_for(database, token, T0 + timedelta(hours=12), RULES) is None


async def test_last_seen_is_written_at_most_once_a_minute(database: Database) -> None:
    await _agent(database)
    token = (await login(database, "wangli", PASSWORD, T0, RULES)).token
    await session_for(database, token, T0 + timedelta(seconds=59), RULES)
    assert [s.last_seen_at for s in await _sessions(database)] == [T0]
    await session_for(database, token, T0 + timedelta(seconds=61), RULES)
    assert [s.last_seen_at for s in await _sessions(database)] == [T0 + timedelta(seconds=61)]


async def test_a_logged_out_session_is_gone(database: Database) -> None:
    await _agent(database)
    first = await login(database, "wangli", PASSWORD, T0, RULES)
    second = await login(database, "wangli", PASSWORD, T0, RULES)
    assert await end_session(database, first.token)
    assert await session_for(database, first.token, T0, RULES) is None
    assert await session_for(database, second.token, T0, RULES) is not None  # another browser stays logged in
    assert not await end_session(database, first.token)


@pytest.mark.parametrize(
    "token",
    ["", "short", "x" * 300, "有中文的令牌有中文的令牌有中文的令牌有中文的令牌", "a b c d e f g h i j k l m n o p"],
)
async def test_malformed_or_unknown_tokens_have_no_session(sqlite_database: Database, token: str) -> None:
    assert await session_for(sqlite_database, token, T0, RULES) is None
    assert not await end_session(sqlite_database, token)


async def test_disabling_an_account_ends_its_sessions_and_its_logins(database: Database) -> None:
    await _agent(database)
    token = (await login(database, "wangli", PASSWORD, T0, RULES)).token
    await disable_agent(database, "WangLi")
    assert await session_for(database, token, T0, RULES) is None
    with pytest.raises(LoginRefused):
        await login(database, "wangli", PASSWORD, T0, RULES)
    [listing] = await list_agents(database)
    assert not listing.active
    with pytest.raises(UnknownAgent):
        await disable_agent(database, "nobody")


async def test_a_new_password_replaces_the_old_and_ends_sessions(database: Database) -> None:
    await _agent(database)
    token = (await login(database, "wangli", PASSWORD, T0, RULES)).token
    await change_password(database, "wangli", "a-brand-new-secret")
    assert await session_for(database, token, T0, RULES) is None
    with pytest.raises(LoginRefused):
        await login(database, "wangli", PASSWORD, T0, RULES)
    assert (await login(database, "wangli", "a-brand-new-secret", T0, RULES)).agent.username == "wangli"
    with pytest.raises(PasswordTooShort):
        await change_password(database, "wangli", "short")
    with pytest.raises(UnknownAgent):
        await change_password(database, "nobody", "a-brand-new-secret")


# Who is online.


async def test_online_means_a_live_session_seen_within_two_minutes(database: Database) -> None:
    wang = await _agent(database, "wangli", "agent", "王丽")
    zhao = await _agent(database, "zhaomin", "supervisor", "赵敏")
    await _agent(database, "liuyang", "agent", "刘洋")  # never logs in
    gone = await _agent(database, "chenjing", "agent", "陈静")
    wang_token = (await login(database, "wangli", PASSWORD, T0, RULES)).token
    await login(database, "zhaomin", PASSWORD, T0, RULES)
    gone_token = (await login(database, "chenjing", PASSWORD, T0, RULES)).token
    assert await online_agents(database, T0 + timedelta(seconds=30)) == [wang, zhao, gone]
    await end_session(database, gone_token)
    await session_for(database, wang_token, T0 + timedelta(seconds=90), RULES)  # the console's stream
    assert await online_agents(database, T0 + timedelta(minutes=3)) == [wang]
    await disable_agent(database, "wangli")
    assert await online_agents(database, T0 + timedelta(minutes=3)) == []


# The command line, in a real process on a SQLite file.


def _cli(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}", "LOG_LEVEL": "INFO"}
    env["TZ"] = "America/New_York"  # a server far from China: what is shown is still China time
    return bot_command("agents", *args, env=env, stdin=stdin)


async def _login_on_file(tmp_path: Path, username: str, password: str) -> AgentView:
    database = Database(f"sqlite:///{tmp_path / 'hotline.db'}")
    try:
        return (await login(database, username, password, T0, RULES)).agent
    finally:
        await database.close()


async def test_cli_adds_lists_changes_and_disables_accounts(tmp_path: Path) -> None:
    added = _cli(tmp_path, "add", "WangLi", "--name", "王丽", "--role", "supervisor", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "已创建账号 wangli（王丽，班长）。"
    assert (await _login_on_file(tmp_path, "wangli", PASSWORD)).role == "supervisor"
    assert _cli(tmp_path, "add", "zhaomin", "--name", "赵敏", stdin=PASSWORD).returncode == 0

    listed = _cli(tmp_path, "list")
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert [line.split("\t")[1:5] for line in lines] == [
        ["wangli", "王丽", "班长", "启用"],
        ["zhaomin", "赵敏", "客服", "启用"],
    ]
    assert lines[0].endswith("最近登录 2026-11-28 09:00") and lines[1].endswith("最近登录 -")  # China time

    changed = _cli(tmp_path, "passwd", "wangli", stdin="another-long-secret\n")
    assert changed.returncode == 0, changed.stderr
    with pytest.raises(LoginRefused):
        await _login_on_file(tmp_path, "wangli", PASSWORD)
    assert (await _login_on_file(tmp_path, "wangli", "another-long-secret")).username == "wangli"

    disabled = _cli(tmp_path, "disable", "zhaomin")
    assert disabled.returncode == 0 and "已停用账号 zhaomin" in disabled.stdout
    with pytest.raises(LoginRefused):
        await _login_on_file(tmp_path, "zhaomin", PASSWORD)
    assert "停用" in _cli(tmp_path, "list").stdout.splitlines()[1]

    everything = "".join(r.stdout + r.stderr for r in (added, listed, changed, disabled))
    assert "scrypt$" not in everything and PASSWORD not in everything and "another-long-secret" not in everything


def test_cli_refuses_a_short_password_and_an_existing_username_with_exit_code_1(tmp_path: Path) -> None:
    short = _cli(tmp_path, "add", "zhang", "--name", "张三", stdin="123456789\n")
    assert short.returncode == 1
    assert short.stderr.strip() == "错误：密码至少需要10个字符。"
    assert _cli(tmp_path, "list").stdout.startswith("还没有账号")

    assert _cli(tmp_path, "add", "zhang", "--name", "张三", stdin=PASSWORD).returncode == 0
    again = _cli(tmp_path, "add", "ZHANG", "--name", "张三丰", stdin=PASSWORD)
    assert again.returncode == 1
    assert again.stderr.strip() == "错误：用户名 zhang 已存在。"
    assert len(_cli(tmp_path, "list").stdout.splitlines()) == 1


def test_cli_refuses_unknown_accounts_roles_and_short_new_passwords(tmp_path: Path) -> None:
    assert _cli(tmp_path, "add", "zhang", "--name", "张三", stdin=PASSWORD).returncode == 0
    unknown = _cli(tmp_path, "passwd", "nobody", stdin=PASSWORD)
    assert (unknown.returncode, unknown.stderr.strip()) == (1, "错误：没有用户名为 nobody 的账号。")
    short = _cli(tmp_path, "passwd", "zhang", stdin="short\n")
    assert (short.returncode, short.stderr.strip()) == (1, "错误：密码至少需要10个字符。")
    assert _cli(tmp_path, "disable", "nobody").returncode == 1
    role = _cli(tmp_path, "add", "li", "--name", "李四", "--role", "admin", stdin=PASSWORD)
    assert role.returncode == 2 and "admin" in role.stderr  # argparse names the allowed roles


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_at_a_terminal_the_password_is_typed_twice() -> None:
    typed = iter([PASSWORD, PASSWORD])
    assert read_password(_Terminal(), lambda _prompt: next(typed)) == PASSWORD
    different = iter([PASSWORD, WRONG])
    with pytest.raises(PasswordMismatch, match="两次输入的密码不一致"):
        read_password(_Terminal(), lambda _prompt: next(different))


def test_from_a_pipe_the_password_is_the_first_line_without_its_line_break() -> None:
    assert read_password(io.StringIO(PASSWORD + "\r\nsecond line\n")) == PASSWORD
