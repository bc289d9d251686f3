"""A fake Google on 127.0.0.1: OAuth (consent, token, revoke), Calendar v3 events, Gmail send.

It follows the published contracts recorded in ../shared/API_NOTES.md sections A-D, so the
real google-api-python-client, google-auth and google-auth-oauthlib can talk to it:

- OAuth: `GET /o/oauth2/auth` is a consent page (granular: one checkbox per scope) whose form
  redirects back with `code`, `state` and `scope`, or `error=access_denied`. `POST /token`
  takes `authorization_code` (client credentials by HTTP Basic or in the body; the PKCE
  `code_verifier` must match the S256 challenge) and `refresh_token` (a `scope` asked for must
  have been granted). `include_granted_scopes=true` adds earlier grants; a refresh token is
  issued with `access_type=offline` on first consent or with `prompt=consent`. `POST /revoke`
  revokes the whole grant. Errors are OAuth JSON (`{"error": "invalid_grant", ...}`).
- Calendar: `/calendar/v3/calendars/{calendarId}/events[/{eventId}]` insert (client-chosen
  base32hex id, 409 `duplicate`), get (cancelled events too), patch, update, delete (204; 404
  for unknown, 410 `deleted` for already deleted), `If-Match` (412). Each access token belongs
  to one Google account and reaches only that account's calendars (`primary` = its email).
- Gmail: `POST /gmail/v1/users/{userId}/messages/send` decodes `raw` (base64url, re-padded)
  and records the parsed RFC 2822 message.
- API errors use Google's JSON error shape: `{"error": {"code", "message", "errors":
  [{"domain", "reason", "message"}], "status"}}`.

Every request is recorded (Authorization values redacted). Faults can be injected per call
count (`inject`) or with a seeded probability (`inject_randomly`): 401, 403 rate limits, 429,
500/503, slow answers, connections dropped before or after the request is handled, and
`invalid_grant` at the token endpoint.
"""

import base64
import contextlib
import copy
import datetime as dt
import email
import email.policy
import hashlib
import html
import http.client
import itertools
import json
import random
import re
import secrets
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

CLIENT_ID = "jelly-test.apps.googleusercontent.com"
CLIENT_SECRET = "fake-google-client-secret"
DEFAULT_ACCOUNT = "practitioner@gmail.test"
API_PATHS = ("/calendar/v3/", "/gmail/v1/")

CALENDAR_EVENTS_SCOPE = "https://www.googleapis.com/auth/calendar.events"
GMAIL_SEND_SCOPE = "https://www.googleapis.com/auth/gmail.send"
# Scopes each method accepts, from the discovery documents (API_NOTES A.1, B.1).
CALENDAR_WRITE_SCOPES = {
    "https://www.googleapis.com/auth/calendar",
    CALENDAR_EVENTS_SCOPE,
    "https://www.googleapis.com/auth/calendar.events.owned",
}
GMAIL_SEND_SCOPES = {
    "https://mail.google.com/",
    "https://www.googleapis.com/auth/gmail.compose",
    "https://www.googleapis.com/auth/gmail.modify",
    GMAIL_SEND_SCOPE,
}
EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
EVENT_PATH = re.compile(r"^/calendar/v3/calendars/(?P<calendar>[^/]+)/events(?:/(?P<event>[^/]+))?$")
SEND_PATH = re.compile(r"^/gmail/v1/users/(?P<user>[^/]+)/messages/send$")
READ_ONLY_EVENT_FIELDS = {"kind", "etag", "htmlLink", "created", "updated", "iCalUID", "creator", "organizer"}


class Fault(StrEnum):
    UNAUTHORIZED = "401"
    RATE_LIMIT = "403 rateLimitExceeded"
    USER_RATE_LIMIT = "403 userRateLimitExceeded"
    QUOTA = "403 quotaExceeded"
    TOO_MANY_REQUESTS = "429"
    SERVER_ERROR = "500"
    UNAVAILABLE = "503"
    DROP = "drop"  # connection closed before the request is handled: nothing happened
    DROP_AFTER = "drop after"  # handled, then closed before the answer: the response is lost
    SLOW = "slow"  # answered after `delay` seconds
    INVALID_GRANT = "invalid_grant"  # token endpoint: the grant is refused


