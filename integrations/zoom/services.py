"""Writes of the Zoom integration. Each write is one transaction; calls to Zoom happen outside.

- Connection: install (after the OAuth exchange), preferences, token refresh with rotation,
  broken, uninstall/disconnect.
- Staff ↔ Zoom user links: match by email, or create the Zoom user.
- Meetings Jelly mirrors, and their append-only audit: requested, created, changed, retired,
  deleted (the outbox destination in `sync` calls Zoom between these writes).
- The Zoom rows of the integrations outbox, for reasons the diary does not record.
- A reinstated appointment: its meeting request, reset as for a new booking.
- Zoom → the diary: a meeting changed or deleted in Zoom moves or cancels its appointment.
- Webhook deliveries: record (idempotent), then process in a task.
"""

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.db.models import F
from django.utils import timezone

from core.exceptions import DomainError
from core.links import absolute_url
from core.models import Organisation, Staff
from diary.choices import MOVABLE_STATUSES, AppointmentStatus, ChangeKind
from diary.models import Appointment
from diary.services import appointment_cancel, appointment_reschedule
from integrations.choices import OutboxStatus
from integrations.models import OutboxEntry
from integrations.services import outbox_entry_mark_wanted
from integrations.zoom import hooks, mail, oauth, selectors, webhooks
from integrations.zoom.choices import (
    ZOOM_MEETING,
    AuditKind,
    AuditSource,
    ConnectionStatus,
    DeliveryStatus,
    UserLinkOrigin,
)
from integrations.zoom.client import StaticTokenSource, ZoomClient, ZoomMeetingDetails, ZoomUser, parse_zoom_time
from integrations.zoom.errors import PermanentZoomError, ZoomAuthExpired, ZoomError, ZoomIntegrationError
from integrations.zoom.models import (
    ZoomAuditEntry,
    ZoomConnection,
    ZoomMeeting,
    ZoomMeetingRequest,
    ZoomUserLink,
    ZoomWebhookDelivery,
)
from integrations.zoom.payloads import topic_digest

logger = logging.getLogger(__name__)

# Refresh a little before Zoom's expiry so a token never dies between check and use.
REFRESH_MARGIN = timedelta(seconds=60)
# A delivery that failed this often stays failed (visible in admin) instead of looping.
MAX_DELIVERY_ATTEMPTS = 5
CLINIC_ZONE = ZoneInfo("Europe/London")


# --- Connection --------------------------------------------------------------------------------


def connection_install(*, organisation: Organisation, grant: oauth.TokenGrant, staff: Staff) -> ZoomConnection:
    """Store a fresh install: learn the Zoom account id (a call to Zoom), then save the tokens.

    Refuses a Zoom account another organisation already has connected, because webhooks name
    only the account and would reach the wrong clinic; the fresh grant is revoked then.
    """
    account_id = ZoomClient(StaticTokenSource(grant.access_token)).current_account_id()
    try:
        return _connection_store_install(organisation=organisation, grant=grant, account_id=account_id, staff=staff)
    except ZoomIntegrationError:
        _revoke_quietly([grant.access_token])
        raise


@transaction.atomic
def _connection_store_install(
    *, organisation: Organisation, grant: oauth.TokenGrant, account_id: str, staff: Staff
) -> ZoomConnection:
    taken = (
        ZoomConnection.objects.filter(zoom_account_id=account_id)
        .exclude(organisation=organisation)
        .exclude(status=ConnectionStatus.DISCONNECTED)
        .exists()
    )
    if taken:
        raise ZoomIntegrationError("This Zoom account is already connected to another organisation in Jelly.")
    connection = ZoomConnection.objects.select_for_update().filter(organisation=organisation).first()
    if connection is None:
        connection = ZoomConnection(organisation=organisation)
    now = timezone.now()
    connection.status = ConnectionStatus.CONNECTED
    connection.status_reason = ""
    connection.zoom_account_id = account_id
    connection.access_token = grant.access_token
    connection.refresh_token = grant.refresh_token
    connection.access_token_expires_at = grant.expires_at
    connection.scopes = grant.scopes
    connection.connected_by = staff
    connection.connected_at = now
    connection.disconnected_at = None
    connection.updated_at = now
    connection.full_clean()
    connection.save()
    # Meetings waiting on the broken connection go now; what changed while Zoom was
    # disconnected is caught up by the reconcile.
    zoom_outbox_rows_unblock(organisation=organisation)
    _reconcile_later(organisation.pk)
    return connection


def _reconcile_later(organisation_id) -> None:
    from integrations.zoom import tasks

    def enqueue():
        try:
            tasks.reconcile_zoom_meetings.delay(str(organisation_id))
        except Exception:
            logger.exception("Could not queue the Zoom reconcile; the nightly run catches up")

    transaction.on_commit(enqueue)


@transaction.atomic
def connection_preferences_update(
    *,
    organisation: Organisation,
    retain_data_on_uninstall: bool,
    create_users_with_cust_create: bool,
    auto_create_for_telehealth: bool = False,
) -> ZoomConnection:
    """The organisation's Zoom choices; they can be made before connecting. Switching on
    auto-create gives upcoming telehealth appointments their meetings (reconcile)."""
    connection = ZoomConnection.objects.select_for_update().filter(organisation=organisation).first()
    if connection is None:
        connection = ZoomConnection(organisation=organisation, status=ConnectionStatus.DISCONNECTED)
    switched_on = auto_create_for_telehealth and not connection.auto_create_for_telehealth
    connection.retain_data_on_uninstall = retain_data_on_uninstall
    connection.create_users_with_cust_create = create_users_with_cust_create
    connection.auto_create_for_telehealth = auto_create_for_telehealth
    connection.updated_at = timezone.now()
    connection.full_clean()
    connection.save()
    if switched_on and connection.status == ConnectionStatus.CONNECTED:
        _reconcile_later(organisation.pk)
    return connection


def connection_tokens_store(*, connection_id, grant: oauth.TokenGrant) -> bool:
    """Replace the token pair after a refresh (Zoom rotated the refresh token).

    Conditional on the connection still being connected, so a refresh that finishes after a
    disconnect cannot bring tokens back. Returns whether the tokens were stored.
    """
    with transaction.atomic():
        stored = ZoomConnection.objects.filter(pk=connection_id, status=ConnectionStatus.CONNECTED).update(
            access_token=grant.access_token,
            refresh_token=grant.refresh_token,
            access_token_expires_at=grant.expires_at,
            scopes=grant.scopes,
            updated_at=timezone.now(),
        )
    return bool(stored)


