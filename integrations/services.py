"""Writes of the integrations engine: the diary's change listener, retries, reconciliation,
broken connections, and patient email.

The listener runs inside the transaction of each appointment change (`diary.change_listeners`):
its outbox rows and email records commit or roll back with the change, and the tasks that act on
them are queued only after commit. Nothing here calls Google inside a transaction.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, OuterRef, Value, When
from django.utils import timezone

from core.db import Lookup, get_each, insert
from core.links import absolute_url
from core.models import Organisation, Staff
from diary.choices import MOVABLE_STATUSES, AppointmentStatus, ChangeKind
from diary.models import Appointment
from integrations import mail, outbox
from integrations.choices import ZOOM_LINK_KINDS, EmailKind, EmailStatus, EmailTransport, OutboxStatus
from integrations.google.choices import ConnectionStatus
from integrations.google.exceptions import ConnectionBroken, PermanentGoogleError, TransientGoogleError
from integrations.google.mail import AMBIGUOUS_REASONS, gmail_sender, send_via_gmail
from integrations.google.models import GoogleConnection
from integrations.google.selectors import remember_has_google
from integrations.google.services import google_connection_finish_disconnect, google_connection_mark_broken
from integrations.google.sync import GOOGLE_CALENDAR, entries_referencing
from integrations.models import EmailDelivery, IntegrationSettings, OutboxEntry, OutgoingEmail
from integrations.selectors import (
    email_templates_for,
    integration_settings_for,
    integration_settings_lookup,
    remember_integration_settings,
)
from privacy.audit import AuditContext
from privacy.choices import AuditAction, ConsentPurpose
from privacy.consent import has_consent
from privacy.outbound import Destination, OutboundLeak, release
from privacy.services import audit_entry_record

logger = logging.getLogger(__name__)

SUPERSEDED = "Superseded: the appointment was cancelled before this was sent."
SUPERSEDED_BY_REINSTATEMENT = "Superseded: the appointment was reinstated before this was sent."
UNCERTAIN = (
    "The sender stopped while handing this to Gmail or the mail server: it may have been sent. Check before retrying."
)


def _enqueue(task_name: str, **kwargs) -> None:
    """Queue a task now (call it from `transaction.on_commit`). A broker outage loses nothing:
    the rows are in the database and the beat sweeper picks them up."""
    from integrations import tasks

    try:
        getattr(tasks, task_name).delay(**kwargs)
    except Exception:
        logger.exception("Could not queue %s; the sweeper will pick the work up", task_name)


def _after_commit(task_name: str, **kwargs) -> None:
    transaction.on_commit(partial(_enqueue, task_name, **kwargs))


# --- The diary's change listener ----------------------------------------------------------


def on_appointment_change(change) -> None:
    """Registered with `diary.change_listeners`: outbox rows and patient email for one change."""
    cache = _read_ahead(change)
    outbox_on_appointment_change(change, cache)
    emails_on_appointment_change(change, cache)


def _read_ahead(change) -> dict:
    """A new booking has no outbox row yet, so each destination decides whether it wants one
    (Google: has the practitioner connected?), and its confirmation email depends on the
    organisation's settings: both rows in one statement, kept in the cache the two halves read."""
    cache: dict = {}
    if change.kind != ChangeKind.CREATED:
        return cache
    appointment = change.appointment
    rows = get_each(
        {
            "settings": integration_settings_lookup(appointment.organisation_id),
            # Only the status: the tokens are encrypted, and decrypting them costs.
            "google": Lookup(GoogleConnection, {"staff_id": appointment.practitioner_id}, only=("status",)),
        }
    )
    remember_integration_settings(cache, appointment.organisation_id, rows["settings"])
    remember_has_google(cache, appointment.practitioner_id, rows["google"])
    return cache


def outbox_on_appointment_change(change, cache: dict | None = None) -> None:
    """Raise `wanted_version` of the appointment's row for each destination, creating the row
    if the destination wants one, and queue a drain for after commit.

    The appointment row is locked by the diary service, so versions only go up here and no
    two transactions race to create the same row.
    """
    cache = {} if cache is None else cache
    touched = False
    for destination_class in outbox.destinations().values():
        touched |= _outbox_mark_wanted(destination_class(), change, cache)
    if touched:
        _after_commit("drain_outbox", appointment_ids=[str(change.appointment_id)])


