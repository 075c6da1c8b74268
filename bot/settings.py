"""Settings of the hotline, read from the environment in this one place."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Secret:
    """A string that never prints itself (modelled on starlette's ``Secret``)."""

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}('**********')"

    def __str__(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)


class SettingsError(ValueError):
    """An environment variable holds a value the hotline cannot use."""


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from error
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def _str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


@dataclass(frozen=True)
class Settings:
    """Everything the hotline reads from its environment."""

    database_url: str
    tracker_store_url: str
    redis_url: str
    action_server_url: str
    action_server_port: int
    rasa_port: int
    pii_hash_key: Secret
    verify_max_failures: int
    verify_lock_minutes: int
    catalog_path: Path
    search_min_score: float
    outside_call_timeout_s: float
    log_level: str

    @property
    def uses_redis(self) -> bool:
        """Whether shared state lives in Redis rather than in-process."""
        return bool(self.redis_url)


def default_database_url() -> str:
    """The embedded SQLite database under ``var/``."""
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'hotline.db'}"


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings from the environment once per process."""
    database_url = _str("DATABASE_URL", default_database_url())
    action_port = _int("ACTION_SERVER_PORT", 5055, minimum=1)
    try:
        search_min_score = float(_str("SEARCH_MIN_SCORE", "0.35"))
    except ValueError as error:
        raise SettingsError("SEARCH_MIN_SCORE must be a number") from error
    try:
        timeout = float(_str("OUTSIDE_CALL_TIMEOUT_S", "5"))
    except ValueError as error:
        raise SettingsError("OUTSIDE_CALL_TIMEOUT_S must be a number") from error
    return Settings(
        database_url=database_url,
        tracker_store_url=_str("TRACKER_STORE_URL", database_url),
        redis_url=_str("REDIS_URL", ""),
        action_server_url=_str("ACTION_SERVER_URL", f"http://localhost:{action_port}/webhook"),
        action_server_port=action_port,
        rasa_port=_int("RASA_PORT", 5005, minimum=1),
        pii_hash_key=Secret(_str("PII_HASH_KEY", "dev-only-pii-key-change-me")),
        verify_max_failures=_int("VERIFY_MAX_FAILURES", 3, minimum=1),
        verify_lock_minutes=_int("VERIFY_LOCK_MINUTES", 30, minimum=1),
        catalog_path=Path(_str("CATALOG_PATH", str(PROJECT_ROOT / "data" / "catalog"))),
        search_min_score=search_min_score,
        outside_call_timeout_s=timeout,
        log_level=_str("LOG_LEVEL", "INFO").upper(),
    )
