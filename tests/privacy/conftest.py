"""Privacy fixtures on top of the named cast (tests/conftest.py).

John Smith is Bath Physio's patient (NHS number 943 476 5919); Alice cares for him (care team),
Paul does not. His mother Mary holds a lasting power of attorney; his neighbour Ned holds none.
"""

import pytest

from patients.choices import ContactAuthority
from tests.patients.factories import CareTeamMemberFactory, ContactFactory, PatientFactory

NHS_NUMBER = "9434765919"
NHS_NUMBER_FORMS = ("9434765919", "943 476 5919", "943-476-5919")
NOTE_CANARY = "CANARY-NOTE-5b1e"


def assert_no_nhs_number(text: str) -> None:
    for form in NHS_NUMBER_FORMS:
        assert form not in text, f"NHS number ({form}) left Jelly"


@pytest.fixture
def patient(clinic):
    return PatientFactory(
        organisation=clinic,
        given_name="John",
        family_name="Smith",
        date_of_birth="1980-02-03",
        nhs_number=NHS_NUMBER,
        postcode="BA1 1AA",
    )


@pytest.fixture
def foreign_patient(other_clinic):
    return PatientFactory(organisation=other_clinic, given_name="Fiona", family_name="Foreign FOREIGN-CANARY")


@pytest.fixture
def alice_cares_for_patient(alice_practitioner, patient):
    return CareTeamMemberFactory(patient=patient, practitioner=alice_practitioner)


@pytest.fixture
def mother_with_lpa(patient):
    return ContactFactory(
        patient=patient,
        name="Mary Smith",
        relationship="Mother",
        authority=ContactAuthority.LASTING_POWER_OF_ATTORNEY_HEALTH_WELFARE,
    )


@pytest.fixture
def neighbour(patient):
    return ContactFactory(patient=patient, name="Ned Neighbour", relationship="Neighbour")


@pytest.fixture
def objecting_patient(patient, rita_receptionist):
    """John has told Rita he objects to his NHS number being shared."""
    from privacy.services import nhs_number_objection_record

    nhs_number_objection_record(patient=patient, recorded_by=rita_receptionist, method="verbal", explanation_given=True)
    return patient


@pytest.fixture
def signed_note(patient, alice_practitioner, alice_cares_for_patient):
    from tests.patients.factories import ClinicalNoteFactory, NoteAddendumFactory

    note = ClinicalNoteFactory(
        patient=patient,
        author=alice_practitioner,
        text=f"Text {NOTE_CANARY}",
        sections={"Assessment": f"Assessment {NOTE_CANARY}", "Plan": "Exercises"},
        signed=True,
    )
    NoteAddendumFactory(note=note, author=alice_practitioner, text=f"Addendum {NOTE_CANARY}")
    return note
