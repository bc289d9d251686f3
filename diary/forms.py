"""Diary page forms: they check input (400s) and show errors inline; `diary.services` writes.

Times are entered as a date and a wall-clock time in clinic time (Europe/London) and become
aware datetimes here; a time the clocks skip is refused rather than guessed.
"""

from datetime import date, datetime, time

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.choices import Role
from core.exceptions import DomainError
from core.models import Location, Staff
from diary.choices import AppointmentStatus
from diary.grid import DEFAULT_SLOT_MINUTES, SLOT_CHOICES
from diary.models import Appointment, Room, Service
from diary.recurrence import MAX_OCCURRENCES, Recurrence
from diary.selectors import local_instant, location_list, practitioner_list, room_list, service_list
from patients.models import Patient

SCOPE_CHOICES = [("this", "This appointment only"), ("following", "This and all following in the series")]


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's rule violation on the form: on the field it names, if the form has it."""
    placed = False
    for name, messages in error.errors.items():
        if name in form.fields:
            for message in messages:
                form.add_error(name, message)
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


def clinic_time(day: date, wall: time, field: str) -> datetime:
    aware = local_instant(day, wall)
    if aware is None:
        raise ValidationError({field: f"{wall:%H:%M} does not exist on {day:%d/%m/%Y}: the clocks go forward."})
    return aware


def parse_start(value: str) -> datetime | None:
    """An ISO date-time from the diary's JavaScript: with an offset, or wall-clock clinic time."""
    parsed = parse_datetime((value or "").strip())
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        return local_instant(parsed.date(), parsed.time())
    return parsed


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs={"step": 300, **(attrs or {})}, format="%H:%M")


class PractitionerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Staff) -> str:
        return obj.full_name or obj.email


class RoomChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Room) -> str:
        return f"{obj.name} ({obj.location.name})"


def patient_label(patient: Patient) -> str:
    return f"{patient.full_name} (born {patient.date_of_birth:%d/%m/%Y})"


