"""The patients API, route by route: fields, 400s, 404 for other clinics, 403/409 for notes."""

import pytest

from patients.choices import NhsNumberStatus, NoteStatus
from patients.models import CareTeamMember, ClinicalNote, Contact, NoteAddendum, Patient
from tests.patients.factories import (
    CareTeamMemberFactory,
    ClinicalNoteFactory,
    ContactFactory,
    PatientFactory,
)

NEW_PATIENT = {
    "given_name": "Mary",
    "family_name": "Jones",
    "preferred_name": "Molly",
    "date_of_birth": "1961-07-14",
    "gender": "female",
    "nhs_number": "943 476 5919",
    "email": "mary@example.com",
    "phone": "01225 123456",
    "address_line1": "1 High Street",
    "address_line2": "",
    "town": "Bath",
    "postcode": "ba1 1aa",
}
PATIENT_FIELDS = {
    "id",
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "gender",
    "nhs_number",
    "nhs_number_status",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
    "archived",
}


# Patients ------------------------------------------------------------------------------------


@pytest.mark.parametrize("staff", ["adam_admin", "alice_practitioner", "rita_receptionist"])
def test_every_role_registers_a_patient_and_gets_canonical_values_back(api_client_for, request, staff):
    response = api_client_for(request.getfixturevalue(staff)).post("/api/v1/patients/", NEW_PATIENT)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) >= PATIENT_FIELDS
    assert body["nhs_number"] == "9434765919"
    assert body["nhs_number_status"] == NhsNumberStatus.UNVERIFIED
    assert body["postcode"] == "BA1 1AA"
    assert body["phone"] == "+441225123456"
    assert body["date_of_birth"] == "1961-07-14"
    assert Patient.objects.get(pk=body["id"]).organisation == request.getfixturevalue(staff).organisation


def test_a_new_patient_cannot_be_placed_in_another_organisation(api_client_for, rita_receptionist, other_clinic):
    response = api_client_for(rita_receptionist).post(
        "/api/v1/patients/", {**NEW_PATIENT, "organisation": str(other_clinic.id)}
    )

    assert Patient.objects.get(pk=response.json()["id"]).organisation == rita_receptionist.organisation


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nhs_number", "943 476 5918", "last digit"),
        ("nhs_number", "12345", "10 digits"),
        ("postcode", "BA1", "UK postcode"),
        ("phone", "12345", "phone number"),
        ("date_of_birth", "14/07/1961", "YYYY-MM-DD"),
        ("date_of_birth", "2999-01-01", "future"),
        ("gender", "f", "not a valid choice"),
        ("email", "not-an-email", "email"),
    ],
)
def test_invalid_fields_are_400_with_the_fields_message(api_client_for, rita_receptionist, field, value, message):
    response = api_client_for(rita_receptionist).post("/api/v1/patients/", {**NEW_PATIENT, field: value})

    assert response.status_code == 400
    assert field in response.json()
    assert message.lower() in " ".join(response.json()[field]).lower()


def test_a_duplicate_nhs_number_in_the_organisation_is_400(api_client_for, rita_receptionist, patient):
    response = api_client_for(rita_receptionist).post("/api/v1/patients/", NEW_PATIENT)

    assert response.status_code == 400
    assert "nhs_number" in response.json()["errors"]


def test_the_same_nhs_number_may_exist_in_another_organisation(api_client_for, olga_other, patient):
    response = api_client_for(olga_other).post("/api/v1/patients/", NEW_PATIENT)

    assert response.status_code == 201


def test_the_list_is_paginated_searchable_and_only_our_organisation(
    api_client_for, rita_receptionist, patient, foreign_patient
):
    PatientFactory(organisation=patient.organisation, given_name="Anne", family_name="Other")
    api = api_client_for(rita_receptionist)

    everyone = api.get("/api/v1/patients/").json()
    found = api.get("/api/v1/patients/", {"q": "943 476 5919"}).json()

    assert everyone["count"] == 2
    assert {"count", "next", "previous", "results"} <= set(everyone)
    assert str(foreign_patient.id) not in {row["id"] for row in everyone["results"]}
    assert [row["id"] for row in found["results"]] == [str(patient.id)]


def test_archived_patients_can_be_filtered(api_client_for, rita_receptionist, patient):
    PatientFactory(organisation=patient.organisation, archived=True)
    api = api_client_for(rita_receptionist)

    assert api.get("/api/v1/patients/", {"archived": "false"}).json()["count"] == 1
    assert api.get("/api/v1/patients/", {"archived": "true"}).json()["count"] == 1


