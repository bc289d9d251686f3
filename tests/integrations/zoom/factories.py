"""Factories for the Zoom integration, and its matrix objects (see tests/matrix_registry.py)."""

import itertools
from datetime import UTC, datetime, timedelta

import factory
from django.utils import timezone

from core.choices import Role
from integrations.zoom.choices import AuditKind, AuditSource, ConnectionStatus, DeliveryStatus, UserLinkOrigin
from integrations.zoom.models import (
    ZoomAuditEntry,
    ZoomConnection,
    ZoomMeeting,
    ZoomMeetingRequest,
    ZoomUserLink,
    ZoomWebhookDelivery,
)
from tests.factories import OrganisationFactory, StaffFactory
from tests.matrix_registry import register_matrix_object

_meeting_numbers = itertools.count(90000000001)


class ZoomConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ZoomConnection

    organisation = factory.SubFactory(OrganisationFactory)
    status = ConnectionStatus.CONNECTED
    zoom_account_id = factory.Sequence(lambda n: f"account{n}")
    access_token = factory.Sequence(lambda n: f"access-{n}")
    refresh_token = factory.Sequence(lambda n: f"refresh-{n}")
    access_token_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))
    connected_at = factory.LazyFunction(timezone.now)


class ZoomUserLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ZoomUserLink

    organisation = factory.SubFactory(OrganisationFactory)
    staff = factory.SubFactory(StaffFactory, organisation=factory.SelfAttribute("..organisation"))
    zoom_user_id = factory.Sequence(lambda n: f"zoomuser{n}")
    origin = UserLinkOrigin.MATCHED_BY_EMAIL


class ZoomMeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ZoomMeeting

    organisation = factory.SubFactory(OrganisationFactory)
    zoom_meeting_id = factory.LazyFunction(lambda: next(_meeting_numbers))
    join_url = factory.LazyAttribute(lambda o: f"https://zoom.us/j/{o.zoom_meeting_id}?pwd=secret")
    host_zoom_user_id = "host-zoom-user"
    synced_start_time = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    synced_duration_minutes = 30


class ZoomAuditEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ZoomAuditEntry

    organisation = factory.SubFactory(OrganisationFactory)
    meeting = factory.SubFactory(ZoomMeetingFactory, organisation=factory.SelfAttribute("..organisation"))
    zoom_meeting_id = factory.LazyAttribute(lambda o: o.meeting.zoom_meeting_id)
    kind = AuditKind.PARTICIPANT_JOINED
    source = AuditSource.ZOOM
    occurred_at = factory.LazyFunction(timezone.now)
    participant_display_name = "A patient"


def _connection(organisation, canary):
    # Broken, so no page or action in the matrix ever tries to reach Zoom; the reason is shown
    # on the settings page, which makes it a canary.
    return ZoomConnectionFactory(
        organisation=organisation, status=ConnectionStatus.BROKEN, status_reason=f"Refused {canary}."
    )


def _user_link(organisation, canary):
    staff = StaffFactory(organisation=organisation, role=Role.PRACTITIONER, family_name=f"Zoomhost {canary}")
    return ZoomUserLinkFactory(organisation=organisation, staff=staff)


def _meeting(organisation, canary):
    from tests.diary.factories import _appointment

    return ZoomMeetingFactory(
        organisation=organisation,
        join_url=f"https://zoom.us/j/1?pwd={canary}",
        appointment=_appointment(organisation, canary),
        flagged_at=timezone.now(),
        flag_reason=f"Refused in Zoom {canary}",
    )


def _meeting_request(organisation, canary):
    from tests.diary.factories import _appointment

    return ZoomMeetingRequest.objects.create(
        organisation=organisation,
        appointment=_appointment(organisation, canary),
        withdrawn_at=timezone.now(),
        withdrawn_reason=f"Deleted in Zoom {canary}",
    )


def _audit_entry(organisation, canary):
    return ZoomAuditEntryFactory(organisation=organisation, participant_display_name=f"Patient {canary}")


def _delivery(organisation, canary):
    return ZoomWebhookDelivery.objects.create(
        organisation=organisation,
        dedupe_key=f"{organisation.slug}-{canary}".ljust(64, "0")[:64],
        event="meeting.started",
        zoom_account_id=f"acct-{canary}",
        status=DeliveryStatus.PROCESSED,
    )


register_matrix_object("zoomconnection", _connection)
register_matrix_object("zoomuserlink", _user_link)
register_matrix_object("zoommeeting", _meeting)
register_matrix_object("zoommeetingrequest", _meeting_request)
register_matrix_object("zoomauditentry", _audit_entry)
register_matrix_object("zoomwebhookdelivery", _delivery)
