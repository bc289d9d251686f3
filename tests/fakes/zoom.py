"""A fake Zoom on 127.0.0.1: OAuth, users and meetings over real HTTP, following Zoom's contract.

It follows ../shared/API_NOTES.md section E: the token endpoint with HTTP Basic client auth and
rotating refresh tokens; `POST /users` (201, 409 for an existing email); meetings create (201),
list a user's meetings (200, paged, agenda cut to 250 characters, no start URL), get (200),
patch (204), delete (204), and 404 `{"code": 3001, "message": "Meeting does not exist: …"}`;
401 `{"code": 124, …}` for a bad token. Every request is recorded, and faults can be injected:
any status (401, 404, 429 with Retry-After, 5xx), latency, dropped connections — one by one
(`inject`) or at random (`chaos`), including answers lost after Zoom did the work.

`send_webhook` signs an event the way Zoom does and posts it to Jelly through a Django client.
"""

import base64
import hashlib
import hmac
import itertools
import json
import random
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

CLIENT_ID = "fake-zoom-client-id"
CLIENT_SECRET = "fake-zoom-client-secret"
WEBHOOK_SECRET = "test_secret_token"
ACCOUNT_ID = "fakeAccount123"
SCOPES = "meeting:write:admin meeting:read:admin user:read:admin user:write:admin"
START_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z?$")

DEFAULT_ERROR_BODIES = {
    400: {"code": 300, "message": "Validation Failed."},
    401: {"code": 124, "message": "Invalid access token."},
    403: {"code": 200, "message": "No privilege."},
    404: {"code": 3001, "message": "Meeting does not exist: 0."},
    429: {"code": 429, "message": "You have reached the maximum per-second rate limit for this API. Try again later."},
    500: {"code": 500, "message": "Internal server error."},
    502: {"code": 502, "message": "Bad gateway."},
    503: {"code": 503, "message": "Service unavailable."},
}


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        header = self.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user, password


@dataclass
class Fault:
    method: str | None
    path: str | None
    status: int | None
    body: Any
    headers: dict[str, str]
    delay: float
    drop: bool
    times: int

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or re.search(self.path, path))


