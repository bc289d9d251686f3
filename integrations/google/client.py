"""A small typed client for the Google calls Jelly makes: Calendar events and Gmail send.

Built on the real google-api-python-client with its bundled (static) discovery documents, so
building a client makes no network call. Every request goes through one `httplib2.Http` with a
timeout, wrapped by `AuthorizedHttp`, which refreshes an expired access token before a call and
refreshes once more (then retries once) on a 401. Refreshed tokens are handed to
`on_tokens_refreshed` so they can be persisted.

Results are our dataclasses and failures our exceptions (`integrations.google.exceptions`);
nothing from the SDK leaks out. `num_retries` defaults to 0: retries with backoff belong to the
caller (Celery), so a worker is never blocked sleeping inside the SDK.

One client per thread: httplib2 connections are not thread-safe.
"""

import base64
import datetime as dt
import errno
import http.client
import json
import logging
import ssl
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from functools import partial
from urllib.parse import urljoin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import google.auth.exceptions
import google_auth_httplib2
import httplib2
from django.conf import settings
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from integrations.google import oauth
from integrations.google.choices import CALENDAR_SCOPE, GMAIL_SEND_SCOPE, ConnectionStatus
from integrations.google.exceptions import (
    AlreadyExists,
    AuthExpired,
    ConnectionBroken,
    GoogleError,
    NotFound,
    PermanentGoogleError,
    ScopeNotGranted,
    TransientGoogleError,
)

logger = logging.getLogger(__name__)

GOOGLE_DEFAULT_API_ENDPOINT = "https://www.googleapis.com/"
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
# Longer-lived limits: worth retrying, but not soon (seconds are a hint for the caller's backoff).
QUOTA_REASONS = {"quotaExceeded": 600.0, "dailyLimitExceeded": 3600.0}
TRANSIENT_ERRNOS = {errno.ETIMEDOUT, errno.EPIPE, errno.ECONNABORTED, errno.ECONNREFUSED, errno.ECONNRESET}
EVENT_ID_NAMESPACE = b"jelly"


def event_id_for(appointment_id: uuid.UUID) -> str:
    """The Google Calendar event id of an appointment: the same every time, for every retry.

    Calendar accepts client-chosen ids of base32hex characters (a-v, 0-9), 5 to 1024 long.
    Lowercase base32hex of b"jelly" + the UUID's 16 bytes, unpadded: 34 characters.
    """
    encoded = base64.b32hexencode(EVENT_ID_NAMESPACE + appointment_id.bytes).decode("ascii")
    return encoded.rstrip("=").lower()


def api_endpoint_for(service_path: str) -> str | None:
    """`api_endpoint` for one API, or None to keep the host from the discovery document.

    `api_endpoint` replaces rootUrl + servicePath, so the service path is appended here:
    Calendar's is "calendar/v3/", Gmail's is "" (its method paths start with "gmail/v1/").
    """
    root = settings.GOOGLE_API_ENDPOINT
    if root == GOOGLE_DEFAULT_API_ENDPOINT:
        return None
    return urljoin(root, service_path)


@dataclass(frozen=True)
class EventBody:
    """What Jelly writes to a calendar event. Deliberately no attendees, location or
    conference data: Google must never invite or email a patient, and receives only what the
    privacy contract allows (built by the diary, in one function)."""

    summary: str
    start: dt.datetime
    end: dt.datetime
    time_zone: str = "Europe/London"
    description: str = ""
    private_properties: Mapping[str, str] = field(default_factory=dict)
    status: str = "confirmed"
    transparency: str = "opaque"

    def __post_init__(self):
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("Event start and end must be timezone-aware.")
        if self.end < self.start:
            raise ValueError("An event cannot end before it starts.")

    def to_api(self, event_id: str | None = None) -> dict:
        body = {
            "summary": self.summary,
            "description": self.description,
            "start": {"dateTime": self.start.isoformat(), "timeZone": self.time_zone},
            "end": {"dateTime": self.end.isoformat(), "timeZone": self.time_zone},
            "status": self.status,
            "transparency": self.transparency,
            "extendedProperties": {"private": {str(k): str(v) for k, v in self.private_properties.items()}},
        }
        if event_id is not None:
            body["id"] = event_id
        return body


