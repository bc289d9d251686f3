"""Recurring appointments: the whole series is checked first; nothing is booked unless the
user accepts skipping the clashing dates; one occurrence or this-and-following change."""

import datetime

import pytest

from core.exceptions import DomainError
from diary import services
from diary.choices import AppointmentStatus
from diary.models import Appointment, AppointmentSeries
from diary.recurrence import Recurrence
from tests.diary.conftest import at


@pytest.fixture(autouse=True)
def _hours(alice_hours, paul_hours):
    pass


@pytest.fixture
def series_args(rita_receptionist, patient, alice_practitioner, follow_up, clinic_location):
    return {
        "actor": rita_receptionist,
        "patient": patient,
        "practitioner": alice_practitioner,
        "service": follow_up,
        "location": clinic_location,
        "first_start": at(10),
    }


def mondays(count, start=datetime.date(2030, 1, 7), every=1):
    return [at(10, day=start + datetime.timedelta(weeks=every * n)) for n in range(count)]


class TestRecurrence:
    def test_every_week_for_six_weeks(self):
        assert Recurrence(count=6).starts(at(10)) == mondays(6)
        assert Recurrence(count=6).rrule_text() == "FREQ=WEEKLY;INTERVAL=1;COUNT=6"

    def test_every_two_weeks_until_a_date(self):
        recurrence = Recurrence(interval_weeks=2, until=datetime.date(2030, 3, 4))
        assert recurrence.starts(at(10)) == mondays(5, every=2)
        assert recurrence.rrule_text() == "FREQ=WEEKLY;INTERVAL=2;UNTIL=20300304T235959"

    def test_the_same_wall_clock_time_across_the_clocks_changing(self):
        starts = Recurrence(count=3).starts(at(10, day=datetime.date(2027, 3, 22)))
        assert [s.astimezone(datetime.UTC).hour for s in starts] == [10, 9, 9]  # GMT, then BST

    @pytest.mark.parametrize(
        "kwargs",
        [
            {},
            {"count": 1},
            {"count": 53},
            {"count": 3, "until": datetime.date(2030, 2, 1)},
            {"count": 3, "interval_weeks": 0},
        ],
    )
    def test_nonsense_is_refused(self, kwargs):
        with pytest.raises(ValueError):
            Recurrence(**kwargs)


class TestBookingASeries:
    def test_a_clear_series_is_booked_whole(self, series_args):
        series, booked, skipped = services.series_book(recurrence=Recurrence(count=4), **series_args)
        assert [a.start for a in booked] == mondays(4)
        assert skipped == []
        assert all(a.series == series for a in booked)
        assert all(a.changes.count() == 1 for a in booked)

    def test_conflicts_are_listed_per_occurrence_and_nothing_is_booked(self, series_args, book, other_patient):
        book(at(10, day=datetime.date(2030, 1, 21)), patient=other_patient)
        plan = services.series_plan(recurrence=Recurrence(count=4), **series_args)
        assert [bool(o.problem) for o in plan] == [False, False, True, False]
        assert "already booked" in plan[2].problem
        with pytest.raises(DomainError) as refused:
            services.series_book(recurrence=Recurrence(count=4), **series_args)
        assert refused.value.conflict
        assert len(refused.value.errors["occurrences"]) == 1
        assert "21 Jan 2030" in refused.value.errors["occurrences"][0]
        assert AppointmentSeries.objects.count() == 0
        assert Appointment.objects.count() == 1

    def test_accepting_to_skip_books_the_others(self, series_args, book, other_patient):
        clash = at(10, day=datetime.date(2030, 1, 21))
        book(clash, patient=other_patient)
        _, booked, skipped = services.series_book(recurrence=Recurrence(count=4), skip=[clash], **series_args)
        assert [a.start for a in booked] == [s for s in mondays(4) if s != clash]
        assert [o.start for o in skipped] == [clash]

    def test_a_new_clash_since_the_plan_is_not_silently_skipped(self, series_args, book, other_patient):
        first_clash = at(10, day=datetime.date(2030, 1, 21))
        book(first_clash, patient=other_patient)
        book(at(10, day=datetime.date(2030, 1, 28)), patient=other_patient)  # booked by someone meanwhile
        with pytest.raises(DomainError):
            services.series_book(recurrence=Recurrence(count=4), skip=[first_clash], **series_args)
        assert Appointment.objects.filter(patient=series_args["patient"]).count() == 0

    def test_an_occurrence_outside_hours_is_a_problem_too(self, series_args, alice_practitioner):
        alice_practitioner.working_hours.filter(weekday=0).update(end_time=datetime.time(9, 30))
        plan = services.series_plan(recurrence=Recurrence(count=2), **series_args)
        assert all("outside" in o.problem for o in plan)


