"""Google OAuth 2.0 for a staff member: consent, code exchange, refresh and revocation.

Incremental authorisation: each purpose asks for its one scope only, with
`include_granted_scopes=true`, so the newest grant covers everything the staff member ever
allowed Jelly. What counts is what Google *granted* (the token response's `scope`), never what
was requested. The PKCE `code_verifier` generated for the consent URL is kept server-side in the
Django session and reused at the callback, or Google refuses the exchange ("Missing code verifier").

Every call to Google here has a timeout (GOOGLE_HTTP_TIMEOUT_SECONDS) and none runs inside a
database transaction. Tokens are never logged.
"""

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

import google.auth.exceptions
import google_auth_httplib2
import httplib2
import requests
from django.conf import settings
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from core.links import absolute_url
from integrations.google.choices import PURPOSE_SCOPES, Purpose
from integrations.google.exceptions import (
    AuthorisationFailed,
    ConnectionBroken,
    PermanentGoogleError,
    TransientGoogleError,
)

logger = logging.getLogger(__name__)

SESSION_KEY = "google_oauth_pending"
# OAuth error codes meaning the stored grant itself is gone (revoked, expired, password change).
GRANT_GONE_ERRORS = {"invalid_grant"}


@dataclass(frozen=True)
class GrantedTokens:
    """What a successful code exchange or refresh gave us. Never log or print one."""

    access_token: str
    refresh_token: str | None
    expiry: dt.datetime | None  # aware, UTC
    granted_scopes: tuple[str, ...]

    def __repr__(self) -> str:
        return f"GrantedTokens(granted_scopes={self.granted_scopes!r}, expiry={self.expiry!r})"


def is_configured() -> bool:
    return bool(settings.GOOGLE_OAUTH_CLIENT_ID and settings.GOOGLE_OAUTH_CLIENT_SECRET)


def client_config() -> dict:
    return {
        "web": {
            "client_id": settings.GOOGLE_OAUTH_CLIENT_ID,
            "client_secret": settings.GOOGLE_OAUTH_CLIENT_SECRET,
            "auth_uri": settings.GOOGLE_AUTH_URI,
            "token_uri": settings.GOOGLE_TOKEN_URI,
        }
    }


def redirect_uri() -> str:
    """The callback URL to register in the Google Cloud console: built on `SITE_URL`, so it is
    the same whatever Host header or proxy a request came through, and always matches the
    registered one."""
    return absolute_url("google:callback")


def build_flow(scopes: list[str], **kwargs) -> Flow:
    return Flow.from_client_config(client_config(), scopes=scopes, redirect_uri=redirect_uri(), **kwargs)


def authorisation_url(request, purpose: str) -> str:
    """Google's consent URL for one purpose; the state and PKCE verifier wait in the session."""
    scopes = [PURPOSE_SCOPES[Purpose(purpose)]]
    flow = build_flow(scopes)
    url, state = flow.authorization_url(
        access_type="offline",
        include_granted_scopes="true",
        # Forces the consent screen so Google issues a refresh token again on reconnect.
        prompt="consent",
        state=secrets.token_urlsafe(32),
    )
    request.session[SESSION_KEY] = {"state": state, "code_verifier": flow.code_verifier, "purpose": purpose}
    return url


def pending_authorisation(request, state: str | None) -> dict | None:
    """The consent this session started, if `state` matches it. One use only."""
    pending = request.session.pop(SESSION_KEY, None)
    if not pending or not state or not secrets.compare_digest(str(pending.get("state", "")), str(state)):
        return None
    return pending


def exchange_code(pending: dict, code: str) -> GrantedTokens:
    """Swap the authorisation code for tokens, with the PKCE verifier from the consent step."""
    flow = build_flow(
        [PURPOSE_SCOPES[Purpose(pending["purpose"])]],
        state=pending["state"],
        code_verifier=pending["code_verifier"],
    )
    try:
        flow.fetch_token(code=code, timeout=settings.GOOGLE_HTTP_TIMEOUT_SECONDS)
    except Warning as changed:
        # oauthlib treats "granted scopes differ from requested" as an error unless
        # OAUTHLIB_RELAX_TOKEN_SCOPE is set process-wide; with incremental authorisation and
        # granular consent it is the normal case, and we check the granted scopes ourselves.
        token = getattr(changed, "token", None)
        if token is None:
            raise
        flow.oauth2session.token = token
    except OAuth2Error as exc:
        logger.info("Google refused the authorisation code: %s", exc.error)
        raise AuthorisationFailed("Google did not accept the sign-in. Please try connecting again.") from exc
    except requests.RequestException as exc:
        logger.warning("Google's token endpoint could not be reached: %s", type(exc).__name__)
        raise AuthorisationFailed("Google could not be reached. Please try again in a few minutes.") from exc
    except ValueError as exc:
        raise AuthorisationFailed("Google sent an answer Jelly could not read. Please try again.") from exc
    credentials = flow.credentials
    return GrantedTokens(
        access_token=credentials.token,
        refresh_token=credentials.refresh_token,
        expiry=_aware(credentials.expiry),
        granted_scopes=tuple(credentials.granted_scopes or ()),
    )


