"""Settings of the hotline, read from the environment in this one place."""

from __future__ import annotations

import functools
import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

PROJECT_ROOT = Path(__file__).resolve().parents[2]
Number = TypeVar("Number", int, float)
# The real three-level tree of appeals (15/118/517), shared beside the project, not part of it.
DEFAULT_APPEAL_TAXONOMY_FILE = "../shared/data/appeal_taxonomy/taxonomy_3level.csv"


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


def _number(name: str, default: Number, minimum: Number, parse: Callable[[str], Number], kind: str) -> Number:
    """The variable parsed as ``kind`` (default when unset), refused below ``minimum``."""
    raw = _str(name, "")
    if not raw:
        return default
    try:
        value = parse(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be {kind}, not {raw!r}") from error
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def _int(name: str, default: int, minimum: int = 0) -> int:
    return _number(name, default, minimum, int, "a whole number")


def _float(name: str, default: float, minimum: float = 0.0) -> float:
    return _number(name, default, minimum, float, "a number")


def _str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def _bool(name: str, default: bool) -> bool:
    raw = _str(name, "true" if default else "false").lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _project_path(name: str, default: str) -> Path:
    """A file path; a relative one is taken from the project root (not from the working directory)."""
    path = Path(_str(name, default)).expanduser()
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


def _private_host(name: str, default: str) -> str:
    """An address to listen on: loopback, a private network's, or all (0.0.0.0), never a public one."""
    raw = _str(name, default)
    try:
        address = ipaddress.ip_address(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be an IP address (127.0.0.1, a private one, 0.0.0.0), not {raw!r}") from error
    if address.is_global:
        raise SettingsError(f"{name} must be a loopback or private address, not the public address {raw}")
    return raw


@dataclass(frozen=True)
class Settings:
    """Everything the hotline reads from its environment."""

    database_url: str
    tracker_store_url: str
    redis_url: str
    action_server_url: str
    action_server_port: int
    # The action server listens here (loopback unless opened to a private network) and answers only
    # calls that carry this token (Rasa sends it from endpoints.yml).
    action_server_host: str
    action_server_token: Secret
    rasa_port: int
    # The largest request body the Rasa server reads (Sanic's REQUEST_MAX_SIZE): larger ones get 413 at once.
    max_request_bytes: int
    pii_hash_key: Secret
    # Keys of the personal data kept encrypted (Fernet, comma-separated: the first encrypts, all decrypt):
    # PII_ENCRYPTION_KEYS, else the key `make run` keeps in ``pii_key_file``; empty: none (refused at start-up).
    pii_encryption_keys: Secret
    pii_key_file: Path
    verify_max_failures: int
    verify_lock_minutes: int
    catalog_path: Path
    # The three-level classification tree of appeals (a centre's CSV, read where it is, never copied).
    appeal_taxonomy_file: Path
    # A centre's trained appeal model (python -m bot appeals train); None: the built-in classifier.
    appeal_model_dir: Path | None
    search_min_score: float
    outside_call_timeout_s: float
    log_level: str
    # Channels: a channel whose settings are missing is not started.
    public_base_url: str
    trust_forwarded_headers: bool
    twilio_account_sid: str
    twilio_auth_token: Secret
    twilio_number: str
    twilio_api_base_url: str
    twilio_voice: str
    twilio_speech_language: str
    agent_phone_number: str
    agent_hours: str
    voice_reply_wait_s: float
    sms_max_attempts: int
    telegram_bot_token: Secret
    telegram_secret_token: Secret
    telegram_api_base_url: str
    telegram_register_webhook: bool
    dedup_window_s: int
    turn_concurrency: int
    # Handoffs: how long a citizen waits for an agent before a callback is filed, how often that is checked.
    handoff_max_wait_s: int
    # How often each server instance delivers the work orders' outbox to citizens.
    outbox_every_s: float
    # Keys of the handoff queue and the console's channel in Redis start with this (one installation per prefix).
    redis_prefix: str
    handoff_sweep_s: float
    # Work orders: duplicates, hotspots (舆情) and 回访.
    duplicate_window_hours: int
    duplicate_distance_m: int
    hotspot_window_hours: int
    hotspot_min_orders: int
    follow_up_after_hours: int
    # The agent console's logins (bot/handoff/agents.py).
    # Failed logins from one address with one username, then from one address with any username,
    # before that address is refused for AGENT_LOCKOUT_MINUTES (never the account for everyone).
    agent_lockout_failures: int
    agent_lockout_address_failures: int
    agent_lockout_minutes: int
    agent_session_idle_minutes: int
    agent_session_max_hours: int
    # Retention (python -m bot retention run, also in the scheduler): days after which personal data goes.
    retention_conversation_days: int
    retention_anonymous_webchat_days: int
    retention_order_days: int
    # /metrics (Prometheus): with a token, answered to ``Authorization: Bearer <token>`` only; without
    # one, only to requests from the loopback interface that no proxy forwarded.
    metrics_token: Secret

    @property
    def uses_redis(self) -> bool:
        """Whether shared state lives in Redis rather than in-process."""
        return bool(self.redis_url)


def default_database_url() -> str:
    """The embedded SQLite database under ``var/``."""
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'hotline.db'}"


def default_pii_key_file() -> Path:
    """Where `make run` keeps the encryption key of personal data when PII_ENCRYPTION_KEYS is not set."""
    return PROJECT_ROOT / "var" / "pii-encryption-key"


def _pii_encryption_keys(key_file: Path) -> Secret:
    """PII_ENCRYPTION_KEYS, else the key kept in ``key_file`` (when there is one), else empty."""
    keys = _str("PII_ENCRYPTION_KEYS", "")
    if not keys and key_file.is_file():
        keys = key_file.read_text().strip()
    return Secret(keys)


def default_tracker_store_url(database_url: str) -> str:
    """The project database, except on SQLite: there the trackers get a file of their own.

    Rasa writes trackers synchronously on its event loop; on one SQLite file with the connectors'
    own (asynchronous) writes, a tracker write could wait for a lock held by a coroutine that the
    blocked loop cannot resume, until the busy timeout fails it ("database is locked").
    """
    if database_url.startswith("sqlite:///") and database_url.endswith(".db"):
        return database_url.removesuffix(".db") + "-trackers.db"
    return database_url


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings from the environment once per process."""
    database_url = _str("DATABASE_URL", default_database_url())
    action_port = _int("ACTION_SERVER_PORT", 5055, minimum=1)
    pii_key_file = Path(_str("PII_KEY_FILE", str(default_pii_key_file())))
    return Settings(
        database_url=database_url,
        tracker_store_url=_str("TRACKER_STORE_URL", default_tracker_store_url(database_url)),
        redis_url=_str("REDIS_URL", ""),
        action_server_url=_str("ACTION_SERVER_URL", f"http://localhost:{action_port}/webhook"),
        action_server_port=action_port,
        action_server_host=_private_host("ACTION_SERVER_HOST", "127.0.0.1"),
        action_server_token=Secret(_str("ACTION_SERVER_TOKEN", "")),
        rasa_port=_int("RASA_PORT", 5005, minimum=1),
        max_request_bytes=_int("MAX_REQUEST_BYTES", 256 * 1024, minimum=1024),
        pii_hash_key=Secret(_str("PII_HASH_KEY", "dev-only-pii-key-change-me")),
        pii_encryption_keys=_pii_encryption_keys(pii_key_file),
        pii_key_file=pii_key_file,
        verify_max_failures=_int("VERIFY_MAX_FAILURES", 3, minimum=1),
        verify_lock_minutes=_int("VERIFY_LOCK_MINUTES", 30, minimum=1),
        catalog_path=Path(_str("CATALOG_PATH", str(PROJECT_ROOT / "data" / "catalog"))),
        appeal_taxonomy_file=_project_path("APPEAL_TAXONOMY_FILE", DEFAULT_APPEAL_TAXONOMY_FILE),
        appeal_model_dir=_project_path("APPEAL_MODEL_DIR", "") if _str("APPEAL_MODEL_DIR", "") else None,
        search_min_score=_float("SEARCH_MIN_SCORE", 0.35),
        outside_call_timeout_s=_float("OUTSIDE_CALL_TIMEOUT_S", 5.0, minimum=0.1),
        log_level=_str("LOG_LEVEL", "INFO").upper(),
        public_base_url=_str("PUBLIC_BASE_URL", "").rstrip("/"),
        trust_forwarded_headers=_bool("TRUST_FORWARDED_HEADERS", True),
        twilio_account_sid=_str("TWILIO_ACCOUNT_SID", ""),
        twilio_auth_token=Secret(_str("TWILIO_AUTH_TOKEN", "")),
        twilio_number=_str("TWILIO_NUMBER", ""),
        twilio_api_base_url=_str("TWILIO_API_BASE_URL", "https://api.twilio.com").rstrip("/"),
        twilio_voice=_str("TWILIO_VOICE", "Polly.Zhiyu"),
        twilio_speech_language=_str("TWILIO_SPEECH_LANGUAGE", "zh-CN"),
        agent_phone_number=_str("AGENT_PHONE_NUMBER", ""),
        agent_hours=_str("AGENT_HOURS", "08:00-20:00"),
        voice_reply_wait_s=_float("VOICE_REPLY_WAIT_S", 8.0, minimum=0.1),
        sms_max_attempts=_int("SMS_MAX_ATTEMPTS", 3, minimum=1),
        telegram_bot_token=Secret(_str("TELEGRAM_BOT_TOKEN", "")),
        telegram_secret_token=Secret(_str("TELEGRAM_SECRET_TOKEN", "")),
        telegram_api_base_url=_str("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot"),
        telegram_register_webhook=_bool("TELEGRAM_REGISTER_WEBHOOK", False),
        dedup_window_s=_int("DEDUP_WINDOW_S", 86400, minimum=1),
        turn_concurrency=_int("TURN_CONCURRENCY", 2, minimum=1),
        handoff_max_wait_s=_int("HANDOFF_MAX_WAIT_S", 300, minimum=1),
        outbox_every_s=_float("OUTBOX_EVERY_S", 10.0, minimum=0.1),
        redis_prefix=_str("REDIS_PREFIX", "hotline:"),
        handoff_sweep_s=_float("HANDOFF_SWEEP_S", 10.0, minimum=0.1),
        duplicate_window_hours=_int("DUPLICATE_WINDOW_HOURS", 72, minimum=1),
        duplicate_distance_m=_int("DUPLICATE_DISTANCE_M", 100, minimum=1),
        hotspot_window_hours=_int("HOTSPOT_WINDOW_HOURS", 24, minimum=1),
        hotspot_min_orders=_int("HOTSPOT_MIN_ORDERS", 5, minimum=2),
        follow_up_after_hours=_int("FOLLOW_UP_AFTER_HOURS", 24, minimum=0),
        agent_lockout_failures=_int("AGENT_LOCKOUT_FAILURES", 5, minimum=1),
        agent_lockout_address_failures=_int("AGENT_LOCKOUT_ADDRESS_FAILURES", 20, minimum=1),
        agent_lockout_minutes=_int("AGENT_LOCKOUT_MINUTES", 15, minimum=1),
        agent_session_idle_minutes=_int("AGENT_SESSION_IDLE_MINUTES", 60, minimum=1),
        agent_session_max_hours=_int("AGENT_SESSION_MAX_HOURS", 12, minimum=1),
        retention_conversation_days=_int("RETENTION_CONVERSATION_DAYS", 90, minimum=1),
        retention_anonymous_webchat_days=_int("RETENTION_ANONYMOUS_WEBCHAT_DAYS", 7, minimum=1),
        retention_order_days=_int("RETENTION_ORDER_DAYS", 365, minimum=1),
        metrics_token=Secret(_str("METRICS_TOKEN", "")),
    )
