"""Page forms: they check input and show errors inline; the services do the writing."""

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from patients.forms import UK_DATE_INPUT_FORMATS, DateInput
from privacy.choices import (
    ConsentDecision,
    DataCategory,
    DisclosurePurpose,
    RecipientCategory,
    RecordingMethod,
)


def end_of_day(day) -> datetime:
    """The first instant after `day` ends, in clinic time: 'valid until 31 May' means all of it."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(choices=())
    decision = forms.ChoiceField(choices=ConsentDecision.choices, widget=forms.RadioSelect)
    method = forms.ChoiceField(label="How the patient told us", choices=RecordingMethod.choices)
    valid_until = forms.DateField(
        required=False,
        input_formats=UK_DATE_INPUT_FORMATS,
        widget=DateInput(),
        help_text="Optional, for consent given for a limited time. After this day it counts as none.",
    )
    evidence = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Where the evidence is, e.g. 'signed form scanned 3 May'.",
    )

    def __init__(self, *args, purposes: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = list(purposes.items())

    def clean(self):
        cleaned = super().clean()
        valid_until = cleaned.get("valid_until")
        if valid_until is not None:
            if cleaned.get("decision") != ConsentDecision.GIVEN:
                self.add_error("valid_until", "Only consent that is given can have an end date.")
            elif valid_until < timezone.localdate():
                self.add_error("valid_until", "The end date cannot be in the past.")
        return cleaned

    @property
    def expires_at(self) -> datetime | None:
        valid_until = self.cleaned_data.get("valid_until")
        return end_of_day(valid_until) if valid_until else None


class ObjectionForm(forms.Form):
    method = forms.ChoiceField(label="How the patient told us", choices=RecordingMethod.choices)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    explanation_given = forms.BooleanField(
        label="I have explained to the patient what this means for their care (above).",
        error_messages={"required": "Explain to the patient what the objection means before recording it."},
    )


class ObjectionWithdrawForm(forms.Form):
    method = forms.ChoiceField(label="How the patient told us", choices=RecordingMethod.choices)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DisclosureForm(forms.Form):
    recipient_category = forms.ChoiceField(choices=RecipientCategory.choices)
    recipient_name = forms.CharField(max_length=200, help_text="The person or organisation receiving it.")
    recipient_details = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Role, organisation, address."
    )
    recipient_contact = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Recipient is one of the patient's contacts",
        empty_label="No",
        help_text="For family and representatives: their recorded authority is checked.",
    )
    purpose = forms.ChoiceField(choices=DisclosurePurpose.choices)
    lawful_basis = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="The lawful basis, in your words."
    )
    legal_reference = forms.CharField(
        max_length=200, required=False, help_text="For a legal obligation: the statute, order or request number."
    )
    data_categories = forms.MultipleChoiceField(
        label="What is asked for", choices=DataCategory.choices, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient_contact"].queryset = contacts


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why you need this patient's notes now, without a care relationship. Your admin reviews it.",
    )


class BreakGlassReviewForm(forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Review note")


class ErasureRequestForm(forms.Form):
    method = forms.ChoiceField(label="How the patient asked", choices=RecordingMethod.choices)
    details = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the patient asked to be erased, in their words where possible.",
    )
