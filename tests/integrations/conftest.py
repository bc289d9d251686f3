"""Fixtures the integrations tests share."""

import pytest

from tests.integrations.factories import PATIENT_EMAIL, consent_to_email
from tests.patients.factories import PatientFactory


@pytest.fixture
def john(clinic, alice_practitioner):
    """A patient who has an email address and has consented to email."""
    patient = PatientFactory(organisation=clinic, given_name="John", family_name="Smith", email=PATIENT_EMAIL)
    consent_to_email(patient, alice_practitioner)
    return patient
