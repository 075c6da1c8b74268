"""Personal data: 身份证号 and phone validation, masking, keyed digests, a masking log filter."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import date

from bot.core import clock
from bot.core.numerals import CHINESE_DIGITS, to_digits

# GB 11643-1999: weights of the first 17 digits and the check characters by remainder.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# Province-level codes of GB/T 2260 (the first two digits of every 身份证号).
_PROVINCE_CODES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)
_MOBILE = re.compile(r"1[3-9]\d{9}")


class InvalidIdNumber(ValueError):
    """A 身份证号 that fails its format, region, birth date or check digit."""


class InvalidPhone(ValueError):
    """A mobile number that is not an 11-digit mainland number."""


@dataclass(frozen=True)
class IdNumber:
    """A validated 18-character 居民身份证号码."""

    value: str
    birth_date: date

    @property
    def masked(self) -> str:
        """The number as logs and screens may show it."""
        return mask_id_number(self.value)


def id_check_character(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=False))
    return _ID_CHECK[total % 11]


def parse_id_number(raw: str, today: date | None = None) -> IdNumber:
    """Validate a 身份证号 (spoken numerals allowed) or raise ``InvalidIdNumber``."""
    value = to_digits(raw.strip()).replace(" ", "").upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise InvalidIdNumber("身份证号应为18位，最后一位可以是数字或X")
    if value[:2] not in _PROVINCE_CODES:
        raise InvalidIdNumber("身份证号的前两位不是有效的省级行政区划代码")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as error:
        raise InvalidIdNumber("身份证号中的出生日期不存在") from error
    today = today or clock.today()  # China's date, not the server's
    if birth > today or today.year - birth.year > 130:
        raise InvalidIdNumber("身份证号中的出生日期不合理")
    if id_check_character(value[:17]) != value[17]:
        raise InvalidIdNumber("身份证号校验位不正确，请核对后重新输入")
    return IdNumber(value=value, birth_date=birth)


def parse_phone(raw: str) -> str:
    """Validate a mainland mobile number (spoken numerals, +86 and separators allowed)."""
    digits = re.sub(r"[\s\-()（）]", "", to_digits(raw.strip()))
    digits = re.sub(r"^(\+?86)(?=1\d{10}$)", "", digits)
    if not _MOBILE.fullmatch(digits):
        raise InvalidPhone("手机号应为以1开头的11位数字")
    return digits


def e164_phone(phone: str) -> str:
    """A mainland mobile number as SMS gateways want it: ``13812345678`` → ``+8613812345678``."""
    return phone if phone.startswith("+") else f"+86{phone}"


def mask_id_number(value: str) -> str:
    """``110105199001011234`` → ``110105********1234``."""
    return value[:6] + "*" * 8 + value[-4:]


def mask_phone(value: str) -> str:
    """``13812345678`` (or ``+8613812345678``) → ``138****5678``."""
    value = value.removeprefix("+86") if len(value) == 14 else value
    return value[:3] + "****" + value[-4:]


def digest(value: str, key: str) -> str:
    """A keyed digest of personal data, stored instead of the data itself."""
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


_DIGIT_CLASS = "0-9" + CHINESE_DIGITS
_ID_IN_TEXT = re.compile(rf"(?<![{_DIGIT_CLASS}])[{_DIGIT_CLASS}]{{17}}[{_DIGIT_CLASS}Xx](?![{_DIGIT_CLASS}])")
_PHONE_IN_TEXT = re.compile(rf"(?<![{_DIGIT_CLASS}])(?:1|一|幺)[{_DIGIT_CLASS}]{{10}}(?![{_DIGIT_CLASS}])")


def mask_text(text: str) -> str:
    """Mask every 身份证号 and mobile number in free text, digits or spoken numerals."""
    text = _ID_IN_TEXT.sub(lambda match: mask_id_number(match.group()), text)
    return _PHONE_IN_TEXT.sub(lambda match: mask_phone(match.group()), text)


class MaskingFilter(logging.Filter):
    """A log filter that masks personal data in every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message, and the text of its exception, by their masked forms."""
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg = masked
            record.args = None
        if record.exc_info and not record.exc_text:
            # Exceptions quote personal data too (a database error shows the row's values).
            record.exc_text = mask_text(_FORMATTER.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


_FORMATTER = logging.Formatter()
