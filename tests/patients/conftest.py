import pytest

from tests.patients.factories import CareTeamMemberFactory, NoteTemplateFactory, PatientFactory

CANARY = "CANARY-NOTE-7f3a9c"


@pytest.fixture
def patient(clinic):
    """John Smith of Bath Physio (no care team)."""
    return PatientFactory(
        organisation=clinic,
        given_name="John",
        family_name="Smith",
        date_of_birth="1980-02-03",
        nhs_number="9434765919",
        postcode="BA1 1AA",
        phone="+441225123456",
    )


@pytest.fixture
def foreign_patient(other_clinic):
    return PatientFactory(organisation=other_clinic, given_name="Fiona", family_name="Foreign FOREIGN-CANARY")


@pytest.fixture
def alice_cares_for_patient(alice_practitioner, patient):
    """Alice is on John Smith's care team; Paul is not."""
    return CareTeamMemberFactory(patient=patient, practitioner=alice_practitioner)


@pytest.fixture
def soap_template(clinic):
    return NoteTemplateFactory(organisation=clinic, name="SOAP")