def connection_mark_broken(*, connection_id, reason: str) -> None:
    """Zoom refused our tokens: stop calling it until an admin reconnects. Nothing is deleted."""
    with transaction.atomic():
        changed = ZoomConnection.objects.filter(pk=connection_id, status=ConnectionStatus.CONNECTED).update(
            status=ConnectionStatus.BROKEN, status_reason=reason[:300], updated_at=timezone.now()
        )
    if changed:
        logger.warning("Zoom connection %s is broken: %s", connection_id, reason)


@contextmanager
def _refresh_lock(connection_id) -> Iterator[None]:
    """One refresh at a time per connection: Zoom invalidates a refresh token once used, so two
    workers refreshing with the same one would break the connection. A session-level advisory
    lock is held across the HTTP call without holding a transaction open."""
    if db_connection.vendor != "postgresql":
        yield
        return
    key = int.from_bytes(hashlib.sha256(f"zoom-refresh:{connection_id}".encode()).digest()[:8], "big", signed=True)
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        with db_connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _usable_connection(connection_id) -> ZoomConnection:
    connection = ZoomConnection.objects.get(pk=connection_id)
    if not connection.is_usable:
        raise ZoomAuthExpired(f"Zoom is {connection.get_status_display().lower()} for {connection.organisation_id}.")
    return connection


def _fresh(connection: ZoomConnection) -> bool:
    expires_at = connection.access_token_expires_at
    return bool(connection.access_token) and expires_at is not None and expires_at > timezone.now() + REFRESH_MARGIN


def connection_access_token(*, connection_id) -> str:
    """A usable access token, refreshed first if it is about to expire."""
    connection = _usable_connection(connection_id)
    if _fresh(connection):
        return connection.access_token
    return connection_refresh(connection_id=connection_id, rejected=connection.access_token)


def connection_refresh(*, connection_id, rejected: str) -> str:
    """Refresh the access token that Zoom rejected (or that expired) and store the rotated pair.

    If another worker already replaced `rejected` while we waited for the lock, its token is
    used. A refused refresh token breaks the connection.
    """
    with _refresh_lock(connection_id):
        connection = _usable_connection(connection_id)
        if connection.access_token != rejected and _fresh(connection):
            return connection.access_token
        try:
            grant = oauth.refresh(refresh_token=connection.refresh_token)
        except oauth.OAuthGrantRefused as exc:
            connection_mark_broken(
                connection_id=connection_id,
                reason="Zoom refused the refresh token (revoked or expired). An admin must reconnect Zoom.",
            )
            raise ZoomAuthExpired(str(exc), status=exc.status) from exc
        if not connection_tokens_store(connection_id=connection_id, grant=grant):
            _revoke_quietly([grant.access_token])
            raise ZoomAuthExpired("Zoom was disconnected while its token was being refreshed.")
        return grant.access_token


class ConnectionTokenSource:
    """`client.TokenSource` backed by a stored connection."""

    def __init__(self, connection_id):
        self.connection_id = connection_id

    def access_token(self) -> str:
        return connection_access_token(connection_id=self.connection_id)

    def refreshed_access_token(self, *, rejected: str) -> str:
        return connection_refresh(connection_id=self.connection_id, rejected=rejected)

    def mark_broken(self, reason: str) -> None:
        connection_mark_broken(connection_id=self.connection_id, reason=reason)


def zoom_client_for(organisation: Organisation) -> ZoomClient:
    """A client acting for the organisation's connection; refuses if Zoom is not connected."""
    connection = ZoomConnection.objects.filter(organisation=organisation).first()
    if connection is None or not connection.is_usable:
        raise ZoomIntegrationError("Zoom is not connected for this organisation.")
    return ZoomClient(ConnectionTokenSource(connection.pk))


@dataclass(frozen=True)
class UninstallResult:
    retained_data: bool
    user_links_deleted: int
    meetings_deleted: int
    audit_entries_deleted: int


def connection_uninstall(
    *, organisation: Organisation, reason: str, retain_data: bool | None = None
) -> UninstallResult:
    """Disconnect Zoom for one organisation (admin's "Disconnect", or Zoom's app_deauthorized).

    Always forgets the tokens and stops all calls to Zoom. Unless the organisation chose to
    retain its Zoom data, deletes all its Zoom user links, meeting records and Zoom audit entries
    in the same transaction. Idempotent; never touches another organisation. `retain_data`, when
    given, is the admin's choice made while disconnecting. The tokens are revoked afterwards,
    best effort, outside the transaction.
    """
    with transaction.atomic():
        result, tokens = _uninstall_rows(organisation=organisation, reason=reason, retain_data=retain_data)
    _revoke_quietly(tokens)
    return result


def _uninstall_rows(
    *, organisation: Organisation, reason: str, retain_data: bool | None
) -> tuple[UninstallResult, list[str]]:
    connection = ZoomConnection.objects.select_for_update().filter(organisation=organisation).first()
    tokens: list[str] = []
    if connection is not None:
        if retain_data is not None:
            connection.retain_data_on_uninstall = retain_data
        # Revoking the access token ends the grant; the refresh token only if that is all we have.
        tokens = [connection.access_token or connection.refresh_token] if connection.refresh_token else []
        retain = connection.retain_data_on_uninstall
    else:
        retain = bool(retain_data)

    deleted = {"audit": 0, "meetings": 0, "links": 0}
    if not retain:
        # Audit first: it points at meetings, and is the most personal (participant names).
        deleted["audit"], _ = ZoomAuditEntry.objects.for_organisation(organisation).delete()
        deleted["meetings"], _ = ZoomMeeting.objects.for_organisation(organisation).delete()
        ZoomMeetingRequest.objects.for_organisation(organisation).delete()
        deleted["links"], _ = ZoomUserLink.objects.for_organisation(organisation).delete()
        # Deliveries not yet processed may hold participant details: drop their payloads.
        ZoomWebhookDelivery.objects.filter(organisation=organisation).exclude(payload="").update(payload="")

    if connection is not None:
        now = timezone.now()
        if connection.status != ConnectionStatus.DISCONNECTED:
            connection.disconnected_at = now
        connection.status = ConnectionStatus.DISCONNECTED
        connection.status_reason = reason[:300]
        connection.access_token = ""
        connection.refresh_token = ""
        connection.access_token_expires_at = None
        connection.updated_at = now
        connection.full_clean()
        connection.save()
    logger.info(
        "Zoom disconnected for organisation %s (%s); data %s",
        organisation.pk,
        reason,
        "retained" if retain else "deleted",
    )
    result = UninstallResult(
        retained_data=retain,
        user_links_deleted=deleted["links"],
        meetings_deleted=deleted["meetings"],
        audit_entries_deleted=deleted["audit"],
    )
    return result, tokens


