"""POST /integrations/zoom/webhook/: security, idempotency, and what each event records."""

import json
import logging
import time
from datetime import UTC, datetime

import pytest
from django.test import Client

from integrations.zoom import services, tasks
from integrations.zoom.choices import AuditKind, AuditSource, DeliveryStatus
from integrations.zoom.models import ZoomAuditEntry, ZoomWebhookDelivery
from tests.fakes.zoom import send_webhook, zoom_signature
from tests.integrations.zoom.factories import ZoomMeetingFactory

URL = "/integrations/zoom/webhook/"


@pytest.fixture
def meeting(clinic, zoom_connection, fake_zoom):
    """A meeting Jelly created for Bath Physio and mirrors (Alice hosts)."""
    return ZoomMeetingFactory(
        organisation=clinic,
        zoom_meeting_id=85746065432,
        host_zoom_user_id="alice-zoom-id",
        synced_start_time=datetime(2025, 3, 1, 9, 0, tzinfo=UTC),
        synced_duration_minutes=30,
    )


def deliver(client, django_capture_on_commit_callbacks, body, **kwargs):
    """Send a signed webhook and run what it queued after commit (tasks run eagerly)."""
    with django_capture_on_commit_callbacks(execute=True):
        return send_webhook(client, body, **kwargs)


# --- Security ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_unsigned_requests_are_refused_with_401(fake_zoom):
    response = Client().post(URL, data=b'{"event":"meeting.started"}', content_type="application/json")

    assert response.status_code == 401
    assert ZoomWebhookDelivery.objects.count() == 0


@pytest.mark.django_db
def test_a_get_is_not_allowed(fake_zoom):
    assert Client().get(URL).status_code == 405


def test_a_wrong_signature_is_refused_and_logged_without_the_body(
    client, meeting, fake_zoom, caplog, django_capture_on_commit_callbacks
):
    body = fake_zoom.participant_event("meeting.participant_joined", meeting.zoom_meeting_id, user_name="Pat Secret")

    with caplog.at_level(logging.INFO):
        response = deliver(client, django_capture_on_commit_callbacks, body, secret="not-the-secret")

    assert response.status_code == 401
    assert ZoomWebhookDelivery.objects.count() == 0
    assert ZoomAuditEntry.objects.count() == 0
    assert "signature does not match" in caplog.text
    assert "Pat Secret" not in caplog.text


def test_a_stale_timestamp_is_refused(client, meeting, fake_zoom, django_capture_on_commit_callbacks):
    body = fake_zoom.event("meeting.started", fake_zoom.meeting_object(meeting.zoom_meeting_id))

    response = deliver(client, django_capture_on_commit_callbacks, body, timestamp=int(time.time()) - 301)

    assert response.status_code == 401
    assert ZoomWebhookDelivery.objects.count() == 0


def test_missing_headers_are_refused(client, meeting, fake_zoom, django_capture_on_commit_callbacks):
    body = fake_zoom.event("meeting.started", fake_zoom.meeting_object(meeting.zoom_meeting_id))

    response = deliver(client, django_capture_on_commit_callbacks, body, headers=False)

    assert response.status_code == 401
    assert ZoomWebhookDelivery.objects.count() == 0


def test_only_a_timestamp_without_a_signature_is_refused(client, meeting, fake_zoom):
    raw = json.dumps(fake_zoom.event("meeting.started", fake_zoom.meeting_object(meeting.zoom_meeting_id))).encode()

    response = client.post(
        URL, data=raw, content_type="application/json", HTTP_X_ZM_REQUEST_TIMESTAMP=str(int(time.time()))
    )

    assert response.status_code == 401


