"""The current consent of a patient, derived from their consent records (never stored).

The latest record for a purpose decides; a `given` consent past its expiry counts as none.
`has_consent(patient, "email_communications")` is what the email path asks before sending.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from patients.models import Patient
from privacy.choices import ConsentDecision, ConsentPurpose
from privacy.models import Consent, CustomConsentPurpose


@dataclass(frozen=True)
class ConsentState:
    """Where one purpose stands: the latest record (None if never asked) and what it means now."""

    purpose: str
    label: str
    latest: Consent | None
    effective: bool

    @property
    def expired(self) -> bool:
        return (
            self.latest is not None
            and self.latest.decision == ConsentDecision.GIVEN
            and self.latest.expires_at is not None
            and not self.effective
        )

    @property
    def summary(self) -> str:
        if self.latest is None:
            return "Not asked"
        if self.expired:
            return "Expired"
        return self.latest.get_decision_display()


def is_effective(record: Consent | None, *, now: datetime | None = None) -> bool:
    if record is None or record.decision != ConsentDecision.GIVEN:
        return False
    return record.expires_at is None or record.expires_at > (now or timezone.now())


def consent_history(patient: Patient) -> QuerySet[Consent]:
    return Consent.objects.filter(organisation_id=patient.organisation_id, patient=patient).select_related(
        "recorded_by"
    )


def latest_consent(patient: Patient, purpose: str) -> Consent | None:
    return consent_history(patient).filter(purpose=purpose).order_by("-recorded_at", "-id").first()


def has_consent(patient: Patient, purpose: str) -> bool:
    """True only if the patient's latest decision for `purpose` is `given` and has not expired."""
    return is_effective(latest_consent(patient, purpose))


def purpose_labels(organisation_id) -> dict[str, str]:
    """Built-in purposes, then the organisation's own active ones."""
    labels = dict(ConsentPurpose.choices)
    for code, label in CustomConsentPurpose.objects.filter(organisation_id=organisation_id, is_active=True).values_list(
        "code", "label"
    ):
        labels[code] = label
    return labels


def consent_states(patient: Patient) -> list[ConsentState]:
    """Every purpose (built-in and the organisation's), with its current state. Two queries."""
    labels = purpose_labels(patient.organisation_id)
    latest: dict[str, Consent] = {}
    for record in consent_history(patient).order_by("-recorded_at", "-id"):
        latest.setdefault(record.purpose, record)
    for purpose in latest:
        labels.setdefault(purpose, purpose)
    now = timezone.now()
    return [
        ConsentState(
            purpose=purpose,
            label=label,
            latest=latest.get(purpose),
            effective=is_effective(latest.get(purpose), now=now),
        )
        for purpose, label in labels.items()
    ]


def effective_consent_purposes(patient: Patient) -> frozenset[str]:
    return frozenset(state.purpose for state in consent_states(patient) if state.effective)