def test_detail_and_patch(api_client_for, rita_receptionist, patient):
    api = api_client_for(rita_receptionist)

    detail = api.get(f"/api/v1/patients/{patient.id}/")
    patched = api.patch(f"/api/v1/patients/{patient.id}/", {"postcode": "sw1a1aa", "archived": True})

    assert detail.status_code == 200
    assert detail.json()["nhs_number"] == "9434765919"
    assert patched.status_code == 200, patched.json()
    assert patched.json()["postcode"] == "SW1A 1AA"
    assert patched.json()["archived"] is True
    patient.refresh_from_db()
    assert patient.archived_at is not None


def test_changing_the_nhs_number_makes_it_unverified_again(api_client_for, rita_receptionist, patient):
    Patient.objects.filter(pk=patient.pk).update(nhs_number_status=NhsNumberStatus.VERIFIED)

    response = api_client_for(rita_receptionist).patch(
        f"/api/v1/patients/{patient.id}/", {"nhs_number": "401 023 2137", "nhs_number_status": "verified"}
    )

    assert response.status_code == 200, response.json()
    assert response.json()["nhs_number_status"] == NhsNumberStatus.UNVERIFIED


def test_an_invalid_patch_is_400(api_client_for, rita_receptionist, patient):
    response = api_client_for(rita_receptionist).patch(f"/api/v1/patients/{patient.id}/", {"phone": "0"})

    assert response.status_code == 400
    assert "phone" in response.json()


def test_patients_cannot_be_deleted(api_client_for, adam_admin, patient):
    assert api_client_for(adam_admin).delete(f"/api/v1/patients/{patient.id}/").status_code == 405


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/patients/{id}/"),
        ("patch", "/api/v1/patients/{id}/"),
        ("get", "/api/v1/patients/{id}/contacts/"),
        ("post", "/api/v1/patients/{id}/contacts/"),
        ("get", "/api/v1/patients/{id}/care-team/"),
        ("post", "/api/v1/patients/{id}/care-team/"),
    ],
)
def test_another_organisations_patient_is_404(api_client_for, adam_admin, foreign_patient, method, path):
    response = getattr(api_client_for(adam_admin), method)(path.format(id=foreign_patient.id), {})

    assert response.status_code == 404
    assert "FOREIGN-CANARY" not in response.content.decode()


def test_another_organisations_patients_notes_are_404_for_a_practitioner(
    api_client_for, alice_practitioner, foreign_patient
):
    response = api_client_for(alice_practitioner).get(f"/api/v1/patients/{foreign_patient.id}/notes/")

    assert response.status_code == 404


def test_anonymous_callers_are_401(client, patient):
    assert client.get("/api/v1/patients/").status_code == 401


# Contacts ------------------------------------------------------------------------------------


def test_contacts_list_and_create(api_client_for, rita_receptionist, patient):
    ContactFactory(patient=patient, name="Existing Contact")
    api = api_client_for(rita_receptionist)

    created = api.post(
        f"/api/v1/patients/{patient.id}/contacts/",
        {
            "name": "Sarah Smith",
            "relationship": "Mother",
            "phone": "0117 496 0123",
            "authority": "parental_responsibility",
        },
    )
    listed = api.get(f"/api/v1/patients/{patient.id}/contacts/")

    assert created.status_code == 201, created.json()
    assert created.json()["phone"] == "+441174960123"
    assert created.json()["authority"] == "parental_responsibility"
    assert {row["name"] for row in listed.json()} == {"Existing Contact", "Sarah Smith"}
    assert Contact.objects.get(pk=created.json()["id"]).organisation == patient.organisation


def test_contact_errors_are_400(api_client_for, rita_receptionist, patient):
    response = api_client_for(rita_receptionist).post(
        f"/api/v1/patients/{patient.id}/contacts/",
        {"name": "Sarah", "relationship": "Mother", "phone": "1", "authority": "boss"},
    )

    assert response.status_code == 400
    assert {"phone", "authority"} <= set(response.json())


