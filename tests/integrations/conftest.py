"""Fixtures the integrations tests share."""

import pytest

from tests.integrations.factories import PATIENT_EMAIL, consent_to_email
from tests.patients.factories import PatientFactory


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what the block queued for after commit (drains, sends, webhook tasks)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def john(clinic, alice_practitioner):
    """A patient who has an email address and has consented to email."""
    patient = PatientFactory(organisation=clinic, given_name="John", family_name="Smith", email=PATIENT_EMAIL)
    consent_to_email(patient, alice_practitioner)
    return patient
