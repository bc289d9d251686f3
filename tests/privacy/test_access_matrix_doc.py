"""docs/privacy/access-matrix.md, every cell: each row names a check in privacy.access (or the
diary), and each column an actor; the test builds that actor and asks the check."""

import re
from pathlib import Path

import pytest
from django.urls import resolve, reverse

from core.access import allowed_roles_for
from diary.models import Appointment
from privacy import access
from privacy.selectors import audit_entries_visible_to, break_glass_grants_visible_to, disclosure_register
from privacy.services import audit_entry_record, break_glass_grant
from tests.diary.factories import AppointmentFactory
from tests.privacy.factories import BreakGlassGrantFactory, DisclosureFactory

DOC = Path(__file__).resolve().parents[2] / "docs" / "privacy" / "access-matrix.md"
COLUMNS = [
    "Receptionist",
    "Admin",
    "Practitioner, caring",
    "Practitioner, not caring",
    "Practitioner, break-glass",
    "Other organisation",
]
ROW = re.compile(r"^\| ([^|`]+?) \| `(\w+)` \|((?: (?:yes|no) \|){6})$", re.MULTILINE)
ORGANISATION_WIDE = {"can_view_disclosure_register", "can_review_break_glass", "can_view_audit_log"}


def documented_cells() -> list[tuple[str, str, str, bool]]:
    text = DOC.read_text()
    header = next(line for line in text.splitlines() if line.startswith("| Capability |"))
    assert [cell.strip() for cell in header.strip("|").split("|")][2:] == COLUMNS
    cells = []
    for capability, check, values in ROW.findall(text):
        for column, value in zip(COLUMNS, values.strip(" |").split(" | "), strict=True):
            cells.append((capability, check, column, value == "yes"))
    return cells


CELLS = documented_cells()


def test_the_matrix_has_every_check_and_every_column():
    checks = {check for _, check, _, _ in CELLS}

    assert len(CELLS) == len(checks) * len(COLUMNS) == 16 * 6
    assert checks - {"diary"} <= {name for name in dir(access) if name.startswith("can_")}
    public_checks = {name for name in dir(access) if name.startswith("can_")} - {"can_view_disclosure_package"}
    assert public_checks <= checks, "a capability in privacy/access.py is missing from the matrix"


@pytest.fixture
def actors(
    patient,
    rita_receptionist,
    adam_admin,
    alice_practitioner,
    alice_cares_for_patient,
    paul_practitioner,
    clinic,
    olga_other,
    oscar_other_practitioner,
):
    from tests.patients.factories import PractitionerFactory

    bernie = PractitionerFactory(organisation=clinic, email="bernie@bath.test", given_name="Bernie")
    break_glass_grant(patient=patient, practitioner=bernie, reason="Emergency: collapsed at reception")
    return {
        "Receptionist": [rita_receptionist],
        "Admin": [adam_admin],
        "Practitioner, caring": [alice_practitioner],
        "Practitioner, not caring": [paul_practitioner],
        "Practitioner, break-glass": [bernie],
        "Other organisation": [olga_other, oscar_other_practitioner],
    }


def diary_allows(staff, patient) -> bool:
    """The diary's own pages declare their roles; its rows are scoped by visible_to."""
    view = resolve(reverse("diary:day")).func.view_class
    appointment = AppointmentFactory(organisation=patient.organisation, patient=patient)
    sees_it = Appointment.objects.visible_to(staff).filter(pk=appointment.pk).exists()
    return staff.role in allowed_roles_for(view, "GET") and sees_it


def organisation_wide_allows(check: str, staff, patient) -> bool:
    """Allowed for their own organisation, and our rows visible to them."""
    if not getattr(access, check)(staff):
        return False
    if check == "can_view_disclosure_register":
        ours = DisclosureFactory(patient=patient)
        return disclosure_register(user=staff).filter(pk=ours.pk).exists()
    if check == "can_review_break_glass":
        ours = BreakGlassGrantFactory(patient=patient)
        return break_glass_grants_visible_to(staff).filter(pk=ours.pk).exists()
    ours = audit_entry_record(action="view", obj=patient)
    return audit_entries_visible_to(staff).filter(pk=ours.pk).exists()


@pytest.mark.parametrize(("capability", "check", "column", "expected"), CELLS, ids=lambda v: str(v))
def test_every_cell(actors, patient, capability, check, column, expected):
    for staff in actors[column]:
        fresh = type(patient).objects.get(pk=patient.pk)  # no answers cached from another actor
        if check == "diary":
            allowed = diary_allows(staff, fresh)
        elif check in ORGANISATION_WIDE:
            allowed = organisation_wide_allows(check, staff, fresh)
        else:
            allowed = getattr(access, check)(staff, fresh)
        assert allowed is expected, f"{capability} for {column} ({staff.email})"
