"""Writes for organisations, locations, staff and API tokens. Each is one transaction."""

import hashlib
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.choices import Role
from core.models import ApiToken, Location, Organisation, Staff

API_TOKEN_PREFIX = "jly_"


def api_token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def organisation_create(*, name: str, slug: str, require_two_factor: bool | None = None) -> Organisation:
    organisation = Organisation(name=name.strip(), slug=slug.strip())
    if require_two_factor is not None:
        organisation.require_two_factor = require_two_factor
    organisation.full_clean()
    organisation.save()
    return organisation


@transaction.atomic
def location_create(*, organisation: Organisation, name: str, address: str = "", postcode: str = "") -> Location:
    location = Location(organisation=organisation, name=name.strip(), address=address, postcode=postcode)
    location.full_clean()
    location.save()
    return location


@transaction.atomic
def staff_create(
    *,
    organisation: Organisation,
    email: str,
    role: str,
    password: str,
    given_name: str = "",
    family_name: str = "",
) -> Staff:
    """Add a staff member to an organisation. The password must pass the validators."""
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}; choose one of {', '.join(Role.values)}."})
    staff = Staff(
        organisation=organisation,
        email=email.strip().lower(),
        role=role,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
    )
    try:
        validate_password(password, user=staff)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    staff.set_password(password)
    staff.full_clean()
    staff.save()
    return staff


@transaction.atomic
def api_token_create(*, staff: Staff, name: str = "") -> tuple[ApiToken, str]:
    """Issue a token; returns the row and the key, which is never stored or shown again."""
    if staff.organisation_id is None or not staff.is_active:
        raise ValidationError("API tokens are issued only to active staff of an organisation.")
    key = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(staff=staff, name=name, prefix=key[:12], key_digest=api_token_digest(key))
    token.full_clean()
    token.save()
    return token, key


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