def _revoke_quietly(tokens: Iterable[str]) -> None:
    """Revoking is a courtesy to Zoom: the tokens are already forgotten, so a failure only logs."""
    for token in tokens:
        try:
            oauth.revoke(token=token)
        except ZoomError as exc:
            logger.info("Revoking a Zoom token failed (already forgotten by Jelly): %s", exc)


# --- Staff ↔ Zoom users ------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkByEmailResult:
    linked: int
    still_unlinked: int


def user_links_match_by_email(*, organisation: Organisation) -> LinkByEmailResult:
    """Link every active unlinked staff member whose email is a Zoom user's (read: id, email)."""
    zoom_users = zoom_client_for(organisation).list_users()
    return _user_links_store_matches(organisation=organisation, zoom_users=zoom_users)


@transaction.atomic
def _user_links_store_matches(*, organisation: Organisation, zoom_users: list[ZoomUser]) -> LinkByEmailResult:
    by_email = {user.email.lower(): user.id for user in zoom_users}
    taken = set(ZoomUserLink.objects.for_organisation(organisation).values_list("zoom_user_id", flat=True))
    unlinked = Staff.objects.for_organisation(organisation).filter(is_active=True, zoom_user_link__isnull=True)
    linked = 0
    remaining = 0
    for staff in unlinked:
        zoom_user_id = by_email.get(staff.email.lower())
        if zoom_user_id and zoom_user_id not in taken:
            _user_link_create(
                organisation=organisation,
                staff=staff,
                zoom_user_id=zoom_user_id,
                origin=UserLinkOrigin.MATCHED_BY_EMAIL,
            )
            taken.add(zoom_user_id)
            linked += 1
        else:
            remaining += 1
    return LinkByEmailResult(linked=linked, still_unlinked=remaining)


def zoom_user_create_for_staff(*, organisation: Organisation, staff: Staff) -> ZoomUserLink:
    """Create a Zoom user for a staff member who has none, and link it.

    `action` is "create" (Zoom emails an activation link) unless the organisation is a Zoom API
    partner and chose custCreate. Jelly never updates or deletes Zoom users.
    """
    if staff.organisation_id != organisation.pk or not staff.is_active:
        raise ZoomIntegrationError("Zoom users can be created only for active staff of this organisation.")
    if ZoomUserLink.objects.filter(staff=staff).exists():
        raise ZoomIntegrationError(f"{staff} is already linked to a Zoom user.")
    connection = ZoomConnection.objects.get(organisation=organisation)
    client = zoom_client_for(organisation)
    try:
        zoom_user = client.create_user(
            email=staff.email,
            first_name=staff.given_name,
            last_name=staff.family_name,
            action=connection.user_create_action,
        )
    except PermanentZoomError as exc:
        if exc.status == 409:
            raise ZoomIntegrationError(
                f"Zoom already has a user with {staff.email}. Use “Link staff by email” instead."
            ) from exc
        raise
    with transaction.atomic():
        return _user_link_create(
            organisation=organisation, staff=staff, zoom_user_id=zoom_user.id, origin=UserLinkOrigin.CREATED_BY_JELLY
        )


def _user_link_create(*, organisation: Organisation, staff: Staff, zoom_user_id: str, origin: str) -> ZoomUserLink:
    link = ZoomUserLink(organisation=organisation, staff=staff, zoom_user_id=zoom_user_id, origin=origin)
    link.full_clean()
    link.save()
    # Their appointments' meetings were waiting for a host.
    zoom_outbox_rows_unblock(organisation=organisation, staff_ids=[staff.pk])
    return link


# --- Meetings and their audit ------------------------------------------------------------------


def audit_entry_record(
    *,
    organisation: Organisation,
    zoom_meeting_id: int,
    kind: str,
    source: str,
    occurred_at: datetime,
    meeting: ZoomMeeting | None = None,
    participant_display_name: str = "",
    participant_user_id: str = "",
    participant_zoom_user_id: str = "",
) -> ZoomAuditEntry:
    """Append one audit entry (the only writer of `ZoomAuditEntry`)."""
    entry = ZoomAuditEntry(
        organisation=organisation,
        meeting=meeting,
        zoom_meeting_id=zoom_meeting_id,
        kind=kind,
        source=source,
        occurred_at=occurred_at,
        participant_display_name=participant_display_name[:255],
        participant_user_id=participant_user_id[:64],
        participant_zoom_user_id=participant_zoom_user_id[:64],
    )
    entry.full_clean()
    entry.save()
    return entry


def meeting_request(*, appointment: Appointment, staff: Staff) -> ZoomMeetingRequest:
    """Staff ask for a Zoom meeting for the appointment ("Create Zoom meeting", "Start Zoom
    call", "Email Zoom link"): record the wish (clearing an earlier withdrawal) and mark the
    appointment's Zoom outbox row wanted. Idempotent: asking twice changes nothing more."""
    if appointment.organisation_id != staff.organisation_id:
        raise ZoomIntegrationError("This appointment belongs to another organisation.")
    if appointment.status not in MOVABLE_STATUSES:
        raise ZoomIntegrationError(
            f"A {appointment.get_status_display().lower()} appointment cannot get a Zoom meeting."
        )
    with transaction.atomic():
        request = _meeting_request_get_or_create(appointment=appointment, requested_by=staff)
        # Asking again after a withdrawal; or asking for a meeting for an appointment that is
        # not (or no longer) a video appointment, which Jelly's own request no longer covers:
        # from now on staff want it, whatever the service becomes.
        jellys_own = request.requested_by_id is None and not appointment.service.is_telehealth
        if request.withdrawn_at is not None or jellys_own:
            request.withdrawn_at = None
            request.withdrawn_reason = ""
            request.requested_by = staff
            request.requested_at = timezone.now()
            request.full_clean(exclude=["appointment", "requested_by"])
            request.save(update_fields=["withdrawn_at", "withdrawn_reason", "requested_by", "requested_at"])
        zoom_outbox_mark_wanted(appointment=appointment)
    return request


