"""Named capability checks for clinical notes (the privacy app will take these over and extend them).

Only practitioners with a direct care relationship read or write a patient's notes. Admins and
receptionists never do, whatever else they may see of the patient.
"""

from core.choices import Role
from patients.care import has_care_relationship
from patients.models import Patient

_CACHE_ATTRIBUTE = "_jelly_care_relationship_cache"


def _cares_for(user, patient: Patient) -> bool:
    # Pages ask both questions for one patient; ask the database once per user and patient.
    cache = getattr(patient, _CACHE_ATTRIBUTE, None)
    if cache is None:
        cache = {}
        setattr(patient, _CACHE_ATTRIBUTE, cache)
    if user.pk not in cache:
        cache[user.pk] = has_care_relationship(user, patient)
    return cache[user.pk]


def can_read_notes(user, patient: Patient) -> bool:
    if user is None or not user.is_authenticated or not user.has_role(Role.PRACTITIONER):
        return False
    if patient.organisation_id != user.organisation_id:
        return False
    return _cares_for(user, patient)


def can_write_notes(user, patient: Patient) -> bool:
    return can_read_notes(user, patient)


def can_manage_care_team(user, patient: Patient) -> bool:
    """Admins, and practitioners already caring for the patient, add and remove team members."""
    if user is None or not user.is_authenticated or patient.organisation_id != user.organisation_id:
        return False
    if user.has_role(Role.ADMIN):
        return True
    return user.has_role(Role.PRACTITIONER) and _cares_for(user, patient)
