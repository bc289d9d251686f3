"""`visible_to(user)`: the one queryset method that keeps each clinic's rows to itself."""

import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.choices import Role
from core.models import Location, Staff
from tests.factories import TEST_PASSWORD, LocationFactory, OrganisationFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_location(other_clinic):
    return LocationFactory(organisation=other_clinic, name="Other High Street FOREIGN-CANARY")


@pytest.fixture
def operator(db):
    return Staff.objects.create_superuser("operator@jelly.example", TEST_PASSWORD)


class TestLocations:
    def test_alice_sees_her_clinics_locations_and_not_the_other_clinics(
        self, alice_practitioner, clinic_location, other_location
    ):
        second_site = LocationFactory(organisation=alice_practitioner.organisation, name="Bath Lansdown")

        assert set(Location.objects.visible_to(alice_practitioner)) == {clinic_location, second_site}

    def test_olga_sees_only_the_other_clinics_location(self, olga_other, clinic_location, other_location):
        assert list(Location.objects.visible_to(olga_other)) == [other_location]

    def test_every_role_gets_the_same_scope(
        self, adam_admin, alice_practitioner, rita_receptionist, clinic_location, other_location
    ):
        for staff in (adam_admin, alice_practitioner, rita_receptionist):
            assert list(Location.objects.visible_to(staff)) == [clinic_location]

    def test_an_anonymous_visitor_sees_nothing(self, clinic_location, other_location):
        assert not Location.objects.visible_to(AnonymousUser()).exists()

    def test_an_operator_sees_no_clinic_rows(self, operator, clinic_location, other_location):
        assert operator.is_superuser
        assert not Location.objects.visible_to(operator).exists()

    def test_the_scope_composes_with_other_filters_without_widening(
        self, alice_practitioner, clinic_location, other_location
    ):
        inactive = LocationFactory(organisation=alice_practitioner.organisation, name="Closed site", is_active=False)
        visible = Location.objects.visible_to(alice_practitioner)

        assert list(visible.filter(is_active=False)) == [inactive]
        assert not visible.filter(pk=other_location.pk).exists()
        assert not Location.objects.filter(name__contains="CANARY").visible_to(alice_practitioner).exists()


class TestStaff:
    def test_staff_of_one_clinic_see_each_other_only(
        self, adam_admin, alice_practitioner, rita_receptionist, olga_other, oscar_other_practitioner, operator
    ):
        assert set(Staff.objects.visible_to(rita_receptionist)) == {adam_admin, alice_practitioner, rita_receptionist}
        assert set(Staff.objects.visible_to(olga_other)) == {olga_other, oscar_other_practitioner}

    def test_operators_are_invisible_to_clinic_staff_and_see_no_staff(self, alice_practitioner, operator):
        assert operator not in Staff.objects.visible_to(alice_practitioner)
        assert not Staff.objects.visible_to(operator).exists()
        assert not Staff.objects.visible_to(AnonymousUser()).exists()

    def test_practitioners_within_the_scope(
        self, alice_practitioner, paul_practitioner, adam_admin, oscar_other_practitioner
    ):
        paul_practitioner.is_active = False
        paul_practitioner.save(update_fields=["is_active"])

        assert list(Staff.objects.visible_to(adam_admin).practitioners()) == [alice_practitioner]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    locations_per_organisation=st.lists(st.integers(min_value=0, max_value=4), min_size=2, max_size=4),
    chosen=st.data(),
)
def test_visible_to_is_exactly_the_users_organisation(db, locations_per_organisation, chosen):
    # The database is rolled back per test, not per example, so every example uses fresh slugs
    # and compares against the rows it created itself.
    run = uuid.uuid4().hex[:8]
    created: dict = {}
    for index, count in enumerate(locations_per_organisation):
        organisation = OrganisationFactory(name=f"Clinic {run}-{index}", slug=f"clinic-{run}-{index}")
        locations = {LocationFactory(organisation=organisation, name=f"Site {number}") for number in range(count)}
        staff = {
            StaffFactory(organisation=organisation, email=f"{role}-{run}-{index}@clinic.test", role=role)
            for role in (Role.ADMIN, Role.PRACTITIONER, Role.RECEPTIONIST)
        }
        created[organisation] = (locations, staff)

    organisation = chosen.draw(st.sampled_from(sorted(created, key=lambda o: o.slug)))
    own_locations, own_staff = created[organisation]
    user = chosen.draw(st.sampled_from(sorted(own_staff, key=lambda s: s.email)))

    assert set(Location.objects.visible_to(user)) == own_locations
    assert set(Staff.objects.visible_to(user)) == own_staff
