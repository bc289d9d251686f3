"""The Zoom client against the fake over real HTTP: users, meetings, and each failure's class."""

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from integrations.zoom import services
from integrations.zoom.choices import UserLinkOrigin
from integrations.zoom.client import StaticTokenSource, ZoomClient, ZoomMeetingDetails, ZoomUser
from integrations.zoom.errors import (
    PermanentZoomError,
    TransientZoomError,
    ZoomAuthExpired,
    ZoomIntegrationError,
    ZoomNotFound,
)
from integrations.zoom.models import ZoomConnection, ZoomUserLink

NINE_AM = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def zoom(zoom_connection, clinic):
    return services.zoom_client_for(clinic)


@pytest.fixture
def alice_zoom_id(fake_zoom):
    return fake_zoom.add_user("alice@bath.test", first_name="Alice", last_name="Practitioner")


def no_user_was_changed_or_deleted(fake_zoom) -> bool:
    return not [r for r in fake_zoom.requests if r.method in {"PATCH", "PUT", "DELETE"} and "/users" in r.path]


# --- Users ---------------------------------------------------------------------------------------


def test_listing_users_reads_every_page_and_only_id_and_email(zoom, fake_zoom):
    fake_zoom.users_page_size = 2
    for n in range(4):
        fake_zoom.add_user(f"Person{n}@Bath.test")
    fake_zoom.add_user("pending@bath.test", status="pending")

    users = zoom.list_users()

    assert len(users) == 5
    assert all(type(user) is ZoomUser for user in users)
    assert {user.email for user in users} >= {"person0@bath.test", "person3@bath.test"}
    assert "pending@bath.test" not in {user.email for user in users}
    assert len(fake_zoom.requests_to("GET", "^/v2/users$")) == 3
    assert no_user_was_changed_or_deleted(fake_zoom)


def test_staff_are_linked_by_email(zoom_connection, clinic, alice_practitioner, paul_practitioner, fake_zoom):
    alice_zoom_id = fake_zoom.add_user("ALICE@bath.test")

    result = services.user_links_match_by_email(organisation=clinic)

    link = ZoomUserLink.objects.get()
    assert (link.staff, link.zoom_user_id, link.origin) == (alice_practitioner, alice_zoom_id, "matched_by_email")
    assert result.linked == 1
    assert result.still_unlinked >= 1  # Paul (and Adam) have no Zoom user
    assert services.user_links_match_by_email(organisation=clinic).linked == 0  # idempotent
    assert no_user_was_changed_or_deleted(fake_zoom)


def test_a_zoom_user_is_created_with_action_create_and_linked(zoom_connection, clinic, paul_practitioner, fake_zoom):
    link = services.zoom_user_create_for_staff(organisation=clinic, staff=paul_practitioner)

    [request] = fake_zoom.requests_to("POST", "^/v2/users$")
    assert request.json["action"] == "create"
    assert request.json["user_info"]["email"] == "paul@bath.test"
    assert request.json["user_info"]["type"] == 1
    assert fake_zoom.users[link.zoom_user_id]["created_with"] == "create"
    assert (link.staff, link.origin) == (paul_practitioner, UserLinkOrigin.CREATED_BY_JELLY)
    assert no_user_was_changed_or_deleted(fake_zoom)


def test_an_api_partner_organisation_creates_users_with_cust_create(
    zoom_connection, clinic, paul_practitioner, fake_zoom
):
    fake_zoom.api_partner = True
    ZoomConnection.objects.filter(pk=zoom_connection.pk).update(create_users_with_cust_create=True)

    link = services.zoom_user_create_for_staff(organisation=clinic, staff=paul_practitioner)

    assert fake_zoom.requests_to("POST", "^/v2/users$")[0].json["action"] == "custCreate"
    assert fake_zoom.users[link.zoom_user_id]["created_with"] == "custCreate"


def test_cust_create_without_api_partnership_is_zooms_permanent_refusal(
    zoom_connection, clinic, paul_practitioner, fake_zoom
):
    ZoomConnection.objects.filter(pk=zoom_connection.pk).update(create_users_with_cust_create=True)

    with pytest.raises(PermanentZoomError) as refused:
        services.zoom_user_create_for_staff(organisation=clinic, staff=paul_practitioner)

    assert refused.value.status == 403
    assert not ZoomUserLink.objects.exists()


