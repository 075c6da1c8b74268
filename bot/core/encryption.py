"""Personal data that must be read back, kept encrypted: Fernet keys from the settings, never plaintext instead.

``PII_ENCRYPTION_KEYS`` holds one or more Fernet keys, comma-separated: the first encrypts, every
one decrypts (``MultiFernet``), so a new key goes first and the old ones stay until ``python -m bot
pii rotate`` has re-encrypted everything with the new one. A missing, malformed or wrong key is a
``PersonalDataKeyError`` with a clear message: the servers and commands refuse to start, nothing is
ever written or read in clear instead.

Columns of ``EncryptedString`` (``citizens.phone``, ``work_orders.contact_phone``) are encrypted on
the way in and decrypted on the way out; a lookup never compares them (a ciphertext differs each
time): it uses the keyed digests beside them (``phone_digest``, ``contact_phone_digest``).
Values kept in a conversation's tracker are *sealed*: the ciphertext with ``SEALED_PREFIX`` before
it, so that a sealed value is told from a clear one.
"""

from __future__ import annotations

import functools
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import String, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeDecorator

from bot.core.settings import get_settings

# A Fernet token starts with its version byte 0x80 and a timestamp: base64 "gAAAAA".
TOKEN_START = "gAAAAA"
SEALED_PREFIX = "sealed:"
HOW_TO_SET = (
    "请设置 PII_ENCRYPTION_KEYS（Fernet 密钥，多个用逗号分隔，第一个用于加密）；"
    "本机运行 make run 会在 var/pii-encryption-key 生成一个"
)


class PersonalDataKeyError(RuntimeError):
    """The encryption key of personal data is missing, malformed, or does not decrypt what is stored."""


def new_key() -> str:
    """A fresh Fernet key (32 random bytes, URL-safe base64)."""
    return Fernet.generate_key().decode()


def parse_keys(raw: str) -> list[str]:
    """The keys of a ``PII_ENCRYPTION_KEYS`` value, newest first; refused when none or one is malformed."""
    keys = [part.strip() for part in raw.split(",") if part.strip()]
    if not keys:
        raise PersonalDataKeyError(f"没有个人信息加密密钥：{HOW_TO_SET}")
    for position, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except ValueError as error:
            raise PersonalDataKeyError(
                f"PII_ENCRYPTION_KEYS 的第{position}个密钥不是有效的 Fernet 密钥（32字节的URL安全Base64）"
            ) from error
    return keys


@functools.lru_cache(maxsize=4)
def _cipher_of(raw: str) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in parse_keys(raw)])


def cipher() -> MultiFernet:
    """The process's cipher, from the settings' keys.

    Raises:
        PersonalDataKeyError: no key, or a malformed one.
    """
    return _cipher_of(str(get_settings().pii_encryption_keys))


def encrypt(value: str) -> str:
    """``value`` encrypted with the newest key (a Fernet token, ASCII)."""
    return cipher().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The value of a token made by ``encrypt`` with any of the keys.

    Raises:
        PersonalDataKeyError: none of the keys decrypts it (a wrong key, or not a token).
    """
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise PersonalDataKeyError(
            "PII_ENCRYPTION_KEYS 无法解密已存储的个人信息：密钥错误，或轮换时删除了仍在使用的旧密钥"
        ) from error


def rotate(token: str) -> str:
    """The same value encrypted with the newest key (``PersonalDataKeyError`` if no key decrypts it)."""
    try:
        return cipher().rotate(token.encode()).decode()
    except InvalidToken as error:
        raise PersonalDataKeyError("PII_ENCRYPTION_KEYS 无法解密已存储的个人信息，无法轮换") from error


def is_token(value: object) -> bool:
    """Whether ``value`` has the form of a Fernet token (not whether a key decrypts it)."""
    return isinstance(value, str) and value.startswith(TOKEN_START)


def seal(value: str) -> str:
    """A value to keep in a conversation's tracker: encrypted, marked as sealed."""
    return SEALED_PREFIX + encrypt(value)


def is_sealed(value: object) -> bool:
    """Whether ``value`` is a sealed value."""
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


def unseal(value: Any) -> Any:
    """The clear value of a sealed one; any other value as it is."""
    return decrypt(value.removeprefix(SEALED_PREFIX)) if is_sealed(value) else value


def reseal(value: str) -> str:
    """A sealed value encrypted again with the newest key."""
    return SEALED_PREFIX + rotate(value.removeprefix(SEALED_PREFIX))


class EncryptedString(TypeDecorator):
    """A string stored as a Fernet token and read back in clear; never compared in a query."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """Clear text → its token (with the newest key)."""
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        """A token → the clear text (``PersonalDataKeyError`` when no key decrypts it)."""
        return None if value is None else decrypt(value)


# The encrypted columns: (table, primary key, column). ``pii rotate``, the start-up check and the migration use these.
ENCRYPTED_COLUMNS = (("citizens", "id", "phone"), ("work_orders", "number", "contact_phone"))


async def check_key(connection: AsyncConnection) -> None:
    """Refuse a missing or malformed key, or one that does not decrypt what is stored (one value of each column).

    Raises:
        PersonalDataKeyError: the key is missing, malformed or wrong.
    """
    from sqlalchemy import column, table

    cipher()
    for table_name, _, column_name in ENCRYPTED_COLUMNS:
        stored = column(column_name)
        value = await connection.scalar(
            select(stored).select_from(table(table_name)).where(stored.is_not(None)).limit(1)
        )
        if value is not None:
            decrypt(str(value))