REINSTATED_WITHOUT_MEETING = "The appointment was cancelled, then reinstated: staff create a new meeting if wanted."


def meeting_request_on_appointment_change(change) -> None:
    """Registered with `diary.change_listeners`, in the change's transaction: a reinstated
    appointment is, for Zoom, like a new booking.

    Its meeting was deleted when it was cancelled. It gets a new one by itself only if its
    service is telehealth and the organisation creates meetings automatically (an earlier
    withdrawal is cleared); otherwise the earlier request is withdrawn and staff use "Create
    Zoom meeting". A meeting not yet deleted (reinstated before the push got to it) simply
    stays. The outbox row is marked by the engine's own listener, as for every change.
    """
    if change.kind != ChangeKind.REINSTATED:
        return
    appointment = change.appointment
    request = ZoomMeetingRequest.objects.select_for_update().filter(appointment_id=appointment.pk).first()
    if request is None:
        return  # never asked for: the destination's `wants` decides, as for a new booking
    if ZoomMeeting.objects.filter(
        appointment_id=appointment.pk, retired_at__isnull=True, deleted_at__isnull=True
    ).exists():
        return
    automatic = selectors.meetings_made_automatically(appointment)
    if automatic and request.withdrawn_at is not None:
        request.withdrawn_at, request.withdrawn_reason = None, ""
    elif not automatic and request.withdrawn_at is None:
        request.withdrawn_at, request.withdrawn_reason = timezone.now(), REINSTATED_WITHOUT_MEETING
    else:
        return
    request.save(update_fields=["withdrawn_at", "withdrawn_reason"])


def meeting_request_ensure(*, appointment: Appointment) -> ZoomMeetingRequest:
    """The appointment's request row, made now for a meeting Jelly creates automatically."""
    with transaction.atomic():
        return _meeting_request_get_or_create(appointment=appointment, requested_by=None)


def _meeting_request_get_or_create(*, appointment: Appointment, requested_by: Staff | None) -> ZoomMeetingRequest:
    request = ZoomMeetingRequest.objects.select_for_update().filter(appointment_id=appointment.pk).first()
    if request is not None:
        return request
    try:
        with transaction.atomic():
            request = ZoomMeetingRequest(
                organisation_id=appointment.organisation_id, appointment=appointment, requested_by=requested_by
            )
            request.full_clean(exclude=["appointment", "requested_by"], validate_unique=False)
            request.save()
            return request
    except IntegrityError:
        # Another transaction made it first (one per appointment): use theirs.
        return ZoomMeetingRequest.objects.select_for_update().get(appointment_id=appointment.pk)


def meeting_create_begin(*, request: ZoomMeetingRequest, host_zoom_user_id: str) -> None:
    """Written and committed before asking Zoom to create a meeting (see `ZoomMeetingRequest`)."""
    with transaction.atomic():
        ZoomMeetingRequest.objects.filter(pk=request.pk).update(
            create_started_for=host_zoom_user_id[:64], create_started_at=timezone.now()
        )
    request.create_started_for = host_zoom_user_id[:64]


def meeting_create_abandoned(*, request: ZoomMeetingRequest) -> None:
    """The lost create was looked for and cleaned up, and no meeting is wanted any more."""
    with transaction.atomic():
        ZoomMeetingRequest.objects.filter(pk=request.pk).update(create_started_for="", create_started_at=None)
    request.create_started_for = ""


@transaction.atomic
def meeting_record_created(
    *,
    organisation: Organisation,
    details: ZoomMeetingDetails,
    appointment: Appointment | None = None,
    request: ZoomMeetingRequest | None = None,
    replacing: ZoomMeeting | None = None,
) -> ZoomMeeting:
    """Mirror a meeting Jelly has just created in Zoom (or found, when the create's answer was
    lost), with its audit entry; in the same transaction, retire the meeting it replaces (the
    practitioner changed: it is deleted in Zoom next), clear the request's pending create, and
    bring the patient's Zoom link emails up to the new join link (`mail`).

    Recording the new meeting before deleting the old one is what keeps a retry from creating
    a third: whatever happens next, Jelly knows both meetings. The link email, made here, is
    made once with it.
    """
    now = timezone.now()
    if replacing is not None:
        ZoomMeeting.objects.filter(pk=replacing.pk, retired_at__isnull=True).update(retired_at=now)
    meeting = ZoomMeeting(
        organisation=organisation,
        zoom_meeting_id=details.id,
        join_url=details.join_url,
        host_zoom_user_id=details.host_id,
        appointment=appointment,
        synced_start_time=details.start_time,
        synced_duration_minutes=details.duration_minutes,
        synced_topic_digest=topic_digest(details.topic) if details.topic else "",
        synced_at=now,
    )
    meeting.full_clean(exclude=["appointment"], validate_constraints=False)
    meeting.save()
    if request is not None:
        ZoomMeetingRequest.objects.filter(pk=request.pk).update(create_started_for="", create_started_at=None)
        request.create_started_for = ""
    audit_entry_record(
        organisation=organisation,
        meeting=meeting,
        zoom_meeting_id=meeting.zoom_meeting_id,
        kind=AuditKind.CREATED,
        source=AuditSource.JELLY,
        occurred_at=now,
    )
    if appointment is not None:
        mail.zoom_link_follow_new_meeting(appointment=appointment, meeting=meeting)
    return meeting


