"""The fault test: random diary changes for ten telehealth practitioners while the fake Zoom
fails about 30% of calls (rate limits, 5xx, dropped connections, answers lost after Zoom did
the work) and a real worker process (`manage.py drain_outbox`) is killed with SIGKILL mid-run.
After draining to completion, every appointment that should have a Zoom meeting has exactly
one, at its time, for its length, hosted by its practitioner, and Zoom has no other meeting of
Jelly's: 0 missing, 0 orphaned, 0 duplicates. The figures are printed (run with -s to see them).
"""

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from core.choices import Role
from core.exceptions import DomainError
from diary import services as diary
from diary.choices import MOVABLE_STATUSES, AppointmentStatus
from diary.models import Appointment
from integrations import outbox
from integrations import tasks as engine_tasks
from integrations.choices import OutboxStatus
from integrations.models import OutboxEntry
from integrations.zoom.choices import ZOOM_MEETING
from integrations.zoom.models import ZoomMeeting, ZoomUserLink
from integrations.zoom.payloads import appointment_reference
from tests.diary.factories import ServiceFactory
from tests.factories import StaffFactory
from tests.integrations.zoom.conftest import link_to_zoom
from tests.patients.factories import PatientFactory

CHANGES = 300
PRACTITIONERS = 10
FAILURE_RATE = 0.3
SEED = 7
FIRST_DAY = date(2030, 1, 7)


def london(day: date, minutes: int) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day) + timedelta(minutes=minutes))


