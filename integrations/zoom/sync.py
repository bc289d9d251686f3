"""The Zoom destination of the outbox: each appointment that should have a Zoom meeting has
exactly one, at its time, for its length, hosted by its practitioner's Zoom user.

An appointment should have a meeting while it is booked or arrived and staff asked for one
(`ZoomMeetingRequest`), or it already has one, or its service is telehealth and the organisation
turned on auto-create — unless its host deleted the meeting in Zoom while the appointment could
not be cancelled, or it was cancelled and reinstated in an organisation that does not create
meetings automatically (the request is then withdrawn; staff may ask again), or Jelly made the
meeting by itself for a telehealth service and the appointment's service is no longer
telehealth (the meeting is deleted and a link email not yet sent withdrawn; it comes back if the
service does). Completed and did-not-attend appointments keep their meeting as it is; cancelled
ones have it deleted.

A push makes Zoom match the appointment's current state, one idempotent step at a time, each
step's result written before the next call:

- no meeting yet: create one (POST), after recording that a create is under way; a retry that
  finds that record looks among the host's meetings for the one whose answer was lost (by the
  reference in its agenda) before creating anything, so one appointment never gets two;
- another practitioner: Zoom cannot move a meeting to another host, so a new meeting is created
  under the new host and recorded (retiring the old one in the same transaction), then the old
  one is deleted;
- another time, length or topic: PATCH, with the values recorded first (so Zoom's webhook about
  it is recognised as Jelly's echo);
- cancelled: the meeting is retired, then deleted (404/3001: already gone, done).

Errors: transient (429, 5xx, timeouts) → `RetryLater`, honouring Retry-After; Zoom refusing our
tokens after one refresh, or the connection broken → `Blocked` (a reconnect unblocks); a
practitioner with no Zoom user → `Blocked` (linking them unblocks); other 4xx → `GiveUp`.
While Zoom is disconnected nothing is called and the row is simply done.
"""

import logging

from diary.choices import MOVABLE_STATUSES, AppointmentStatus
from integrations import outbox
from integrations.models import OutboxEntry
from integrations.selectors import integration_settings_for
from integrations.zoom import services
from integrations.zoom.choices import ZOOM_MEETING, ConnectionStatus
from integrations.zoom.client import ZoomClient, ZoomMeetingDetails
from integrations.zoom.errors import (
    PermanentZoomError,
    TransientZoomError,
    ZoomAuthExpired,
    ZoomNotFound,
)
from integrations.zoom.models import ZoomConnection, ZoomMeeting, ZoomMeetingRequest, ZoomUserLink
from integrations.zoom.payloads import MeetingText, appointment_reference, meeting_text
from integrations.zoom.selectors import meetings_made_automatically
from privacy.outbound import OutboundLeak

logger = logging.getLogger(__name__)

__all__ = ["ZOOM_MEETING", "ZoomMeetingDestination", "meeting_wanted"]

# Zoom's code for "cannot delete this meeting since it's in progress": try again later.
MEETING_IN_PROGRESS = 3002
IN_PROGRESS_RETRY_SECONDS = 15 * 60


NO_LONGER_VIDEO = "The appointment is no longer a video appointment, so its Zoom meeting was deleted."


def made_for_video_only(request: ZoomMeetingRequest | None) -> bool:
    """Jelly made (or will make) the meeting by itself because the service was telehealth; no
    one on the staff asked for it."""
    return request is not None and request.requested_by_id is None


def meeting_wanted(appointment, connection, request: ZoomMeetingRequest | None, live: ZoomMeeting | None) -> bool:
    """Whether the appointment should have a Zoom meeting now (see the module docstring)."""
    if appointment.status not in MOVABLE_STATUSES:
        return False
    if made_for_video_only(request) and not appointment.service.is_telehealth:
        return False
    if live is not None:
        return True
    if request is not None:
        return request.wanted
    return bool(
        appointment.service.is_telehealth
        and connection is not None
        and connection.status == ConnectionStatus.CONNECTED
        and connection.auto_create_for_telehealth
    )


