"""Fixes to hot paths of Rasa 3.6, installed when the Rasa server loads our tracker store.

All were found with py-spy under bench/turn_latency.py's load; behaviour is unchanged.
- Rasa validates every action server response with ``jsonschema.validate``, which re-checks the
  schema itself against its meta-schema on every call (44% of the server's CPU). The (constant)
  schema is now checked once and its validator kept; invalid responses raise the same error.
- Every stored event is turned back into its class by scanning all subclasses of ``Event``
  (5%). A class once found for a type name is now remembered; unknown names scan as before.
- Every call to the action server opened a new HTTP session and TCP connection (Rasa's
  ``EndpointConfig.request``). The action endpoint now keeps its connections open between calls
  for ``KEEP_ALIVE_S``, shorter than the action server's own keep-alive (Sanic closes idle
  connections after 5 s), so a connection is never reused after the server dropped it. They are
  closed when the Rasa server stops (``close_kept_connections``, from ``console.startup``).
- Every tracker Rasa builds (one per prediction for its policies' dialogue states, one per action
  run) copied each of the domain's slots with ``copy.copy``, through pickling's generic protocol
  (a tenth of a prediction). A slot is now copied directly: same class, same attributes.

And one count: a call to the action server that fails (unreachable, refused, timed out, an error
answer, an invalid response) is counted in ``bot.core.metrics.ACTION_ERRORS`` by action; a form's
normal rejection of a message (``ActionExecutionRejection``) is not a failure.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp.client_exceptions import ContentTypeError
from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.core.slots import Slot
from rasa.utils.endpoints import ClientResponseError, EndpointConfig, concat_url

from bot.core.metrics import ACTION_ERRORS

_ORIGINAL = RemoteAction._validate_action_result
_ORIGINAL_RESOLVE = Event.resolve_by_type
_ORIGINAL_RUN = RemoteAction.run

# How long an idle connection to the action server is kept: under the 5 s after which Sanic closes it.
KEEP_ALIVE_S = 2.0


def install() -> None:
    """Install the fixes and the count of failed action calls (once)."""
    if RemoteAction._validate_action_result is not _ORIGINAL:
        return
    _validate_with_checked_schema()
    _remember_event_classes()
    _run_actions_counted_on_kept_connections()
    _copy_slots_directly()


def _copy_slots_directly() -> None:
    Slot.__copy__ = copied_slot


def copied_slot(slot: Slot) -> Slot:
    """What ``copy.copy`` makes of a slot (a new object of its class sharing its attributes), made directly."""
    new = slot.__class__.__new__(slot.__class__)
    new.__dict__.update(slot.__dict__)
    return new


class KeepAliveEndpoint(EndpointConfig):
    """An endpoint whose HTTP connections stay open between requests (Rasa's opens a session per request)."""

    def __init__(self, endpoint: EndpointConfig) -> None:
        super().__init__(
            endpoint.url,
            endpoint.params,
            endpoint.headers,
            endpoint.basic_auth,
            endpoint.token,
            endpoint.token_name,
            endpoint.cafile,
            **endpoint.kwargs,
        )
        self.type = endpoint.type
        self._sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}

    def _kept_session(self) -> aiohttp.ClientSession:
        """The event loop's session, configured as Rasa's ``session()`` and kept for the next request."""
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            basic = self.basic_auth
            auth = aiohttp.BasicAuth(basic["username"], basic["password"]) if basic else None
            session = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                # No limit on connections, as Rasa's session per request has none.
                connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEP_ALIVE_S),
            )
            self._sessions = {loop: session}  # a session of a loop that is gone is dropped with it
        return session

    async def close(self) -> None:
        """Close the connections kept for the running event loop."""
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.close()

    async def request(
        self,
        method: str = "post",
        subpath: str | None = None,
        content_type: str | None = "application/json",
        compress: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Rasa's ``EndpointConfig.request`` (the JSON answer, if any), on a kept connection."""
        if self.cafile:  # an endpoint with a certificate authority of its own: Rasa's request as it is
            return await super().request(method, subpath, content_type, compress, **kwargs)
        headers = {}
        if content_type:
            headers["Content-Type"] = content_type
        if "headers" in kwargs:
            headers.update(kwargs.pop("headers"))
        if self.headers:
            headers.update(self.headers)
        url = concat_url(self.url, subpath)
        async with self._kept_session().request(
            method, url, headers=headers, params=self.combine_parameters(kwargs), compress=compress, ssl=None, **kwargs
        ) as response:
            if response.status >= 400:
                raise ClientResponseError(response.status, response.reason, await response.content.read())
            try:
                return await response.json()
            except ContentTypeError:
                return None


_KEPT: dict[int, tuple[EndpointConfig, KeepAliveEndpoint]] = {}


def kept_alive(endpoint: EndpointConfig) -> KeepAliveEndpoint:
    """The keep-alive version of an action endpoint (one per endpoint object)."""
    if isinstance(endpoint, KeepAliveEndpoint):
        return endpoint
    kept = _KEPT.get(id(endpoint))
    if kept is None or kept[0] is not endpoint:
        kept = (endpoint, KeepAliveEndpoint(endpoint))
        _KEPT[id(endpoint)] = kept
    return kept[1]


async def close_kept_connections() -> None:
    """Close the action server connections kept for the running event loop (when the server stops)."""
    for _, endpoint in list(_KEPT.values()):
        await endpoint.close()


def _run_actions_counted_on_kept_connections() -> None:
    async def run(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        if self.action_endpoint is not None:  # the agent's endpoint, given to each action made for a call
            self.action_endpoint = kept_alive(self.action_endpoint)
        try:
            return await _ORIGINAL_RUN(self, *args, **kwargs)
        except ActionExecutionRejection:
            raise
        except Exception:
            ACTION_ERRORS.labels(action=self.name()).inc()
            raise

    RemoteAction.run = run


def _remember_event_classes() -> None:
    found: dict[str, type[Event]] = {}

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        cls = found.get(type_name)
        if cls is None:
            cls = _ORIGINAL_RESOLVE(type_name, default)
            if cls is not None and getattr(cls, "type_name", None) == type_name:
                found[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)


def _validate_with_checked_schema() -> None:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is not None:
            error.message += (
                ". Failed to validate Action server response from API, make sure your response "
                f"from the Action endpoint is valid. For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    RemoteAction._validate_action_result = _validate_action_result


__all__ = ["ValidationError", "install"]