def worker(fake, extra_env: dict) -> subprocess.Popen:
    """`manage.py drain_outbox --loop` against the test database, as a separate process."""
    database = django_settings.DATABASES["default"]
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    user = database.get("USER") or "postgres"
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "jelly.settings_test",
        "DATABASE_URL": f"postgres://{user}{password}@{host}:{port}/{database['NAME']}",
        "ZOOM_CLIENT_ID": fake.client_id,
        "ZOOM_CLIENT_SECRET": fake.client_secret,
        "ZOOM_WEBHOOK_SECRET_TOKEN": fake.webhook_secret,
        "ZOOM_AUTH_URL": fake.auth_url,
        "ZOOM_TOKEN_URL": fake.token_url,
        "ZOOM_API_BASE_URL": fake.api_base_url,
        "ZOOM_HTTP_TIMEOUT_SECONDS": "1",
        "GOOGLE_HTTP_TIMEOUT_SECONDS": "1",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "LOG_LEVEL": "WARNING",
        **extra_env,
    }
    command = [sys.executable, "manage.py", "drain_outbox", "--loop", "--workers", "3", "--batch-size", "5"]
    command += ["--poll-seconds", "0.2", "--no-email"]
    return subprocess.Popen(
        command, cwd=django_settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def wait_for(predicate, *, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


class Clinic:
    """The random changes, through the diary's services as an admin (hours overridden, so the
    refusals left are the real clashes)."""

    def __init__(self, organisation, location, admin, practitioners, patients, service, rng):
        self.organisation = organisation
        self.location = location
        self.admin = admin
        self.practitioners = practitioners
        self.patients = patients
        self.service = service
        self.rng = rng
        self.counts: Counter = Counter()

    def slot(self) -> datetime:
        day = FIRST_DAY + timedelta(days=self.rng.randrange(5))
        return london(day, 8 * 60 + 15 * self.rng.randrange(36))

    def live(self) -> list[Appointment]:
        return list(
            Appointment.objects.filter(organisation=self.organisation, status=AppointmentStatus.BOOKED).order_by("pk")
        )

    def change(self) -> None:
        live = self.live()
        roll = self.rng.random()
        kind = "book" if not live or roll < 0.35 else self.rng.choice(["move", "move", "length", "reassign", "cancel"])
        try:
            if kind == "book":
                diary.appointment_book(
                    actor=self.admin,
                    patient=self.rng.choice(self.patients),
                    practitioner=self.rng.choice(self.practitioners),
                    service=self.service,
                    location=self.location,
                    start=self.slot(),
                    allow_patient_overlap=True,
                    override_hours=True,
                )
            else:
                appointment = self.rng.choice(live)
                common = {
                    "actor": self.admin,
                    "appointment": appointment,
                    "version": appointment.version,
                    "allow_patient_overlap": True,
                    "override_hours": True,
                }
                if kind == "move":
                    diary.appointment_reschedule(**common, start=self.slot())
                elif kind == "length":
                    minutes = self.rng.choice([15, 20, 45, 60])
                    diary.appointment_reschedule(**common, end=appointment.start + timedelta(minutes=minutes))
                elif kind == "reassign":
                    others = [p for p in self.practitioners if p.pk != appointment.practitioner_id]
                    diary.appointment_reschedule(**common, practitioner=self.rng.choice(others))
                else:
                    diary.appointment_cancel(actor=self.admin, appointment=appointment, reason="Fault test")
        except DomainError:
            self.counts["refused by the diary's rules"] += 1
            return
        self.counts[kind] += 1


def settle(timeout: float) -> bool:
    return wait_for(
        lambda: not OutboxEntry.objects.filter(destination=ZOOM_MEETING, status=OutboxStatus.PENDING).exists(),
        timeout=timeout,
        step=0.2,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_meeting_matches_its_appointment_after_failures_and_a_killed_worker(
    fake_zoom, auto_zoom, clinic, clinic_location, settings, monkeypatch
):
    started = time.monotonic()
    timing = {
        "INTEGRATIONS_OUTBOX_LEASE_SECONDS": "14",
        "INTEGRATIONS_OUTBOX_BACKOFF_BASE_SECONDS": "1",
        "INTEGRATIONS_OUTBOX_BACKOFF_CAP_SECONDS": "2",
        "INTEGRATIONS_OUTBOX_MAX_ATTEMPTS": "40",
    }
    for name, value in timing.items():
        setattr(settings, name, int(value))
    settings.INTEGRATIONS_OUTBOX_LEASE_MARGIN_SECONDS = 6  # the workers' (1 s timeouts, plus 5)
    # The worker processes are the only workers until the end: nothing drains in this process.
    monkeypatch.setattr(engine_tasks.drain_outbox, "delay", lambda *args, **kwargs: None)

    rng = random.Random(SEED)
    admin = StaffFactory(organisation=clinic, role=Role.ADMIN, email="fault-admin@bath.test")
    practitioners = [
        StaffFactory(organisation=clinic, role=Role.PRACTITIONER, email=f"tele{n}@bath.test", given_name=f"Tele{n}")
        for n in range(PRACTITIONERS)
    ]
    hosts = {staff.pk: link_to_zoom(fake_zoom, staff) for staff in practitioners}
    patients = [PatientFactory(organisation=clinic) for _ in range(40)]
    service = ServiceFactory(organisation=clinic, name="Video consultation", duration_minutes=30, is_telehealth=True)
    clinic_changes = Clinic(clinic, clinic_location, admin, practitioners, patients, service, rng)

    fake_zoom.chaos(FAILURE_RATE, seed=SEED)

    # Worker A takes the changes as they come, and is killed while it holds leases (mid-push),
    # once half of them are made; the rest of the changes carry on without a worker.
    first = worker(fake_zoom, timing)
    killed = None
    killed_at: dict = {}

    def kill_when_busy() -> bool:
        leased = OutboxEntry.objects.filter(lease_token__isnull=False).count()
        if not leased:
            return False
        first.send_signal(signal.SIGKILL)
        killed_at.update(leased=leased, calls=len(fake_zoom.requests_to(path="^/v2/")))
        return True

    for number in range(CHANGES):
        clinic_changes.change()
        if number >= CHANGES // 2 and killed is None and kill_when_busy():
            killed = number + 1
    if killed is None:
        assert wait_for(kill_when_busy, timeout=20), "worker A never claimed a row"
        killed = CHANGES
    first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL, first.stderr.read().decode(errors="replace")

    # Worker B drains to completion (the killed worker's leases expire meanwhile).
    second = worker(fake_zoom, timing)
    try:
        settled_by_worker = settle(timeout=75)
    finally:
        second.terminate()
        second.wait(timeout=10)
    # Whatever is still pending (a backoff) is finished here, failures still injected.
    outbox.drain(workers=3, batch_size=5, until_settled=True, poll_seconds=0.2, max_seconds=60)

    # --- Every meeting matches its appointment ---------------------------------------------
    appointments = {a.pk: a for a in Appointment.objects.filter(organisation=clinic)}
    wanted = {pk: a for pk, a in appointments.items() if a.status in MOVABLE_STATUSES}
    by_reference = {appointment_reference(pk): pk for pk in appointments}
    in_zoom: dict = defaultdict(list)
    orphaned = []
    for meeting in list(fake_zoom.meetings.values()):
        owner = by_reference.get(meeting["agenda"])
        if owner in wanted:
            in_zoom[owner].append(meeting)
        else:
            orphaned.append(meeting)
    missing = [pk for pk in wanted if not in_zoom[pk]]
    duplicates = [pk for pk in wanted if len(in_zoom[pk]) > 1]
    records = {
        m.appointment_id: m for m in ZoomMeeting.objects.filter(retired_at__isnull=True, deleted_at__isnull=True)
    }
    mismatched = []
    for pk, appointment in wanted.items():
        if len(in_zoom[pk]) != 1:
            continue
        [meeting] = in_zoom[pk]
        expected = (
            appointment.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            appointment.duration_minutes,
            hosts[appointment.practitioner_id],
            meeting["id"],
        )
        record = records.get(pk)
        actual = (meeting["start_time"], meeting["duration"], meeting["host_id"], record and record.zoom_meeting_id)
        if actual != expected:
            mismatched.append((pk, expected, actual))
    rows = Counter(OutboxEntry.objects.filter(destination=ZOOM_MEETING).values_list("status", flat=True))
    links = ZoomUserLink.objects.filter(organisation=clinic).count()

    figures = {
        "changes": dict(clinic_changes.counts),
        "practitioners": links,
        "appointments": len(appointments),
        "live appointments": len(wanted),
        "Zoom API calls": len(fake_zoom.requests_to(path="^/v2/")),
        "injected failures": dict(fake_zoom.chaos_counts),
        "killed after change": killed,
        "calls before the kill": killed_at["calls"],
        "rows leased by the killed worker": killed_at["leased"],
        "lost creates looked up": len(fake_zoom.requests_to("GET", r"^/v2/users/[^/]+/meetings$")),
        "settled by worker B": settled_by_worker,
        "outbox rows": dict(rows),
        "meetings in Zoom": len(fake_zoom.meetings),
        "missing": len(missing),
        "orphaned": len(orphaned),
        "duplicates": len(duplicates),
        "mismatched": len(mismatched),
        "seconds": round(time.monotonic() - started, 1),
    }
    print("\nZoom fault test:", figures)

    assert sum(clinic_changes.counts.values()) == CHANGES
    assert sum(fake_zoom.chaos_counts.values()) > 0 and killed_at["leased"] > 0
    assert (missing, orphaned, duplicates, mismatched) == ([], [], [], [])
    assert set(rows) == {OutboxStatus.DONE}
    assert len(fake_zoom.meetings) == len(wanted)