@transaction.atomic
def meeting_record_synced(
    *, meeting: ZoomMeeting, start_time: datetime, duration_minutes: int, topic_digest: str | None = None
) -> ZoomMeeting:
    """Remember the time (and topic) Jelly is about to send Zoom, before the PATCH, so the
    resulting `meeting.updated` webhook is recognised as Jelly's own echo. The PATCH counts as
    pending until `meeting_record_update_confirmed`; a retry of the same values is not audited
    again."""
    meeting = ZoomMeeting.objects.select_for_update().get(pk=meeting.pk)
    digest = meeting.synced_topic_digest if topic_digest is None else topic_digest
    changed = (meeting.synced_start_time, meeting.synced_duration_minutes, meeting.synced_topic_digest) != (
        start_time,
        duration_minutes,
        digest,
    )
    if not changed and meeting.update_pending:
        return meeting  # a retry of the PATCH already recorded
    meeting.synced_start_time = start_time
    meeting.synced_duration_minutes = duration_minutes
    meeting.synced_topic_digest = digest
    meeting.synced_at = timezone.now()
    meeting.update_pending = True
    meeting.full_clean(exclude=["appointment"], validate_constraints=False)
    meeting.save(
        update_fields=[
            "synced_start_time",
            "synced_duration_minutes",
            "synced_topic_digest",
            "synced_at",
            "update_pending",
        ]
    )
    audit_entry_record(
        organisation=meeting.organisation,
        meeting=meeting,
        zoom_meeting_id=meeting.zoom_meeting_id,
        kind=AuditKind.UPDATED,
        source=AuditSource.JELLY,
        occurred_at=meeting.synced_at,
    )
    return meeting


def meeting_record_update_confirmed(*, meeting: ZoomMeeting) -> None:
    """Zoom accepted the PATCH recorded by `meeting_record_synced`."""
    with transaction.atomic():
        ZoomMeeting.objects.filter(
            pk=meeting.pk,
            synced_start_time=meeting.synced_start_time,
            synced_duration_minutes=meeting.synced_duration_minutes,
            synced_topic_digest=meeting.synced_topic_digest,
        ).update(update_pending=False)


def meeting_retire(*, meeting: ZoomMeeting, withdraw_link_emails_because: str = "") -> None:
    """Jelly no longer wants this meeting (the appointment was cancelled, or is no longer a
    video appointment): it is deleted in Zoom next, and from now on its `meeting.deleted`
    webhook is Jelly's own echo. With a reason, link emails not yet sent are withdrawn in the
    same transaction (a cancellation's are withdrawn by the cancellation itself)."""
    with transaction.atomic():
        ZoomMeeting.objects.filter(pk=meeting.pk, retired_at__isnull=True).update(retired_at=timezone.now())
        if withdraw_link_emails_because:
            mail.zoom_link_withdraw(appointment_id=meeting.appointment_id, reason=withdraw_link_emails_because)


@transaction.atomic
def meeting_record_deleted(*, meeting: ZoomMeeting) -> ZoomMeeting:
    """Jelly deleted the meeting in Zoom (or is about to): its `meeting.deleted` webhook is then
    an echo. Audited once, as deleted from Jelly."""
    meeting = ZoomMeeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.deleted_at is None:
        meeting.deleted_at = timezone.now()
        meeting.retired_at = meeting.retired_at or meeting.deleted_at
        meeting.update_pending = False
        meeting.save(update_fields=["deleted_at", "retired_at", "update_pending"])
        audit_entry_record(
            organisation=meeting.organisation,
            meeting=meeting,
            zoom_meeting_id=meeting.zoom_meeting_id,
            kind=AuditKind.DELETED,
            source=AuditSource.JELLY,
            occurred_at=meeting.deleted_at,
        )
    return meeting


@transaction.atomic
def meeting_record_missing(*, meeting: ZoomMeeting) -> ZoomMeeting:
    """Zoom answered 404 for a meeting Jelly believed live (deleted in Zoom, its webhook not yet
    here or lost). Recorded as deleted in Zoom; the push then creates a new one, and a late
    `meeting.deleted` webhook for this one finds it already deleted and changes nothing."""
    meeting = ZoomMeeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.deleted_at is None:
        meeting.deleted_at = timezone.now()
        meeting.update_pending = False
        meeting.save(update_fields=["deleted_at", "update_pending"])
        audit_entry_record(
            organisation=meeting.organisation,
            meeting=meeting,
            zoom_meeting_id=meeting.zoom_meeting_id,
            kind=AuditKind.DELETED,
            source=AuditSource.ZOOM,
            occurred_at=meeting.deleted_at,
        )
    return meeting


@transaction.atomic
def meeting_flag_dismiss(*, meeting: ZoomMeeting, staff: Staff) -> bool:
    """Staff have seen a refused change from Zoom. The audit entry stays."""
    if meeting.organisation_id != staff.organisation_id:
        raise ZoomIntegrationError("This meeting belongs to another organisation.")
    cleared = ZoomMeeting.objects.filter(pk=meeting.pk, flagged_at__isnull=False).update(
        flagged_at=None, flag_reason=""
    )
    if cleared:
        logger.info("Zoom meeting flag on %s dismissed by staff %s", meeting.pk, staff.pk)
    return bool(cleared)


# --- The Zoom outbox rows -------------------------------------------------------------------------


def _drain_zoom_later(appointment_ids: list[str] | None = None) -> None:
    """Queue the engine's drain after commit. A broker outage loses nothing: the rows are in the
    database and the engine's beat sweeper pushes them."""

    def enqueue():
        from integrations import tasks as engine_tasks

        try:
            engine_tasks.drain_outbox.delay(appointment_ids=appointment_ids)
        except Exception:
            logger.exception("Could not queue the outbox drain; the sweeper will pick the work up")

    transaction.on_commit(enqueue)


def zoom_outbox_mark_wanted(*, appointment: Appointment) -> None:
    """Mark the appointment's Zoom outbox row wanted (creating it if need be) for a reason the
    diary did not record as a change: staff asked for a meeting, or a change made in Zoom was
    refused and the meeting must be set back. The marking itself is the engine's."""
    if not outbox_entry_mark_wanted(destination_key=ZOOM_MEETING, appointment=appointment):
        try:
            with transaction.atomic():
                OutboxEntry.objects.create(
                    organisation_id=appointment.organisation_id,
                    destination=ZOOM_MEETING,
                    appointment=appointment,
                    wanted_version=appointment.version,
                    next_attempt_at=timezone.now(),
                )
        except IntegrityError:  # created meanwhile by a concurrent change: mark that row instead
            outbox_entry_mark_wanted(destination_key=ZOOM_MEETING, appointment=appointment)
    _drain_zoom_later([str(appointment.pk)])


