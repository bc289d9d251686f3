"""The sharing rules: one pure function decides every disclosure, allow or deny, with reasons.

`decide_disclosure(request)` reads nothing from the database: the request carries the state
that was checked (current consents, the NHS-number objection, the recipient's recorded
authority, whether the requester may release clinical content). `privacy.services` gathers that
state, calls this, and logs the decision whatever it is.

The rules are the `RULES` table (recipient category x purpose) plus three that override it:

1. The NHS number never leaves when the patient objects to NHS-number sharing.
2. Clinical categories (clinical summary, notes) go only where the rule allows them (a
   healthcare professional, for direct care or at the patient's request), and only from a
   practitioner caring for the patient.
3. A decision that would release nothing is a denial.

Nothing here reads settings: organisations cannot loosen the rules. docs/privacy/sharing-rules.md
mirrors `RULES`; tests/privacy/test_sharing_rules_doc.py keeps the two identical.
"""

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from patients.choices import ContactAuthority
from privacy.choices import (
    CLINICAL_DATA_CATEGORIES,
    ConsentPurpose,
    DataCategory,
    DisclosurePurpose,
    RecipientCategory,
)


class Requirement(enum.Enum):
    ALWAYS = "always"
    NEVER = "never"
    CONSENT = "consent"
    CONSENT_OR_AUTHORITY = "consent_or_authority"
    LEGAL_REFERENCE = "legal_reference"


@dataclass(frozen=True)
class Rule:
    """When a recipient category may receive data for a purpose, and whether clinical data too."""

    requirement: Requirement
    clinical: bool = False
    consent_purpose: str | None = None
    why: str = ""

    @property
    def condition(self) -> str:
        """The rule's condition in the words of docs/privacy/sharing-rules.md."""
        if self.requirement is Requirement.CONSENT:
            return f"consent: {self.consent_purpose}"
        if self.requirement is Requirement.CONSENT_OR_AUTHORITY:
            return f"consent: {self.consent_purpose}, or a recorded authority"
        if self.requirement is Requirement.LEGAL_REFERENCE:
            return "legal obligation with a reference"
        return self.requirement.value


HCP = RecipientCategory.HEALTHCARE_PROFESSIONAL
SOCIAL = RecipientCategory.SOCIAL_WELFARE_ORGANISATION
GOVERNMENT = RecipientCategory.CENTRAL_GOVERNMENT
FAMILY = RecipientCategory.FAMILY_ASSOCIATE_REPRESENTATIVE
P = DisclosurePurpose
_SOCIAL_CARE = ConsentPurpose.SHARE_WITH_SOCIAL_CARE.value
_FAMILY = ConsentPurpose.SHARE_WITH_FAMILY_OR_REPRESENTATIVE.value
_RESEARCH = ConsentPurpose.RESEARCH.value
_RESEARCH_WHY = "Research needs the patient's own consent (which also answers the National Data Opt-out)."

RULES: Mapping[tuple[str, str], Rule] = MappingProxyType(
    {
        (HCP, P.DIRECT_CARE): Rule(Requirement.ALWAYS, clinical=True, why="Direct care: the minimum necessary."),
        (HCP, P.SAFEGUARDING): Rule(Requirement.ALWAYS, why="Safeguarding is a lawful basis to share."),
        (HCP, P.LEGAL_OBLIGATION): Rule(Requirement.LEGAL_REFERENCE, why="The law requires it."),
        (HCP, P.PATIENT_REQUEST): Rule(Requirement.ALWAYS, clinical=True, why="The patient asked for it."),
        (HCP, P.RESEARCH): Rule(Requirement.CONSENT, consent_purpose=_RESEARCH, why=_RESEARCH_WHY),
        (SOCIAL, P.DIRECT_CARE): Rule(
            Requirement.CONSENT, consent_purpose=_SOCIAL_CARE, why="Social care needs the patient's consent."
        ),
        (SOCIAL, P.SAFEGUARDING): Rule(Requirement.ALWAYS, why="Safeguarding is a lawful basis to share."),
        (SOCIAL, P.LEGAL_OBLIGATION): Rule(Requirement.LEGAL_REFERENCE, why="The law requires it."),
        (SOCIAL, P.PATIENT_REQUEST): Rule(
            Requirement.CONSENT, consent_purpose=_SOCIAL_CARE, why="Record the patient's consent to social care first."
        ),
        (SOCIAL, P.RESEARCH): Rule(Requirement.CONSENT, consent_purpose=_RESEARCH, why=_RESEARCH_WHY),
        (GOVERNMENT, P.DIRECT_CARE): Rule(Requirement.NEVER, why="Central government only where the law requires."),
        (GOVERNMENT, P.SAFEGUARDING): Rule(Requirement.NEVER, why="Central government only where the law requires."),
        (GOVERNMENT, P.LEGAL_OBLIGATION): Rule(Requirement.LEGAL_REFERENCE, why="The law requires it."),
        (GOVERNMENT, P.PATIENT_REQUEST): Rule(Requirement.NEVER, why="Central government only where the law requires."),
        (GOVERNMENT, P.RESEARCH): Rule(Requirement.NEVER, why="Central government only where the law requires."),
        (FAMILY, P.DIRECT_CARE): Rule(
            Requirement.CONSENT_OR_AUTHORITY, consent_purpose=_FAMILY, why="The patient's consent or an authority."
        ),
        (FAMILY, P.SAFEGUARDING): Rule(
            Requirement.CONSENT_OR_AUTHORITY, consent_purpose=_FAMILY, why="The patient's consent or an authority."
        ),
        (FAMILY, P.LEGAL_OBLIGATION): Rule(
            Requirement.CONSENT_OR_AUTHORITY, consent_purpose=_FAMILY, why="The patient's consent or an authority."
        ),
        (FAMILY, P.PATIENT_REQUEST): Rule(
            Requirement.CONSENT_OR_AUTHORITY, consent_purpose=_FAMILY, why="The patient's consent or an authority."
        ),
        (FAMILY, P.RESEARCH): Rule(Requirement.NEVER, why="Research data does not go to family or representatives."),
    }
)


