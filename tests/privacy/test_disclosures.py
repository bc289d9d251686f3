"""Disclosures: the API (201 allowed with package, 403 denied with reasons, both logged), the
patient's history, the page flow (decision shown before release), the register, and release
re-deciding when circumstances change."""

import json

import pytest
from django.urls import reverse

from privacy.models import Disclosure
from privacy.services import consent_record, disclosure_request, nhs_number_objection_record
from tests.privacy.conftest import NOTE_CANARY, assert_no_nhs_number
from tests.privacy.factories import DisclosureFactory

URL = "/api/v1/disclosures/"


def ask(patient, **overrides):
    body = {
        "patient": str(patient.pk),
        "recipient_category": "healthcare_professional",
        "recipient_name": "Dr Gee, Bath GP surgery",
        "purpose": "direct_care",
        "lawful_basis": "Referral for ongoing care",
        "data_categories": ["demographics", "appointments", "notes", "nhs_number"],
    }
    body.update(overrides)
    return body


def test_alice_discloses_to_a_gp_for_direct_care(api_client_for, alice_practitioner, signed_note, patient):
    response = api_client_for(alice_practitioner).post(URL, ask(patient), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["decision"]["allowed"] is True
    assert body["decision"]["data_categories_released"] == ["demographics", "appointments", "notes", "nhs_number"]
    assert set(body["package"]) == {"disclosure", "demographics", "appointments", "notes", "nhs_number"}
    assert NOTE_CANARY in body["package"]["notes"][0]["text"]
    assert body["package"]["nhs_number"]["nhs_number"] == "9434765919"
    disclosure = Disclosure.objects.get()
    assert disclosure.allowed and disclosure.released_at is not None
    assert disclosure.requested_by == alice_practitioner


def test_a_denied_disclosure_is_403_with_reasons_and_still_logged(api_client_for, adam_admin, patient):
    response = api_client_for(adam_admin).post(
        URL, ask(patient, recipient_category="central_government", purpose="direct_care"), format="json"
    )

    assert response.status_code == 403
    body = response.json()
    assert body["decision"]["allowed"] is False
    assert body["reasons"] and "Central government" in " ".join(body["reasons"])
    assert "package" not in body
    logged = Disclosure.objects.get()
    assert not logged.allowed
    assert logged.package is None
    assert logged.data_categories_requested == ["demographics", "appointments", "notes", "nhs_number"]


def test_an_admin_never_releases_notes(api_client_for, adam_admin, signed_note, patient):
    response = api_client_for(adam_admin).post(URL, ask(patient), format="json")

    assert response.status_code == 201
    assert "notes" not in response.json()["package"]
    assert NOTE_CANARY not in response.content.decode()
    assert any("Clinical notes withheld" in reason for reason in response.json()["decision"]["reasons"])


def test_a_legal_obligation_needs_its_reference(api_client_for, adam_admin, patient):
    api = api_client_for(adam_admin)
    body = ask(patient, recipient_category="central_government", purpose="legal_obligation")

    assert api.post(URL, body, format="json").status_code == 403
    body["legal_reference"] = "Notice under s.5 Statutory Powers Act"
    allowed = api.post(URL, body, format="json")
    assert allowed.status_code == 201
    assert allowed.json()["decision"]["checked_state"]["legal_reference_given"] is True


def test_family_needs_consent_or_a_recorded_authority(
    api_client_for, alice_practitioner, alice_cares_for_patient, patient, mother_with_lpa, neighbour
):
    api = api_client_for(alice_practitioner)
    family = {"recipient_category": "family_associate_representative", "data_categories": ["appointments"]}

    assert api.post(URL, ask(patient, **family, recipient_contact=str(neighbour.pk)), format="json").status_code == 403
    with_lpa = api.post(URL, ask(patient, **family, recipient_contact=str(mother_with_lpa.pk)), format="json")
    assert with_lpa.status_code == 201
    consent_record(
        patient=patient,
        purpose="share_with_family_or_representative",
        decision="given",
        method="verbal",
        recorded_by=alice_practitioner,
    )
    assert api.post(URL, ask(patient, **family), format="json").status_code == 201


def test_social_care_needs_consent_for_that_purpose(api_client_for, adam_admin, patient):
    api = api_client_for(adam_admin)
    social = ask(patient, recipient_category="social_welfare_organisation", data_categories=["demographics"])

    assert api.post(URL, social, format="json").status_code == 403
    consent_record(patient=patient, purpose="research", decision="given", method="written", recorded_by=adam_admin)
    assert api.post(URL, social, format="json").status_code == 403
    consent_record(
        patient=patient, purpose="share_with_social_care", decision="given", method="written", recorded_by=adam_admin
    )
    assert api.post(URL, social, format="json").status_code == 201
    assert api.post(URL, {**social, "purpose": "safeguarding"}, format="json").status_code == 201


def test_rita_cannot_disclose(api_client_for, rita_receptionist, patient):
    assert api_client_for(rita_receptionist).post(URL, ask(patient), format="json").status_code == 403
    assert not Disclosure.objects.exists()


def test_another_organisations_patient_is_not_found(api_client_for, olga_other, patient):
    response = api_client_for(olga_other).post(URL, ask(patient), format="json")

    assert response.status_code == 400
    assert not Disclosure.objects.exists()


def test_a_contact_of_another_patient_is_refused(api_client_for, adam_admin, patient, clinic):
    from tests.patients.factories import ContactFactory, PatientFactory

    stranger = ContactFactory(patient=PatientFactory(organisation=clinic))
    response = api_client_for(adam_admin).post(URL, ask(patient, recipient_contact=str(stranger.pk)), format="json")

    assert response.status_code == 400


def test_bad_input_is_400_and_logs_nothing(api_client_for, adam_admin, patient):
    api = api_client_for(adam_admin)

    assert api.post(URL, ask(patient, data_categories=[]), format="json").status_code == 400
    assert api.post(URL, ask(patient, data_categories=["genome"]), format="json").status_code == 400
    assert api.post(URL, ask(patient, recipient_category="journalist"), format="json").status_code == 400
    assert not Disclosure.objects.exists()


def test_the_patients_history_lists_every_decision(api_client_for, adam_admin, alice_practitioner, patient):
    api = api_client_for(adam_admin)
    api.post(URL, ask(patient), format="json")
    api.post(URL, ask(patient, recipient_category="central_government"), format="json")

    rows = api.get(f"/api/v1/patients/{patient.pk}/disclosures/").json()["results"]

    assert [row["allowed"] for row in rows] == [False, True]
    assert "package" not in rows[0]


def test_the_history_and_register_are_for_admins_and_practitioners(
    api_client_for, rita_receptionist, alice_practitioner, olga_other, patient
):
    assert api_client_for(rita_receptionist).get(f"/api/v1/patients/{patient.pk}/disclosures/").status_code == 403
    assert api_client_for(alice_practitioner).get(URL).status_code == 403
    assert api_client_for(olga_other).get(f"/api/v1/patients/{patient.pk}/disclosures/").status_code == 404


def test_the_register_shows_only_our_organisation(api_client_for, adam_admin, olga_other, patient, foreign_patient):
    DisclosureFactory(patient=patient)
    DisclosureFactory(patient=foreign_patient, recipient_name="FOREIGN-CANARY recipient")

    response = api_client_for(adam_admin).get(URL)

    assert response.json()["count"] == 1
    assert "FOREIGN-CANARY" not in response.content.decode()


def test_a_clinical_package_is_shown_only_to_those_who_may_release_it(
    api_client_for, alice_practitioner, adam_admin, paul_practitioner, signed_note, patient
):
    created = api_client_for(alice_practitioner).post(URL, ask(patient), format="json").json()
    detail = f"{URL}{created['decision']['id']}/"

    assert "package" in api_client_for(alice_practitioner).get(detail).json()
    for staff in (adam_admin, paul_practitioner):
        response = api_client_for(staff).get(detail)
        assert response.status_code == 200
        assert "package" not in response.json()
        assert NOTE_CANARY not in response.content.decode()


def test_the_page_shows_the_decision_before_anything_is_released(
    client_for, alice_practitioner, alice_cares_for_patient, signed_note, patient
):
    client = client_for(alice_practitioner)
    form = reverse("privacy:disclosure-create", kwargs={"patient_pk": patient.pk})
    assert client.get(form).status_code == 200

    response = client.post(
        form,
        {
            "recipient_category": "healthcare_professional",
            "recipient_name": "Bath Hospital physiotherapy",
            "purpose": "direct_care",
            "data_categories": ["demographics", "notes"],
        },
    )

    disclosure = Disclosure.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:disclosure", kwargs={"pk": disclosure.pk})
    assert disclosure.allowed and disclosure.released_at is None and disclosure.package is None
    page = client.get(response["Location"]).content.decode()
    assert "Allowed" in page and "Direct care: the minimum necessary." in page
    assert "Release the package" in page
    assert NOTE_CANARY not in page

    assert client.post(reverse("privacy:disclosure-release", kwargs={"pk": disclosure.pk})).status_code == 302
    disclosure.refresh_from_db()
    assert disclosure.released_at is not None
    package_page = client.get(reverse("privacy:disclosure-package", kwargs={"pk": disclosure.pk})).content.decode()
    assert NOTE_CANARY in package_page
    download = client.get(reverse("privacy:disclosure-package-json", kwargs={"pk": disclosure.pk}))
    assert download["Content-Disposition"].startswith("attachment;")
    assert NOTE_CANARY in download.content.decode()


def test_release_decides_again_and_refuses_if_things_changed(
    client_for, alice_practitioner, alice_cares_for_patient, patient, rita_receptionist
):
    decided = disclosure_request(
        patient=patient,
        requested_by=alice_practitioner,
        recipient_category="healthcare_professional",
        recipient_name="Dr Gee",
        purpose="direct_care",
        data_categories=["demographics", "nhs_number"],
    )
    assert decided.data_categories_released == ["demographics", "nhs_number"]
    nhs_number_objection_record(patient=patient, recorded_by=rita_receptionist, method="verbal", explanation_given=True)

    client_for(alice_practitioner).post(reverse("privacy:disclosure-release", kwargs={"pk": decided.pk}))

    decided.refresh_from_db()
    assert decided.released_at is None and decided.package is None


def test_only_the_requester_releases(
    client_for, paul_practitioner, alice_practitioner, alice_cares_for_patient, patient
):
    decided = disclosure_request(
        patient=patient,
        requested_by=alice_practitioner,
        recipient_category="healthcare_professional",
        recipient_name="Dr Gee",
        purpose="direct_care",
        data_categories=["demographics"],
    )

    client_for(paul_practitioner).post(reverse("privacy:disclosure-release", kwargs={"pk": decided.pk}))

    decided.refresh_from_db()
    assert decided.released_at is None


def test_a_denied_decision_is_never_released(client_for, adam_admin, patient):
    denied = DisclosureFactory(patient=patient, requested_by=adam_admin, allowed=False, data_categories_released=[])

    client_for(adam_admin).post(reverse("privacy:disclosure-release", kwargs={"pk": denied.pk}))

    denied.refresh_from_db()
    assert denied.released_at is None


@pytest.mark.parametrize("who", ["adam_admin", "alice_practitioner"])
def test_patient_history_page(client_for, request, patient, who):
    DisclosureFactory(patient=patient, recipient_name="Dr Gee")

    page = client_for(request.getfixturevalue(who)).get(
        reverse("privacy:patient-disclosures", kwargs={"patient_pk": patient.pk})
    )

    assert page.status_code == 200
    assert "Dr Gee" in page.content.decode()


def test_the_register_page_is_the_caldicott_leads(client_for, adam_admin, alice_practitioner, patient, foreign_patient):
    DisclosureFactory(patient=patient, recipient_name="Dr Gee")
    DisclosureFactory(patient=patient, recipient_name="DWP", allowed=False, data_categories_released=[])
    DisclosureFactory(patient=foreign_patient, recipient_name="FOREIGN-CANARY")
    client = client_for(adam_admin)

    page = client.get(reverse("privacy:register")).content.decode()
    assert "Dr Gee" in page and "DWP" in page and "FOREIGN-CANARY" not in page
    denied = client.get(reverse("privacy:register") + "?show=denied").content.decode()
    assert "DWP" in denied and "Dr Gee" not in denied
    assert client_for(alice_practitioner).get(reverse("privacy:register")).status_code == 403


def test_packages_of_an_objecting_patient_carry_no_nhs_number(api_client_for, alice_practitioner, signed_note, patient):
    nhs_number_objection_record(
        patient=patient, recorded_by=alice_practitioner, method="verbal", explanation_given=True
    )

    response = api_client_for(alice_practitioner).post(
        URL, ask(patient, lawful_basis="NHS number 943 476 5919 as on the referral"), format="json"
    )

    assert response.status_code == 201
    package = response.json()["package"]
    assert "nhs_number" not in package
    assert_no_nhs_number(json.dumps(package))
    assert package["disclosure"]["lawful_basis"] == "NHS number [withheld] as on the referral"
