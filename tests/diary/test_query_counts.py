"""The day view's query count does not grow with practitioners or appointments."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.diary.conftest import DAY, at, weekday_hours
from tests.diary.factories import AppointmentFactory, PractitionerFactory, ServiceFactory, TimeOffFactory
from tests.patients.factories import PatientFactory

MAX_QUERIES = 15


def fill(clinic, location, practitioners: int, appointments_each: int):
    services = [ServiceFactory(organisation=clinic, duration_minutes=30) for _ in range(3)]
    patients = [PatientFactory(organisation=clinic) for _ in range(5)]
    for n in range(practitioners):
        practitioner = PractitionerFactory(organisation=clinic)
        weekday_hours(practitioner, location, start=datetime.time(8), end=datetime.time(18))
        TimeOffFactory(practitioner=practitioner, start=at(12), end=at(12, 30))
        for slot in range(appointments_each):
            start = at(8) + datetime.timedelta(minutes=30 * slot)
            AppointmentFactory(
                organisation=clinic,
                practitioner=practitioner,
                patient=patients[(n + slot) % len(patients)],
                service=services[slot % len(services)],
                location=location,
                start=start,
                end=start + datetime.timedelta(minutes=30),
            )


def count_queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


@pytest.mark.parametrize(("practitioners", "appointments_each"), [(2, 2), (12, 16)])
def test_the_day_view_stays_within_budget(
    client_for,
    rita_receptionist,
    clinic,
    clinic_location,
    django_assert_max_num_queries,
    practitioners,
    appointments_each,
):
    fill(clinic, clinic_location, practitioners, appointments_each)
    client = client_for(rita_receptionist)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get("/diary/", {"date": DAY.isoformat()})
    assert response.content.decode().count('class="appt ') == practitioners * appointments_each


def test_the_day_view_costs_the_same_for_a_full_clinic(client_for, rita_receptionist, clinic, clinic_location):
    client = client_for(rita_receptionist)
    fill(clinic, clinic_location, 1, 1)
    client.get("/diary/")  # session and first-use queries out of the way
    small = count_queries(client, "/diary/", {"date": DAY.isoformat()})
    fill(clinic, clinic_location, 10, 16)
    assert count_queries(client, "/diary/", {"date": DAY.isoformat()}) == small


def test_the_week_view_costs_the_same_for_a_full_week(client_for, alice_practitioner, clinic, clinic_location):
    client = client_for(alice_practitioner)
    weekday_hours(alice_practitioner, clinic_location)
    client.get("/diary/week/")
    params = {"date": DAY.isoformat(), "practitioner": alice_practitioner.pk}
    small = count_queries(client, "/diary/week/", params)
    patient = PatientFactory(organisation=clinic)
    service = ServiceFactory(organisation=clinic)
    for day in range(5):
        for slot in range(10):
            start = at(9, day=DAY + datetime.timedelta(days=day)) + datetime.timedelta(minutes=30 * slot)
            AppointmentFactory(
                organisation=clinic,
                practitioner=alice_practitioner,
                patient=patient,
                service=service,
                location=clinic_location,
                start=start,
                end=start + datetime.timedelta(minutes=30),
            )
    assert count_queries(client, "/diary/week/", params) == small <= MAX_QUERIES


def test_a_booking_through_the_api_stays_within_budget(
    api_client_for, rita_receptionist, alice_practitioner, alice_hours, follow_up, clinic, clinic_location
):
    """Every booking runs the whole rule set; the common case answers it in one statement.

    The budget: token; patient, practitioner, service and location together (no lock: racing
    bookings meet at the exclusion constraints); the rule check guarding the insert of the
    appointment and its change record, as one statement; the listeners (the practitioner's Google
    connection and the integration settings together, the email record); the audit entry
    (sequence claim, insert).
    """
    api = api_client_for(rita_receptionist)
    patient = PatientFactory(organisation=clinic, email="")

    def book(start):
        body = {
            "patient": str(patient.pk),
            "practitioner": str(alice_practitioner.pk),
            "service": str(follow_up.pk),
            "location": str(clinic_location.pk),
            "start": start.isoformat(),
        }
        response = api.post("/api/v1/appointments/", body, format="json")
        assert response.status_code == 201, response.content

    book(at(9))  # the organisation's audit chain and the token's first use out of the way
    with CaptureQueriesContext(connection) as captured:
        book(at(10))
    # Inside the test's transaction the service's BEGIN/COMMIT are a savepoint and its release.
    statements = [query["sql"] for query in captured if "SAVEPOINT" not in query["sql"]]
    assert len(statements) == 7, "\n".join(statements)


def test_a_refused_booking_runs_the_plain_check_once(
    api_client_for, rita_receptionist, alice_practitioner, alice_hours, follow_up, clinic, clinic_location
):
    """The guarded insert already ran the one-statement check; the explanation does not repeat it."""
    api = api_client_for(rita_receptionist)

    def book(patient):
        body = {
            "patient": str(patient.pk),
            "practitioner": str(alice_practitioner.pk),
            "service": str(follow_up.pk),
            "location": str(clinic_location.pk),
            "start": at(10).isoformat(),
        }
        return api.post("/api/v1/appointments/", body, format="json")

    assert book(PatientFactory(organisation=clinic)).status_code == 201
    with CaptureQueriesContext(connection) as captured:
        assert book(PatientFactory(organisation=clinic)).status_code == 409
    plain_checks = [q["sql"] for q in captured if 'tstzrange("start", "end", \'[)\') &&' in q["sql"]]
    assert len(plain_checks) == 1, "\n\n".join(plain_checks)
