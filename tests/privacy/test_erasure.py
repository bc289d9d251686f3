"""Erasure requests are recorded as received (nothing is erased here), audited, shown to the
data-protection lead and included in the subject access export."""

from django.urls import reverse

from privacy.models import AuditEntry, ErasureRequest
from tests.privacy.factories import ErasureRequestFactory


def test_rita_records_a_request_and_nothing_is_erased(client_for, rita_receptionist, patient):
    client = client_for(rita_receptionist)
    url = reverse("privacy:erasure-requests", kwargs={"patient_pk": patient.pk})

    assert client.post(url, {"method": "written"}).status_code == 400
    response = client.post(url, {"method": "written", "details": "Delete my records from 2019."})

    assert response.status_code == 302
    request = ErasureRequest.objects.get()
    assert (request.recorded_by, request.details) == (rita_receptionist, "Delete my records from 2019.")
    patient.refresh_from_db()
    assert AuditEntry.objects.filter(action="create", object_type="privacy.erasurerequest").exists()
    assert "Delete my records from 2019." in client.get(url).content.decode()


def test_adam_sees_them_on_the_privacy_page(client_for, adam_admin, patient, foreign_patient):
    ErasureRequestFactory(patient=patient, details="Please erase my email address")
    ErasureRequestFactory(patient=foreign_patient, details="FOREIGN-CANARY")

    page = client_for(adam_admin).get(reverse("privacy:home")).content.decode()

    assert "Please erase my email address" in page
    assert "FOREIGN-CANARY" not in page


def test_another_organisation_cannot_record_one(client_for, olga_other, patient):
    url = reverse("privacy:erasure-requests", kwargs={"patient_pk": patient.pk})

    assert client_for(olga_other).post(url, {"method": "written", "details": "x"}).status_code == 404
    assert not ErasureRequest.objects.exists()


def test_the_subject_access_export_lists_them(api_client_for, adam_admin, patient):
    ErasureRequestFactory(patient=patient, details="Please erase my email address")

    export = api_client_for(adam_admin).get(f"/api/v1/patients/{patient.pk}/export/").json()

    assert export["erasure_requests"][0]["details"] == "Please erase my email address"
