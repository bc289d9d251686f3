"""Reads for patients and clinical notes. Each starts from `visible_to(user)`."""

import re

from django.db import connection
from django.db.models import Case, F, FloatField, Func, IntegerField, Prefetch, Q, QuerySet, Value, When

from core.choices import Role
from core.models import Staff
from diary.models import Appointment
from patients.choices import NoteStatus
from patients.models import CareTeamMember, ClinicalNote, Contact, NoteAddendum, NoteTemplate, Patient
from patients.search import PatientQuery, parse_query
from privacy.access import patients_with_readable_notes
from privacy.selectors import with_objection_marker


def _trigram(function: str, text: str) -> Func:
    """A pg_trgm function of (text, search_name), such as similarity."""
    return Func(Value(text), F("search_name"), function=function, output_field=FloatField())


def patient_list(*, user) -> QuerySet[Patient]:
    return Patient.objects.visible_to(user)


def patient_get(*, user, pk) -> Patient:
    """The patient if the user's organisation holds it; `Patient.DoesNotExist` otherwise."""
    return patient_list(user=user).get(pk=pk)


def _name_condition(parsed: PatientQuery, vendor: str) -> Q:
    """Every query word matches a name word by prefix, or one of its fuzzy keys exactly."""
    condition = Q()
    for name in parsed.names:
        if vendor == "postgresql":
            # One regular expression per word, so one scan of the search_text trigram index.
            alternatives = [re.escape(name.word), *(f"_{re.escape(key)} " for key in name.keys)]
            condition &= Q(search_text__regex=f" ({'|'.join(alternatives)})")
        else:
            word_match = Q(search_text__contains=f" {name.word}")
            for key in name.keys:
                word_match |= Q(search_text__contains=f" _{key} ")
            condition &= word_match
    return condition


def apply_patient_search(queryset: QuerySet[Patient], query: str, *, vendor: str | None = None) -> QuerySet[Patient]:
    """Filter and rank `queryset` by one search box's text (see patients/search.py).

    Exact NHS number matches come first, then exact dates of birth, then the closest names
    (trigram similarity on PostgreSQL; alphabetical elsewhere, where matching is plain LIKE).
    """
    parsed = parse_query(query)
    if parsed.is_empty:
        return queryset
    vendor = vendor or connection.vendor

    if parsed.is_numeric:
        condition = Q(pk__in=[])
        if parsed.nhs_number:
            condition |= Q(nhs_number=parsed.nhs_number)
        if parsed.phone:
            condition |= Q(phone=parsed.phone)
        if parsed.phone_digits:
            condition |= Q(phone__contains=parsed.phone_digits)
    else:
        condition = _name_condition(parsed, vendor)
        if parsed.date_of_birth:
            condition &= Q(date_of_birth=parsed.date_of_birth)
        if parsed.postcode:
            condition &= Q(postcode=parsed.postcode)
        if parsed.postcode_district:
            condition &= Q(postcode__startswith=f"{parsed.postcode_district} ")
        if not (parsed.names or parsed.date_of_birth or parsed.postcode or parsed.postcode_district):
            return queryset.none()

    exact_nhs = (
        Case(When(nhs_number=parsed.nhs_number, then=Value(1)), default=Value(0), output_field=IntegerField())
        if parsed.nhs_number
        else Value(0, output_field=IntegerField())
    )
    exact_dob = (
        Case(When(date_of_birth=parsed.date_of_birth, then=Value(1)), default=Value(0), output_field=IntegerField())
        if parsed.date_of_birth
        else Value(0, output_field=IntegerField())
    )
    if vendor == "postgresql" and parsed.names:
        name_score = _trigram("similarity", parsed.name_text)
    else:
        name_score = Value(0.0, output_field=FloatField())

    return (
        queryset.filter(condition)
        .annotate(search_exact_nhs=exact_nhs, search_exact_dob=exact_dob, search_score=name_score)
        .order_by("-search_exact_nhs", "-search_exact_dob", "-search_score", "family_name", "given_name", "id")
    )


def patient_search(*, user, query: str) -> QuerySet[Patient]:
    """Patients of the user's organisation matching the query, best first."""
    return apply_patient_search(patient_list(user=user), query)


def patient_detail(*, user, pk) -> Patient:
    """A patient with contacts and care team loaded, and the NHS-number objection marker
    (`nhs_number_objected`). No clinical content: see notes_for_patient."""
    return (
        with_objection_marker(patient_list(user=user))
        .prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.order_by("name", "id")),
            Prefetch("care_team", queryset=CareTeamMember.objects.select_related("practitioner")),
        )
        .get(pk=pk)
    )


def notes_visible_to(user, *, queryset: QuerySet[ClinicalNote] | None = None) -> QuerySet[ClinicalNote]:
    """Clinical notes the user may read: practitioners only, for patients in their care or under
    an active break-glass grant (`privacy.access.can_read_notes` as a queryset).

    Signed notes are shared with everyone who may read the patient's notes; a draft only with
    its author.
    """
    if user is None or not user.is_authenticated or not user.has_role(Role.PRACTITIONER):
        return ClinicalNote.objects.none()
    queryset = ClinicalNote.objects.all() if queryset is None else queryset
    return (
        queryset.visible_to(user)
        .filter(patient__in=patients_with_readable_notes(user).values("pk"))
        .filter(Q(status=NoteStatus.SIGNED) | Q(author=user))
        .select_related("author", "template", "appointment")
        .prefetch_related(Prefetch("addenda", queryset=NoteAddendum.objects.select_related("author")))
    )


def notes_for_patient(*, user, patient: Patient) -> QuerySet[ClinicalNote]:
    return notes_visible_to(user).filter(patient=patient)


def note_appointment_choices(*, user, patient: Patient) -> QuerySet[Appointment]:
    """The appointments a note about this patient may be linked to: the patient's own, latest first."""
    return (
        Appointment.objects.visible_to(user)
        .filter(patient=patient)
        .select_related("practitioner", "service")
        .order_by("-start", "-pk")
    )


def note_templates_for(*, user) -> QuerySet[NoteTemplate]:
    return NoteTemplate.objects.visible_to(user).filter(is_active=True)


def practitioners_for(*, user) -> QuerySet[Staff]:
    return Staff.objects.visible_to(user).practitioners()
