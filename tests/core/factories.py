"""Matrix objects for the core models (see tests/matrix_registry.py)."""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.choices import Role
from core.services import api_token_create
from tests.factories import LocationFactory, StaffFactory
from tests.matrix_registry import register_matrix_object


def _staff(organisation, canary):
    return StaffFactory(organisation=organisation, role=Role.RECEPTIONIST, family_name=f"Staff {canary}")


def _api_token(organisation, canary):
    token, _ = api_token_create(staff=_staff(organisation, canary), name=f"Token {canary}")
    return token


def _totp_device(organisation, canary):
    return TOTPDevice.objects.create(user=_staff(organisation, canary), name=f"Phone {canary}", confirmed=True)


def _axes_row(model, **extra):
    # Axes' records are the operator's (sign-in attempts across all clinics), not a clinic's.
    def build(organisation, canary):
        return model.objects.create(
            username=f"{organisation.slug}-{canary}@example.test", ip_address="127.0.0.1", user_agent="matrix", **extra
        )

    return build


register_matrix_object("accessattempt", _axes_row(AccessAttempt, failures_since_start=1))
register_matrix_object("accesslog", _axes_row(AccessLog))
register_matrix_object("accessfailurelog", _axes_row(AccessFailureLog))
register_matrix_object("organisation", lambda organisation, canary: organisation)
register_matrix_object(
    "location", lambda organisation, canary: LocationFactory(organisation=organisation, name=f"Site {canary}")
)
register_matrix_object("staff", _staff)
register_matrix_object("apitoken", _api_token)
register_matrix_object("totpdevice", _totp_device)
