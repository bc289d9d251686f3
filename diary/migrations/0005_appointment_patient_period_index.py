"""On PostgreSQL, a GiST index over each patient's live appointment periods.

The booking check (`diary.services._plainly_bookable`) asks whether a patient has another live
appointment overlapping the new one. Compared by start and end through the (patient, start)
btree, that read every earlier appointment of the patient, so it slowed as their history grew;
as a range overlap it reads only what lies near the slot, as the practitioner's and room's
checks do with the exclusion constraints' indexes. PostgreSQL only (SQLite has no GiST).
"""

from django.db import migrations

CREATE = """
CREATE INDEX appointment_patient_period ON diary_appointment
USING gist (patient_id, tstzrange("start", "end", '[)'))
WHERE NOT (status = 'cancelled')
"""
DROP = "DROP INDEX IF EXISTS appointment_patient_period"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("diary", "0004_drop_indexes_led_elsewhere")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
