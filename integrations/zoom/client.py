"""A small typed client for the Zoom API v2: only the calls Jelly makes, returning our dataclasses.

Users: Jelly lists them (reading only id and email, to link staff) and creates them. It never
updates or deletes a Zoom user. Meetings: create for a host, list a host's scheduled meetings
(to find one whose create answer was lost), get, patch, delete.

Every call has a timeout (`outgoing_http.send`) and fails with one of the classified errors in
`integrations.zoom.errors`. On a 401 the client asks its token source for a refreshed token
once; a second 401 marks the connection broken.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote

from django.conf import settings

from integrations.zoom import outgoing_http
from integrations.zoom.errors import PermanentZoomError, ZoomAuthExpired, ZoomNotFound

MEETING_TYPE_SCHEDULED = 2
MEETING_TIMEZONE = "Europe/London"
# Basic: creating a licensed user would spend one of the clinic's paid Zoom seats, a decision
# for the admin in Zoom, not for Jelly.
USER_TYPE_BASIC = 1
TOPIC_MAX_LENGTH = 200
# Zoom truncates the agenda to 250 characters in meeting lists.
AGENDA_MAX_LENGTH = 2000
USERS_PAGE_SIZE = 300
MEETINGS_PAGE_SIZE = 300


@dataclass(frozen=True)
class ZoomUser:
    id: str
    email: str


@dataclass(frozen=True)
class ZoomMeetingDetails:
    id: int
    uuid: str
    host_id: str
    join_url: str
    start_time: datetime | None
    duration_minutes: int | None
    timezone: str
    # Lets the host start the meeting without signing in: never store it or send it to anyone.
    start_url: str = field(default="", repr=False)
    topic: str = field(default="", repr=False)
    agenda: str = field(default="", repr=False)


class TokenSource(Protocol):
    def access_token(self) -> str: ...

    def refreshed_access_token(self, *, rejected: str) -> str: ...

    def mark_broken(self, reason: str) -> None: ...


class StaticTokenSource:
    """A fixed token (scripts, quick tests): it cannot refresh."""

    def __init__(self, token: str):
        self._token = token
        self.broken_reason = ""

    def access_token(self) -> str:
        return self._token

    def refreshed_access_token(self, *, rejected: str) -> str:
        raise ZoomAuthExpired("Zoom refused the access token and this token source cannot refresh it.", status=401)

    def mark_broken(self, reason: str) -> None:
        self.broken_reason = reason


def zoom_time(value: datetime) -> str:
    """Zoom's UTC form, `yyyy-MM-ddTHH:mm:ssZ`."""
    if value.tzinfo is None:
        raise ValueError("Meeting times must be timezone-aware.")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_zoom_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _meeting_from(body: dict) -> ZoomMeetingDetails:
    try:
        meeting_id = int(body["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentZoomError("Zoom's meeting had no id") from exc
    duration = body.get("duration")
    return ZoomMeetingDetails(
        id=meeting_id,
        uuid=str(body.get("uuid", "")),
        host_id=str(body.get("host_id", "")),
        join_url=str(body.get("join_url", "")),
        start_time=parse_zoom_time(body.get("start_time")),
        duration_minutes=duration if isinstance(duration, int) else None,
        timezone=str(body.get("timezone", "")),
        start_url=str(body.get("start_url", "")),
        topic=str(body.get("topic", "")),
        agenda=str(body.get("agenda", "")),
    )


class ZoomClient:
    def __init__(self, tokens: TokenSource, *, base_url: str | None = None):
        self.tokens = tokens
        self.base_url = (base_url or settings.ZOOM_API_BASE_URL).rstrip("/")

    def _call(self, method: str, path: str, *, what: str, json: dict | None = None, params: dict | None = None):
        url = self.base_url + path

        def send(token: str):
            headers = {"Authorization": f"Bearer {token}"}
            return outgoing_http.send(method, url, json=json, params=params, headers=headers)

        token = self.tokens.access_token()
        response = send(token)
        if response.status_code == 401:
            # The token may have been revoked or expired early: one refresh, then give up.
            token = self.tokens.refreshed_access_token(rejected=token)
            response = send(token)
            if response.status_code == 401:
                self.tokens.mark_broken("Zoom refused a freshly refreshed access token.")
        outgoing_http.raise_for_status(response, what)
        return response

    @staticmethod
    def _json(response, what: str) -> dict:
        try:
            body = response.json()
        except ValueError as exc:
            raise PermanentZoomError(f"{what}: Zoom's answer was not JSON", status=response.status_code) from exc
        if not isinstance(body, dict):
            raise PermanentZoomError(f"{what}: Zoom's answer was not an object", status=response.status_code)
        return body

    # --- Account and users -------------------------------------------------------------------

    def current_account_id(self) -> str:
        """The Zoom account the token belongs to (`GET /users/me`, reading only `account_id`).

        Webhooks name only the account, so the connection must know it.
        """
        what = "Reading the Zoom account id"
        body = self._json(self._call("GET", "/users/me", what=what), what)
        account_id = body.get("account_id")
        if not isinstance(account_id, str) or not account_id:
            raise PermanentZoomError(f"{what}: Zoom's answer had no account id")
        return account_id

    def list_users(self) -> list[ZoomUser]:
        """Active users of the account: id and email only, every page."""
        what = "Listing Zoom users"
        users: list[ZoomUser] = []
        params = {"status": "active", "page_size": USERS_PAGE_SIZE}
        while True:
            body = self._json(self._call("GET", "/users", what=what, params=params), what)
            for user in body.get("users") or []:
                if isinstance(user, dict) and user.get("id") and user.get("email"):
                    users.append(ZoomUser(id=str(user["id"]), email=str(user["email"]).strip().lower()))
            next_page = body.get("next_page_token")
            if not next_page:
                return users
            params = {**params, "next_page_token": next_page}

    def create_user(self, *, email: str, first_name: str, last_name: str, action: str) -> ZoomUser:
        """`POST /users` with `action` "create" (Zoom emails an activation link) or "custCreate"."""
        if action not in {"create", "custCreate"}:
            raise ValueError(f"Jelly creates Zoom users only with create or custCreate, not {action!r}")
        what = "Creating a Zoom user"
        body = {
            "action": action,
            "user_info": {
                "email": email,
                "type": USER_TYPE_BASIC,
                "first_name": first_name[:64],
                "last_name": last_name[:64],
            },
        }
        created = self._json(self._call("POST", "/users", what=what, json=body), what)
        if not created.get("id"):
            raise PermanentZoomError(f"{what}: Zoom's answer had no user id")
        return ZoomUser(id=str(created["id"]), email=str(created.get("email", email)).strip().lower())

    # --- Meetings ----------------------------------------------------------------------------

    def create_meeting(
        self, *, host_user_id: str, topic: str, start_time: datetime, duration_minutes: int, agenda: str = ""
    ) -> ZoomMeetingDetails:
        """A scheduled meeting (type 2) hosted by that Zoom user, waiting room on."""
        what = "Creating a Zoom meeting"
        body = {
            "topic": topic[:TOPIC_MAX_LENGTH],
            "type": MEETING_TYPE_SCHEDULED,
            "start_time": zoom_time(start_time),
            "duration": int(duration_minutes),
            "timezone": MEETING_TIMEZONE,
            "settings": {"waiting_room": True, "join_before_host": False},
        }
        if agenda:
            body["agenda"] = agenda[:AGENDA_MAX_LENGTH]
        path = f"/users/{quote(host_user_id, safe='')}/meetings"
        return _meeting_from(self._json(self._call("POST", path, what=what, json=body), what))

    def list_meetings(self, host_user_id: str) -> list[ZoomMeetingDetails]:
        """The user's scheduled meetings (`GET /users/{id}/meetings?type=scheduled`), every page.

        Zoom lists meetings without their start URL and with the agenda cut to 250 characters.
        """
        what = "Listing a Zoom user's meetings"
        path = f"/users/{quote(host_user_id, safe='')}/meetings"
        params: dict[str, Any] = {"type": "scheduled", "page_size": MEETINGS_PAGE_SIZE}
        meetings: list[ZoomMeetingDetails] = []
        while True:
            body = self._json(self._call("GET", path, what=what, params=params), what)
            for item in body.get("meetings") or []:
                if isinstance(item, dict) and item.get("id"):
                    meetings.append(_meeting_from(item))
            next_page = body.get("next_page_token")
            if not next_page:
                return meetings
            params = {**params, "next_page_token": next_page}

    def get_meeting(self, meeting_id: int) -> ZoomMeetingDetails:
        what = "Reading a Zoom meeting"
        return _meeting_from(self._json(self._call("GET", f"/meetings/{int(meeting_id)}", what=what), what))

    def update_meeting(
        self,
        meeting_id: int,
        *,
        topic: str | None = None,
        start_time: datetime | None = None,
        duration_minutes: int | None = None,
    ) -> None:
        """`PATCH /meetings/{id}` with only the fields given (Zoom answers 204)."""
        body: dict[str, Any] = {}
        if topic is not None:
            body["topic"] = topic[:TOPIC_MAX_LENGTH]
        if start_time is not None:
            body["start_time"] = zoom_time(start_time)
            body["timezone"] = MEETING_TIMEZONE
        if duration_minutes is not None:
            body["duration"] = int(duration_minutes)
        if not body:
            raise ValueError("Nothing to change on the Zoom meeting.")
        self._call("PATCH", f"/meetings/{int(meeting_id)}", what="Changing a Zoom meeting", json=body)

    def delete_meeting(self, meeting_id: int) -> bool:
        """Delete the meeting. True if it was deleted now, False if Zoom had no such meeting
        (404, code 3001) — for a delete that is the same outcome, so it is not an error."""
        try:
            self._call("DELETE", f"/meetings/{int(meeting_id)}", what="Deleting a Zoom meeting")
        except ZoomNotFound:
            return False
        return True
