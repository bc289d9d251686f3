"""Rita (receptionist) and Adam (admin) never see clinical note content, wherever they look.

A signed note whose text, sections and addendum carry a canary string is written by Alice; no
response Rita or Adam can get about that patient may contain the canary.
"""

import pytest
from django.urls import reverse

from tests.patients.conftest import CANARY
from tests.patients.factories import ClinicalNoteFactory, NoteAddendumFactory


@pytest.fixture
def canary_note(patient, alice_practitioner, alice_cares_for_patient, soap_template):
    note = ClinicalNoteFactory(
        patient=patient,
        author=alice_practitioner,
        template=soap_template,
        text=f"Text {CANARY}",
        sections={"Subjective": f"Section {CANARY}", "Plan": f"Plan {CANARY}"},
        signed=True,
    )
    NoteAddendumFactory(note=note, author=alice_practitioner, text=f"Addendum {CANARY}")
    return note


def urls_about(patient, note):
    return [
        reverse("patients:list"),
        reverse("patients:search") + "?q=smith",
        reverse("patients:detail", kwargs={"pk": patient.pk}),
        reverse("patients:edit", kwargs={"pk": patient.pk}),
        reverse("patients:note-edit", kwargs={"patient_pk": patient.pk, "pk": note.pk}),
        "/api/v1/patients/",
        f"/api/v1/patients/{patient.pk}/",
        f"/api/v1/patients/{patient.pk}/notes/",
        f"/api/v1/patients/{patient.pk}/contacts/",
        f"/api/v1/patients/{patient.pk}/care-team/",
        f"/api/v1/notes/{note.pk}/",
        "/api/schema/",
    ]


ADMIN_URLS = [
    "/admin/",
    "/admin/patients/patient/",
    "/admin/patients/patient/?q=smith",
    "/admin/patients/patient/{patient}/change/",
    "/admin/patients/patient/{patient}/history/",
    "/admin/patients/notetemplate/",
]


@pytest.mark.parametrize("who", ["rita_receptionist", "adam_admin"])
def test_no_page_or_api_response_contains_note_content(client_for, api_client_for, request, patient, canary_note, who):
    staff = request.getfixturevalue(who)
    page_client, api = client_for(staff), api_client_for(staff)

    for url in urls_about(patient, canary_note):
        client = api if url.startswith("/api/") else page_client
        response = client.get(url)
        assert CANARY not in response.content.decode(), url


def test_no_admin_page_contains_note_content(client_for, adam_admin, patient, canary_note):
    client = client_for(adam_admin)

    for url in ADMIN_URLS:
        response = client.get(url.format(patient=patient.pk))
        assert response.status_code == 200, url
        assert CANARY not in response.content.decode(), url


def test_clinical_notes_have_no_admin_at_all(client_for, adam_admin, canary_note):
    client = client_for(adam_admin)

    assert client.get("/admin/patients/clinicalnote/").status_code == 404
    assert client.get(f"/admin/patients/clinicalnote/{canary_note.pk}/change/").status_code == 404
    assert client.get("/admin/patients/noteaddendum/").status_code == 404


def test_alice_who_cares_for_the_patient_does_see_it(client_for, alice_practitioner, patient, canary_note):
    page = client_for(alice_practitioner).get(reverse("patients:detail", kwargs={"pk": patient.pk}))

    assert page.content.decode().count(CANARY) == 4


@pytest.mark.parametrize("who", ["rita_receptionist", "adam_admin", "alice_practitioner"])
def test_search_never_looks_inside_notes(api_client_for, request, canary_note, who):
    response = api_client_for(request.getfixturevalue(who)).get("/api/v1/patients/", {"q": "Section Plan Addendum"})

    assert response.json()["count"] == 0
