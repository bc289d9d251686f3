"""Every audited action leaves its entry: record views and note reads (pages, API, admin), every
create/change/delete of patient, contact, care team, note, consent, objection and disclosure,
exports and break-glass. Entries never carry note content."""

import pytest
from django.urls import reverse

from privacy.audit import verify_chain
from privacy.models import AuditEntry
from tests.patients.factories import ContactFactory
from tests.privacy.conftest import NOTE_CANARY


def latest():
    return AuditEntry.objects.order_by("-id").first()


def entries_since(mark):
    return list(AuditEntry.objects.filter(id__gt=mark).order_by("id"))


def mark():
    last = latest()
    return last.id if last else 0


@pytest.fixture
def alice(client_for, alice_practitioner, alice_cares_for_patient):
    return client_for(alice_practitioner)


@pytest.fixture
def alice_api(api_client_for, alice_practitioner, alice_cares_for_patient):
    return api_client_for(alice_practitioner)


def test_viewing_a_record_without_notes(client_for, rita_receptionist, patient):
    before = mark()
    client_for(rita_receptionist).get(reverse("patients:detail", kwargs={"pk": patient.pk}), REMOTE_ADDR="192.0.2.1")

    [entry] = entries_since(before)
    assert (entry.action, entry.object_type, entry.actor_id, entry.ip_address) == (
        "view",
        "patients.patient",
        rita_receptionist.pk,
        "192.0.2.1",
    )


def test_reading_notes_on_the_page_is_one_entry(alice, patient, signed_note):
    before = mark()
    alice.get(reverse("patients:detail", kwargs={"pk": patient.pk}))

    [entry] = entries_since(before)
    assert (entry.action, entry.details) == ("read_notes", {"notes": 1})


@pytest.mark.parametrize(
    ("path", "action", "object_type"),
    [
        ("/api/v1/patients/{patient}/", "view", "patients.patient"),
        ("/api/v1/patients/{patient}/notes/", "read_notes", "patients.patient"),
        ("/api/v1/notes/{note}/", "read_notes", "patients.clinicalnote"),
        ("/api/v1/patients/{patient}/export/", "export", "patients.patient"),
    ],
)
def test_api_reads(alice_api, patient, signed_note, path, action, object_type):
    before = mark()
    response = alice_api.get(path.format(patient=patient.pk, note=signed_note.pk))

    assert response.status_code == 200
    [entry] = entries_since(before)
    assert (entry.action, entry.object_type, entry.patient_id) == (action, object_type, patient.pk)


def test_the_note_edit_page_is_a_read(alice, alice_practitioner, patient):
    from tests.patients.factories import ClinicalNoteFactory

    draft = ClinicalNoteFactory(patient=patient, author=alice_practitioner)
    before = mark()
    alice.get(reverse("patients:note-edit", kwargs={"patient_pk": patient.pk, "pk": draft.pk}))

    [entry] = entries_since(before)
    assert (entry.action, entry.object_id) == ("read_notes", str(draft.pk))


def test_the_edit_page_and_admin_change_page_are_views(client_for, adam_admin, patient):
    client = client_for(adam_admin)
    before = mark()
    client.get(reverse("patients:edit", kwargs={"pk": patient.pk}))
    client.get(reverse("admin:patients_patient_change", args=[patient.pk]))

    assert [entry.action for entry in entries_since(before)] == ["view", "view"]


def test_patient_writes(alice, alice_api, alice_practitioner, patient, clinic):
    before = mark()
    created = alice_api.post(
        "/api/v1/patients/", {"given_name": "Ann", "family_name": "Other", "date_of_birth": "1990-01-01"}
    )
    alice_api.patch(f"/api/v1/patients/{patient.pk}/", {"town": "Bristol", "phone": ""})
    alice.post(reverse("patients:archive", kwargs={"pk": patient.pk}))

    entries = entries_since(before)
    assert [(entry.action, entry.object_type) for entry in entries] == [
        ("create", "patients.patient"),
        ("create", "patients.careteammember"),  # Alice registered Ann, so she joins Ann's team
        ("change", "patients.patient"),
        ("change", "patients.patient"),
    ]
    assert entries[0].object_id == created.json()["id"]
    assert entries[2].details == {"fields": ["phone", "town"]}
    assert entries[3].details == {"fields": ["archived"]}


