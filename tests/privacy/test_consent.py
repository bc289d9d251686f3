"""Consent: records are never overwritten, the latest decides, expired consent counts as none;
the API and the page; organisation-defined purposes."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from privacy.consent import consent_states, has_consent
from privacy.models import Consent
from privacy.services import consent_record
from tests.privacy.factories import ConsentFactory, CustomConsentPurposeFactory


def record(patient, staff, decision, purpose="email_communications", **kwargs):
    return consent_record(
        patient=patient, purpose=purpose, decision=decision, method="verbal", recorded_by=staff, **kwargs
    )


def test_no_record_means_no_consent(patient):
    assert not has_consent(patient, "email_communications")


def test_the_latest_decision_counts_and_the_history_stays(patient, rita_receptionist):
    record(patient, rita_receptionist, "given")
    assert has_consent(patient, "email_communications")

    record(patient, rita_receptionist, "withdrawn")
    assert not has_consent(patient, "email_communications")

    record(patient, rita_receptionist, "given")
    assert has_consent(patient, "email_communications")
    assert list(Consent.objects.filter(patient=patient).values_list("decision", flat=True).order_by("recorded_at")) == [
        "given",
        "withdrawn",
        "given",
    ]


def test_consent_is_per_purpose(patient, rita_receptionist):
    record(patient, rita_receptionist, "given", purpose="sms_communications")

    assert has_consent(patient, "sms_communications")
    assert not has_consent(patient, "email_communications")


def test_expired_consent_counts_as_none(patient, rita_receptionist):
    ConsentFactory(
        patient=patient,
        recorded_by=rita_receptionist,
        recorded_at=timezone.now() - timedelta(days=40),
        expires_at=timezone.now() - timedelta(days=10),
    )

    assert not has_consent(patient, "email_communications")
    state = next(state for state in consent_states(patient) if state.purpose == "email_communications")
    assert state.summary == "Expired"
    assert not state.effective


def test_unexpired_consent_counts(patient, rita_receptionist):
    record(patient, rita_receptionist, "given", expires_at=timezone.now() + timedelta(days=1))

    assert has_consent(patient, "email_communications")


def test_only_given_consent_has_an_expiry(patient, rita_receptionist):
    with pytest.raises(ValidationError):
        record(patient, rita_receptionist, "refused", expires_at=timezone.now() + timedelta(days=1))


def test_an_unknown_purpose_is_refused(patient, rita_receptionist):
    with pytest.raises(ValidationError):
        record(patient, rita_receptionist, "given", purpose="telepathy")


def test_an_organisations_own_purpose_can_be_consented_to(patient, rita_receptionist, clinic, other_clinic):
    CustomConsentPurposeFactory(organisation=clinic, code="newsletter", label="Newsletter")
    record(patient, rita_receptionist, "given", purpose="newsletter")

    assert has_consent(patient, "newsletter")
    CustomConsentPurposeFactory(organisation=other_clinic, code="raffle", label="Raffle")
    with pytest.raises(ValidationError):
        record(patient, rita_receptionist, "given", purpose="raffle")


def test_a_custom_purpose_cannot_take_a_built_in_code(clinic):
    with pytest.raises(ValidationError):
        CustomConsentPurposeFactory.build(organisation=clinic, code="research").full_clean()


def test_the_api_shows_current_state_and_history(api_client_for, rita_receptionist, patient):
    api = api_client_for(rita_receptionist)

    response = api.post(
        f"/api/v1/patients/{patient.pk}/consents/",
        {"purpose": "email_communications", "decision": "given", "how": "online_form", "evidence": "Form 12"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["recorded_by"] == str(rita_receptionist.pk)

    body = api.get(f"/api/v1/patients/{patient.pk}/consents/").json()
    email = next(state for state in body["current"] if state["purpose"] == "email_communications")
    assert email["in_force"] is True
    assert email["state"] == "Given"
    assert [row["how"] for row in body["history"]] == ["online_form"]


def test_the_api_refuses_bad_input(api_client_for, rita_receptionist, patient):
    api = api_client_for(rita_receptionist)

    assert api.post(f"/api/v1/patients/{patient.pk}/consents/", {"purpose": "telepathy"}).status_code == 400
    assert (
        api.post(
            f"/api/v1/patients/{patient.pk}/consents/",
            {"purpose": "research", "decision": "refused", "how": "verbal", "expires_at": "2099-01-01T00:00:00Z"},
        ).status_code
        == 400
    )


def test_another_organisation_cannot_see_or_record_consent(api_client_for, olga_other, patient):
    api = api_client_for(olga_other)

    assert api.get(f"/api/v1/patients/{patient.pk}/consents/").status_code == 404
    response = api.post(
        f"/api/v1/patients/{patient.pk}/consents/", {"purpose": "research", "decision": "given", "how": "verbal"}
    )
    assert response.status_code == 404
    assert not Consent.objects.exists()


def test_the_page_records_consent(client_for, rita_receptionist, patient):
    client = client_for(rita_receptionist)
    url = reverse("privacy:consents", kwargs={"patient_pk": patient.pk})

    assert client.get(url).status_code == 200
    response = client.post(
        url, {"purpose": "sms_communications", "decision": "given", "method": "written", "valid_until": "2099-12-31"}
    )

    assert response.status_code == 302
    consent = Consent.objects.get(patient=patient)
    assert consent.purpose == "sms_communications"
    assert timezone.localtime(consent.expires_at).date().isoformat() == "2100-01-01"
    assert has_consent(patient, "sms_communications")


def test_the_page_refuses_an_end_date_on_a_refusal(client_for, rita_receptionist, patient):
    response = client_for(rita_receptionist).post(
        reverse("privacy:consents", kwargs={"patient_pk": patient.pk}),
        {"purpose": "sms_communications", "decision": "refused", "method": "written", "valid_until": "2099-12-31"},
    )

    assert response.status_code == 400
    assert not Consent.objects.exists()
