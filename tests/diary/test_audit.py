"""Every booking, move and cancellation leaves an entry in the organisation's audit chain."""

import pytest

from diary.services import appointment_cancel
from privacy.choices import AuditAction
from privacy.models import AuditEntry
from tests.diary.conftest import at

pytestmark = pytest.mark.django_db


def test_booking_and_cancelling_are_audited_with_who_and_what(book, alice_hours, rita_receptionist):
    appointment = book(at(10))
    created = AuditEntry.objects.get(object_id=str(appointment.pk), action=AuditAction.CREATE)
    assert created.actor_id == rita_receptionist.pk
    assert created.patient_id == appointment.patient_id

    appointment_cancel(
        appointment=appointment, actor=rita_receptionist, reason="Patient unwell", version=appointment.version
    )

    changed = AuditEntry.objects.get(object_id=str(appointment.pk), action=AuditAction.CHANGE)
    assert changed.details["kind"] == "cancelled"
    assert "Patient unwell" not in str(changed.details)
