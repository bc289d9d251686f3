"""Twenty people booking one practitioner's overlapping slots at the same moment: exactly one
wins, the others are told it clashed, nobody gets a server error. Real PostgreSQL, real
concurrent transactions (one connection per thread)."""

import datetime
import threading
import time
from collections import Counter

import pytest
from django.db import connection, connections, transaction

from core.exceptions import DomainError
from diary import services
from diary.models import Appointment, AppointmentChange
from tests.diary.conftest import at

THREADS = 20

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency needs PostgreSQL"),
]


def run_at_once(work) -> list:
    """Run `work(i)` in THREADS threads released together; each closes its own connection."""
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS

    def thread(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:  # recorded and asserted on below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=thread, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


@pytest.fixture
def patients(clinic):
    from tests.patients.factories import PatientFactory

    return [PatientFactory(organisation=clinic) for _ in range(THREADS)]


def book_for(patient, start, actor, practitioner, service, location):
    return services.appointment_book(
        actor=actor, patient=patient, practitioner=practitioner, service=service, location=location, start=start
    )


def book_overlapping(i, actor, practitioner, service, location, patients):
    """Booking number `i` of a crowd all wanting 10:00-10:30 with one practitioner."""
    return book_for(patients[i], at(10) + datetime.timedelta(minutes=i), actor, practitioner, service, location)


def outcome(attempt, *, done: str = "booked") -> str:
    try:
        attempt()
    except DomainError as error:
        return "conflict" if error.conflict else f"refused: {error.message}"
    return done


def test_twenty_service_calls_one_booking(
    alice_hours, rita_receptionist, alice_practitioner, follow_up, clinic_location, patients
):
    def book(i):
        return outcome(
            lambda: book_overlapping(i, rita_receptionist, alice_practitioner, follow_up, clinic_location, patients)
        )

    outcomes = Counter(str(r) for r in run_at_once(book))
    assert outcomes == {"booked": 1, "conflict": THREADS - 1}
    assert Appointment.objects.count() == 1
    assert AppointmentChange.objects.count() == 1


def test_twenty_api_clients_one_201(
    alice_hours, api_client_for, rita_receptionist, alice_practitioner, follow_up, clinic_location, patients
):
    clients = [api_client_for(rita_receptionist) for _ in range(THREADS)]

    def post(i):
        start = (datetime.datetime(2030, 1, 7, 10, tzinfo=datetime.UTC) + datetime.timedelta(minutes=i)).isoformat()
        response = clients[i].post(
            "/api/v1/appointments/",
            {
                "patient": str(patients[i].pk),
                "practitioner": str(alice_practitioner.pk),
                "service": str(follow_up.pk),
                "location": str(clinic_location.pk),
                "start": start,
            },
            format="json",
        )
        return response.status_code

    outcomes = Counter(run_at_once(post))
    assert outcomes == {201: 1, 409: THREADS - 1}
    assert Appointment.objects.count() == 1


def test_twenty_moves_into_one_gap(
    alice_hours, rita_receptionist, alice_practitioner, follow_up, clinic_location, patients
):
    """Different appointments dragged into the same free slot at once: one lands."""
    # 09:00-10:00 taken by two, then a gap 10:00-11:00, then twelve more from 11:00.
    starts = [at(9), at(9, 30)] + [at(11) + datetime.timedelta(minutes=30 * n) for n in range(12)]
    booked = [
        services.appointment_book(
            actor=rita_receptionist,
            patient=patients[i],
            practitioner=alice_practitioner,
            service=follow_up,
            location=clinic_location,
            start=start,
        )
        for i, start in enumerate(starts)
    ]
    movers = booked[2:] + booked[2:10]  # twenty attempts; eight are second tries (stale by then)

    def move(i):
        appointment = movers[i]
        try:
            services.appointment_reschedule(
                actor=rita_receptionist, appointment=appointment, version=appointment.version, start=at(10)
            )
            return "moved"
        except DomainError as error:
            return "conflict" if error.conflict else f"refused: {error.message}"

    outcomes = Counter(run_at_once(move))
    assert outcomes["moved"] == 1
    assert outcomes["conflict"] == THREADS - 1
    assert Appointment.objects.filter(start=at(10)).count() == 1


def test_a_reinstatement_racing_nineteen_bookings_of_its_slot_one_wins(
    alice_hours, rita_receptionist, alice_practitioner, follow_up, clinic_location, patients
):
    """Reinstating makes a cancelled row live again under the same lock and rules as a booking."""
    cancelled = services.appointment_book(
        actor=rita_receptionist,
        patient=patients[0],
        practitioner=alice_practitioner,
        service=follow_up,
        location=clinic_location,
        start=at(10),
    )
    services.appointment_cancel(actor=rita_receptionist, appointment=cancelled, version=1)

    def work(i):
        if i == 0:
            return outcome(
                lambda: services.appointment_reinstate(actor=rita_receptionist, appointment=cancelled, version=2),
                done="reinstated",
            )
        return outcome(
            lambda: book_overlapping(i, rita_receptionist, alice_practitioner, follow_up, clinic_location, patients)
        )

    outcomes = Counter(str(r) for r in run_at_once(work))
    assert outcomes["conflict"] == THREADS - 1
    assert outcomes["reinstated"] + outcomes["booked"] == 1
    assert Appointment.objects.exclude(status="cancelled").count() == 1


def test_two_bookings_waiting_for_each_other_end_as_one_booked_and_one_conflict(
    alice_hours, rita_receptionist, alice_practitioner, follow_up, clinic_location, patients
):
    """Bookings take no lock, so two transactions can each wait at the exclusion constraint for
    the other's row: one holds 10:00 and, once the other is waiting for it with 10:15, asks for
    10:40, which overlaps that 10:15. PostgreSQL ends one of them (a deadlock); it is told it lost
    the slot (a conflict, 409 through the API), never a server error, and nothing of it is kept."""
    holding = threading.Event()
    other_waits = threading.Event()
    outcomes = {}

    def book(i, start):
        return book_for(patients[i], start, rita_receptionist, alice_practitioner, follow_up, clinic_location)

    def first():
        def two_in_one_transaction():
            with transaction.atomic():
                book(0, at(10))
                holding.set()
                assert other_waits.wait(timeout=30)
                book(1, at(10, 40))

        outcomes["first"] = outcome(two_in_one_transaction)

    def second():
        assert holding.wait(timeout=30)
        outcomes["second"] = outcome(lambda: book(2, at(10, 15)))

    threads = [threading.Thread(target=run) for run in (first, second)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while not other_waits.is_set() and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                other_waits.set()
        time.sleep(0.02)
    for thread in threads:
        thread.join(timeout=60)
    connections.close_all()

    assert other_waits.is_set()
    assert sorted(outcomes.values()) == ["booked", "conflict"]
    kept = sorted(a.start for a in Appointment.objects.all())
    assert kept == ([at(10, 15)] if outcomes["first"] == "conflict" else [at(10), at(10, 40)])
    assert AppointmentChange.objects.count() == len(kept)