@dataclass(frozen=True)
class CalendarEvent:
    """An event as Google holds it."""

    id: str
    status: str
    etag: str = ""
    summary: str = ""
    description: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    time_zone: str = ""
    private_properties: Mapping[str, str] = field(default_factory=dict)
    html_link: str = ""
    updated: dt.datetime | None = None
    organizer_email: str = ""

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    @classmethod
    def from_api(cls, data: Mapping) -> "CalendarEvent":
        start = data.get("start") or {}
        return cls(
            id=str(data.get("id", "")),
            status=str(data.get("status", "confirmed")),
            etag=str(data.get("etag", "")),
            summary=str(data.get("summary", "")),
            description=str(data.get("description", "")),
            start=_event_time(start),
            end=_event_time(data.get("end") or {}),
            time_zone=str(start.get("timeZone", "")),
            private_properties=dict((data.get("extendedProperties") or {}).get("private") or {}),
            html_link=str(data.get("htmlLink", "")),
            updated=_rfc3339(data.get("updated")),
            organizer_email=str((data.get("organizer") or {}).get("email", "")),
        )


@dataclass(frozen=True)
class SentMessage:
    """Gmail's acknowledgement of a sent message (ids only; its content is not kept)."""

    id: str
    thread_id: str
    label_ids: tuple[str, ...] = ()


