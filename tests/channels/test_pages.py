"""What the project's pages share: times as they read them."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.core.clock import UTC, china
from channels.pages import china_time


def test_a_moment_is_shown_in_china_time_with_its_offset() -> None:
    assert china_time(datetime(2026, 11, 27, 16, 30, 5, 123456, tzinfo=UTC)) == "2026-11-28T00:30:05+08:00"
    assert china_time(china(2026, 11, 28, 9)) == "2026-11-28T09:00:00+08:00"


def test_a_moment_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        china_time(datetime(2026, 11, 28, 9))