def zoom_outbox_rows_unblock(*, organisation: Organisation, staff_ids=None) -> int:
    """Rows blocked on a broken connection or a practitioner with no Zoom user try again now
    (after a reconnect or a new link)."""
    rows = OutboxEntry.objects.filter(organisation=organisation, destination=ZOOM_MEETING, status=OutboxStatus.BLOCKED)
    if staff_ids is not None:
        rows = rows.filter(appointment__practitioner_id__in=list(staff_ids))
    unblocked = rows.update(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=timezone.now())
    if unblocked:
        _drain_zoom_later()
    return unblocked


def zoom_meetings_reconcile(*, organisation: Organisation | None = None) -> int:
    """Compare upcoming appointments with Jelly's record of their Zoom meetings and re-mark the
    rows that claim to be in sync but are not (a race lost between a push and a change made at
    the same moment, a reconnect after a disconnection). Zoom is not called. Rows pending, dead
    or blocked are left alone. Returns how many rows were marked."""
    from integrations.zoom.sync import meeting_wanted

    connections = ZoomConnection.objects.filter(status=ConnectionStatus.CONNECTED)
    if organisation is not None:
        connections = connections.filter(organisation=organisation)
    marked = 0
    for connection in connections.select_related("organisation"):
        since = timezone.now() - timedelta(hours=12)
        appointments = list(
            Appointment.objects.filter(organisation_id=connection.organisation_id, end__gte=since)
            .select_related("service", "practitioner")
            .order_by("start")
        )
        ids = [appointment.pk for appointment in appointments]
        meetings: dict = {}
        for meeting in ZoomMeeting.objects.filter(appointment_id__in=ids, deleted_at__isnull=True):
            meetings.setdefault(meeting.appointment_id, []).append(meeting)
        requests = {r.appointment_id: r for r in ZoomMeetingRequest.objects.filter(appointment_id__in=ids)}
        hosts = dict(
            ZoomUserLink.objects.filter(organisation_id=connection.organisation_id).values_list(
                "staff_id", "zoom_user_id"
            )
        )
        rows = {
            row.appointment_id: row
            for row in OutboxEntry.objects.filter(destination=ZOOM_MEETING, appointment_id__in=ids)
        }
        for appointment in appointments:
            own = meetings.get(appointment.pk, [])
            live = next((m for m in own if m.retired_at is None), None)
            drifted = any(m.retired_at is not None for m in own)
            if appointment.status == AppointmentStatus.CANCELLED:
                drifted |= live is not None
            elif appointment.status in MOVABLE_STATUSES:
                if live is None:
                    drifted |= meeting_wanted(appointment, connection, requests.get(appointment.pk), None)
                else:
                    drifted |= (
                        live.update_pending
                        or live.synced_start_time != appointment.start
                        or live.synced_duration_minutes != appointment.duration_minutes
                        or live.host_zoom_user_id != hosts.get(appointment.practitioner_id, live.host_zoom_user_id)
                    )
            row = rows.get(appointment.pk)
            if drifted and (row is None or row.status == OutboxStatus.DONE):
                with transaction.atomic():
                    zoom_outbox_mark_wanted(appointment=appointment)
                marked += 1
    return marked


# --- Zoom → the diary -----------------------------------------------------------------------------

DELETED_BY_HOST = "Zoom meeting deleted by host"


def appointment_follow_zoom_change(*, meeting: ZoomMeeting, change: "hooks.MeetingChange") -> None:
    """Apply a change made in Zoom to the meeting's appointment, inside the webhook's
    transaction (the meeting row is locked). Never called for Jelly's own echoes.

    - A new time or length moves the appointment through the diary's booking rules, as its
      practitioner. A move the rules refuse (a double booking, outside their hours, a stale or
      finished appointment) is not applied: the meeting is flagged for staff, the refusal
      audited, and the meeting set back to the appointment's time through the outbox.
    - A deletion cancels the appointment ("Zoom meeting deleted by host") and tells the
      practitioner. An arrived appointment (only staff may cancel it, confirming in the diary)
      or a finished one is flagged instead, and no new meeting is made for it.
    """
    if meeting.appointment_id is None or meeting.retired_at is not None:
        logger.info("Zoom meeting %s changed in Zoom; no appointment follows it", meeting.zoom_meeting_id)
        return
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("practitioner", "service")
        .get(pk=meeting.appointment_id)
    )
    if change.kind == hooks.CHANGE_UPDATED:
        _appointment_follow_zoom_update(meeting=meeting, appointment=appointment, change=change)
    elif change.kind == hooks.CHANGE_DELETED:
        _appointment_follow_zoom_deletion(meeting=meeting, appointment=appointment, change=change)


def _appointment_follow_zoom_update(*, meeting: ZoomMeeting, appointment: Appointment, change) -> None:
    if change.start_time is None and change.duration_minutes is None:
        return  # the topic or a setting changed in Zoom: nothing of the appointment's
    start = change.start_time or appointment.start
    duration = change.duration_minutes or appointment.duration_minutes
    end = start + timedelta(minutes=duration)
    if (start, end) != (appointment.start, appointment.end):
        try:
            appointment_reschedule(
                actor=appointment.practitioner,
                appointment=appointment,
                version=appointment.version,
                start=start,
                end=end,
            )
        except DomainError as error:
            _meeting_refuse_zoom_change(
                meeting=meeting,
                appointment=appointment,
                reason=f"Moved in Zoom to {_clinic_time(start)} for {duration} min; not applied: {error.message}",
                zoom_start=start,
                zoom_duration=duration,
                occurred_at=change.occurred_at,
            )
            return
    # Zoom already shows this time: remember it, so the push has nothing to send back.
    meeting.synced_start_time = start
    meeting.synced_duration_minutes = duration
    meeting.save(update_fields=["synced_start_time", "synced_duration_minutes"])


def _appointment_follow_zoom_deletion(*, meeting: ZoomMeeting, appointment: Appointment, change) -> None:
    if appointment.status == AppointmentStatus.CANCELLED:
        return
    try:
        appointment_cancel(
            actor=appointment.practitioner, appointment=appointment, reason=DELETED_BY_HOST, version=appointment.version
        )
    except DomainError as error:
        ZoomMeetingRequest.objects.filter(appointment_id=appointment.pk).update(
            withdrawn_at=change.occurred_at, withdrawn_reason="Deleted in Zoom by its host."
        )
        _meeting_refuse_zoom_change(
            meeting=meeting,
            appointment=appointment,
            reason=f"Deleted in Zoom by its host; the appointment was not cancelled: {error.message}",
            zoom_start=None,
            zoom_duration=None,
            occurred_at=change.occurred_at,
        )
        return
    from integrations.zoom import tasks

    appointment_id = str(appointment.pk)
    transaction.on_commit(lambda: tasks.notify_practitioner_meeting_deleted.delay(appointment_id))


