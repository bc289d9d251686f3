"""Diary admin: setup is edited here; appointments only through actions that call the services."""

import pytest

from diary.choices import AppointmentStatus, ChangeKind
from diary.models import Appointment, WorkingHours
from tests.diary.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def adam(client_for, adam_admin):
    return client_for(adam_admin)


def test_adam_adds_working_hours_for_alice(adam, alice_practitioner, clinic_location, oscar_other_practitioner):
    form = adam.get("/admin/diary/workinghours/add/").content.decode()
    assert "Oscar" not in form  # no other clinic's practitioners to choose
    response = adam.post(
        "/admin/diary/workinghours/add/",
        {
            "practitioner": alice_practitioner.pk,
            "location": clinic_location.pk,
            "weekday": 0,
            "start_time": "09:00",
            "end_time": "17:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert WorkingHours.objects.get().organisation == alice_practitioner.organisation


def test_overlapping_hours_are_refused_in_admin(adam, alice_hours, alice_practitioner, clinic_location):
    response = adam.post(
        "/admin/diary/workinghours/add/",
        {
            "practitioner": alice_practitioner.pk,
            "location": clinic_location.pk,
            "weekday": 0,
            "start_time": "16:00",
            "end_time": "18:00",
        },
    )
    assert response.status_code == 200
    assert "overlap" in response.content.decode()


def test_adam_adds_a_service(adam, clinic):
    response = adam.post(
        "/admin/diary/service/add/",
        {"name": "Massage", "duration_minutes": 45, "price": "40.00", "colour": "#00AA00", "is_active": "on"},
    )
    assert response.status_code == 302
    assert clinic.pk == adam_service_org()


def adam_service_org():
    from diary.models import Service

    return Service.objects.get(name="Massage").organisation_id


def test_appointments_are_read_only_in_admin(adam, alice_hours, book):
    appointment = book(at(10))
    page = adam.get(f"/admin/diary/appointment/{appointment.pk}/change/")
    assert page.status_code == 200
    assert b'name="start"' not in page.content
    assert adam.post(f"/admin/diary/appointment/{appointment.pk}/change/", {"start": "x"}).status_code == 403
    assert adam.get("/admin/diary/appointment/add/").status_code == 403


def test_the_cancel_action_goes_through_the_service(adam, alice_hours, book):
    appointment = book(at(10))
    response = adam.post(
        "/admin/diary/appointment/",
        {"action": "cancel_appointments", "_selected_action": [appointment.pk]},
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.version == 2
    assert appointment.changes.order_by("id").last().kind == ChangeKind.CANCELLED


def test_a_refused_action_is_reported_not_forced(adam, alice_hours, book):
    appointment = book(at(10))
    adam.post("/admin/diary/appointment/", {"action": "mark_did_not_attend", "_selected_action": [appointment.pk]})
    assert Appointment.objects.get().status == AppointmentStatus.BOOKED  # not before it starts


def test_change_records_cannot_be_edited(adam, alice_hours, book):
    change = book(at(10)).changes.get()
    assert adam.get(f"/admin/diary/appointmentchange/{change.pk}/change/").status_code == 200
    assert adam.post(f"/admin/diary/appointmentchange/{change.pk}/change/", {}).status_code == 403
    assert adam.post(f"/admin/diary/appointmentchange/{change.pk}/delete/", {"post": "yes"}).status_code == 403
