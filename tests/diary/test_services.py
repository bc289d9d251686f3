"""The booking rules, through the one service layer every entry point uses."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from core.exceptions import DomainError
from diary import services
from diary.choices import AppointmentStatus, ChangeKind
from diary.models import Appointment, AppointmentChange, WorkingHours
from patients.care import has_care_relationship
from tests.diary.conftest import at
from tests.diary.factories import AppointmentFactory, ServiceFactory, TimeOffFactory, WorkingHoursFactory
from tests.factories import LocationFactory
from tests.patients.factories import PatientFactory

PAST_MONDAY = datetime.date(2025, 1, 6)
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints are PostgreSQL's")


@pytest.fixture(autouse=True)
def _hours(alice_hours, paul_hours):
    """Alice and Paul work 09:00-17:00, Monday to Friday."""


class TestBooking:
    def test_the_end_defaults_to_the_services_length_and_a_change_is_recorded(self, book, rita_receptionist):
        appointment = book(at(10))
        assert appointment.end == at(10, 30)
        assert appointment.version == 1
        assert appointment.created_by == rita_receptionist
        change = AppointmentChange.objects.get(appointment=appointment)
        assert change.kind == ChangeKind.CREATED
        assert change.version == 1
        assert change.changes["start"] == at(10).isoformat()
        assert change.changes["practitioner"] == str(appointment.practitioner_id)

    def test_change_records_hold_ids_and_times_never_names_or_notes(self, book, patient):
        appointment = book(at(10), notes="Needs the ground-floor room")
        services.appointment_reschedule(
            actor=appointment.created_by, appointment=appointment, version=1, start=at(11), notes="Bring the X-ray"
        )
        text = str(list(AppointmentChange.objects.values_list("changes", flat=True)))
        for secret in (patient.given_name, patient.family_name, "ground-floor", "X-ray"):
            assert secret not in text

    def test_alice_cannot_be_in_two_overlapping_appointments(self, book, other_patient):
        book(at(10))
        with pytest.raises(DomainError) as refused:
            book(at(10, 15), patient=other_patient)
        assert refused.value.conflict
        assert "Alice" in refused.value.message and "10:00" in refused.value.message
        assert Appointment.objects.count() == 1

    def test_touching_appointments_are_fine(self, book, other_patient):
        book(at(10))
        assert book(at(10, 30), patient=other_patient).start == at(10, 30)
        assert book(at(9, 30), patient=other_patient, end=at(10)).end == at(10)

    def test_a_room_is_never_double_booked(self, book, room_one, paul_practitioner, other_patient):
        book(at(10), room=room_one)
        with pytest.raises(DomainError) as refused:
            book(at(10, 15), practitioner=paul_practitioner, patient=other_patient, room=room_one)
        assert refused.value.conflict
        assert refused.value.errors == {"room": [refused.value.message]}
        assert book(at(10, 15), practitioner=paul_practitioner, patient=other_patient).room is None

    def test_a_patient_overlap_is_a_warning_that_can_be_overridden(self, book, paul_practitioner):
        book(at(10))
        with pytest.raises(DomainError) as warned:
            book(at(10), practitioner=paul_practitioner)
        assert warned.value.conflict
        assert "allow_patient_overlap" in warned.value.errors
        second = book(at(10), practitioner=paul_practitioner, allow_patient_overlap=True)
        assert second.practitioner == paul_practitioner

    def test_outside_working_hours_is_refused_for_rita(self, book):
        with pytest.raises(DomainError) as refused:
            book(at(8, 30))
        assert not refused.value.conflict
        assert "outside" in refused.value.message
        assert "start" in refused.value.errors

    def test_rita_cannot_override_working_hours(self, book):
        with pytest.raises(DomainError):
            book(at(17), override_hours=True)

    def test_adam_the_admin_can_override_working_hours(self, book, adam_admin):
        with pytest.raises(DomainError) as refused:
            book(at(17), actor=adam_admin)
        assert "override_hours" in refused.value.errors
        assert book(at(17), actor=adam_admin, override_hours=True).start == at(17)

    def test_not_on_a_day_off(self, book):
        saturday = datetime.date(2030, 1, 12)
        with pytest.raises(DomainError) as refused:
            book(at(10, day=saturday))
        assert "does not work on Saturdays" in refused.value.message

    def test_not_in_time_off(self, book, alice_practitioner):
        TimeOffFactory(practitioner=alice_practitioner, start=at(12), end=at(13), reason="Lunch")
        with pytest.raises(DomainError) as refused:
            book(at(12, 15))
        assert "away" in refused.value.message and "Lunch" in refused.value.message
        assert book(at(13)).start == at(13)

    def test_hours_are_per_location(self, book, clinic):
        elsewhere = LocationFactory(organisation=clinic, name="Keynsham")
        with pytest.raises(DomainError):
            book(at(10), location=elsewhere)

    def test_a_split_shift_is_one_stretch(self, book, alice_practitioner, clinic_location):
        WorkingHours.objects.filter(practitioner=alice_practitioner, weekday=0).delete()
        for start, end in ((datetime.time(9), datetime.time(12)), (datetime.time(12), datetime.time(17))):
            WorkingHoursFactory(
                practitioner=alice_practitioner, location=clinic_location, weekday=0, start_time=start, end_time=end
            )
        # Not plainly inside one block, so the guarded insert writes nothing; the whole rule set
        # then finds the stretch and the booking is saved, with one change record.
        booked = book(at(11, 30), end=at(12, 30))
        assert Appointment.objects.get(pk=booked.pk).end == at(12, 30)
        assert list(AppointmentChange.objects.filter(appointment=booked).values_list("kind", flat=True)) == [
            ChangeKind.CREATED
        ]

    def test_end_must_be_after_start_and_times_aware(self, book):
        with pytest.raises(DomainError):
            book(at(10), end=at(10))
        with pytest.raises(DomainError):
            book(datetime.datetime(2030, 1, 7, 10))

    def test_an_inactive_service_is_not_bookable(self, book, clinic):
        retired = ServiceFactory(organisation=clinic, name="Retired", is_active=False)
        with pytest.raises(DomainError):
            book(at(10), service=retired)

    def test_another_organisations_patient_is_refused(self, book, other_clinic):
        with pytest.raises(ValidationError):
            book(at(10), patient=PatientFactory(organisation=other_clinic))

    def test_oscar_of_another_clinic_cannot_be_the_practitioner(self, book, oscar_other_practitioner):
        with pytest.raises(ValidationError):
            book(at(10), practitioner=oscar_other_practitioner)

    def test_a_receptionist_cannot_be_the_practitioner(self, book, rita_receptionist):
        with pytest.raises(ValidationError):
            book(at(10), practitioner=rita_receptionist)


class TestReschedule:
    def test_moving_keeps_the_length_and_bumps_the_version(self, book, rita_receptionist):
        appointment = book(at(10))
        moved = services.appointment_reschedule(
            actor=rita_receptionist, appointment=appointment, version=1, start=at(14)
        )
        assert (moved.start, moved.end, moved.version) == (at(14), at(14, 30), 2)
        change = moved.changes.order_by("id").last()
        assert change.kind == ChangeKind.RESCHEDULED
        assert change.version == 2
        assert change.changes["previous"] == {
            "practitioner": str(moved.practitioner_id),
            "start": at(10).isoformat(),
            "end": at(10, 30).isoformat(),
        }

    def test_reassigning_records_the_previous_practitioner(self, book, rita_receptionist, paul_practitioner):
        appointment = book(at(10))
        alice_id = str(appointment.practitioner_id)
        moved = services.appointment_reschedule(
            actor=rita_receptionist, appointment=appointment, version=1, practitioner=paul_practitioner
        )
        change = moved.changes.order_by("id").last()
        assert change.kind == ChangeKind.REASSIGNED
        assert change.changes["practitioner"] == {"from": alice_id, "to": str(paul_practitioner.pk)}
        assert change.changes["previous"]["practitioner"] == alice_id

    def test_a_stale_version_is_refused_not_overwritten(self, book, rita_receptionist, adam_admin):
        appointment = book(at(10))
        services.appointment_reschedule(actor=adam_admin, appointment=appointment, version=1, start=at(11))
        with pytest.raises(DomainError) as refused:
            services.appointment_reschedule(actor=rita_receptionist, appointment=appointment, version=1, start=at(15))
        assert refused.value.conflict
        assert "changed by someone else" in refused.value.message
        assert Appointment.objects.get().start == at(11)

    def test_moving_onto_a_colleagues_appointment_is_refused(self, book, rita_receptionist, other_patient):
        book(at(10))
        second = book(at(11), patient=other_patient)
        with pytest.raises(DomainError) as refused:
            services.appointment_reschedule(actor=rita_receptionist, appointment=second, version=1, start=at(10, 15))
        assert refused.value.conflict
        assert Appointment.objects.get(pk=second.pk).start == at(11)

    def test_moving_within_its_own_slot_does_not_clash_with_itself(self, book, rita_receptionist):
        appointment = book(at(10))
        moved = services.appointment_reschedule(
            actor=rita_receptionist, appointment=appointment, version=1, start=at(10, 15)
        )
        assert moved.start == at(10, 15)

    def test_a_new_service_without_an_end_takes_its_length(self, book, rita_receptionist, initial_assessment):
        appointment = book(at(10))
        moved = services.appointment_reschedule(
            actor=rita_receptionist, appointment=appointment, version=1, service=initial_assessment
        )
        assert moved.end == at(11)

    def test_a_cancelled_appointment_cannot_be_moved(self, book, rita_receptionist):
        appointment = book(at(10))
        services.appointment_cancel(actor=rita_receptionist, appointment=appointment)
        with pytest.raises(DomainError):
            services.appointment_reschedule(actor=rita_receptionist, appointment=appointment, version=2, start=at(11))

    def test_nothing_changed_writes_nothing(self, book, rita_receptionist):
        appointment = book(at(10))
        same = services.appointment_reschedule(
            actor=rita_receptionist, appointment=appointment, version=1, start=at(10)
        )
        assert same.version == 1
        assert appointment.changes.count() == 1


class TestStatus:
    @pytest.fixture
    def past(self, book):
        return book(at(10, day=PAST_MONDAY))

    def test_booked_arrived_completed(self, past, rita_receptionist):
        services.appointment_set_status(actor=rita_receptionist, appointment=past, status="arrived", version=1)
        done = services.appointment_set_status(actor=rita_receptionist, appointment=past, status="completed")
        assert (done.status, done.version) == (AppointmentStatus.COMPLETED, 3)
        assert [c.kind for c in done.changes.order_by("id")] == ["created", "status_changed", "status_changed"]

    def test_did_not_attend_after_the_start(self, past, rita_receptionist):
        dna = services.appointment_set_status(actor=rita_receptionist, appointment=past, status="did_not_attend")
        assert dna.status == AppointmentStatus.DID_NOT_ATTEND

    def test_not_completed_or_dna_before_it_starts(self, book, rita_receptionist):
        future = book(at(10))
        services.appointment_set_status(actor=rita_receptionist, appointment=future, status="arrived")
        with pytest.raises(DomainError, match="only once it has started"):
            services.appointment_set_status(actor=rita_receptionist, appointment=future, status="completed")

    @pytest.mark.parametrize(
        ("path", "refused"),
        [
            (["cancelled"], "arrived"),
            (["cancelled"], "booked"),
            (["did_not_attend"], "arrived"),
            (["did_not_attend"], "booked"),
            (["arrived", "completed"], "booked"),
            (["arrived", "completed"], "cancelled"),
            (["arrived"], "did_not_attend"),
            ([], "completed"),
        ],
    )
    def test_only_along_the_flow(self, past, rita_receptionist, path, refused):
        for status in path:
            services.appointment_set_status(actor=rita_receptionist, appointment=past, status=status)
        version = Appointment.objects.get(pk=past.pk).version
        with pytest.raises(DomainError) as refusal:
            services.appointment_set_status(
                actor=rita_receptionist, appointment=past, status=refused, reason="x", after_arrival=True
            )
        assert f"cannot become {AppointmentStatus(refused).label.lower()}." in refusal.value.message
        assert refusal.value.errors == {"status": [refusal.value.message]}
        assert Appointment.objects.get(pk=past.pk).version == version  # nothing written

    def test_a_completed_appointment_is_not_booked_again(self, past, rita_receptionist):
        services.appointment_set_status(actor=rita_receptionist, appointment=past, status="arrived")
        services.appointment_set_status(actor=rita_receptionist, appointment=past, status="completed")
        with pytest.raises(DomainError) as refusal:
            services.appointment_set_status(actor=rita_receptionist, appointment=past, status="booked")
        assert refusal.value.message == "A completed appointment cannot become booked."

    def test_undoing_a_mistaken_arrival_books_it_again(self, book, rita_receptionist):
        appointment = book(at(10))
        services.appointment_set_status(actor=rita_receptionist, appointment=appointment, status="arrived", version=1)
        undone = services.appointment_set_status(
            actor=rita_receptionist, appointment=appointment, status="booked", version=2
        )
        assert (undone.status, undone.version) == (AppointmentStatus.BOOKED, 3)
        change = undone.changes.order_by("id").last()
        assert change.kind == ChangeKind.STATUS_CHANGED
        assert change.changes["status"] == {"from": "arrived", "to": "booked"}
        assert change.version == 3
        # Booked again means everything booked allows: arriving, then cancelling without confirming.
        services.appointment_set_status(actor=rita_receptionist, appointment=appointment, status="arrived")
        services.appointment_set_status(actor=rita_receptionist, appointment=appointment, status="booked")
        assert services.appointment_cancel(actor=rita_receptionist, appointment=appointment).is_live is False

    def test_cancelling_after_arrival_frees_the_slot(self, book, rita_receptionist, other_patient):
        first = book(at(10))
        services.appointment_set_status(actor=rita_receptionist, appointment=first, status="arrived", version=1)
        cancelled = services.appointment_cancel(
            actor=rita_receptionist, appointment=first, reason="Alice is unwell", version=2, after_arrival=True
        )
        assert (cancelled.status, cancelled.cancellation_reason) == (AppointmentStatus.CANCELLED, "Alice is unwell")
        change = cancelled.changes.order_by("id").last()
        assert change.kind == ChangeKind.CANCELLED
        assert change.changes["status"] == {"from": "arrived", "to": "cancelled"}
        assert book(at(10), patient=other_patient).start == at(10)

    @pytest.mark.parametrize("how", ["cancel", "set_status"])
    def test_an_arrived_appointment_is_cancelled_only_on_purpose(self, book, rita_receptionist, how):
        """Bulk admin actions and a meeting deleted in Zoom call without `after_arrival`."""
        appointment = book(at(10))
        services.appointment_set_status(actor=rita_receptionist, appointment=appointment, status="arrived")
        with pytest.raises(DomainError, match="patient has arrived") as refusal:
            if how == "cancel":
                services.appointment_cancel(actor=rita_receptionist, appointment=appointment, reason="Zoom")
            else:
                services.appointment_set_status(actor=rita_receptionist, appointment=appointment, status="cancelled")
        assert "status" in refusal.value.errors
        appointment.refresh_from_db()
        assert (appointment.status, appointment.version) == (AppointmentStatus.ARRIVED, 2)
        assert appointment.changes.count() == 2

    def test_a_cancelled_appointment_stays_cancelled(self, book, rita_receptionist):
        appointment = book(at(10))
        services.appointment_set_status(actor=rita_receptionist, appointment=appointment, status="arrived")
        services.appointment_cancel(actor=rita_receptionist, appointment=appointment, after_arrival=True)
        with pytest.raises(DomainError, match="A cancelled appointment cannot become booked"):
            services.appointment_set_status(actor=rita_receptionist, appointment=appointment, status="booked")

    def test_cancelling_frees_the_slot(self, book, rita_receptionist, other_patient):
        first = book(at(10))
        cancelled = services.appointment_cancel(actor=rita_receptionist, appointment=first, reason="Unwell", version=1)
        assert cancelled.cancellation_reason == "Unwell"
        assert cancelled.changes.order_by("id").last().kind == ChangeKind.CANCELLED
        assert book(at(10), patient=other_patient).start == at(10)

    def test_a_stale_cancel_is_refused(self, book, rita_receptionist):
        appointment = book(at(10))
        services.appointment_reschedule(actor=rita_receptionist, appointment=appointment, version=1, start=at(11))
        with pytest.raises(DomainError, match="changed by someone else"):
            services.appointment_cancel(actor=rita_receptionist, appointment=appointment, version=1)


class TestReinstate:
    """A cancelled future appointment comes back only as a booking of its slot would."""

    @pytest.fixture
    def cancelled(self, book, rita_receptionist):
        appointment = book(at(10), notes="Ground floor")
        return services.appointment_cancel(
            actor=rita_receptionist, appointment=appointment, reason="Patient unwell", version=1
        )

    def test_a_free_slot_is_booked_again_with_a_new_version_and_a_change_record(self, cancelled, rita_receptionist):
        reinstated = services.appointment_reinstate(actor=rita_receptionist, appointment=cancelled, version=2)
        assert (reinstated.status, reinstated.version, reinstated.cancellation_reason) == (
            AppointmentStatus.BOOKED,
            3,
            "",
        )
        stored = Appointment.objects.get(pk=cancelled.pk)
        assert (stored.status, stored.version, stored.cancellation_reason, stored.start, stored.notes) == (
            AppointmentStatus.BOOKED,
            3,
            "",
            at(10),
            "Ground floor",
        )
        assert stored.updated_by == rita_receptionist
        change = stored.changes.order_by("id").last()
        assert (change.kind, change.version, change.by) == (ChangeKind.REINSTATED, 3, rita_receptionist)
        assert change.changes["status"] == {"from": "cancelled", "to": "booked"}
        assert change.changes["previous"]["start"] == at(10).isoformat()
        assert "unwell" not in str(change.changes)  # content-free, like every change record

    def test_a_reinstated_appointment_holds_its_slot_again(self, cancelled, rita_receptionist, book, other_patient):
        services.appointment_reinstate(actor=rita_receptionist, appointment=cancelled)
        with pytest.raises(DomainError, match="already booked"):
            book(at(10, 15), patient=other_patient)

    def test_a_taken_slot_is_409_naming_the_clash_and_nothing_changes(
        self, cancelled, rita_receptionist, book, other_patient
    ):
        book(at(10, 15), patient=other_patient)
        with pytest.raises(DomainError) as refused:
            services.appointment_reinstate(actor=rita_receptionist, appointment=cancelled, version=2)
        assert refused.value.conflict
        assert refused.value.message == "Alice Archer is already booked Mon 7 Jan 2030 10:15\u201310:45 (Follow-up)."
        assert refused.value.errors == {"start": [refused.value.message]}
        stored = Appointment.objects.get(pk=cancelled.pk)
        assert (stored.status, stored.version, stored.cancellation_reason) == (
            AppointmentStatus.CANCELLED,
            2,
            "Patient unwell",
        )
        assert stored.changes.count() == 2

    def test_a_taken_room_is_409_naming_the_room(
        self, book, rita_receptionist, room_one, paul_practitioner, other_patient
    ):
        appointment = book(at(10), room=room_one)
        services.appointment_cancel(actor=rita_receptionist, appointment=appointment)
        book(at(10), practitioner=paul_practitioner, patient=other_patient, room=room_one)
        with pytest.raises(DomainError) as refused:
            services.appointment_reinstate(actor=rita_receptionist, appointment=appointment)
        assert refused.value.conflict
        assert refused.value.errors == {
            "room": ["Room 1 (Bath High Street) is already in use Mon 7 Jan 2030 10:00\u201310:30."]
        }

    def test_the_patients_own_overlap_is_a_warning_that_can_be_overridden(
        self, cancelled, rita_receptionist, book, paul_practitioner
    ):
        book(at(10), practitioner=paul_practitioner)
        with pytest.raises(DomainError) as warned:
            services.appointment_reinstate(actor=rita_receptionist, appointment=cancelled)
        assert warned.value.conflict
        assert "allow_patient_overlap" in warned.value.errors
        reinstated = services.appointment_reinstate(
            actor=rita_receptionist, appointment=cancelled, allow_patient_overlap=True
        )
        assert reinstated.status == AppointmentStatus.BOOKED

    def test_a_stale_version_is_409(self, cancelled, rita_receptionist):
        with pytest.raises(DomainError, match="changed by someone else") as refused:
            services.appointment_reinstate(actor=rita_receptionist, appointment=cancelled, version=1)
        assert refused.value.conflict
        assert Appointment.objects.get(pk=cancelled.pk).status == AppointmentStatus.CANCELLED

    def test_an_appointment_already_started_is_refused(self, book, rita_receptionist):
        past = book(at(10, day=PAST_MONDAY))
        services.appointment_cancel(actor=rita_receptionist, appointment=past)
        with pytest.raises(DomainError, match="time has already come") as refused:
            services.appointment_reinstate(actor=rita_receptionist, appointment=past, version=2)
        assert not refused.value.conflict
        assert Appointment.objects.get(pk=past.pk).status == AppointmentStatus.CANCELLED

    @pytest.mark.parametrize("status", ["booked", "arrived"])
    def test_only_a_cancelled_appointment_is_reinstated(self, book, rita_receptionist, status):
        appointment = book(at(10))
        if status == "arrived":
            services.appointment_set_status(actor=rita_receptionist, appointment=appointment, status=status)
        with pytest.raises(DomainError) as refused:
            services.appointment_reinstate(actor=rita_receptionist, appointment=appointment)
        assert not refused.value.conflict
        assert refused.value.message == f"Only a cancelled appointment can be reinstated; this one is {status}."
        assert refused.value.errors.keys() == {"status"}

    def test_outside_the_practitioners_hours_rita_is_refused_and_adam_may_override(
        self, cancelled, rita_receptionist, adam_admin, alice_practitioner, clinic_location
    ):
        # Alice's Monday now starts at 13:00.
        services.working_hours_set(
            practitioner=alice_practitioner,
            hours=[
                {
                    "weekday": 0,
                    "start_time": datetime.time(13),
                    "end_time": datetime.time(17),
                    "location": clinic_location,
                }
            ],
        )
        with pytest.raises(DomainError) as refused:
            services.appointment_reinstate(actor=rita_receptionist, appointment=cancelled, override_hours=True)
        assert not refused.value.conflict
        assert "outside" in refused.value.message and "An admin can override" in refused.value.message
        assert refused.value.errors.keys() == {"start"}

        with pytest.raises(DomainError) as asked:
            services.appointment_reinstate(actor=adam_admin, appointment=cancelled)
        assert asked.value.errors.keys() == {"override_hours"}
        reinstated = services.appointment_reinstate(actor=adam_admin, appointment=cancelled, override_hours=True)
        assert (reinstated.status, reinstated.updated_by) == (AppointmentStatus.BOOKED, adam_admin)

    def test_not_in_time_off(self, cancelled, rita_receptionist, alice_practitioner):
        TimeOffFactory(practitioner=alice_practitioner, start=at(9), end=at(12), reason="Training")
        with pytest.raises(DomainError, match="away then \\(Training"):
            services.appointment_reinstate(actor=rita_receptionist, appointment=cancelled)

    def test_not_for_a_service_no_longer_offered(self, cancelled, rita_receptionist, follow_up):
        follow_up.is_active = False
        follow_up.save(update_fields=["is_active"])
        with pytest.raises(DomainError, match="no longer offered"):
            services.appointment_reinstate(actor=rita_receptionist, appointment=cancelled)

    def test_not_with_a_practitioner_who_has_left(self, cancelled, rita_receptionist, alice_practitioner):
        alice_practitioner.is_active = False
        alice_practitioner.save(update_fields=["is_active"])
        with pytest.raises(ValidationError) as refused:
            services.appointment_reinstate(actor=rita_receptionist, appointment=cancelled)
        assert "practitioner" in refused.value.message_dict
        assert Appointment.objects.get(pk=cancelled.pk).status == AppointmentStatus.CANCELLED

    def test_cancelled_and_reinstated_again(self, cancelled, rita_receptionist):
        services.appointment_reinstate(actor=rita_receptionist, appointment=cancelled, version=2)
        services.appointment_cancel(actor=rita_receptionist, appointment=cancelled, reason="Again", version=3)
        again = services.appointment_reinstate(actor=rita_receptionist, appointment=cancelled, version=4)
        assert (again.status, again.version) == (AppointmentStatus.BOOKED, 5)
        assert [c.kind for c in again.changes.order_by("id")] == [
            "created",
            "cancelled",
            "reinstated",
            "cancelled",
            "reinstated",
        ]

    def test_the_status_route_still_treats_cancelled_as_final(self, cancelled, rita_receptionist):
        with pytest.raises(DomainError, match="A cancelled appointment cannot become booked"):
            services.appointment_set_status(actor=rita_receptionist, appointment=cancelled, status="booked")

    @postgres_only
    def test_a_booking_that_raced_past_the_check_is_caught_by_the_constraint(
        self, cancelled, rita_receptionist, book, other_patient, monkeypatch
    ):
        book(at(10), patient=other_patient)
        # As if the service's own check had been raced past: re-activating the row violates the
        # exclusion constraint, which becomes the same conflict.
        monkeypatch.setattr(services, "_clash_problems", lambda appointment, **kwargs: [])
        with pytest.raises(DomainError) as refused:
            services.appointment_reinstate(actor=rita_receptionist, appointment=cancelled, version=2)
        assert refused.value.conflict
        assert refused.value.errors.keys() == {"start"}
        assert "already booked at that time" in refused.value.message  # `_save`'s wording: the database said no
        assert Appointment.objects.get(pk=cancelled.pk).status == AppointmentStatus.CANCELLED


@pytest.mark.django_db(transaction=True)
class TestChangeRecordsShareTheTransaction:
    def test_a_rolled_back_booking_leaves_no_change_record(self, book):
        with pytest.raises(RuntimeError), transaction.atomic():
            book(at(10))
            assert AppointmentChange.objects.count() == 1
            raise RuntimeError("the caller's transaction fails after booking")
        assert Appointment.objects.count() == 0
        assert AppointmentChange.objects.count() == 0

    def test_a_refused_move_leaves_no_change_record(self, book, rita_receptionist, other_patient):
        book(at(10))
        second = book(at(11), patient=other_patient)
        with pytest.raises(DomainError):
            services.appointment_reschedule(actor=rita_receptionist, appointment=second, version=1, start=at(10))
        assert AppointmentChange.objects.filter(appointment=second).count() == 1


@postgres_only
class TestExclusionConstraints:
    def test_postgresql_itself_refuses_overlapping_rows(self, book, clinic, alice_practitioner):
        book(at(10))
        with pytest.raises(IntegrityError), transaction.atomic():
            AppointmentFactory(organisation=clinic, practitioner=alice_practitioner, start=at(10, 15))

    def test_cancelled_and_touching_rows_are_allowed_by_the_constraint(self, book, clinic, alice_practitioner):
        first = book(at(10))
        AppointmentFactory(organisation=clinic, practitioner=alice_practitioner, start=at(10, 30))
        Appointment.objects.filter(pk=first.pk).update(status=AppointmentStatus.CANCELLED)
        AppointmentFactory(organisation=clinic, practitioner=alice_practitioner, start=at(10))

    def test_the_constraint_violation_becomes_the_same_conflict(self, book, other_patient, room_one, monkeypatch):
        book(at(10), room=room_one)
        # As if the service's own check had been raced past: the database still says no.
        monkeypatch.setattr(services, "_clash_problems", lambda appointment, **kwargs: [])
        with pytest.raises(DomainError) as refused:
            book(at(10, 15), patient=other_patient)
        assert refused.value.conflict
        assert "already booked" in refused.value.message
        assert Appointment.objects.count() == 1

    def test_the_room_constraint_too(self, book, other_patient, room_one, paul_practitioner, monkeypatch):
        book(at(10), room=room_one)
        monkeypatch.setattr(services, "_clash_problems", lambda appointment, **kwargs: [])
        with pytest.raises(DomainError) as refused:
            book(at(10, 15), patient=other_patient, practitioner=paul_practitioner, room=room_one)
        assert refused.value.errors.keys() == {"room"}

    def test_working_hours_never_overlap_in_the_database(self, alice_practitioner, clinic_location):
        with pytest.raises(IntegrityError), transaction.atomic():
            WorkingHoursFactory(
                practitioner=alice_practitioner,
                location=clinic_location,
                weekday=0,
                start_time=datetime.time(16),
                end_time=datetime.time(18),
            )


class TestSetup:
    def test_working_hours_are_replaced_as_a_whole(self, alice_practitioner, clinic_location):
        rows = services.working_hours_set(
            practitioner=alice_practitioner,
            hours=[
                {
                    "weekday": 1,
                    "start_time": datetime.time(8),
                    "end_time": datetime.time(12),
                    "location": clinic_location,
                }
            ],
        )
        assert len(rows) == 1
        assert WorkingHours.objects.filter(practitioner=alice_practitioner).count() == 1

    def test_overlapping_hours_are_refused_and_nothing_changes(self, alice_practitioner, clinic_location):
        hours = [
            {"weekday": 1, "start_time": datetime.time(8), "end_time": datetime.time(12), "location": clinic_location},
            {"weekday": 1, "start_time": datetime.time(11), "end_time": datetime.time(15), "location": clinic_location},
        ]
        with pytest.raises(DomainError, match="overlaps"):
            services.working_hours_set(practitioner=alice_practitioner, hours=hours)
        assert WorkingHours.objects.filter(practitioner=alice_practitioner).count() == 5

    def test_a_service_colour_must_be_hex(self, clinic):
        with pytest.raises(ValidationError):
            services.service_create(organisation=clinic, name="Odd", duration_minutes=30, colour="red")
        assert services.service_create(
            organisation=clinic, name="Ok", duration_minutes=30, colour="#a1b2c3"
        ).colour == ("#A1B2C3")


class TestCareRelationship:
    def test_alice_cares_for_the_patient_she_has_an_appointment_with(self, book, alice_practitioner, patient):
        assert not has_care_relationship(alice_practitioner, patient)
        book(at(10))
        assert has_care_relationship(alice_practitioner, patient)

    def test_paul_does_not(self, book, paul_practitioner, patient):
        book(at(10))
        assert not has_care_relationship(paul_practitioner, patient)

    def test_a_cancelled_appointment_does_not_count(self, book, alice_practitioner, patient, rita_receptionist):
        services.appointment_cancel(actor=rita_receptionist, appointment=book(at(10)))
        assert not has_care_relationship(alice_practitioner, patient)

    def test_an_appointment_long_ago_does_not_count(self, clinic, alice_practitioner, patient, settings):
        settings.CARE_RELATIONSHIP_APPOINTMENT_MONTHS = 24
        AppointmentFactory(
            organisation=clinic,
            practitioner=alice_practitioner,
            patient=patient,
            start=at(10, day=datetime.date(2020, 1, 6)),
        )
        assert not has_care_relationship(alice_practitioner, patient)
        AppointmentFactory(
            organisation=clinic, practitioner=alice_practitioner, patient=patient, start=at(10, day=PAST_MONDAY)
        )
        assert has_care_relationship(alice_practitioner, patient)


class TestChangeListeners:
    """`diary.change_listeners`: how the integrations outbox hears of changes, in the same transaction."""

    def test_listeners_hear_each_change_in_its_transaction(self, book, rita_receptionist):
        from diary import change_listeners

        heard = []

        def listener(change):
            heard.append((change.kind, change.version, Appointment.objects.filter(pk=change.appointment_id).exists()))

        change_listeners.register(listener)
        try:
            appointment = book(at(10))
            services.appointment_cancel(actor=rita_receptionist, appointment=appointment)
        finally:
            change_listeners.unregister(listener)
        assert heard == [(ChangeKind.CREATED, 1, True), (ChangeKind.CANCELLED, 2, True)]

    def test_a_failing_listener_undoes_the_change(self, book):
        from diary import change_listeners

        def explode(change):
            assert AppointmentChange.objects.filter(pk=change.pk).exists()  # written, not yet committed
            raise RuntimeError("outbox unavailable")

        change_listeners.register(explode)
        try:
            with pytest.raises(RuntimeError):
                book(at(10))
        finally:
            change_listeners.unregister(explode)
        assert not Appointment.objects.exists()
        assert not AppointmentChange.objects.exists()
