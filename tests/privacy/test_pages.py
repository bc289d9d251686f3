"""Privacy pages render for the roles they are for, with no inline script or style (strict CSP);
admin shows privacy records read-only and never a disclosure package."""

import pytest
from django.urls import reverse

from privacy.services import audit_entry_record, break_glass_grant, nhs_number_objection_record
from tests.privacy.conftest import NOTE_CANARY
from tests.privacy.factories import ConsentFactory, DisclosureFactory


def assert_strict_csp(page: str, url: str) -> None:
    assert "<script>" not in page and "style=" not in page and "<style" not in page, url


@pytest.fixture
def released(patient, alice_practitioner, alice_cares_for_patient, signed_note):
    from privacy.services import disclosure_request

    return disclosure_request(
        patient=patient,
        requested_by=alice_practitioner,
        recipient_category="healthcare_professional",
        recipient_name="Dr Gee",
        purpose="direct_care",
        data_categories=["demographics", "appointments", "clinical_summary", "notes", "nhs_number"],
        release_now=True,
    )


def test_alices_pages(client_for, alice_practitioner, patient, released):
    client = client_for(alice_practitioner)
    for url in (
        reverse("privacy:consents", kwargs={"patient_pk": patient.pk}),
        reverse("privacy:objection", kwargs={"patient_pk": patient.pk}),
        reverse("privacy:erasure-requests", kwargs={"patient_pk": patient.pk}),
        reverse("privacy:patient-disclosures", kwargs={"patient_pk": patient.pk}),
        reverse("privacy:disclosure-create", kwargs={"patient_pk": patient.pk}),
        reverse("privacy:disclosure", kwargs={"pk": released.pk}),
        reverse("privacy:disclosure-package", kwargs={"pk": released.pk}),
        reverse("privacy:subject-access", kwargs={"patient_pk": patient.pk}),
        reverse("privacy:break-glass", kwargs={"patient_pk": patient.pk}),
        reverse("patients:detail", kwargs={"pk": patient.pk}),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_csp(response.content.decode(), url)


def test_adams_pages(client_for, adam_admin, paul_practitioner, patient, released):
    break_glass_grant(patient=patient, practitioner=paul_practitioner, reason="Emergency: collapsed at reception")
    client = client_for(adam_admin)
    for url in (
        reverse("privacy:home"),
        reverse("privacy:register"),
        reverse("privacy:break-glass-review"),
        reverse("privacy:disclosure", kwargs={"pk": released.pk}),
        reverse("privacy:subject-access", kwargs={"patient_pk": patient.pk}),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_csp(response.content.decode(), url)


def test_the_objection_page_with_an_objection_recorded(client_for, rita_receptionist, patient):
    nhs_number_objection_record(patient=patient, recorded_by=rita_receptionist, method="verbal", explanation_given=True)

    page = client_for(rita_receptionist).get(reverse("privacy:objection", kwargs={"patient_pk": patient.pk}))

    assert "Withdraw the objection" in page.content.decode()
    assert_strict_csp(page.content.decode(), "objection")


def test_the_privacy_nav_item_is_for_admins(client_for, adam_admin, rita_receptionist):
    assert reverse("privacy:home") in client_for(adam_admin).get(reverse("home")).content.decode()
    assert reverse("privacy:home") not in client_for(rita_receptionist).get(reverse("home")).content.decode()


def test_the_detail_page_links_to_privacy(client_for, alice_practitioner, alice_cares_for_patient, patient):
    page = client_for(alice_practitioner).get(reverse("patients:detail", kwargs={"pk": patient.pk})).content.decode()

    for name in ("consents", "objection", "patient-disclosures", "subject-access"):
        assert reverse(f"privacy:{name}", kwargs={"patient_pk": patient.pk}) in page


def test_rita_sees_no_disclosure_or_export_links(client_for, rita_receptionist, patient):
    page = client_for(rita_receptionist).get(reverse("patients:detail", kwargs={"pk": patient.pk})).content.decode()

    assert reverse("privacy:subject-access", kwargs={"patient_pk": patient.pk}) not in page
    assert reverse("privacy:patient-disclosures", kwargs={"patient_pk": patient.pk}) not in page


def test_admin_shows_privacy_records_read_only(client_for, adam_admin, patient, released):
    ConsentFactory(patient=patient, recorded_by=adam_admin)
    entry = audit_entry_record(action="view", obj=patient)
    client = client_for(adam_admin)

    for name in ("auditentry", "consent", "disclosure", "breakglassgrant", "nhsnumberobjection", "erasurerequest"):
        changelist = client.get(reverse(f"admin:privacy_{name}_changelist"))
        assert changelist.status_code == 200, name
        assert NOTE_CANARY not in changelist.content.decode()
        assert client.get(reverse(f"admin:privacy_{name}_add")).status_code == 403, name
    detail = client.get(reverse("admin:privacy_disclosure_change", args=[released.pk])).content.decode()
    assert NOTE_CANARY not in detail
    assert client.get(reverse("admin:privacy_auditentry_change", args=[entry.pk])).status_code == 200
    assert client.post(reverse("admin:privacy_auditentry_delete", args=[entry.pk])).status_code == 403


def test_admins_define_their_own_consent_purposes(client_for, adam_admin, clinic):
    from privacy.models import CustomConsentPurpose

    response = client_for(adam_admin).post(
        reverse("admin:privacy_customconsentpurpose_add"),
        {"code": "newsletter", "label": "Newsletter", "is_active": "on"},
    )

    assert response.status_code == 302
    assert CustomConsentPurpose.objects.get().organisation == clinic


def test_register_lists_only_our_disclosures(client_for, adam_admin, patient, foreign_patient):
    DisclosureFactory(patient=foreign_patient, recipient_name="FOREIGN-CANARY")

    assert "FOREIGN-CANARY" not in client_for(adam_admin).get(reverse("privacy:register")).content.decode()
