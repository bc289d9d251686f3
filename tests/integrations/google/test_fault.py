"""The fault test: 1,000 random diary changes across 20 practitioners while the fake Google fails
30% of calendar calls, and a worker process (`manage.py drain_outbox` in a real subprocess on
the test database) is killed with SIGKILL in the middle of a push. After draining, every
practitioner's calendar matches the diary exactly: 0 missing, 0 extra, 0 duplicate events.

Run with `-s` to see the figures; they are also written to var/reports/calendar_fault_test.txt.
"""

import base64
import datetime
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from core.choices import Role
from core.exceptions import DomainError
from diary import services as diary
from diary.choices import AppointmentStatus
from diary.models import Appointment
from integrations import outbox, tasks
from integrations.choices import OutboxStatus
from integrations.google.choices import CALENDAR_SCOPE
from integrations.google.client import EVENT_ID_NAMESPACE, event_id_for
from integrations.models import OutboxEntry
from tests.diary.factories import ServiceFactory, london
from tests.factories import LocationFactory, OrganisationFactory, StaffFactory
from tests.fakes.google import Fault
from tests.integrations.factories import google_connection_at
from tests.patients.factories import PatientFactory

ROOT = Path(__file__).resolve().parents[3]
CHANGES = 1000
PRACTITIONERS = 20
FAULTS = [
    Fault.RATE_LIMIT,
    Fault.USER_RATE_LIMIT,
    Fault.TOO_MANY_REQUESTS,
    Fault.SERVER_ERROR,
    Fault.UNAVAILABLE,
    Fault.DROP,
    Fault.DROP_AFTER,
]
WORKER_LEASE_SECONDS = 15  # more than twice the margin (2 s timeouts, plus 5)


def appointment_of(event_id: str) -> uuid.UUID | None:
    """The appointment an event id was derived from (`event_id_for`, reversed)."""
    padded = event_id.upper() + "=" * (-len(event_id) % 8)
    try:
        raw = base64.b32hexdecode(padded)
    except ValueError:
        return None
    if not raw.startswith(EVENT_ID_NAMESPACE) or len(raw) != len(EVENT_ID_NAMESPACE) + 16:
        return None
    return uuid.UUID(bytes=raw[len(EVENT_ID_NAMESPACE) :])


def worker_environment(fake) -> dict:
    db = connection.settings_dict
    env = {
        **os.environ,
        **fake.settings(),
        "DJANGO_SETTINGS_MODULE": "jelly.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "FIELD_ENCRYPTION_KEY": ",".join(django_settings.FIELD_ENCRYPTION_KEYS),
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "GOOGLE_HTTP_TIMEOUT_SECONDS": "2",
        "ZOOM_HTTP_TIMEOUT_SECONDS": "2",
        "INTEGRATIONS_OUTBOX_LEASE_SECONDS": str(WORKER_LEASE_SECONDS),
        "INTEGRATIONS_OUTBOX_MAX_ATTEMPTS": "60",
        "INTEGRATIONS_OUTBOX_BACKOFF_BASE_SECONDS": "1",
        "INTEGRATIONS_OUTBOX_BACKOFF_CAP_SECONDS": "2",
        "LOG_LEVEL": "ERROR",
    }
    return env


def start_worker(fake) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "drain_outbox",
            "--loop",
            "--workers",
            "4",
            "--batch-size",
            "10",
            "--poll-seconds",
            "0.1",
            "--no-email",
        ],
        cwd=ROOT,
        env=worker_environment(fake),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


