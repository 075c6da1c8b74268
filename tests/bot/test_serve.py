"""`python -m bot run`: the action server's token, its address, and the servers' request limit."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.actions.server import is_authorised
from bot.cli.serve import action_server_token, local_address, server_environment, stored_token
from bot.core.settings import SettingsError, get_settings


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings read afresh from an environment the test sets."""
    for name in ("ACTION_SERVER_TOKEN", "ACTION_SERVER_HOST", "MAX_REQUEST_BYTES"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_a_token_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "action-server-token"
    token = stored_token(path)
    assert len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stored_token(path) == token
    assert [p.name for p in path.parent.iterdir()] == ["action-server-token"]  # no draft left behind


def test_a_token_file_readable_by_others_is_closed(tmp_path: Path) -> None:
    path = tmp_path / "action-server-token"
    path.write_text("kept-token\n")
    path.chmod(0o644)
    assert stored_token(path) == "kept-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_empty_token_file_is_an_error_not_an_empty_token(tmp_path: Path) -> None:
    path = tmp_path / "action-server-token"
    path.write_text("\n")
    with pytest.raises(RuntimeError, match="is empty"):
        stored_token(path)


def test_the_setting_wins_over_the_file(environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    environment.setenv("ACTION_SERVER_TOKEN", "from-the-environment")
    assert action_server_token(get_settings(), tmp_path / "token") == "from-the-environment"
    assert not (tmp_path / "token").exists()


def test_both_servers_get_the_token_the_address_and_the_limit(environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = server_environment(get_settings(), tmp_path / "token")
    assert env["ACTION_SERVER_TOKEN"] == (tmp_path / "token").read_text().strip()
    assert env["SANIC_HOST"] == "127.0.0.1"
    assert env["SANIC_REQUEST_MAX_SIZE"] == str(256 * 1024)


def test_the_action_server_may_be_opened_to_a_private_network(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("ACTION_SERVER_HOST", "10.8.0.5")
    environment.setenv("MAX_REQUEST_BYTES", "102400")
    settings = get_settings()
    assert (settings.action_server_host, settings.max_request_bytes) == ("10.8.0.5", 102400)


@pytest.mark.parametrize("host", ["8.8.8.8", "actions.example.com", "", "2001:4860:4860::8888"])
def test_a_public_or_unparsable_address_is_refused(environment: pytest.MonkeyPatch, host: str) -> None:
    environment.setenv("ACTION_SERVER_HOST", host)
    if not host:  # unset: the loopback default
        assert get_settings().action_server_host == "127.0.0.1"
        return
    with pytest.raises(SettingsError, match="ACTION_SERVER_HOST"):
        get_settings()


def test_the_token_never_prints_itself(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("ACTION_SERVER_TOKEN", "s3cret-value")
    assert "s3cret-value" not in repr(get_settings())


@pytest.mark.parametrize(
    ("host", "address"),
    [("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "127.0.0.1"), ("10.0.0.2", "10.0.0.2"), ("::1", "[::1]")],
)
def test_the_readiness_check_reaches_the_address_listened_on(host: str, address: str) -> None:
    assert local_address(host) == address


@pytest.mark.parametrize(
    ("given", "expected", "allowed"),
    [
        ("abc", "abc", True),
        ("abd", "abc", False),
        (None, "abc", False),
        ("", "abc", False),
        ("", "", False),
        ("x", "", False),
    ],
)
def test_a_call_is_authorised_only_by_the_expected_token(given: str | None, expected: str, allowed: bool) -> None:
    assert is_authorised(given, expected) is allowed
