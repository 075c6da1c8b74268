"""The Rasa server's Prometheus metrics: one registry of this process and the families in it.

Counted where they happen (``channels.connector.run_turn`` for turns, each connector's refusals,
``bot.rasa.patches`` for failed action calls); the two gauges are read from the handoff queue and
the outbox when ``/metrics`` is scraped (``console.metrics``). Defining them does no I/O.

Every counter and histogram counts what this process saw: Prometheus scrapes every Rasa instance
as its own target, and queries add them up (``sum by (channel) (rate(hotline_bot_turns_total[5m]))``).
The gauges are the same shared queue and table seen from each instance: take their ``max``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

TURNS = Counter("hotline_bot_turns", "Citizens' turns answered, by channel.", ["channel"], registry=REGISTRY)
# A turn from the connector handing it on to its replies: waiting behind the citizen's earlier
# messages and for a free turn slot included (what the citizen waits).
TURN_SECONDS = Histogram(
    "hotline_turn_seconds",
    "Time from a citizen's message handed on to the bot's replies, by channel.",
    ["channel"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0),
    registry=REGISTRY,
)
# Requests a connector refused: bad_signature, too_large, duplicate, bad_json, bad_request, unknown_session.
WEBHOOK_REJECTIONS = Counter(
    "hotline_webhook_rejections",
    "Requests to a channel's routes refused, by channel and reason.",
    ["channel", "reason"],
    registry=REGISTRY,
)
# Calls to the action server that failed as Rasa saw them (unreachable, refused, timed out, an error
# answer, an invalid response); a form's normal rejection of a message is not one.
ACTION_ERRORS = Counter(
    "hotline_action_errors",
    "Failed calls of the Rasa server to the action server, by action.",
    ["action"],
    registry=REGISTRY,
)
HANDOFFS_WAITING = Gauge(
    "hotline_handoffs_waiting", "Citizens waiting in the handoff queue for a person.", registry=REGISTRY
)
OUTBOX_PENDING = Gauge(
    "hotline_outbox_pending", "Notifications in the outbox not delivered yet (pending).", registry=REGISTRY
)
# 1 when the last scrape could read the gauge's source; 0 when it could not (the gauge then keeps its last value).
GAUGE_SOURCE_UP = Gauge(
    "hotline_metrics_source_up",
    "Whether the last scrape could read the source of a gauge (handoff_queue, outbox).",
    ["source"],
    registry=REGISTRY,
)

REJECTION_REASONS = ("bad_signature", "too_large", "duplicate", "bad_json", "bad_request", "unknown_session")


def rejected(channel: str, reason: str) -> None:
    """Count one refused request of a channel (``reason`` one of ``REJECTION_REASONS``)."""
    if reason not in REJECTION_REASONS:
        raise ValueError(f"unknown rejection reason {reason!r}")
    WEBHOOK_REJECTIONS.labels(channel=channel, reason=reason).inc()


def exposition() -> bytes:
    """The metrics in Prometheus' text format."""
    return generate_latest(REGISTRY)