def _outbox_mark_wanted(destination: outbox.Destination, change, cache: dict) -> bool:
    appointment = change.appointment
    if change.kind == ChangeKind.CREATED:
        return _outbox_create(destination, change, timezone.now(), cache)  # a new appointment has no row yet
    if outbox_entry_mark_wanted(destination_key=destination.key, appointment=appointment):
        return True
    return _outbox_create(destination, change, timezone.now(), cache)


def outbox_entry_mark_wanted(*, destination_key: str, appointment) -> bool:
    """Raise an existing row's wanted version to the appointment's current one, in the caller's
    transaction. False when the appointment has no row for that destination yet.

    A row already backing off keeps its backoff (the provider asked us to slow down); a done,
    blocked or dead row starts afresh.
    """
    now = timezone.now()
    updated = OutboxEntry.objects.filter(destination=destination_key, appointment_id=appointment.pk).update(
        wanted_version=appointment.version,
        status=OutboxStatus.PENDING,
        attempts=Case(When(status=OutboxStatus.PENDING, then=F("attempts")), default=Value(0)),
        next_attempt_at=Case(
            When(status=OutboxStatus.PENDING, attempts__gt=0, then=F("next_attempt_at")), default=Value(now)
        ),
        dead_at=None,
        updated_at=now,
    )
    return bool(updated)


def _outbox_create(destination: outbox.Destination, change, now, cache: dict) -> bool:
    appointment = change.appointment
    if not destination.wants(change, cache):
        return False
    entry = OutboxEntry(
        organisation_id=appointment.organisation_id,
        destination=destination.key,
        appointment=appointment,
        wanted_version=appointment.version,
        next_attempt_at=now,
    )
    entry.full_clean(
        exclude=["organisation", "appointment", "remote_owner"], validate_unique=False, validate_constraints=False
    )
    insert(entry)
    return True


# --- People acting on the outbox ----------------------------------------------------------


@transaction.atomic
def outbox_entry_retry(*, entry: OutboxEntry, actor: Staff) -> bool:
    """Try a failed or blocked row again now, with a fresh retry budget. Returns whether it
    was queued (a row in sync has nothing to retry)."""
    now = timezone.now()
    updated = OutboxEntry.objects.filter(
        pk=entry.pk, status__in=[OutboxStatus.DEAD, OutboxStatus.BLOCKED, OutboxStatus.PENDING]
    ).update(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, dead_at=None, updated_at=now)
    if updated:
        logger.info("Outbox entry %s retried by staff %s", entry.pk, actor.pk)
        _after_commit("drain_outbox", entry_ids=[entry.pk])
    return bool(updated)


# --- Google connections -------------------------------------------------------------------


def google_calendar_connection_broken(*, connection: GoogleConnection, reason: str) -> bool:
    """Google refused a connection's grant (invalid_grant, or 401 after a refresh).

    The connection becomes broken (once: only the worker that makes the transition continues),
    the practitioner's pending calendar rows are blocked until they reconnect, and they are
    emailed once. Returns whether this call broke it.
    """
    broke = google_connection_mark_broken(connection=connection, reason=reason, same_grant=True)
    if not broke:
        return False
    now = timezone.now()
    OutboxEntry.objects.filter(
        destination=GOOGLE_CALENDAR,
        status=OutboxStatus.PENDING,
        lease_token__isnull=True,
        appointment__practitioner_id=connection.staff_id,
    ).update(
        status=OutboxStatus.BLOCKED,
        attempts=0,
        last_error="Google connection broken: reconnect needed.",
        updated_at=now,
    )
    _after_commit("notify_google_connection_broken", connection_id=str(connection.pk))
    return True


