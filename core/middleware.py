from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.http import urlencode

from core.two_factor import has_confirmed_device, session_is_fully_authenticated

# Pages a signed-in but not yet verified session may reach.
TWO_FACTOR_EXEMPT_URL_NAMES = {"login", "logout", "two-factor-verify", "two-factor-enrol", "healthz"}


class OrganisationMiddleware:
    """`request.organisation`: the signed-in staff member's organisation (None otherwise)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organisation = SimpleLazyObject(
            lambda: request.user.organisation if request.user.is_authenticated else None
        )
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """Holds a session at the TOTP step (verify, or enrol if required) until it is done."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        held = request.user.is_authenticated and not self._exempt(request)
        if held and not session_is_fully_authenticated(request):
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": "Two-factor verification is required."}, status=403)
            step = "two-factor-verify" if has_confirmed_device(request) else "two-factor-enrol"
            return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _exempt(request) -> bool:
        if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return True
        try:
            return resolve(request.path_info).url_name in TWO_FACTOR_EXEMPT_URL_NAMES
        except Resolver404:
            return False


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy header (no inline script, nothing from other hosts)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response
