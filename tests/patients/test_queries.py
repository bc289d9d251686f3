"""Lists and details cost the same number of queries for 2 patients as for 40."""

import pytest
from django.urls import reverse

from privacy.audit import AUDIT_WRITE_QUERIES
from tests.patients.factories import (
    CareTeamMemberFactory,
    ClinicalNoteFactory,
    ContactFactory,
    NoteAddendumFactory,
    PatientFactory,
)


def many_patients(clinic, count):
    return [PatientFactory(organisation=clinic, family_name="Smith") for _ in range(count)]


@pytest.mark.parametrize("count", [2, 40])
def test_the_list_page(client_for, rita_receptionist, clinic, django_assert_max_num_queries, count):
    many_patients(clinic, count)
    client = client_for(rita_receptionist)

    with django_assert_max_num_queries(9):
        assert client.get(reverse("patients:list")).status_code == 200
    with django_assert_max_num_queries(9):
        assert client.get(reverse("patients:search"), {"q": "smith"}).status_code == 200


@pytest.mark.parametrize("count", [2, 40])
def test_the_api_list(api_client_for, rita_receptionist, clinic, django_assert_max_num_queries, count):
    many_patients(clinic, count)
    api = api_client_for(rita_receptionist)

    with django_assert_max_num_queries(4):
        assert api.get("/api/v1/patients/", {"q": "smith"}).status_code == 200
    with django_assert_max_num_queries(4):
        assert api.get("/api/v1/patients/").status_code == 200


@pytest.mark.parametrize("count", [1, 15])
def test_the_detail_page(client_for, alice_practitioner, clinic, soap_template, django_assert_max_num_queries, count):
    patient = PatientFactory(organisation=clinic)
    CareTeamMemberFactory(patient=patient, practitioner=alice_practitioner)
    for _ in range(count):
        ContactFactory(patient=patient)
        CareTeamMemberFactory(patient=patient)
        note = ClinicalNoteFactory(patient=patient, author=alice_practitioner, signed=True)
        NoteAddendumFactory(note=note, author=alice_practitioner)
    client = client_for(alice_practitioner)
    client.get(reverse("patients:detail", kwargs={"pk": patient.pk}))  # the organisation's first audit entry

    # The page writes one access-audit entry (privacy.audit.append_entry): a fixed cost.
    with django_assert_max_num_queries(15 + AUDIT_WRITE_QUERIES):
        response = client.get(reverse("patients:detail", kwargs={"pk": patient.pk}))
    assert response.status_code == 200
    assert response.content.decode().count('class="note"') == count


@pytest.mark.parametrize("count", [1, 15])
def test_the_api_notes_list(api_client_for, alice_practitioner, clinic, django_assert_max_num_queries, count):
    patient = PatientFactory(organisation=clinic)
    CareTeamMemberFactory(patient=patient, practitioner=alice_practitioner)
    for _ in range(count):
        note = ClinicalNoteFactory(patient=patient, author=alice_practitioner, signed=True)
        NoteAddendumFactory(note=note, author=alice_practitioner)
    api = api_client_for(alice_practitioner)
    api.get(f"/api/v1/patients/{patient.pk}/notes/")  # the organisation's first audit entry

    with django_assert_max_num_queries(7 + AUDIT_WRITE_QUERIES):
        assert api.get(f"/api/v1/patients/{patient.pk}/notes/").json()["count"] == count