def test_a_contact_is_changed_and_deleted(api_client_for, rita_receptionist, patient):
    contact = ContactFactory(patient=patient)
    api = api_client_for(rita_receptionist)

    changed = api.patch(f"/api/v1/patients/{patient.id}/contacts/{contact.id}/", {"relationship": "Son"})
    deleted = api.delete(f"/api/v1/patients/{patient.id}/contacts/{contact.id}/")

    assert changed.json()["relationship"] == "Son"
    assert deleted.status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_another_patients_contact_is_404_under_this_patient(api_client_for, rita_receptionist, patient, clinic):
    contact = ContactFactory(patient=PatientFactory(organisation=clinic))

    response = api_client_for(rita_receptionist).get(f"/api/v1/patients/{patient.id}/contacts/{contact.id}/")

    assert response.status_code == 404


# Care team -----------------------------------------------------------------------------------


def test_an_admin_adds_a_practitioner_to_the_care_team(api_client_for, adam_admin, alice_practitioner, patient):
    response = api_client_for(adam_admin).post(
        f"/api/v1/patients/{patient.id}/care-team/", {"practitioner": str(alice_practitioner.id)}
    )

    assert response.status_code == 201, response.json()
    assert response.json()["practitioner"] == str(alice_practitioner.id)
    assert CareTeamMember.objects.filter(patient=patient, practitioner=alice_practitioner).exists()


def test_everyone_sees_the_care_team(api_client_for, rita_receptionist, patient, alice_cares_for_patient):
    response = api_client_for(rita_receptionist).get(f"/api/v1/patients/{patient.id}/care-team/")

    assert response.status_code == 200
    assert [row["practitioner"] for row in response.json()] == [str(alice_cares_for_patient.practitioner_id)]


def test_a_practitioner_caring_for_the_patient_adds_a_colleague(
    api_client_for, alice_practitioner, paul_practitioner, patient, alice_cares_for_patient
):
    response = api_client_for(alice_practitioner).post(
        f"/api/v1/patients/{patient.id}/care-team/", {"practitioner": str(paul_practitioner.id)}
    )

    assert response.status_code == 201


def test_a_practitioner_cannot_add_themselves_to_a_stranger_s_care_team(api_client_for, paul_practitioner, patient):
    response = api_client_for(paul_practitioner).post(
        f"/api/v1/patients/{patient.id}/care-team/", {"practitioner": str(paul_practitioner.id)}
    )

    assert response.status_code == 403
    assert not CareTeamMember.objects.exists()


def test_a_receptionist_cannot_change_the_care_team(api_client_for, rita_receptionist, alice_practitioner, patient):
    response = api_client_for(rita_receptionist).post(
        f"/api/v1/patients/{patient.id}/care-team/", {"practitioner": str(alice_practitioner.id)}
    )

    assert response.status_code == 403


@pytest.mark.parametrize("who", ["rita_receptionist", "adam_admin", "oscar_other_practitioner"])
def test_only_our_practitioners_can_join_a_care_team(api_client_for, adam_admin, patient, request, who):
    response = api_client_for(adam_admin).post(
        f"/api/v1/patients/{patient.id}/care-team/", {"practitioner": str(request.getfixturevalue(who).id)}
    )

    assert response.status_code == 400
    assert "practitioner" in response.json()


def test_adding_a_member_twice_is_409(api_client_for, adam_admin, patient, alice_cares_for_patient):
    response = api_client_for(adam_admin).post(
        f"/api/v1/patients/{patient.id}/care-team/", {"practitioner": str(alice_cares_for_patient.practitioner_id)}
    )

    assert response.status_code == 409


def test_removing_a_care_team_member(api_client_for, adam_admin, alice_practitioner, patient, alice_cares_for_patient):
    api = api_client_for(adam_admin)

    removed = api.delete(f"/api/v1/patients/{patient.id}/care-team/{alice_practitioner.id}/")
    again = api.delete(f"/api/v1/patients/{patient.id}/care-team/{alice_practitioner.id}/")

    assert removed.status_code == 204
    assert again.status_code == 404
    assert not CareTeamMember.objects.exists()


def test_a_receptionist_cannot_remove_a_care_team_member(
    api_client_for, rita_receptionist, alice_practitioner, patient, alice_cares_for_patient
):
    response = api_client_for(rita_receptionist).delete(
        f"/api/v1/patients/{patient.id}/care-team/{alice_practitioner.id}/"
    )

    assert response.status_code == 403
    assert CareTeamMember.objects.exists()


# Notes ---------------------------------------------------------------------------------------


