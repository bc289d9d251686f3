"""API authentication: hashed bearer tokens for integrations, sessions for the browser."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication, exceptions

from core.models import ApiToken
from core.services import api_token_digest
from core.two_factor import session_is_fully_authenticated

LAST_USED_RESOLUTION = timedelta(minutes=5)


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`; the key is compared by its SHA-256 digest."""

    keyword = "Token"

    def authenticate_credentials(self, key):
        token = (
            ApiToken.objects.select_related("staff", "staff__organisation")
            .filter(key_digest=api_token_digest(key), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.staff.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.staff, token


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """Browser sessions count only once the two-factor step (where needed) is done."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        if not session_is_fully_authenticated(request._request):
            raise exceptions.PermissionDenied("Two-factor verification is required.")
        return result


class VerifiedSessionScheme(SessionScheme):
    """Describes `VerifiedSessionAuthentication` in the OpenAPI schema: Django's session cookie.

    drf-spectacular matches its built-in session scheme only on the exact DRF class, so without
    this the schema omits the cookie and `check --deploy` warns (drf_spectacular.W001).
    """

    target_class = VerifiedSessionAuthentication