def missing_scopes(purpose: str, granted_scopes) -> list[str]:
    """The scope this purpose needs that Google did not grant (granular consent can withhold it)."""
    needed = PURPOSE_SCOPES[Purpose(purpose)]
    return [] if needed in set(granted_scopes or ()) else [needed]


def http() -> httplib2.Http:
    return httplib2.Http(timeout=settings.GOOGLE_HTTP_TIMEOUT_SECONDS)


def credentials_for(connection) -> Credentials:
    """google-auth credentials from a stored connection (refreshable against our token URI).

    Built directly, not with `from_authorized_user_info`, which always forces Google's token
    URI. `scopes` are the granted ones: a refresh asks for all of them, and asking for one
    never granted would fail.
    """
    granted = list(connection.granted_scopes or [])
    return Credentials(
        token=connection.access_token or None,
        refresh_token=connection.refresh_token or None,
        token_uri=settings.GOOGLE_TOKEN_URI,
        client_id=settings.GOOGLE_OAUTH_CLIENT_ID,
        client_secret=settings.GOOGLE_OAUTH_CLIENT_SECRET,
        scopes=granted or None,
        granted_scopes=granted or None,
        expiry=_naive_utc(connection.token_expiry),
    )


def tokens_from(credentials: Credentials) -> GrantedTokens:
    return GrantedTokens(
        access_token=credentials.token,
        refresh_token=credentials.refresh_token,
        expiry=_aware(credentials.expiry),
        granted_scopes=tuple(credentials.granted_scopes or ()),
    )


def refresh(credentials: Credentials) -> GrantedTokens:
    """Get a fresh access token now; raises ConnectionBroken when the grant is gone."""
    try:
        credentials.refresh(google_auth_httplib2.Request(http()))
    except google.auth.exceptions.GoogleAuthError as exc:
        raise classify_auth_error(exc) from exc
    return tokens_from(credentials)


def classify_auth_error(exc: Exception) -> Exception:
    """Map google-auth's refresh failures onto ours (see exceptions.py)."""
    if isinstance(exc, google.auth.exceptions.RefreshError):
        details = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
        code = str(details.get("error", ""))
        text = str(exc.args[0]) if exc.args else ""
        if code in GRANT_GONE_ERRORS:
            return ConnectionBroken(str(details.get("error_description", "")), reason=code)
        if getattr(exc, "retryable", False):
            return TransientGoogleError("Google's token endpoint is busy.", reason=code or "refresh_failed")
        if code:
            # invalid_client, unauthorized_client, invalid_scope...: Jelly's OAuth client or
            # request is wrong, for every connection alike; an operator has to fix it.
            return PermanentGoogleError(str(details.get("error_description", "")), reason=code)
        if text.startswith(("Reauthentication is needed", "The credentials do not contain")):
            return ConnectionBroken(text, reason="reauthentication_needed")
        # A body that is not JSON (a proxy's or an outage's error page): loses nothing to retry.
        return TransientGoogleError("Google's token endpoint gave an unexpected answer.", reason="refresh_failed")
    if isinstance(exc, google.auth.exceptions.TransportError):
        return TransientGoogleError("Google's token endpoint could not be reached.", reason="transport")
    return PermanentGoogleError(type(exc).__name__, reason="auth")


def revoke(token: str) -> bool:
    """Revoke a grant at Google (refresh or access token). True if Google no longer honours it.

    Google answers 200, or 400 `invalid_token` when it was already revoked or expired: both mean
    done. Network trouble returns False; the caller still deletes the token locally.
    """
    try:
        response = requests.post(
            settings.GOOGLE_REVOKE_URI,
            data={"token": token},
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=settings.GOOGLE_HTTP_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        logger.warning("Google's revoke endpoint could not be reached: %s", type(exc).__name__)
        return False
    if response.status_code == 200:
        return True
    if response.status_code == 400 and _json(response).get("error") == "invalid_token":
        return True
    logger.warning("Google's revoke endpoint answered %s", response.status_code)
    return False


def _json(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _naive_utc(value: dt.datetime | None) -> dt.datetime | None:
    # google-auth compares expiry with a naive UTC "now".
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
