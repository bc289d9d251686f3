"""`core.db.get_each`: several scoped single-row lookups in one statement, read exactly as the
ORM reads them."""

import datetime
import uuid

import pytest
from django.forms.models import model_to_dict

from core.db import Lookup, get_each, insert, insert_together, row_exists
from core.models import ACTIVE_PRACTITIONER, Location, Staff, tenant_scope
from diary.models import Service
from patients.models import Patient
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db


def scoped(model, user, pk, **only):
    return Lookup(model, {"pk": pk, **tenant_scope(user), **only})


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
        "patient": scoped(Patient, rita_receptionist, canary_patient.pk),
        "practitioner": scoped(Staff, rita_receptionist, alice_practitioner.pk, **ACTIVE_PRACTITIONER),
        "location": scoped(Location, rita_receptionist, clinic_location.pk),
    }
    with django_assert_num_queries(1):
        found = get_each(lookups)

    for name, lookup in lookups.items():
        expected = lookup.model.objects.get(pk=lookup.filters["pk"])
        assert type(found[name]) is type(expected)
        assert fields_of(found[name]) == fields_of(expected)
        assert found[name]._state.adding is False
    assert found["patient"].nhs_number == "9434765919"
    assert found["patient"].email == "canary-db@example.test"
    assert model_to_dict(found["patient"]) == model_to_dict(Patient.objects.get(pk=canary_patient.pk))


def test_a_row_the_filters_do_not_allow_is_none(
    canary_patient, alice_practitioner, rita_receptionist, olga_other, oscar_other_practitioner, other_clinic
):
    foreign_patient = PatientFactory(organisation=other_clinic)
    found = get_each(
        {
            "unknown": scoped(Patient, rita_receptionist, uuid.uuid4()),
            "foreign": scoped(Patient, rita_receptionist, foreign_patient.pk),
            "foreign_practitioner": scoped(
                Staff, rita_receptionist, oscar_other_practitioner.pk, **ACTIVE_PRACTITIONER
            ),
            "not_a_practitioner": scoped(Staff, rita_receptionist, rita_receptionist.pk, **ACTIVE_PRACTITIONER),
            "ours": scoped(Patient, rita_receptionist, canary_patient.pk),
        }
    )
    assert found["unknown"] is None
    assert found["foreign"] is None
    assert found["foreign_practitioner"] is None
    assert found["not_a_practitioner"] is None
    assert found["ours"] == canary_patient
    # The foreign organisation's own staff do see their row.
    assert get_each({"p": scoped(Patient, olga_other, foreign_patient.pk)})["p"] == foreign_patient


def test_the_lookups_agree_with_the_querysets_that_scope_rows(
    rita_receptionist, alice_practitioner, paul_practitioner, oscar_other_practitioner, adam_admin
):
    """`tenant_scope` and `ACTIVE_PRACTITIONER` are what `visible_to` and `practitioners()`
    apply, so both ways of asking "may Rita book this person?" give one answer."""
    paul_practitioner.is_active = False
    paul_practitioner.save()
    for staff in (alice_practitioner, paul_practitioner, oscar_other_practitioner, adam_admin, rita_receptionist):
        by_queryset = Staff.objects.visible_to(rita_receptionist).practitioners().filter(pk=staff.pk).first()
        by_lookup = get_each({"s": scoped(Staff, rita_receptionist, staff.pk, **ACTIVE_PRACTITIONER)})["s"]
        assert by_lookup == by_queryset
    assert Staff.objects.visible_to(rita_receptionist).practitioners().get() == alice_practitioner


def test_no_scope_needs_no_statement(clinic, django_assert_num_queries):
    Service.objects.create(organisation=clinic, name="Assessment", duration_minutes=45)
    with django_assert_num_queries(0):
        found = get_each({"no_scope": Lookup(Service, None)})  # e.g. an operator: no organisation
    assert found == {"no_scope": None}


def test_a_unique_field_identifies_a_row_and_other_filters_are_refused(clinic, other_clinic):
    from integrations.models import IntegrationSettings

    ours = IntegrationSettings.objects.create(organisation=clinic, appointment_emails_enabled=False)
    found = get_each(
        {
            "ours": Lookup(IntegrationSettings, {"organisation_id": clinic.pk}),
            "theirs": Lookup(IntegrationSettings, {"organisation_id": other_clinic.pk}),
        }
    )
    assert found == {"ours": ours, "theirs": None}
    assert found["ours"].appointment_emails_enabled is False
    with pytest.raises(ValueError, match="may match many rows"):
        get_each({"services": Lookup(Service, {"organisation_id": clinic.pk})})


def test_row_exists_answers_as_filter_exclude_exists(clinic, other_clinic, django_assert_num_queries):
    Service.objects.create(organisation=clinic, name="Assessment", duration_minutes=45)
    Service.objects.create(organisation=clinic, name="Old", duration_minutes=30, is_active=False)
    cases = [
        ({"organisation_id": clinic.pk}, {}),
        ({"organisation_id": clinic.pk}, {"is_active": True}),
        ({"organisation_id": clinic.pk, "name": "Old"}, {"is_active": False}),
        ({"organisation_id": clinic.pk, "name": "Assessment"}, {"is_active": False, "duration_minutes": 30}),
        ({"organisation_id": other_clinic.pk}, {}),
    ]
    for where, unless in cases:
        expected = Service.objects.filter(**where).exclude(**unless).exists()
        with django_assert_num_queries(1):
            assert row_exists(Service, where, unless=unless) is expected, (where, unless)
    assert [row_exists(Service, where, unless=unless) for where, unless in cases] == [True, True, False, True, False]


