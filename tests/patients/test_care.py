"""Care relationships and who reads clinical notes: each rule with its allowed and denied case."""

import pytest

from patients import care
from patients.care import has_care_relationship, patients_in_care_of
from patients.models import Patient
from patients.permissions import can_manage_care_team, can_read_notes, can_write_notes
from patients.selectors import notes_visible_to
from tests.patients.factories import CareTeamMemberFactory, ClinicalNoteFactory, PatientFactory


def test_alice_cares_for_a_patient_on_her_care_team(alice_practitioner, patient, alice_cares_for_patient):
    assert has_care_relationship(alice_practitioner, patient)
    assert list(patients_in_care_of(alice_practitioner)) == [patient]


def test_paul_does_not_care_for_a_patient_he_is_not_linked_to(paul_practitioner, patient, alice_cares_for_patient):
    assert not has_care_relationship(paul_practitioner, patient)
    assert list(patients_in_care_of(paul_practitioner)) == []


@pytest.mark.parametrize("who", ["adam_admin", "rita_receptionist"])
def test_admins_and_receptionists_never_have_a_care_relationship(request, patient, who):
    staff = request.getfixturevalue(who)
    CareTeamMember = patient.care_team.model
    # Even a row written behind the services' back does not make them carers.
    CareTeamMember.objects.create(organisation=patient.organisation, patient=patient, practitioner=staff)

    assert not has_care_relationship(staff, patient)
    assert not can_read_notes(staff, patient)


def test_a_practitioner_of_another_organisation_never_cares_for_our_patient(oscar_other_practitioner, patient):
    assert not has_care_relationship(oscar_other_practitioner, patient)
    assert not can_read_notes(oscar_other_practitioner, patient)


def test_an_inactive_practitioner_loses_access(alice_practitioner, patient, alice_cares_for_patient):
    alice_practitioner.is_active = False
    alice_practitioner.save()

    assert not can_read_notes(alice_practitioner, patient)


def test_relationship_sources_can_be_registered(monkeypatch, paul_practitioner, patient, clinic):
    """The diary extends care relationships by registering a source (here: everyone named Smith)."""
    from django.db.models import Q

    monkeypatch.setattr(
        care,
        "CARE_RELATIONSHIP_SOURCES",
        [*care.CARE_RELATIONSHIP_SOURCES, "tests.patients.test_care.smiths_source"],
    )
    other = PatientFactory(organisation=clinic, family_name="Jones")

    assert has_care_relationship(paul_practitioner, patient)
    assert not has_care_relationship(paul_practitioner, other)
    assert smiths_source(paul_practitioner) == Q(family_name="Smith")


def smiths_source(practitioner):
    from django.db.models import Q

    return Q(family_name="Smith")


def test_the_care_relationship_setting_exists(settings):
    assert settings.CARE_RELATIONSHIP_APPOINTMENT_MONTHS == 24


def test_can_read_and_write_notes(
    alice_practitioner, paul_practitioner, rita_receptionist, adam_admin, patient, alice_cares_for_patient
):
    assert can_read_notes(alice_practitioner, patient) and can_write_notes(alice_practitioner, patient)
    for staff in (paul_practitioner, rita_receptionist, adam_admin):
        assert not can_read_notes(staff, patient)
        assert not can_write_notes(staff, patient)


def test_who_manages_the_care_team(
    alice_practitioner, paul_practitioner, rita_receptionist, adam_admin, olga_other, patient, alice_cares_for_patient
):
    assert can_manage_care_team(adam_admin, patient)
    assert can_manage_care_team(alice_practitioner, patient)
    assert not can_manage_care_team(paul_practitioner, patient)
    assert not can_manage_care_team(rita_receptionist, patient)
    assert not can_manage_care_team(olga_other, patient)


def test_notes_visible_to_is_filtered_by_care_relationship(
    alice_practitioner, paul_practitioner, rita_receptionist, adam_admin, clinic, patient, alice_cares_for_patient
):
    alices_note = ClinicalNoteFactory(patient=patient, author=alice_practitioner, signed=True)
    pauls_patient = PatientFactory(organisation=clinic)
    CareTeamMemberFactory(patient=pauls_patient, practitioner=paul_practitioner)
    pauls_note = ClinicalNoteFactory(patient=pauls_patient, author=paul_practitioner, signed=True)

    assert list(notes_visible_to(alice_practitioner)) == [alices_note]
    assert list(notes_visible_to(paul_practitioner)) == [pauls_note]
    assert list(notes_visible_to(rita_receptionist)) == []
    assert list(notes_visible_to(adam_admin)) == []


def test_a_note_stays_hidden_once_its_author_leaves_the_care_team(alice_practitioner, patient, alice_cares_for_patient):
    ClinicalNoteFactory(patient=patient, author=alice_practitioner, signed=True)
    alice_cares_for_patient.delete()

    assert list(notes_visible_to(alice_practitioner)) == []
    assert Patient.objects.filter(pk=patient.pk).exists()
