"""personal data at rest: phone numbers encrypted, the contact number's digest, the retention mark, chat logs masked

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

``citizens.phone`` and ``work_orders.contact_phone`` hold Fernet tokens (``bot.core.encryption``,
key from PII_ENCRYPTION_KEYS): the columns are widened and every clear value is encrypted. An order's
contact number gets its keyed digest (``contact_phone_digest``, PII_HASH_KEY), which lookups compare
instead of the number. ``work_orders.personal_data_removed_at`` marks the orders whose personal data
the retention job removed. Phone and ID numbers in the web chat log are masked (not undone by the
downgrade: the full numbers are gone). The downgrade decrypts the numbers and narrows the columns again.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

import sqlalchemy as sa
from alembic import op

from bot.core.encryption import decrypt, encrypt, is_token
from bot.core.personal_data import InvalidPhone, digest, mask_text, parse_phone
from bot.core.settings import get_settings

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 1000
_citizens = sa.table("citizens", sa.column("id", sa.Integer()), sa.column("phone", sa.String()))
_orders = sa.table(
    "work_orders",
    sa.column("number", sa.String()),
    sa.column("contact_phone", sa.String()),
    sa.column("contact_phone_digest", sa.String()),
)
_chat = sa.table("chat_messages", sa.column("id", sa.Integer()), sa.column("payload", sa.JSON()))


def _contact_digest(phone: str) -> str:
    """The keyed digest of a contact number, as filing computes it (of the number as ``parse_phone`` gives it)."""
    with suppress(InvalidPhone):
        phone = parse_phone(phone)
    return digest(phone, str(get_settings().pii_hash_key))


def _masked(value: Any) -> Any:
    """Every string in a JSON value with its phone and ID numbers masked."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_masked(item) for item in value]
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    return value


def _rewrite(
    table: sa.TableClause, key: str, columns: list[str], change: Callable[[dict[str, Any]], dict[str, Any] | None]
) -> None:
    """Apply ``change`` to every row (None: the row stays as it is), in batches by primary key."""
    bind = op.get_bind()
    key_column = table.c[key]
    last: Any = None
    while True:
        query = sa.select(key_column, *(table.c[name] for name in columns)).order_by(key_column).limit(BATCH)
        if last is not None:
            query = query.where(key_column > last)
        rows = [dict(row._mapping) for row in bind.execute(query)]
        if not rows:
            return
        last = rows[-1][key]
        updates = []
        for row in rows:
            changed = change(row)
            if changed is not None:
                updates.append({"_key": row[key], **changed})
        if updates:
            values = {name: sa.bindparam(name) for name in updates[0] if name != "_key"}
            bind.execute(table.update().where(key_column == sa.bindparam("_key")).values(**values), updates)


def upgrade() -> None:
    """Widen and encrypt the phone columns, add the contact digest and the retention mark, mask the chat log."""
    with op.batch_alter_table("citizens") as batch:
        batch.alter_column("phone", existing_type=sa.String(length=20), type_=sa.String(length=255))
    with op.batch_alter_table("work_orders") as batch:
        batch.alter_column("contact_phone", existing_type=sa.String(length=20), type_=sa.String(length=255))
    # Plain ALTERs on both (SQLite adds a nullable column and an index without copying the table); a
    # table made from the models already (a database taken in from before Alembic) keeps its own.
    inspector = sa.inspect(op.get_bind())
    columns = {column["name"] for column in inspector.get_columns("work_orders")}
    for column in (
        sa.Column("contact_phone_digest", sa.String(length=64), nullable=True),
        sa.Column("personal_data_removed_at", sa.DateTime(), nullable=True),
    ):
        if column.name not in columns:
            op.add_column("work_orders", column)
    index = op.f("ix_work_orders_contact_phone_digest")
    if index not in {found["name"] for found in inspector.get_indexes("work_orders")}:
        op.create_index(index, "work_orders", ["contact_phone_digest"], unique=False)

    def citizen(row: dict[str, Any]) -> dict[str, Any] | None:
        return None if is_token(row["phone"]) else {"phone": encrypt(row["phone"])}

    def order(row: dict[str, Any]) -> dict[str, Any] | None:
        phone = row["contact_phone"]
        if phone is None or is_token(phone):
            return None
        return {"contact_phone": encrypt(phone), "contact_phone_digest": _contact_digest(phone)}

    def chat_entry(row: dict[str, Any]) -> dict[str, Any] | None:
        masked = _masked(row["payload"])
        return None if masked == row["payload"] else {"payload": masked}

    _rewrite(_citizens, "id", ["phone"], citizen)
    _rewrite(_orders, "number", ["contact_phone"], order)
    _rewrite(_chat, "id", ["payload"], chat_entry)


def downgrade() -> None:
    """Decrypt the phone columns, narrow them again; no contact digest nor retention mark (chat logs stay masked)."""

    def citizen(row: dict[str, Any]) -> dict[str, Any] | None:
        return {"phone": decrypt(row["phone"])} if is_token(row["phone"]) else None

    def order(row: dict[str, Any]) -> dict[str, Any] | None:
        phone = row["contact_phone"]
        return {"contact_phone": decrypt(phone)} if is_token(phone) else None

    _rewrite(_citizens, "id", ["phone"], citizen)
    _rewrite(_orders, "number", ["contact_phone"], order)
    op.drop_index(op.f("ix_work_orders_contact_phone_digest"), table_name="work_orders")
    with op.batch_alter_table("work_orders") as batch:
        batch.drop_column("personal_data_removed_at")
        batch.drop_column("contact_phone_digest")
        batch.alter_column("contact_phone", existing_type=sa.String(length=255), type_=sa.String(length=20))
    with op.batch_alter_table("citizens") as batch:
        batch.alter_column("phone", existing_type=sa.String(length=255), type_=sa.String(length=20))
