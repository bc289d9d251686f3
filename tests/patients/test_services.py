"""Service rules: signed notes never change, addenda keep the original, NHS numbers stay unique,
a note links only to its own patient's appointment and only while a draft."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from core.exceptions import DomainError
from patients import services
from patients.choices import NoteStatus
from patients.models import ClinicalNote, Patient
from tests.patients.factories import ClinicalNoteFactory, PatientFactory


def test_patient_create_normalises_and_derives_search_columns(clinic):
    patient = services.patient_create(
        organisation=clinic,
        given_name=" Zoë ",
        family_name="O'Brien-Smith",
        date_of_birth="1990-01-01",
        nhs_number="943-476-5919",
        postcode="ba1 1aa",
        phone="01225 123456",
    )

    assert patient.given_name == "Zoë"
    assert patient.nhs_number == "9434765919"
    assert patient.search_name == " zoe obrien smith "
    assert patient.search_text.startswith(" zoe obrien smith _")


def test_patient_create_reports_every_bad_field_at_once(clinic):
    with pytest.raises(ValidationError) as error:
        services.patient_create(
            organisation=clinic,
            given_name="A",
            family_name="B",
            date_of_birth="1990-01-01",
            nhs_number="123",
            postcode="nope",
            phone="1",
        )

    assert set(error.value.message_dict) == {"nhs_number", "postcode", "phone"}


def test_a_date_of_death_marks_the_patient_deceased_and_is_checked(clinic):
    patient = services.patient_create(
        organisation=clinic, given_name="A", family_name="B", date_of_birth="1930-01-01", date_of_death="2020-05-01"
    )
    assert patient.deceased

    with pytest.raises(ValidationError, match="before the date of birth"):
        services.patient_update(patient=patient, changes={"date_of_death": "1920-01-01"})


def test_the_database_refuses_a_duplicate_nhs_number_in_one_organisation(clinic, patient):
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(organisation=clinic, nhs_number=patient.nhs_number)


def test_blank_nhs_numbers_are_not_duplicates(clinic):
    PatientFactory(organisation=clinic, nhs_number="")
    PatientFactory(organisation=clinic, nhs_number="")

    assert Patient.objects.filter(nhs_number="").count() == 2


def test_a_signed_note_is_never_changed(alice_practitioner, patient, alice_cares_for_patient):
    note = services.note_create(patient=patient, author=alice_practitioner, text="Original.")
    services.note_sign(note=note, signer=alice_practitioner)

    with pytest.raises(DomainError) as error:
        services.note_update(note=note, editor=alice_practitioner, text="Rewritten.")

    assert error.value.conflict
    assert ClinicalNote.objects.get().text == "Original."


def test_an_addendum_keeps_the_original(alice_practitioner, patient, alice_cares_for_patient):
    note = ClinicalNoteFactory(patient=patient, author=alice_practitioner, text="Original.", signed=True)

    services.note_addendum_add(note=note, author=alice_practitioner, text="Correction: left knee.")

    note.refresh_from_db()
    assert note.text == "Original."
    assert [addendum.text for addendum in note.addenda.all()] == ["Correction: left knee."]


def test_only_the_author_signs_or_edits_a_draft(alice_practitioner, paul_practitioner, patient):
    note = ClinicalNoteFactory(patient=patient, author=alice_practitioner)

    with pytest.raises(DomainError):
        services.note_sign(note=note, signer=paul_practitioner)
    with pytest.raises(DomainError):
        services.note_update(note=note, editor=paul_practitioner, text="Mine.")
    assert ClinicalNote.objects.get().status == NoteStatus.DRAFT


def test_an_empty_note_cannot_be_signed(alice_practitioner, patient):
    note = ClinicalNoteFactory(patient=patient, author=alice_practitioner, text="")

    with pytest.raises(DomainError, match="empty"):
        services.note_sign(note=note, signer=alice_practitioner)


def test_note_content_is_encrypted_at_rest(alice_practitioner, patient):
    from django.db import connection

    ClinicalNoteFactory(patient=patient, author=alice_practitioner, text="Secret knee.", sections={"Plan": "Rest."})
    with connection.cursor() as cursor:
        cursor.execute("SELECT text, sections FROM patients_clinicalnote")
        text, sections = cursor.fetchone()

    assert "Secret knee." not in text
    assert "Rest." not in sections
    assert ClinicalNote.objects.get().sections == {"Plan": "Rest."}


def test_a_template_needs_distinct_headings(clinic):
    with pytest.raises(ValidationError):
        services.note_template_create(organisation=clinic, name="Bad", section_headings=["Plan", "plan"])
    with pytest.raises(ValidationError):
        services.note_template_create(organisation=clinic, name="Empty", section_headings=[])


# A note's appointment -------------------------------------------------------------------------


def test_a_note_is_linked_to_its_patients_appointment(alice_practitioner, patient, johns_appointment):
    note = services.note_create(patient=patient, author=alice_practitioner, text="Seen.", appointment=johns_appointment)

    assert ClinicalNote.objects.get().appointment == johns_appointment
    assert list(johns_appointment.clinical_notes.all()) == [note]


def test_alice_cannot_link_johns_note_to_marys_appointment(alice_practitioner, patient, marys_appointment):
    with pytest.raises(DomainError) as refused:
        services.note_create(patient=patient, author=alice_practitioner, text="Seen.", appointment=marys_appointment)

    assert refused.value.errors == {"appointment": ["Choose one of this patient's appointments."]}
    assert not refused.value.conflict
    assert not ClinicalNote.objects.exists()


def test_alice_cannot_link_a_note_to_another_organisations_appointment(
    alice_practitioner, patient, foreign_appointment
):
    note = services.note_create(patient=patient, author=alice_practitioner, text="Seen.")

    with pytest.raises(DomainError) as refused:
        services.note_update(note=note, editor=alice_practitioner, appointment=foreign_appointment)

    assert "appointment" in refused.value.errors
    note.refresh_from_db()
    assert note.appointment_id is None


def test_a_draft_is_linked_unlinked_and_left_alone(alice_practitioner, patient, johns_appointment):
    note = services.note_create(patient=patient, author=alice_practitioner, text="Seen.")

    linked = services.note_update(note=note, editor=alice_practitioner, appointment=johns_appointment)
    untouched = services.note_update(note=note, editor=alice_practitioner, text="Seen again.")
    unlinked = services.note_update(note=note, editor=alice_practitioner, appointment=None)

    assert linked.appointment_id == johns_appointment.pk
    assert untouched.appointment_id == johns_appointment.pk
    assert unlinked.appointment_id is None


def test_a_signed_notes_appointment_never_changes(alice_practitioner, patient, johns_appointment):
    note = services.note_create(patient=patient, author=alice_practitioner, text="Seen.", sign=True)

    with pytest.raises(DomainError) as refused:
        services.note_update(note=note, editor=alice_practitioner, appointment=johns_appointment)

    assert refused.value.conflict
    note.refresh_from_db()
    assert note.appointment_id is None


def test_an_appointment_with_a_note_cannot_be_deleted(alice_practitioner, patient, johns_appointment):
    services.note_create(
        patient=patient, author=alice_practitioner, text="Seen.", appointment=johns_appointment, sign=True
    )

    with pytest.raises(ProtectedError):
        johns_appointment.delete()
    assert ClinicalNote.objects.get().appointment_id == johns_appointment.pk
