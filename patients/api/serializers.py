"""Shapes of the patients API. Input is checked here (400s); the services do the writing."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from diary.models import Appointment
from patients.choices import NoteStatus
from patients.models import CareTeamMember, ClinicalNote, Contact, NoteAddendum, NoteTemplate, Patient
from patients.selectors import note_appointment_choices
from patients.services import NOT_THIS_PATIENTS_APPOINTMENT
from patients.validators import normalise_nhs_number, normalise_phone, normalise_postcode


def _normalise(normaliser, value: str) -> str:
    try:
        return normaliser(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc


@extend_schema_field({"type": "string", "readOnly": True, "description": "`draft` or `signed`."})
class NoteStatusField(serializers.ChoiceField):
    """Not an enum in the schema: an enum named "status" would collide with the diary's."""

    def __init__(self, **kwargs):
        super().__init__(choices=NoteStatus.choices, read_only=True, **kwargs)


class PatientSerializer(serializers.ModelSerializer):
    # Accept what people type (spaces, lower case, national phone format); return canonical form.
    nhs_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    postcode = serializers.CharField(max_length=12, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)

    class Meta:
        model = Patient
        fields = [
            "id",
            "given_name",
            "family_name",
            "preferred_name",
            "date_of_birth",
            "gender",
            "nhs_number",
            "nhs_number_status",
            "email",
            "phone",
            "address_line1",
            "address_line2",
            "town",
            "postcode",
            "registered_gp_practice",
            "deceased",
            "date_of_death",
            "archived",
        ]
        read_only_fields = ["id", "nhs_number_status"]
        validators: list = []

    def validate_nhs_number(self, value):
        return _normalise(normalise_nhs_number, value)

    def validate_postcode(self, value):
        return _normalise(normalise_postcode, value)

    def validate_phone(self, value):
        return _normalise(normalise_phone, value)


class ContactSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)

    class Meta:
        model = Contact
        fields = ["id", "patient", "name", "relationship", "phone", "email", "authority"]
        read_only_fields = ["id", "patient"]

    def validate_phone(self, value):
        return _normalise(normalise_phone, value)


class CareTeamMemberSerializer(serializers.ModelSerializer):
    practitioner = serializers.UUIDField(source="practitioner_id")
    practitioner_name = serializers.CharField(source="practitioner.full_name", read_only=True)

    class Meta:
        model = CareTeamMember
        fields = ["id", "patient", "practitioner", "practitioner_name", "added_at"]
        read_only_fields = ["id", "patient", "practitioner_name", "added_at"]


class NoteAddendumSerializer(serializers.ModelSerializer):
    class Meta:
        model = NoteAddendum
        fields = ["id", "author", "text", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class ClinicalNoteSerializer(serializers.ModelSerializer):
    """A note; `appointment` is the id of one of the note's patient's appointments, or null.

    The view passes the patient in the context (`patient`) when creating; editing uses the
    note's own. Any other appointment id is a 400 on `appointment`; the service checks again.
    """

    appointment = serializers.PrimaryKeyRelatedField(
        queryset=Appointment.objects.none(),
        pk_field=serializers.UUIDField(),
        required=False,
        allow_null=True,
        error_messages={
            "does_not_exist": NOT_THIS_PATIENTS_APPOINTMENT,
            "incorrect_type": NOT_THIS_PATIENTS_APPOINTMENT,
        },
    )
    template = serializers.PrimaryKeyRelatedField(queryset=NoteTemplate.objects.none(), required=False, allow_null=True)
    sections = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    text = serializers.CharField(required=False, allow_blank=True)
    status = NoteStatusField()
    addenda = NoteAddendumSerializer(many=True, read_only=True)

    class Meta:
        model = ClinicalNote
        fields = [
            "id",
            "patient",
            "appointment",
            "author",
            "template",
            "text",
            "sections",
            "status",
            "signed_at",
            "addenda",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "patient", "author", "status", "signed_at", "addenda", "created_at", "updated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["template"].queryset = NoteTemplate.objects.visible_to(request.user)
            patient = self.instance.patient if isinstance(self.instance, ClinicalNote) else self.context.get("patient")
            if patient is not None:
                self.fields["appointment"].queryset = note_appointment_choices(user=request.user, patient=patient)


class AddendumCreateSerializer(serializers.Serializer):
    text = serializers.CharField()