def test_alice_writes_signs_and_adds_to_a_note(api_client_for, alice_practitioner, patient, alice_cares_for_patient):
    api = api_client_for(alice_practitioner)

    created = api.post(f"/api/v1/patients/{patient.id}/notes/", {"text": "Knee pain."})
    note_id = created.json()["id"]
    edited = api.patch(f"/api/v1/notes/{note_id}/", {"text": "Right knee pain for 3 weeks."})
    signed = api.post(f"/api/v1/notes/{note_id}/sign/")
    addendum = api.post(f"/api/v1/notes/{note_id}/addenda/", {"text": "X-ray booked."})
    final = api.get(f"/api/v1/notes/{note_id}/")

    assert created.status_code == 201, created.json()
    assert created.json()["status"] == NoteStatus.DRAFT
    assert created.json()["author"] == str(alice_practitioner.id)
    assert edited.json()["text"] == "Right knee pain for 3 weeks."
    assert signed.status_code == 200
    assert signed.json()["status"] == NoteStatus.SIGNED
    assert signed.json()["signed_at"]
    assert addendum.status_code == 201
    assert final.json()["text"] == "Right knee pain for 3 weeks."
    assert [row["text"] for row in final.json()["addenda"]] == ["X-ray booked."]
    assert {
        "id",
        "patient",
        "appointment",
        "author",
        "text",
        "sections",
        "status",
        "signed_at",
        "addenda",
    } <= set(final.json())


def test_a_note_from_a_template_keeps_its_sections_in_order(
    api_client_for, alice_practitioner, patient, alice_cares_for_patient, soap_template, johns_appointment
):
    response = api_client_for(alice_practitioner).post(
        f"/api/v1/patients/{patient.id}/notes/",
        {
            "template": str(soap_template.id),
            "sections": {"Plan": "Exercises.", "Subjective": "Sore knee.", "Assessment": "PFPS."},
            "appointment": str(johns_appointment.id),
        },
    )

    assert response.status_code == 201, response.json()
    assert list(response.json()["sections"]) == ["Subjective", "Assessment", "Plan"]
    assert response.json()["appointment"] == str(johns_appointment.id)
    assert ClinicalNote.objects.get().appointment == johns_appointment


@pytest.mark.parametrize("other", ["marys_appointment", "foreign_appointment", "unknown", "not-a-uuid"])
def test_a_note_is_only_for_one_of_its_patients_appointments(
    api_client_for, request, alice_practitioner, patient, alice_cares_for_patient, other
):
    appointment_id = {
        "unknown": "8c5b1d3e-58a8-4d7e-8f5f-6c0f3c1c7a11",
        "not-a-uuid": "tuesday",
    }.get(other) or str(request.getfixturevalue(other).id)

    response = api_client_for(alice_practitioner).post(
        f"/api/v1/patients/{patient.id}/notes/", {"text": "Seen.", "appointment": appointment_id}
    )

    assert response.status_code == 400
    assert list(response.json()) == ["appointment"]
    assert "FOREIGN-CANARY" not in response.content.decode()
    assert not ClinicalNote.objects.exists()


def test_a_draft_is_linked_and_unlinked_by_patch(
    api_client_for, alice_practitioner, patient, alice_cares_for_patient, johns_appointment, marys_appointment
):
    api = api_client_for(alice_practitioner)
    note = ClinicalNoteFactory(patient=patient, author=alice_practitioner)
    url = f"/api/v1/notes/{note.id}/"

    linked = api.patch(url, {"appointment": str(johns_appointment.id)})
    text_only = api.patch(url, {"text": "Reviewed again."})
    wrong = api.patch(url, {"appointment": str(marys_appointment.id)})
    unlinked = api.patch(url, {"appointment": None})

    assert (linked.status_code, linked.json()["appointment"]) == (200, str(johns_appointment.id))
    assert text_only.json()["appointment"] == str(johns_appointment.id)
    assert wrong.status_code == 400
    assert wrong.json() == {"appointment": ["Choose one of this patient's appointments."]}
    assert (unlinked.status_code, unlinked.json()["appointment"]) == (200, None)


def test_a_signed_notes_appointment_cannot_be_changed(
    api_client_for, alice_practitioner, patient, alice_cares_for_patient, johns_appointment
):
    note = ClinicalNoteFactory(patient=patient, author=alice_practitioner, signed=True)

    response = api_client_for(alice_practitioner).patch(
        f"/api/v1/notes/{note.id}/", {"appointment": str(johns_appointment.id)}
    )

    assert response.status_code == 409
    note.refresh_from_db()
    assert note.appointment_id is None