class TestChangingASeries:
    @pytest.fixture
    def series(self, series_args):
        _, booked, _ = services.series_book(recurrence=Recurrence(count=5), **series_args)
        return booked

    def test_cancel_one_occurrence(self, series, rita_receptionist):
        services.appointment_cancel(actor=rita_receptionist, appointment=series[1], version=1)
        statuses = [a.status for a in Appointment.objects.order_by("start")]
        assert statuses.count(AppointmentStatus.CANCELLED) == 1

    def test_cancel_this_and_following(self, series, rita_receptionist):
        cancelled = services.series_cancel_from(actor=rita_receptionist, appointment=series[2], reason="Moving away")
        assert [a.start for a in cancelled] == [a.start for a in series[2:]]
        assert list(Appointment.objects.order_by("start").values_list("status", flat=True)) == [
            "booked",
            "booked",
            "cancelled",
            "cancelled",
            "cancelled",
        ]
        rule = AppointmentSeries.objects.get().rrule
        assert "COUNT" not in rule and "UNTIL=20300121T095959" in rule

    def test_cancel_this_and_following_refuses_from_an_arrived_occurrence(self, series, rita_receptionist):
        Appointment.objects.filter(pk=series[2].pk).update(status=AppointmentStatus.ARRIVED)
        with pytest.raises(DomainError) as refused:
            services.series_cancel_from(actor=rita_receptionist, appointment=series[2], reason="Moving away")
        assert "cancel this appointment on its own" in refused.value.message
        assert not Appointment.objects.filter(status=AppointmentStatus.CANCELLED).exists()

    def test_move_this_and_following_to_tuesdays_at_eleven(self, series, rita_receptionist):
        tuesday = at(11, day=datetime.date(2030, 1, 22))
        moved = services.series_reschedule_from(
            actor=rita_receptionist, appointment=series[2], version=1, start=tuesday
        )
        assert [a.start for a in moved] == [
            at(11, day=datetime.date(2030, 1, 22) + datetime.timedelta(weeks=n)) for n in range(3)
        ]
        assert Appointment.objects.get(pk=series[0].pk).start == at(10)

    def test_a_series_move_is_all_or_nothing(self, series, rita_receptionist, book, other_patient):
        book(at(11, day=datetime.date(2030, 2, 5)), patient=other_patient)
        with pytest.raises(DomainError) as refused:
            services.series_reschedule_from(
                actor=rita_receptionist, appointment=series[2], version=1, start=at(11, day=datetime.date(2030, 1, 22))
            )
        assert "none was changed" in refused.value.message
        assert [a.start for a in Appointment.objects.filter(series__isnull=False).order_by("start")] == mondays(5)

    def test_reassign_this_and_following(self, series, rita_receptionist, paul_practitioner):
        services.series_reschedule_from(
            actor=rita_receptionist, appointment=series[3], version=1, practitioner=paul_practitioner
        )
        practitioners = list(Appointment.objects.order_by("start").values_list("practitioner__given_name", flat=True))
        assert practitioners == ["Alice", "Alice", "Alice", "Paul", "Paul"]
