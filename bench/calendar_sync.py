"""Calendar sync throughput: appointment changes drained to the fake Google with 20 ms per call.

Two runs against one throwaway PostgreSQL database and one fake Google (tests/fakes/google.py,
the real google-api-python-client talking to it over loopback), 20 practitioners:

- "stream": 5,000 bookings (5,000 appointments, one change each) are written through the
  diary services, then drained by worker processes (`manage.py drain_outbox`, threads in each,
  each thread with its own Http and credentials). Every change is its own final state, so this
  measures throughput: changes/s, API calls per change, and the ratio of the time taken to the
  ideal (changes x 20 ms / concurrency, i.e. the calls alone, perfectly overlapped).
- "coalesced": 1,000 of those appointments are each edited 5 times (5,000 changes) before the
  workers drain: API calls per final appointment state shows the level-triggered outbox
  pushing each appointment's current state once.

Goal: >= 100 changes/s on a 2-core machine, and <= 1.05 API calls per final appointment state.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jelly .venv/bin/python bench/calendar_sync.py
"""

import datetime
import os
import random
import subprocess
import sys
import time

from _common import ROOT, report, setup_django, throwaway_database

CHANGES = int(os.environ.get("BENCH_CALENDAR_CHANGES", "5000"))
EDITS_PER_APPOINTMENT = 5
PRACTITIONERS = 20
LATENCY_SECONDS = 0.020
PROCESSES = int(os.environ.get("BENCH_CALENDAR_PROCESSES", "2"))
THREADS = int(os.environ.get("BENCH_CALENDAR_THREADS", "16"))


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def worker_environment(fake) -> dict:
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    return {
        **os.environ,
        **fake.settings(),
        "DJANGO_SETTINGS_MODULE": "jelly.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "LOG_LEVEL": "ERROR",
    }


def drain_with_workers(fake) -> tuple[float, float]:
    """PROCESSES `drain_outbox` processes (THREADS threads each) push everything pending.
    Returns (seconds from the first call Google sees to the last answer, wall seconds including
    the processes' start-up)."""
    first = len(fake.requests)
    wall_started = time.monotonic()
    cpu_before = os.times()
    command = [
        sys.executable,
        "manage.py",
        "drain_outbox",
        "--workers",
        str(THREADS),
        "--batch-size",
        "10",
        "--no-email",
    ]
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=worker_environment(fake), stdout=subprocess.PIPE, text=True)
        for _ in range(PROCESSES)
    ]
    for process in processes:
        output, _ = process.communicate(timeout=600)
        if process.returncode != 0:
            raise SystemExit(f"drain_outbox failed: {output}")
        progress(output.strip())
    wall = time.monotonic() - wall_started
    cpu_after = os.times()
    workers_cpu = sum(getattr(cpu_after, f) - getattr(cpu_before, f) for f in ("children_user", "children_system"))
    fake_cpu = sum(getattr(cpu_after, f) - getattr(cpu_before, f) for f in ("user", "system"))
    progress(f"drain: wall {wall:.1f}s, worker processes' CPU {workers_cpu:.1f}s, the fake Google's {fake_cpu:.1f}s")
    calls = fake.requests[first:]
    if not calls:
        return 0.0, wall
    return max(call.finished_at for call in calls) - min(call.started_at for call in calls), wall