def test_contact_and_care_team_writes(alice_api, adam_admin, api_client_for, paul_practitioner, patient):
    before = mark()
    contact = alice_api.post(
        f"/api/v1/patients/{patient.pk}/contacts/", {"name": "Mary", "relationship": "Mother"}
    ).json()
    alice_api.patch(f"/api/v1/patients/{patient.pk}/contacts/{contact['id']}/", {"relationship": "Mum"})
    alice_api.delete(f"/api/v1/patients/{patient.pk}/contacts/{contact['id']}/")
    admin = api_client_for(adam_admin)
    admin.post(f"/api/v1/patients/{patient.pk}/care-team/", {"practitioner": str(paul_practitioner.pk)})
    admin.delete(f"/api/v1/patients/{patient.pk}/care-team/{paul_practitioner.pk}/")

    assert [(entry.action, entry.object_type) for entry in entries_since(before)] == [
        ("create", "patients.contact"),
        ("change", "patients.contact"),
        ("delete", "patients.contact"),
        ("create", "patients.careteammember"),
        ("delete", "patients.careteammember"),
    ]
    assert all(entry.patient_id == patient.pk for entry in entries_since(before))


def test_note_writes(alice_api, patient):
    before = mark()
    note = alice_api.post(f"/api/v1/patients/{patient.pk}/notes/", {"text": f"Draft {NOTE_CANARY}"}).json()
    alice_api.patch(f"/api/v1/notes/{note['id']}/", {"text": f"Better {NOTE_CANARY}"})
    alice_api.post(f"/api/v1/notes/{note['id']}/sign/")
    alice_api.post(f"/api/v1/notes/{note['id']}/addenda/", {"text": f"Also {NOTE_CANARY}"})

    entries = entries_since(before)
    assert [(entry.action, entry.object_type) for entry in entries] == [
        ("create", "patients.clinicalnote"),
        ("change", "patients.clinicalnote"),
        ("change", "patients.clinicalnote"),
        ("create", "patients.noteaddendum"),
    ]
    assert all(entry.patient_id == patient.pk for entry in entries)


def test_privacy_writes(api_client_for, alice_api, adam_admin, patient):
    admin = api_client_for(adam_admin)
    before = mark()
    admin.post(
        f"/api/v1/patients/{patient.pk}/consents/", {"purpose": "research", "decision": "given", "how": "verbal"}
    )
    admin.post(f"/api/v1/patients/{patient.pk}/nhs-number-objection/", {"how": "verbal", "explanation_given": True})
    admin.delete(f"/api/v1/patients/{patient.pk}/nhs-number-objection/", {"how": "verbal"}, format="json")
    alice_api.post(
        "/api/v1/disclosures/",
        {
            "patient": str(patient.pk),
            "recipient_category": "healthcare_professional",
            "recipient_name": "Dr Gee",
            "purpose": "direct_care",
            "data_categories": ["demographics"],
        },
        format="json",
    )

    assert [(entry.action, entry.object_type) for entry in entries_since(before)] == [
        ("create", "privacy.consent"),
        ("create", "privacy.nhsnumberobjection"),
        ("change", "privacy.nhsnumberobjection"),
        ("create", "privacy.disclosure"),
        ("export", "privacy.disclosure"),
    ]


def test_no_entry_carries_note_content_and_the_chain_holds(alice, alice_api, patient, signed_note, clinic):
    alice.get(reverse("patients:detail", kwargs={"pk": patient.pk}))
    alice_api.post(f"/api/v1/patients/{patient.pk}/notes/", {"text": f"Draft {NOTE_CANARY}"})
    alice_api.get(f"/api/v1/patients/{patient.pk}/export/")

    for entry in AuditEntry.objects.all():
        assert NOTE_CANARY not in f"{entry.details} {entry.reason}"
    assert verify_chain(clinic).intact


def test_a_failed_write_leaves_no_entry(alice_api, patient):
    ContactFactory(patient=patient)
    before = mark()

    response = alice_api.post(f"/api/v1/patients/{patient.pk}/notes/", {"template": "not-a-uuid"})

    assert response.status_code == 400
    assert entries_since(before) == []
