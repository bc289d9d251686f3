"""OAuth 2.0 with Zoom: the authorisation-code install by an organisation admin, refresh, revoke.

These functions only talk HTTP (and keep the install's state in the admin's session); storing
tokens and marking a connection broken are writes in `services`. Tokens never reach a log:
`TokenGrant` hides them from `repr`, and errors quote Zoom's reason, never the request.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone

from integrations.zoom import outgoing_http
from integrations.zoom.errors import PermanentZoomError, ZoomAuthExpired, ZoomIntegrationError

SESSION_KEY = "zoom_oauth_install"


@dataclass(frozen=True)
class TokenGrant:
    """What Zoom's token endpoint granted. Zoom rotates `refresh_token` on every refresh."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    scopes: str = ""


class OAuthGrantRefused(ZoomAuthExpired):
    """Zoom refused the code or refresh token (revoked, expired, already used) or our client."""


class InstallStateMismatch(ZoomIntegrationError):
    """The callback's `state` is not the one this admin's session started (CSRF, stale tab)."""


def revoke_url() -> str:
    # …/oauth/token → …/oauth/revoke (Zoom serves both under the same path).
    return settings.ZOOM_TOKEN_URL.rsplit("/", 1)[0] + "/revoke"


def _client_auth() -> tuple[str, str]:
    return (settings.ZOOM_CLIENT_ID, settings.ZOOM_CLIENT_SECRET or "")


def _code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def install_begin(request, *, redirect_uri: str) -> str:
    """The URL of Zoom's consent page; the state (and a PKCE verifier) stay in the session."""
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48)
    request.session[SESSION_KEY] = {
        "state": state,
        "code_verifier": verifier,
        "organisation_id": str(request.user.organisation_id),
        "redirect_uri": redirect_uri,
    }
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.ZOOM_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": _code_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    return f"{settings.ZOOM_AUTH_URL}?{query}"


def install_finish(request, *, state: str, code: str) -> TokenGrant:
    """Check the callback belongs to the install this session began, then exchange the code.

    The pending install is removed from the session first, so a code can be tried only once.
    """
    pending = request.session.pop(SESSION_KEY, None)
    if (
        not pending
        or not state
        or not hmac.compare_digest(str(pending.get("state", "")), state)
        or pending.get("organisation_id") != str(request.user.organisation_id)
    ):
        raise InstallStateMismatch("This Zoom sign-in was not started here, or it has expired. Please start again.")
    if not code:
        raise InstallStateMismatch("Zoom did not send an authorisation code. Please start again.")
    return exchange_code(code=code, redirect_uri=pending["redirect_uri"], code_verifier=pending["code_verifier"])


def exchange_code(*, code: str, redirect_uri: str, code_verifier: str | None = None) -> TokenGrant:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if code_verifier:
        data["code_verifier"] = code_verifier
    return _token_request(data, "Exchanging the Zoom authorisation code")


def refresh(*, refresh_token: str) -> TokenGrant:
    return _token_request(
        {"grant_type": "refresh_token", "refresh_token": refresh_token}, "Refreshing the Zoom access token"
    )


def revoke(*, token: str) -> None:
    """Ask Zoom to revoke a token (`POST /oauth/revoke?token=…`, Basic auth)."""
    response = outgoing_http.send("POST", revoke_url(), params={"token": token}, auth=_client_auth())
    outgoing_http.raise_for_status(response, "Revoking the Zoom token")


def _token_request(data: dict, what: str) -> TokenGrant:
    response = outgoing_http.send("POST", settings.ZOOM_TOKEN_URL, data=data, auth=_client_auth())
    if response.status_code in (400, 401):
        # invalid_grant / invalid_request / invalid_client: retrying cannot help.
        _, reason = outgoing_http.error_body(response)
        raise OAuthGrantRefused(f"{what}: Zoom refused ({reason or response.status_code})", status=response.status_code)
    outgoing_http.raise_for_status(response, what)
    try:
        body = response.json()
        access_token = str(body["access_token"])
        refresh_token = str(body["refresh_token"])
        expires_in = int(body.get("expires_in", 3600))
    except (ValueError, KeyError, TypeError) as exc:
        raise PermanentZoomError(f"{what}: Zoom's answer had no usable tokens", status=response.status_code) from exc
    return TokenGrant(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_at=timezone.now() + timedelta(seconds=expires_in),
        scopes=str(body.get("scope", "")),
    )
