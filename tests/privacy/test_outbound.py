"""The one way out (privacy.outbound): canary tests over every destination and every outbound path
that exists. An objecting patient's NHS number never leaves, in any form; clinical content goes
only to healthcare professionals and the patient; integrations never get either."""

import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from core.exceptions import DomainError
from integrations.google.client import EventBody
from privacy.choices import RecipientCategory
from privacy.outbound import (
    WITHHELD,
    Destination,
    LinkageRefused,
    OutboundLeak,
    linkage_nhs_number,
    release,
    strip_nhs_number_if_objected,
)
from tests.privacy.conftest import NHS_NUMBER, NOTE_CANARY, assert_no_nhs_number


def canary_payload():
    """The NHS number everywhere it could hide, and clinical content."""
    return {
        "nhs_number": NHS_NUMBER,
        "patient": {"name": "John Smith", "nhsNumber": NHS_NUMBER, "ids": [NHS_NUMBER, "other"]},
        "summary": "Referral for John Smith (NHS 943 476 5919)",
        "description": "Ref 943-476-5919, see attached",
        "as_number": int(NHS_NUMBER),
        "notes": [{"text": f"Note {NOTE_CANARY}"}],
        "clinical_summary": {"plan": NOTE_CANARY},
        "appointments": [{"start": "2030-01-07T10:00:00+00:00", "booking_notes": "Ground floor"}],
    }


ALL_DESTINATIONS = [
    *(Destination.disclosure(category) for category in RecipientCategory.values),
    Destination.third_party_export(),
    *(Destination.integration(kind) for kind in sorted(Destination.INTEGRATIONS)),
]


@pytest.mark.parametrize("destination", ALL_DESTINATIONS, ids=lambda d: f"{d.kind}-{d.recipient_category}")
def test_an_objecting_patients_nhs_number_never_leaves(objecting_patient, destination):
    released = release(patient=objecting_patient, destination=destination, payload=canary_payload())

    text = json.dumps(released)
    assert_no_nhs_number(text)
    assert "nhs_number" not in released and "nhsNumber" not in released["patient"]
    assert released["summary"] == f"Referral for John Smith (NHS {WITHHELD})"
    assert released["as_number"] == WITHHELD
    assert released["appointments"] == canary_payload()["appointments"]  # the rest is untouched


def test_without_an_objection_disclosures_and_exports_keep_it(patient):
    for destination in (Destination.disclosure("healthcare_professional"), Destination.third_party_export()):
        released = release(patient=patient, destination=destination, payload=canary_payload())
        assert released["nhs_number"] == NHS_NUMBER


@pytest.mark.parametrize("kind", sorted(Destination.INTEGRATIONS))
def test_integrations_never_get_the_nhs_number_or_clinical_content(patient, kind):
    released = release(patient=patient, destination=Destination.integration(kind), payload=canary_payload())

    assert_no_nhs_number(json.dumps(released))
    assert NOTE_CANARY not in json.dumps(released)


def test_a_google_calendar_event_body_goes_out_minimised(objecting_patient):
    body = EventBody(
        summary="Appointment 943 476 5919",
        start=datetime(2030, 1, 7, 10, tzinfo=UTC),
        end=datetime(2030, 1, 7, 10, 30, tzinfo=UTC),
        description="NHS 9434765919",
        private_properties={"clinicApptId": "42"},
    ).to_api("c0ffee42")

    released = release(
        patient=objecting_patient, destination=Destination.integration(Destination.GOOGLE_CALENDAR), payload=body
    )

    assert_no_nhs_number(json.dumps(released))
    assert released["id"] == "c0ffee42" and released["extendedProperties"] == body["extendedProperties"]


@pytest.mark.parametrize("category", [c for c in RecipientCategory.values if c != "healthcare_professional"])
def test_clinical_content_never_goes_to_a_non_clinical_category(patient, category):
    released = release(patient=patient, destination=Destination.disclosure(category), payload=canary_payload())

    assert NOTE_CANARY not in json.dumps(released)
    assert "notes" not in released and "clinical_summary" not in released


def test_healthcare_professionals_and_the_patient_may_receive_clinical_content(objecting_patient):
    to_gp = release(
        patient=objecting_patient,
        destination=Destination.disclosure("healthcare_professional"),
        payload=canary_payload(),
    )
    to_patient = release(patient=objecting_patient, destination=Destination.subject_access(), payload=canary_payload())

    assert NOTE_CANARY in json.dumps(to_gp)
    assert to_patient["nhs_number"] == NHS_NUMBER  # their own number, to them
    assert NOTE_CANARY in json.dumps(to_patient)


def test_linkage_by_nhs_number_is_refused_for_an_objecting_patient(objecting_patient, patient):
    with pytest.raises(LinkageRefused):
        linkage_nhs_number(objecting_patient)
    with pytest.raises(DomainError):
        release(patient=objecting_patient, destination=Destination.social_care_linkage(), payload={"x": 1})


def test_linkage_works_without_an_objection(patient):
    assert linkage_nhs_number(patient) == NHS_NUMBER


def test_a_number_it_cannot_scrub_stops_everything(objecting_patient):
    with pytest.raises(OutboundLeak):
        release(
            patient=objecting_patient,
            destination=Destination.third_party_export(),
            payload={"weird": float(NHS_NUMBER)},
        )


def test_the_named_helper_is_the_same_gate(objecting_patient):
    assert "nhs_number" not in strip_nhs_number_if_objected(
        {"nhs_number": NHS_NUMBER}, patient=objecting_patient, destination=Destination.third_party_export()
    )


def test_release_leaves_the_callers_payload_alone(objecting_patient):
    payload = canary_payload()

    release(patient=objecting_patient, destination=Destination.third_party_export(), payload=payload)

    assert payload == canary_payload()


# Every outbound path that exists today, end to end, for an objecting patient.


@pytest.mark.parametrize("category", RecipientCategory.values)
def test_disclosure_api_packages(api_client_for, alice_practitioner, objecting_patient, signed_note, category):
    from privacy.services import consent_record

    for purpose in ("share_with_social_care", "share_with_family_or_representative"):
        consent_record(
            patient=objecting_patient,
            purpose=purpose,
            decision="given",
            method="written",
            recorded_by=alice_practitioner,
        )
    response = api_client_for(alice_practitioner).post(
        "/api/v1/disclosures/",
        {
            "patient": str(objecting_patient.pk),
            "recipient_category": category,
            "recipient_name": "Recipient",
            "purpose": "legal_obligation",
            "legal_reference": "Order 1",
            "data_categories": ["demographics", "appointments", "clinical_summary", "notes", "nhs_number"],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert_no_nhs_number(json.dumps(response.json()["package"]))


def test_disclosure_page_package_and_download(client_for, alice_practitioner, objecting_patient, signed_note):
    from privacy.services import disclosure_request

    disclosure = disclosure_request(
        patient=objecting_patient,
        requested_by=alice_practitioner,
        recipient_category="healthcare_professional",
        recipient_name="Dr Gee",
        purpose="direct_care",
        data_categories=["demographics", "notes", "nhs_number"],
    )
    client = client_for(alice_practitioner)
    client.post(reverse("privacy:disclosure-release", kwargs={"pk": disclosure.pk}))

    for name in ("privacy:disclosure-package", "privacy:disclosure-package-json"):
        response = client.get(reverse(name, kwargs={"pk": disclosure.pk}))
        assert response.status_code == 200
        assert_no_nhs_number(response.content.decode())
        assert NOTE_CANARY in response.content.decode()
