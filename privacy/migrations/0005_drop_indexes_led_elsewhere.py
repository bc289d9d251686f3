"""Drop the audit table's single-column indexes on organisation and patient: composite indexes
start with each (the sequence constraint, audit_entry_patient_idx), and every audited change
writes every index.

SQLite alters a column by rebuilding the table, which drops its triggers, so the chain-head
trigger of 0004 is made again there afterwards (and after migrating back).
"""

import django.db.models.deletion
from django.db import migrations, models

SQLITE_HEAD_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS privacy_audit_head_follows_inserts
    AFTER INSERT ON privacy_auditentry
    FOR EACH ROW
BEGIN
    UPDATE privacy_auditchainhead SET last_hash = NEW.entry_hash
    WHERE organisation_id = NEW.organisation_id;
END;
"""


def restore_sqlite_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_HEAD_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("patients", "0003_clinicalnote_appointment_foreign_key"),
        ("privacy", "0004_audit_head_follows_inserts"),
    ]

    operations = [
        # Undone last when migrating back, after the rebuilds below are undone.
        migrations.RunPython(migrations.RunPython.noop, restore_sqlite_trigger, elidable=False),
        migrations.AlterField(
            model_name="auditentry",
            name="organisation",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="core.organisation"
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="patient",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="patients.patient",
            ),
        ),
        migrations.RunPython(restore_sqlite_trigger, migrations.RunPython.noop, elidable=False),
    ]
