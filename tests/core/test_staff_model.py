"""The database itself refuses clinic staff without an organisation or a role."""

import pytest
from django.db import IntegrityError, transaction

from core.models import Staff


@pytest.mark.django_db
def test_a_non_operator_without_an_organisation_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Staff.objects.bulk_create([Staff(email="floating@nowhere.test", role="practitioner")])


@pytest.mark.django_db
def test_staff_without_a_valid_role_are_refused_by_the_database(clinic):
    with pytest.raises(IntegrityError), transaction.atomic():
        Staff.objects.bulk_create([Staff(email="norole@bath.test", organisation=clinic, role="surgeon")])


@pytest.mark.django_db
def test_emails_are_unique_whatever_their_case(clinic, alice_practitioner):
    with pytest.raises(IntegrityError), transaction.atomic():
        Staff.objects.bulk_create([Staff(email=alice_practitioner.email.upper(), organisation=clinic, role="admin")])


@pytest.mark.django_db
def test_an_operator_belongs_to_no_organisation(password):
    operator = Staff.objects.create_superuser("ops@hosting.test", password)
    assert operator.organisation is None
    assert operator.is_staff
    assert not operator.has_role("admin", "practitioner", "receptionist")
