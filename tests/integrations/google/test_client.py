"""The typed Calendar and Gmail clients: the real google-api-python-client against the fake.

Each test starts from Alice's connection holding tokens the fake issued to her Google account.
"""

import base64
import datetime as dt
import email
import email.policy
import uuid
from zoneinfo import ZoneInfo

import pytest

from integrations.google.choices import CALENDAR_SCOPE, GMAIL_SEND_SCOPE, ConnectionStatus
from integrations.google.client import (
    CalendarEvent,
    EventBody,
    GmailClient,
    GoogleCalendarClient,
    build_message,
    event_id_for,
)
from integrations.google.exceptions import (
    AlreadyExists,
    AuthExpired,
    ConnectionBroken,
    NotFound,
    PermanentGoogleError,
    ScopeNotGranted,
    TransientGoogleError,
)
from integrations.google.models import GoogleConnection
from integrations.google.services import google_connection_mark_broken, google_connection_refresh
from tests.fakes.google import DEFAULT_ACCOUNT, Fault
from tests.integrations.google.factories import GoogleConnectionFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
APPOINTMENT = uuid.UUID("0b7e5a8c-4f0e-4d53-9f43-6a1d2c3b4e5f")


@pytest.fixture
def alice_connection(alice_practitioner, fake_google):
    access, refresh = fake_google.issue_tokens(DEFAULT_ACCOUNT, [CALENDAR_SCOPE, GMAIL_SEND_SCOPE])
    return GoogleConnectionFactory(
        staff=alice_practitioner,
        access_token=access,
        refresh_token=refresh,
        granted_scopes=[CALENDAR_SCOPE, GMAIL_SEND_SCOPE],
    )


@pytest.fixture
def calendar(alice_connection):
    return GoogleCalendarClient.for_connection(alice_connection)


def body(hour: int = 9, summary: str = "Jane Smith: Physiotherapy (Alice)") -> EventBody:
    start = dt.datetime(2026, 3, 2, hour, 0, tzinfo=LONDON)
    return EventBody(
        summary=summary,
        start=start,
        end=start + dt.timedelta(minutes=30),
        description="Bring your exercise sheet.",
        private_properties={"jellyAppointment": str(APPOINTMENT)},
    )


# --- event ids -------------------------------------------------------------------------------


def test_event_ids_are_deterministic_base32hex():
    event_id = event_id_for(APPOINTMENT)

    assert event_id == event_id_for(uuid.UUID(str(APPOINTMENT)))
    assert event_id != event_id_for(uuid.uuid4())
    assert set(event_id) <= set("0123456789abcdefghijklmnopqrstuv")
    assert 5 <= len(event_id) <= 1024
    assert base64.b32hexdecode(event_id.upper() + "======")[5:] == APPOINTMENT.bytes


# --- calendar round trips --------------------------------------------------------------------


def test_insert_get_patch_update_delete_round_trip(calendar, fake_google):
    event_id = event_id_for(APPOINTMENT)

    created = calendar.insert_event(event_id, body())

    assert isinstance(created, CalendarEvent)
    assert created.id == event_id and created.status == "confirmed" and created.etag
    assert created.start == dt.datetime(2026, 3, 2, 9, 0, tzinfo=LONDON)
    assert created.private_properties == {"jellyAppointment": str(APPOINTMENT)}
    assert created.organizer_email == DEFAULT_ACCOUNT
    insert = fake_google.requests_to("/calendar/v3/calendars/primary/events", "POST")[0]
    assert insert.json()["id"] == event_id
    assert insert.headers["authorization"] == "[redacted]"
    assert "attendees" not in insert.json()

    fetched = calendar.get_event(event_id)
    assert fetched == created

    moved = calendar.patch_event(event_id, body(hour=11))
    assert moved.start == dt.datetime(2026, 3, 2, 11, 0, tzinfo=LONDON)
    assert moved.etag != created.etag

    replaced = calendar.update_event(event_id, body(hour=12, summary="J. S.: Physiotherapy"))
    assert replaced.summary == "J. S.: Physiotherapy"
    assert fake_google.live_events()[event_id]["start"]["dateTime"].startswith("2026-03-02T12:00")

    assert calendar.delete_event(event_id) is True
    assert fake_google.live_events() == {}
    assert calendar.get_event(event_id).cancelled


