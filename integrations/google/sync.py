"""The Google Calendar destination of the outbox: each practitioner's calendar shows their
live appointments, and nothing else of Jelly's.

A push makes Google match the appointment's current state:
- the event belongs in the calendar of the appointment's practitioner if the appointment is
  not cancelled and that practitioner's connection works (with the calendar scope);
- every other place Jelly put it (the previous practitioner's calendar after a reassignment,
  the calendar of someone disconnecting with "remove my events") has it deleted first;
- the event id is derived from the appointment id, so a retried insert can never make a second
  event (409 → patch), and a delete of something already gone (404/410) is done. Google keeps a
  deleted event, status "cancelled", under its id: a reinstated appointment's insert meets it
  (409) and the patch, which sets the status too, makes it confirmed again.

A practitioner whose connection is broken blocks only their own appointments; a copy left in a
broken calendar is remembered in `remote_stale` and removed once they reconnect. A copy in a
calendar whose grant was revoked and deleted (disconnected) cannot be touched any more and is
forgotten: the practitioner chose to keep those events.

httplib2 is not thread-safe, so each thread keeps its own clients (`_clients`).
"""

import logging
import threading

from diary.choices import AppointmentStatus
from integrations import outbox
from integrations.google.choices import CALENDAR_SCOPE, ConnectionStatus
from integrations.google.client import GoogleCalendarClient, event_id_for
from integrations.google.exceptions import (
    AlreadyExists,
    ConnectionBroken,
    NotFound,
    PermanentGoogleError,
    TransientGoogleError,
)
from integrations.google.models import GoogleConnection
from integrations.google.payloads import calendar_event_body
from integrations.google.selectors import has_google
from integrations.models import OutboxEntry
from patients.models import Patient
from privacy.outbound import OutboundLeak
from privacy.selectors import with_objection_marker

logger = logging.getLogger(__name__)

GOOGLE_CALENDAR = "google_calendar"
CONNECTIONS = "google_calendar.connections"
USABLE_FOR_REMOVAL = (ConnectionStatus.CONNECTED, ConnectionStatus.DISCONNECTING)
_MAX_CACHED_CLIENTS = 256
_clients = threading.local()


def calendar_client(connection: GoogleConnection, calendar_id: str | None = None) -> GoogleCalendarClient:
    """This thread's client for the connection's calendar (or `calendar_id`), built once.

    Keyed by when the connection was (re)connected, so a reconnect gets fresh credentials.
    """
    cache = getattr(_clients, "by_key", None)
    if cache is None or len(cache) > _MAX_CACHED_CLIENTS:
        cache = _clients.by_key = {}
    calendar = calendar_id or connection.calendar_id
    key = (connection.pk, connection.connected_at, calendar)
    client = cache.get(key)
    if client is None:
        client = GoogleCalendarClient.for_connection(connection)
        client.calendar_id = calendar
        cache[key] = client
    return client


def forget_clients() -> None:
    """Drop this thread's clients (tests that swap the fake server between runs)."""
    _clients.by_key = {}


def _has_calendar_scope(connection: GoogleConnection | None) -> bool:
    return connection is not None and CALENDAR_SCOPE in (connection.granted_scopes or [])


def _owner_ids(entry: OutboxEntry) -> set[str]:
    """Whose connections a push of this row may need: the practitioner's, and the owners of
    every copy it may have to remove."""
    ids = {str(entry.appointment.practitioner_id)}
    if entry.remote_owner_id:
        ids.add(str(entry.remote_owner_id))
    return ids | entry.stale_owner_ids


def _placement(owner_id, container: str, event_id: str) -> dict:
    return {"owner": str(owner_id), "container": container, "id": event_id}


