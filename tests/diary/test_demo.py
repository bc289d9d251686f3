"""seed_demo fills two weeks of the diary, through the services, and can run again."""

import itertools

import pytest
from django.core.management import call_command

from diary.choices import AppointmentStatus
from diary.models import Appointment, AppointmentChange, Service, WorkingHours

pytestmark = pytest.mark.django_db


def live_overlaps() -> int:
    live = list(Appointment.objects.exclude(status=AppointmentStatus.CANCELLED).order_by("practitioner", "start"))
    return sum(1 for a, b in itertools.pairwise(live) if a.practitioner_id == b.practitioner_id and b.start < a.end)


def test_seed_demo_twice(capsys):
    call_command("seed_demo")
    first = Appointment.objects.count()
    assert first > 100  # two practitioners, ten working days
    assert set(Service.objects.values_list("name", flat=True)) == {
        "Initial assessment",
        "Follow-up",
        "Telehealth follow-up",
    }
    assert Service.objects.get(name="Telehealth follow-up").is_telehealth
    assert WorkingHours.objects.count() == 10
    assert AppointmentChange.objects.filter(kind="created").count() == first
    assert live_overlaps() == 0

    call_command("seed_demo")
    assert Appointment.objects.count() == first
    assert WorkingHours.objects.count() == 10
