"""What both Twilio connectors do with a request: rebuild the URL Twilio called, check its signature."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qs

from sanic import response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.core.metrics import rejected
from bot.core.settings import Settings


def rebuild_url(
    path_and_query: str,
    headers: Mapping[str, str],
    scheme: str,
    public_base_url: str,
    trust_forwarded: bool,
) -> str:
    """The URL Twilio requested: the configured public base, else the proxy's forwarded scheme and host."""
    if public_base_url:
        return public_base_url + path_and_query
    host = headers.get("host", "")
    if trust_forwarded:
        scheme = headers.get("x-forwarded-proto", scheme).split(",")[0].strip() or scheme
        host = headers.get("x-forwarded-host", host).split(",")[0].strip() or host
    return f"{scheme}://{host}{path_and_query}"


def requested_url(request: Request, settings: Settings) -> str:
    """The public URL of this request as Twilio signed it."""
    path = request.path + (f"?{request.query_string}" if request.query_string else "")
    headers = {name.lower(): value for name, value in request.headers.items()}
    return rebuild_url(path, headers, request.scheme, settings.public_base_url, settings.trust_forwarded_headers)


def twilio_form(request: Request) -> RequestParameters:
    """The posted form with blank values kept (Twilio signs ``Body=""`` too); empty when not a form."""
    if not request.content_type.startswith("application/x-www-form-urlencoded"):
        return RequestParameters()
    try:
        return RequestParameters(parse_qs(request.body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return RequestParameters()


def is_signed_by_twilio(request: Request, form: RequestParameters, settings: Settings) -> bool:
    """Whether ``X-Twilio-Signature`` matches the request, and it comes from our account."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not str(settings.twilio_auth_token):
        return False
    validator = RequestValidator(str(settings.twilio_auth_token))
    if not validator.validate(requested_url(request, settings), form, signature):
        return False
    return form.get("AccountSid", "") == settings.twilio_account_sid


def checked_form(
    request: Request, settings: Settings, required: tuple[str, ...], channel: str
) -> dict[str, str] | HTTPResponse:
    """The request's fields, or the refusal to send (counted for ``channel``): 403 unless Twilio signed it,
    400 when fields are missing."""
    form = twilio_form(request)
    if not is_signed_by_twilio(request, form, settings):
        rejected(channel, "bad_signature")
        return refusal(403, "签名无效")
    if not request.content_type.startswith("application/x-www-form-urlencoded"):
        rejected(channel, "bad_request")
        return refusal(400, "请求体应是Twilio的表单（application/x-www-form-urlencoded）")
    fields = {name: values[0] for name, values in form.items()}
    missing = [name for name in required if not fields.get(name)]
    if missing:
        rejected(channel, "bad_request")
        return refusal(400, f"缺少字段：{', '.join(missing)}")
    return fields


def twiml(document: object) -> HTTPResponse:
    """A TwiML document as Twilio expects it."""
    return response.text(str(document), content_type="text/xml; charset=utf-8")


def refusal(status: int, reason: str) -> HTTPResponse:
    """A 400 or 403 answer that tells the caller of the webhook what was wrong."""
    return response.json({"error": reason}, status=status)
