"""The diary's source of care relationships (registered in `patients.care`).

A practitioner has a direct care relationship with a patient they have a live (not cancelled)
appointment with in the last `CARE_RELATIONSHIP_APPOINTMENT_MONTHS` months, or upcoming.
"""

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from diary.choices import AppointmentStatus
from diary.models import Appointment


def appointment_relationship(practitioner) -> Q:
    since = timezone.now() - relativedelta(months=settings.CARE_RELATIONSHIP_APPOINTMENT_MONTHS)
    appointments = Appointment.objects.filter(
        patient=OuterRef("pk"), practitioner=practitioner, end__gte=since
    ).exclude(status=AppointmentStatus.CANCELLED)
    return Q(Exists(appointments))
