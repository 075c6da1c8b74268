"""Personal data at rest: encrypted columns, the key and its rotation, masked and sealed conversation events."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text

from bot.citizens.identity import identify
from bot.core import clock, encryption
from bot.core.db import Database
from bot.core.encryption import PersonalDataKeyError, decrypt, encrypt, seal, unseal
from bot.core.settings import get_settings
from bot.privacy.conversation import SEALED_TEXT, protect_event, revealed_text, seal_slot_events, unseal_tracker
from bot.privacy.rotation import rotate_everything
from bot.rasa.stores import SettingsTrackerStore
from bot.work_orders.filing import file_order, is_order_of_citizen, orders_of_citizen
from console.transcript import transcript_of
from tests.bot.conftest import PROPERTY, complaint
from tests.conftest import bot_command

PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"
KEY = str(get_settings().pii_hash_key)
DOMAIN = Domain.from_dict(
    {"intents": ["greet"], "slots": {"report_contact": {"type": "text", "mappings": [{"type": "custom"}]}}}
)


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """PII_ENCRYPTION_KEYS set by the test, read afresh."""
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _use_keys(monkeypatch: pytest.MonkeyPatch, *keys: str) -> None:
    monkeypatch.setenv("PII_ENCRYPTION_KEYS", ",".join(keys))
    get_settings.cache_clear()


def test_values_are_encrypted_with_the_first_key_and_any_key_decrypts(keys: pytest.MonkeyPatch) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    _use_keys(keys, old)
    token = encrypt(PHONE)
    assert PHONE not in token and encryption.is_token(token) and decrypt(token) == PHONE
    _use_keys(keys, new, old)
    assert decrypt(token) == PHONE
    rotated = encryption.rotate(token)
    _use_keys(keys, new)
    assert decrypt(rotated) == PHONE
    with pytest.raises(PersonalDataKeyError, match="无法解密"):
        decrypt(token)


@pytest.mark.parametrize(("raw", "message"), [("", "没有个人信息加密密钥"), ("not-a-key", "第1个密钥不是有效")])
def test_a_missing_or_malformed_key_is_refused(
    keys: pytest.MonkeyPatch, tmp_path: Path, raw: str, message: str
) -> None:
    keys.setenv("PII_KEY_FILE", str(tmp_path / "none"))
    _use_keys(keys, raw)
    with pytest.raises(PersonalDataKeyError, match=message):
        encrypt(PHONE)


def test_without_the_setting_the_key_of_make_run_is_read_from_its_file(
    keys: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from bot.cli.serve import ensure_local_key

    keys.delenv("PII_ENCRYPTION_KEYS")
    keys.setenv("PII_KEY_FILE", str(tmp_path / "var" / "pii-encryption-key"))
    get_settings.cache_clear()
    settings = ensure_local_key(get_settings())
    path = tmp_path / "var" / "pii-encryption-key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert str(settings.pii_encryption_keys) == path.read_text().strip()
    assert decrypt(encrypt(PHONE)) == PHONE
    assert ensure_local_key(get_settings()).pii_encryption_keys  # made once: the same file


async def _raw(database: Database, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    async with database.engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql))]


async def test_phone_numbers_are_stored_encrypted_and_found_by_their_digests(database: Database) -> None:
    citizen = await identify(database, PHONE, KEY, clock.now())
    filed = await file_order(database, complaint(contact_phone=PHONE, category=PROPERTY), clock.now())
    stored = await _raw(database, "SELECT phone FROM citizens") + await _raw(
        database, "SELECT contact_phone FROM work_orders"
    )
    assert all(encryption.is_token(value) and PHONE not in value for (value,) in stored)
    assert citizen.phone == PHONE  # read back in clear
    assert [order.number for order in await orders_of_citizen(database, citizen.id)] == [filed.number]
    assert await is_order_of_citizen(database, filed.number, citizen.id)


async def test_a_wrong_key_is_refused_at_start_up_never_read_as_plaintext(
    database: Database, keys: pytest.MonkeyPatch
) -> None:
    await identify(database, PHONE, KEY, clock.now())
    await database.check_personal_data_key()
    _use_keys(keys, Fernet.generate_key().decode())
    with pytest.raises(PersonalDataKeyError):
        await database.check_personal_data_key()


async def test_rotation_encrypts_everything_again_with_the_newest_key(
    database: Database, keys: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    old = str(get_settings().pii_encryption_keys)
    await identify(database, PHONE, KEY, clock.now())
    await file_order(database, complaint(contact_phone=PHONE, category=PROPERTY), clock.now())
    keys.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'trackers.db'}")
    get_settings.cache_clear()
    store = SettingsTrackerStore(domain=DOMAIN)
    await store.save(
        DialogueStateTracker.from_events(
            "web-x", [UserUttered(f"我的电话{PHONE}"), SlotSet("report_contact", seal(PHONE))]
        )
    )
    new = Fernet.generate_key().decode()
    _use_keys(keys, new, old)
    trackers = Database(get_settings().tracker_store_url)
    report = await rotate_everything(database, trackers)
    await trackers.close()
    assert report.columns == {"citizens.phone": 1, "work_orders.contact_phone": 1}
    assert (report.sealed_values, report.events) == (2, 2)
    _use_keys(keys, new)  # the old key removed: everything still reads
    await database.check_personal_data_key()
    tracker = await store.retrieve("web-x")
    assert tracker is not None and unseal(tracker.get_slot("report_contact")) == PHONE
    store.engine.dispose()


def test_a_stored_event_holds_no_full_number_and_seals_the_citizens_words() -> None:
    said = f"我的手机号是{PHONE}，身份证号{ID_NUMBER}"
    user = UserUttered(said, {"name": "inform"}, [{"entity": "phone", "value": PHONE, "start": 6, "end": 17}])
    stored = protect_event(user.as_dict())
    assert PHONE not in json.dumps(stored, ensure_ascii=False) and ID_NUMBER not in json.dumps(
        stored, ensure_ascii=False
    )
    assert stored["text"] == "我的手机号是139****5678，身份证号110105********002X"
    assert stored["parse_data"]["entities"][0]["value"] == "139****5678"
    assert revealed_text(stored["text"], stored["metadata"]) == said
    bot = protect_event(
        BotUttered(f"将通过{PHONE}联系您", {"buttons": [{"title": PHONE, "payload": "/affirm"}]}).as_dict()
    )
    assert PHONE not in json.dumps(bot)
    slot = protect_event(SlotSet("report_details", f"打{PHONE}").as_dict())
    assert slot["value"] == "打139****5678"
    sealed = seal(PHONE)
    assert protect_event(SlotSet("report_contact", sealed).as_dict())["value"] == sealed  # kept to be read back
    assert SEALED_TEXT not in (protect_event(UserUttered("你好").as_dict()).get("metadata") or {})


def test_the_action_server_seals_numbers_it_sets_and_unseals_what_it_is_sent() -> None:
    events = [
        {"event": "slot", "name": "report_contact", "value": PHONE},
        {"event": "slot", "name": "report_details", "value": "楼道灯坏了"},
        {"event": "slot", "name": "verified_cases", "value": ["20261120000158"]},
    ]
    seal_slot_events(events)
    assert encryption.is_sealed(events[0]["value"]) and events[1]["value"] == "楼道灯坏了"
    assert events[2]["value"] == ["20261120000158"]
    tracker = {"slots": {"report_contact": events[0]["value"]}, "events": [dict(events[0])]}
    unseal_tracker(tracker)
    assert tracker["slots"]["report_contact"] == PHONE and tracker["events"][0]["value"] == PHONE


async def test_the_tracker_store_keeps_masked_events_and_the_agent_can_reveal(
    keys: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    keys.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'trackers.db'}")
    get_settings.cache_clear()
    store = SettingsTrackerStore(domain=DOMAIN)
    sender = f"web-{uuid.uuid4().hex}"
    said = f"身份证{ID_NUMBER}，电话{PHONE}"
    await store.save(
        DialogueStateTracker.from_events(sender, [UserUttered(said), SlotSet("report_contact", seal(PHONE))])
    )
    with store.session_scope() as session:
        rows = [data for (data,) in session.query(store.SQLEvent.data).all()]
    assert rows and not any(PHONE in row or ID_NUMBER in row for row in rows)
    assert (tmp_path / "trackers.db").stat().st_mode & 0o077 == 0  # readable by its owner only
    loaded = await store.retrieve(sender)
    assert loaded is not None and loaded.latest_message is not None
    assert loaded.latest_message.text == "身份证110105********002X，电话139****5678"
    assert transcript_of(loaded)[0]["text"] == "身份证110105********002X，电话139****5678"
    assert transcript_of(loaded, reveal=True)[0]["text"] == said
    store.engine.dispose()


def test_the_commands_refuse_to_start_without_a_key(tmp_path: Path) -> None:
    env = {**os.environ, "PII_ENCRYPTION_KEYS": "", "PII_KEY_FILE": str(tmp_path / "none")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'hotline.db'}"
    done = bot_command("orders", "list", env=env)
    assert done.returncode == 3 and "没有个人信息加密密钥" in done.stderr and "PII_ENCRYPTION_KEYS" in done.stderr
