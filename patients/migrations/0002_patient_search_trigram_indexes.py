"""Trigram (pg_trgm) GIN indexes for patient search (names and their fuzzy keys, phone numbers),
on PostgreSQL only.

`TrigramExtension` does nothing on other databases; the indexes are created by vendor-checked
SQL because a GIN index with an operator class cannot exist on SQLite, where search falls back
to plain LIKE (see patients/selectors.py).
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

TRIGRAM_INDEXES = {
    "patient_search_text_trgm": "search_text",
    "patient_phone_trgm": "phone",
}


class CreateTrigramExtension(TrigramExtension):
    """Creates pg_trgm on PostgreSQL; leaves it in place when reversed (other apps may use it)."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        return


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("patients", "Patient")._meta.db_table)
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)} "
            f"ON {table} USING gin ({schema_editor.quote_name(column)} gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0001_initial"),
    ]

    operations = [
        CreateTrigramExtension(),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