def _meeting_refuse_zoom_change(
    *, meeting: ZoomMeeting, appointment: Appointment, reason: str, zoom_start, zoom_duration, occurred_at
) -> None:
    meeting.flagged_at = timezone.now()
    meeting.flag_reason = reason[:300]
    fields = ["flagged_at", "flag_reason"]
    if zoom_start is not None:
        # What Zoom shows now: the push sees it differs from the appointment and PATCHes it back.
        meeting.synced_start_time = zoom_start
        meeting.synced_duration_minutes = zoom_duration
        fields += ["synced_start_time", "synced_duration_minutes"]
    meeting.save(update_fields=fields)
    audit_entry_record(
        organisation=meeting.organisation,
        meeting=meeting,
        zoom_meeting_id=meeting.zoom_meeting_id,
        kind=AuditKind.CHANGE_REFUSED,
        source=AuditSource.ZOOM,
        occurred_at=occurred_at,
    )
    if zoom_start is not None:
        zoom_outbox_mark_wanted(appointment=appointment)
    logger.info("A change to Zoom meeting %s made in Zoom was refused", meeting.zoom_meeting_id)


def _clinic_time(value: datetime) -> str:
    local = timezone.localtime(value, CLINIC_ZONE)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def practitioner_notify_meeting_deleted(*, appointment_id) -> bool:
    """Email the practitioner that an appointment was cancelled because its Zoom meeting was
    deleted in Zoom. Only the time and a link: no patient details in email."""
    appointment = Appointment.objects.select_related("practitioner").filter(pk=appointment_id).first()
    if appointment is None or appointment.status != AppointmentStatus.CANCELLED:
        return False
    practitioner = appointment.practitioner
    send_mail(
        subject="Appointment cancelled: its Zoom meeting was deleted",
        message=(
            f"Hello {practitioner.given_name or practitioner},\n\n"
            f"The Zoom meeting for your appointment on {_clinic_time(appointment.start)} was deleted in Zoom, "
            f'so Jelly cancelled the appointment ("{DELETED_BY_HOST}").\n\n'
            "If that was a mistake, reinstate the appointment in the diary while its slot is still free. "
            "It gets a new Zoom meeting by itself if the clinic makes them automatically for telehealth; "
            "otherwise use Create Zoom meeting on the appointment.\n\n"
            f"The appointment in Jelly: {absolute_url('diary:appointment', pk=appointment.pk)}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[practitioner.email],
        fail_silently=False,
    )
    return True


# --- Webhook deliveries ------------------------------------------------------------------------


def _organisation_for_account(account_id: str) -> Organisation | None:
    if not account_id:
        return None
    connections = ZoomConnection.objects.filter(zoom_account_id=account_id).select_related("organisation")
    connection = (
        connections.exclude(status=ConnectionStatus.DISCONNECTED).first() or connections.order_by("-updated_at").first()
    )
    return connection.organisation if connection else None


def webhook_delivery_receive(*, event: webhooks.ZoomEvent) -> tuple[ZoomWebhookDelivery, bool]:
    """Record a verified event once and queue its processing after commit.

    A duplicate (Zoom's retry, or a replay within the signature window) finds the existing row
    and has no second effect; it only re-queues a delivery that has not been processed yet.
    """
    from integrations.zoom import tasks  # tasks import services; import here to avoid a cycle

    organisation = _organisation_for_account(event.account_id)
    with transaction.atomic():
        delivery, created = ZoomWebhookDelivery.objects.get_or_create(
            dedupe_key=event.dedupe_key,
            defaults={
                "organisation": organisation,
                "event": event.name,
                "event_ts": event.event_ts,
                "zoom_account_id": event.account_id[:64],
                "payload": json.dumps(event.body, separators=(",", ":")),
            },
        )
        pending = delivery.status in (DeliveryStatus.RECEIVED, DeliveryStatus.FAILED)
        if created or (pending and delivery.attempts < MAX_DELIVERY_ATTEMPTS):
            delivery_id = delivery.pk
            transaction.on_commit(lambda: tasks.process_webhook_delivery.delay(delivery_id))
    return delivery, created


def webhook_delivery_process(*, delivery_id: int) -> str | None:
    """Apply one delivery. Claimed with FOR UPDATE SKIP LOCKED, so two workers cannot both apply
    it; a worker that dies mid-way rolls back and leaves it to be claimed again.

    Returns the delivery's new status, or None if there was nothing to claim.
    """
    tokens_to_revoke: list[str] = []
    with transaction.atomic():
        delivery = (
            ZoomWebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=delivery_id, status__in=[DeliveryStatus.RECEIVED, DeliveryStatus.FAILED])
            .select_related("organisation")
            .first()
        )
        if delivery is None:
            return None
        outcome = DeliveryStatus.IGNORED
        if delivery.payload and delivery.organisation is not None:
            event = webhooks.event_from_body(json.loads(delivery.payload))
            if event.name == webhooks.APP_DEAUTHORIZED:
                _, tokens_to_revoke = _uninstall_rows(
                    organisation=delivery.organisation, reason="The Zoom app was uninstalled in Zoom.", retain_data=None
                )
                outcome = DeliveryStatus.PROCESSED
            else:
                outcome = _meeting_event_apply(organisation=delivery.organisation, event=event)
        delivery.status = outcome
        delivery.payload = ""
        delivery.attempts += 1
        delivery.last_error = ""
        delivery.processed_at = timezone.now()
        delivery.save(update_fields=["status", "payload", "attempts", "last_error", "processed_at"])
    _revoke_quietly(tokens_to_revoke)
    return outcome


def webhook_delivery_mark_failed(*, delivery_id: int, error: BaseException) -> None:
    """Record a failed attempt (the error's type only: messages may quote the payload)."""
    with transaction.atomic():
        ZoomWebhookDelivery.objects.filter(
            pk=delivery_id, status__in=[DeliveryStatus.RECEIVED, DeliveryStatus.FAILED]
        ).update(status=DeliveryStatus.FAILED, attempts=F("attempts") + 1, last_error=type(error).__name__[:200])