def test_insert_writes_the_row_save_would(clinic):
    from integrations.models import IntegrationSettings

    service = insert(Service(organisation=clinic, name="Assessment", duration_minutes=45))
    assert service._state.adding is False
    assert fields_of(Service.objects.get(pk=service.pk)) == fields_of(service)

    settings = insert(IntegrationSettings(organisation=clinic, reminder_hours_before=48))
    assert settings.pk is not None  # generated by the database and read back
    stored = IntegrationSettings.objects.get(pk=settings.pk)
    assert stored.reminder_hours_before == 48
    assert stored.updated_at is not None and stored.updated_at == settings.updated_at  # auto_now applied


def test_insert_fails_like_save_and_refuses_models_with_their_own_save(clinic):
    from django.db import IntegrityError, connection, transaction

    from integrations.models import IntegrationSettings

    insert(IntegrationSettings(organisation=clinic))
    with pytest.raises(IntegrityError), transaction.atomic():
        try:
            insert(IntegrationSettings(organisation=clinic))  # one per organisation
        finally:
            assert connection.needs_rollback
    assert IntegrationSettings.objects.filter(organisation=clinic).count() == 1
    with pytest.raises(TypeError, match="overrides save"):
        insert(Staff(organisation=clinic, email="someone@clinic.test"))


def test_insert_together_writes_each_row_save_would_in_one_statement(
    clinic, clinic_location, alice_practitioner, rita_receptionist, django_assert_num_queries
):
    from diary.models import Appointment, AppointmentChange

    patient = PatientFactory(organisation=clinic)
    service = Service.objects.create(organisation=clinic, name="Assessment", duration_minutes=45)
    start = datetime.datetime(2030, 1, 7, 10, tzinfo=datetime.UTC)
    appointment = Appointment(
        organisation=clinic,
        patient=patient,
        practitioner=alice_practitioner,
        service=service,
        location=clinic_location,
        start=start,
        end=start + datetime.timedelta(minutes=45),
        created_by=rita_receptionist,
        updated_by=rita_receptionist,
    )
    # Refers to the appointment inserted alongside it (the foreign key is checked at commit).
    change = AppointmentChange(
        organisation=clinic,
        appointment=appointment,
        kind="created",
        changes={"canary": "ü"},
        version=1,
        by=rita_receptionist,
    )

    with django_assert_num_queries(1):
        assert insert_together([appointment, change]) is True

    assert change.pk is not None  # generated by the database and read back
    assert appointment._state.adding is change._state.adding is False
    assert fields_of(Appointment.objects.get(pk=appointment.pk)) == fields_of(appointment)
    assert fields_of(AppointmentChange.objects.get(pk=change.pk)) == fields_of(change)


def test_insert_together_writes_nothing_when_its_condition_is_false(clinic):
    first = Service(organisation=clinic, name="First", duration_minutes=30)
    second = Service(organisation=clinic, name="Second", duration_minutes=30)
    no_service_named = ("NOT EXISTS (SELECT 1 FROM diary_service WHERE name = %s)", ["Taken"])

    Service.objects.create(organisation=clinic, name="Taken", duration_minutes=30)
    assert insert_together([first, second], only_if=no_service_named) is False
    assert first._state.adding and second._state.adding
    assert not Service.objects.filter(name__in=["First", "Second"]).exists()

    Service.objects.filter(name="Taken").delete()
    assert insert_together([first, second], only_if=no_service_named) is True
    assert sorted(Service.objects.values_list("name", flat=True)) == ["First", "Second"]


def test_insert_together_is_all_or_nothing_and_fails_like_save(clinic):
    from django.db import IntegrityError, connection, transaction

    from integrations.models import IntegrationSettings

    insert(IntegrationSettings(organisation=clinic))
    fresh = Service(organisation=clinic, name="Fresh", duration_minutes=30)
    with pytest.raises(IntegrityError), transaction.atomic():
        try:
            insert_together([fresh, IntegrationSettings(organisation=clinic)])  # one per organisation
        finally:
            assert connection.needs_rollback
    assert not Service.objects.filter(name="Fresh").exists()
    with pytest.raises(TypeError, match="overrides save"):
        insert_together([fresh, Staff(organisation=clinic, email="someone@clinic.test")])


def test_a_lookup_can_read_only_some_fields_and_defer_the_rest(
    canary_patient, alice_practitioner, django_assert_num_queries
):
    with django_assert_num_queries(1):
        rows = get_each(
            {
                "patient": Lookup(Patient, {"pk": canary_patient.pk}, only=("email",)),
                "practitioner": scoped(Staff, alice_practitioner, alice_practitioner.pk),
            }
        )
        assert rows["patient"].email == "canary-db@example.test"
        assert rows["patient"].pk == canary_patient.pk

    assert "nhs_number" in rows["patient"].get_deferred_fields()
    assert "email" not in rows["patient"].get_deferred_fields()
    assert fields_of(rows["practitioner"]) == fields_of(Staff.objects.get(pk=alice_practitioner.pk))
    with django_assert_num_queries(1):  # a deferred field loads on first use, as after only()
        assert rows["patient"].nhs_number == "9434765919"
