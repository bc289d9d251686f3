"""`core.db.get_each`: several scoped single-row lookups in one statement, read exactly as the
ORM reads them."""

import datetime
import uuid

import pytest
from django.forms.models import model_to_dict

from core.db import get_each
from core.models import Location, Staff
from diary.models import Service
from patients.models import Patient
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db


def fields_of(row):
    return {field.attname: getattr(row, field.attname) for field in type(row)._meta.concrete_fields}


@pytest.fixture
def canary_patient(clinic):
    # Encrypted, dated and optional fields, so every converter is exercised.
    return PatientFactory(
        organisation=clinic,
        nhs_number="9434765919",
        date_of_birth=datetime.date(1961, 2, 3),
        email="canary-db@example.test",
        phone="01632 960001",
    )


def test_each_row_comes_back_as_the_orm_reads_it(
    canary_patient, alice_practitioner, clinic_location, rita_receptionist, django_assert_num_queries
):
    lookups = {
        "patient": (Patient.objects.visible_to(rita_receptionist), canary_patient.pk),
        "practitioner": (Staff.objects.visible_to(rita_receptionist).practitioners(), alice_practitioner.pk),
        "location": (Location.objects.visible_to(rita_receptionist), clinic_location.pk),
    }
    with django_assert_num_queries(1):
        found = get_each(lookups)

    for name, (queryset, pk) in lookups.items():
        expected = queryset.get(pk=pk)
        assert type(found[name]) is type(expected)
        assert fields_of(found[name]) == fields_of(expected)
        assert found[name]._state.adding is False
    assert found["patient"].nhs_number == "9434765919"
    assert found["patient"].email == "canary-db@example.test"
    assert model_to_dict(found["patient"]) == model_to_dict(Patient.objects.get(pk=canary_patient.pk))


def test_a_row_the_queryset_does_not_hold_is_none(
    canary_patient, alice_practitioner, rita_receptionist, olga_other, oscar_other_practitioner, other_clinic
):
    foreign_patient = PatientFactory(organisation=other_clinic)
    found = get_each(
        {
            "unknown": (Patient.objects.visible_to(rita_receptionist), uuid.uuid4()),
            "foreign": (Patient.objects.visible_to(rita_receptionist), foreign_patient.pk),
            "foreign_practitioner": (
                Staff.objects.visible_to(rita_receptionist).practitioners(),
                oscar_other_practitioner.pk,
            ),
            "not_a_practitioner": (Staff.objects.visible_to(rita_receptionist).practitioners(), rita_receptionist.pk),
            "ours": (Patient.objects.visible_to(rita_receptionist), canary_patient.pk),
        }
    )
    assert found["unknown"] is None
    assert found["foreign"] is None
    assert found["foreign_practitioner"] is None
    assert found["not_a_practitioner"] is None
    assert found["ours"] == canary_patient
    # The foreign organisation's own staff do see their row.
    assert get_each({"p": (Patient.objects.visible_to(olga_other), foreign_patient.pk)})["p"] == foreign_patient


def test_no_key_and_empty_querysets_need_no_statement(rita_receptionist, clinic, django_assert_num_queries):
    service = Service.objects.create(organisation=clinic, name="Assessment", duration_minutes=45)
    with django_assert_num_queries(0):
        found = get_each(
            {
                "none": (Service.objects.visible_to(rita_receptionist), None),
                "empty": (Service.objects.none(), service.pk),
            }
        )
    assert found == {"none": None, "empty": None}