class ZoomMeetingDestination(outbox.Destination):
    key = ZOOM_MEETING
    label = "Zoom meeting"

    def wants(self, change, cache: dict) -> bool:
        """A new row only for a booked telehealth appointment of an organisation that creates
        their meetings automatically (staff requests make their own row); an existing row is
        always kept up to date. No query for anything else."""
        appointment = change.appointment
        return appointment.status in MOVABLE_STATUSES and meetings_made_automatically(appointment)

    def push(self, entry: OutboxEntry, ctx: outbox.PushContext) -> outbox.PushResult:
        appointment = entry.appointment
        connection = ZoomConnection.objects.filter(organisation_id=appointment.organisation_id).first()
        if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
            return outbox.PushResult()  # Zoom is not connected: nothing is called, nothing kept in step
        try:
            return _Push(appointment, connection, ctx).run()
        except ZoomAuthExpired as exc:
            raise outbox.Blocked(f"Zoom refused Jelly's access: an admin must reconnect Zoom. ({exc})") from exc
        except TransientZoomError as exc:
            raise outbox.RetryLater(f"Zoom: {exc}", retry_after=exc.retry_after) from exc
        except PermanentZoomError as exc:
            if exc.code == MEETING_IN_PROGRESS:
                raise outbox.RetryLater(f"Zoom: {exc}", retry_after=IN_PROGRESS_RETRY_SECONDS) from exc
            raise outbox.GiveUp(f"Zoom refused: {exc}") from exc
        except OutboundLeak as exc:
            raise outbox.GiveUp(f"Privacy check refused the meeting topic: {exc}") from exc