def google_error(code: int, message: str, reason: str, domain: str = "global", status: str = "", **extra) -> dict:
    detail = {"message": message, "domain": domain, "reason": reason, **extra}
    body = {"code": code, "message": message, "errors": [detail]}
    if status:
        body["status"] = status
    return {"error": body}


FAULT_RESPONSES = {
    Fault.UNAUTHORIZED: (
        401,
        google_error(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
            "other valid authentication credential.",
            "authError",
            status="UNAUTHENTICATED",
            location="Authorization",
            locationType="header",
        ),
    ),
    Fault.RATE_LIMIT: (
        403,
        google_error(403, "Rate Limit Exceeded", "rateLimitExceeded", "usageLimits", "PERMISSION_DENIED"),
    ),
    Fault.USER_RATE_LIMIT: (
        403,
        google_error(403, "User Rate Limit Exceeded", "userRateLimitExceeded", "usageLimits", "PERMISSION_DENIED"),
    ),
    Fault.QUOTA: (
        403,
        google_error(403, "Calendar usage limits exceeded.", "quotaExceeded", "usageLimits", "PERMISSION_DENIED"),
    ),
    Fault.TOO_MANY_REQUESTS: (
        429,
        google_error(429, "Too Many Requests", "rateLimitExceeded", "usageLimits", "RESOURCE_EXHAUSTED"),
    ),
    Fault.SERVER_ERROR: (500, google_error(500, "Backend Error", "backendError", status="INTERNAL")),
    Fault.UNAVAILABLE: (
        503,
        google_error(503, "The service is currently unavailable.", "backendError", status="UNAVAILABLE"),
    ),
    Fault.INVALID_GRANT: (400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}),
}


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lowercase names; the Authorization value redacted
    body: bytes
    account: str | None = None
    fault: str | None = None
    status: int | None = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {key: values[-1] for key, values in parse_qs(self.text, keep_blank_values=True).items()}

    def everything(self) -> str:
        """Path, query, headers and body as one text, for "this value never reached Google" checks."""
        return " ".join([self.path, json.dumps(self.query), json.dumps(self.headers), self.text])


@dataclass
class SentMail:
    id: str
    account: str
    raw: bytes
    message: email.message.EmailMessage


@dataclass
class _Rule:
    fault: Fault
    paths: tuple[str, ...]
    method: str | None
    skip: int = 0
    remaining: int | None = 1  # None: no count limit (probability rules)
    probability: float = 1.0
    rng: random.Random | None = None
    delay: float = 0.0
    retry_after: int | None = None

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.paths) and (self.method is None or self.method == method)


@dataclass
class _Token:
    account: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float = 0.0
    revoked: bool = False


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    account: str
    scopes: frozenset[str]
    challenge: str | None
    challenge_method: str
    issue_refresh_token: bool
    used: bool = False


