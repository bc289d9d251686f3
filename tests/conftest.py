"""The named cast every test reuses, and a guard that fails any real network call.

In Bath Physio (our clinic): Adam the admin, Alice and Paul the practitioners, Rita the
receptionist. In Other Clinic (a foreign organisation): Olga, an admin, and Oscar, a
practitioner. A test reads as a sentence: "Rita cannot read Alice's notes". Their family names
are fixed, not generated, so a test asserting a patient's name is absent from some output can
never be tripped by a staff member who happens to share it.
"""

import socket

import pytest
from hypothesis import settings as hypothesis_settings

from core.choices import Role
from tests.factories import TEST_PASSWORD, LocationFactory, OrganisationFactory, StaffFactory

LOOPBACK_PREFIXES = ("127.", "::1", "localhost")

# A property either holds or it does not: how long an example takes on a loaded CI machine is
# not part of it. Failing examples are printed with a blob to reproduce them.
hypothesis_settings.register_profile("jelly", deadline=None, print_blob=True)
hypothesis_settings.load_profile("jelly")


@pytest.fixture(autouse=True)
def _no_real_network(monkeypatch):
    """Any connection to a non-loopback address fails the test: no test reaches the internet."""
    real_connect = socket.socket.connect

    def guarded_connect(sock, address):
        host = address[0] if isinstance(address, tuple) else str(address)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not str(host).startswith(LOOPBACK_PREFIXES):
            raise AssertionError(f"Test tried to reach the network: {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture(scope="session", autouse=True)
def _release_test_database(django_db_setup, django_db_blocker):
    """Let the test database be dropped at the end even if the live server's request threads
    left sessions open on it (each run has its own database; see jelly/settings_test.py)."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
        connection.close()
        with connection._nodb_cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )


@pytest.fixture
def password():
    return TEST_PASSWORD


@pytest.fixture
def clinic(db):
    return OrganisationFactory(name="Bath Physio", slug="bath-physio")


@pytest.fixture
def other_clinic(db):
    return OrganisationFactory(name="Other Clinic FOREIGN-CANARY", slug="other-clinic")


@pytest.fixture
def clinic_location(clinic):
    return LocationFactory(organisation=clinic, name="Bath High Street")


@pytest.fixture
def adam_admin(clinic):
    return StaffFactory(
        organisation=clinic, email="adam@bath.test", role=Role.ADMIN, given_name="Adam", family_name="Ashworth"
    )


@pytest.fixture
def alice_practitioner(clinic):
    return StaffFactory(
        organisation=clinic, email="alice@bath.test", role=Role.PRACTITIONER, given_name="Alice", family_name="Archer"
    )


@pytest.fixture
def paul_practitioner(clinic):
    return StaffFactory(
        organisation=clinic, email="paul@bath.test", role=Role.PRACTITIONER, given_name="Paul", family_name="Pemberton"
    )


@pytest.fixture
def rita_receptionist(clinic):
    return StaffFactory(
        organisation=clinic, email="rita@bath.test", role=Role.RECEPTIONIST, given_name="Rita", family_name="Rowe"
    )


@pytest.fixture
def olga_other(other_clinic):
    return StaffFactory(
        organisation=other_clinic, email="olga@other.test", role=Role.ADMIN, given_name="Olga", family_name="Olsen"
    )


@pytest.fixture
def oscar_other_practitioner(other_clinic):
    return StaffFactory(
        organisation=other_clinic,
        email="oscar@other.test",
        role=Role.PRACTITIONER,
        given_name="Oscar",
        family_name="Osei",
    )


@pytest.fixture
def client_for(client):
    """`client_for(staff)`: a test client signed in as that staff member (no TOTP enrolled)."""
    from django.test import Client

    def make(staff):
        signed_in = Client()
        signed_in.force_login(staff)
        return signed_in

    return make


@pytest.fixture
def api_client_for():
    """`api_client_for(staff)`: a DRF client authenticated with a fresh API token."""
    from rest_framework.test import APIClient

    from core.services import api_token_create

    def make(staff):
        _, key = api_token_create(staff=staff)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return api

    return make
