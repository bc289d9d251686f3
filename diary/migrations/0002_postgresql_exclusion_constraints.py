"""No double-booking, held by PostgreSQL itself: exclusion constraints over half-open ranges.

PostgreSQL only (btree_gist and EXCLUDE do not exist in SQLite, which `make run` uses), so the
constraints are added by RunPython when the connection is PostgreSQL rather than declared in
Meta.constraints, and this migration does nothing elsewhere. `tstzrange(start, end, '[)')`
makes touching appointments (10:00–10:30 then 10:30–11:00) legal; cancelled rows are ignored.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations, models


def _constraints():
    from django.contrib.postgres.constraints import ExclusionConstraint
    from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators

    class TsTzRange(models.Func):
        function = "TSTZRANGE"
        output_field = DateTimeRangeField()

    class TsRange(models.Func):
        # Working hours are wall-clock times: put them on one arbitrary day to get a range.
        function = "TSRANGE"
        template = "%(function)s(DATE '2000-01-01' + %(expressions)s)"
        arg_joiner = ", DATE '2000-01-01' + "

    live = ~models.Q(status="cancelled")
    during = (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS)
    return [
        (
            "appointment",
            ExclusionConstraint(
                name="appointment_practitioner_no_overlap",
                expressions=[("practitioner", RangeOperators.EQUAL), during],
                condition=live,
            ),
        ),
        (
            "appointment",
            ExclusionConstraint(
                name="appointment_room_no_overlap",
                expressions=[("room", RangeOperators.EQUAL), during],
                condition=live & models.Q(room__isnull=False),
            ),
        ),
        (
            "workinghours",
            ExclusionConstraint(
                name="working_hours_no_overlap",
                expressions=[
                    ("practitioner", RangeOperators.EQUAL),
                    ("weekday", RangeOperators.EQUAL),
                    (TsRange("start_time", "end_time"), RangeOperators.OVERLAPS),
                ],
            ),
        ),
    ]


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, constraint in _constraints():
        schema_editor.add_constraint(apps.get_model("diary", model_name), constraint)


def remove_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, constraint in _constraints():
        schema_editor.remove_constraint(apps.get_model("diary", model_name), constraint)


class Migration(migrations.Migration):
    dependencies = [
        ("diary", "0001_initial"),
    ]

    operations = [
        BtreeGistExtension(),  # itself a no-op on anything but PostgreSQL
        migrations.RunPython(add_constraints, remove_constraints),
    ]
