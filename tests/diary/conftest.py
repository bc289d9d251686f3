"""Diary fixtures on top of the named cast (tests/conftest.py).

Monday 7 January 2030 is "the day": Alice and Paul work 09:00-17:00 Monday to Friday at Bath
High Street; John Smith is the patient; Follow-up takes 30 minutes, Initial assessment 60.
"""

import datetime

import pytest

from diary.choices import Weekday
from tests.diary.factories import RoomFactory, ServiceFactory, WorkingHoursFactory, london
from tests.patients.factories import PatientFactory

DAY = datetime.date(2030, 1, 7)


def at(hour: int, minute: int = 0, day: datetime.date = DAY) -> datetime.datetime:
    return london(day.year, day.month, day.day, hour, minute)


@pytest.fixture
def follow_up(clinic):
    return ServiceFactory(organisation=clinic, name="Follow-up", duration_minutes=30, colour="#2E7D32")


@pytest.fixture
def initial_assessment(clinic):
    return ServiceFactory(organisation=clinic, name="Initial assessment", duration_minutes=60, colour="#C62828")


@pytest.fixture
def room_one(clinic_location):
    return RoomFactory(location=clinic_location, name="Room 1")


@pytest.fixture
def patient(clinic):
    return PatientFactory(organisation=clinic, given_name="John", family_name="Smith")


@pytest.fixture
def other_patient(clinic):
    return PatientFactory(organisation=clinic, given_name="Mary", family_name="Jones")


def weekday_hours(practitioner, location, start=datetime.time(9), end=datetime.time(17)):
    return [
        WorkingHoursFactory(practitioner=practitioner, location=location, weekday=day, start_time=start, end_time=end)
        for day in (Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY)
    ]


@pytest.fixture
def alice_hours(alice_practitioner, clinic_location):
    return weekday_hours(alice_practitioner, clinic_location)


@pytest.fixture
def paul_hours(paul_practitioner, clinic_location):
    return weekday_hours(paul_practitioner, clinic_location)


@pytest.fixture
def book(rita_receptionist, patient, alice_practitioner, follow_up, clinic_location):
    """`book(start, **overrides)`: Rita books John with Alice for a follow-up through the service."""
    from diary.services import appointment_book

    def make(start, **overrides):
        values = {
            "actor": rita_receptionist,
            "patient": patient,
            "practitioner": alice_practitioner,
            "service": follow_up,
            "location": clinic_location,
            "start": start,
        }
        values.update(overrides)
        return appointment_book(**values)

    return make
