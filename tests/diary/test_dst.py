"""Clocks changing: last Sunday of March (01:00 GMT → 02:00 BST) and of October (02:00 BST → 01:00 GMT).

Times are stored in UTC and shown in Europe/London: durations are real elapsed time, and the
diary shows the wall-clock times people see on the clinic's clock.
"""

import datetime
import re

import pytest

from diary import services
from diary.models import Appointment
from tests.diary.conftest import at
from tests.diary.factories import ServiceFactory, WorkingHoursFactory

SPRING_FORWARD = datetime.date(2027, 3, 28)
FALL_BACK = datetime.date(2027, 10, 31)
UTC = datetime.UTC


@pytest.fixture
def sunday_hours(alice_practitioner, clinic_location):
    """Alice works a night shift on Sundays, so the tests need no override."""
    return WorkingHoursFactory(
        practitioner=alice_practitioner,
        location=clinic_location,
        weekday=6,
        start_time=datetime.time(0),
        end_time=datetime.time(23, 59),
    )


def grid_labels(html: str) -> list[str]:
    return re.findall(r'<th scope="row">([^<]+)</th>', html)


class TestSpringForward:
    def test_0030_to_0230_is_one_hour(self, book, sunday_hours):
        appointment = book(at(0, 30, day=SPRING_FORWARD), end=at(2, 30, day=SPRING_FORWARD))
        stored = Appointment.objects.get(pk=appointment.pk)
        assert stored.start.astimezone(UTC) == datetime.datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
        assert stored.end.astimezone(UTC) == datetime.datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
        assert stored.duration_minutes == 60

    def test_a_60_minute_service_at_0030_ends_at_0230_on_the_wall(self, book, sunday_hours, initial_assessment):
        appointment = book(at(0, 30, day=SPRING_FORWARD), service=initial_assessment)
        assert appointment.end == at(2, 30, day=SPRING_FORWARD)

    def test_details_show_wall_clock_times(self, book, sunday_hours, client_for, rita_receptionist):
        appointment = book(at(0, 30, day=SPRING_FORWARD), end=at(2, 30, day=SPRING_FORWARD))
        html = client_for(rita_receptionist).get(f"/diary/appointments/{appointment.pk}/").content.decode()
        assert "00:30\u201302:30" in html and "(60 min)" in html

    def test_the_day_view_skips_the_missing_hour_and_places_the_block(
        self, book, sunday_hours, client_for, rita_receptionist
    ):
        book(at(0, 30, day=SPRING_FORWARD), end=at(2, 30, day=SPRING_FORWARD))
        html = client_for(rita_receptionist).get("/diary/", {"date": "2027-03-28", "slot": 30}).content.decode()
        labels = grid_labels(html)
        assert labels[:4] == ["00:00", "00:30", "02:00", "02:30"]
        assert "01:00" not in labels and "01:30" not in labels
        assert re.search(
            r'data-start="2027-03-28T00:30:00\+00:00"><th scope="row">00:30</th><td class="busy" rowspan="2"', html
        )
        assert "00:30\u201302:30" in html

    def test_a_time_the_clocks_skip_is_refused_by_the_form(
        self, sunday_hours, client_for, rita_receptionist, patient, alice_practitioner, follow_up, clinic_location
    ):
        response = client_for(rita_receptionist).post(
            "/diary/book/",
            {
                "patient": patient.pk,
                "practitioner": alice_practitioner.pk,
                "service": follow_up.pk,
                "location": clinic_location.pk,
                "date": "2027-03-28",
                "time": "01:30",
            },
        )
        assert response.status_code == 400
        assert "does not exist" in response.content.decode()
        assert not Appointment.objects.exists()

    def test_availability_on_the_monday_after_is_on_bst(
        self, alice_hours, follow_up, api_client_for, rita_receptionist
    ):
        response = api_client_for(rita_receptionist).get(
            "/api/v1/availability/", {"service": str(follow_up.pk), "date": "2027-03-29"}
        )
        first = response.json()["slots"][0]
        assert first["start"] == "2027-03-29T09:00:00+01:00"


class TestFallBack:
    def test_0030_to_0230_is_three_hours(self, book, sunday_hours):
        appointment = book(at(0, 30, day=FALL_BACK), end=at(2, 30, day=FALL_BACK))
        stored = Appointment.objects.get(pk=appointment.pk)
        assert stored.start.astimezone(UTC) == datetime.datetime(2027, 10, 30, 23, 30, tzinfo=UTC)
        assert stored.end.astimezone(UTC) == datetime.datetime(2027, 10, 31, 2, 30, tzinfo=UTC)
        assert stored.duration_minutes == 180

    def test_a_three_hour_service_at_0030_ends_at_0230_on_the_wall(self, book, sunday_hours, clinic):
        long_session = ServiceFactory(organisation=clinic, name="Long session", duration_minutes=180)
        appointment = book(at(0, 30, day=FALL_BACK), service=long_session)
        assert appointment.end.astimezone(UTC) == datetime.datetime(2027, 10, 31, 2, 30, tzinfo=UTC)
        assert f"{appointment.end.astimezone(at(0, day=FALL_BACK).tzinfo):%H:%M}" == "02:30"

    def test_the_api_gives_each_end_its_own_offset(self, book, sunday_hours, api_client_for, rita_receptionist):
        appointment = book(at(0, 30, day=FALL_BACK), end=at(2, 30, day=FALL_BACK))
        body = api_client_for(rita_receptionist).get(f"/api/v1/appointments/{appointment.pk}/").json()
        assert body["start"] == "2027-10-31T00:30:00+01:00"
        assert body["end"] == "2027-10-31T02:30:00Z" or body["end"] == "2027-10-31T02:30:00+00:00"

    def test_the_day_view_repeats_the_hour_and_names_it(self, book, sunday_hours, client_for, rita_receptionist):
        book(at(0, 30, day=FALL_BACK), end=at(2, 30, day=FALL_BACK))
        html = client_for(rita_receptionist).get("/diary/", {"date": "2027-10-31", "slot": 30}).content.decode()
        labels = grid_labels(html)
        assert labels[:7] == ["00:00", "00:30", "01:00", "01:30", "01:00 GMT", "01:30 GMT", "02:00"]
        # 00:30 BST to 02:30 GMT covers six half-hour rows.
        assert re.search(r'<th scope="row">00:30</th><td class="busy" rowspan="6"', html)
        assert (
            "(180 min)"
            in client_for(rita_receptionist)
            .get(f"/diary/appointments/{Appointment.objects.get().pk}/")
            .content.decode()
        )

    def test_the_week_view_shows_wall_clock_times(
        self, book, sunday_hours, client_for, rita_receptionist, alice_practitioner
    ):
        book(at(10, day=FALL_BACK))
        html = (
            client_for(rita_receptionist)
            .get("/diary/week/", {"date": "2027-10-31", "practitioner": alice_practitioner.pk})
            .content.decode()
        )
        assert "10:00\u201310:30" in html

    def test_moving_across_the_change_keeps_the_real_length(self, book, sunday_hours, rita_receptionist):
        appointment = book(at(0, 30, day=FALL_BACK), end=at(1, 0, day=FALL_BACK))
        moved = services.appointment_reschedule(
            actor=rita_receptionist, appointment=appointment, version=1, start=at(3, day=FALL_BACK)
        )
        assert moved.duration_minutes == 30
        assert moved.end == at(3, 30, day=FALL_BACK)
