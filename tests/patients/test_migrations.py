"""Migration 0003 turns `ClinicalNote.appointment_id` into a foreign key in place: links survive."""

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from patients.models import ClinicalNote
from tests.patients.factories import ClinicalNoteFactory

BEFORE = [("patients", "0002_patient_search_trigram_indexes")]
AFTER = [("patients", "0003_clinicalnote_appointment_foreign_key")]


def migrate(targets) -> None:
    MigrationExecutor(connection).migrate(targets)


def foreign_keys_on_the_column() -> list[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, ClinicalNote._meta.db_table)
    return [name for name, info in constraints.items() if info["foreign_key"] and info["columns"] == ["appointment_id"]]


@pytest.mark.django_db(transaction=True)
def test_existing_links_survive_and_a_dangling_one_stops_the_migration(alice_practitioner, patient, johns_appointment):
    linked = ClinicalNoteFactory(patient=patient, author=alice_practitioner, appointment=johns_appointment, signed=True)
    nowhere = uuid.uuid4()
    try:
        migrate(BEFORE)
        assert foreign_keys_on_the_column() == []
        # Possible only without the constraint, as the bare UUID column allowed.
        dangling = ClinicalNoteFactory(patient=patient, author=alice_practitioner, appointment_id=nowhere)

        with pytest.raises(RuntimeError, match=str(dangling.pk)):
            migrate(AFTER)
        assert foreign_keys_on_the_column() == []
    finally:
        ClinicalNote.objects.filter(appointment_id=nowhere).delete()
        migrate(AFTER)

    assert ClinicalNote.objects.get(pk=linked.pk).appointment == johns_appointment
    assert len(foreign_keys_on_the_column()) == 1