def webhook_deliveries_prune(*, older_than: timedelta) -> int:
    """Forget finished deliveries. Zoom stops retrying within hours and a signature is good for
    five minutes, so an old ledger row can no longer stop anything being applied twice."""
    with transaction.atomic():
        deleted, _ = ZoomWebhookDelivery.objects.filter(
            status__in=[DeliveryStatus.PROCESSED, DeliveryStatus.IGNORED],
            received_at__lt=timezone.now() - older_than,
        ).delete()
    return deleted


def _event_time(event: webhooks.ZoomEvent, *candidates) -> datetime:
    for candidate in candidates:
        parsed = parse_zoom_time(candidate)
        if parsed is not None:
            return parsed
    if event.event_ts is not None:
        return datetime.fromtimestamp(event.event_ts / 1000, tz=UTC)
    return timezone.now()


def _meeting_event_apply(*, organisation: Organisation, event: webhooks.ZoomEvent) -> str:
    """Record what Zoom reports about a meeting Jelly mirrors; anything else is ignored.

    Meetings Jelly did not create are none of its business: their participants are not
    recorded. Echoes of Jelly's own create/update/delete are recognised and skipped.
    """
    connection = ZoomConnection.objects.filter(organisation=organisation).first()
    if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
        return DeliveryStatus.IGNORED
    meeting = (
        ZoomMeeting.objects.select_for_update()
        .filter(organisation=organisation, zoom_meeting_id=event.meeting_id)
        .first()
    )
    if meeting is None:
        return DeliveryStatus.IGNORED

    obj = event.object
    record = {"organisation": organisation, "meeting": meeting, "zoom_meeting_id": meeting.zoom_meeting_id}

    if event.name == webhooks.MEETING_CREATED:
        # Jelly created it and audited that; Zoom's notice is the echo.
        return DeliveryStatus.PROCESSED

    if event.name == webhooks.MEETING_UPDATED:
        if not meeting.is_live:
            return DeliveryStatus.PROCESSED  # Jelly is deleting it, or it is gone: nothing to follow
        start_time = parse_zoom_time(obj.get("start_time"))
        duration = obj.get("duration") if isinstance(obj.get("duration"), int) else None
        topic = obj.get("topic") if isinstance(obj.get("topic"), str) else None
        # Zoom names only the fields that changed. Each one equal to what Jelly last sent: the
        # echo of Jelly's own PATCH.
        same = []
        if start_time is not None:
            same.append(start_time == meeting.synced_start_time)
        if duration is not None:
            same.append(duration == meeting.synced_duration_minutes)
        if topic is not None and meeting.synced_topic_digest:
            same.append(topic_digest(topic) == meeting.synced_topic_digest)
        if same and all(same):
            return DeliveryStatus.PROCESSED
        time_stamp = event.payload.get("time_stamp")
        occurred_at = (
            datetime.fromtimestamp(time_stamp / 1000, tz=UTC)
            if isinstance(time_stamp, int) and not isinstance(time_stamp, bool)
            else _event_time(event)
        )
        if meeting.synced_at is not None and occurred_at < meeting.synced_at:
            # Made before Jelly's latest change, which overwrote it in Zoom (typically the late
            # echo of an earlier PATCH of Jelly's): Zoom shows Jelly's values, nothing to follow.
            logger.info("Zoom meeting %s: a change older than Jelly's last update ignored", meeting.zoom_meeting_id)
            return DeliveryStatus.PROCESSED
        audit_entry_record(**record, kind=AuditKind.UPDATED, source=AuditSource.ZOOM, occurred_at=occurred_at)
        hooks.on_meeting_changed(
            meeting,
            hooks.MeetingChange(
                kind=hooks.CHANGE_UPDATED, occurred_at=occurred_at, start_time=start_time, duration_minutes=duration
            ),
        )
        return DeliveryStatus.PROCESSED

    if event.name == webhooks.MEETING_DELETED:
        if not meeting.is_live:
            return DeliveryStatus.PROCESSED  # Jelly deleted it, is deleting it, or Zoom told us already
        occurred_at = _event_time(event)
        meeting.deleted_at = occurred_at
        meeting.update_pending = False
        meeting.save(update_fields=["deleted_at", "update_pending"])
        audit_entry_record(**record, kind=AuditKind.DELETED, source=AuditSource.ZOOM, occurred_at=occurred_at)
        hooks.on_meeting_changed(meeting, hooks.MeetingChange(kind=hooks.CHANGE_DELETED, occurred_at=occurred_at))
        return DeliveryStatus.PROCESSED

    if event.name == webhooks.MEETING_STARTED:
        occurred_at = _event_time(event, obj.get("start_time"))
        audit_entry_record(**record, kind=AuditKind.STARTED, source=AuditSource.ZOOM, occurred_at=occurred_at)
        return DeliveryStatus.PROCESSED

    if event.name == webhooks.MEETING_ENDED:
        occurred_at = _event_time(event, obj.get("end_time"))
        audit_entry_record(**record, kind=AuditKind.ENDED, source=AuditSource.ZOOM, occurred_at=occurred_at)
        return DeliveryStatus.PROCESSED

    # Participant joined or left. Zoom's `participant.id` is the Zoom user id of a signed-in
    # participant; equal to the host's, it is the host.
    participant = event.participant
    zoom_user_id = str(participant.get("id") or "")
    is_host = bool(zoom_user_id) and zoom_user_id in {str(obj.get("host_id") or ""), meeting.host_zoom_user_id}
    joined = event.name == webhooks.PARTICIPANT_JOINED
    if joined:
        kind = AuditKind.HOST_JOINED if is_host else AuditKind.PARTICIPANT_JOINED
        occurred_at = _event_time(event, participant.get("join_time"))
    else:
        kind = AuditKind.HOST_LEFT if is_host else AuditKind.PARTICIPANT_LEFT
        occurred_at = _event_time(event, participant.get("leave_time"))
    audit_entry_record(
        **record,
        kind=kind,
        source=AuditSource.ZOOM,
        occurred_at=occurred_at,
        participant_display_name=str(participant.get("user_name") or ""),
        participant_user_id=str(participant.get("user_id") or participant.get("participant_uuid") or ""),
        participant_zoom_user_id=zoom_user_id,
    )
    return DeliveryStatus.PROCESSED