def test_an_email_zoom_already_has_is_refused_with_advice_to_link(
    zoom_connection, clinic, alice_practitioner, alice_zoom_id, fake_zoom
):
    with pytest.raises(ZoomIntegrationError, match="Link staff by email"):
        services.zoom_user_create_for_staff(organisation=clinic, staff=alice_practitioner)

    assert not ZoomUserLink.objects.exists()


def test_staff_already_linked_or_of_another_organisation_get_no_zoom_user(
    zoom_connection, clinic, alice_practitioner, alice_zoom_id, oscar_other_practitioner, fake_zoom
):
    services.user_links_match_by_email(organisation=clinic)

    with pytest.raises(ZoomIntegrationError, match="already linked"):
        services.zoom_user_create_for_staff(organisation=clinic, staff=alice_practitioner)
    with pytest.raises(ZoomIntegrationError, match="this organisation"):
        services.zoom_user_create_for_staff(organisation=clinic, staff=oscar_other_practitioner)
    assert fake_zoom.requests_to("POST", "^/v2/users$") == []


def test_creating_users_is_the_only_write_jelly_makes_on_zoom_users(
    zoom_connection, clinic, alice_practitioner, paul_practitioner, alice_zoom_id, fake_zoom
):
    services.user_links_match_by_email(organisation=clinic)
    services.zoom_user_create_for_staff(organisation=clinic, staff=paul_practitioner)
    services.connection_uninstall(organisation=clinic, reason="test", retain_data=False)

    user_requests = [(r.method, r.path) for r in fake_zoom.requests if r.path.startswith("/v2/users")]
    assert set(user_requests) == {("GET", "/v2/users"), ("POST", "/v2/users")}
    assert no_user_was_changed_or_deleted(fake_zoom)


# --- Meetings ------------------------------------------------------------------------------------


def test_a_meeting_is_created_for_its_host_as_zoom_expects(zoom, alice_zoom_id, fake_zoom):
    london = timezone(timedelta(hours=1))  # a time given in BST is sent as UTC with "Z"

    meeting = zoom.create_meeting(
        host_user_id=alice_zoom_id,
        topic="Physiotherapy follow-up",
        start_time=datetime(2025, 6, 2, 10, 0, tzinfo=london),
        duration_minutes=30,
    )

    [request] = fake_zoom.requests_to("POST", f"^/v2/users/{re.escape(alice_zoom_id)}/meetings$")
    assert request.json == {
        "topic": "Physiotherapy follow-up",
        "type": 2,
        "start_time": "2025-06-02T09:00:00Z",
        "duration": 30,
        "timezone": "Europe/London",
        "settings": {"waiting_room": True, "join_before_host": False},
    }
    assert request.headers["authorization"].startswith("Bearer ")
    assert type(meeting) is ZoomMeetingDetails
    assert meeting.host_id == alice_zoom_id
    assert meeting.start_time == datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    assert meeting.duration_minutes == 30
    assert meeting.join_url.startswith("https://zoom.us/j/")
    assert "start_url" not in repr(meeting) and "zak=" not in repr(meeting)


def test_a_meeting_is_read_changed_and_deleted(zoom, alice_zoom_id, fake_zoom):
    created = zoom.create_meeting(host_user_id=alice_zoom_id, topic="T", start_time=NINE_AM, duration_minutes=30)

    zoom.update_meeting(created.id, start_time=NINE_AM + timedelta(hours=2), duration_minutes=45)
    changed = zoom.get_meeting(created.id)
    deleted_now = zoom.delete_meeting(created.id)

    [patch] = fake_zoom.requests_to("PATCH", f"^/v2/meetings/{created.id}$")
    assert patch.json == {"start_time": "2025-03-01T11:00:00Z", "timezone": "Europe/London", "duration": 45}
    assert (changed.start_time, changed.duration_minutes) == (NINE_AM + timedelta(hours=2), 45)
    assert deleted_now is True
    assert created.id not in fake_zoom.meetings


def test_deleting_a_meeting_zoom_no_longer_has_counts_as_done(zoom, fake_zoom):
    assert zoom.delete_meeting(12345678901) is False
    assert len(fake_zoom.requests_to("DELETE", "^/v2/meetings/12345678901$")) == 1