def main() -> None:
    setup_django()
    from django.conf import settings
    from django.db import connection

    from core.choices import Role
    from core.services import organisation_create, staff_create
    from diary import services as diary
    from diary.models import Appointment
    from integrations import tasks
    from integrations.choices import OutboxStatus
    from integrations.google.choices import CALENDAR_SCOPE
    from integrations.models import OutboxEntry
    from tests.diary.factories import ServiceFactory
    from tests.factories import LocationFactory
    from tests.fakes.google import FakeGoogle
    from tests.integrations.factories import google_connection_at
    from tests.patients.factories import PatientFactory

    # The changes are written here and drained by the worker processes; no inline pushes.
    tasks.drain_outbox.delay = lambda **kwargs: None
    fake = FakeGoogle().start()
    _timed_requests(fake)
    for name, value in fake.settings().items():
        setattr(settings, name, value)
    rng = random.Random(2026)
    try:
        with throwaway_database("calendar_sync"):
            if connection.vendor != "postgresql":
                raise SystemExit("This benchmark needs PostgreSQL (set DATABASE_URL).")
            organisation = organisation_create(name="Bench Clinic", slug="bench-sync", require_two_factor=False)
            location = LocationFactory(organisation=organisation, name="Bench Street")
            admin = staff_create(
                organisation=organisation,
                email="admin@bench.test",
                role=Role.ADMIN,
                password="Bench-password-2026!",
                given_name="Adam",
                family_name="Bench",
            )
            practitioners = [
                staff_create(
                    organisation=organisation,
                    email=f"p{n}@bench.test",
                    role=Role.PRACTITIONER,
                    password="Bench-password-2026!",
                    given_name=f"P{n}",
                    family_name="Bench",
                )
                for n in range(PRACTITIONERS)
            ]
            for n, staff in enumerate(practitioners):
                google_connection_at(fake, staff, account=f"p{n}@gmail.bench", scopes=(CALENDAR_SCOPE,))
            patients = [PatientFactory(organisation=organisation, email="") for _ in range(200)]
            service = ServiceFactory(organisation=organisation, name="Follow-up", duration_minutes=15)
            override = {"actor": admin, "allow_patient_overlap": True, "override_hours": True}

            # --- stream: one change per appointment ------------------------------------------
            started = time.monotonic()
            slots = [
                (practitioners[n % PRACTITIONERS], n // PRACTITIONERS) for n in range(CHANGES)
            ]  # distinct 15-minute slots per practitioner
            base = datetime.datetime(2030, 1, 7, 0, 0, tzinfo=datetime.UTC)
            booked = []
            for practitioner, index in slots:
                booked.append(
                    diary.appointment_book(
                        patient=rng.choice(patients),
                        practitioner=practitioner,
                        service=service,
                        location=location,
                        start=base + datetime.timedelta(minutes=15 * index),
                        **override,
                    )
                )
            write_seconds = time.monotonic() - started
            progress(f"wrote {CHANGES} bookings in {write_seconds:.1f}s")
            fake.latency = LATENCY_SECONDS
            before = len(fake.requests_to("/calendar/v3/"))
            stream_seconds, stream_wall = drain_with_workers(fake)
            stream_calls = len(fake.requests_to("/calendar/v3/")) - before
            pending = OutboxEntry.objects.exclude(status=OutboxStatus.DONE).count()
            if pending:
                raise SystemExit(f"{pending} rows not done after the stream drain")

            # --- coalesced: five edits per appointment before the drain ----------------------
            fake.latency = 0.0
            chosen = rng.sample(booked, CHANGES // EDITS_PER_APPOINTMENT)
            started = time.monotonic()
            edits = 0
            far = datetime.timedelta(days=400)  # a free day for every edit: never a clash
            for appointment in chosen:
                current = Appointment.objects.get(pk=appointment.pk)
                for edit in range(EDITS_PER_APPOINTMENT):
                    current = diary.appointment_reschedule(
                        appointment=current,
                        version=current.version,
                        start=current.start + far + datetime.timedelta(days=edit),
                        **override,
                    )
                    edits += 1
            progress(f"wrote {edits} edits in {time.monotonic() - started:.1f}s")
            fake.latency = LATENCY_SECONDS
            before = len(fake.requests_to("/calendar/v3/"))
            coalesced_seconds, coalesced_wall = drain_with_workers(fake)
            coalesced_calls = len(fake.requests_to("/calendar/v3/")) - before
            pending = OutboxEntry.objects.exclude(status=OutboxStatus.DONE).count()
            if pending:
                raise SystemExit(f"{pending} rows not done after the coalesced drain")
            live = sum(len(fake.live_events(f"p{n}@gmail.bench")) for n in range(PRACTITIONERS))
            if live != CHANGES:
                raise SystemExit(f"{live} events in the calendars, expected {CHANGES}")
    finally:
        fake.stop()

    concurrency = PROCESSES * THREADS
    # The machine may be shared: the load average says how much of its two cores this run had.
    report("load_average_1m_at_end", os.getloadavg()[0])
    ideal = CHANGES * LATENCY_SECONDS / concurrency
    report("changes", CHANGES)
    report("practitioners", PRACTITIONERS)
    report("latency_ms_per_call", LATENCY_SECONDS * 1000)
    report("concurrency", concurrency)
    report("stream_write_seconds", write_seconds)
    report("stream_drain_seconds", stream_seconds)
    report("stream_drain_wall_seconds_with_process_startup", stream_wall)
    report("stream_changes_per_second", CHANGES / stream_seconds)
    report("stream_api_calls", stream_calls)
    report("stream_api_calls_per_change", stream_calls / CHANGES)
    report("stream_api_calls_per_final_state", stream_calls / CHANGES)
    report("stream_ideal_seconds", ideal)
    report("stream_vs_ideal_ratio", stream_seconds / ideal)
    report("coalesced_changes", edits)
    report("coalesced_final_states", len(chosen))
    report("coalesced_drain_seconds", coalesced_seconds)
    report("coalesced_drain_wall_seconds_with_process_startup", coalesced_wall)
    report("coalesced_changes_per_second", edits / coalesced_seconds)
    report("coalesced_api_calls", coalesced_calls)
    report("coalesced_api_calls_per_change", coalesced_calls / edits)
    report("coalesced_api_calls_per_final_state", coalesced_calls / len(chosen))


def _timed_requests(fake) -> None:
    """Stamp each recorded request with when the fake received and answered it."""
    original_record = fake._record

    def record(*args, **kwargs):
        entry = original_record(*args, **kwargs)
        entry.started_at = time.monotonic()
        entry.finished_at = entry.started_at + fake.latency
        return entry

    fake._record = record


if __name__ == "__main__":
    main()
