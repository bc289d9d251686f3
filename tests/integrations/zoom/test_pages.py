"""The Zoom settings page and the organisation-wide Zoom audit list (admins only)."""

import pytest

from integrations.zoom.models import ZoomConnection, ZoomUserLink
from tests.factories import StaffFactory
from tests.integrations.zoom.factories import ZoomAuditEntryFactory, ZoomMeetingFactory, ZoomUserLinkFactory

SETTINGS_URL = "/integrations/zoom/"
AUDIT_URL = "/integrations/zoom/audit/"


@pytest.mark.parametrize("url", [SETTINGS_URL, AUDIT_URL])
def test_rita_and_alice_cannot_open_the_zoom_pages(client_for, rita_receptionist, alice_practitioner, url):
    assert client_for(rita_receptionist).get(url).status_code == 403
    assert client_for(alice_practitioner).get(url).status_code == 403


def test_the_settings_page_offers_to_connect_when_zoom_is_not_connected(client_for, adam_admin, fake_zoom):
    page = client_for(adam_admin).get(SETTINGS_URL)

    assert page.status_code == 200
    assert "Zoom is not connected." in page.content.decode()
    assert "Connect Zoom" in page.content.decode()


def test_the_settings_page_says_when_this_server_has_no_zoom_app(client_for, adam_admin, settings):
    settings.ZOOM_CLIENT_ID = ""

    page = client_for(adam_admin).get(SETTINGS_URL).content.decode()
    refused = client_for(adam_admin).post("/integrations/zoom/connect/", follow=True).content.decode()

    assert "not set up on this Jelly server" in page
    assert "ZOOM_CLIENT_ID is empty" in refused


def test_the_settings_page_lists_staff_and_their_links_in_few_queries(
    client_for, adam_admin, clinic, zoom_connection, django_assert_max_num_queries
):
    for n in range(8):
        staff = StaffFactory(organisation=clinic, email=f"staff{n}@bath.test")
        if n % 2:
            ZoomUserLinkFactory(organisation=clinic, staff=staff)
    client = client_for(adam_admin)

    with django_assert_max_num_queries(12):
        page = client.get(SETTINGS_URL)

    text = page.content.decode()
    assert "Connected to Zoom account" in text
    assert text.count("Linked (matched by email)") == 4
    assert "Link staff by email" in text
    assert "Create Zoom user" in text
    assert 'name="zoom_data" value="keep"' in text
    assert 'name="zoom_data" value="delete"' in text
    assert "checked" not in text.split('name="zoom_data" value="delete"')[1].split(">")[0]  # never preselected
    assert zoom_connection.access_token not in text
    assert zoom_connection.refresh_token not in text


def test_adam_links_staff_by_email_from_the_page(
    client_for, adam_admin, alice_practitioner, zoom_connection, fake_zoom
):
    fake_zoom.add_user("alice@bath.test")

    page = client_for(adam_admin).post("/integrations/zoom/users/link/", follow=True).content.decode()

    assert "Linked 1 staff to Zoom users" in page
    assert ZoomUserLink.objects.get().staff == alice_practitioner


def test_adam_creates_a_zoom_user_for_paul_from_the_page(
    client_for, adam_admin, paul_practitioner, zoom_connection, fake_zoom
):
    response = client_for(adam_admin).post(
        "/integrations/zoom/users/create/", {"staff": str(paul_practitioner.pk)}, follow=True
    )

    assert "Zoom has emailed them an activation link" in response.content.decode()
    assert ZoomUserLink.objects.get().staff == paul_practitioner


def test_adam_cannot_create_a_zoom_user_for_olgas_staff(
    client_for, adam_admin, oscar_other_practitioner, zoom_connection, fake_zoom
):
    response = client_for(adam_admin).post(
        "/integrations/zoom/users/create/", {"staff": str(oscar_other_practitioner.pk)}, follow=True
    )

    assert "Choose a staff member who has no Zoom user yet" in response.content.decode()
    assert fake_zoom.requests_to("POST", "^/v2/users$") == []


def test_zoom_being_unreachable_is_a_message_not_an_error_page(client_for, adam_admin, zoom_connection, fake_zoom):
    fake_zoom.inject(status=503, path="^/v2/users$")

    response = client_for(adam_admin).post("/integrations/zoom/users/link/", follow=True)

    assert response.status_code == 200
    assert "Zoom is not answering right now" in response.content.decode()


def test_adam_saves_the_organisations_zoom_choices(client_for, adam_admin, clinic):
    client_for(adam_admin).post(
        "/integrations/zoom/preferences/", {"retain_data_on_uninstall": "on", "create_users_with_cust_create": ""}
    )

    connection = ZoomConnection.objects.get(organisation=clinic)
    assert (connection.retain_data_on_uninstall, connection.create_users_with_cust_create) == (True, False)
    assert connection.auto_create_for_telehealth is False
    assert connection.status == "disconnected"  # a choice made before connecting connects nothing


def test_adam_turns_on_meetings_for_telehealth_automatically(client_for, adam_admin, clinic):
    page = client_for(adam_admin).get("/integrations/zoom/").content.decode()
    assert "Create Zoom meetings for telehealth appointments automatically" in page

    client_for(adam_admin).post("/integrations/zoom/preferences/", {"auto_create_for_telehealth": "on"})

    assert ZoomConnection.objects.get(organisation=clinic).auto_create_for_telehealth is True


def test_the_audit_list_shows_our_entries_only_in_few_queries(
    client_for, adam_admin, clinic, other_clinic, django_assert_max_num_queries
):
    meeting = ZoomMeetingFactory(organisation=clinic)
    for n in range(5):
        ZoomAuditEntryFactory(organisation=clinic, meeting=meeting, participant_display_name=f"Bath patient {n}")
    ZoomAuditEntryFactory(organisation=other_clinic, participant_display_name="Other clinic patient")
    client = client_for(adam_admin)

    with django_assert_max_num_queries(10):
        page = client.get(AUDIT_URL)

    text = page.content.decode()
    assert text.count("Bath patient") == 5
    assert "Participant joined" in text
    assert "Other clinic patient" not in text