def test_sections_must_be_the_templates_headings(
    api_client_for, alice_practitioner, patient, alice_cares_for_patient, soap_template
):
    response = api_client_for(alice_practitioner).post(
        f"/api/v1/patients/{patient.id}/notes/",
        {"template": str(soap_template.id), "sections": {"Gossip": "No."}},
    )

    assert response.status_code == 400
    assert "sections" in response.json()


def test_editing_a_signed_note_is_409_and_changes_nothing(
    api_client_for, alice_practitioner, patient, alice_cares_for_patient
):
    note = ClinicalNoteFactory(patient=patient, author=alice_practitioner, text="Original.", signed=True)

    response = api_client_for(alice_practitioner).patch(f"/api/v1/notes/{note.id}/", {"text": "Rewritten."})

    assert response.status_code == 409
    note.refresh_from_db()
    assert note.text == "Original."


def test_signing_twice_is_409(api_client_for, alice_practitioner, patient, alice_cares_for_patient):
    note = ClinicalNoteFactory(patient=patient, author=alice_practitioner, signed=True)

    assert api_client_for(alice_practitioner).post(f"/api/v1/notes/{note.id}/sign/").status_code == 409


def test_an_addendum_to_a_draft_is_409(api_client_for, alice_practitioner, patient, alice_cares_for_patient):
    note = ClinicalNoteFactory(patient=patient, author=alice_practitioner)

    response = api_client_for(alice_practitioner).post(f"/api/v1/notes/{note.id}/addenda/", {"text": "More."})

    assert response.status_code == 409
    assert not NoteAddendum.objects.exists()


def test_an_empty_addendum_is_400(api_client_for, alice_practitioner, patient, alice_cares_for_patient):
    note = ClinicalNoteFactory(patient=patient, author=alice_practitioner, signed=True)

    response = api_client_for(alice_practitioner).post(f"/api/v1/notes/{note.id}/addenda/", {"text": ""})

    assert response.status_code == 400


def test_a_colleague_caring_for_the_patient_reads_signed_notes_but_not_drafts(
    api_client_for, alice_practitioner, paul_practitioner, patient, alice_cares_for_patient
):
    CareTeamMemberFactory(patient=patient, practitioner=paul_practitioner)
    signed = ClinicalNoteFactory(patient=patient, author=alice_practitioner, signed=True)
    draft = ClinicalNoteFactory(patient=patient, author=alice_practitioner)
    api = api_client_for(paul_practitioner)

    listed = api.get(f"/api/v1/patients/{patient.id}/notes/")

    assert [row["id"] for row in listed.json()["results"]] == [str(signed.id)]
    assert api.get(f"/api/v1/notes/{signed.id}/").status_code == 200
    assert api.get(f"/api/v1/notes/{draft.id}/").status_code == 403
    assert api.patch(f"/api/v1/notes/{draft.id}/", {"text": "Mine now."}).status_code == 403


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/patients/{patient}/notes/"),
        ("post", "/api/v1/patients/{patient}/notes/"),
        ("get", "/api/v1/notes/{note}/"),
        ("patch", "/api/v1/notes/{note}/"),
        ("post", "/api/v1/notes/{note}/sign/"),
        ("post", "/api/v1/notes/{note}/addenda/"),
    ],
)
@pytest.mark.parametrize("who", ["rita_receptionist", "adam_admin", "paul_practitioner"])
def test_no_one_but_a_caring_practitioner_reaches_notes(
    api_client_for, request, patient, alice_practitioner, alice_cares_for_patient, method, path, who
):
    note = ClinicalNoteFactory(patient=patient, author=alice_practitioner, text="Private.", signed=True)
    url = path.format(patient=patient.id, note=note.id)

    response = getattr(api_client_for(request.getfixturevalue(who)), method)(url, {"text": "x"})

    assert response.status_code == 403
    assert "Private." not in response.content.decode()
    assert ClinicalNote.objects.count() == 1
    assert not NoteAddendum.objects.exists()


def test_another_organisations_note_is_404(api_client_for, alice_practitioner, other_clinic):
    note = ClinicalNoteFactory(patient=PatientFactory(organisation=other_clinic), signed=True)

    assert api_client_for(alice_practitioner).get(f"/api/v1/notes/{note.id}/").status_code == 404
