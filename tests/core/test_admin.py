"""Django admin for an organisation's admin: only their organisation, never operator powers."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import Location, Staff

pytestmark = pytest.mark.django_db


def test_adam_adds_a_location_and_it_lands_in_his_organisation(client_for, adam_admin, other_clinic):
    client = client_for(adam_admin)
    form = client.get("/admin/core/location/add/")
    assert b'name="organisation"' not in form.content

    response = client.post(
        "/admin/core/location/add/",
        {
            "name": "Keynsham",
            "address": "",
            "postcode": "",
            "phone": "",
            "is_active": "on",
            "organisation": other_clinic.pk,
        },
    )

    assert response.status_code == 302
    location = Location.objects.get(name="Keynsham")
    assert location.organisation == adam_admin.organisation


def test_adam_adds_staff_to_his_organisation_but_cannot_make_an_operator(client_for, adam_admin):
    client = client_for(adam_admin)
    password = "A-long-enough-passphrase-77"
    response = client.post(
        "/admin/core/staff/add/",
        {
            "email": "new@bath.test",
            "given_name": "Nia",
            "family_name": "New",
            "role": "receptionist",
            "password1": password,
            "password2": password,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    nia = Staff.objects.get(email="new@bath.test")
    assert nia.organisation == adam_admin.organisation
    assert nia.check_password(password)

    change_page = client.get(f"/admin/core/staff/{nia.pk}/change/")
    assert change_page.status_code == 200
    assert b'name="is_superuser"' not in change_page.content
    assert b'name="organisation"' not in change_page.content


def test_adam_sees_only_his_staff(client_for, adam_admin, rita_receptionist, olga_other):
    page = client_for(adam_admin).get("/admin/core/staff/")
    assert rita_receptionist.email.encode() in page.content
    assert olga_other.email.encode() not in page.content


def test_adam_cannot_open_another_organisations_staff(client_for, adam_admin, olga_other):
    response = client_for(adam_admin).get(f"/admin/core/staff/{olga_other.pk}/change/")
    assert response.status_code == 302
    assert olga_other.email not in response.content.decode()


def test_admin_never_shows_a_totp_secret(client_for, adam_admin, rita_receptionist):
    device = TOTPDevice.objects.create(user=rita_receptionist, name="Phone", confirmed=True)
    page = client_for(adam_admin).get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200
    assert device.key.encode() not in page.content


def test_adam_resets_ritas_two_factor_by_deleting_her_device(client_for, adam_admin, rita_receptionist):
    device = TOTPDevice.objects.create(user=rita_receptionist, name="Phone", confirmed=True)
    response = client_for(adam_admin).post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()


def test_practitioners_and_receptionists_have_no_admin(client_for, alice_practitioner, rita_receptionist):
    for staff in (alice_practitioner, rita_receptionist):
        response = client_for(staff).get("/admin/")
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_an_operator_sees_every_organisation(client, adam_admin, olga_other, password):
    operator = Staff.objects.create_superuser("ops@hosting.test", password)
    client.force_login(operator)
    page = client.get("/admin/core/staff/")
    assert adam_admin.email.encode() in page.content
    assert olga_other.email.encode() in page.content
