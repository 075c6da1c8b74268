"""回电: a citizen who asked for a person and could not be put through is called back.

The only place that files a callback order (the handoff desk out of hours or after a long wait,
the voice channel when nobody answers the agent line).
"""

from __future__ import annotations

from datetime import datetime

from bot.core.db import Database
from bot.work_orders.filing import CALLBACK, FiledOrder, NewOrder, file_order

# Callbacks are made by the hotline's own agents.
CALLBACK_DEPARTMENT = "12345热线"


async def file_callback(
    database: Database,
    *,
    caller: str,
    why: str,
    conversation_id: str,
    channel: str,
    citizen_id: int | None,
    now: datetime,
    summary_line: str = "",
) -> FiledOrder:
    """File a callback order for ``caller`` (who and their masked number, e.g. "网页用户（138****8000）")."""
    summary = f"{caller}要求人工服务，{why}，请回电。"
    if summary_line:
        summary += f"摘要：{summary_line}。"
    order = NewOrder(
        kind=CALLBACK,
        department=CALLBACK_DEPARTMENT,
        summary=summary + f"对话编号：{conversation_id}",
        sender_id=conversation_id,
        channel=channel,
        citizen_id=citizen_id,
    )
    return await file_order(database, order, now)
