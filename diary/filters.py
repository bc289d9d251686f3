"""One filter for appointments, shared by the diary pages and the API."""

import django_filters

from diary.choices import AppointmentStatus
from diary.models import Appointment


class AppointmentFilter(django_filters.FilterSet):
    """`start`/`end` select appointments overlapping [start, end); ids select the rest.

    Ids are matched within the caller's own rows (the queryset is already `visible_to`), so
    another organisation's id simply matches nothing.
    """

    start = django_filters.IsoDateTimeFilter(field_name="end", lookup_expr="gt", label="Ending after")
    end = django_filters.IsoDateTimeFilter(field_name="start", lookup_expr="lt", label="Starting before")
    practitioner = django_filters.UUIDFilter(field_name="practitioner_id")
    patient = django_filters.UUIDFilter(field_name="patient_id")
    location = django_filters.UUIDFilter(field_name="location_id")
    status = django_filters.MultipleChoiceFilter(choices=AppointmentStatus.choices)

    class Meta:
        model = Appointment
        fields = ["start", "end", "practitioner", "patient", "location", "status"]
