"""Demo cases that ``make run`` seeds, so that a newcomer can try the progress lookup."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.cases.records import CaseRecord
from bot.core.clock import china_date, china_day_at

DEMO_PHONE = "13800138000"


def demo_cases(now: datetime) -> list[CaseRecord]:
    """Three cases relative to ``now``'s China day: in progress, overdue, finished (phone ends in 8000)."""
    day = timedelta(days=1)
    today = china_date(now)

    def number(days_ago: int, serial: int) -> str:
        return (today - days_ago * day).strftime("%Y%m%d") + f"{serial:06d}"

    def at(days_ago: int, hour: int = 10) -> datetime:
        return china_day_at(today - days_ago * day, time(hour))

    return [
        CaseRecord(
            number=number(3, 101),
            service_name="普通护照签发（首次申领）",
            department="广州市公安局出入境管理支队",
            promised_date=today + 4 * day,
            phone=DEMO_PHONE,
            id_number=None,
            events=[("受理", at(3), "越秀办证大厅受理"), ("审查", at(2, 15), "材料审查中")],
        ),
        CaseRecord(
            number=number(20, 102),
            service_name="住房公积金提取（租房提取）",
            department="广州住房公积金管理中心",
            promised_date=today - 5 * day,
            phone=DEMO_PHONE,
            id_number=None,
            events=[("受理", at(20), ""), ("审查", at(18), "")],
        ),
        CaseRecord(
            number=number(12, 103),
            service_name="居民身份证申领（到期换领）",
            department="广州市公安局",
            promised_date=today - 2 * day,
            phone=DEMO_PHONE,
            id_number=None,
            events=[
                ("受理", at(12), "天河区派出所户籍窗口受理"),
                ("审查", at(11), ""),
                ("制证", at(8), ""),
                ("办结", at(5), "已由受理窗口发证"),
            ],
        ),
    ]
