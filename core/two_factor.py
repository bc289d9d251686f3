"""When a signed-in session counts as fully authenticated (the TOTP rule, in one place).

A session is complete once its user has passed a TOTP check (`is_verified`). Until then it is
complete only if the user has no confirmed authenticator *and* their organisation does not
require one. Staff who enrolled always use their authenticator, whatever the organisation says.
"""

from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice


def has_confirmed_device(request) -> bool:
    cached = getattr(request, "_jelly_has_confirmed_device", None)
    if cached is None:
        cached = TOTPDevice.objects.filter(user=request.user, confirmed=True).exists()
        request._jelly_has_confirmed_device = cached
    return cached


def two_factor_required(user) -> bool:
    organisation = getattr(user, "organisation", None)
    if organisation is None:
        return settings.TWO_FACTOR_REQUIRED_BY_DEFAULT
    return organisation.require_two_factor


def session_is_fully_authenticated(request) -> bool:
    user = request.user
    if not user.is_authenticated:
        return False
    if getattr(user, "is_verified", lambda: False)():
        return True
    return not has_confirmed_device(request) and not two_factor_required(user)
