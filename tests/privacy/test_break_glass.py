"""Break-glass: Paul, who does not care for John, states a reason and may read (not write) John's
notes for BREAK_GLASS_MINUTES; every read is audited with the reason; it expires; Adam reviews it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.exceptions import DomainError
from privacy.access import can_read_notes, can_write_notes
from privacy.models import AuditEntry, BreakGlassGrant
from privacy.services import break_glass_grant, break_glass_review
from tests.privacy.conftest import NOTE_CANARY

REASON = "Patient collapsed in the waiting room; Alice is away."


@pytest.fixture
def paul_grant(paul_practitioner, patient):
    return break_glass_grant(patient=patient, practitioner=paul_practitioner, reason=REASON)


def detail(patient):
    return reverse("patients:detail", kwargs={"pk": patient.pk})


def test_paul_cannot_read_johns_notes_without_it(client_for, paul_practitioner, patient, signed_note):
    page = client_for(paul_practitioner).get(detail(patient)).content.decode()

    assert NOTE_CANARY not in page
    assert reverse("privacy:break-glass", kwargs={"patient_pk": patient.pk}) in page


def test_with_a_reason_paul_reads_the_notes_and_it_is_audited(client_for, paul_practitioner, patient, signed_note):
    client = client_for(paul_practitioner)
    form = reverse("privacy:break-glass", kwargs={"patient_pk": patient.pk})

    assert client.post(form, {"reason": "need"}).status_code == 400  # too short to be a reason
    response = client.post(form, {"reason": REASON})
    assert response.status_code == 302

    grant = BreakGlassGrant.objects.get()
    assert grant.practitioner == paul_practitioner and grant.reason == REASON
    assert grant.expires_at - grant.granted_at == timedelta(minutes=30)
    granted = AuditEntry.objects.get(action="break_glass")
    assert (granted.actor_id, granted.reason, granted.patient_id) == (paul_practitioner.pk, REASON, patient.pk)

    page = client.get(detail(patient)).content.decode()
    assert NOTE_CANARY in page
    assert "Break-glass access" in page
    assert "Write a note" not in page and "Add addendum" not in page
    read = AuditEntry.objects.filter(action="read_notes").latest("sequence")
    assert (read.actor_id, read.purpose, read.reason) == (paul_practitioner.pk, "break_glass", REASON)
    assert read.details["break_glass_grant"] == str(grant.pk)


def test_break_glass_is_read_only(api_client_for, paul_practitioner, patient, signed_note, paul_grant):
    api = api_client_for(paul_practitioner)

    assert api.get(f"/api/v1/patients/{patient.pk}/notes/").json()["count"] == 1
    assert api.post(f"/api/v1/patients/{patient.pk}/notes/", {"text": "x"}).status_code == 403
    assert api.post(f"/api/v1/notes/{signed_note.pk}/addenda/", {"text": "x"}).status_code == 403
    read = AuditEntry.objects.filter(action="read_notes").latest("sequence")
    assert read.reason == REASON


def test_the_grant_expires(paul_practitioner, patient, paul_grant, settings):
    assert can_read_notes(paul_practitioner, patient)
    assert not can_write_notes(paul_practitioner, patient)

    BreakGlassGrant.objects.filter(pk=paul_grant.pk).update(
        granted_at=timezone.now() - timedelta(minutes=31), expires_at=timezone.now() - timedelta(minutes=1)
    )
    patient.refresh_from_db()
    fresh = type(patient).objects.get(pk=patient.pk)

    assert not can_read_notes(paul_practitioner, fresh)


def test_the_expiry_follows_the_setting(paul_practitioner, patient, settings):
    settings.BREAK_GLASS_MINUTES = 5

    grant = break_glass_grant(patient=patient, practitioner=paul_practitioner, reason=REASON)

    assert grant.expires_at - grant.granted_at == timedelta(minutes=5)


def test_an_expired_grant_shows_no_notes(client_for, paul_practitioner, patient, signed_note, paul_grant):
    BreakGlassGrant.objects.filter(pk=paul_grant.pk).update(
        granted_at=timezone.now() - timedelta(hours=2), expires_at=timezone.now() - timedelta(hours=1, minutes=30)
    )

    assert NOTE_CANARY not in client_for(paul_practitioner).get(detail(patient)).content.decode()
    assert can_read_notes(paul_practitioner, type(patient).objects.get(pk=patient.pk)) is False


@pytest.mark.parametrize("who", ["alice_practitioner", "rita_receptionist", "adam_admin", "oscar_other_practitioner"])
def test_only_practitioners_without_care_use_it(request, patient, alice_cares_for_patient, who):
    with pytest.raises(DomainError):
        break_glass_grant(patient=patient, practitioner=request.getfixturevalue(who), reason=REASON)


@pytest.mark.parametrize("who", ["rita_receptionist", "adam_admin"])
def test_the_request_page_is_for_practitioners(client_for, request, patient, who):
    response = client_for(request.getfixturevalue(who)).get(
        reverse("privacy:break-glass", kwargs={"patient_pk": patient.pk})
    )

    assert response.status_code == 403


def test_adam_reviews_break_glass_use(client_for, adam_admin, paul_grant, foreign_patient, oscar_other_practitioner):
    break_glass_grant(patient=foreign_patient, practitioner=oscar_other_practitioner, reason="FOREIGN-CANARY reason")
    client = client_for(adam_admin)

    page = client.get(reverse("privacy:break-glass-review")).content.decode()
    assert REASON in page and "FOREIGN-CANARY" not in page

    response = client.post(
        reverse("privacy:break-glass-mark-reviewed", kwargs={"pk": paul_grant.pk}), {"note": "Appropriate."}
    )
    assert response.status_code == 302
    paul_grant.refresh_from_db()
    assert paul_grant.reviewed_by == adam_admin and paul_grant.review_note == "Appropriate."
    assert AuditEntry.objects.filter(action="change", object_id=str(paul_grant.pk)).exists()
    with pytest.raises(DomainError):
        break_glass_review(grant=paul_grant, reviewer=adam_admin)


def test_practitioners_do_not_review(client_for, paul_practitioner, paul_grant):
    assert client_for(paul_practitioner).get(reverse("privacy:break-glass-review")).status_code == 403
    response = client_for(paul_practitioner).post(
        reverse("privacy:break-glass-mark-reviewed", kwargs={"pk": paul_grant.pk})
    )
    assert response.status_code == 403


def test_another_organisations_admin_cannot_review_ours(client_for, olga_other, paul_grant):
    response = client_for(olga_other).post(reverse("privacy:break-glass-mark-reviewed", kwargs={"pk": paul_grant.pk}))

    assert response.status_code == 404
    paul_grant.refresh_from_db()
    assert paul_grant.reviewed_at is None
