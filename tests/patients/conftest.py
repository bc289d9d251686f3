import pytest

from tests.diary.factories import AppointmentFactory, london
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


@pytest.fixture
def johns_appointment(clinic, patient, alice_practitioner):
    """John Smith's follow-up with Alice, Monday 7 January 2030 at 10:00."""
    return AppointmentFactory(
        organisation=clinic, patient=patient, practitioner=alice_practitioner, start=london(2030, 1, 7, 10)
    )


@pytest.fixture
def marys_appointment(clinic, alice_practitioner):
    """Another patient of the same clinic, with Alice at 11:00 the same day."""
    mary = PatientFactory(organisation=clinic, given_name="Mary", family_name="Jones")
    return AppointmentFactory(
        organisation=clinic, patient=mary, practitioner=alice_practitioner, start=london(2030, 1, 7, 11)
    )


@pytest.fixture
def foreign_appointment(foreign_patient, oscar_other_practitioner):
    """An appointment of the other clinic's patient."""
    return AppointmentFactory(
        organisation=foreign_patient.organisation, patient=foreign_patient, practitioner=oscar_other_practitioner
    )
