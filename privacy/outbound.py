"""The one way out: every payload about a patient that leaves Jelly is released through here.

`release(patient=..., destination=..., payload=...)` returns a minimised copy of the payload
for that destination. Disclosures and exports use it now; the Google Calendar, Gmail and Zoom
payload builders, and the social-care linkage lookup, must use it too. It enforces:

- the patient's objection to NHS-number sharing (UK GDPR Art. 21): the NHS number is simply
  absent (its keys removed, and the number scrubbed from any text) from everything going to
  another organisation, and linkage by NHS number is refused (`LinkageRefused`);
- minimisation: integrations acting for the clinic (Google, Zoom) never receive the NHS
  number or clinical content at all; only a healthcare professional or the patient themself
  receives clinical content;
- a last check that fails closed: if the number could still be found, nothing is released.

The subject access export goes to the patient themself, so it keeps their NHS number.
"""

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.exceptions import DomainError
from patients.models import Patient
from privacy.choices import CLINICAL_DATA_CATEGORIES, CLINICAL_RECIPIENT_CATEGORIES, RecipientCategory
from privacy.selectors import has_active_nhs_number_objection

WITHHELD = "[withheld]"
NHS_NUMBER_KEYS = frozenset({"nhs_number", "nhsNumber", "nhs_number_display", "nhs_number_status"})
CLINICAL_KEYS = frozenset(CLINICAL_DATA_CATEGORIES)
LINKAGE_REFUSED = "The patient objects to NHS-number sharing: linkage by NHS number is refused."


class LinkageRefused(DomainError):
    """Linking records by NHS number for a patient who objects."""


class OutboundLeak(RuntimeError):
    """A payload would still carry what it must not; nothing is released (a bug to fix)."""


@dataclass(frozen=True)
class Destination:
    """Where a payload goes. Build one with the class methods."""

    kind: str
    recipient_category: str = ""

    DISCLOSURE = "disclosure"
    THIRD_PARTY_EXPORT = "third_party_export"
    SUBJECT_ACCESS = "subject_access"
    SOCIAL_CARE_LINKAGE = "social_care_linkage"
    GOOGLE_CALENDAR = "google_calendar"
    GMAIL = "gmail"
    ZOOM = "zoom"
    INTEGRATIONS = frozenset({GOOGLE_CALENDAR, GMAIL, ZOOM})

    @classmethod
    def disclosure(cls, recipient_category: str) -> "Destination":
        if recipient_category not in RecipientCategory.values:
            raise ValueError(f"Unknown recipient category {recipient_category!r}")
        return cls(cls.DISCLOSURE, recipient_category)

    @classmethod
    def third_party_export(cls) -> "Destination":
        return cls(cls.THIRD_PARTY_EXPORT)

    @classmethod
    def subject_access(cls) -> "Destination":
        return cls(cls.SUBJECT_ACCESS)

    @classmethod
    def social_care_linkage(cls) -> "Destination":
        return cls(cls.SOCIAL_CARE_LINKAGE)

    @classmethod
    def integration(cls, kind: str) -> "Destination":
        if kind not in cls.INTEGRATIONS:
            raise ValueError(f"Unknown integration {kind!r}")
        return cls(kind)

    @property
    def receives_clinical_content(self) -> bool:
        if self.kind == self.SUBJECT_ACCESS:
            return True
        return self.kind == self.DISCLOSURE and self.recipient_category in CLINICAL_RECIPIENT_CATEGORIES

    def may_receive_nhs_number(self, *, objected: bool) -> bool:
        if self.kind == self.SUBJECT_ACCESS:
            return True
        if self.kind in self.INTEGRATIONS:
            return False
        return not objected


def nhs_number_pattern(nhs_number: str) -> re.Pattern | None:
    """The number as people write it: 9434765919, 943 476 5919, 943-476-5919."""
    digits = re.sub(r"\D", "", nhs_number or "")
    if len(digits) != 10:
        return None
    return re.compile(r"[\s-]?".join(re.escape(digit) for digit in digits))


def _scrub(value: Any, *, drop_keys: frozenset[str], pattern: re.Pattern | None, digits: str) -> Any:
    if isinstance(value, Mapping):
        return {
            _scrub(key, drop_keys=frozenset(), pattern=pattern, digits=digits): _scrub(
                item, drop_keys=drop_keys, pattern=pattern, digits=digits
            )
            for key, item in value.items()
            if key not in drop_keys
        }
    if isinstance(value, list | tuple):
        return [_scrub(item, drop_keys=drop_keys, pattern=pattern, digits=digits) for item in value]
    if pattern is not None and isinstance(value, str):
        return pattern.sub(WITHHELD, value)
    if pattern is not None and isinstance(value, int) and not isinstance(value, bool) and str(value) == digits:
        return WITHHELD
    return value


def _still_present(value: Any, pattern: re.Pattern) -> bool:
    return bool(pattern.search(repr(value)))


def strip_nhs_number_if_objected(payload: Mapping[str, Any], *, patient: Patient, destination: Destination) -> dict:
    """The payload without the patient's NHS number, unless the destination may have it."""
    return release(patient=patient, destination=destination, payload=payload)


def release(*, patient: Patient, destination: Destination, payload: Mapping[str, Any]) -> dict:
    """A minimised deep copy of `payload`, fit to leave for `destination`.

    Raises `LinkageRefused` (a `DomainError`) for linkage of an objecting patient, and
    `OutboundLeak` if the NHS number could still be found after scrubbing.
    """
    objected = has_active_nhs_number_objection(patient)
    if destination.kind == Destination.SOCIAL_CARE_LINKAGE and objected:
        raise LinkageRefused(LINKAGE_REFUSED)
    drop_keys = frozenset()
    pattern = None
    if not destination.may_receive_nhs_number(objected=objected):
        drop_keys |= NHS_NUMBER_KEYS
        pattern = nhs_number_pattern(patient.nhs_number)
    if not destination.receives_clinical_content:
        drop_keys |= CLINICAL_KEYS
    released = _scrub(copy.deepcopy(dict(payload)), drop_keys=drop_keys, pattern=pattern, digits=patient.nhs_number)
    if pattern is not None and _still_present(released, pattern):
        raise OutboundLeak("The NHS number is still in the payload after minimisation; nothing was released.")
    if not destination.receives_clinical_content and CLINICAL_KEYS & _all_keys(released):
        raise OutboundLeak("Clinical content is still in the payload after minimisation; nothing was released.")
    return released


def _all_keys(value: Any) -> set[str]:
    keys: set[str] = set()
    if isinstance(value, Mapping):
        for key, item in value.items():
            keys.add(key)
            keys |= _all_keys(item)
    elif isinstance(value, list):
        for item in value:
            keys |= _all_keys(item)
    return keys


def linkage_nhs_number(patient: Patient) -> str:
    """The NHS number to link this patient's records by; refused if they object."""
    if has_active_nhs_number_objection(patient):
        raise LinkageRefused(LINKAGE_REFUSED)
    return patient.nhs_number
