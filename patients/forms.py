"""Page forms: they check input and show errors inline; the services do the writing."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateformat import format as date_format

from core.exceptions import DomainError
from patients.models import Contact, NoteTemplate, Patient
from patients.services import NOT_THIS_PATIENTS_APPOINTMENT
from patients.validators import normalise_nhs_number, normalise_phone, normalise_postcode

UK_DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%d %B %Y"]


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's rule violation on the form: on its fields if it names them."""
    placed = False
    for name, messages in error.errors.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


def add_validation_error(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            for message in messages:
                form.add_error(name if name in form.fields else None, message)
    else:
        form.add_error(None, error)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class PatientForm(forms.ModelForm):
    # Set on the class when the instance has no organisation yet (admin's add form).
    organisation_id = None

    nhs_number = forms.CharField(
        label="NHS number", max_length=20, required=False, help_text="10 digits, for example 943 476 5919."
    )
    postcode = forms.CharField(max_length=12, required=False)
    phone = forms.CharField(max_length=30, required=False, help_text="UK numbers can start with 0.")
    date_of_birth = forms.DateField(input_formats=UK_DATE_INPUT_FORMATS, widget=DateInput())
    date_of_death = forms.DateField(input_formats=UK_DATE_INPUT_FORMATS, widget=DateInput(), required=False)

    class Meta:
        model = Patient
        fields = [
            "given_name",
            "family_name",
            "preferred_name",
            "date_of_birth",
            "gender",
            "nhs_number",
            "email",
            "phone",
            "address_line1",
            "address_line2",
            "town",
            "postcode",
            "registered_gp_practice",
            "deceased",
            "date_of_death",
        ]

    def _normalised(self, normaliser, name: str) -> str:
        try:
            return normaliser(self.cleaned_data.get(name, ""))
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc

    def clean_nhs_number(self):
        return self._normalised(normalise_nhs_number, "nhs_number")

    def clean(self):
        cleaned_data = super().clean()
        nhs_number = cleaned_data.get("nhs_number")
        chosen = cleaned_data.get("organisation")  # only operators choose one (admin)
        organisation_id = chosen.pk if chosen else (self.instance.organisation_id or self.organisation_id)
        if nhs_number and organisation_id:
            taken = (
                Patient.objects.for_organisation(organisation_id)
                .filter(nhs_number=nhs_number)
                .exclude(pk=self.instance.pk)
                .exists()
            )
            if taken:
                self.add_error("nhs_number", "Another patient in this organisation has this NHS number.")
        return cleaned_data

    def clean_postcode(self):
        return self._normalised(normalise_postcode, "postcode")

    def clean_phone(self):
        return self._normalised(normalise_phone, "phone")


class ContactForm(forms.ModelForm):
    phone = forms.CharField(max_length=30, required=False)

    class Meta:
        model = Contact
        fields = ["name", "relationship", "phone", "email", "authority"]

    def clean_phone(self):
        try:
            return normalise_phone(self.cleaned_data.get("phone", ""))
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


class NoteTemplateChoiceForm(forms.Form):
    template = forms.ModelChoiceField(queryset=NoteTemplate.objects.none(), required=False, empty_label="No template")

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates


class AppointmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        start = date_format(timezone.localtime(obj.start), "D j M Y H:i")
        return f"{start} · {obj.service.name} with {obj.practitioner} ({obj.get_status_display().lower()})"


class NoteForm(forms.Form):
    """Free text plus one box per template section (`section_0`, `section_1`, ...), and the
    appointment it was written for, chosen from the patient's own (`appointments`)."""

    appointment = AppointmentChoiceField(
        queryset=None,
        required=False,
        empty_label="Not for a particular appointment",
        error_messages={"invalid_choice": NOT_THIS_PATIENTS_APPOINTMENT},
    )
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, label="Note")

    def __init__(
        self,
        *args,
        appointments,
        template: NoteTemplate | None = None,
        sections: dict | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["appointment"].queryset = appointments
        self.template = template
        self.headings: list[str] = list(template.section_headings) if template else []
        for heading in sections or {}:
            if heading not in self.headings:
                self.headings.append(heading)
        for index, heading in enumerate(self.headings):
            self.fields[f"section_{index}"] = forms.CharField(
                label=heading,
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                initial=(sections or {}).get(heading, ""),
            )

    @property
    def section_fields(self):
        return [self[f"section_{index}"] for index in range(len(self.headings))]

    def sections(self) -> dict[str, str]:
        return {heading: self.cleaned_data.get(f"section_{index}", "") for index, heading in enumerate(self.headings)}


class AddendumForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Addendum")


class CareTeamAddForm(forms.Form):
    practitioner = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, practitioners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = practitioners


class PatientImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="The first row names the columns.")
    skip_invalid = forms.BooleanField(
        required=False, label="Skip invalid rows", help_text="Import the good rows even if some rows have problems."
    )
    dry_run = forms.BooleanField(required=False, label="Check only", help_text="Validate the file; import nothing.")
