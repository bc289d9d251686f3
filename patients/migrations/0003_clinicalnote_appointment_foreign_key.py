"""Turn `ClinicalNote.appointment_id` (a bare UUID) into a foreign key to `diary.Appointment`.

The column `appointment_id` and every value in it stay where they are; nothing is dropped or
re-added. In three steps:

1. refuse to go on if any note names an appointment that does not exist (the constraint
   could not be added, and clearing the value would lose a clinical record's link silently);
2. in the model state only, replace the UUID field with a foreign key over the same column,
   as yet without index or constraint (the database is not touched);
3. alter that foreign key to the real one, which adds the index and the foreign key
   constraint to the existing column.
"""

import django.db.models.deletion
from django.db import migrations, models


def refuse_dangling_links(apps, schema_editor):
    ClinicalNote = apps.get_model("patients", "ClinicalNote")
    Appointment = apps.get_model("diary", "Appointment")
    linked = ClinicalNote.objects.filter(appointment_id__isnull=False)
    dangling = list(
        linked.exclude(appointment_id__in=Appointment.objects.values("pk")).values_list("pk", flat=True)[:20]
    )
    if dangling:
        raise RuntimeError(
            "These clinical notes name an appointment that does not exist, so their link cannot "
            "become a foreign key. Correct them (for example, set the right appointment) and migrate "
            f"again: {', '.join(str(pk) for pk in dangling)}"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("diary", "0002_postgresql_exclusion_constraints"),
        ("patients", "0002_patient_search_trigram_indexes"),
    ]

    operations = [
        migrations.RunPython(refuse_dangling_links, migrations.RunPython.noop, elidable=True),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="clinicalnote", name="appointment_id"),
                migrations.AddField(
                    model_name="clinicalnote",
                    name="appointment",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="clinical_notes",
                        to="diary.appointment",
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterField(
            model_name="clinicalnote",
            name="appointment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="clinical_notes",
                to="diary.appointment",
            ),
        ),
    ]