class Diary:
    """Random changes through the diary services (the only booking layer), seeded."""

    def __init__(self, rng, actor, practitioners, patients, services, location):
        self.rng = rng
        self.actor = actor
        self.practitioners = practitioners
        self.patients = patients
        self.services = services
        self.location = location
        self.ids: list = []
        self.kinds: Counter = Counter()
        self.refused = 0

    def slot(self):
        day = datetime.date(2030, 1, 7) + datetime.timedelta(days=self.rng.randrange(0, 14))
        return london(day.year, day.month, day.day, self.rng.randrange(7, 19), self.rng.choice((0, 15, 30, 45)))

    def live(self):
        pk = self.rng.choice(self.ids)
        appointment = Appointment.objects.get(pk=pk)
        return appointment if appointment.status in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED) else None

    def change(self) -> None:
        """One successful change (a refused one, e.g. a clash, is retried with another)."""
        while True:
            kind = self.rng.choices(
                ["book", "move", "reassign", "notes", "cancel", "arrive"], weights=[35, 22, 15, 10, 12, 6]
            )[0]
            if kind != "book" and not self.ids:
                continue
            try:
                done = getattr(self, kind)()
            except DomainError:
                self.refused += 1
                continue
            if done:
                self.kinds[kind] += 1
                return

    def _override(self):
        return {"actor": self.actor, "allow_patient_overlap": True, "override_hours": True}

    def book(self):
        appointment = diary.appointment_book(
            patient=self.rng.choice(self.patients),
            practitioner=self.rng.choice(self.practitioners),
            service=self.rng.choice(self.services),
            location=self.location,
            start=self.slot(),
            notes=self.rng.choice(["", "Wheelchair user", "Prefers mornings"]),
            **self._override(),
        )
        self.ids.append(appointment.pk)
        return True

    def move(self):
        appointment = self.live()
        if appointment is None:
            return False
        diary.appointment_reschedule(
            appointment=appointment, version=appointment.version, start=self.slot(), **self._override()
        )
        return True

    def reassign(self):
        appointment = self.live()
        if appointment is None:
            return False
        others = [p for p in self.practitioners if p.pk != appointment.practitioner_id]
        diary.appointment_reschedule(
            appointment=appointment,
            version=appointment.version,
            practitioner=self.rng.choice(others),
            **self._override(),
        )
        return True

    def notes(self):
        appointment = self.live()
        if appointment is None:
            return False
        diary.appointment_reschedule(
            appointment=appointment,
            version=appointment.version,
            notes=f"Note {self.rng.randrange(10_000)}",
            **self._override(),
        )
        return True

    def cancel(self):
        appointment = self.live()
        if appointment is None or appointment.status != AppointmentStatus.BOOKED:
            return False
        diary.appointment_cancel(actor=self.actor, appointment=appointment, version=appointment.version)
        return True

    def arrive(self):
        appointment = self.live()
        if appointment is None or appointment.status != AppointmentStatus.BOOKED:
            return False
        diary.appointment_set_status(
            actor=self.actor, appointment=appointment, status=AppointmentStatus.ARRIVED, version=appointment.version
        )
        return True