def test_a_calendar_named_by_email_is_percent_encoded_and_reached(alice_connection, fake_google):
    fake_google.add_calendar(DEFAULT_ACCOUNT, "clinic@group.calendar.google.com")
    GoogleConnection.objects.filter(pk=alice_connection.pk).update(calendar_id="clinic@group.calendar.google.com")
    alice_connection.refresh_from_db()
    client = GoogleCalendarClient.for_connection(alice_connection)

    client.insert_event(event_id_for(APPOINTMENT), body())

    assert fake_google.requests_to("/calendar/v3/calendars/clinic%40group.calendar.google.com/events")
    assert list(fake_google.live_events(DEFAULT_ACCOUNT, "clinic@group.calendar.google.com")) == [
        event_id_for(APPOINTMENT)
    ]


def test_a_second_insert_with_the_same_id_is_already_exists(calendar, fake_google):
    event_id = event_id_for(APPOINTMENT)
    calendar.insert_event(event_id, body())

    with pytest.raises(AlreadyExists) as raised:
        calendar.insert_event(event_id, body(hour=10))

    assert raised.value.status == 409 and raised.value.reason == "duplicate"
    assert len(fake_google.events()) == 1


def test_upsert_run_twice_makes_one_event_in_its_latest_state(calendar, fake_google):
    event_id = event_id_for(APPOINTMENT)

    calendar.upsert_event(event_id, body())
    result = calendar.upsert_event(event_id, body(hour=15))

    assert list(fake_google.events()) == [event_id]
    assert result.start.hour == 15
    methods = [r.method for r in fake_google.requests_to("/calendar/")]
    assert methods == ["POST", "POST", "PATCH"]  # insert, 409, patch


def test_upsert_restores_an_event_that_was_deleted(calendar, fake_google):
    event_id = event_id_for(APPOINTMENT)
    calendar.insert_event(event_id, body())
    calendar.delete_event(event_id)

    restored = calendar.upsert_event(event_id, body())

    assert restored.status == "confirmed"
    assert list(fake_google.live_events()) == [event_id]


def test_a_lost_insert_response_is_resent_by_httplib2_and_upsert_still_makes_one_event(calendar, fake_google):
    """httplib2 silently re-sends a request once when the connection drops before the answer
    (even a POST). Google then already has the event: 409, handled by upsert."""
    event_id = event_id_for(APPOINTMENT)
    fake_google.inject(Fault.DROP_AFTER, path="/calendar/", method="POST")

    calendar.upsert_event(event_id, body())

    assert [r.status for r in fake_google.requests_to("/calendar/", "POST")] == [200, 409]
    assert list(fake_google.live_events()) == [event_id]


def test_delete_of_a_missing_event_is_done_or_not_found(calendar):
    event_id = event_id_for(APPOINTMENT)

    assert calendar.delete_event(event_id) is False
    with pytest.raises(NotFound) as raised:
        calendar.delete_event(event_id, missing_ok=False)
    assert raised.value.status == 404


def test_deleting_twice_is_410_which_counts_as_done(calendar):
    event_id = event_id_for(APPOINTMENT)
    calendar.insert_event(event_id, body())
    calendar.delete_event(event_id)

    assert calendar.delete_event(event_id) is False
    with pytest.raises(NotFound) as raised:
        calendar.delete_event(event_id, missing_ok=False)
    assert (raised.value.status, raised.value.reason) == (410, "deleted")


def test_get_of_a_missing_event_is_not_found(calendar):
    with pytest.raises(NotFound):
        calendar.get_event(event_id_for(APPOINTMENT))


def test_a_bad_event_id_is_a_permanent_error(calendar):
    with pytest.raises(PermanentGoogleError) as raised:
        calendar.insert_event("NOT-base32hex", body())

    assert raised.value.status == 400 and not isinstance(raised.value, TransientGoogleError)


