"""Twilio's side of a webhook: documented parameters, signed with the twilio library's own validator."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from twilio.request_validator import RequestValidator

from tests.standins import Recorded

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-test-auth-token"
HOTLINE_NUMBER = "+8602012345"
AGENT_NUMBER = "+8602012300"
# The address Twilio calls: a reverse proxy in front of the Rasa server.
PUBLIC_HOST = "hotline.example.gov.cn"


def twilio_env(api_url: str) -> dict[str, str]:
    """The settings of both Twilio connectors, with the REST API at a local stand-in."""
    return {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_NUMBER": HOTLINE_NUMBER,
        "TWILIO_API_BASE_URL": api_url,
        "AGENT_PHONE_NUMBER": AGENT_NUMBER,
        "AGENT_HOURS": "00:00-24:00",
    }


_rate_limited: set[str] = set()


def twilio_api(request: Recorded) -> tuple[int, Any]:
    """Twilio's Messages resource: 201 with a message SID; numbers ending 0500 always fail, 0429 once."""
    if not request.path.endswith("/Messages.json"):
        return 404, {"code": 20404, "message": "The requested resource was not found"}
    to = request.form.get("To", "")
    if to.endswith("0500"):
        return 500, {"code": 20500, "message": "Internal Server Error"}
    if to.endswith("0429") and to not in _rate_limited:
        _rate_limited.add(to)
        return 429, {"code": 20429, "message": "Too Many Requests"}
    return 201, {"sid": "SM" + uuid.uuid4().hex, "status": "queued", "to": to, "body": request.form.get("Body")}


def sms_to(number: str) -> Callable[[Recorded], bool]:
    """A predicate: a message the stand-in was asked to send to ``number``."""
    return lambda r: r.path.endswith("/Messages.json") and r.form.get("To") == number


@dataclass
class TwilioPeer:
    """Posts webhook requests to our server the way Twilio does, signed with our auth token."""

    rasa_url: str
    token: str = AUTH_TOKEN
    account_sid: str = ACCOUNT_SID

    def post(
        self,
        path: str,
        params: dict[str, str],
        signature: str | None = None,
        signed_params: dict[str, str] | None = None,
    ) -> requests.Response:
        """POST a form as Twilio would, through the proxy (forwarded scheme and host)."""
        public_url = f"https://{PUBLIC_HOST}{path}"
        if signature is None:
            signature = RequestValidator(self.token).compute_signature(public_url, signed_params or params)
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": PUBLIC_HOST}
        if signature:
            headers["X-Twilio-Signature"] = signature
        return requests.post(self.rasa_url + path, data=params, headers=headers, timeout=60)

    def sms(self, sender: str, body: str, **extra: str) -> requests.Response:
        """An incoming text message."""
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "SmsSid": "",
            "AccountSid": self.account_sid,
            "From": sender,
            "To": HOTLINE_NUMBER,
            "Body": body,
            "NumMedia": "0",
            "ApiVersion": "2010-04-01",
        }
        params.update(extra)
        params["SmsSid"] = params["MessageSid"]
        return self.post("/webhooks/sms/webhook", params)


def parse_twiml(response: requests.Response) -> ET.Element:
    """The TwiML document of a response (which must be one)."""
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.text)


def spoken(document: ET.Element) -> str:
    """Everything the caller hears in a TwiML document."""
    return " ".join(say.text or "" for say in document.iter("Say"))


@dataclass
class VoiceCall:
    """One phone call to the hotline, driven as Twilio drives it (following Redirects)."""

    peer: TwilioPeer
    caller: str
    sid: str = field(default_factory=lambda: "CA" + uuid.uuid4().hex)
    action: str = "/webhooks/voice/webhook"
    documents: list[ET.Element] = field(default_factory=list)

    def params(self, **extra: str) -> dict[str, str]:
        """The parameters Twilio sends with every request of this call."""
        return {
            "CallSid": self.sid,
            "AccountSid": self.peer.account_sid,
            "From": self.caller,
            "To": HOTLINE_NUMBER,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
            **extra,
        }

    def start(self) -> ET.Element:
        """The call is answered."""
        return self._post(self.action, self.params(CallStatus="ringing"))

    def say(self, speech: str) -> ET.Element:
        """The caller says something."""
        return self._post(self.action, self.params(SpeechResult=speech, Confidence="0.92"))

    def press(self, digits: str) -> ET.Element:
        """The caller presses keys."""
        return self._post(self.action, self.params(Digits=digits))

    def silence(self) -> ET.Element:
        """The caller says nothing (Gather's actionOnEmptyResult)."""
        return self._post(self.action, self.params())

    def hang_up(self) -> requests.Response:
        """Twilio's status callback at the end of the call."""
        return self.peer.post("/webhooks/voice/status", self.params(CallStatus="completed", CallDuration="42"))

    def _post(self, path: str, params: dict[str, str]) -> ET.Element:
        document = parse_twiml(self.peer.post(path, params))
        self.documents.append(document)
        redirect = document.find("Redirect")
        if redirect is not None:  # a holding phrase: Twilio follows the redirect
            return self._post(redirect.text or "", self.params())
        gather = document.find("Gather")
        if gather is not None:
            self.action = gather.get("action", self.action)
        return document