class _ScopedForm(forms.Form):
    """Choices come from the signed-in user's organisation only."""

    def __init__(self, *args, user: Staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        scopes = {
            "practitioner": practitioner_list(user=user),
            "service": service_list(user=user, active_only=True),
            "location": location_list(user=user, active_only=True),
            "room": room_list(user=user),
        }
        for name, queryset in scopes.items():
            if name in self.fields:
                self.fields[name].queryset = queryset
        if "override_hours" in self.fields and not user.has_role(Role.ADMIN):
            del self.fields["override_hours"]


class BookingForm(_ScopedForm):
    """Book one appointment, or a weekly series."""

    patient_search = forms.CharField(
        label="Find the patient",
        required=False,
        help_text="Type a name, date of birth or NHS number, then choose below.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    patient = forms.ModelChoiceField(queryset=Patient.objects.none(), empty_label="Choose a patient")
    practitioner = PractitionerChoiceField(queryset=Staff.objects.none())
    service = forms.ModelChoiceField(queryset=Service.objects.none())
    location = forms.ModelChoiceField(queryset=Location.objects.none())
    room = RoomChoiceField(queryset=Room.objects.none(), required=False, empty_label="No room")
    date = forms.DateField(widget=DateInput())
    time = forms.TimeField(label="Start time", widget=TimeInput())
    end_time = forms.TimeField(
        label="End time", required=False, widget=TimeInput(), help_text="Leave empty for the service's usual length."
    )
    notes = forms.CharField(
        label="Booking notes",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Short and non-clinical, for example 'Needs the ground-floor room'.",
    )
    repeat_every = forms.TypedChoiceField(
        label="Repeat",
        choices=[(0, "Does not repeat"), (1, "Every week"), (2, "Every 2 weeks")],
        coerce=int,
        required=False,
        empty_value=0,
    )
    repeat_count = forms.IntegerField(
        label="Number of appointments", required=False, min_value=2, max_value=MAX_OCCURRENCES
    )
    repeat_until = forms.DateField(label="Or repeat until", required=False, widget=DateInput())
    allow_patient_overlap = forms.BooleanField(
        label="Book anyway: the patient may have two appointments at once", required=False
    )
    override_hours = forms.BooleanField(label="Admin override: book outside working hours or time off", required=False)

    def __init__(self, *args, user: Staff, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        patients = Patient.objects.visible_to(user).filter(archived=False)
        self.fields["patient"].queryset = patients
        chosen = self.data.get("patient") or self.initial.get("patient")
        shortlist = []
        if chosen:
            try:
                shortlist = list(patients.filter(pk=getattr(chosen, "pk", chosen))[:1])
            except ValidationError:
                shortlist = []
        # Validation uses the queryset; the widget offers only the chosen patient (search adds more).
        self.fields["patient"].choices = [("", "Choose a patient")] + [(p.pk, patient_label(p)) for p in shortlist]

    def clean(self):
        cleaned = super().clean()
        day, start_time, end_time = cleaned.get("date"), cleaned.get("time"), cleaned.get("end_time")
        if day and start_time:
            try:
                cleaned["start"] = clinic_time(day, start_time, "time")
                cleaned["end"] = clinic_time(day, end_time, "end_time") if end_time else None
            except ValidationError as error:
                add_validation_error(self, error)
                return cleaned
            if cleaned["end"] is not None and cleaned["end"] <= cleaned["start"]:
                self.add_error("end_time", "The end must be after the start.")
        room, location = cleaned.get("room"), cleaned.get("location")
        if room is not None and location is not None and room.location_id != location.pk:
            self.add_error("room", "That room is at another location.")
        cleaned["recurrence"] = None
        if cleaned.get("repeat_every"):
            try:
                cleaned["recurrence"] = Recurrence(
                    interval_weeks=cleaned["repeat_every"],
                    count=cleaned.get("repeat_count"),
                    until=cleaned.get("repeat_until"),
                )
            except ValueError as error:
                self.add_error("repeat_count", str(error))
        return cleaned


class RescheduleForm(_ScopedForm):
    """Move, reassign or change the room of an appointment (or of it and the following ones)."""

    version = forms.IntegerField(widget=forms.HiddenInput())
    date = forms.DateField(widget=DateInput())
    time = forms.TimeField(label="Start time", widget=TimeInput())
    end_time = forms.TimeField(label="End time", required=False, widget=TimeInput(), help_text="Empty: same length.")
    practitioner = PractitionerChoiceField(queryset=Staff.objects.none())
    location = forms.ModelChoiceField(queryset=Location.objects.none())
    room = RoomChoiceField(queryset=Room.objects.none(), required=False, empty_label="No room")
    notes = forms.CharField(
        label="Booking notes", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    scope = forms.ChoiceField(choices=SCOPE_CHOICES, initial="this", widget=forms.RadioSelect, label="Change")
    allow_patient_overlap = forms.BooleanField(
        label="Move anyway: the patient may have two appointments at once", required=False
    )
    override_hours = forms.BooleanField(label="Admin override: outside working hours or time off", required=False)

    def __init__(self, *args, user: Staff, appointment: Appointment, **kwargs):
        local_start, local_end = timezone.localtime(appointment.start), timezone.localtime(appointment.end)
        kwargs.setdefault(
            "initial",
            {
                "version": appointment.version,
                "date": local_start.date(),
                "time": local_start.time(),
                "end_time": local_end.time() if local_end.date() == local_start.date() else None,
                "practitioner": appointment.practitioner_id,
                "location": appointment.location_id,
                "room": appointment.room_id,
                "notes": appointment.notes,
                "scope": "this",
            },
        )
        super().__init__(*args, user=user, **kwargs)
        self.appointment = appointment
        if appointment.series_id is None:
            del self.fields["scope"]

    def clean(self):
        cleaned = super().clean()
        day, start_time, end_time = cleaned.get("date"), cleaned.get("time"), cleaned.get("end_time")
        if day and start_time:
            try:
                cleaned["start"] = clinic_time(day, start_time, "time")
                cleaned["end"] = clinic_time(day, end_time, "end_time") if end_time else None
            except ValidationError as error:
                add_validation_error(self, error)
                return cleaned
            if cleaned["end"] is not None and cleaned["end"] <= cleaned["start"]:
                self.add_error("end_time", "The end must be after the start.")
        room, location = cleaned.get("room"), cleaned.get("location")
        if room is not None and location is not None and room.location_id != location.pk:
            self.add_error("room", "That room is at another location.")
        return cleaned


class MoveForm(_ScopedForm):
    """A drag in the diary: new start (and column's practitioner), with the version dragged."""

    version = forms.IntegerField()
    start = forms.CharField()
    practitioner = forms.ModelChoiceField(queryset=Staff.objects.none())

    def clean_start(self):
        start = parse_start(self.cleaned_data["start"])
        if start is None:
            raise ValidationError("That is not a time in the diary.")
        return start


class StatusForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput())
    status = forms.ChoiceField(choices=[c for c in AppointmentStatus.choices if c[0] != AppointmentStatus.CANCELLED])


class CancelForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput())
    reason = forms.CharField(label="Reason", max_length=200, required=False)
    scope = forms.ChoiceField(choices=SCOPE_CHOICES, initial="this", required=False, widget=forms.RadioSelect)


class ReinstateForm(_ScopedForm):
    """Reinstate a cancelled appointment: the version shown, and the two confirmations a booking
    can ask for (the hours override only for admins)."""

    version = forms.IntegerField(widget=forms.HiddenInput())
    allow_patient_overlap = forms.BooleanField(
        label="Reinstate anyway: the patient may have two appointments at once", required=False
    )
    override_hours = forms.BooleanField(label="Admin override: outside working hours or time off", required=False)


class DayForm(_ScopedForm):
    """The day view's controls (GET): any bad value falls back to its default."""

    date = forms.DateField(required=False, widget=DateInput())
    location = forms.ModelChoiceField(queryset=Location.objects.none(), required=False, empty_label="All locations")
    slot = forms.TypedChoiceField(
        label="Rows every",
        choices=[(m, f"{m} minutes") for m in SLOT_CHOICES],
        coerce=int,
        required=False,
        empty_value=DEFAULT_SLOT_MINUTES,
        initial=DEFAULT_SLOT_MINUTES,
    )


class WeekForm(_ScopedForm):
    date = forms.DateField(required=False, widget=DateInput())
    practitioner = PractitionerChoiceField(queryset=Staff.objects.none(), required=False)
    slot = forms.TypedChoiceField(
        label="Rows every",
        choices=[(m, f"{m} minutes") for m in SLOT_CHOICES],
        coerce=int,
        required=False,
        empty_value=DEFAULT_SLOT_MINUTES,
        initial=DEFAULT_SLOT_MINUTES,
    )


class FindSlotForm(_ScopedForm):
    service = forms.ModelChoiceField(queryset=Service.objects.none())
    practitioner = PractitionerChoiceField(queryset=Staff.objects.none(), required=False, empty_label="Anyone")
    location = forms.ModelChoiceField(queryset=Location.objects.none(), required=False, empty_label="Any location")
    from_date = forms.DateField(label="From", widget=DateInput())