def test_reading_or_changing_a_missing_meeting_is_not_found_with_zooms_code(zoom, fake_zoom):
    with pytest.raises(ZoomNotFound) as missing:
        zoom.get_meeting(12345678901)
    assert (missing.value.status, missing.value.code) == (404, 3001)
    assert "Meeting does not exist" in str(missing.value)

    with pytest.raises(ZoomNotFound):
        zoom.update_meeting(12345678901, duration_minutes=20)


def test_a_meeting_for_an_unknown_host_is_not_found(zoom, fake_zoom):
    with pytest.raises(ZoomNotFound) as missing:
        zoom.create_meeting(host_user_id="nobody", topic="T", start_time=NINE_AM, duration_minutes=30)
    assert missing.value.code == 1001


def test_meeting_times_must_be_timezone_aware(zoom, alice_zoom_id, fake_zoom):
    with pytest.raises(ValueError, match="timezone-aware"):
        zoom.create_meeting(
            host_user_id=alice_zoom_id, topic="T", start_time=datetime(2025, 3, 1, 9), duration_minutes=3
        )
    assert fake_zoom.requests_to("POST") == []


# --- Each injected failure, classified ---------------------------------------------------------


def test_429_is_transient_and_carries_zooms_retry_after(zoom, fake_zoom):
    fake_zoom.inject(status=429, path="^/v2/meetings/", headers={"Retry-After": "7"})

    with pytest.raises(TransientZoomError) as limited:
        zoom.get_meeting(1)

    assert (limited.value.status, limited.value.retry_after) == (429, 7.0)


def test_429_without_retry_after_is_transient_with_no_hint(zoom, fake_zoom):
    fake_zoom.inject(status=429, path="^/v2/meetings/")

    with pytest.raises(TransientZoomError) as limited:
        zoom.get_meeting(1)

    assert limited.value.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(zoom, fake_zoom, status):
    fake_zoom.inject(status=status, path="^/v2/meetings/")

    with pytest.raises(TransientZoomError) as failed:
        zoom.delete_meeting(1)

    assert failed.value.status == status


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"code": 300, "message": "Validation Failed."}),
        (403, {"code": 200, "message": "No privilege."}),
        (409, {"code": 3002, "message": "Cannot delete this meeting since it's in progress"}),
    ],
)
def test_client_errors_are_permanent(zoom, fake_zoom, status, body):
    fake_zoom.inject(status=status, path="^/v2/meetings/", body=body)

    with pytest.raises(PermanentZoomError) as refused:
        zoom.delete_meeting(1)

    assert type(refused.value) is PermanentZoomError
    assert (refused.value.status, refused.value.code) == (status, body["code"])


def test_an_injected_404_on_delete_counts_as_done(zoom, fake_zoom):
    fake_zoom.inject(status=404, method="DELETE", body={"code": 3001, "message": "Meeting does not exist: 1."})

    assert zoom.delete_meeting(1) is False


def test_a_401_with_a_token_that_cannot_refresh_is_auth_expired(fake_zoom):
    client = ZoomClient(StaticTokenSource("not-a-token"), base_url=fake_zoom.api_base_url)

    with pytest.raises(ZoomAuthExpired):
        client.get_meeting(1)


def test_latency_beyond_the_timeout_is_transient(zoom, fake_zoom, settings):
    fake_zoom.inject(delay=settings.ZOOM_HTTP_TIMEOUT_SECONDS + 0.5, path="^/v2/meetings/")

    with pytest.raises(TransientZoomError, match="in time"):
        zoom.get_meeting(1)


def test_latency_within_the_timeout_is_fine(zoom, alice_zoom_id, fake_zoom):
    fake_zoom.inject(delay=0.3, path="^/v2/users/.+/meetings$")

    meeting = zoom.create_meeting(host_user_id=alice_zoom_id, topic="T", start_time=NINE_AM, duration_minutes=30)

    assert meeting.id in fake_zoom.meetings


def test_a_dropped_connection_is_transient(zoom, fake_zoom):
    fake_zoom.inject(drop=True, path="^/v2/meetings/")

    with pytest.raises(TransientZoomError, match="Could not reach Zoom"):
        zoom.get_meeting(1)


def test_errors_never_quote_the_token(zoom_connection, zoom, fake_zoom):
    fake_zoom.inject(status=400, path="^/v2/meetings/")

    with pytest.raises(PermanentZoomError) as refused:
        zoom.get_meeting(1)

    assert zoom_connection.access_token not in str(refused.value)
