"""SQLite, the database `make run` uses: the audit chain's head follows each insert, and the
booking rules' one-statement check (`diary.services._plainly_bookable`, raw SQL) reads the same.

Runs in a subprocess against a fresh SQLite file (the suite's own database is PostgreSQL), so it
also proves every migration, the triggers included, applies on SQLite.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHAIN_SCRIPT = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from core.services import organisation_create
from privacy import audit
from privacy.choices import AuditAction
from privacy.models import AuditChainHead
from privacy.services import audit_entry_record

clinic = organisation_create(name="Dev Clinic", slug="dev-clinic")
entries = [audit_entry_record(action=AuditAction.CHANGE, obj=clinic) for _ in range(3)]
head = AuditChainHead.objects.get(organisation=clinic)
assert [entry.sequence for entry in entries] == [1, 2, 3], entries
assert head.sequence == 3 and head.last_hash == entries[-1].entry_hash, (head.sequence, head.last_hash)
assert audit.verify_chain(clinic).intact
print("chain ok")
"""

BOOKING_SCRIPT = """
import datetime
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from zoneinfo import ZoneInfo
from core.choices import Role
from core.exceptions import DomainError
from core.services import location_create, organisation_create, staff_create
from diary import services
from patients.services import patient_create

LONDON = ZoneInfo("Europe/London")
clinic = organisation_create(name="Dev Clinic", slug="dev-clinic")
site = location_create(organisation=clinic, name="Main")
service = services.service_create(organisation=clinic, name="Check", duration_minutes=30)
rita = staff_create(organisation=clinic, email="rita@dev.test", role=Role.RECEPTIONIST, password="Dev-password-2026!")
alice = staff_create(organisation=clinic, email="alice@dev.test", role=Role.PRACTITIONER, password="Dev-password-2026!")
services.working_hours_set(practitioner=alice, hours=[
    {"weekday": 0, "start_time": datetime.time(9), "end_time": datetime.time(17), "location": site},
])
born = datetime.date(1980, 1, 1)
patient = patient_create(organisation=clinic, given_name="Pat", family_name="Dev", date_of_birth=born)
other = patient_create(organisation=clinic, given_name="Sam", family_name="Dev", date_of_birth=born)

def at(hour, minute=0):
    return datetime.datetime(2031, 3, 31, hour, minute, tzinfo=LONDON)  # a Monday, in BST

def book(start, who=patient):
    return services.appointment_book(
        actor=rita, patient=who, practitioner=alice, service=service, location=site, start=start
    )

def refused(start, who=patient):
    try:
        book(start, who)
    except DomainError as error:
        return error.message
    raise AssertionError(f"booked at {start}")

assert book(at(10)).end == at(10, 30)
assert "already booked" in refused(at(10, 15), other)
assert book(at(10, 30), other).start == at(10, 30)  # touching is fine
assert "outside" in refused(at(16, 45))
services.time_off_create(practitioner=alice, start=at(12), end=at(13), reason="Lunch")
assert "away" in refused(at(12, 30))
assert book(at(13)).start == at(13)
print("booking ok")
"""


def run_on_fresh_sqlite(tmp_path, script: str) -> str:
    """Run `script` in a subprocess on a new SQLite database with development settings."""
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "jelly.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def test_the_chain_works_on_a_fresh_sqlite_database(tmp_path):
    assert run_on_fresh_sqlite(tmp_path, CHAIN_SCRIPT).endswith("chain ok")


def test_the_booking_rules_read_the_same_on_sqlite(tmp_path):
    assert run_on_fresh_sqlite(tmp_path, BOOKING_SCRIPT).endswith("booking ok")