def test_signed_malformed_json_is_refused_with_400_and_logged_without_the_body(
    client, zoom_connection, fake_zoom, caplog, django_capture_on_commit_callbacks
):
    with caplog.at_level(logging.INFO):
        response = deliver(client, django_capture_on_commit_callbacks, b'{"event": "meeting.started", Pat Secret')

    assert response.status_code == 400
    assert ZoomWebhookDelivery.objects.count() == 0
    assert "not valid JSON" in caplog.text
    assert "Pat Secret" not in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        {"event": "meeting.sharing_started", "payload": {"account_id": "x", "object": {"id": 1}}, "event_ts": 1},
        {"event": "meeting.started", "payload": {"account_id": "x", "object": {"uuid": "no-id"}}, "event_ts": 1},
        {"event": "meeting.started", "payload": "not an object", "event_ts": 1},
        {"payload": {"account_id": "x"}},
        ["a", "list"],
        {"event": "endpoint.url_validation", "payload": {}, "event_ts": 1},
        {"event": "app_deauthorized", "payload": {"user_id": "u"}, "event_ts": 1},
    ],
    ids=[
        "unknown-event",
        "no-meeting-id",
        "payload-not-object",
        "no-event",
        "not-an-object",
        "validation-without-token",
        "deauth-without-account",
    ],
)
def test_signed_but_unusable_events_are_refused_with_400(
    client, zoom_connection, body, django_capture_on_commit_callbacks
):
    response = deliver(client, django_capture_on_commit_callbacks, body)

    assert response.status_code == 400
    assert ZoomWebhookDelivery.objects.count() == 0


def test_the_url_validation_challenge_is_answered(client, fake_zoom):
    body = {"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}, "event_ts": 1}

    response = send_webhook(client, body)

    assert response.status_code == 200
    assert response.json() == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": "4efea922935c335d972476de138d2208a0d46ab28c79ee592d497a1b216419b8",
    }


def test_an_unsigned_url_validation_challenge_is_not_answered(client, fake_zoom):
    body = {"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}, "event_ts": 1}

    response = send_webhook(client, body, secret="wrong")

    assert response.status_code == 401
    assert "encryptedToken" not in response.content.decode()


# --- Idempotency and queueing --------------------------------------------------------------------


def test_processing_is_queued_and_runs_only_after_commit(
    client, meeting, fake_zoom, django_capture_on_commit_callbacks
):
    body = fake_zoom.event("meeting.started", fake_zoom.meeting_object(meeting.zoom_meeting_id))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = send_webhook(client, body)

    assert response.status_code == 200
    delivery = ZoomWebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.RECEIVED
    assert ZoomAuditEntry.objects.count() == 0
    assert len(callbacks) == 1

    callbacks[0]()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PROCESSED
    assert delivery.payload == ""
    assert ZoomAuditEntry.objects.get().kind == AuditKind.STARTED


def test_a_redelivery_of_the_same_event_has_no_second_effect(
    client, meeting, fake_zoom, django_capture_on_commit_callbacks
):
    body = fake_zoom.participant_event("meeting.participant_joined", meeting.zoom_meeting_id, user_name="Pat Patient")

    first = deliver(client, django_capture_on_commit_callbacks, body)
    # Zoom retries later with a new timestamp and signature over the same body.
    second = deliver(client, django_capture_on_commit_callbacks, body, timestamp=int(time.time()) + 5)

    assert (first.status_code, second.status_code) == (200, 200)
    assert ZoomWebhookDelivery.objects.count() == 1
    assert ZoomAuditEntry.objects.count() == 1


def test_a_replayed_request_within_the_window_has_no_second_effect(
    client, meeting, fake_zoom, django_capture_on_commit_callbacks
):
    body = fake_zoom.event("meeting.ended", fake_zoom.meeting_object(meeting.zoom_meeting_id))
    raw = json.dumps(body, separators=(",", ":")).encode()
    stamp = str(int(time.time()))
    signature = zoom_signature(raw, timestamp=stamp)

    responses = [
        deliver(client, django_capture_on_commit_callbacks, raw, timestamp=stamp, signature=signature) for _ in range(3)
    ]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert ZoomWebhookDelivery.objects.count() == 1
    assert ZoomAuditEntry.objects.filter(kind=AuditKind.ENDED).count() == 1


def test_the_task_run_twice_records_once(client, meeting, fake_zoom, django_capture_on_commit_callbacks):
    body = fake_zoom.event("meeting.started", fake_zoom.meeting_object(meeting.zoom_meeting_id))
    with django_capture_on_commit_callbacks(execute=False):
        send_webhook(client, body)
    delivery = ZoomWebhookDelivery.objects.get()

    tasks.process_webhook_delivery(delivery.pk)
    tasks.process_webhook_delivery(delivery.pk)

    assert ZoomAuditEntry.objects.count() == 1


def test_a_delivery_that_fails_is_left_failed_and_requeued_by_zooms_retry(
    client, meeting, fake_zoom, monkeypatch, django_capture_on_commit_callbacks
):
    body = fake_zoom.event("meeting.started", fake_zoom.meeting_object(meeting.zoom_meeting_id))
    real_record = services.audit_entry_record

    def broken_record(**kwargs):
        raise RuntimeError("a bug while recording")

    monkeypatch.setattr(services, "audit_entry_record", broken_record)
    first = deliver(client, django_capture_on_commit_callbacks, body)

    delivery = ZoomWebhookDelivery.objects.get()
    assert first.status_code == 200
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.FAILED, 1, "RuntimeError")
    assert delivery.payload  # kept, so it can be processed again

    monkeypatch.setattr(services, "audit_entry_record", real_record)
    deliver(client, django_capture_on_commit_callbacks, body, timestamp=int(time.time()) + 1)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PROCESSED
    assert ZoomAuditEntry.objects.filter(kind=AuditKind.STARTED).count() == 1