def test_event_bodies_must_be_timezone_aware_and_in_order():
    with pytest.raises(ValueError):
        EventBody(summary="x", start=dt.datetime(2026, 1, 1, 9), end=dt.datetime(2026, 1, 1, 10))
    with pytest.raises(ValueError):
        EventBody(
            summary="x",
            start=dt.datetime(2026, 1, 1, 10, tzinfo=LONDON),
            end=dt.datetime(2026, 1, 1, 9, tzinfo=LONDON),
        )


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "times", "expected", "status", "reason"),
    [
        (Fault.RATE_LIMIT, 1, TransientGoogleError, 403, "rateLimitExceeded"),
        (Fault.USER_RATE_LIMIT, 1, TransientGoogleError, 403, "userRateLimitExceeded"),
        (Fault.QUOTA, 1, TransientGoogleError, 403, "quotaExceeded"),
        (Fault.TOO_MANY_REQUESTS, 1, TransientGoogleError, 429, "rateLimitExceeded"),
        (Fault.SERVER_ERROR, 1, TransientGoogleError, 500, "backendError"),
        (Fault.UNAVAILABLE, 1, TransientGoogleError, 503, "backendError"),
        # httplib2 re-sends once by itself after a dropped connection; the second drop surfaces.
        (Fault.DROP, 2, TransientGoogleError, None, "connection"),
        # AuthorizedHttp refreshes once on a 401 and retries; a second 401 means the grant is gone.
        (Fault.UNAUTHORIZED, 2, AuthExpired, 401, "authError"),
    ],
    ids=lambda value: str(value) if not isinstance(value, type) else value.__name__,
)
def test_each_injected_error_maps_to_our_exception(calendar, fake_google, fault, times, expected, status, reason):
    fake_google.inject(fault, times=times)

    with pytest.raises(expected) as raised:
        calendar.insert_event(event_id_for(APPOINTMENT), body())

    assert type(raised.value) is expected
    assert (raised.value.status, raised.value.reason) == (status, reason)


def test_quota_and_retry_after_become_backoff_hints(calendar, fake_google):
    fake_google.inject(Fault.TOO_MANY_REQUESTS, retry_after=7)
    with pytest.raises(TransientGoogleError) as raised:
        calendar.get_event(event_id_for(APPOINTMENT))
    assert raised.value.retry_after == 7

    fake_google.inject(Fault.QUOTA)
    with pytest.raises(TransientGoogleError) as raised:
        calendar.get_event(event_id_for(APPOINTMENT))
    assert raised.value.retry_after >= 600


def test_a_slow_google_times_out_as_transient(alice_connection, fake_google):
    client = GoogleCalendarClient.for_connection(alice_connection, timeout=0.3)
    fake_google.inject(Fault.SLOW, delay=1.5)

    with pytest.raises(TransientGoogleError) as raised:
        client.get_event(event_id_for(APPOINTMENT))

    assert raised.value.reason == "timeout"


def test_num_retries_lets_the_sdk_retry_transient_errors(alice_connection, fake_google, monkeypatch):
    monkeypatch.setattr("googleapiclient.http.time.sleep", lambda seconds: None)
    client = GoogleCalendarClient.for_connection(alice_connection, num_retries=2)
    fake_google.inject(Fault.SERVER_ERROR)

    client.insert_event(event_id_for(APPOINTMENT), body())

    assert [r.status for r in fake_google.requests_to("/calendar/")] == [500, 200]


def test_a_scope_google_refuses_is_scope_not_granted(alice_practitioner, fake_google):
    access, refresh = fake_google.issue_tokens(DEFAULT_ACCOUNT, [GMAIL_SEND_SCOPE])
    connection = GoogleConnectionFactory(
        staff=alice_practitioner, access_token=access, refresh_token=refresh, granted_scopes=[CALENDAR_SCOPE]
    )

    with pytest.raises(ScopeNotGranted) as raised:
        GoogleCalendarClient.for_connection(connection).insert_event(event_id_for(APPOINTMENT), body())

    assert raised.value.status == 403


def test_no_client_for_a_broken_connection_or_an_ungranted_scope(alice_practitioner):
    broken = GoogleConnectionFactory(
        staff=alice_practitioner, status=ConnectionStatus.BROKEN, broken_at=dt.datetime.now(dt.UTC)
    )
    with pytest.raises(ConnectionBroken):
        GoogleCalendarClient.for_connection(broken)

    GoogleConnection.objects.filter(pk=broken.pk).update(
        status=ConnectionStatus.CONNECTED, granted_scopes=[CALENDAR_SCOPE]
    )
    broken.refresh_from_db()
    with pytest.raises(ScopeNotGranted):
        GmailClient.for_connection(broken)


def test_a_token_reaches_only_its_own_accounts_calendars(calendar, alice_practitioner, paul_practitioner, fake_google):
    access, refresh = fake_google.issue_tokens("paul@gmail.test", [CALENDAR_SCOPE])
    paul = GoogleCalendarClient.for_connection(
        GoogleConnectionFactory(
            staff=paul_practitioner, access_token=access, refresh_token=refresh, granted_scopes=[CALENDAR_SCOPE]
        )
    )
    event_id = event_id_for(APPOINTMENT)

    paul.insert_event(event_id, body())
    calendar.insert_event(event_id, body(hour=14))  # same id, another calendar: no clash

    assert fake_google.live_events("paul@gmail.test")[event_id]["start"]["dateTime"].startswith("2026-03-02T09")
    assert fake_google.live_events(DEFAULT_ACCOUNT)[event_id]["start"]["dateTime"].startswith("2026-03-02T14")
    paul.calendar_id = DEFAULT_ACCOUNT
    with pytest.raises(NotFound):
        paul.get_event(event_id)


