"""Service rules: signed notes never change, addenda keep the original, NHS numbers stay unique."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

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