def test_events_of_a_meeting_jelly_does_not_mirror_are_ignored(
    client, zoom_connection, fake_zoom, django_capture_on_commit_callbacks
):
    body = fake_zoom.participant_event("meeting.participant_joined", 11111111111, user_name="Someone Else")

    response = deliver(client, django_capture_on_commit_callbacks, body)

    assert response.status_code == 200
    assert ZoomWebhookDelivery.objects.get().status == DeliveryStatus.IGNORED
    assert ZoomAuditEntry.objects.count() == 0


def test_events_of_an_unknown_zoom_account_are_ignored(client, meeting, fake_zoom, django_capture_on_commit_callbacks):
    body = fake_zoom.event("meeting.started", fake_zoom.meeting_object(meeting.zoom_meeting_id))
    body["payload"]["account_id"] = "someone-elses-account"

    deliver(client, django_capture_on_commit_callbacks, body)

    delivery = ZoomWebhookDelivery.objects.get()
    assert (delivery.organisation, delivery.status) == (None, DeliveryStatus.IGNORED)
    assert ZoomAuditEntry.objects.count() == 0


# --- What each event records ---------------------------------------------------------------------


def test_joins_and_leaves_are_audited_with_display_names_and_the_host_recognised(
    client, meeting, fake_zoom, django_capture_on_commit_callbacks
):
    events = [
        fake_zoom.participant_event(
            "meeting.participant_joined",
            meeting.zoom_meeting_id,
            user_name="Dr Alice",
            zoom_user_id="alice-zoom-id",
            when="2025-03-01T08:58:00Z",
        ),
        fake_zoom.participant_event(
            "meeting.participant_joined", meeting.zoom_meeting_id, user_name="Pat Patient", when="2025-03-01T09:01:00Z"
        ),
        fake_zoom.participant_event(
            "meeting.participant_left", meeting.zoom_meeting_id, user_name="Pat Patient", when="2025-03-01T09:25:00Z"
        ),
        fake_zoom.participant_event(
            "meeting.participant_left",
            meeting.zoom_meeting_id,
            user_name="Dr Alice",
            zoom_user_id="alice-zoom-id",
            when="2025-03-01T09:26:00Z",
        ),
    ]
    for body in events:
        assert deliver(client, django_capture_on_commit_callbacks, body).status_code == 200

    entries = list(ZoomAuditEntry.objects.order_by("occurred_at"))
    assert [(e.kind, e.participant_display_name, e.occurred_at.strftime("%H:%M")) for e in entries] == [
        (AuditKind.HOST_JOINED, "Dr Alice", "08:58"),
        (AuditKind.PARTICIPANT_JOINED, "Pat Patient", "09:01"),
        (AuditKind.PARTICIPANT_LEFT, "Pat Patient", "09:25"),
        (AuditKind.HOST_LEFT, "Dr Alice", "09:26"),
    ]
    assert {e.source for e in entries} == {AuditSource.ZOOM}
    assert {e.meeting_id for e in entries} == {meeting.pk}
    assert entries[0].participant_zoom_user_id == "alice-zoom-id"
    assert entries[1].participant_zoom_user_id == ""
    assert entries[1].participant_user_id  # Zoom's per-meeting id, pairs the join with its leave