# --- tokens ----------------------------------------------------------------------------------


def test_an_expired_token_is_refreshed_before_the_call_and_persisted(alice_connection, fake_google):
    GoogleConnection.objects.filter(pk=alice_connection.pk).update(
        token_expiry=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    )
    alice_connection.refresh_from_db()
    old_access = alice_connection.access_token

    GoogleCalendarClient.for_connection(alice_connection).insert_event(event_id_for(APPOINTMENT), body())

    paths = [r.path for r in fake_google.requests]
    assert paths[-2:] == ["/token", "/calendar/v3/calendars/primary/events"]
    refresh = fake_google.requests[-2].form()
    assert refresh["grant_type"] == "refresh_token"
    assert set(refresh["scope"].split()) == {CALENDAR_SCOPE, GMAIL_SEND_SCOPE}  # the granted scopes
    stored = GoogleConnection.objects.get(pk=alice_connection.pk)
    assert stored.access_token != old_access and fake_google.token_is_live(stored.access_token)
    assert stored.token_expiry > dt.datetime.now(dt.UTC)
    assert stored.refresh_token == alice_connection.refresh_token


def test_a_401_gets_one_refresh_and_a_retry(calendar, alice_connection, fake_google):
    old_access = alice_connection.access_token
    fake_google.inject(Fault.UNAUTHORIZED)

    calendar.insert_event(event_id_for(APPOINTMENT), body())

    assert [r.path for r in fake_google.requests][-3:] == [
        "/calendar/v3/calendars/primary/events",
        "/token",
        "/calendar/v3/calendars/primary/events",
    ]
    assert GoogleConnection.objects.get(pk=alice_connection.pk).access_token != old_access


def test_invalid_grant_on_refresh_is_connection_broken_and_the_caller_marks_it(alice_connection, fake_google):
    fake_google.revoke_account(DEFAULT_ACCOUNT)  # Alice removed Jelly at myaccount.google.com

    with pytest.raises(ConnectionBroken) as raised:
        GoogleCalendarClient.for_connection(alice_connection).insert_event(event_id_for(APPOINTMENT), body())

    assert raised.value.reason == "invalid_grant"
    assert google_connection_mark_broken(connection=alice_connection, reason=str(raised.value)) is True
    stored = GoogleConnection.objects.get(pk=alice_connection.pk)
    assert stored.status == ConnectionStatus.BROKEN and stored.broken_at is not None
    assert "invalid_grant" in stored.broken_reason
    assert not stored.has_calendar
    assert google_connection_mark_broken(connection=alice_connection, reason="again") is False


def test_an_injected_invalid_grant_at_the_token_endpoint_breaks_an_explicit_refresh(alice_connection, fake_google):
    fake_google.inject(Fault.INVALID_GRANT, path="/token")

    with pytest.raises(ConnectionBroken):
        google_connection_refresh(connection=alice_connection)


def test_refresh_asks_only_for_granted_scopes_because_google_refuses_others(alice_practitioner, fake_google):
    access, refresh = fake_google.issue_tokens(DEFAULT_ACCOUNT, [CALENDAR_SCOPE])
    connection = GoogleConnectionFactory(
        staff=alice_practitioner,
        access_token=access,
        refresh_token=refresh,
        granted_scopes=[CALENDAR_SCOPE, GMAIL_SEND_SCOPE],  # wrongly believes Gmail was granted
    )

    with pytest.raises(PermanentGoogleError) as raised:
        google_connection_refresh(connection=connection)

    assert raised.value.reason == "invalid_scope"


def test_an_explicit_refresh_is_persisted(alice_connection, fake_google):
    old_access = alice_connection.access_token

    google_connection_refresh(connection=alice_connection)

    assert GoogleConnection.objects.get(pk=alice_connection.pk).access_token not in ("", old_access)


def test_a_token_endpoint_outage_is_transient(alice_connection, fake_google, monkeypatch):
    monkeypatch.setattr("google.auth._exponential_backoff.time.sleep", lambda seconds: None)
    fake_google.inject(Fault.UNAVAILABLE, path="/token", times=5)

    with pytest.raises(TransientGoogleError):
        google_connection_refresh(connection=alice_connection)
    assert GoogleConnection.objects.get(pk=alice_connection.pk).status == ConnectionStatus.CONNECTED


