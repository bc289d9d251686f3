"""docs/privacy/sharing-rules.md mirrors privacy.policy.RULES: same rows, same conditions, same
clinical column, and each row's words mean what the code does (checked by deciding with the
condition met and unmet)."""

import re
from pathlib import Path

import pytest

from patients.choices import ContactAuthority
from privacy.choices import ConsentPurpose, DataCategory
from privacy.policy import RULES, DisclosureRequest, Requirement, decide_disclosure

DOC = Path(__file__).resolve().parents[2] / "docs" / "privacy" / "sharing-rules.md"
ROW = re.compile(r"^\| `(\w+)` \| `(\w+)` \| ([^|]+?) \| (yes|no) \|$", re.MULTILINE)


def documented_rules() -> dict[tuple[str, str], tuple[str, bool]]:
    rows = ROW.findall(DOC.read_text())
    table = {(category, purpose): (condition, clinical == "yes") for category, purpose, condition, clinical in rows}
    assert len(table) == len(rows), "a rule is documented twice"
    return table


def test_the_document_lists_exactly_the_rules_in_the_code():
    documented = documented_rules()

    assert set(documented) == set(RULES)
    for key, rule in RULES.items():
        assert documented[key] == (rule.condition, rule.clinical), key


def ask(category, purpose, *, consents=frozenset(), authority=ContactAuthority.NONE, reference=""):
    return decide_disclosure(
        DisclosureRequest(
            recipient_category=category,
            purpose=purpose,
            data_categories=frozenset(DataCategory.values),
            legal_reference=reference,
            consents=consents,
            recipient_authority=authority,
            requester_may_disclose_clinical=True,
        )
    )


@pytest.mark.parametrize("key", sorted(RULES), ids=str)
def test_each_documented_condition_means_what_the_code_does(key):
    condition, clinical = documented_rules()[key]
    nothing = ask(*key)
    everything = ask(
        *key,
        consents=frozenset(ConsentPurpose.values),
        authority=ContactAuthority.PARENTAL_RESPONSIBILITY,
        reference="Children Act 1989 s.47",
    )

    if condition == "never":
        assert not everything.allowed
    elif condition == "always":
        assert nothing.allowed
    else:
        assert everything.allowed and not nothing.allowed
        if condition.startswith("consent: "):
            purpose = condition.removeprefix("consent: ").split(",")[0]
            assert ask(*key, consents=frozenset({purpose})).allowed
            others = frozenset(ConsentPurpose.values) - {purpose}
            assert not ask(*key, consents=others).allowed
            if condition.endswith("or a recorded authority"):
                assert ask(*key, authority=ContactAuthority.COURT_APPOINTED_DEPUTY).allowed
        else:
            assert condition == "legal obligation with a reference"
            assert RULES[key].requirement is Requirement.LEGAL_REFERENCE
            assert ask(*key, reference="Court order 42").allowed
    released = set(everything.released_categories)
    assert bool(released & {"notes", "clinical_summary"}) == (clinical and everything.allowed)