def test_start_and_end_are_audited_at_zooms_times(client, meeting, fake_zoom, django_capture_on_commit_callbacks):
    deliver(
        client,
        django_capture_on_commit_callbacks,
        fake_zoom.event(
            "meeting.started", fake_zoom.meeting_object(meeting.zoom_meeting_id, start_time="2025-03-01T08:59:30Z")
        ),
    )
    deliver(
        client,
        django_capture_on_commit_callbacks,
        fake_zoom.event(
            "meeting.ended", fake_zoom.meeting_object(meeting.zoom_meeting_id, end_time="2025-03-01T09:27:00Z")
        ),
    )

    entries = ZoomAuditEntry.objects.order_by("occurred_at")
    assert [(e.kind, e.occurred_at) for e in entries] == [
        (AuditKind.STARTED, datetime(2025, 3, 1, 8, 59, 30, tzinfo=UTC)),
        (AuditKind.ENDED, datetime(2025, 3, 1, 9, 27, tzinfo=UTC)),
    ]


def test_a_change_made_in_zoom_is_audited_and_handed_to_the_diary_seam(
    client, meeting, fake_zoom, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr("integrations.zoom.hooks.on_meeting_changed", lambda m, change: calls.append((m.pk, change)))
    body = fake_zoom.event(
        "meeting.updated",
        {"id": meeting.zoom_meeting_id, "uuid": "abc==", "start_time": "2025-03-01T10:00:00Z", "duration": 45},
        old_object={"id": meeting.zoom_meeting_id, "start_time": "2025-03-01T09:00:00Z", "duration": 30},
        time_stamp=1740800000000,
    )

    deliver(client, django_capture_on_commit_callbacks, body)

    entry = ZoomAuditEntry.objects.get()
    assert (entry.kind, entry.source) == (AuditKind.UPDATED, AuditSource.ZOOM)
    [(meeting_pk, change)] = calls
    assert meeting_pk == meeting.pk
    assert (change.kind, change.start_time, change.duration_minutes) == (
        "updated",
        datetime(2025, 3, 1, 10, 0, tzinfo=UTC),
        45,
    )


def test_a_change_to_a_meeting_without_an_appointment_changes_nothing_else(
    client, meeting, fake_zoom, caplog, django_capture_on_commit_callbacks
):
    body = fake_zoom.event(
        "meeting.updated", {"id": meeting.zoom_meeting_id, "start_time": "2025-03-01T10:00:00Z"}, old_object={}
    )

    with caplog.at_level(logging.INFO, logger="integrations.zoom.services"):
        deliver(client, django_capture_on_commit_callbacks, body)

    assert "no appointment follows it" in caplog.text
    meeting.refresh_from_db()
    assert meeting.appointment_id is None
    assert meeting.synced_start_time == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_the_echo_of_jellys_own_change_is_recognised_and_does_nothing(
    client, meeting, fake_zoom, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr("integrations.zoom.hooks.on_meeting_changed", lambda m, change: calls.append(change))
    services.meeting_record_synced(
        meeting=meeting, start_time=datetime(2025, 3, 1, 11, 0, tzinfo=UTC), duration_minutes=40
    )
    body = fake_zoom.event(
        "meeting.updated",
        {"id": meeting.zoom_meeting_id, "start_time": "2025-03-01T11:00:00Z", "duration": 40},
        old_object={"id": meeting.zoom_meeting_id, "start_time": "2025-03-01T09:00:00Z", "duration": 30},
    )

    deliver(client, django_capture_on_commit_callbacks, body)

    assert calls == []
    assert list(ZoomAuditEntry.objects.values_list("kind", "source")) == [(AuditKind.UPDATED, AuditSource.JELLY)]
    assert ZoomWebhookDelivery.objects.get().status == DeliveryStatus.PROCESSED


def test_a_deletion_in_zoom_is_audited_marked_and_handed_to_the_diary_seam(
    client, meeting, fake_zoom, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr("integrations.zoom.hooks.on_meeting_changed", lambda m, change: calls.append(change.kind))
    body = fake_zoom.event(
        "meeting.deleted", {"id": meeting.zoom_meeting_id, "uuid": "abc==", "host_id": "alice-zoom-id", "type": 2}
    )

    deliver(client, django_capture_on_commit_callbacks, body)

    meeting.refresh_from_db()
    assert meeting.deleted_at is not None
    assert list(ZoomAuditEntry.objects.values_list("kind", "source")) == [(AuditKind.DELETED, AuditSource.ZOOM)]
    assert calls == ["deleted"]


def test_the_echo_of_jellys_own_deletion_does_nothing(
    client, meeting, fake_zoom, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr("integrations.zoom.hooks.on_meeting_changed", lambda m, change: calls.append(change))
    services.meeting_record_deleted(meeting=meeting)
    body = fake_zoom.event("meeting.deleted", {"id": meeting.zoom_meeting_id, "uuid": "abc==", "type": 2})

    deliver(client, django_capture_on_commit_callbacks, body)

    assert calls == []
    assert list(ZoomAuditEntry.objects.values_list("kind", "source")) == [(AuditKind.DELETED, AuditSource.JELLY)]


def test_zooms_notice_of_a_meeting_jelly_created_is_an_echo(
    client, clinic, zoom_connection, fake_zoom, django_capture_on_commit_callbacks
):
    from integrations.zoom.client import ZoomMeetingDetails

    details = ZoomMeetingDetails(
        id=85700000001,
        uuid="u==",
        host_id="alice-zoom-id",
        join_url="https://zoom.us/j/85700000001?pwd=x",
        start_time=datetime(2025, 3, 1, 9, 0, tzinfo=UTC),
        duration_minutes=30,
        timezone="Europe/London",
    )
    services.meeting_record_created(organisation=clinic, details=details)

    deliver(client, django_capture_on_commit_callbacks, fake_zoom.event("meeting.created", {"id": 85700000001}))

    assert list(ZoomAuditEntry.objects.values_list("kind", "source")) == [(AuditKind.CREATED, AuditSource.JELLY)]


def test_audit_entries_are_append_only(meeting):
    entry = services.audit_entry_record(
        organisation=meeting.organisation,
        meeting=meeting,
        zoom_meeting_id=meeting.zoom_meeting_id,
        kind=AuditKind.STARTED,
        source=AuditSource.ZOOM,
        occurred_at=datetime(2025, 3, 1, 9, 0, tzinfo=UTC),
    )
    entry.kind = AuditKind.ENDED

    with pytest.raises(ValueError, match="append-only"):
        entry.save()


def test_the_sweep_applies_a_delivery_whose_task_was_lost_and_prunes_old_ones(
    client, meeting, fake_zoom, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    body = fake_zoom.event("meeting.started", fake_zoom.meeting_object(meeting.zoom_meeting_id))
    with django_capture_on_commit_callbacks(execute=False):  # the broker lost the task
        send_webhook(client, body)
    lost = ZoomWebhookDelivery.objects.get()
    old_done = ZoomWebhookDelivery.objects.create(
        dedupe_key="0" * 64, event="meeting.ended", status=DeliveryStatus.PROCESSED
    )
    long_ago = timezone.now() - timedelta(days=31)
    ZoomWebhookDelivery.objects.filter(pk=old_done.pk).update(received_at=long_ago)
    ZoomWebhookDelivery.objects.filter(pk=lost.pk).update(received_at=timezone.now() - timedelta(minutes=6))

    tasks.sweep_webhook_deliveries()

    lost.refresh_from_db()
    assert lost.status == DeliveryStatus.PROCESSED
    assert ZoomAuditEntry.objects.get().kind == AuditKind.STARTED
    assert not ZoomWebhookDelivery.objects.filter(pk=old_done.pk).exists()
