"""The sharing rules, table-driven: every recipient category x purpose, over every consent,
objection, authority, legal-reference and requester state, against the rules as the issue
states them (written out here independently of privacy/policy.py). Then hypothesis: whatever
the request, an objecting patient's NHS number is never released, and clinical content never
goes to a non-clinical category."""

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patients.choices import ContactAuthority
from privacy.choices import ConsentPurpose, DataCategory, DisclosurePurpose, RecipientCategory
from privacy.policy import RULES, DisclosureRequest, decide_disclosure
from tests.privacy.conftest import assert_no_nhs_number

HCP = RecipientCategory.HEALTHCARE_PROFESSIONAL
SOCIAL = RecipientCategory.SOCIAL_WELFARE_ORGANISATION
GOVERNMENT = RecipientCategory.CENTRAL_GOVERNMENT
FAMILY = RecipientCategory.FAMILY_ASSOCIATE_REPRESENTATIVE
CLINICAL = {DataCategory.CLINICAL_SUMMARY, DataCategory.NOTES}
EVERYTHING = frozenset(DataCategory.values)

# (category, purpose) -> (what allows it, may clinical content go). From the issue:
# healthcare professionals for direct care: allowed, minimum necessary; social/welfare: consent
# for that purpose, or safeguarding/legal basis; central government: only a legal obligation
# with a reference; family/representatives: consent or a recorded authority; clinical notes
# only to healthcare professionals for direct care or where the patient asked.
EXPECTED = {
    (HCP, "direct_care"): ("always", True),
    (HCP, "safeguarding"): ("always", False),
    (HCP, "legal_obligation"): ("legal_reference", False),
    (HCP, "patient_request"): ("always", True),
    (HCP, "research"): ("consent:research", False),
    (SOCIAL, "direct_care"): ("consent:share_with_social_care", False),
    (SOCIAL, "safeguarding"): ("always", False),
    (SOCIAL, "legal_obligation"): ("legal_reference", False),
    (SOCIAL, "patient_request"): ("consent:share_with_social_care", False),
    (SOCIAL, "research"): ("consent:research", False),
    (GOVERNMENT, "direct_care"): ("never", False),
    (GOVERNMENT, "safeguarding"): ("never", False),
    (GOVERNMENT, "legal_obligation"): ("legal_reference", False),
    (GOVERNMENT, "patient_request"): ("never", False),
    (GOVERNMENT, "research"): ("never", False),
    (FAMILY, "direct_care"): ("consent_or_authority:share_with_family_or_representative", False),
    (FAMILY, "safeguarding"): ("consent_or_authority:share_with_family_or_representative", False),
    (FAMILY, "legal_obligation"): ("consent_or_authority:share_with_family_or_representative", False),
    (FAMILY, "patient_request"): ("consent_or_authority:share_with_family_or_representative", False),
    (FAMILY, "research"): ("never", False),
}

CONSENT_STATES = [
    frozenset(),
    *(frozenset({purpose}) for purpose in ConsentPurpose.values),
    frozenset(ConsentPurpose.values),
]
AUTHORITIES = list(ContactAuthority.values)
LEGAL_REFERENCES = ["", "   ", "Court order 2025/123"]


def expected_allowed_by_rule(condition: str, request: DisclosureRequest) -> bool:
    kind, _, purpose = condition.partition(":")
    if kind == "always":
        return True
    if kind == "never":
        return False
    if kind == "legal_reference":
        return bool(request.legal_reference.strip())
    if kind == "consent":
        return purpose in request.consents
    if kind == "consent_or_authority":
        return purpose in request.consents or request.recipient_authority != ContactAuthority.NONE
    raise AssertionError(condition)


def expected_released(request: DisclosureRequest) -> tuple[set, bool]:
    condition, clinical = EXPECTED[(request.recipient_category, request.purpose)]
    if not expected_allowed_by_rule(condition, request):
        return set(), False
    released = set(request.data_categories)
    if request.nhs_number_objection:
        released.discard(DataCategory.NHS_NUMBER)
    if not (clinical and request.requester_may_disclose_clinical):
        released -= CLINICAL
    return released, bool(released)


def test_the_table_covers_every_category_and_purpose():
    pairs = set(itertools.product(RecipientCategory.values, DisclosurePurpose.values))

    assert set(EXPECTED) == pairs
    assert set(RULES) == pairs


@pytest.mark.parametrize(("category", "purpose"), sorted(EXPECTED), ids=lambda value: str(value))
def test_every_state_of_every_category_and_purpose(category, purpose):
    asks = [
        EVERYTHING,
        frozenset({DataCategory.NHS_NUMBER}),
        frozenset(CLINICAL),
        frozenset({DataCategory.DEMOGRAPHICS}),
    ]
    for consents, objection, authority, reference, clinical, asked in itertools.product(
        CONSENT_STATES, (False, True), AUTHORITIES, LEGAL_REFERENCES, (False, True), asks
    ):
        request = DisclosureRequest(
            recipient_category=category,
            purpose=purpose,
            data_categories=asked,
            legal_reference=reference,
            consents=consents,
            nhs_number_objection=objection,
            recipient_authority=authority,
            requester_may_disclose_clinical=clinical,
        )
        decision = decide_disclosure(request)
        released, allowed = expected_released(request)

        assert decision.allowed is allowed, request
        assert set(decision.released_categories) == released, request
        assert decision.reasons, request
        assert decision.checked_state["nhs_number_objection"] is objection
        assert decision.checked_state["recipient_authority"] == authority


