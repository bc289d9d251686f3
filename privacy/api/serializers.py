"""Shapes of the privacy API. Input is checked here (400s); the services decide and write."""

from rest_framework import serializers

from privacy.choices import ConsentDecision, DataCategory, DisclosurePurpose, RecipientCategory, RecordingMethod
from privacy.models import Consent, Disclosure, NhsNumberObjection


class StaffNameField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value):
        return (value.full_name or value.email) if value is not None else None


class ConsentSerializer(serializers.ModelSerializer):
    how = serializers.ChoiceField(source="method", choices=RecordingMethod.choices)
    recorded_by_name = StaffNameField(source="recorded_by")

    class Meta:
        model = Consent
        fields = [
            "id",
            "purpose",
            "decision",
            "how",
            "recorded_by",
            "recorded_by_name",
            "recorded_at",
            "expires_at",
            "evidence",
        ]
        read_only_fields = fields


class ConsentCreateSerializer(serializers.Serializer):
    purpose = serializers.CharField(max_length=64)
    decision = serializers.ChoiceField(choices=ConsentDecision.choices)
    how = serializers.ChoiceField(choices=RecordingMethod.choices)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    evidence = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_purpose(self, value):
        if value not in self.context["purposes"]:
            raise serializers.ValidationError(f"Choose one of: {', '.join(sorted(self.context['purposes']))}.")
        return value


class ConsentStateSerializer(serializers.Serializer):
    purpose = serializers.CharField()
    label = serializers.CharField()
    state = serializers.CharField(source="summary")
    in_force = serializers.BooleanField(source="effective")
    latest = ConsentSerializer(allow_null=True)


class ObjectionSerializer(serializers.ModelSerializer):
    how = serializers.ChoiceField(source="method", choices=RecordingMethod.choices)
    active = serializers.BooleanField(source="is_active")
    recorded_by_name = StaffNameField(source="recorded_by")
    withdrawn_by_name = StaffNameField(source="withdrawn_by")
    withdrawal_how = serializers.CharField(source="withdrawal_method")

    class Meta:
        model = NhsNumberObjection
        fields = [
            "id",
            "active",
            "how",
            "note",
            "recorded_by",
            "recorded_by_name",
            "recorded_at",
            "withdrawn_at",
            "withdrawn_by",
            "withdrawn_by_name",
            "withdrawal_how",
            "withdrawal_note",
        ]
        read_only_fields = fields


class ObjectionCreateSerializer(serializers.Serializer):
    how = serializers.ChoiceField(choices=RecordingMethod.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    explanation_given = serializers.BooleanField(
        help_text="Staff explained to the patient what the objection means for their care (see `explanation`)."
    )

    def validate_explanation_given(self, value):
        if not value:
            raise serializers.ValidationError("Explain to the patient what the objection means before recording it.")
        return value


class ObjectionWithdrawSerializer(serializers.Serializer):
    how = serializers.ChoiceField(choices=RecordingMethod.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class DisclosureCreateSerializer(serializers.Serializer):
    patient = serializers.UUIDField()
    recipient_category = serializers.ChoiceField(choices=RecipientCategory.choices)
    recipient_name = serializers.CharField(max_length=200)
    recipient_details = serializers.CharField(required=False, allow_blank=True, default="")
    recipient_contact = serializers.UUIDField(required=False, allow_null=True, default=None)
    purpose = serializers.ChoiceField(choices=DisclosurePurpose.choices)
    lawful_basis = serializers.CharField(required=False, allow_blank=True, default="")
    legal_reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    data_categories = serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices), min_length=1)


class DisclosureSerializer(serializers.ModelSerializer):
    """A logged decision (never the package: see `DisclosureDetailSerializer`)."""

    requested_by_name = StaffNameField(source="requested_by")

    class Meta:
        model = Disclosure
        fields = [
            "id",
            "patient",
            "requested_by",
            "requested_by_name",
            "requested_at",
            "recipient_category",
            "recipient_name",
            "recipient_details",
            "recipient_contact",
            "purpose",
            "lawful_basis",
            "legal_reference",
            "data_categories_requested",
            "allowed",
            "data_categories_released",
            "reasons",
            "checked_state",
            "released_at",
        ]
        read_only_fields = fields
