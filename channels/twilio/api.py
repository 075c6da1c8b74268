"""Sending SMS through Twilio's REST API (Messages resource), with a timeout, retries and backoff."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp

from bot.core.personal_data import mask_phone
from bot.core.settings import Settings

logger = logging.getLogger(__name__)

# Twilio's own limit for one message body; longer texts are sent as several messages.
SMS_MAX_CHARS = 1600
_RETRYABLE = frozenset({429, 500, 502, 503, 504})


class SmsDeliveryFailed(RuntimeError):
    """Twilio did not accept the message after every attempt.

    ``retryable``: Twilio could not be reached or asked to try later (timeout, 5xx, 429), as opposed
    to a refusal of this message (another 4xx: an invalid number, a blocked recipient).
    ``retry_after_s``: the wait Twilio asked for (its ``Retry-After``), if any.
    """

    def __init__(self, problem: str, retryable: bool = True, retry_after_s: float | None = None) -> None:
        super().__init__(problem)
        self.retryable = retryable
        self.retry_after_s = retry_after_s


def _retry_after(raw: str | None) -> float | None:
    """A ``Retry-After`` header in seconds (Twilio sends seconds), or None."""
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


@dataclass(frozen=True)
class TwilioSms:
    """Twilio's Messages API for one account and one sending number."""

    account_sid: str
    auth_token: str
    from_number: str
    base_url: str
    timeout_s: float
    max_attempts: int
    backoff_s: float = 0.5

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioSms:
        """The sender configured in the environment."""
        return cls(
            account_sid=settings.twilio_account_sid,
            auth_token=str(settings.twilio_auth_token),
            from_number=settings.twilio_number,
            base_url=settings.twilio_api_base_url,
            timeout_s=settings.outside_call_timeout_s,
            max_attempts=settings.sms_max_attempts,
        )

    @property
    def configured(self) -> bool:
        """Whether the account, token and number are all set."""
        return bool(self.account_sid and self.auth_token and self.from_number)

    async def send(self, to: str, body: str) -> str:
        """Send one message; returns Twilio's message SID.

        Raises:
            SmsDeliveryFailed: rejected (4xx), or every attempt failed or timed out.
        """
        url = f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        form = {"To": to, "From": self.from_number, "Body": body[:SMS_MAX_CHARS]}
        auth = aiohttp.BasicAuth(self.account_sid, self.auth_token)
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        problem = ""
        retryable, retry_after = True, None
        async with aiohttp.ClientSession(timeout=timeout, auth=auth) as session:
            for attempt in range(1, self.max_attempts + 1):
                try:
                    async with session.post(url, data=form) as response:
                        if response.status in (200, 201):
                            return str((await response.json(content_type=None)).get("sid", ""))
                        problem = f"HTTP {response.status}"
                        retry_after = _retry_after(response.headers.get("Retry-After"))
                        if response.status not in _RETRYABLE:
                            retryable = False
                            break
                except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                    problem = type(error).__name__
                if attempt < self.max_attempts:
                    await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))  # backoff between attempts
        logger.error("sms to %s not delivered after %d attempt(s): %s", mask_phone(to), attempt, problem)
        raise SmsDeliveryFailed(problem, retryable, retry_after)