@dataclass(frozen=True)
class DisclosureRequest:
    """What is asked, and the state it is decided on (gathered at the time of asking)."""

    recipient_category: str
    purpose: str
    data_categories: frozenset[str]
    legal_reference: str = ""
    consents: frozenset[str] = frozenset()
    nhs_number_objection: bool = False
    recipient_authority: str = ContactAuthority.NONE
    requester_may_disclose_clinical: bool = False

    def __post_init__(self):
        if self.recipient_category not in RecipientCategory.values:
            raise ValueError(f"Unknown recipient category {self.recipient_category!r}")
        if self.purpose not in DisclosurePurpose.values:
            raise ValueError(f"Unknown purpose {self.purpose!r}")
        unknown = set(self.data_categories) - set(DataCategory.values)
        if unknown:
            raise ValueError(f"Unknown data categories {sorted(unknown)!r}")
        if not self.data_categories:
            raise ValueError("A disclosure asks for at least one data category.")
        if self.recipient_authority not in ContactAuthority.values:
            raise ValueError(f"Unknown authority {self.recipient_authority!r}")
        object.__setattr__(self, "data_categories", frozenset(self.data_categories))
        object.__setattr__(self, "consents", frozenset(self.consents))


@dataclass(frozen=True)
class Decision:
    allowed: bool
    released_categories: tuple[str, ...]
    reasons: tuple[str, ...]
    checked_state: Mapping[str, Any] = field(default_factory=dict)

    @property
    def withheld_categories(self) -> tuple[str, ...]:
        requested = self.checked_state.get("data_categories_requested", [])
        return tuple(category for category in requested if category not in self.released_categories)


def in_package_order(categories: Iterable[str]) -> tuple[str, ...]:
    chosen = set(categories)
    return tuple(category for category in DataCategory.values if category in chosen)


def _label(category: str) -> str:
    return DataCategory(category).label


def _requirement_met(rule: Rule, request: DisclosureRequest) -> tuple[bool, str]:
    has_authority = request.recipient_authority != ContactAuthority.NONE
    consent = rule.consent_purpose in request.consents if rule.consent_purpose else False
    match rule.requirement:
        case Requirement.ALWAYS:
            return True, rule.why
        case Requirement.NEVER:
            return False, f"Not allowed for this recipient and purpose. {rule.why}"
        case Requirement.CONSENT:
            if consent:
                return True, f"The patient has given consent ({rule.consent_purpose})."
            return False, (
                f"The patient has not given current consent ({rule.consent_purpose}). {rule.why} "
                "Record the patient's consent first."
            )
        case Requirement.CONSENT_OR_AUTHORITY:
            if consent:
                return True, f"The patient has given consent ({rule.consent_purpose})."
            if has_authority:
                label = ContactAuthority(request.recipient_authority).label
                return True, f"The recipient holds a recorded authority ({label})."
            return False, (
                f"The patient has not given current consent ({rule.consent_purpose}) and the recipient holds no "
                "recorded authority (parental responsibility, lasting power of attorney for health and welfare, "
                "court-appointed deputy)."
            )
        case Requirement.LEGAL_REFERENCE:
            if request.legal_reference.strip():
                return True, f"A legal obligation, reference {request.legal_reference.strip()}."
            return False, "A legal obligation needs its reference (the statute, order or request number)."
    raise AssertionError(rule.requirement)


def decide_disclosure(request: DisclosureRequest) -> Decision:
    """Allow or deny a disclosure, and say exactly which categories may go and why."""
    rule = RULES[(request.recipient_category, request.purpose)]
    requested = in_package_order(request.data_categories)
    checked_state = {
        "rule": rule.condition,
        "consent_purpose": rule.consent_purpose,
        "consent_given": (rule.consent_purpose in request.consents) if rule.consent_purpose else None,
        "consents_in_force": sorted(request.consents),
        "nhs_number_objection": request.nhs_number_objection,
        "recipient_authority": request.recipient_authority,
        "legal_reference_given": bool(request.legal_reference.strip()),
        "requester_may_disclose_clinical": request.requester_may_disclose_clinical,
        "data_categories_requested": list(requested),
    }
    met, why = _requirement_met(rule, request)
    if not met:
        return Decision(False, (), (why,), checked_state)

    reasons = [why]
    released = []
    for category in requested:
        if category == DataCategory.NHS_NUMBER and request.nhs_number_objection:
            reasons.append("NHS number withheld: the patient objects to NHS-number sharing (UK GDPR Art. 21).")
        elif category in CLINICAL_DATA_CATEGORIES and not rule.clinical:
            reasons.append(
                f"{_label(category)} withheld: clinical information goes only to healthcare professionals, "
                "for direct care or at the patient's request."
            )
        elif category in CLINICAL_DATA_CATEGORIES and not request.requester_may_disclose_clinical:
            reasons.append(
                f"{_label(category)} withheld: only a practitioner caring for the patient releases clinical "
                "information."
            )
        else:
            released.append(category)
    if not released:
        reasons.append("Nothing asked for may be released, so the disclosure is denied.")
        return Decision(False, (), tuple(reasons), checked_state)
    return Decision(True, tuple(released), tuple(reasons), checked_state)
