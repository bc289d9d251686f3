"""Emailing a patient their Zoom link, through the clinic's patient email path.

The integrations engine sends patient email (`integrations.services`): consent and
deceased/archived checks, the privacy release, the practitioner's Gmail or the clinic's sender
or the mail server, at most once per key, with a content-free record. It has no "Zoom link"
kind yet, so the link goes as a letter (`letter_send`, the clinic's letter template) whose
subject and body are written here. Seam: once the engine has a `zoom_link` email kind with its
own template, `zoom_link_send` switches to it and nothing else changes.
"""

from dataclasses import dataclass

from django.utils import timezone

from integrations.choices import EmailStatus
from integrations.mail import CLINIC_ZONE
from integrations.services import letter_send

SUBJECT = "Your video appointment link"


@dataclass(frozen=True)
class ZoomLinkResult:
    status: str
    reason: str = ""

    @property
    def sent_or_queued(self) -> bool:
        return self.status in (EmailStatus.PENDING, EmailStatus.SENDING, EmailStatus.SENT)


def zoom_link_body(appointment, meeting) -> str:
    """The join link and the time: nothing clinical, and never the host's start link."""
    start = timezone.localtime(appointment.start, CLINIC_ZONE)
    return (
        f"Your video appointment is on {start:%A} {start.day} {start:%B %Y} at {start:%H:%M}.\n\n"
        f"Join it from your phone, tablet or computer with this link:\n{meeting.join_url}\n\n"
        "You will wait in a waiting room until your practitioner lets you in."
    )


def zoom_link_send(*, actor, appointment, meeting, idempotency_key: str) -> ZoomLinkResult:
    """Queue the email (sent after commit). The same key never sends a second copy."""
    delivery = letter_send(
        actor=actor,
        patient=appointment.patient,
        subject=SUBJECT,
        body=zoom_link_body(appointment, meeting),
        idempotency_key=f"zoom-link:{meeting.zoom_meeting_id}:{idempotency_key}",
    )
    return ZoomLinkResult(status=delivery.status, reason=delivery.skip_reason or delivery.last_error)