class GoogleCalendarDestination(outbox.Destination):
    key = GOOGLE_CALENDAR
    label = "Google Calendar"

    def wants(self, change, cache: dict) -> bool:
        """A new row only if the practitioner (or the previous one) has ever connected Google;
        an existing row is always kept up to date."""
        staff_ids = {change.appointment.practitioner_id}
        previous = (change.changes or {}).get("previous") or {}
        if previous.get("practitioner"):
            staff_ids.add(previous["practitioner"])
        return any(has_google(pk, cache) for pk in staff_ids)

    def prepare(self, entries: list[OutboxEntry], cache: dict) -> None:
        """One query for the connections a batch needs and one for the patients' NHS-number
        objection markers (the privacy check reads them), instead of two per push. Connections
        are as fresh as the batch; a grant that breaks meanwhile fails its call, which is handled."""
        owner_ids = set()
        for entry in entries:
            owner_ids |= _owner_ids(entry)
        cache[CONNECTIONS] = {str(c.staff_id): c for c in GoogleConnection.objects.filter(staff_id__in=owner_ids)}
        patients = {entry.appointment.patient_id: entry.appointment.patient for entry in entries}
        for pk, objected in with_objection_marker(Patient.objects.filter(pk__in=list(patients))).values_list(
            "pk", "nhs_number_objected"
        ):
            patients[pk].nhs_number_objected = objected

    def push(self, entry: OutboxEntry, ctx: outbox.PushContext) -> outbox.PushResult:
        from integrations.selectors import integration_settings_for

        appointment = entry.appointment
        placements = [dict(item) for item in entry.remote_stale or []]
        if entry.remote_owner_id:
            placements.append(_placement(entry.remote_owner_id, entry.remote_container, entry.remote_id))
        owner_ids = _owner_ids(entry)
        connections = ctx.cache.get(CONNECTIONS) or {}
        if not owner_ids <= set(connections):
            connections = {str(c.staff_id): c for c in GoogleConnection.objects.filter(staff_id__in=owner_ids)}
        target = connections.get(str(appointment.practitioner_id))
        live = appointment.status != AppointmentStatus.CANCELLED
        wanted = None
        if live and target is not None and target.has_calendar:
            wanted = _placement(appointment.practitioner_id, target.calendar_id, event_id_for(appointment.id))

        still_stale = []
        for placement in placements:
            if (
                wanted is not None
                and placement["owner"] == wanted["owner"]
                and placement["container"] == wanted["container"]
            ):
                continue  # the upsert below overwrites it
            if placement in still_stale:
                continue
            if not self._remove(placement, connections.get(placement["owner"]), ctx):
                still_stale.append(placement)

        if wanted is None:
            if live and target is not None and target.status == ConnectionStatus.BROKEN and _has_calendar_scope(target):
                raise outbox.Blocked(f"Google connection of {appointment.practitioner} is broken: reconnect needed.")
            return outbox.PushResult(remote_stale=still_stale)

        try:
            body = calendar_event_body(appointment, integration_settings_for(appointment.organisation_id, ctx.cache))
        except OutboundLeak as exc:
            raise outbox.GiveUp(f"Privacy check refused the event: {exc}") from exc
        client = calendar_client(target)
        known = (
            entry.remote_owner_id is not None
            and _placement(entry.remote_owner_id, entry.remote_container, entry.remote_id) == wanted
        )
        if not known and wanted not in (entry.remote_stale or []):
            # Written down before the call: if the event is created but the outcome is lost,
            # the next push still knows it may be in this calendar.
            ctx.remember_possible_copy(wanted)
        try:
            self._upsert(client, wanted["id"], body, known=known, ctx=ctx)
        except ConnectionBroken as exc:
            from integrations.services import google_calendar_connection_broken

            google_calendar_connection_broken(connection=target, reason=str(exc))
            raise outbox.Blocked(f"Google refused the connection of {appointment.practitioner}: {exc}") from exc
        except TransientGoogleError as exc:
            raise outbox.RetryLater(f"Google: {exc}", retry_after=exc.retry_after) from exc
        except PermanentGoogleError as exc:
            raise outbox.GiveUp(f"Google refused the event: {exc}") from exc
        return outbox.PushResult(
            remote_owner_id=appointment.practitioner_id,
            remote_container=wanted["container"],
            remote_id=wanted["id"],
            remote_stale=still_stale,
        )

    def _upsert(self, client: GoogleCalendarClient, event_id: str, body, *, known: bool, ctx) -> None:
        """One call in the usual cases: patch an event Jelly knows it created, insert one it
        does not (409: a lost answer already created it, so patch). A patch restores an event
        someone deleted in Google; a 404 on it means it never existed, so insert."""
        if known:
            ctx.check_lease()
            try:
                client.patch_event(event_id, body)
                return
            except NotFound:
                pass
        ctx.check_lease()
        try:
            client.insert_event(event_id, body)
        except AlreadyExists:
            ctx.check_lease()
            client.patch_event(event_id, body)

    def _remove(self, placement: dict, connection: GoogleConnection | None, ctx) -> bool:
        """Delete one copy. True when it is gone (or can never be reached again); False to keep
        it for later (the owner's connection is broken)."""
        if connection is None or not _has_calendar_scope(connection):
            return True
        if connection.status == ConnectionStatus.BROKEN:
            return False
        if connection.status not in USABLE_FOR_REMOVAL:
            return True  # disconnected: the grant is revoked, the owner chose to keep the events
        client = calendar_client(connection, placement["container"])
        ctx.check_lease()
        try:
            client.delete_event(placement["id"])
        except ConnectionBroken as exc:
            from integrations.services import google_calendar_connection_broken

            google_calendar_connection_broken(connection=connection, reason=str(exc))
            return False
        except TransientGoogleError as exc:
            raise outbox.RetryLater(f"Google: {exc}", retry_after=exc.retry_after) from exc
        except PermanentGoogleError as exc:
            raise outbox.GiveUp(f"Google refused to delete the event: {exc}") from exc
        return True

    def after_drain(self) -> None:
        """Finish the disconnects that waited for their pushed events to be removed."""
        from integrations.services import google_disconnects_complete

        google_disconnects_complete()


def entries_referencing(staff_id, organisation_id):
    """Rows whose pushed copy (or a stale one) is in this staff member's calendar."""
    rows = OutboxEntry.objects.filter(destination=GOOGLE_CALENDAR, organisation_id=organisation_id)
    direct = list(rows.filter(remote_owner_id=staff_id))
    stale = [
        row
        for row in rows.exclude(remote_stale=[]).exclude(remote_owner_id=staff_id)
        if str(staff_id) in row.stale_owner_ids
    ]
    return direct + stale
