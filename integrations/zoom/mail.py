"""Emailing a patient their Zoom link, through the clinic's patient email path.

The integrations engine sends patient email (`integrations.services`): consent and
deceased/archived checks, the privacy release, the practitioner's Gmail or the clinic's sender
or the mail server, at most once per key, with a content-free record. The link goes as a
`zoom_link` email of the appointment (the clinic may word it, `{{ join_url }}` required): the
time and the join link, nothing clinical, never the host's start link.

The link must stay true. Zoom cannot move a meeting to another host, and a meeting deleted in
Zoom has to be made again, so an appointment can get a new meeting, with a new join link, after
its patient was emailed the old one. In the transaction that records the new meeting
(`services.meeting_record_created`), `zoom_link_follow_new_meeting` corrects a link email still
waiting to be sent, or else, if the patient was sent one, records a `zoom_link_changed` email
with the new link, once per new meeting. The time must stay true too: when the appointment
moves, `zoom_link_follow_move` (a diary change listener) writes a link email still waiting
again with the new time.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from diary.choices import MOVABLE_STATUSES, ChangeKind
from diary.models import Appointment
from integrations import mail
from integrations.choices import ZOOM_LINK_KINDS, EmailKind, EmailStatus
from integrations.models import EmailDelivery
from integrations.services import email_delivery_create, email_rerender, emails_withdraw
from integrations.zoom.models import ZoomMeeting, ZoomMeetingRequest

NOT_READY = "The Zoom meeting is being replaced. Please try again in a moment."


@dataclass(frozen=True)
class ZoomLinkResult:
    status: str
    reason: str = ""

    @property
    def sent_or_queued(self) -> bool:
        return self.status in (EmailStatus.PENDING, EmailStatus.SENDING, EmailStatus.SENT)


def _values(appointment, meeting: ZoomMeeting) -> dict[str, str]:
    return mail.zoom_link_values(
        appointment, join_url=meeting.join_url, organisation_name=appointment.organisation.name
    )


def _write_again(held: list[EmailDelivery], appointment, meeting: ZoomMeeting) -> None:
    """Link emails not yet sent, written again: the appointment's time now, the meeting's link."""
    for delivery in held:
        email_rerender(
            delivery=delivery,
            patient=appointment.patient,
            values=_values(appointment, meeting),
            appointment_start=appointment.start,
        )


def _live_meeting(appointment_id) -> ZoomMeeting | None:
    return ZoomMeeting.objects.filter(
        appointment_id=appointment_id, retired_at__isnull=True, deleted_at__isnull=True
    ).first()


def _lock_meeting_changes(appointment_id) -> None:
    """Serialise with the recording of a new meeting for the appointment, which writes its
    request row (`services.meeting_record_created`): a link email recorded meanwhile is then
    either seen by that transaction, or sees its new meeting."""
    list(ZoomMeetingRequest.objects.select_for_update().filter(appointment_id=appointment_id).values_list("pk"))


@transaction.atomic
def zoom_link_send(*, actor, appointment, idempotency_key: str) -> ZoomLinkResult:
    """Queue the email with the appointment's live meeting's join link (sent after commit).
    The same key (one click) never sends a second copy."""
    dedupe_key = f"zoom-link:{appointment.pk}:{idempotency_key}"
    delivery = EmailDelivery.objects.filter(dedupe_key=dedupe_key).first()
    if delivery is None:
        _lock_meeting_changes(appointment.pk)
        meeting = _live_meeting(appointment.pk)
        if meeting is None:
            return ZoomLinkResult(status=EmailStatus.SKIPPED, reason=NOT_READY)
        delivery = email_delivery_create(
            kind=EmailKind.ZOOM_LINK,
            patient=appointment.patient,
            appointment=appointment,
            from_staff=actor,
            dedupe_key=dedupe_key,
            values=lambda: _values(appointment, meeting),
        )
    return ZoomLinkResult(status=delivery.status, reason=delivery.skip_reason or delivery.last_error)


def zoom_link_follow_new_meeting(*, appointment, meeting: ZoomMeeting) -> EmailDelivery | None:
    """The appointment has a new meeting (recorded in the caller's transaction): make sure the
    patient is not left holding a link that no longer works.

    - A link email still waiting to be sent is written again with the new link: coalesced, no
      second email. (A failed one, waiting for a person to retry it, is written again too.)
    - Otherwise, if the patient was sent a link for this appointment, one "link has changed"
      email is recorded, keyed by the new meeting: a retried push never sends it twice.
    - Nothing new for an appointment no longer booked or arrived, or already started; nothing
      if the patient was never sent a link.

    Returns the new email's record, if one was made.
    """
    _lock_meeting_changes(appointment.pk)
    deliveries = list(
        EmailDelivery.objects.select_for_update()
        .filter(appointment_id=appointment.pk, kind__in=ZOOM_LINK_KINDS)
        .exclude(status=EmailStatus.SKIPPED)
        .order_by("pk")
    )
    if not deliveries:
        return None
    # Afresh: the push's copy may predate a cancellation or a move.
    appointment = Appointment.objects.select_related("patient", "practitioner", "organisation").get(pk=appointment.pk)
    if appointment.status not in MOVABLE_STATUSES:
        return None
    # Messages still held: waiting to be sent (not yet claimed by a sender: the row lock above
    # keeps one from claiming it now), or failed and waiting for a person to retry them.
    held = [d for d in deliveries if d.lease_token is None and d.status in (EmailStatus.PENDING, EmailStatus.DEAD)]
    _write_again(held, appointment, meeting)
    if any(d.status == EmailStatus.PENDING for d in held):
        return None  # the waiting email carries the new link now
    told = any(d.status in (EmailStatus.SENT, EmailStatus.SENDING, EmailStatus.PENDING) for d in deliveries)
    if not told or appointment.start <= timezone.now():
        return None
    dedupe_key = f"zoom-link-changed:{appointment.pk}:{meeting.zoom_meeting_id}"
    if EmailDelivery.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    try:
        with transaction.atomic():  # a savepoint: a clash must not undo the meeting's record
            return email_delivery_create(
                kind=EmailKind.ZOOM_LINK_CHANGED,
                patient=appointment.patient,
                appointment=appointment,
                from_staff=appointment.practitioner,
                dedupe_key=dedupe_key,
                values=lambda: _values(appointment, meeting),
            )
    except IntegrityError:
        return None


MOVES = (ChangeKind.RESCHEDULED, ChangeKind.REASSIGNED)


def _held_link_emails(appointment_id) -> list[EmailDelivery]:
    """The appointment's link emails not yet claimed by a sender (waiting, or failed and waiting
    for a person), locked, as `zoom_link_follow_new_meeting` locks them."""
    return list(
        EmailDelivery.objects.select_for_update()
        .filter(
            appointment_id=appointment_id,
            kind__in=ZOOM_LINK_KINDS,
            lease_token__isnull=True,
            status__in=(EmailStatus.PENDING, EmailStatus.DEAD),
        )
        .order_by("pk")
    )


def zoom_link_withdraw(*, appointment_id, reason: str) -> None:
    """The appointment's meeting is going and no other takes its place: a link email not yet
    sent is not sent (its message deleted, the reason recorded)."""
    emails_withdraw(_held_link_emails(appointment_id), reason=reason)


def zoom_link_follow_move(change) -> None:
    """Registered with `diary.change_listeners`, in the change's transaction: a link email still
    held (waiting to be sent, or failed and waiting for a person) says when to join, so after a
    move it is written again with the new time and the live meeting's link (Zoom's copy is
    moved by the push and keeps its link).

    Where there is no live meeting (a new one is being made, e.g. for another practitioner),
    recording the new meeting writes it again (`zoom_link_follow_new_meeting`, which reads the
    appointment afresh). A link email a sender has already claimed goes as written; the
    patient's change email carries the new time.
    """
    if change.kind not in MOVES:
        return
    appointment = change.appointment
    held = _held_link_emails(appointment.pk)
    if not held:
        return
    meeting = _live_meeting(appointment.pk)
    if meeting is None:
        return
    _write_again(held, appointment, meeting)
