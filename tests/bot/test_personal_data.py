"""身份证号 and phone validation, masking, and the masking log filter."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date

import pytest

from bot.core.personal_data import (
    InvalidIdNumber,
    InvalidPhone,
    MaskingFilter,
    id_check_character,
    mask_text,
    parse_id_number,
    parse_phone,
)

VALID_ID = "11010519491231002X"


def test_valid_id_number_gives_birth_date() -> None:
    parsed = parse_id_number(VALID_ID)
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.masked == "110105********002X"


def test_spoken_id_number_is_understood() -> None:
    spoken = "幺幺零幺零五幺九四九幺二三幺零零二x"
    assert parse_id_number(spoken).value == VALID_ID


def test_check_digit_is_computed_per_gb11643() -> None:
    assert id_check_character("11010519491231002") == "X"
    # 4·7+4·9+0+3·5+0+4·4+1·2+9·1+9·6+0+0+1·9+0+1·5+0+0+1·2 = 176; 176 mod 11 = 0 → "1"
    assert id_check_character("44030419900101001") == "1"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("11010519491231002", "18位"),
        ("110105194912310021", "校验位"),
        ("990105194912310023", "行政区划"),
        ("110105194902300020", "出生日期不存在"),
        ("110105230001010010", "不合理"),
        ("abc", "18位"),
    ],
)
def test_invalid_id_numbers_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdNumber, match=reason):
        parse_id_number(raw, today=date(2026, 11, 28))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("13800138000", "13800138000"), ("+86 138-0013-8000", "13800138000"), ("幺三八零零幺三八零零零", "13800138000")],
)
def test_phone_numbers_are_normalised(raw: str, expected: str) -> None:
    assert parse_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "phone", "0201234567"])
def test_invalid_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        parse_phone(raw)


def test_mask_text_masks_ids_and_phones_but_not_case_numbers() -> None:
    text = f"身份证{VALID_ID}，电话13812345678，口述幺三八一二三四五六七八，编号20261120000158"
    masked = mask_text(text)
    assert "110105********002X" in masked
    assert "138****5678" in masked
    assert "幺三八****五六七八" in masked
    assert "20261120000158" in masked
    assert VALID_ID not in masked and "13812345678" not in masked


@pytest.fixture
def masked_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """``caplog`` behind the masking filter, capturing the INFO records of the ``tests.masking`` logger."""
    handler_filter = MaskingFilter()
    caplog.handler.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.INFO, logger="tests.masking"):
            yield caplog
    finally:
        caplog.handler.removeFilter(handler_filter)


def test_log_filter_masks_every_record(masked_log: pytest.LogCaptureFixture) -> None:
    logging.getLogger("tests.masking").info("citizen said %s and %s", "13812345678", VALID_ID)
    assert "138****5678" in masked_log.text
    assert "13812345678" not in masked_log.text and VALID_ID not in masked_log.text


def test_the_filter_masks_the_text_of_logged_exceptions(masked_log: pytest.LogCaptureFixture) -> None:
    try:
        raise ValueError(f"INSERT INTO citizens VALUES ('13812345678', '{VALID_ID}')")
    except ValueError:
        logging.getLogger("tests.masking").exception("the insert failed")
    assert "138****5678" in masked_log.text
    assert "13812345678" not in masked_log.text and VALID_ID not in masked_log.text


def test_logging_config_of_both_servers_installs_the_filter() -> None:
    import logging.config

    import yaml

    from bot.core.settings import PROJECT_ROOT

    config = yaml.safe_load((PROJECT_ROOT / "logging.yml").read_text())
    root = logging.getLogger()
    saved = {
        name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate) for name in config["loggers"]
    }
    saved_root = root.handlers[:]
    logging.config.dictConfig(config)
    try:
        assert all(any(isinstance(f, MaskingFilter) for f in h.filters) for h in root.handlers)
        for name in config["loggers"]:
            handlers = logging.getLogger(name).handlers
            assert handlers and all(any(isinstance(f, MaskingFilter) for f in h.filters) for h in handlers)
    finally:  # leave logging as the other tests expect it
        root.handlers[:] = saved_root
        for name, (handlers, propagate) in saved.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate
