"""Subject access: everything held about John, as JSON (API and download) and a printable page;
for admins (the one place an admin sees note content) and John's own practitioners; audited,
and the access log is in it."""

import json

import pytest
from django.urls import reverse

from privacy.models import AuditEntry
from privacy.services import consent_record, disclosure_request, nhs_number_objection_record
from tests.diary.factories import AppointmentFactory, ServiceFactory
from tests.factories import LocationFactory
from tests.privacy.conftest import NOTE_CANARY


@pytest.fixture
def full_record(patient, alice_practitioner, alice_cares_for_patient, signed_note, mother_with_lpa, rita_receptionist):
    AppointmentFactory(
        organisation=patient.organisation,
        patient=patient,
        practitioner=alice_practitioner,
        service=ServiceFactory(organisation=patient.organisation, name="Back pain review"),
        location=LocationFactory(organisation=patient.organisation, name="Bath High Street"),
        notes="Ground floor please",
    )
    consent_record(
        patient=patient,
        purpose="email_communications",
        decision="given",
        method="verbal",
        recorded_by=rita_receptionist,
    )
    nhs_number_objection_record(
        patient=patient, recorded_by=rita_receptionist, method="written", explanation_given=True
    )
    disclosure_request(
        patient=patient,
        requested_by=alice_practitioner,
        recipient_category="healthcare_professional",
        recipient_name="Dr Gee",
        purpose="direct_care",
        data_categories=["demographics"],
        release_now=True,
    )
    return patient


def export_url(patient):
    return f"/api/v1/patients/{patient.pk}/export/"


@pytest.mark.parametrize("who", ["adam_admin", "alice_practitioner"])
def test_the_export_holds_everything(api_client_for, request, full_record, who):
    staff = request.getfixturevalue(who)
    client = api_client_for(staff)
    client.get(f"/api/v1/patients/{full_record.pk}/")  # a look at the record, for the access log

    response = client.get(export_url(full_record))

    assert response.status_code == 200
    export = response.json()
    assert export["demographics"]["family_name"] == "Smith"
    assert export["nhs_number"]["nhs_number"] == "9434765919"  # the patient's own number, to the patient
    assert export["contacts"][0]["name"] == "Mary Smith"
    assert export["appointments"][0]["service"] == "Back pain review"
    assert export["appointments"][0]["booking_notes"] == "Ground floor please"
    assert NOTE_CANARY in json.dumps(export["clinical_notes"])
    assert export["consents"][0]["purpose"] == "email_communications"
    assert export["nhs_number_objections"][0]["withdrawn_at"] is None
    assert export["disclosures"][0]["recipient_name"] == "Dr Gee"
    actions = [(entry["who"], entry["action"]) for entry in export["access_log"]]
    assert (staff.full_name, "view") in actions
    assert (staff.full_name, "export") == actions[-1]  # the export is in its own log


def test_the_export_is_audited_as_a_subject_access_request(api_client_for, adam_admin, patient):
    api_client_for(adam_admin).get(export_url(patient))

    entry = AuditEntry.objects.get(action="export")
    assert (entry.actor_id, entry.patient_id, entry.purpose) == (adam_admin.pk, patient.pk, "subject_access")


@pytest.mark.parametrize("who", ["rita_receptionist", "paul_practitioner"])
def test_receptionists_and_other_practitioners_cannot_export(api_client_for, client_for, request, full_record, who):
    staff = request.getfixturevalue(who)

    assert api_client_for(staff).get(export_url(full_record)).status_code == 403
    page = client_for(staff).get(reverse("privacy:subject-access", kwargs={"patient_pk": full_record.pk}))
    assert page.status_code == 403
    assert not AuditEntry.objects.filter(action="export", purpose="subject_access").exists()


def test_break_glass_is_not_enough_to_export(api_client_for, paul_practitioner, patient):
    from privacy.services import break_glass_grant

    break_glass_grant(patient=patient, practitioner=paul_practitioner, reason="Emergency: collapsed at reception")

    assert api_client_for(paul_practitioner).get(export_url(patient)).status_code == 403


def test_another_organisation_gets_404(api_client_for, olga_other, patient):
    assert api_client_for(olga_other).get(export_url(patient)).status_code == 404


def test_the_printable_page_and_download(client_for, adam_admin, full_record):
    client = client_for(adam_admin)

    page = client.get(reverse("privacy:subject-access", kwargs={"patient_pk": full_record.pk}))
    body = page.content.decode()
    assert page.status_code == 200
    assert NOTE_CANARY in body  # the one place Adam sees note content
    assert "Who looked at your record and why" in body
    assert "Back pain review" in body

    download = client.get(reverse("privacy:subject-access-json", kwargs={"patient_pk": full_record.pk}))
    assert download["Content-Disposition"] == f'attachment; filename="subject-access-{full_record.pk}.json"'
    assert json.loads(download.content)["demographics"]["given_name"] == "John"
    assert AuditEntry.objects.filter(action="export", purpose="subject_access").count() == 2
