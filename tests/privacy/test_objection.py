"""The patient's objection to NHS-number sharing: recorded after the explanation, withdrawn later,
history kept, a marker on the patient's pages; care itself is unaffected."""

import pytest
from django.urls import reverse

from core.exceptions import DomainError
from privacy.explanations import OBJECTION_EXPLANATION
from privacy.models import NhsNumberObjection
from privacy.selectors import has_active_nhs_number_objection
from privacy.services import nhs_number_objection_record, nhs_number_objection_withdraw

MARKER = "Objects to NHS-number sharing"


def api_url(patient):
    return f"/api/v1/patients/{patient.pk}/nhs-number-objection/"


def test_record_then_withdraw_keeps_the_history(patient, rita_receptionist, adam_admin):
    nhs_number_objection_record(patient=patient, recorded_by=rita_receptionist, method="verbal", explanation_given=True)
    assert has_active_nhs_number_objection(patient)

    nhs_number_objection_withdraw(patient=patient, withdrawn_by=adam_admin, method="written", note="Letter")
    assert not has_active_nhs_number_objection(patient)

    nhs_number_objection_record(patient=patient, recorded_by=adam_admin, method="written", explanation_given=True)
    assert NhsNumberObjection.objects.filter(patient=patient).count() == 2
    assert has_active_nhs_number_objection(patient)


def test_an_objection_needs_the_explanation_first(patient, rita_receptionist):
    with pytest.raises(Exception, match="Explain"):
        nhs_number_objection_record(
            patient=patient, recorded_by=rita_receptionist, method="verbal", explanation_given=False
        )
    assert not NhsNumberObjection.objects.exists()


def test_recording_twice_is_a_conflict(objecting_patient, rita_receptionist):
    with pytest.raises(DomainError) as raised:
        nhs_number_objection_record(
            patient=objecting_patient, recorded_by=rita_receptionist, method="verbal", explanation_given=True
        )
    assert raised.value.conflict


def test_withdrawing_nothing_is_a_conflict(patient, rita_receptionist):
    with pytest.raises(DomainError):
        nhs_number_objection_withdraw(patient=patient, withdrawn_by=rita_receptionist, method="verbal")


def test_the_api_records_shows_and_withdraws(api_client_for, rita_receptionist, patient):
    api = api_client_for(rita_receptionist)

    state = api.get(api_url(patient)).json()
    assert state["objected"] is False
    assert state["explanation"] == list(OBJECTION_EXPLANATION)

    refused = api.post(api_url(patient), {"how": "verbal", "explanation_given": False})
    assert refused.status_code == 400

    created = api.post(api_url(patient), {"how": "verbal", "explanation_given": True, "note": "At reception"})
    assert created.status_code == 201
    assert created.json()["active"] is True
    assert api.post(api_url(patient), {"how": "verbal", "explanation_given": True}).status_code == 409

    withdrawn = api.delete(api_url(patient), {"how": "written"}, format="json")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["active"] is False
    assert withdrawn.json()["withdrawal_how"] == "written"

    state = api.get(api_url(patient)).json()
    assert state["objected"] is False
    assert len(state["history"]) == 1
    assert api.delete(api_url(patient), {"how": "written"}, format="json").status_code == 409


def test_another_organisation_gets_404(api_client_for, olga_other, objecting_patient):
    api = api_client_for(olga_other)

    assert api.get(api_url(objecting_patient)).status_code == 404
    assert api.delete(api_url(objecting_patient), {"how": "written"}, format="json").status_code == 404
    assert has_active_nhs_number_objection(objecting_patient)


def test_the_page_explains_before_recording(client_for, rita_receptionist, patient):
    client = client_for(rita_receptionist)
    url = reverse("privacy:objection", kwargs={"patient_pk": patient.pk})

    page = client.get(url).content.decode()
    assert OBJECTION_EXPLANATION[0] in page
    assert page.index(OBJECTION_EXPLANATION[0]) < page.index('name="explanation_given"')
    assert "separate from the National Data Opt-out" in page

    unexplained = client.post(url, {"method": "verbal"})
    assert unexplained.status_code == 400
    assert not NhsNumberObjection.objects.exists()

    assert client.post(url, {"method": "verbal", "explanation_given": "on"}).status_code == 302
    assert has_active_nhs_number_objection(patient)

    withdraw = reverse("privacy:objection-withdraw", kwargs={"patient_pk": patient.pk})
    assert client.post(withdraw, {"method": "written"}).status_code == 302
    assert not has_active_nhs_number_objection(patient)


def test_staff_see_the_marker_on_the_patients_pages(
    client_for, rita_receptionist, alice_practitioner, objecting_patient
):
    for staff in (rita_receptionist, alice_practitioner):
        client = client_for(staff)
        for url in (
            reverse("patients:detail", kwargs={"pk": objecting_patient.pk}),
            reverse("patients:edit", kwargs={"pk": objecting_patient.pk}),
        ):
            assert MARKER in client.get(url).content.decode(), url


def test_no_marker_without_an_objection(client_for, rita_receptionist, patient):
    page = client_for(rita_receptionist).get(reverse("patients:detail", kwargs={"pk": patient.pk}))

    assert MARKER not in page.content.decode()


def test_care_is_unaffected(client_for, alice_practitioner, objecting_patient, signed_note):
    """The record, notes and NHS number still show inside the clinic."""
    page = client_for(alice_practitioner).get(reverse("patients:detail", kwargs={"pk": objecting_patient.pk}))

    body = page.content.decode()
    assert page.status_code == 200
    assert "943 476 5919" in body
    assert "CANARY-NOTE" in body