def test_a_refresh_finishing_after_a_disconnect_does_not_bring_tokens_back(alice_connection, fake_google):
    client = GoogleCalendarClient.for_connection(alice_connection)
    GoogleConnection.objects.filter(pk=alice_connection.pk).update(
        status=ConnectionStatus.DISCONNECTED, access_token="", refresh_token=""
    )
    fake_google.inject(Fault.UNAUTHORIZED)

    client.insert_event(event_id_for(APPOINTMENT), body())

    stored = GoogleConnection.objects.get(pk=alice_connection.pk)
    assert (stored.access_token, stored.refresh_token) == ("", "")


# --- Gmail -----------------------------------------------------------------------------------


def test_gmail_send_delivers_a_decodable_rfc2822_message(alice_connection, fake_google):
    message = build_message(
        to="jane.smith@example.test",
        subject="Your appointment on Monday",
        text="See you at 9:00.\nBath Physio",
        html="<p>See you at 9:00.</p>",
        reply_to="reception@bath.test",
    )

    sent = GmailClient.for_connection(alice_connection).send(message)

    assert sent.id and sent.thread_id and sent.label_ids == ("SENT",)
    request = fake_google.requests_to("/gmail/v1/users/me/messages/send")[0]
    assert set(request.json()) == {"raw"}
    assert not {"+", "/"} & set(request.json()["raw"])  # base64url, not base64
    [mail] = fake_google.sent
    assert mail.account == DEFAULT_ACCOUNT
    assert mail.raw == message and b"\r\n" in message
    parsed = email.message_from_bytes(mail.raw, policy=email.policy.default)
    assert parsed["To"] == "jane.smith@example.test"
    assert parsed["Subject"] == "Your appointment on Monday"
    assert parsed["Reply-To"] == "reception@bath.test"
    assert parsed.get_body(("plain",)).get_content().splitlines() == ["See you at 9:00.", "Bath Physio"]
    assert "<p>See you at 9:00.</p>" in parsed.get_body(("html",)).get_content()


def test_gmail_without_the_send_scope_is_scope_not_granted(alice_practitioner, fake_google):
    access, refresh = fake_google.issue_tokens(DEFAULT_ACCOUNT, [CALENDAR_SCOPE])
    connection = GoogleConnectionFactory(
        staff=alice_practitioner, access_token=access, refresh_token=refresh, granted_scopes=[GMAIL_SEND_SCOPE]
    )

    with pytest.raises(ScopeNotGranted):
        GmailClient.for_connection(connection).send(build_message(to="a@example.test", subject="s", text="t"))
    assert fake_google.sent == []


def test_gmail_errors_map_like_calendar(alice_connection, fake_google):
    fake_google.inject(Fault.TOO_MANY_REQUESTS, path="/gmail/")

    with pytest.raises(TransientGoogleError):
        GmailClient.for_connection(alice_connection).send(build_message(to="a@example.test", subject="s", text="t"))
    assert fake_google.sent == []


def test_message_headers_cannot_be_injected():
    with pytest.raises(ValueError):
        build_message(to="a@example.test", subject="Hello\r\nBcc: everyone@example.test", text="t")


def test_random_faults_are_reproducible_with_a_seed(calendar, fake_google):
    def run():
        fake_google.requests.clear()
        fake_google.clear_faults()
        fake_google.inject_randomly([Fault.SERVER_ERROR, Fault.RATE_LIMIT], probability=0.5, seed=42)
        outcomes = []
        for _ in range(12):
            try:
                calendar.get_event(event_id_for(APPOINTMENT))
            except TransientGoogleError as exc:
                outcomes.append(exc.status)
            except NotFound:
                outcomes.append(404)
        return outcomes

    first = run()
    assert first == run()
    assert {404, 500, 403} <= set(first)


def test_latency_applies_to_every_call(calendar, fake_google):
    fake_google.latency = 0.05
    started = dt.datetime.now()

    calendar.delete_event(event_id_for(APPOINTMENT))

    assert dt.datetime.now() - started >= dt.timedelta(seconds=0.05)


def test_the_fake_refuses_a_naive_time_without_a_time_zone(calendar):
    """As Google does: "A time zone offset is required unless a time zone is explicitly specified"."""
    naive = {"dateTime": "2026-03-02T09:00:00"}
    request = calendar._service.events().insert(
        calendarId="primary", body={"id": event_id_for(APPOINTMENT), "start": naive, "end": naive}
    )

    with pytest.raises(PermanentGoogleError) as raised:
        calendar._execute(request)

    assert (raised.value.status, raised.value.reason) == (400, "required")
