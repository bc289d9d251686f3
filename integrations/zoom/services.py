"""Writes of the Zoom integration. Each write is one transaction; calls to Zoom happen outside.

- Connection: install (after the OAuth exchange), preferences, token refresh with rotation,
  broken, uninstall/disconnect.
- Staff ↔ Zoom user links: match by email, or create the Zoom user.
- Meetings Jelly mirrors, and their append-only audit.
- Webhook deliveries: record (idempotent), then process in a task.
"""

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.models import Organisation, Staff
from integrations.zoom import hooks, oauth, webhooks
from integrations.zoom.choices import AuditKind, AuditSource, ConnectionStatus, DeliveryStatus, UserLinkOrigin
from integrations.zoom.client import StaticTokenSource, ZoomClient, ZoomMeetingDetails, ZoomUser, parse_zoom_time
from integrations.zoom.errors import PermanentZoomError, ZoomAuthExpired, ZoomError, ZoomIntegrationError
from integrations.zoom.models import ZoomAuditEntry, ZoomConnection, ZoomMeeting, ZoomUserLink, ZoomWebhookDelivery

logger = logging.getLogger(__name__)

# Refresh a little before Zoom's expiry so a token never dies between check and use.
REFRESH_MARGIN = timedelta(seconds=60)
# A delivery that failed this often stays failed (visible in admin) instead of looping.
MAX_DELIVERY_ATTEMPTS = 5


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
    return connection


@transaction.atomic
def connection_preferences_update(
    *, organisation: Organisation, retain_data_on_uninstall: bool, create_users_with_cust_create: bool
) -> ZoomConnection:
    """The organisation's Zoom choices; they can be made before connecting."""
    connection = ZoomConnection.objects.select_for_update().filter(organisation=organisation).first()
    if connection is None:
        connection = ZoomConnection(organisation=organisation, status=ConnectionStatus.DISCONNECTED)
    connection.retain_data_on_uninstall = retain_data_on_uninstall
    connection.create_users_with_cust_create = create_users_with_cust_create
    connection.updated_at = timezone.now()
    connection.full_clean()
    connection.save()
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


@transaction.atomic
def meeting_record_created(
    *, organisation: Organisation, details: ZoomMeetingDetails, appointment_id=None
) -> ZoomMeeting:
    """Mirror a meeting Jelly has just created in Zoom (the diary calls this), with its audit."""
    meeting = ZoomMeeting(
        organisation=organisation,
        zoom_meeting_id=details.id,
        join_url=details.join_url,
        host_zoom_user_id=details.host_id,
        appointment_id=appointment_id,
        synced_start_time=details.start_time,
        synced_duration_minutes=details.duration_minutes,
    )
    meeting.full_clean()
    meeting.save()
    audit_entry_record(
        organisation=organisation,
        meeting=meeting,
        zoom_meeting_id=meeting.zoom_meeting_id,
        kind=AuditKind.CREATED,
        source=AuditSource.JELLY,
        occurred_at=timezone.now(),
    )
    return meeting


@transaction.atomic
def meeting_record_synced(*, meeting: ZoomMeeting, start_time: datetime, duration_minutes: int) -> ZoomMeeting:
    """Remember the time Jelly is about to send Zoom, before the PATCH, so the resulting
    `meeting.updated` webhook is recognised as Jelly's own echo."""
    meeting = ZoomMeeting.objects.select_for_update().get(pk=meeting.pk)
    meeting.synced_start_time = start_time
    meeting.synced_duration_minutes = duration_minutes
    meeting.full_clean()
    meeting.save(update_fields=["synced_start_time", "synced_duration_minutes"])
    audit_entry_record(
        organisation=meeting.organisation,
        meeting=meeting,
        zoom_meeting_id=meeting.zoom_meeting_id,
        kind=AuditKind.UPDATED,
        source=AuditSource.JELLY,
        occurred_at=timezone.now(),
    )
    return meeting


@transaction.atomic
def meeting_record_deleted(*, meeting: ZoomMeeting) -> ZoomMeeting:
    """Jelly is deleting the meeting in Zoom: its `meeting.deleted` webhook is then an echo."""
    meeting = ZoomMeeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.deleted_at is None:
        meeting.deleted_at = timezone.now()
        meeting.save(update_fields=["deleted_at"])
        audit_entry_record(
            organisation=meeting.organisation,
            meeting=meeting,
            zoom_meeting_id=meeting.zoom_meeting_id,
            kind=AuditKind.DELETED,
            source=AuditSource.JELLY,
            occurred_at=meeting.deleted_at,
        )
    return meeting


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
        start_time = parse_zoom_time(obj.get("start_time"))
        duration = obj.get("duration") if isinstance(obj.get("duration"), int) else None
        about_time = start_time is not None or duration is not None
        is_echo = (
            about_time
            and (start_time is None or start_time == meeting.synced_start_time)
            and (duration is None or duration == meeting.synced_duration_minutes)
        )
        if is_echo:
            return DeliveryStatus.PROCESSED
        time_stamp = event.payload.get("time_stamp")
        occurred_at = (
            datetime.fromtimestamp(time_stamp / 1000, tz=UTC)
            if isinstance(time_stamp, int) and not isinstance(time_stamp, bool)
            else _event_time(event)
        )
        audit_entry_record(**record, kind=AuditKind.UPDATED, source=AuditSource.ZOOM, occurred_at=occurred_at)
        hooks.on_meeting_changed(
            meeting,
            hooks.MeetingChange(
                kind=hooks.CHANGE_UPDATED, occurred_at=occurred_at, start_time=start_time, duration_minutes=duration
            ),
        )
        return DeliveryStatus.PROCESSED

    if event.name == webhooks.MEETING_DELETED:
        if meeting.deleted_at is not None:
            return DeliveryStatus.PROCESSED  # Jelly deleted it (or Zoom told us already)
        occurred_at = _event_time(event)
        meeting.deleted_at = occurred_at
        meeting.save(update_fields=["deleted_at"])
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
