"""A person signs in with a password and an authenticator code, in a real browser."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.core.test_two_factor import current_code, wrong_code

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_in_with_two_factor_in_the_browser(browser_page, alice_practitioner, password):
    page = browser_page
    device = TOTPDevice.objects.create(user=alice_practitioner, name="Phone", confirmed=True)

    page.goto(page.base_url + "/")
    page.get_by_label("Email").fill(alice_practitioner.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/accounts/two-factor/verify/**")
    page.get_by_label("Six-digit code").fill(wrong_code(device))
    page.get_by_role("button", name="Verify").click()
    assert page.get_by_text("That code is not right").is_visible()

    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    page.get_by_label("Six-digit code").fill(current_code(device))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(page.base_url + "/")
    assert page.get_by_role("heading", name="Bath Physio").is_visible()
    assert page.get_by_text("Signed in as").is_visible()