def build_message(
    *,
    to: str | Iterable[str],
    subject: str,
    text: str,
    sender: str = "",
    html: str = "",
    reply_to: str = "",
    extra_headers: Mapping[str, str] | None = None,
) -> bytes:
    """An RFC 2822 message (CRLF line endings) built with Python's `email` package.

    Header values containing line breaks are refused by the email policy, so no caller text can
    inject a header. Gmail fills in From (the connected account) when `sender` is empty.
    """
    message = EmailMessage(policy=SMTP)
    message["To"] = to if isinstance(to, str) else ", ".join(to)
    if sender:
        message["From"] = sender
    message["Subject"] = subject
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    if reply_to:
        message["Reply-To"] = reply_to
    for name, value in (extra_headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


def gmail_raw(message: bytes) -> str:
    """Gmail's `raw`: the RFC 2822 bytes, base64url-encoded."""
    return base64.urlsafe_b64encode(message).decode("ascii")


def classify(exc: Exception) -> GoogleError | None:
    """Our exception for an SDK/transport failure, or None for anything else (a bug: re-raise)."""
    if isinstance(exc, GoogleError):
        return exc
    if isinstance(exc, HttpError):
        return _classify_http_error(exc)
    if isinstance(exc, google.auth.exceptions.GoogleAuthError):
        return oauth.classify_auth_error(exc)
    if isinstance(exc, TimeoutError):
        return TransientGoogleError("Google did not answer in time.", reason="timeout")
    if isinstance(exc, ConnectionError | http.client.HTTPException | httplib2.HttpLib2Error | ssl.SSLError):
        return TransientGoogleError(f"Connection to Google failed ({type(exc).__name__}).", reason="connection")
    if isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS:
        return TransientGoogleError(f"Connection to Google failed ({type(exc).__name__}).", reason="connection")
    return None


def _classify_http_error(exc: HttpError) -> GoogleError:
    status = int(exc.resp.status)
    reason, message = _google_error(exc.content)
    retry_after = _retry_after(exc.resp)
    if status == 401:
        return AuthExpired(message, status=status, reason=reason or "authError")
    if status == 403 and reason in RATE_LIMIT_REASONS:
        return TransientGoogleError(message, status=status, reason=reason, retry_after=retry_after)
    if status == 403 and reason in QUOTA_REASONS:
        hint = max(retry_after or 0.0, QUOTA_REASONS[reason])
        return TransientGoogleError(message, status=status, reason=reason, retry_after=hint)
    if status == 403 and reason == "insufficientPermissions":
        return ScopeNotGranted(message, status=status, reason=reason)
    if status in (404, 410):
        return NotFound(message, status=status, reason=reason)
    if status == 409:
        return AlreadyExists(message, status=status, reason=reason or "duplicate")
    if status in (408, 429) or status >= 500:
        if "mail sending" in message.lower():
            # Gmail's daily sending cap: retrying soon cannot help.
            retry_after = max(retry_after or 0.0, 3600.0)
        return TransientGoogleError(message, status=status, reason=reason, retry_after=retry_after)
    return PermanentGoogleError(message, status=status, reason=reason)


def _google_error(content: bytes) -> tuple[str, str]:
    """(reason, message) from Google's JSON error body; tolerant of anything else."""
    try:
        body = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    errors = error.get("errors") or []
    reason = errors[0].get("reason", "") if errors and isinstance(errors[0], dict) else ""
    return str(reason or error.get("status", "")), str(error.get("message", ""))[:300]


def _retry_after(response) -> float | None:
    value = response.get("retry-after") if hasattr(response, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _rfc3339(value) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _event_time(data: Mapping) -> dt.datetime | None:
    zone = _zone(data.get("timeZone"))
    if data.get("dateTime"):
        moment = _rfc3339(data["dateTime"])
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone or dt.UTC)
        return moment
    if data.get("date"):
        try:
            day = dt.date.fromisoformat(str(data["date"]))
        except ValueError:
            return None
        return dt.datetime.combine(day, dt.time(), tzinfo=zone or dt.UTC)
    return None


def _zone(name) -> ZoneInfo | None:
    try:
        return ZoneInfo(str(name)) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


class _GoogleApi:
    service_name = ""
    version = ""
    service_path = ""

    def __init__(
        self,
        credentials,
        *,
        on_tokens_refreshed: Callable[[oauth.GrantedTokens], None] | None = None,
        num_retries: int = 0,
        timeout: float | None = None,
    ):
        self._credentials = credentials
        self._on_tokens_refreshed = on_tokens_refreshed
        self._num_retries = num_retries
        transport = httplib2.Http(timeout=timeout or settings.GOOGLE_HTTP_TIMEOUT_SECONDS)
        # A 401 gets one refresh and one retry; a second 401 is AuthExpired (the grant is gone).
        authorized = google_auth_httplib2.AuthorizedHttp(credentials, http=transport, max_refresh_attempts=1)
        endpoint = api_endpoint_for(self.service_path)
        self._service = build(
            self.service_name,
            self.version,
            http=authorized,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": endpoint} if endpoint else None,
        )

    def _execute(self, request):
        token_before = self._credentials.token
        try:
            return request.execute(num_retries=self._num_retries)
        except Exception as exc:
            mapped = classify(exc)
            if mapped is None:
                raise
            raise mapped from exc
        finally:
            if self._on_tokens_refreshed and self._credentials.token and self._credentials.token != token_before:
                self._on_tokens_refreshed(oauth.tokens_from(self._credentials))


def _usable(connection, scope: str) -> None:
    if connection.status not in (ConnectionStatus.CONNECTED, ConnectionStatus.DISCONNECTING):
        raise ConnectionBroken("The Google connection is not usable.", reason=connection.status)
    if not connection.refresh_token:
        raise ConnectionBroken("The Google connection holds no refresh token.", reason="no_refresh_token")
    if scope not in (connection.granted_scopes or []):
        raise ScopeNotGranted(f"{scope} was not granted.", reason="scope_not_granted")


def _token_saver(connection):
    from integrations.google.services import google_connection_save_tokens

    return partial(google_connection_save_tokens, connection=connection)


class GoogleCalendarClient(_GoogleApi):
    """Events on one calendar of one Google account."""

    service_name = "calendar"
    version = "v3"
    service_path = "calendar/v3/"

    def __init__(self, credentials, *, calendar_id: str = "primary", **kwargs):
        super().__init__(credentials, **kwargs)
        self.calendar_id = calendar_id

    @classmethod
    def for_connection(cls, connection, **kwargs) -> "GoogleCalendarClient":
        """A client for the staff member's calendar; refreshed tokens are saved to the connection."""
        _usable(connection, CALENDAR_SCOPE)
        return cls(
            oauth.credentials_for(connection),
            calendar_id=connection.calendar_id,
            on_tokens_refreshed=_token_saver(connection),
            **kwargs,
        )

    @property
    def _events(self):
        # Built once per client: each `events()` call builds every method of the resource,
        # docstrings included, which costs more CPU than the HTTP call to a nearby server.
        events = self.__dict__.get("_events_resource")
        if events is None:
            events = self.__dict__["_events_resource"] = self._service.events()
        return events

    def insert_event(self, event_id: str, body: EventBody) -> CalendarEvent:
        """Create the event with our id. AlreadyExists if it exists (even cancelled)."""
        request = self._events.insert(calendarId=self.calendar_id, body=body.to_api(event_id))
        return CalendarEvent.from_api(self._execute(request))

    def get_event(self, event_id: str) -> CalendarEvent:
        """The event, cancelled ones included. NotFound if Google has no such event."""
        request = self._events.get(calendarId=self.calendar_id, eventId=event_id)
        return CalendarEvent.from_api(self._execute(request))

    def patch_event(self, event_id: str, body: EventBody) -> CalendarEvent:
        """Set every field Jelly owns (status too, so a cancelled event is restored)."""
        request = self._events.patch(calendarId=self.calendar_id, eventId=event_id, body=body.to_api())
        return CalendarEvent.from_api(self._execute(request))

    def update_event(self, event_id: str, body: EventBody) -> CalendarEvent:
        """Replace the event entirely (fields Jelly does not set are cleared)."""
        request = self._events.update(calendarId=self.calendar_id, eventId=event_id, body=body.to_api(event_id))
        return CalendarEvent.from_api(self._execute(request))

    def upsert_event(self, event_id: str, body: EventBody) -> CalendarEvent:
        """Make the event look like `body`, whether or not an earlier try already created it.

        Insert first; 409 means a retried or lost-response insert already made it (or it was
        deleted and keeps its id), so patch it instead. Never creates a second event.
        """
        try:
            return self.insert_event(event_id, body)
        except AlreadyExists:
            return self.patch_event(event_id, body)

    def delete_event(self, event_id: str, *, missing_ok: bool = True) -> bool:
        """Delete the event. True if this call deleted it; False if it was already gone
        (404, or 410 for an already deleted event). With missing_ok=False, NotFound instead."""
        request = self._events.delete(calendarId=self.calendar_id, eventId=event_id)
        try:
            self._execute(request)
        except NotFound:
            if not missing_ok:
                raise
            return False
        return True


class GmailClient(_GoogleApi):
    """Sending mail as the connected account (gmail.send: no reading of the mailbox)."""

    service_name = "gmail"
    version = "v1"
    service_path = ""

    @classmethod
    def for_connection(cls, connection, **kwargs) -> "GmailClient":
        _usable(connection, GMAIL_SEND_SCOPE)
        return cls(oauth.credentials_for(connection), on_tokens_refreshed=_token_saver(connection), **kwargs)

    def send(self, message: bytes, *, thread_id: str = "") -> SentMessage:
        """Send an RFC 2822 message (see `build_message`) as `raw`, not as a media upload: the
        SDK's media path keeps https even when api_endpoint is http."""
        body = {"raw": gmail_raw(message)}
        if thread_id:
            body["threadId"] = thread_id
        request = self._service.users().messages().send(userId="me", body=body)
        data = self._execute(request)
        return SentMessage(
            id=str(data.get("id", "")),
            thread_id=str(data.get("threadId", "")),
            label_ids=tuple(data.get("labelIds") or ()),
        )
