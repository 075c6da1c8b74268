"""Proving that a web chat session belongs to a phone number: a 6-digit code sent by SMS.

The code is kept only as a keyed digest, for five minutes, with five attempts; the number it was
sent to waits beside it in the shared state until the code is checked or expires. A session may
ask for a new code once a minute, a number for five codes an hour.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import secrets
from dataclasses import dataclass

from bot.core.personal_data import digest, e164_phone, mask_phone, parse_phone
from bot.core.shared_state import SharedState
from channels.twilio.api import SmsDeliveryFailed, TwilioSms

logger = logging.getLogger(__name__)

CODE_TTL_S = 300
MAX_ATTEMPTS = 5
RESEND_WAIT_S = 60
MAX_CODES_PER_PHONE = 5
PHONE_WINDOW_S = 3600
SMS_TEXT = "【12345热线】您的验证码是{code}，5分钟内有效。请勿告诉他人，如非本人操作请忽略。"
_CODE = re.compile(r"\d{6}")


class VerificationRefused(Exception):
    """The verification cannot go on: the HTTP status and what to tell the citizen."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class PhoneVerification:
    """SMS codes for web chat sessions, kept in the shared state so that any server instance can check them."""

    state: SharedState
    sms: TwilioSms
    key: str

    def _keys(self, session_id: str) -> tuple[str, str, str]:
        base = f"webchat:verify:{session_id}"
        return f"{base}:code", f"{base}:tries", f"{base}:wait"

    def _code_digest(self, session_id: str, code: str) -> str:
        return digest(f"{session_id}:{code}", self.key)

    async def start(self, session_id: str, raw_phone: str) -> str:
        """Send a fresh code to the number; returns the number masked.

        Raises:
            InvalidPhone: not a mainland mobile number.
            VerificationRefused: SMS not configured (503), asked again too soon or too often (429),
                the SMS was not delivered (502).
            SharedStateUnavailable: Redis is down.
        """
        number = parse_phone(raw_phone)
        if not self.sms.configured:
            raise VerificationRefused(503, "短信验证暂不可用，请稍后再试，或拨打12345人工服务。")
        code_key, tries_key, wait_key = self._keys(session_id)
        if not await self.state.add_if_new(wait_key, RESEND_WAIT_S):
            raise VerificationRefused(429, f"验证码刚刚发过，请{RESEND_WAIT_S}秒后再重新获取。")
        sent_to_phone = await self.state.increment(f"webchat:verify:phone:{digest(number, self.key)}", PHONE_WINDOW_S)
        if sent_to_phone > MAX_CODES_PER_PHONE:
            raise VerificationRefused(429, "这个号码获取验证码的次数太多，请一小时后再试。")
        code = f"{secrets.randbelow(1_000_000):06d}"
        pending = json.dumps({"phone": number, "code": self._code_digest(session_id, code)})
        await self.state.put(code_key, pending, CODE_TTL_S)
        await self.state.delete(tries_key)
        try:
            await self.sms.send(e164_phone(number), SMS_TEXT.format(code=code))
        except SmsDeliveryFailed as error:
            await self.state.delete(code_key, wait_key)
            logger.warning("web chat %s: verification SMS to %s failed: %s", session_id[:8], mask_phone(number), error)
            raise VerificationRefused(502, "验证码短信没有发出去，请稍后再试。") from error
        logger.info("web chat %s: verification code sent to %s", session_id[:8], mask_phone(number))
        return mask_phone(number)

    async def check(self, session_id: str, code: str) -> str:
        """The number the code was sent to, when ``code`` is right.

        Raises:
            VerificationRefused: not six digits (400), no code waiting (410), wrong (403), too many tries (429).
            SharedStateUnavailable: Redis is down.
        """
        code = code.strip()
        if not _CODE.fullmatch(code):
            raise VerificationRefused(400, "验证码应为6位数字。")
        code_key, tries_key, _ = self._keys(session_id)
        raw = await self.state.get(code_key)
        if raw is None:
            raise VerificationRefused(410, "验证码已过期或还没有获取，请重新获取验证码。")
        tries = await self.state.increment(tries_key, CODE_TTL_S)
        if tries > MAX_ATTEMPTS:
            await self.state.delete(code_key)
            raise VerificationRefused(429, "验证码错误次数太多，请重新获取验证码。")
        pending = json.loads(raw)
        if not hmac.compare_digest(str(pending["code"]), self._code_digest(session_id, code)):
            left = MAX_ATTEMPTS - tries
            logger.info("web chat %s: wrong verification code (%d tries left)", session_id[:8], left)
            if left == 0:
                await self.state.delete(code_key)
                raise VerificationRefused(403, "验证码不正确，请重新获取验证码。")
            raise VerificationRefused(403, f"验证码不正确，还可以再试{left}次。")
        await self.state.delete(code_key, tries_key)
        return str(pending["phone"])