@dataclass
class _Client:
    secret: str
    redirect_uris: set[str] | None = None


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class FakeGoogle:
    """The fake server and its state. `start()` it, point GOOGLE_* settings at `settings()`."""

    def __init__(self):
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self.clients: dict[str, _Client] = {}
        self.grants: dict[tuple[str, str], set[str]] = {}
        self.refreshed_before: set[tuple[str, str]] = set()
        self._consents: dict[str, dict] = {}
        self._codes: dict[str, _Code] = {}
        self.access_tokens: dict[str, _Token] = {}
        self.refresh_tokens: dict[str, _Token] = {}
        self.calendars: dict[str, dict[str, dict[str, dict]]] = {}
        self.sent: list[SentMail] = []
        self.requests: list[RecordedRequest] = []
        self._rules: list[_Rule] = []
        self.latency = 0.0
        self.access_token_lifetime = 3599
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.register_client(CLIENT_ID, CLIENT_SECRET)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "FakeGoogle":
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.block_on_close = False
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-google", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def settings(self) -> dict:
        return {
            "GOOGLE_OAUTH_CLIENT_ID": CLIENT_ID,
            "GOOGLE_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
            "GOOGLE_AUTH_URI": f"{self.url}/o/oauth2/auth",
            "GOOGLE_TOKEN_URI": f"{self.url}/token",
            "GOOGLE_REVOKE_URI": f"{self.url}/revoke",
            "GOOGLE_API_ENDPOINT": f"{self.url}/",
        }

    # --- arranging state ---------------------------------------------------------------------

    def register_client(self, client_id: str, secret: str, redirect_uris: set[str] | None = None) -> None:
        with self._lock:
            self.clients[client_id] = _Client(secret, redirect_uris)

    def add_account(self, account: str) -> None:
        with self._lock:
            self.calendars.setdefault(account, {}).setdefault(account, {})

    def add_calendar(self, account: str, calendar_id: str) -> None:
        with self._lock:
            self.add_account(account)
            self.calendars[account].setdefault(calendar_id, {})

    def issue_tokens(
        self, account: str = DEFAULT_ACCOUNT, scopes=(CALENDAR_EVENTS_SCOPE,), *, client_id: str = CLIENT_ID
    ) -> tuple[str, str]:
        """(access token, refresh token) for an account, as if it had consented to `scopes`."""
        with self._lock:
            self.add_account(account)
            self.grants.setdefault((account, client_id), set()).update(scopes)
            return self._mint(account, client_id, frozenset(scopes), with_refresh_token=True)

    def expire_access_tokens(self, account: str | None = None) -> None:
        with self._lock:
            for token in self.access_tokens.values():
                if account is None or token.account == account:
                    token.expires_at = 0.0

    def revoke_account(self, account: str) -> None:
        """The user removed Jelly at myaccount.google.com: every token stops working."""
        with self._lock:
            for client_id in list(self.clients):
                self._revoke_grant(account, client_id)

    def inject(
        self,
        fault: Fault,
        *,
        times: int = 1,
        skip: int = 0,
        path: str | tuple[str, ...] = API_PATHS,
        method: str | None = None,
        delay: float = 0.0,
        retry_after: int | None = None,
    ) -> None:
        """Fail the next `times` matching requests (after letting `skip` of them through)."""
        with self._lock:
            self._rules.append(
                _Rule(fault, _paths(path), method, skip=skip, remaining=times, delay=delay, retry_after=retry_after)
            )

    def inject_randomly(
        self,
        faults: Fault | list[Fault],
        *,
        probability: float,
        seed: int,
        path: str | tuple[str, ...] = API_PATHS,
        method: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Fail each matching request with `probability`, choosing among `faults`, reproducibly."""
        faults = [faults] if isinstance(faults, Fault) else list(faults)
        rng = random.Random(seed)
        with self._lock:
            for fault in faults:
                self._rules.append(
                    _Rule(
                        fault,
                        _paths(path),
                        method,
                        remaining=None,
                        probability=probability / len(faults),
                        rng=rng,
                        delay=delay,
                    )
                )

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()

    # --- looking at state --------------------------------------------------------------------

    def events(self, account: str = DEFAULT_ACCOUNT, calendar_id: str | None = None) -> dict[str, dict]:
        """Every event in the calendar, cancelled ones included (copies)."""
        with self._lock:
            return copy.deepcopy(self.calendars.get(account, {}).get(calendar_id or account, {}))

    def live_events(self, account: str = DEFAULT_ACCOUNT, calendar_id: str | None = None) -> dict[str, dict]:
        return {k: v for k, v in self.events(account, calendar_id).items() if v.get("status") != "cancelled"}

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [
                r for r in self.requests if r.path.startswith(path_prefix) and (method is None or r.method == method)
            ]

    def token_is_live(self, token: str) -> bool:
        with self._lock:
            found = self.access_tokens.get(token) or self.refresh_tokens.get(token)
            return bool(found and not found.revoked)

    # --- the browser side of consent ---------------------------------------------------------

    def consent(self, auth_url: str, *, account: str = DEFAULT_ACCOUNT, grant=None, deny: bool = False) -> str:
        """Open the consent page at `auth_url` and answer it as `account`; returns the redirect
        back to the app (with code and state). `grant` ticks only those of the requested scopes."""
        split = urlsplit(auth_url)
        assert f"{split.scheme}://{split.netloc}" == self.url, f"{auth_url} is not this fake"
        status, _, page = self._browser("GET", f"{split.path}?{split.query}")
        assert status == 200, f"Consent page refused ({status}): {page}"
        consent_id = re.search(r'name="consent" value="([^"]+)"', page).group(1)
        requested = [html.unescape(s) for s in re.findall(r'name="scope" value="([^"]+)"', page)]
        chosen = requested if grant is None else [scope for scope in requested if scope in set(grant)]
        form = [("consent", consent_id), ("account", account), ("decision", "deny" if deny else "allow")]
        form += [("scope", scope) for scope in chosen]
        status, headers, page = self._browser(
            "POST",
            "/o/oauth2/approve",
            urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 302, f"Consent answer refused ({status}): {page}"
        return headers["Location"]

    def _browser(self, method: str, target: str, body: bytes | None = None, headers=None):
        host, port = self._server.server_address[:2]
        connection = http.client.HTTPConnection(host, port, timeout=10)
        try:
            connection.request(method, target, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            connection.close()

    # --- request handling (called by _Handler) ------------------------------------------------

    def _record(self, method, path, query, headers, body) -> RecordedRequest:
        redacted = {k: ("[redacted]" if k == "authorization" else v) for k, v in headers.items()}
        record = RecordedRequest(method, path, query, redacted, body)
        with self._lock:
            self.requests.append(record)
        return record

    def _fault_for(self, method: str, path: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                if rule.remaining is not None:
                    if rule.skip > 0:
                        rule.skip -= 1
                        continue
                    if rule.remaining <= 0:
                        continue
                    rule.remaining -= 1
                    return rule
                if rule.rng.random() < rule.probability:
                    return rule
            return None

    def _route(self, method: str, path: str, query, headers, body: bytes, record: RecordedRequest):
        if path == "/o/oauth2/auth" and method == "GET":
            return self._authorise_page(query)
        if path == "/o/oauth2/approve" and method == "POST":
            return self._approve(parse_qs(body.decode(), keep_blank_values=True))
        if path == "/token" and method == "POST":
            return self._token(headers, _form(body))
        if path == "/revoke" and method == "POST":
            token = _form(body).get("token") or (query.get("token") or [""])[0]
            return self._revoke(token)
        event_match = EVENT_PATH.match(path)
        send_match = SEND_PATH.match(path)
        if event_match or send_match:
            account, scopes, failure = self._bearer(headers)
            record.account = account
            if failure:
                return failure
            if event_match:
                if not scopes & CALENDAR_WRITE_SCOPES:
                    return _insufficient_scopes()
                calendar = unquote(event_match["calendar"])
                event_id = unquote(event_match["event"]) if event_match["event"] else None
                return self._events(method, account, calendar, event_id, headers, body)
            if not scopes & GMAIL_SEND_SCOPES:
                return _insufficient_scopes()
            return self._send(account, unquote(send_match["user"]), body) if method == "POST" else _not_found()
        return 404, google_error(404, "Not Found", "notFound", status="NOT_FOUND"), {}

    # OAuth ------------------------------------------------------------------------------------

    def _authorise_page(self, query):
        params = {key: values[-1] for key, values in query.items()}
        client = self.clients.get(params.get("client_id", ""))
        if client is None:
            return 401, _page("Error 401: invalid_client", "The OAuth client was not found."), {}
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri or (client.redirect_uris is not None and redirect_uri not in client.redirect_uris):
            return 400, _page("Error 400: redirect_uri_mismatch", "Register the redirect URI."), {}
        if params.get("response_type") != "code":
            return 400, _page("Error 400: unsupported_response_type", "response_type must be code."), {}
        scopes = params.get("scope", "").split()
        if not scopes:
            return 400, _page("Error 400: invalid_request", "Missing required parameter: scope"), {}
        if params.get("code_challenge") and params.get("code_challenge_method", "plain") not in ("S256", "plain"):
            return 400, _page("Error 400: invalid_request", "Invalid code_challenge_method."), {}
        consent_id = secrets.token_urlsafe(12)
        with self._lock:
            self._consents[consent_id] = params
        boxes = "".join(
            f'<label><input type="checkbox" name="scope" value="{html.escape(s)}" checked> {html.escape(s)}</label>'
            for s in scopes
        )
        form = (
            f'<form method="post" action="/o/oauth2/approve"><input type="hidden" name="consent" value="{consent_id}">'
            f'<label>Account <input name="account" value="{DEFAULT_ACCOUNT}"></label>{boxes}'
            '<button name="decision" value="allow">Allow</button><button name="decision" value="deny">Cancel</button>'
            "</form>"
        )
        return 200, _page("Jelly wants to access your Google Account", form), {}

    def _approve(self, form):
        with self._lock:
            params = self._consents.pop((form.get("consent") or [""])[-1], None)
        if params is None:
            return 400, _page("Error 400: invalid_request", "This consent has expired."), {}
        redirect_uri, state = params["redirect_uri"], params.get("state")
        if (form.get("decision") or ["deny"])[-1] != "allow":
            return 302, b"", {"Location": _with_query(redirect_uri, error="access_denied", state=state)}
        account = (form.get("account") or [DEFAULT_ACCOUNT])[-1]
        requested = set(params["scope"].split())
        granted_now = requested & set(form.get("scope") or [])
        client_id = params["client_id"]
        with self._lock:
            self.add_account(account)
            key = (account, client_id)
            first_consent = key not in self.refreshed_before
            earlier = set(self.grants.get(key, set()))
            self.grants.setdefault(key, set()).update(granted_now)
            token_scopes = granted_now | (earlier if params.get("include_granted_scopes") == "true" else set())
            code = "4/fake-" + secrets.token_urlsafe(24)
            self._codes[code] = _Code(
                client_id=client_id,
                redirect_uri=redirect_uri,
                account=account,
                scopes=frozenset(token_scopes),
                challenge=params.get("code_challenge"),
                challenge_method=params.get("code_challenge_method", "plain"),
                issue_refresh_token=params.get("access_type") == "offline"
                and (first_consent or "consent" in params.get("prompt", "").split()),
            )
        location = _with_query(redirect_uri, code=code, scope=" ".join(sorted(token_scopes)), state=state)
        return 302, b"", {"Location": location}

    def _client_credentials(self, headers, form) -> tuple[str, str]:
        authorization = headers.get("authorization", "")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, secret = decoded.partition(":")
            return unquote(client_id), unquote(secret)
        return form.get("client_id", ""), form.get("client_secret", "")

    def _token(self, headers, form):
        client_id, secret = self._client_credentials(headers, form)
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(client.secret, secret):
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}, {}
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(client_id, form)
        if grant_type == "refresh_token":
            return self._refresh(client_id, form)
        return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}, {}

    def _exchange_code(self, client_id, form):
        with self._lock:
            code = self._codes.get(form.get("code", ""))
            if code is None or code.used or code.client_id != client_id:
                return 400, {"error": "invalid_grant", "error_description": "Malformed auth code."}, {}
            if form.get("redirect_uri") != code.redirect_uri:
                return 400, {"error": "redirect_uri_mismatch", "error_description": "Bad Request"}, {}
            if code.challenge:
                verifier = form.get("code_verifier")
                if not verifier:
                    return 400, {"error": "invalid_grant", "error_description": "Missing code verifier."}, {}
                if _challenge(verifier, code.challenge_method) != code.challenge:
                    return 400, {"error": "invalid_grant", "error_description": "Invalid code verifier."}, {}
            code.used = True
            self.refreshed_before.add((code.account, client_id))
            access, refresh = self._mint(
                code.account, client_id, code.scopes, with_refresh_token=code.issue_refresh_token
            )
        body = {
            "access_token": access,
            "expires_in": self.access_token_lifetime,
            "scope": " ".join(sorted(code.scopes)),
            "token_type": "Bearer",
        }
        if refresh:
            body["refresh_token"] = refresh
        return 200, body, {}

    def _refresh(self, client_id, form):
        with self._lock:
            grant = self.refresh_tokens.get(form.get("refresh_token", ""))
            if grant is None or grant.revoked or grant.client_id != client_id:
                return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, {}
            asked = set(form.get("scope", "").split())
            if asked - grant.scopes:
                return 400, {"error": "invalid_scope", "error_description": "Bad Request"}, {}
            scopes = frozenset(asked) or grant.scopes
            access, _ = self._mint(grant.account, client_id, scopes, with_refresh_token=False)
        body = {
            "access_token": access,
            "expires_in": self.access_token_lifetime,
            "scope": " ".join(sorted(scopes)),
            "token_type": "Bearer",
        }
        return 200, body, {}

    def _revoke(self, token: str):
        with self._lock:
            found = self.access_tokens.get(token) or self.refresh_tokens.get(token)
            if found is None or found.revoked:
                return 400, {"error": "invalid_token", "error_description": "Token expired or revoked"}, {}
            self._revoke_grant(found.account, found.client_id)
        return 200, {}, {}

    def _revoke_grant(self, account: str, client_id: str) -> None:
        self.grants.pop((account, client_id), None)
        for token in itertools.chain(self.access_tokens.values(), self.refresh_tokens.values()):
            if token.account == account and token.client_id == client_id:
                token.revoked = True

    def _mint(self, account, client_id, scopes, *, with_refresh_token: bool) -> tuple[str, str | None]:
        access = "ya29.fake-" + secrets.token_urlsafe(24)
        self.access_tokens[access] = _Token(account, client_id, scopes, time.time() + self.access_token_lifetime)
        refresh = None
        if with_refresh_token:
            refresh = "1//fake-" + secrets.token_urlsafe(32)
            self.refresh_tokens[refresh] = _Token(account, client_id, scopes)
        return access, refresh

    def _bearer(self, headers):
        authorization = headers.get("authorization", "")
        with self._lock:
            token = self.access_tokens.get(authorization[7:]) if authorization.startswith("Bearer ") else None
            if token is None or token.revoked or token.expires_at <= time.time():
                status, body = FAULT_RESPONSES[Fault.UNAUTHORIZED]
                return (token.account if token else None), frozenset(), (status, body, _www_authenticate())
            return token.account, token.scopes, None

    # Calendar ---------------------------------------------------------------------------------

    def _events(self, method, account, calendar_id, event_id, headers, body):
        with self._lock:
            calendar_id = account if calendar_id == "primary" else calendar_id
            calendar = self.calendars.get(account, {}).get(calendar_id)
            if calendar is None:
                return _not_found()
            if event_id is None:
                if method != "POST":
                    return 405, google_error(405, "Method Not Allowed", "httpMethodNotAllowed"), {}
                return self._insert(account, calendar_id, calendar, body)
            event = calendar.get(event_id)
            if event is None:
                return _not_found()
            if_match = headers.get("if-match")
            if if_match and method in ("PATCH", "PUT", "DELETE") and if_match != event["etag"]:
                return (
                    412,
                    google_error(
                        412,
                        "Precondition Failed",
                        "conditionNotMet",
                        location="If-Match",
                        locationType="header",
                        status="FAILED_PRECONDITION",
                    ),
                    {},
                )
            if method == "GET":
                return 200, copy.deepcopy(event), {}
            if method == "DELETE":
                if event.get("status") == "cancelled":
                    return 410, google_error(410, "Resource has been deleted", "deleted"), {}
                event["status"] = "cancelled"
                self._touch(event)
                return 204, b"", {}
            if method in ("PATCH", "PUT"):
                return self._change(event, body, replace=method == "PUT")
            return 405, google_error(405, "Method Not Allowed", "httpMethodNotAllowed"), {}

    def _insert(self, account, calendar_id, calendar, body):
        data = _json_object(body)
        if data is None:
            return _bad_request("Parse Error", "parseError")
        event_id = data.get("id") or base64.b32hexencode(secrets.token_bytes(15)).decode().lower()
        if not EVENT_ID.match(str(event_id)):
            return _bad_request("Invalid resource id value.", "invalid")
        if event_id in calendar:
            return 409, google_error(409, "The requested identifier already exists.", "duplicate"), {}
        problem = _time_problem(data)
        if problem:
            return problem
        now = now_rfc3339()
        event = {key: value for key, value in data.items() if key not in READ_ONLY_EVENT_FIELDS}
        event.update(
            kind="calendar#event",
            id=event_id,
            status=data.get("status") if data.get("status") in ("confirmed", "tentative") else "confirmed",
            htmlLink=f"https://www.google.com/calendar/event?eid={event_id}",
            created=now,
            iCalUID=f"{event_id}@google.com",
            sequence=0,
            creator={"email": account, "self": True},
            organizer={"email": calendar_id, "self": True},
        )
        self._touch(event)
        calendar[event_id] = event
        return 200, copy.deepcopy(event), {}

    def _change(self, event, body, *, replace: bool):
        data = _json_object(body)
        if data is None:
            return _bad_request("Parse Error", "parseError")
        kept = {key: event[key] for key in READ_ONLY_EVENT_FIELDS | {"id", "sequence"} if key in event}
        changed = {key: value for key, value in data.items() if key not in READ_ONLY_EVENT_FIELDS | {"id"}}
        candidate = {**kept, **changed} if replace else _merge(copy.deepcopy(event), changed)
        candidate.setdefault("status", "confirmed")
        problem = _time_problem(candidate)
        if problem:
            return problem
        candidate["sequence"] = int(event.get("sequence", 0)) + 1
        event.clear()
        event.update(candidate)
        self._touch(event)
        return 200, copy.deepcopy(event), {}

    def _touch(self, event) -> None:
        event["etag"] = f'"{3181161784712000 + next(self._ids)}"'
        event["updated"] = now_rfc3339()

    # Gmail ------------------------------------------------------------------------------------

    def _send(self, account, user_id, body):
        if user_id not in ("me", account):
            return 403, google_error(403, f"Delegation denied for {account}", "forbidden"), {}
        data = _json_object(body)
        raw = data.get("raw") if data else None
        if not raw:
            return _bad_request(
                "'raw' RFC822 payload message string or uploading message via /upload/* URL required",
                "invalidArgument",
            )
        try:
            message_bytes = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        except (ValueError, TypeError):
            return _bad_request("Invalid value for ByteString", "invalidArgument")
        message = email.message_from_bytes(message_bytes, policy=email.policy.default)
        if not any(message.get(header) for header in ("To", "Cc", "Bcc")):
            return _bad_request("Recipient address required", "invalidArgument")
        with self._lock:
            message_id = f"18c{next(self._ids):013x}"
            self.sent.append(SentMail(message_id, account, message_bytes, message))
        return 200, {"id": message_id, "threadId": data.get("threadId") or message_id, "labelIds": ["SENT"]}, {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeGoogle/1.0"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self):
        fake: FakeGoogle = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)
        # Header names are case-insensitive (httplib2 sends them lowercase): kept lowercase here.
        headers = {name.lower(): value for name, value in self.headers.items()}
        record = fake._record(self.command, split.path, query, headers, body)
        rule = fake._fault_for(self.command, split.path)
        delay = fake.latency + (rule.delay if rule else 0.0)
        if delay:
            time.sleep(delay)
        if rule is not None:
            record.fault = rule.fault.value
        if rule is not None and rule.fault == Fault.DROP:
            self.close_connection = True
            return
        if rule is not None and rule.fault in FAULT_RESPONSES:
            status, payload = FAULT_RESPONSES[rule.fault]
            extra = _www_authenticate() if rule.fault == Fault.UNAUTHORIZED else {}
            if rule.retry_after is not None:
                extra = {**extra, "Retry-After": str(rule.retry_after)}
        else:
            status, payload, extra = fake._route(self.command, split.path, query, headers, body, record)
        record.status = status
        if rule is not None and rule.fault == Fault.DROP_AFTER:
            self.close_connection = True
            return
        self._respond(status, payload, extra)

    def _respond(self, status, payload, extra):
        if isinstance(payload, dict | list):
            data, content_type = json.dumps(payload).encode(), "application/json; charset=UTF-8"
        elif isinstance(payload, str):
            data, content_type = payload.encode(), "text/html; charset=utf-8"
        else:
            data, content_type = payload or b"", "application/json; charset=UTF-8"
        try:
            self.send_response(status)
            if data:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            if data:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout test); nothing to answer.
            self.close_connection = True

    def handle(self):
        # A client that timed out or was dropped on purpose: nothing to clean up.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
            super().handle()


def _paths(path) -> tuple[str, ...]:
    return (path,) if isinstance(path, str) else tuple(path)


def _form(body: bytes) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(body.decode(), keep_blank_values=True).items()}


def _json_object(body: bytes) -> dict | None:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _challenge(verifier: str, method: str) -> str:
    if method == "S256":
        return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier


def _with_query(url: str, **params) -> str:
    pairs = [(key, value) for key, value in params.items() if value is not None]
    return url + ("&" if "?" in url else "?") + urlencode(pairs, quote_via=quote)


def _page(title: str, content: str) -> str:
    title = html.escape(title)
    return f"<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1>{content}</body></html>"


def _www_authenticate() -> dict:
    return {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'}


def _not_found():
    return 404, google_error(404, "Not Found", "notFound", status="NOT_FOUND"), {}


def _bad_request(message: str, reason: str):
    return 400, google_error(400, message, reason, status="INVALID_ARGUMENT"), {}


def _insufficient_scopes():
    return (
        403,
        google_error(
            403,
            "Request had insufficient authentication scopes.",
            "insufficientPermissions",
            status="PERMISSION_DENIED",
        ),
        {},
    )


def _merge(target: dict, changes: dict) -> dict:
    """Patch semantics: nested objects merge, anything else replaces, null clears."""
    for key, value in changes.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


def _parse_time(value: dict, which: str):
    if not isinstance(value, dict) or not (value.get("dateTime") or value.get("date")):
        return None, _bad_request(f"Missing {which} time.", "required")
    if value.get("date"):
        try:
            return dt.datetime.combine(dt.date.fromisoformat(value["date"]), dt.time(), dt.UTC), None
        except ValueError:
            return None, _bad_request(f"Invalid {which} time.", "invalid")
    try:
        moment = dt.datetime.fromisoformat(value["dateTime"])
    except ValueError:
        return None, _bad_request(f"Invalid {which} time.", "invalid")
    if moment.tzinfo is None:
        if not value.get("timeZone"):
            return None, _bad_request(f"Missing time zone definition for {which} time.", "required")
        try:
            moment = moment.replace(tzinfo=ZoneInfo(value["timeZone"]))
        except (ZoneInfoNotFoundError, ValueError):
            return None, _bad_request(f"Invalid time zone definition for {which} time.", "invalid")
    return moment, None


def _time_problem(event: dict):
    start, problem = _parse_time(event.get("start"), "start")
    if problem:
        return problem
    end, problem = _parse_time(event.get("end"), "end")
    if problem:
        return problem
    if end < start:
        return 400, google_error(400, "The specified time range is empty.", "timeRangeEmpty", "calendar"), {}
    return None


@pytest.fixture
def fake_google():
    """A running fake Google for one test; its `settings()` are the GOOGLE_* values to use."""
    fake = FakeGoogle().start()
    try:
        yield fake
    finally:
        fake.stop()