class _Push:
    """One push of one appointment. Reads Jelly's record afresh (a webhook may have changed it
    since the row was claimed), then calls Zoom step by step."""

    def __init__(self, appointment, connection: ZoomConnection, ctx: outbox.PushContext):
        self.appointment = appointment
        self.connection = connection
        self.ctx = ctx
        self.settings = integration_settings_for(appointment.organisation_id, ctx.cache)
        self._client: ZoomClient | None = None

    @property
    def client(self) -> ZoomClient:
        if self._client is None:
            if not self.connection.is_usable:
                raise ZoomAuthExpired(f"Zoom is {self.connection.get_status_display().lower()}.")
            self._client = ZoomClient(services.ConnectionTokenSource(self.connection.pk))
        return self._client

    def run(self) -> outbox.PushResult:
        appointment = self.appointment
        meetings = list(ZoomMeeting.objects.filter(appointment_id=appointment.pk, deleted_at__isnull=True))
        live = next((meeting for meeting in meetings if meeting.retired_at is None), None)
        request = ZoomMeetingRequest.objects.filter(appointment_id=appointment.pk).first()
        blocked = ""

        if appointment.status == AppointmentStatus.CANCELLED and live is not None:
            services.meeting_retire(meeting=live)
            live = None
        wanted = meeting_wanted(appointment, self.connection, request, live)
        if live is not None and appointment.status in MOVABLE_STATUSES and not wanted:
            # Made by itself for a video service the appointment no longer has.
            services.meeting_retire(meeting=live, withdraw_link_emails_because=NO_LONGER_VIDEO)
            live = None
        if wanted:
            link = ZoomUserLink.objects.filter(staff_id=appointment.practitioner_id).first()
            if link is None:
                blocked = f"{appointment.practitioner} has no Zoom user linked: link them in Zoom settings."
            else:
                live = self._ensure(live, request, link.zoom_user_id)
        elif request is not None and request.create_started_for:
            # A create whose answer was lost, for an appointment that no longer wants a
            # meeting (cancelled meanwhile): whatever it made in Zoom goes.
            self._find_lost_create(request, host=None)
            services.meeting_create_abandoned(request=request)

        for retired in ZoomMeeting.objects.filter(
            appointment_id=appointment.pk, deleted_at__isnull=True, retired_at__isnull=False
        ):
            self.ctx.check_lease()
            self.client.delete_meeting(retired.zoom_meeting_id)  # False: already gone, as good
            services.meeting_record_deleted(meeting=retired)

        if blocked:
            raise outbox.Blocked(blocked)
        if live is None:
            return outbox.PushResult()
        return outbox.PushResult(
            remote_owner_id=appointment.practitioner_id,
            remote_container=live.host_zoom_user_id,
            remote_id=str(live.zoom_meeting_id),
        )

    # --- steps ---------------------------------------------------------------------------------

    def _ensure(self, live: ZoomMeeting | None, request, host: str) -> ZoomMeeting:
        text = meeting_text(self.appointment, self.settings)
        if live is None or live.host_zoom_user_id != host:
            # No meeting, or another host's: Zoom cannot change a meeting's host, so make a new
            # one (the old one, if any, is retired with it and deleted afterwards).
            live = self._create(request, host, text, replacing=live)
        return self._update(live, request, host, text)

    def _create(self, request, host: str, text: MeetingText, *, replacing: ZoomMeeting | None) -> ZoomMeeting:
        appointment = self.appointment
        request = request or services.meeting_request_ensure(appointment=appointment)
        details = self._find_lost_create(request, host) if request.create_started_for else None
        if details is None:
            services.meeting_create_begin(request=request, host_zoom_user_id=host)
            self.ctx.check_lease()
            details = self.client.create_meeting(
                host_user_id=host,
                topic=text.topic,
                start_time=appointment.start,
                duration_minutes=appointment.duration_minutes,
                agenda=text.agenda,
            )
        return services.meeting_record_created(
            organisation=appointment.organisation,
            details=details,
            appointment=appointment,
            request=request,
            replacing=replacing,
        )

    def _find_lost_create(self, request: ZoomMeetingRequest, host: str | None) -> ZoomMeetingDetails | None:
        """A create for this appointment may have reached Zoom without its answer being
        recorded: find it among that user's meetings. One for `host` is adopted; any other (an
        earlier host, a second lost create, or all of them when `host` is None) is deleted:
        Jelly never knew it."""
        reference = appointment_reference(self.appointment.pk)
        self.ctx.check_lease()
        found = [m for m in self.client.list_meetings(request.create_started_for) if reference in m.agenda]
        known = set(
            ZoomMeeting.objects.filter(
                organisation_id=self.appointment.organisation_id, zoom_meeting_id__in=[m.id for m in found]
            ).values_list("zoom_meeting_id", flat=True)
        )
        adopted = None
        for meeting in found:
            if meeting.id in known:
                continue
            if adopted is None and meeting.host_id == host:
                adopted = meeting
                logger.info("Zoom meeting %s: its create's answer was lost; adopted", meeting.id)
                continue
            self.ctx.check_lease()
            self.client.delete_meeting(meeting.id)
            logger.info("Zoom meeting %s: an unrecorded create, deleted", meeting.id)
        return adopted

    def _update(self, live: ZoomMeeting, request, host: str, text: MeetingText) -> ZoomMeeting:
        appointment = self.appointment
        wanted = (appointment.start, appointment.duration_minutes, text.topic_digest)
        if (
            not live.update_pending
            and (
                live.synced_start_time,
                live.synced_duration_minutes,
                live.synced_topic_digest,
            )
            == wanted
        ):
            return live
        live = services.meeting_record_synced(
            meeting=live,
            start_time=appointment.start,
            duration_minutes=appointment.duration_minutes,
            topic_digest=text.topic_digest,
        )
        self.ctx.check_lease()
        try:
            self.client.update_meeting(
                live.zoom_meeting_id,
                topic=text.topic,
                start_time=appointment.start,
                duration_minutes=appointment.duration_minutes,
            )
        except ZoomNotFound:
            # Gone from Zoom without Jelly hearing of it: the appointment still wants a meeting.
            services.meeting_record_missing(meeting=live)
            return self._create(request, host, text, replacing=None)
        services.meeting_record_update_confirmed(meeting=live)
        return live