def google_connection_broken_notify(*, connection_id) -> bool:
    """Email the staff member, once per break, that Jelly can no longer reach their Google
    account. Through Django's email backend: their own Gmail is what broke."""
    now = timezone.now()
    claimed = GoogleConnection.objects.filter(
        pk=connection_id, status=ConnectionStatus.BROKEN, broken_notice_sent_at__isnull=True
    ).update(broken_notice_sent_at=now)
    if not claimed:
        return False
    connection = GoogleConnection.objects.select_related("staff").get(pk=connection_id)
    send_mail(
        subject="Jelly can no longer reach your Google account",
        message=(
            f"Hello {connection.staff.given_name or connection.staff},\n\n"
            "Google stopped accepting Jelly's access to your account, so your appointments are not "
            "being added to your Google Calendar (and clinic email is not sent from your Gmail).\n\n"
            f"Please connect Google again in Jelly: {absolute_url('google:connection')}\n"
            "Nothing is lost: everything waiting is sent once you reconnect.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[connection.staff.email],
        fail_silently=False,
    )
    return True


def google_calendar_reconcile_later(*, staff_id) -> None:
    _after_commit("reconcile_google_calendar", staff_ids=[str(staff_id)])


@dataclass
class ReconcileReport:
    connections: int = 0
    checked: int = 0
    created: int = 0
    remarked: int = 0

    def __str__(self) -> str:
        return (
            f"{self.connections} connection(s), {self.checked} appointment(s) checked, "
            f"{self.created} row(s) created, {self.remarked} row(s) re-marked pending"
        )


def _reconcile_from() -> datetime:
    """Appointments from the start of today (clinic time) on are kept in calendars."""
    return timezone.make_aware(datetime.combine(timezone.localdate(), time.min))


def google_calendar_reconcile(*, staff_ids=None) -> ReconcileReport:
    """Compare the diary with what Jelly believes is in each practitioner's Google Calendar
    (the outbox rows' pushed version and placement) and re-mark what drifted as pending.

    Google is not read: Jelly's record of what it pushed is the belief being checked. Rows
    pending or dead are left alone (pending ones will be pushed; dead ones wait for a person).
    """
    report = ReconcileReport()
    connections = GoogleConnection.objects.exclude(status=ConnectionStatus.DISCONNECTED)
    if staff_ids is not None:
        connections = connections.filter(staff_id__in=list(staff_ids))
    for connection in connections:
        report.connections += 1
        _reconcile_connection(connection, report)
    return report


def _reconcile_connection(connection: GoogleConnection, report: ReconcileReport) -> None:
    staff_id = connection.staff_id
    usable = connection.has_calendar
    appointments = list(
        Appointment.objects.filter(practitioner_id=staff_id, end__gte=_reconcile_from())
        .exclude(status=AppointmentStatus.CANCELLED)
        .values_list("pk", "version", "organisation_id")
    )
    report.checked += len(appointments)
    entries = {
        entry.appointment_id: entry
        for entry in OutboxEntry.objects.filter(
            destination=GOOGLE_CALENDAR, appointment_id__in=[pk for pk, _, _ in appointments]
        )
    }
    drifted: set[int] = set()
    missing = []
    now = timezone.now()
    for pk, version, organisation_id in appointments:
        entry = entries.get(pk)
        if entry is None:
            if usable:
                missing.append(
                    OutboxEntry(
                        organisation_id=organisation_id,
                        destination=GOOGLE_CALENDAR,
                        appointment_id=pk,
                        wanted_version=version,
                        next_attempt_at=now,
                    )
                )
            continue
        in_place = (
            entry.pushed_version >= version
            and str(entry.remote_owner_id) == str(staff_id)
            and entry.remote_container == connection.calendar_id
            and not entry.remote_stale
        )
        if usable and (entry.status == OutboxStatus.BLOCKED or (entry.status == OutboxStatus.DONE and not in_place)):
            drifted.add(entry.pk)
    # Copies Jelly put in this calendar that should not (or no longer) be there.
    live_here = {pk for pk, _, _ in appointments} if usable else set()
    if connection.status in (ConnectionStatus.CONNECTED, ConnectionStatus.DISCONNECTING):
        for entry in entries_referencing(staff_id, connection.organisation_id):
            if entry.status in (OutboxStatus.DONE, OutboxStatus.BLOCKED) and (
                entry.appointment_id not in live_here or str(staff_id) in entry.stale_owner_ids
            ):
                drifted.add(entry.pk)
    if missing:
        created = OutboxEntry.objects.bulk_create(missing, ignore_conflicts=True)
        report.created += len(created)
    if drifted:
        report.remarked += OutboxEntry.objects.filter(
            pk__in=drifted, status__in=[OutboxStatus.DONE, OutboxStatus.BLOCKED]
        ).update(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, updated_at=now)
    if missing or drifted:
        _after_commit("drain_outbox")


def google_disconnects_complete() -> int:
    """Finish the disconnects waiting for their pushed events to be removed: once no row still
    places an event in that calendar (dead rows aside), revoke the grant and delete the tokens."""
    finished = 0
    for connection in GoogleConnection.objects.filter(status=ConnectionStatus.DISCONNECTING).select_related("staff"):
        waiting = [
            e
            for e in entries_referencing(connection.staff_id, connection.organisation_id)
            if e.status != OutboxStatus.DEAD
        ]
        settled = [e.pk for e in waiting if e.status in (OutboxStatus.DONE, OutboxStatus.BLOCKED)]
        if settled:
            # Not yet marked for removal (e.g. the reconcile task was lost): mark them now.
            OutboxEntry.objects.filter(pk__in=settled, status__in=[OutboxStatus.DONE, OutboxStatus.BLOCKED]).update(
                status=OutboxStatus.PENDING, attempts=0, next_attempt_at=timezone.now()
            )
            _after_commit("drain_outbox", entry_ids=settled)
        if waiting:
            continue
        google_connection_finish_disconnect(connection=connection)
        finished += 1
    return finished


# --- Patient email ------------------------------------------------------------------------


def email_skip_reason(patient) -> str:
    """Why this patient may not be emailed, or "" if they may."""
    if not patient.email:
        return "The patient has no email address."
    if patient.deceased:
        return "The patient has died."
    if patient.archived:
        return "The patient's record is archived."
    if not has_consent(patient, ConsentPurpose.EMAIL_COMMUNICATIONS):
        return "The patient has not consented to email (email_communications)."
    return ""


def _organisation_name(organisation_id) -> str:
    return Organisation.objects.filter(pk=organisation_id).values_list("name", flat=True).first() or ""


def email_delivery_create(
    *,
    kind: str,
    patient,
    dedupe_key: str,
    values: dict | Callable[[], dict],
    appointment=None,
    from_staff=None,
) -> EmailDelivery:
    """Record one email to a patient and hold its rendered message until it is sent; or
    record why it is not sent. Raises IntegrityError if `dedupe_key` was used before.
    `values` may be a callable, called only when a message is rendered."""
    reason = email_skip_reason(patient)
    delivery = EmailDelivery(
        organisation_id=patient.organisation_id,
        dedupe_key=dedupe_key,
        kind=kind,
        patient=patient,
        appointment=appointment,
        appointment_start=appointment.start if appointment is not None else None,
        from_staff=from_staff,
        status=EmailStatus.SKIPPED if reason else EmailStatus.PENDING,
        skip_reason=reason,
    )
    # The related rows are loaded already; validating them again would cost a query each.
    delivery.full_clean(
        exclude=["organisation", "patient", "appointment", "from_staff", "dedupe_key"],
        validate_unique=False,
        validate_constraints=False,
    )
    insert(delivery)
    if not reason:
        values = values() if callable(values) else values
        rendered = mail.render_email(kind, values, email_templates_for(patient.organisation_id), to=patient.email)
        OutgoingEmail.objects.create(
            organisation_id=patient.organisation_id,
            delivery=delivery,
            to_address=rendered.to,
            subject=rendered.subject,
            body=rendered.body,
        )
        _after_commit("send_emails", delivery_ids=[delivery.pk])
    return delivery


def _appointment_email_kind(change) -> str | None:
    if change.kind in (ChangeKind.CREATED, ChangeKind.REINSTATED):
        return EmailKind.CONFIRMATION
    if change.kind in (ChangeKind.RESCHEDULED, ChangeKind.REASSIGNED):
        return EmailKind.CHANGE
    if change.kind == ChangeKind.UPDATED and {"location", "service"} & set(change.changes or {}):
        return EmailKind.CHANGE
    if change.kind == ChangeKind.CANCELLED:
        return EmailKind.CANCELLATION
    return None


def emails_on_appointment_change(change, cache: dict | None = None) -> None:
    """Confirmation, change and cancellation emails, in the transaction of the change.

    Coalesced while unsent: a change to an appointment whose confirmation (or earlier change
    email) is still waiting re-renders that message instead of adding another; a cancellation
    withdraws the waiting ones and is sent only if the patient was emailed about it before.
    A reinstatement withdraws a cancellation still waiting and confirms the booking again (the
    confirmation's wording, a key of its own per reinstatement): whatever the patient was told
    last, a cancellation or nothing at all, it says the appointment stands.
    No email about appointments already started.
    """
    kind = _appointment_email_kind(change)
    if kind is None:
        return
    appointment = change.appointment
    if appointment.start <= timezone.now():
        return
    if not integration_settings_for(appointment.organisation_id, cache).appointment_emails_enabled:
        return
    waiting = []
    if change.kind != ChangeKind.CREATED:  # a new appointment has no email waiting yet
        waiting = list(
            EmailDelivery.objects.select_for_update()
            .filter(appointment=appointment, status=EmailStatus.PENDING, lease_token__isnull=True)
            .exclude(kind=EmailKind.LETTER)
            .order_by("pk")
        )
    if change.kind == ChangeKind.REINSTATED:
        emails_withdraw(waiting, reason=SUPERSEDED_BY_REINSTATEMENT)
    if kind == EmailKind.CANCELLATION:
        emails_withdraw(waiting, reason=SUPERSEDED)
        told = EmailDelivery.objects.filter(
            appointment=appointment, status__in=[EmailStatus.SENT, EmailStatus.SENDING]
        ).exists()
        if not told:
            return

    def values() -> dict:  # computed only if a message is actually rendered
        return mail.appointment_values(appointment, organisation_name=_organisation_name(appointment.organisation_id))

    if kind == EmailKind.CHANGE:
        unsent = next((d for d in waiting if d.kind in (EmailKind.CONFIRMATION, EmailKind.CHANGE)), None)
        if unsent is not None:
            _rerender(unsent, appointment, values())
            return
    if change.kind == ChangeKind.REINSTATED:
        dedupe_key = f"reinstatement:{appointment.pk}:v{appointment.version}"
    else:
        # Versioned where it can happen again: a reinstated appointment may be cancelled again.
        dedupe_key = {
            EmailKind.CONFIRMATION: f"confirmation:{appointment.pk}",
            EmailKind.CHANGE: f"change:{appointment.pk}:v{appointment.version}",
            EmailKind.CANCELLATION: f"cancellation:{appointment.pk}:v{appointment.version}",
        }[kind]
    email_delivery_create(
        kind=kind,
        patient=appointment.patient,
        appointment=appointment,
        from_staff=appointment.practitioner,
        dedupe_key=dedupe_key,
        values=values,
    )


def emails_withdraw(waiting: list[EmailDelivery], *, reason: str) -> None:
    """Unsent emails that no longer say what is true: never sent, their messages deleted. The
    caller holds their row locks (`select_for_update`, not claimed by a sender)."""
    if waiting:
        ids = [delivery.pk for delivery in waiting]
        OutgoingEmail.objects.filter(delivery_id__in=ids).delete()
        EmailDelivery.objects.filter(pk__in=ids).update(status=EmailStatus.SKIPPED, skip_reason=reason)


def _rerender(delivery: EmailDelivery, appointment, values: dict) -> None:
    changes = {"appointment_start": appointment.start, "from_staff": appointment.practitioner}
    if delivery.kind == EmailKind.CHANGE:
        changes["dedupe_key"] = f"change:{appointment.pk}:v{appointment.version}"
    email_rerender(delivery=delivery, patient=appointment.patient, values=values, **changes)


def email_rerender(*, delivery: EmailDelivery, patient, values: dict, **changes) -> None:
    """Write an unsent email's message again, from its kind's template with `values`, in the
    caller's transaction (which holds the delivery's row lock, so no sender has claimed it);
    `changes` go on its record (its appointment's start, a new dedupe key)."""
    rendered = mail.render_email(delivery.kind, values, email_templates_for(patient.organisation_id), to=patient.email)
    OutgoingEmail.objects.filter(delivery=delivery).update(subject=rendered.subject, body=rendered.body)
    if changes:
        EmailDelivery.objects.filter(pk=delivery.pk).update(**changes)


def reminders_enqueue_due(*, now: datetime | None = None) -> int:
    """Record the reminders now due: each organisation's booked appointments starting within its
    reminder window, once per appointment start (unique key, so overlapping beat runs record it
    once and it is sent once). Not for appointments booked inside the window (their
    confirmation just went) nor for cancelled ones. Returns how many were recorded."""
    now = now or timezone.now()
    recorded = 0
    own_settings = {row.organisation_id: row for row in IntegrationSettings.objects.all()}
    for organisation_id, name in Organisation.objects.values_list("pk", "name"):
        org_settings = own_settings.get(organisation_id) or IntegrationSettings(organisation_id=organisation_id)
        if not org_settings.reminders_enabled:
            continue
        window = timedelta(hours=org_settings.reminder_hours_before)
        already = EmailDelivery.objects.filter(
            appointment=OuterRef("pk"), kind=EmailKind.REMINDER, appointment_start=OuterRef("start")
        )
        due = (
            Appointment.objects.filter(
                organisation_id=organisation_id,
                status=AppointmentStatus.BOOKED,
                start__gt=now,
                start__lte=now + window,
                created_at__lte=F("start") - window,
            )
            .exclude(Exists(already))
            .select_related("patient", "practitioner", "service", "location")
        )
        for appointment in due:
            try:
                with transaction.atomic():
                    email_delivery_create(
                        kind=EmailKind.REMINDER,
                        patient=appointment.patient,
                        appointment=appointment,
                        from_staff=appointment.practitioner,
                        dedupe_key=f"reminder:{appointment.pk}:{int(appointment.start.timestamp())}",
                        values=mail.appointment_values(appointment, organisation_name=name),
                    )
            except IntegrityError:
                continue  # an overlapping run recorded it first
            recorded += 1
    return recorded


@transaction.atomic
def letter_send(
    *, actor: Staff, patient, subject: str, body: str, idempotency_key: str, audit: AuditContext | None = None
) -> EmailDelivery:
    """A free-form letter to a patient, in the clinic's letter template. The same
    `idempotency_key` (e.g. the form's one-time token) never sends a second copy.

    Recorded in the audit chain (who wrote to whom, and whether it was sent or why not; never
    the letter's words). A patient who may not be emailed gets a skipped record with the reason.
    """
    dedupe_key = f"letter:{patient.pk}:{idempotency_key}"[:120]
    existing = EmailDelivery.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    values = {
        **mail.patient_values(patient, organisation_name=_organisation_name(patient.organisation_id)),
        "letter_subject": subject,
        "letter_body": body,
    }
    delivery = email_delivery_create(
        kind=EmailKind.LETTER, patient=patient, from_staff=actor, dedupe_key=dedupe_key, values=values
    )
    audit_entry_record(
        action=AuditAction.CREATE,
        obj=delivery,
        context=audit or AuditContext(actor=actor),
        patient=patient,
        details={"kind": EmailKind.LETTER, "status": delivery.status},
    )
    return delivery


@transaction.atomic
def email_delivery_retry(*, delivery: EmailDelivery, actor: Staff) -> bool:
    """Send a failed email again (a person decided to, e.g. after checking it did not go)."""
    if not OutgoingEmail.objects.filter(delivery_id=delivery.pk).exists():
        return False
    now = timezone.now()
    updated = EmailDelivery.objects.filter(pk=delivery.pk, status=EmailStatus.DEAD).update(
        status=EmailStatus.PENDING, attempts=0, next_attempt_at=now, dead_at=None, last_error=""
    )
    if updated:
        logger.info("Email delivery %s retried by staff %s", delivery.pk, actor.pk)
        _after_commit("send_emails", delivery_ids=[delivery.pk])
    return bool(updated)


def emails_claim(*, limit: int, ids=None):
    """Lease due emails to this sender (status `sending`, the attempt counted first)."""
    import uuid

    now = timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        rows = EmailDelivery.objects.filter(status=EmailStatus.PENDING, next_attempt_at__lte=now)
        if ids is not None:
            rows = rows.filter(pk__in=list(ids))
        picked = list(
            rows.order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not picked:
            return token, []
        EmailDelivery.objects.filter(pk__in=picked).update(
            status=EmailStatus.SENDING,
            lease_token=token,
            lease_until=now + timedelta(seconds=outbox.lease_seconds()),
            attempts=F("attempts") + 1,
            last_attempt_at=now,
        )
    deliveries = list(
        EmailDelivery.objects.filter(pk__in=picked, lease_token=token).select_related(
            "message", "patient", "appointment", "from_staff"
        )
    )
    return token, deliveries


def _email_finish(delivery: EmailDelivery, token, **changes) -> bool:
    return bool(
        EmailDelivery.objects.filter(pk=delivery.pk, lease_token=token, status=EmailStatus.SENDING).update(
            lease_token=None, lease_until=None, **changes
        )
    )


def _email_retry(
    delivery: EmailDelivery, token, *, reason: str, retry_after: float | None = None, at_once: bool = False
) -> str:
    now = timezone.now()
    if delivery.attempts >= settings.INTEGRATIONS_OUTBOX_MAX_ATTEMPTS:
        _email_finish(
            delivery,
            token,
            status=EmailStatus.DEAD,
            dead_at=now,
            last_error=f"Gave up after {delivery.attempts} attempts: {reason}"[:300],
        )
        return "dead"
    delay = 0.0 if at_once else outbox.backoff_seconds(delivery.attempts, retry_after=retry_after)
    _email_finish(
        delivery,
        token,
        status=EmailStatus.PENDING,
        next_attempt_at=now + timedelta(seconds=delay),
        last_error=reason[:300],
    )
    return "retried"


def _email_dead(delivery, token, reason: str) -> str:
    _email_finish(delivery, token, status=EmailStatus.DEAD, dead_at=timezone.now(), last_error=reason[:300])
    return "dead"


def _email_skip(delivery, token, reason: str) -> str:
    with transaction.atomic():
        if _email_finish(delivery, token, status=EmailStatus.SKIPPED, skip_reason=reason[:200]):
            OutgoingEmail.objects.filter(delivery_id=delivery.pk).delete()
    return "skipped"


def email_send_one(delivery: EmailDelivery, token) -> str:
    """Send one claimed email, outside any transaction; then keep only the content-free record.

    Gmail first (the practitioner's, else the clinic's designated sender), else Django's email
    backend. Rate limits and 5xx back off and retry; a timeout or dropped connection is not
    retried automatically (the message may have gone) but dead-lettered for a person to check.
    """
    message = getattr(delivery, "message", None)  # reverse one-to-one: None when deleted
    if message is None:
        return _email_dead(delivery, token, "The message to send is missing.")
    if delivery.kind == EmailKind.REMINDER:
        current = Appointment.objects.filter(pk=delivery.appointment_id).values_list("status", "start").first()
        if current is None or current[0] == AppointmentStatus.CANCELLED:
            return _email_skip(delivery, token, "The appointment was cancelled.")
        if current[1] != delivery.appointment_start:
            return _email_skip(delivery, token, "The appointment moved; its new time gets its own reminder.")
    if delivery.kind in ZOOM_LINK_KINDS:
        # A cancellation withdraws a waiting link email only where appointment emails are on,
        # and not one recorded while the cancellation was committing: this catches the rest.
        status = Appointment.objects.filter(pk=delivery.appointment_id).values_list("status", flat=True).first()
        if status not in MOVABLE_STATUSES:
            return _email_skip(delivery, token, "The appointment is no longer booked.")
    org_settings = integration_settings_for(delivery.organisation_id)
    candidates = [staff_id for staff_id in (delivery.from_staff_id, org_settings.clinic_sender_id) if staff_id]
    connections = {c.staff_id: c for c in GoogleConnection.objects.filter(staff_id__in=candidates)}
    sender = gmail_sender(*(connections.get(staff_id) for staff_id in candidates))
    if sender is not None:
        try:
            released = release(
                patient=delivery.patient,
                destination=Destination.integration(Destination.GMAIL),
                payload={"subject": message.subject, "body": message.body},
            )
            send_via_gmail(sender, to=message.to_address, subject=released["subject"], text=released["body"])
        except OutboundLeak as exc:
            return _email_dead(delivery, token, f"Privacy check refused the message: {exc}")
        except ConnectionBroken as exc:
            google_calendar_connection_broken(connection=sender, reason=str(exc))
            # Not sent: the next attempt goes by the next sender in line.
            return _email_retry(delivery, token, reason=f"Gmail connection broken: {exc}", at_once=True)
        except TransientGoogleError as exc:
            if exc.reason in AMBIGUOUS_REASONS:
                return _email_dead(delivery, token, f"Gmail did not confirm ({exc}). {UNCERTAIN}")
            return _email_retry(delivery, token, reason=f"Gmail: {exc}", retry_after=exc.retry_after)
        except PermanentGoogleError as exc:
            return _email_dead(delivery, token, f"Gmail refused the message: {exc}")
        transport = EmailTransport.GMAIL
    else:
        try:
            mail.send_with_backend(
                mail.RenderedEmail(to=message.to_address, subject=message.subject, body=message.body)
            )
        except Exception as exc:
            logger.warning("Email delivery %s: the mail server failed (%s)", delivery.pk, type(exc).__name__)
            return _email_dead(delivery, token, f"The mail server failed ({type(exc).__name__}). {UNCERTAIN}")
        transport = EmailTransport.BACKEND
    with transaction.atomic():
        if _email_finish(
            delivery, token, status=EmailStatus.SENT, sent_at=timezone.now(), transport=transport, last_error=""
        ):
            OutgoingEmail.objects.filter(delivery_id=delivery.pk).delete()
    return "sent"


def emails_mark_uncertain() -> int:
    """A sender that died mid-send leaves its rows `sending`: they are never resent by
    themselves (the message may have gone), but dead-lettered for a person to check."""
    now = timezone.now()
    return EmailDelivery.objects.filter(status=EmailStatus.SENDING, lease_until__lt=now).update(
        status=EmailStatus.DEAD, dead_at=now, last_error=UNCERTAIN, lease_token=None, lease_until=None
    )


def emails_drain(*, ids=None, batch_size: int = 20, max_seconds: float | None = None) -> dict[str, int]:
    """Send due emails until none is due (or time runs out)."""
    import time as _time

    counts: dict[str, int] = {}
    deadline = _time.monotonic() + max_seconds if max_seconds else None
    while deadline is None or _time.monotonic() < deadline:
        token, deliveries = emails_claim(limit=batch_size, ids=ids)
        if not deliveries:
            break
        for delivery in deliveries:
            outcome = email_send_one(delivery, token)
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def outbox_sweep(*, max_seconds: float | None = None) -> dict:
    """The beat sweeper's work: push whatever is due (lost task messages, expired leases,
    backoffs now over), dead-letter uncertain emails, send due emails."""
    report = outbox.drain(workers=settings.INTEGRATIONS_DRAIN_WORKERS, max_seconds=max_seconds)
    uncertain = emails_mark_uncertain()
    emails = emails_drain(max_seconds=max_seconds)
    return {"outbox": report.as_dict(), "uncertain_emails": uncertain, "emails": emails}