def test_a_denial_says_why():
    decision = decide_disclosure(
        DisclosureRequest(recipient_category=GOVERNMENT, purpose="direct_care", data_categories={"demographics"})
    )

    assert not decision.allowed
    assert decision.released_categories == ()
    assert "Central government only where the law requires" in " ".join(decision.reasons)


def test_family_with_a_recorded_authority_but_no_consent_is_allowed_demographics():
    decision = decide_disclosure(
        DisclosureRequest(
            recipient_category=FAMILY,
            purpose="direct_care",
            data_categories={"demographics", "notes"},
            recipient_authority=ContactAuthority.LASTING_POWER_OF_ATTORNEY_HEALTH_WELFARE,
            requester_may_disclose_clinical=True,
        )
    )

    assert decision.allowed
    assert decision.released_categories == ("demographics",)
    assert any("Clinical notes withheld" in reason for reason in decision.reasons)


def test_asking_only_for_the_nhs_number_of_an_objecting_patient_is_denied():
    decision = decide_disclosure(
        DisclosureRequest(
            recipient_category=HCP, purpose="direct_care", data_categories={"nhs_number"}, nhs_number_objection=True
        )
    )

    assert not decision.allowed
    assert any("objects to NHS-number sharing" in reason for reason in decision.reasons)


def test_nonsense_is_refused_before_deciding():
    with pytest.raises(ValueError):
        DisclosureRequest(recipient_category="journalist", purpose="direct_care", data_categories={"demographics"})
    with pytest.raises(ValueError):
        DisclosureRequest(recipient_category=HCP, purpose="direct_care", data_categories=set())
    with pytest.raises(ValueError):
        DisclosureRequest(recipient_category=HCP, purpose="direct_care", data_categories={"genome"})


def test_the_rules_have_no_settings_to_loosen_them():
    """Nothing in the policy reads settings or the database: an organisation cannot switch a rule off."""
    import inspect

    import privacy.policy

    source = inspect.getsource(privacy.policy)
    assert "django.conf" not in source
    assert "objects." not in source


requests = st.builds(
    DisclosureRequest,
    recipient_category=st.sampled_from(RecipientCategory.values),
    purpose=st.sampled_from(DisclosurePurpose.values),
    data_categories=st.frozensets(st.sampled_from(DataCategory.values), min_size=1),
    legal_reference=st.text(max_size=20),
    consents=st.frozensets(st.sampled_from(ConsentPurpose.values)),
    nhs_number_objection=st.booleans(),
    recipient_authority=st.sampled_from(ContactAuthority.values),
    requester_may_disclose_clinical=st.booleans(),
)


@given(requests)
def test_an_objecting_patients_nhs_number_is_never_released(ask):
    decision = decide_disclosure(ask)

    if ask.nhs_number_objection:
        assert DataCategory.NHS_NUMBER not in decision.released_categories


@given(requests)
def test_clinical_content_never_goes_to_a_non_clinical_category(ask):
    decision = decide_disclosure(ask)

    if ask.recipient_category != HCP:
        assert not CLINICAL & set(decision.released_categories)
    if CLINICAL & set(decision.released_categories):
        assert ask.purpose in ("direct_care", "patient_request")
        assert ask.requester_may_disclose_clinical


@given(requests)
def test_never_more_than_asked_and_allowed_only_if_something_goes(ask):
    decision = decide_disclosure(ask)

    assert set(decision.released_categories) <= set(ask.data_categories)
    assert decision.allowed == bool(decision.released_categories)
    assert decide_disclosure(ask) == decision


# The same two properties end to end: through the service, the package builder and
# privacy.outbound, with free text that may itself carry the NHS number.
# Forms and serializers refuse NUL and lone surrogate characters before any service runs.
text = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=30)
free_text = st.one_of(text, st.just("ref NHS 943 476 5919"), st.just("9434765919"))


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    category=st.sampled_from(RecipientCategory.values),
    purpose=st.sampled_from(DisclosurePurpose.values),
    asked=st.frozensets(st.sampled_from(DataCategory.values), min_size=1),
    recipient_name=free_text.filter(lambda text: text.strip()),
    lawful_basis=free_text,
    legal_reference=free_text,
)
def test_released_packages_never_carry_an_objecting_patients_nhs_number_or_misplaced_notes(
    objecting_patient,
    alice_practitioner,
    alice_cares_for_patient,
    signed_note,
    mother_with_lpa,
    category,
    purpose,
    asked,
    recipient_name,
    lawful_basis,
    legal_reference,
):
    from privacy.services import consent_record, disclosure_request

    for consent_purpose in ConsentPurpose.values:
        consent_record(
            patient=objecting_patient,
            purpose=consent_purpose,
            decision="given",
            method="written",
            recorded_by=alice_practitioner,
        )
    disclosure = disclosure_request(
        patient=objecting_patient,
        requested_by=alice_practitioner,
        recipient_category=category,
        recipient_name=recipient_name,
        purpose=purpose,
        data_categories=asked,
        lawful_basis=lawful_basis,
        legal_reference=legal_reference[:200],
        recipient_contact=mother_with_lpa,
        release_now=True,
    )

    package = json.dumps(disclosure.package or {})
    assert_no_nhs_number(package)
    if category != HCP:
        assert "CANARY-NOTE" not in package
        assert not {"notes", "clinical_summary"} & set(disclosure.package or {})
