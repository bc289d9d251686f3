"""Signing in end to end: password, lockout, TOTP enrolment and verification."""

import re

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.choices import Role
from tests.factories import OrganisationFactory, StaffFactory

pytestmark = pytest.mark.django_db


def current_code(device: TOTPDevice, offset_steps: int = 0) -> str:
    code = totp(device.bin_key, step=device.step, t0=device.t0 - offset_steps * device.step, digits=device.digits)
    return f"{code:0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    valid = {current_code(device, offset) for offset in (-1, 0, 1)}
    return next(candidate for candidate in ("000000", "111111", "222222", "333333") if candidate not in valid)


@pytest.fixture
def strict_clinic():
    return OrganisationFactory(name="Strict Clinic", slug="strict", require_two_factor=True)


@pytest.fixture
def sam(strict_clinic):
    return StaffFactory(organisation=strict_clinic, email="sam@strict.test", role=Role.PRACTITIONER)


def sign_in(client: Client, email: str, password: str, next_url: str = "/"):
    return client.post(f"/accounts/login/?next={next_url}", {"username": email, "password": password})


def test_staff_of_a_clinic_that_requires_2fa_must_enrol_before_anything_else(sam, password):
    client = Client()
    response = sign_in(client, sam.email, password)
    assert response.status_code == 302

    home = client.get("/")
    assert home.status_code == 302
    assert home["Location"].startswith("/accounts/two-factor/enrol/")
    assert client.get("/api/v1/me/").status_code == 403
    assert client.get("/admin/").status_code == 302

    enrol_page = client.get("/accounts/two-factor/enrol/")
    assert enrol_page.status_code == 200
    assert b"data:image/svg+xml" in enrol_page.content  # the QR code, inline, no external request
    device = TOTPDevice.objects.get(user=sam, confirmed=False)
    secret = re.search(r'<code class="secret">(\w+)</code>', enrol_page.content.decode()).group(1)
    assert secret in device.config_url

    refused = client.post("/accounts/two-factor/enrol/", {"code": wrong_code(device)})
    assert refused.status_code == 200
    assert b"That code is not right" in refused.content
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/").status_code == 302

    throttled = client.post("/accounts/two-factor/enrol/", {"code": current_code(device)})
    assert b"Too many wrong codes" in throttled.content
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)

    accepted = client.post("/accounts/two-factor/enrol/?next=/", {"code": current_code(device)})
    assert accepted.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me/").json()["email"] == sam.email


@pytest.fixture
def enrolled_device(sam):
    return TOTPDevice.objects.create(user=sam, name="Phone", confirmed=True)


def test_an_enrolled_user_signs_in_with_a_code_and_a_wrong_code_is_refused(sam, password, enrolled_device):
    client = Client()
    sign_in(client, sam.email, password, next_url="/api/v1/me/")

    held = client.get("/")
    assert held["Location"].startswith("/accounts/two-factor/verify/")
    assert client.get("/api/v1/me/").status_code == 403
    assert client.get("/accounts/two-factor/enrol/")["Location"].startswith("/accounts/two-factor/verify/")

    refused = client.post("/accounts/two-factor/verify/", {"code": wrong_code(enrolled_device)})
    assert refused.status_code == 200
    assert b"That code is not right" in refused.content
    assert client.get("/").status_code == 302

    not_digits = client.post("/accounts/two-factor/verify/", {"code": "12a456"})
    assert b"Enter the six digits" in not_digits.content

    # The throttle delays the next try after a failure; a real user waits, the test resets it.
    TOTPDevice.objects.filter(pk=enrolled_device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    accepted = client.post("/accounts/two-factor/verify/?next=/api/v1/me/", {"code": current_code(enrolled_device)})
    assert accepted.status_code == 302
    assert accepted["Location"] == "/api/v1/me/"
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200


def test_repeated_wrong_codes_are_throttled(sam, password, enrolled_device):
    client = Client()
    sign_in(client, sam.email, password)
    client.post("/accounts/two-factor/verify/", {"code": wrong_code(enrolled_device)})

    throttled = client.post("/accounts/two-factor/verify/", {"code": current_code(enrolled_device)})

    assert b"Too many wrong codes" in throttled.content
    assert client.get("/").status_code == 302


def test_verify_does_not_redirect_to_another_site(sam, password, enrolled_device):
    client = Client()
    sign_in(client, sam.email, password)
    response = client.post(
        "/accounts/two-factor/verify/?next=https://evil.example/", {"code": current_code(enrolled_device)}
    )
    assert response["Location"] == "/"


def test_an_enrolled_user_needs_a_code_even_where_the_clinic_does_not_require_it(alice_practitioner, password):
    TOTPDevice.objects.create(user=alice_practitioner, name="Phone", confirmed=True)
    client = Client()
    sign_in(client, alice_practitioner.email, password)
    assert client.get("/")["Location"].startswith("/accounts/two-factor/verify/")


def test_without_a_requirement_or_a_device_a_password_is_enough(alice_practitioner, password):
    client = Client()
    sign_in(client, alice_practitioner.email, password)
    home = client.get("/")
    assert home.status_code == 200
    assert b"Bath Physio" in home.content


def test_a_wrong_password_shows_an_error_and_signs_nobody_in(alice_practitioner):
    client = Client()
    response = sign_in(client, alice_practitioner.email, "not-the-password")
    assert response.status_code == 200
    assert b"Please enter a correct" in response.content
    assert client.get("/").status_code == 302


def test_repeated_failures_lock_the_account_even_for_the_right_password(
    alice_practitioner, rita_receptionist, password
):
    client = Client()
    for _ in range(5):
        sign_in(client, alice_practitioner.email, "not-the-password")

    locked = sign_in(client, alice_practitioner.email, password)

    assert locked.status_code == 429 or locked.status_code == 403
    assert b"Too many failed sign-in attempts" in locked.content
    assert client.get("/").status_code == 302
    # The lockout is per account and address: a colleague at the same desk can still sign in.
    other = Client()
    assert sign_in(other, rita_receptionist.email, password).status_code == 302


def test_admin_sign_in_goes_through_the_same_login(adam_admin):
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"


def test_sign_out_ends_the_session(client_for, alice_practitioner):
    client = client_for(alice_practitioner)
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_password_change_validates_and_changes(client_for, alice_practitioner, password):
    client = client_for(alice_practitioner)
    weak = client.post(
        "/accounts/password/change/",
        {"old_password": password, "new_password1": "password", "new_password2": "password"},
    )
    assert weak.status_code == 200
    assert b"too common" in weak.content

    strong = "A-much-better-passphrase-42"
    changed = client.post(
        "/accounts/password/change/",
        {"old_password": password, "new_password1": strong, "new_password2": strong},
    )
    assert changed.status_code == 302
    alice_practitioner.refresh_from_db()
    assert alice_practitioner.check_password(strong)
