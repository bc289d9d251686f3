"""Shapes of the diary API. Input is checked here (400s); `diary.services` does the writing."""

from datetime import datetime

from django.db.models import Model
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from core.api.serializers import LocationSerializer as CoreLocationSerializer
from core.db import Lookup, get_each
from core.models import ACTIVE_PRACTITIONER, Location, Staff, tenant_scope
from diary.choices import AppointmentStatus
from diary.models import Room, Service, WorkingHours
from patients.models import Patient


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time that must carry its UTC offset: a naive time is ambiguous (400)."""

    default_error_messages = {
        "naive": "Give the time with its UTC offset, for example 2027-03-28T09:00:00+01:00 or …Z.",
    }

    def to_internal_value(self, value):
        parsed = value if isinstance(value, datetime) else parse_datetime(str(value).strip())
        if parsed is not None and timezone.is_naive(parsed):
            self.fail("naive")
        return super().to_internal_value(value)


class OrganisationReference(serializers.UUIDField):
    """The id of a `model` row of the caller's organisation (`tenant_scope`), also matching
    `only` if given: another organisation's id, like an unknown one, "does not exist". The
    serializer (`ResolvesReferences`) loads every reference it was sent in one statement and hands
    the rows on as validated data."""

    default_error_messages = {"does_not_exist": 'Invalid pk "{pk_value}" - object does not exist.'}

    def __init__(self, model, *, only: dict | None = None, **kwargs):
        self.model = model
        self.only = only or {}
        super().__init__(**kwargs)

    def lookup(self, user, pk) -> Lookup:
        scope = tenant_scope(user)
        return Lookup(self.model, None if scope is None else {"pk": pk, **scope, **self.only})

    def to_representation(self, value):
        return super().to_representation(value.pk if isinstance(value, Model) else value)


class ResolvesReferences:
    """For serializers with `OrganisationReference` fields: after the fields' own checks, one
    statement (`core.db.get_each`) replaces their ids with the caller's organisation's rows; ids
    that match none are field errors. Without a signed-in user in the context nothing matches."""

    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        references = {
            name: field
            for name, field in self.fields.items()
            if isinstance(field, OrganisationReference) and attrs.get(field.source) is not None
        }
        if user is None:
            rows = dict.fromkeys(references)
        else:
            rows = get_each({name: field.lookup(user, attrs[field.source]) for name, field in references.items()})
        errors = {}
        for name, field in references.items():
            if rows[name] is None:
                errors[name] = [field.error_messages["does_not_exist"].format(pk_value=attrs[field.source])]
            else:
                attrs[field.source] = rows[name]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class PractitionerSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Staff
        fields = ["id", "given_name", "family_name", "full_name"]
        read_only_fields = fields


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name", "duration_minutes", "price", "colour", "is_telehealth", "is_active"]
        read_only_fields = ["id"]
        validators: list = []


class LocationSerializer(CoreLocationSerializer):
    class Meta(CoreLocationSerializer.Meta):
        read_only_fields = ["id", "phone", "is_active"]


class WorkingHoursSerializer(ResolvesReferences, serializers.ModelSerializer):
    location = OrganisationReference(Location)

    class Meta:
        model = WorkingHours
        fields = ["weekday", "start_time", "end_time", "location"]

    def validate(self, attrs):
        if attrs["end_time"] <= attrs["start_time"]:
            raise serializers.ValidationError({"end_time": "The end must be after the start."})
        return attrs


class AppointmentSerializer(serializers.Serializer):
    """An appointment as the API shows it (a plain Serializer: cheaper per request than a
    ModelSerializer's field introspection, and the fields are fixed by the API contract)."""

    id = serializers.UUIDField(read_only=True)
    patient = serializers.UUIDField(source="patient_id", read_only=True)
    practitioner = serializers.UUIDField(source="practitioner_id", read_only=True)
    service = serializers.UUIDField(source="service_id", read_only=True)
    location = serializers.UUIDField(source="location_id", read_only=True)
    room = serializers.UUIDField(source="room_id", read_only=True, allow_null=True)
    start = serializers.DateTimeField(read_only=True)
    end = serializers.DateTimeField(read_only=True)
    status = serializers.ChoiceField(choices=AppointmentStatus.choices, read_only=True)
    notes = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)


class _AppointmentInput(ResolvesReferences, serializers.Serializer):
    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError({"end": "The end must be after the start."})
        room, location = attrs.get("room"), attrs.get("location")
        if room is not None and location is not None and room.location_id != location.pk:
            raise serializers.ValidationError({"room": "The room is at another location."})
        return attrs


class AppointmentCreateSerializer(_AppointmentInput):
    patient = OrganisationReference(Patient)
    practitioner = OrganisationReference(Staff, only=ACTIVE_PRACTITIONER)
    service = OrganisationReference(Service)
    location = OrganisationReference(Location)
    room = OrganisationReference(Room, required=False, allow_null=True)
    start = AwareDateTimeField()
    end = AwareDateTimeField(required=False, help_text="Defaults to start plus the service's duration.")
    notes = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    allow_patient_overlap = serializers.BooleanField(required=False, default=False)
    override_hours = serializers.BooleanField(
        required=False, default=False, help_text="Book outside working hours or in time off (admins only)."
    )


class AppointmentUpdateSerializer(_AppointmentInput):
    version = serializers.IntegerField(min_value=1, help_text="The version you read; a stale one gets 409.")
    practitioner = OrganisationReference(Staff, only=ACTIVE_PRACTITIONER, required=False)
    service = OrganisationReference(Service, required=False)
    location = OrganisationReference(Location, required=False)
    room = OrganisationReference(Room, required=False, allow_null=True)
    start = AwareDateTimeField(required=False)
    end = AwareDateTimeField(required=False)
    notes = serializers.CharField(max_length=500, required=False, allow_blank=True)
    allow_patient_overlap = serializers.BooleanField(required=False, default=False)
    override_hours = serializers.BooleanField(required=False, default=False)


class _StatusChangeInput(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, required=False)
    after_arrival = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Needed to cancel an appointment whose patient has arrived: confirms it is meant.",
    )


class AppointmentCancelSerializer(_StatusChangeInput):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AppointmentStatusSerializer(_StatusChangeInput):
    status = serializers.ChoiceField(choices=AppointmentStatus.choices)


class AppointmentReinstateSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="The version you read; a stale one gets 409."
    )
    allow_patient_overlap = serializers.BooleanField(
        required=False, default=False, help_text="Reinstate even though the patient has another appointment then."
    )
    override_hours = serializers.BooleanField(
        required=False, default=False, help_text="Reinstate outside working hours or in time off (admins only)."
    )


class AvailabilityQuerySerializer(ResolvesReferences, serializers.Serializer):
    service = OrganisationReference(Service)
    practitioner = OrganisationReference(Staff, only=ACTIVE_PRACTITIONER, required=False)
    location = OrganisationReference(Location, required=False)
    date = serializers.DateField()


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    practitioner = serializers.UUIDField(source="practitioner.pk")
    location = serializers.UUIDField(source="location.pk")


class AvailabilitySerializer(serializers.Serializer):
    slots = SlotSerializer(many=True)
