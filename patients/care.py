"""Who has a direct care relationship with a patient (and so may read their clinical notes).

A practitioner cares for a patient when any registered *relationship source* says so. Each
source is a function `source(practitioner) -> Q` on `Patient` (typically an `Exists` subquery
on `OuterRef("pk")`). This app registers the care team; the diary adds
"diary.care.appointment_relationship" (an appointment in the last
`settings.CARE_RELATIONSHIP_APPOINTMENT_MONTHS` months, or upcoming) with
`register_care_relationship_source` (from its AppConfig.ready), or by listing it below.
"""

from functools import reduce
from operator import or_

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.module_loading import import_string

from core.choices import Role
from patients.models import CareTeamMember, Patient

CARE_RELATIONSHIP_SOURCES: list[str] = [
    "patients.care.care_team_relationship",
    "diary.care.appointment_relationship",
]


def register_care_relationship_source(path: str) -> None:
    """Add a source (dotted path to `source(practitioner) -> Q`); registering twice is harmless."""
    if path not in CARE_RELATIONSHIP_SOURCES:
        CARE_RELATIONSHIP_SOURCES.append(path)


def care_team_relationship(practitioner) -> Q:
    """The practitioner is explicitly on the patient's care team."""
    return Q(Exists(CareTeamMember.objects.filter(patient=OuterRef("pk"), practitioner=practitioner)))


def _care_condition(practitioner) -> Q:
    return reduce(or_, (import_string(path)(practitioner) for path in CARE_RELATIONSHIP_SOURCES))


def patients_in_care_of(practitioner) -> QuerySet[Patient]:
    """The patients of the practitioner's organisation they have a care relationship with."""
    if practitioner is None or not practitioner.is_authenticated or not practitioner.has_role(Role.PRACTITIONER):
        return Patient.objects.none()
    return Patient.objects.visible_to(practitioner).filter(_care_condition(practitioner))


def has_care_relationship(practitioner, patient: Patient) -> bool:
    """The one answer to "does this practitioner care for this patient?" (one query)."""
    if patient is None or getattr(practitioner, "organisation_id", None) != patient.organisation_id:
        return False
    return patients_in_care_of(practitioner).filter(pk=patient.pk).exists()