@dataclass
class FakeZoom:
    account_id: str = ACCOUNT_ID
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    webhook_secret: str = WEBHOOK_SECRET
    # Whether Zoom has made this account an API partner (allowed to use custCreate).
    api_partner: bool = False
    access_token_lifetime: int = 3600
    users_page_size: int | None = None  # cap Zoom's page size, to exercise pagination
    consent_denied: bool = False

    requests: list[RecordedRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    users: dict[str, dict] = field(default_factory=dict)
    meetings: dict[int, dict] = field(default_factory=dict)
    codes: dict[str, dict] = field(default_factory=dict)
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (epoch seconds)
    refresh_tokens: set[str] = field(default_factory=set)
    revoked: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.lock = threading.RLock()
        self._meeting_ids = itertools.count(85746065432)
        self._server: ThreadingHTTPServer | None = None
        self.admin_user_id = self.add_user("zoom-admin@clinic.test", first_name="Zoe", last_name="Admin")
        self.chaos_rate = 0.0
        self.chaos_kinds: tuple[str, ...] = ()
        self.chaos_counts: dict[str, int] = {}
        self._chaos_rng = random.Random(0)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "FakeZoom":
        fake = self

        class Handler(_Handler):
            zoom = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.handle_error = lambda request, client_address: None  # client went away: fine
        threading.Thread(target=self._server.serve_forever, name="fake-zoom", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_base_url(self) -> str:
        return self.base_url + "/v2"

    @property
    def auth_url(self) -> str:
        return self.base_url + "/oauth/authorize"

    @property
    def token_url(self) -> str:
        return self.base_url + "/oauth/token"

    # --- state helpers for tests -------------------------------------------------------------

    def add_user(self, email: str, *, first_name: str = "", last_name: str = "", status: str = "active") -> str:
        user_id = secrets.token_urlsafe(16)
        with self.lock:
            self.users[user_id] = {
                "id": user_id,
                "email": email.lower(),
                "first_name": first_name,
                "last_name": last_name,
                "display_name": f"{first_name} {last_name}".strip(),
                "type": 2,
                "status": status,
                "timezone": "Europe/London",
                "dept": "Physiotherapy",
                "phone_number": "+44 1225 000000",
            }
        return user_id

    def issue_tokens(self) -> tuple[str, str]:
        """A fresh access/refresh pair, as if an admin had just installed the app."""
        with self.lock:
            access, refresh = "zat_" + secrets.token_urlsafe(24), "zrt_" + secrets.token_urlsafe(24)
            self.access_tokens[access] = time.time() + self.access_token_lifetime
            self.refresh_tokens.add(refresh)
        return access, refresh

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self.access_tokens:
                self.access_tokens[token] = 0

    def revoke_everything(self) -> None:
        """What uninstalling the app in Zoom does: no token works any more."""
        with self.lock:
            self.access_tokens.clear()
            self.refresh_tokens.clear()

    def inject(
        self,
        *,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay: float = 0,
        drop: bool = False,
        times: int = 1,
    ) -> None:
        """The next `times` requests matching method/path (a regex) fail this way."""
        with self.lock:
            self.faults.append(Fault(method, path, status, body, headers or {}, delay, drop, times))

    CHAOS_KINDS = ("429", "500", "503", "drop", "lost_answer")

    def chaos(self, rate: float, *, seed: int = 0, kinds: tuple[str, ...] = CHAOS_KINDS) -> None:
        """From now on, each API call (`/v2/…`) fails with probability `rate`, in one of `kinds`:
        429 (with Retry-After: 1), 500, 503, a dropped connection before Zoom does anything, or
        "lost_answer": Zoom does the work, then the connection drops before the answer."""
        with self.lock:
            self.chaos_rate = rate
            self.chaos_kinds = tuple(kinds)
            self._chaos_rng = random.Random(seed)

    def take_chaos(self, path: str) -> str | None:
        with self.lock:
            if not self.chaos_rate or not path.startswith("/v2/") or self._chaos_rng.random() >= self.chaos_rate:
                return None
            kind = self._chaos_rng.choice(self.chaos_kinds)
            self.chaos_counts[kind] = self.chaos_counts.get(kind, 0) + 1
            return kind

    def meetings_hosted_by(self, user_id: str) -> list[dict]:
        with self.lock:
            return [dict(meeting) for meeting in self.meetings.values() if meeting["host_id"] == user_id]

    def requests_to(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or re.search(path, r.path))
            ]

    def consent(self, authorise_url: str) -> str:
        """The admin approves Jelly in their browser: returns where Zoom redirects them back to."""
        response = requests.get(authorise_url, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    # --- webhooks, as Zoom would send them ---------------------------------------------------

    def event(self, name: str, obj: dict | None = None, **payload: Any) -> dict:
        body = {"event": name, "payload": {"account_id": self.account_id, **payload}, "event_ts": _now_ms()}
        if obj is not None:
            body["payload"]["object"] = obj
        return body

    def meeting_object(self, meeting_id: int, **fields: Any) -> dict:
        meeting = self.meetings.get(meeting_id, {})
        base = {
            "id": meeting_id,
            "uuid": meeting.get("uuid", "abc=="),
            "host_id": meeting.get("host_id", ""),
            "topic": meeting.get("topic", ""),
            "type": 2,
            "start_time": meeting.get("start_time", ""),
            "duration": meeting.get("duration", 30),
            "timezone": "Europe/London",
        }
        return {**base, **fields}

    def participant_event(
        self, name: str, meeting_id: int, *, user_name: str, zoom_user_id: str = "", when: str = ""
    ) -> dict:
        """`meeting.participant_joined` / `_left`; Zoom sends the meeting id as a string here."""
        participant = {
            "user_id": str(secrets.randbelow(10**8)),
            "user_name": user_name,
            "id": zoom_user_id,
            "participant_uuid": secrets.token_urlsafe(12),
            "email": "",
        }
        participant["join_time" if name.endswith("joined") else "leave_time"] = when or _now_iso()
        obj = self.meeting_object(meeting_id, id=str(meeting_id), participant=participant)
        return self.event(name, obj)

    def update_in_zoom(self, meeting_id: int, **changes: Any) -> dict:
        """A host changes the meeting in Zoom: apply it here and return Zoom's `meeting.updated`."""
        with self.lock:
            meeting = self.meetings[meeting_id]
            old = {key: meeting[key] for key in changes}
            meeting.update(changes)
        return self.event(
            "meeting.updated",
            {"id": meeting_id, "uuid": meeting["uuid"], **changes},
            operator="host@clinic.test",
            operator_id=meeting["host_id"],
            time_stamp=_now_ms(),
            old_object={"id": meeting_id, "uuid": meeting["uuid"], **old},
        )

    def delete_in_zoom(self, meeting_id: int) -> dict:
        with self.lock:
            meeting = self.meetings.pop(meeting_id)
        return self.event(
            "meeting.deleted",
            {"id": meeting_id, "uuid": meeting["uuid"], "host_id": meeting["host_id"], "type": 2},
            operator="host@clinic.test",
            operator_id=meeting["host_id"],
        )

    def deauthorisation_event(self, *, user_data_retention: bool = False) -> dict:
        return {
            "event": "app_deauthorized",
            "payload": {
                "account_id": self.account_id,
                "user_id": self.admin_user_id,
                "client_id": self.client_id,
                "deauthorization_time": _now_iso(),
                "signature": secrets.token_hex(16),
                "user_data_retention": user_data_retention,
            },
            "event_ts": _now_ms(),
        }

    # --- request handling (called from the server's threads) --------------------------------

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def handle(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        path = request.path
        if path == "/oauth/authorize" and request.method == "GET":
            return self._authorise(request)
        if path == "/oauth/token" and request.method == "POST":
            return self._token(request)
        if path == "/oauth/revoke" and request.method == "POST":
            return self._revoke(request)
        if not path.startswith("/v2/"):
            return 404, {"code": 404, "message": "Not found."}, {}
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self.lock:
            valid = self.access_tokens.get(token, 0) > time.time()
        if not valid:
            return 401, {"code": 124, "message": "Invalid access token."}, {}
        return self._api(request.method, path[3:], request)

    def _authorise(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        query = {key: values[0] for key, values in request.query.items()}
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return 400, {"error": "invalid_request", "reason": "Invalid client_id or response_type"}, {}
        redirect_uri = query.get("redirect_uri", "")
        if self.consent_denied:
            back = {"error": "access_denied", "state": query.get("state", "")}
        else:
            code = secrets.token_urlsafe(16)
            with self.lock:
                self.codes[code] = {"redirect_uri": redirect_uri, "challenge": query.get("code_challenge")}
            back = {"code": code, "state": query.get("state", "")}
        return 302, None, {"Location": f"{redirect_uri}?{urlencode(back)}"}

    def _client_ok(self, request: RecordedRequest) -> bool:
        return request.basic_auth == (self.client_id, self.client_secret)

    def _token(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        if not self._client_ok(request):
            return 401, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}, {}
        form = request.form
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            with self.lock:
                issued = self.codes.pop(form.get("code", ""), None)
            if issued is None or issued["redirect_uri"] != form.get("redirect_uri"):
                return 400, {"reason": "Invalid authorization code", "error": "invalid_grant"}, {}
            if issued["challenge"]:
                digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != issued["challenge"]:
                    return 400, {"reason": "Invalid code_verifier", "error": "invalid_grant"}, {}
        elif grant_type == "refresh_token":
            with self.lock:
                known = form.get("refresh_token", "") in self.refresh_tokens
                # Rotation: a refresh token works once.
                self.refresh_tokens.discard(form.get("refresh_token", ""))
            if not known:
                return 400, {"reason": "Invalid Token!", "error": "invalid_grant"}, {}
        else:
            return 400, {"reason": "Unsupported grant type", "error": "unsupported_grant_type"}, {}
        access, refresh = self.issue_tokens()
        body = {
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": refresh,
            "expires_in": self.access_token_lifetime,
            "scope": SCOPES,
        }
        return 200, body, {}

    def _revoke(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        if not self._client_ok(request):
            return 401, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}, {}
        token = (request.query.get("token") or [""])[0]
        with self.lock:
            known = token in self.access_tokens or token in self.refresh_tokens
            self.access_tokens.pop(token, None)
            self.refresh_tokens.discard(token)
            self.revoked.append(token)
        if not known:
            return 400, {"reason": "Invalid Token!", "error": "invalid_request"}, {}
        return 200, {"status": "success"}, {}

    def _api(self, method: str, path: str, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        if path == "/users/me" and method == "GET":
            admin = self.users[self.admin_user_id]
            return 200, {**admin, "account_id": self.account_id, "role_name": "Owner"}, {}
        if path == "/users" and method == "GET":
            return self._users_list(request)
        if path == "/users" and method == "POST":
            return self._users_create(request.json or {})
        match = re.fullmatch(r"/users/([^/]+)/meetings", path)
        if match and method == "POST":
            return self._meeting_create(match.group(1), request.json or {})
        if match and method == "GET":
            return self._meetings_list(match.group(1), request)
        match = re.fullmatch(r"/meetings/(\d+)", path)
        if match:
            return self._meeting(method, int(match.group(1)), request.json or {})
        return 404, {"code": 404, "message": f"No such endpoint: {method} {path}"}, {}

    def _users_list(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        query = {key: values[0] for key, values in request.query.items()}
        status = query.get("status", "active")
        page_size = min(int(query.get("page_size", 30)), 300, self.users_page_size or 300)
        offset = int(query.get("next_page_token") or 0)
        with self.lock:
            matching = [user for user in self.users.values() if user["status"] == status]
        page = matching[offset : offset + page_size]
        next_offset = offset + page_size
        return (
            200,
            {
                "page_size": page_size,
                "total_records": len(matching),
                "next_page_token": str(next_offset) if next_offset < len(matching) else "",
                "users": page,
            },
            {},
        )

    def _users_create(self, body: dict) -> tuple[int, Any, dict[str, str]]:
        action = body.get("action")
        info = body.get("user_info") or {}
        email = str(info.get("email", "")).lower()
        if action not in {"create", "autoCreate", "custCreate", "ssoCreate"} or not email:
            return 400, {"code": 300, "message": "Validation Failed.", "errors": [{"field": "action"}]}, {}
        if action == "custCreate" and not self.api_partner:
            return 403, {"code": 200, "message": "No privilege: custCreate is for API partners only."}, {}
        with self.lock:
            if any(user["email"] == email for user in self.users.values()):
                return 409, {"code": 1005, "message": f"User already in the account: {email}"}, {}
        user_id = self.add_user(
            email,
            first_name=info.get("first_name", ""),
            last_name=info.get("last_name", ""),
            status="pending" if action == "create" else "active",
        )
        user = self.users[user_id]
        user["type"] = info.get("type", 1)
        user["created_with"] = action
        return 201, {key: user[key] for key in ("id", "first_name", "last_name", "email", "type")}, {}

    def _find_user(self, user_ref: str) -> dict | None:
        if user_ref == "me":
            return self.users[self.admin_user_id]
        return self.users.get(user_ref) or next((u for u in self.users.values() if u["email"] == user_ref), None)

    def _meeting_create(self, user_ref: str, body: dict) -> tuple[int, Any, dict[str, str]]:
        host = self._find_user(user_ref)
        if host is None:
            return 404, {"code": 1001, "message": f"User does not exist: {user_ref}."}, {}
        if body.get("type") not in (1, 2, 3, 8):
            return 400, {"code": 300, "message": "Invalid meeting type."}, {}
        if body.get("type") == 2 and not START_TIME.match(str(body.get("start_time", ""))):
            return 400, {"code": 300, "message": "Invalid field.", "errors": [{"field": "start_time"}]}, {}
        meeting_id = next(self._meeting_ids)
        password = f"{secrets.randbelow(10**6):06d}"
        meeting = {
            "id": meeting_id,
            "uuid": base64.b64encode(secrets.token_bytes(16)).decode(),
            "host_id": host["id"],
            "host_email": host["email"],
            "topic": body.get("topic", ""),
            "type": body["type"],
            "start_time": body.get("start_time", ""),
            "duration": body.get("duration", 60),
            "timezone": body.get("timezone", "UTC"),
            "agenda": body.get("agenda", ""),
            "created_at": _now_iso(),
            "join_url": f"https://zoom.us/j/{meeting_id}?pwd={secrets.token_urlsafe(12)}",
            "start_url": f"https://zoom.us/s/{meeting_id}?zak={secrets.token_urlsafe(24)}",
            "password": password,
            "settings": body.get("settings", {}),
            "pre_schedule": False,
        }
        with self.lock:
            self.meetings[meeting_id] = meeting
        return 201, meeting, {}

    def _meetings_list(self, user_ref: str, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        host = self._find_user(user_ref)
        if host is None:
            return 404, {"code": 1001, "message": f"User does not exist: {user_ref}."}, {}
        query = {key: values[0] for key, values in request.query.items()}
        page_size = min(int(query.get("page_size", 30)), 300)
        offset = int(query.get("next_page_token") or 0)
        listed = ("uuid", "id", "host_id", "topic", "type", "start_time", "duration", "timezone", "created_at")
        with self.lock:
            hosted = [meeting for meeting in self.meetings.values() if meeting["host_id"] == host["id"]]
            page = [
                {
                    **{key: meeting[key] for key in listed},
                    "join_url": meeting["join_url"],
                    "agenda": meeting["agenda"][:250],
                }
                for meeting in hosted[offset : offset + page_size]
            ]
        next_offset = offset + page_size
        body = {
            "page_size": page_size,
            "total_records": len(hosted),
            "next_page_token": str(next_offset) if next_offset < len(hosted) else "",
            "meetings": page,
        }
        return 200, body, {}

    def _meeting(self, method: str, meeting_id: int, body: dict) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            meeting = self.meetings.get(meeting_id)
            if meeting is None:
                return 404, {"code": 3001, "message": f"Meeting does not exist: {meeting_id}."}, {}
            if method == "GET":
                return 200, dict(meeting), {}
            if method == "PATCH":
                if "start_time" in body and not START_TIME.match(str(body["start_time"])):
                    return 400, {"code": 300, "message": "Invalid field.", "errors": [{"field": "start_time"}]}, {}
                for key in ("topic", "start_time", "duration", "timezone", "agenda", "settings"):
                    if key in body:
                        meeting[key] = body[key]
                return 204, None, {}
            if method == "DELETE":
                del self.meetings[meeting_id]
                return 204, None, {}
        return 405, {"code": 405, "message": "Method not allowed."}, {}


class _Handler(BaseHTTPRequestHandler):
    zoom: FakeZoom
    # HTTP/1.0: one request per connection, so a dropped connection never poisons a pool.
    protocol_version = "HTTP/1.0"

    def log_message(self, format, *args):
        pass

    def _serve(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={key.lower(): value for key, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        with self.zoom.lock:
            self.zoom.requests.append(request)
        fault = self.zoom.take_fault(request.method, request.path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.status is not None:
                body = fault.body if fault.body is not None else DEFAULT_ERROR_BODIES.get(fault.status, {})
                self._send(fault.status, body, fault.headers)
                return
        chaos = self.zoom.take_chaos(request.path)
        if chaos == "drop":
            self._drop()
            return
        if chaos in ("429", "500", "503"):
            status = int(chaos)
            self._send(status, DEFAULT_ERROR_BODIES[status], {"Retry-After": "1"} if status == 429 else {})
            return
        status, body, headers = self.zoom.handle(request)
        if chaos == "lost_answer":
            self._drop()
            return
        self._send(status, body, headers)

    def _drop(self):
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, status: int, body: Any, headers: dict[str, str]):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


def _now_ms() -> int:
    return int(time.time() * 1000)


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def zoom_signature(raw_body: bytes, *, timestamp: str, secret: str = WEBHOOK_SECRET) -> str:
    """What Zoom puts in `x-zm-signature` (API_NOTES E.5)."""
    message = b"v0:" + timestamp.encode() + b":" + raw_body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def send_webhook(
    client,
    body: dict | bytes,
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | str | None = None,
    signature: str | None = None,
    path: str = "/integrations/zoom/webhook/",
    headers: bool = True,
):
    """POST an event to Jelly as Zoom does: compact JSON, signed over the raw bytes."""
    raw = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    extra = {}
    if headers:
        extra = {
            "HTTP_X_ZM_REQUEST_TIMESTAMP": stamp,
            "HTTP_X_ZM_SIGNATURE": signature or zoom_signature(raw, timestamp=stamp, secret=secret),
        }
    return client.post(path, data=raw, content_type="application/json", **extra)
