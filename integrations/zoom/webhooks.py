"""Zoom webhooks: signature verification, the URL-validation challenge, and parsing an event.

Zoom signs each request: `x-zm-signature: v0=<hex>` where hex is HMAC-SHA256, keyed with the
app's secret token, over `v0:{x-zm-request-timestamp}:{raw body}`. The raw bytes are signed,
never a re-serialisation. A timestamp more than five minutes away from now is refused so a
captured request cannot be replayed later; within those minutes a replay is the same delivery
and the ledger (`ZoomWebhookDelivery.dedupe_key`) makes it a no-op.

Nothing here touches the database; `views.webhook` calls these, then `services`.
"""

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

SIGNATURE_HEADER = "x-zm-signature"
TIMESTAMP_HEADER = "x-zm-request-timestamp"
MAX_AGE_SECONDS = 5 * 60

URL_VALIDATION = "endpoint.url_validation"
APP_DEAUTHORIZED = "app_deauthorized"
MEETING_CREATED = "meeting.created"
MEETING_UPDATED = "meeting.updated"
MEETING_DELETED = "meeting.deleted"
MEETING_STARTED = "meeting.started"
MEETING_ENDED = "meeting.ended"
PARTICIPANT_JOINED = "meeting.participant_joined"
PARTICIPANT_LEFT = "meeting.participant_left"

MEETING_EVENTS = frozenset(
    {
        MEETING_CREATED,
        MEETING_UPDATED,
        MEETING_DELETED,
        MEETING_STARTED,
        MEETING_ENDED,
        PARTICIPANT_JOINED,
        PARTICIPANT_LEFT,
    }
)
# The events Jelly's Zoom app subscribes to. Anything else is refused (400): it means the app's
# subscriptions and this list disagree, which someone should notice.
KNOWN_EVENTS = MEETING_EVENTS | {URL_VALIDATION, APP_DEAUTHORIZED}


class WebhookRejected(Exception):
    """A request that is not a valid Zoom event. `reason` is for the log; never the body."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signature_for(*, secret: str, timestamp: str, raw_body: bytes) -> str:
    message = b"v0:" + timestamp.encode() + b":" + raw_body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    *,
    raw_body: bytes,
    timestamp: str,
    signature: str,
    secret: str,
    now: float | None = None,
    max_age: int = MAX_AGE_SECONDS,
) -> None:
    """Raise `WebhookRejected(401)` unless Zoom signed exactly these bytes within `max_age`."""
    if not secret:
        raise WebhookRejected(401, "ZOOM_WEBHOOK_SECRET_TOKEN is not set, so no webhook can be trusted")
    if not timestamp or not signature:
        raise WebhookRejected(401, "missing signature or timestamp header")
    if not timestamp.isdigit():
        raise WebhookRejected(401, "timestamp is not a number")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > max_age:
        raise WebhookRejected(401, "timestamp is more than five minutes away (stale or replayed)")
    expected = signature_for(secret=secret, timestamp=timestamp, raw_body=raw_body)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise WebhookRejected(401, "signature does not match")


def url_validation_answer(*, plain_token: str, secret: str) -> dict[str, str]:
    """The answer to `endpoint.url_validation`: the token back, and its HMAC with the secret."""
    encrypted = hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": encrypted}


@dataclass(frozen=True)
class ZoomEvent:
    """One verified, well-formed event."""

    name: str
    event_ts: int | None
    payload: dict[str, Any]
    body: dict[str, Any]

    @property
    def account_id(self) -> str:
        value = self.payload.get("account_id")
        return value if isinstance(value, str) else ""

    @property
    def object(self) -> dict[str, Any]:
        value = self.payload.get("object")
        return value if isinstance(value, dict) else {}

    @property
    def meeting_id(self) -> int | None:
        return _as_meeting_id(self.object.get("id"))

    @property
    def participant(self) -> dict[str, Any]:
        value = self.object.get("participant")
        return value if isinstance(value, dict) else {}

    @property
    def dedupe_key(self) -> str:
        """What makes two deliveries the same event.

        Event, timestamp and object id, as Zoom sends no delivery id in the body. Participant
        events add the participant and their join/leave time: two people can join one meeting
        in the same millisecond, and they are two events.
        """
        participant = self.participant
        parts = [
            self.name,
            self.event_ts,
            self.account_id,
            self.meeting_id,
            self.object.get("uuid"),
            participant.get("user_id"),
            participant.get("participant_uuid"),
            participant.get("join_time"),
            participant.get("leave_time"),
        ]
        return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def _as_meeting_id(value: Any) -> int | None:
    # Meeting events carry the number as a JSON number, participant events as a string.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def event_from_body(body: Any) -> ZoomEvent:
    """Check the envelope; raise `WebhookRejected(400)` for anything Jelly cannot use."""
    if not isinstance(body, dict):
        raise WebhookRejected(400, "body is not a JSON object")
    name = body.get("event")
    payload = body.get("payload")
    if not isinstance(name, str) or not isinstance(payload, dict):
        raise WebhookRejected(400, "no event name or payload")
    if name not in KNOWN_EVENTS:
        raise WebhookRejected(400, f"unknown event {name[:80]!r}")
    event_ts = body.get("event_ts")
    event = ZoomEvent(
        name=name,
        event_ts=event_ts if isinstance(event_ts, int) and not isinstance(event_ts, bool) else None,
        payload=payload,
        body=body,
    )
    if name == URL_VALIDATION:
        token = payload.get("plainToken")
        if not isinstance(token, str) or not token:
            raise WebhookRejected(400, "url_validation without a plainToken")
    elif name == APP_DEAUTHORIZED:
        if not event.account_id:
            raise WebhookRejected(400, "app_deauthorized without an account id")
    elif event.meeting_id is None:
        raise WebhookRejected(400, f"{name} without a meeting id")
    return event


def parse_event(raw_body: bytes) -> ZoomEvent:
    try:
        body = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookRejected(400, "body is not valid JSON") from exc
    return event_from_body(body)