def compare(fake, accounts) -> dict:
    """The diary against every practitioner's fake calendar."""
    appointments = {a.pk: a for a in Appointment.objects.select_related("patient", "service")}
    expected = {
        account: {
            event_id_for(a.pk): a
            for a in appointments.values()
            if a.practitioner_id == staff_id and a.status != AppointmentStatus.CANCELLED
        }
        for staff_id, account in accounts.items()
    }
    missing = extra = mismatched = 0
    appearances: Counter = Counter()
    for account, wanted in expected.items():
        actual = fake.live_events(account)
        missing += len(set(wanted) - set(actual))
        extra += len(set(actual) - set(wanted))
        for event_id, event in actual.items():
            appearances[appointment_of(event_id)] += 1
            appointment = wanted.get(event_id)
            if appointment is None:
                continue
            start = datetime.datetime.fromisoformat(event["start"]["dateTime"])
            end = datetime.datetime.fromisoformat(event["end"]["dateTime"])
            description_ok = (not appointment.notes) or appointment.notes in event.get("description", "")
            if start != appointment.start or end != appointment.end or not description_ok:
                mismatched += 1
    duplicates = sum(count - 1 for count in appearances.values() if count > 1)
    return {
        "appointments": len(appointments),
        "live_appointments": sum(len(w) for w in expected.values()),
        "missing": missing,
        "extra": extra,
        "duplicates": duplicates,
        "mismatched": mismatched,
    }


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_thousand_changes_through_a_flaky_google_and_a_killed_worker(fake_google, settings, monkeypatch):
    # Every task message is lost too (a broker outage): the worker processes must find the rows
    # themselves, as the beat sweeper and `drain_outbox` do.
    monkeypatch.setattr(tasks.drain_outbox, "delay", lambda **kwargs: None)
    settings.INTEGRATIONS_OUTBOX_MAX_ATTEMPTS = 60
    settings.INTEGRATIONS_OUTBOX_BACKOFF_BASE_SECONDS = 0.05
    settings.INTEGRATIONS_OUTBOX_BACKOFF_CAP_SECONDS = 0.5
    rng = random.Random(20261204)
    organisation = OrganisationFactory(name="Fault Clinic", slug="fault-clinic")
    location = LocationFactory(organisation=organisation, name="Fault Street")
    actor = StaffFactory(organisation=organisation, role=Role.ADMIN, email="admin@fault.test")
    practitioners = [
        StaffFactory(organisation=organisation, role=Role.PRACTITIONER, email=f"p{n}@fault.test", given_name=f"P{n}")
        for n in range(PRACTITIONERS)
    ]
    accounts = {p.pk: f"p{n}.calendar@gmail.test" for n, p in enumerate(practitioners)}
    for staff in practitioners:
        google_connection_at(fake_google, staff, account=accounts[staff.pk], scopes=(CALENDAR_SCOPE,))
    patients = [PatientFactory(organisation=organisation, email="") for _ in range(40)]
    services = [
        ServiceFactory(organisation=organisation, name="Follow-up", duration_minutes=30),
        ServiceFactory(organisation=organisation, name="Assessment", duration_minutes=45),
    ]
    world = Diary(rng, actor, practitioners, patients, services, location)

    fake_google.latency = 0.002
    fake_google.inject_randomly(FAULTS, probability=0.3, seed=7, path="/calendar/v3/")
    started = time.monotonic()
    worker = start_worker(fake_google)
    replacement = None
    killed_holding = 0
    try:
        for n in range(CHANGES):
            world.change()
            if n == CHANGES // 2:
                # Between two changes the web side holds no lease: any live lease is the worker's.
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    killed_holding = OutboxEntry.objects.filter(lease_until__gt=timezone.now()).count()
                    if killed_holding:
                        break
                    time.sleep(0.005)
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
                replacement = start_worker(fake_google)
        changes_seconds = time.monotonic() - started
        replacement.terminate()
        replacement.wait(timeout=10)
        left_leased = OutboxEntry.objects.filter(lease_until__gt=timezone.now()).count()
        report = outbox.drain(workers=4, batch_size=10, until_settled=True, poll_seconds=0.1, max_seconds=100)
    finally:
        for process in (worker, replacement):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    total_seconds = time.monotonic() - started

    figures = compare(fake_google, accounts)
    calendar_calls = fake_google.requests_to("/calendar/v3/")
    statuses = Counter(OutboxEntry.objects.values_list("status", flat=True))
    figures.update(
        changes=sum(world.kinds.values()),
        change_kinds=dict(world.kinds),
        refused_attempts=world.refused,
        practitioners=PRACTITIONERS,
        api_calls=len(calendar_calls),
        injected_faults=sum(1 for r in calendar_calls if r.fault),
        killed_worker_exit=worker.returncode,
        rows_leased_by_killed_worker=killed_holding,
        rows_still_leased_after_changes=left_leased,
        final_drain=report.as_dict(),
        outbox_statuses=dict(statuses),
        seconds_changes=round(changes_seconds, 1),
        seconds_total=round(total_seconds, 1),
    )
    lines = [f"{key}: {value}" for key, value in figures.items()]
    print("\n" + "\n".join(lines))
    reports = ROOT / "var" / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "calendar_fault_test.txt").write_text("\n".join(lines) + "\n")

    assert figures["changes"] == CHANGES
    assert worker.returncode == -signal.SIGKILL and killed_holding > 0
    assert figures["api_calls"] >= figures["appointments"]
    assert figures["injected_faults"] > 0.2 * figures["api_calls"]
    assert (figures["missing"], figures["extra"], figures["duplicates"], figures["mismatched"]) == (0, 0, 0, 0)
    assert dict(statuses) == {OutboxStatus.DONE: statuses[OutboxStatus.DONE]}
