"""Factories for the diary, and its objects for the authorisation matrix.

Factories write rows directly (test set-up only); tests of behaviour book through
`diary.services`, as every real entry point does.
"""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from diary.choices import AppointmentStatus, ChangeKind
from diary.models import Appointment, AppointmentChange, Room, Service, TimeOff, WorkingHours
from tests.factories import LocationFactory, OrganisationFactory
from tests.matrix_registry import register_matrix_object
from tests.patients.factories import PatientFactory, PractitionerFactory


def london(year, month, day, hour=0, minute=0) -> datetime.datetime:
    """An aware Europe/London wall-clock time."""
    return timezone.make_aware(datetime.datetime(year, month, day, hour, minute))


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("organisation", "name")

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Follow-up {n}")
    duration_minutes = 30
    price = Decimal("45.00")
    colour = "#3A7BD5"


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    location = factory.SubFactory(LocationFactory)
    organisation = factory.SelfAttribute("location.organisation")
    name = factory.Sequence(lambda n: f"Room {n}")


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingHours

    practitioner = factory.SubFactory(PractitionerFactory)
    organisation = factory.SelfAttribute("practitioner.organisation")
    location = factory.SubFactory(LocationFactory, organisation=factory.SelfAttribute("..organisation"))
    weekday = 0
    start_time = datetime.time(9, 0)
    end_time = datetime.time(17, 0)


class TimeOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeOff

    practitioner = factory.SubFactory(PractitionerFactory)
    organisation = factory.SelfAttribute("practitioner.organisation")
    start = factory.LazyFunction(lambda: london(2030, 1, 7, 12))
    end = factory.LazyFunction(lambda: london(2030, 1, 7, 13))
    reason = "Lunch"


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    organisation = factory.SubFactory(OrganisationFactory)
    patient = factory.SubFactory(PatientFactory, organisation=factory.SelfAttribute("..organisation"))
    practitioner = factory.SubFactory(PractitionerFactory, organisation=factory.SelfAttribute("..organisation"))
    service = factory.SubFactory(ServiceFactory, organisation=factory.SelfAttribute("..organisation"))
    location = factory.SubFactory(LocationFactory, organisation=factory.SelfAttribute("..organisation"))
    start = factory.LazyFunction(lambda: london(2030, 1, 7, 10))
    end = factory.LazyAttribute(lambda o: o.start + datetime.timedelta(minutes=30))
    status = AppointmentStatus.BOOKED


def _appointment(organisation, canary):
    return AppointmentFactory(
        organisation=organisation,
        patient=PatientFactory(organisation=organisation, family_name=f"Family {canary}"),
        service=ServiceFactory(organisation=organisation, name=f"Appointment service {canary}"),
        notes=f"Notes {canary}",
    )


def _appointment_change(organisation, canary):
    appointment = _appointment(organisation, canary)
    return AppointmentChange.objects.create(
        organisation=organisation, appointment=appointment, kind=ChangeKind.CREATED, version=1, changes={}
    )


register_matrix_object("appointment", _appointment)
register_matrix_object("appointmentchange", _appointment_change)
register_matrix_object(
    "service", lambda organisation, canary: ServiceFactory(organisation=organisation, name=f"Service {canary}")
)
register_matrix_object(
    "room",
    lambda organisation, canary: RoomFactory(
        location=LocationFactory(organisation=organisation, name=f"Site of room {canary}"), name=f"Room {canary}"
    ),
)
register_matrix_object(
    "workinghours",
    lambda organisation, canary: WorkingHoursFactory(
        practitioner=PractitionerFactory(organisation=organisation, family_name=f"Hours {canary}"),
        location=LocationFactory(organisation=organisation, name=f"Site of hours {canary}"),
    ),
)
register_matrix_object(
    "timeoff",
    lambda organisation, canary: TimeOffFactory(
        practitioner=PractitionerFactory(organisation=organisation, family_name=f"Away {canary}"),
        reason=f"Leave {canary}",
    ),
)
