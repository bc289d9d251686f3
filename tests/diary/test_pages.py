"""The diary pages: day and week views, booking, details and actions, dragging, finding a slot."""

import re

import pytest

from diary.choices import AppointmentStatus
from diary.models import Appointment, AppointmentSeries
from tests.diary.conftest import DAY, at
from tests.diary.factories import ServiceFactory, TimeOffFactory
from tests.factories import LocationFactory
from tests.patients.factories import PatientFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _hours(alice_hours, paul_hours):
    pass


@pytest.fixture
def rita(client_for, rita_receptionist):
    return client_for(rita_receptionist)


@pytest.fixture
def form(patient, alice_practitioner, follow_up, clinic_location):
    def make(time="10:00", **overrides):
        data = {
            "patient": patient.pk,
            "practitioner": alice_practitioner.pk,
            "service": follow_up.pk,
            "location": clinic_location.pk,
            "date": DAY.isoformat(),
            "time": time,
        }
        data.update(overrides)
        return data

    return make


def page(response) -> str:
    assert response.status_code < 500
    return response.content.decode()


class TestStrictContentSecurityPolicy:
    def test_no_inline_script_or_style_anywhere_in_the_diary(self, rita, book, follow_up):
        appointment = book(at(10))
        for url in (
            "/diary/",
            "/diary/week/",
            f"/diary/find/?service={follow_up.pk}&from_date=2030-01-07",
            "/diary/book/",
            f"/diary/appointments/{appointment.pk}/",
            f"/diary/appointments/{appointment.pk}/reschedule/",
        ):
            html = page(rita.get(url, {"date": DAY.isoformat()} if url in ("/diary/", "/diary/week/") else None))
            assert " style=" not in html, url
            assert "<style" not in html, url
            for script in re.findall(r"<script[^>]*>", html):
                assert "src=" in script, (url, script)


class TestDayView:
    def test_one_column_per_practitioner_with_blocks_and_shading(self, rita, book, initial_assessment):
        book(at(10), service=initial_assessment, notes="Ground floor please")
        html = page(rita.get("/diary/", {"date": DAY.isoformat()}))
        assert re.findall(r'<th scope="col" data-col="\d"', html) == [
            '<th scope="col" data-col="0"',
            '<th scope="col" data-col="1"',
        ]
        assert "Alice" in html and "Paul" in html
        assert "10:00\u201311:00" in html and "John Smith" in html and "Initial assessment" in html and "Booked" in html
        assert 'data-colour="#C62828"' in html
        # 10:00-11:00 in 15-minute rows: one cell spanning four rows.
        assert 'class="busy" rowspan="4" data-col="0"' in html
        assert 'class="slot out" data-col="0"' in html  # 08:00, before Alice starts
        assert 'class="slot in" data-col="1"' in html

    def test_time_off_is_shown(self, rita, alice_practitioner):
        TimeOffFactory(practitioner=alice_practitioner, start=at(12), end=at(13), reason="Lunch")
        assert 'class="slot off" data-col="0"' in page(rita.get("/diary/", {"date": DAY.isoformat()}))

    def test_cancelled_appointments_leave_the_grid_for_the_list_beside_it(self, rita, book, rita_receptionist):
        from diary.services import appointment_cancel

        cancelled = appointment_cancel(actor=rita_receptionist, appointment=book(at(10)))
        html = page(rita.get("/diary/", {"date": DAY.isoformat()}))
        grid, _, listed = html.partition('<details class="diary-cancelled">')
        assert "John Smith" not in grid and 'rowspan="2" data-col="0"' not in grid  # the slot is free
        assert "Cancelled this day (1)" in listed
        assert "10:00\u201310:30 John Smith</a>, Follow-up with Alice" in listed
        assert f'hx-get="/diary/appointments/{cancelled.pk}/"' in listed  # its details, to reinstate

    def test_the_cancelled_list_follows_the_location_filter_and_reinstatement(
        self, rita, book, clinic, rita_receptionist
    ):
        from diary.services import appointment_cancel, appointment_reinstate

        cancelled = appointment_cancel(actor=rita_receptionist, appointment=book(at(10)))
        elsewhere = LocationFactory(organisation=clinic, name="Keynsham")
        assert "diary-cancelled" not in page(rita.get("/diary/", {"date": DAY.isoformat(), "location": elsewhere.pk}))
        assert "diary-cancelled" in page(rita.get("/diary/", {"date": DAY.isoformat()}))

        appointment_reinstate(actor=rita_receptionist, appointment=cancelled, version=cancelled.version)
        html = page(rita.get("/diary/", {"date": DAY.isoformat()}))
        assert "diary-cancelled" not in html and "John Smith" in html

    def test_slot_size_changes_the_rows(self, rita, book):
        book(at(10))
        html = page(rita.get("/diary/", {"date": DAY.isoformat(), "slot": 5}))
        assert 'class="busy" rowspan="6"' in html
        assert "10:05" in html

    def test_filter_by_location(self, rita, book, clinic, paul_practitioner):
        annex = LocationFactory(organisation=clinic, name="Annex")
        paul_practitioner.working_hours.update(location=annex)
        html = page(rita.get("/diary/", {"date": DAY.isoformat(), "location": annex.pk}))
        assert "Paul" in html and "Alice" not in html

    def test_navigation(self, rita):
        html = page(rita.get("/diary/", {"date": DAY.isoformat()}))
        assert "date=2030-01-06" in html and "date=2030-01-08" in html and "Today" in html

    def test_bad_parameters_fall_back_to_today(self, rita):
        assert rita.get("/diary/", {"date": "tomorrowish", "slot": "7"}).status_code == 200

    def test_htmx_refresh_returns_just_the_grid(self, rita, book):
        book(at(10))
        html = page(rita.get("/diary/", {"date": DAY.isoformat()}, HTTP_HX_TARGET="diary-grid", **HTMX))
        assert html.startswith('<div id="diary-grid"') and "<html" not in html

    def test_the_now_line_marks_the_current_row(self, rita, alice_practitioner):
        from django.utils import timezone

        html = page(rita.get("/diary/", {"date": timezone.localdate().isoformat(), "slot": 60}))
        now = timezone.localtime()
        if 8 <= now.hour < 18:
            assert 'class="hour now"' in html

    def test_olga_sees_none_of_our_diary(self, client_for, olga_other, book):
        book(at(10))
        html = page(client_for(olga_other).get("/diary/", {"date": DAY.isoformat()}))
        assert "John Smith" not in html and "Alice" not in html


class TestWeekView:
    def test_a_practitioners_week(self, rita, book, alice_practitioner, other_patient):
        book(at(10))
        book(at(11, day=DAY.replace(day=9)), patient=other_patient)
        html = page(rita.get("/diary/week/", {"date": "2030-01-09", "practitioner": alice_practitioner.pk}))
        assert len(re.findall(r'<th scope="col" data-col="\d"', html)) == 7
        assert "Mon 7 Jan" in html and "Sun 13 Jan" in html
        assert "10:00\u201310:30" in html and "11:00\u201311:30" in html and "Mary Jones" in html

    def test_a_practitioners_cancelled_appointments_are_listed_under_the_week(
        self, rita, book, alice_practitioner, paul_practitioner, other_patient, rita_receptionist
    ):
        from diary.services import appointment_cancel

        appointment_cancel(actor=rita_receptionist, appointment=book(at(10)))
        appointment_cancel(
            actor=rita_receptionist, appointment=book(at(11), practitioner=paul_practitioner, patient=other_patient)
        )
        html = page(rita.get("/diary/week/", {"date": DAY.isoformat(), "practitioner": alice_practitioner.pk}))
        assert "Cancelled this week (1)" in html
        assert "Mon 7 Jan 10:00\u201310:30 John Smith" in html
        assert "Mary Jones" not in html  # Paul's

    def test_defaults_to_the_signed_in_practitioner(self, client_for, alice_practitioner, paul_practitioner):
        html = page(client_for(paul_practitioner).get("/diary/week/"))
        assert "<h1>Paul" in html
        assert f'<option value="{paul_practitioner.pk}" selected>' in html

    def test_rita_sees_the_first_practitioners_week(self, rita, alice_practitioner, paul_practitioner):
        html = page(rita.get("/diary/week/"))
        assert "<h1>Alice" in html
        assert f'<option value="{alice_practitioner.pk}" selected>' in html


class TestBooking:
    def test_the_form_is_prefilled_from_the_slot(self, rita, alice_practitioner):
        html = page(
            rita.get(
                "/diary/book/", {"practitioner": alice_practitioner.pk, "start": "2030-01-07T10:15:00+00:00"}, **HTMX
            )
        )
        assert 'value="10:15"' in html and 'value="2030-01-07"' in html
        assert f'<option value="{alice_practitioner.pk}" selected>' in html

    def test_book_without_javascript_redirects_to_the_day(self, rita, form):
        response = rita.post("/diary/book/", form())
        assert response.status_code == 302
        assert response["Location"].endswith("date=2030-01-07")
        assert Appointment.objects.get().start == at(10)

    def test_book_with_htmx_shows_the_appointment_and_refreshes_the_grid(self, rita, form):
        response = rita.post("/diary/book/", form(), **HTMX)
        assert response.status_code == 201
        assert response["HX-Trigger"] == "diary-changed"
        assert "Booked Mon 7 Jan 2030 10:00\u201310:30" in page(response)

    def test_a_clash_is_refused_with_the_reason(self, rita, form, book, other_patient):
        book(at(10), patient=other_patient)
        response = rita.post("/diary/book/", form(time="10:15"), **HTMX)
        assert response.status_code == 409
        assert "is already booked" in page(response)
        assert Appointment.objects.count() == 1

    def test_a_patient_overlap_asks_then_books(self, rita, form, book, paul_practitioner):
        book(at(10))
        warned = rita.post("/diary/book/", form(practitioner=paul_practitioner.pk), **HTMX)
        assert warned.status_code == 409
        assert 'name="allow_patient_overlap"' in page(warned)
        confirmed = rita.post(
            "/diary/book/", form(practitioner=paul_practitioner.pk, allow_patient_overlap="on"), **HTMX
        )
        assert confirmed.status_code == 201

    def test_only_admins_see_the_hours_override(self, rita, client_for, adam_admin, form):
        assert 'name="override_hours"' not in page(rita.get("/diary/book/"))
        assert 'name="override_hours"' in page(client_for(adam_admin).get("/diary/book/"))
        assert rita.post("/diary/book/", form(time="18:00", override_hours="on")).status_code == 400
        assert client_for(adam_admin).post("/diary/book/", form(time="18:00", override_hours="on")).status_code == 302

    def test_input_errors_are_400(self, rita, form):
        assert rita.post("/diary/book/", form(time="10:00", end_time="09:00")).status_code == 400
        assert rita.post("/diary/book/", form(patient="")).status_code == 400
        assert not Appointment.objects.exists()

    def test_another_clinics_patient_cannot_be_chosen(self, rita, form, other_clinic):
        foreign = PatientFactory(organisation=other_clinic)
        assert rita.post("/diary/book/", form(patient=foreign.pk)).status_code == 400

    def test_patient_search_offers_our_patients_only(self, rita, patient, other_clinic):
        PatientFactory(organisation=other_clinic, given_name="John", family_name="Smithers FOREIGN-CANARY")
        html = page(rita.get("/diary/book/patients/", {"patient_search": "Smith"}))
        assert f'<option value="{patient.pk}">John Smith' in html
        assert "FOREIGN-CANARY" not in html

    def test_a_series_with_a_clash_lists_it_and_books_nothing_until_accepted(self, rita, form, book, other_patient):
        book(at(10, day=DAY.replace(day=21)), patient=other_patient)
        weekly = form(repeat_every=1, repeat_count=4)
        listed = rita.post("/diary/book/", weekly, **HTMX)
        assert listed.status_code == 409
        html = page(listed)
        assert "1 of the 4 dates cannot be booked" in html
        assert 'name="skip" value="2030-01-21T10:00:00+00:00" checked' in html
        assert not AppointmentSeries.objects.exists()
        accepted = rita.post("/diary/book/", {**weekly, "skip": "2030-01-21T10:00:00+00:00"}, **HTMX)
        assert accepted.status_code == 201
        assert "Booked 3 appointments, skipped 1." in page(accepted)

    def test_a_clear_series_books_at_once(self, rita, form):
        response = rita.post("/diary/book/", form(repeat_every=2, repeat_until="2030-02-04"))
        assert response.status_code == 302
        assert Appointment.objects.filter(series__isnull=False).count() == 3


class TestOneAppointment:
    @pytest.fixture
    def past(self, book):
        from tests.diary.test_services import PAST_MONDAY

        return book(at(10, day=PAST_MONDAY))

    def test_details_and_actions(self, rita, book):
        appointment = book(at(10), notes="Bring the brace")
        html = page(rita.get(f"/diary/appointments/{appointment.pk}/", **HTMX))
        assert "John Smith" in html and "Bring the brace" in html and "Alice" in html
        assert ">Arrived</button>" in html
        assert "Did not attend" not in html  # not before the start
        assert "Cancel appointment" in html and "Reschedule" in html

    def test_arrive_then_complete(self, rita, past):
        response = rita.post(f"/diary/appointments/{past.pk}/status/", {"status": "arrived", "version": 1}, **HTMX)
        assert response.status_code == 200 and response["HX-Trigger"] == "diary-changed"
        assert ">Completed</button>" in page(response)
        rita.post(f"/diary/appointments/{past.pk}/status/", {"status": "completed", "version": 2}, **HTMX)
        assert Appointment.objects.get().status == AppointmentStatus.COMPLETED

    def test_did_not_attend(self, rita, past):
        response = rita.post(f"/diary/appointments/{past.pk}/status/", {"status": "did_not_attend", "version": 1})
        assert response.status_code == 302
        assert Appointment.objects.get().status == AppointmentStatus.DID_NOT_ATTEND

    def test_a_stale_action_says_so(self, rita, book):
        appointment = book(at(10))
        response = rita.post(
            f"/diary/appointments/{appointment.pk}/status/", {"status": "arrived", "version": 7}, **HTMX
        )
        assert response.status_code == 409
        assert "changed by someone else" in page(response)

    def test_cancel(self, rita, book):
        appointment = book(at(10))
        response = rita.post(
            f"/diary/appointments/{appointment.pk}/cancel/", {"reason": "Car broke down", "version": 1}, **HTMX
        )
        assert response.status_code == 200
        assert "Cancelled" in page(response)
        assert Appointment.objects.get().cancellation_reason == "Car broke down"

    def test_cancel_this_and_following(self, rita, form):
        rita.post("/diary/book/", form(repeat_every=1, repeat_count=4))
        third = Appointment.objects.order_by("start")[2]
        rita.post(f"/diary/appointments/{third.pk}/cancel/", {"version": 1, "scope": "following"})
        assert list(Appointment.objects.order_by("start").values_list("status", flat=True)) == [
            "booked",
            "booked",
            "cancelled",
            "cancelled",
        ]

    def test_an_arrived_appointment_offers_undo_arrival_and_cancel(self, rita, book, rita_receptionist):
        from diary import services

        appointment = book(at(10))
        services.appointment_set_status(actor=rita_receptionist, appointment=appointment, status="arrived")
        html = page(rita.get(f"/diary/appointments/{appointment.pk}/", **HTMX))
        assert ">Undo arrival</button>" in html and 'name="status" value="booked"' in html
        assert "Cancel appointment" in html and "Reason for cancelling" in html
        assert ">Arrived</button>" not in html and ">Completed</button>" not in html  # not before the start

    def test_undo_arrival(self, rita, book):
        appointment = book(at(10))
        rita.post(f"/diary/appointments/{appointment.pk}/status/", {"status": "arrived", "version": 1}, **HTMX)
        response = rita.post(
            f"/diary/appointments/{appointment.pk}/status/", {"status": "booked", "version": 2}, **HTMX
        )
        assert response.status_code == 200 and response["HX-Trigger"] == "diary-changed"
        html = page(response)
        assert "Arrival undone" in html and ">Arrived</button>" in html and "Undo arrival" not in html
        assert (Appointment.objects.get().status, Appointment.objects.get().version) == (AppointmentStatus.BOOKED, 3)

    def test_undo_arrival_of_a_completed_appointment_is_refused(self, rita, past, rita_receptionist):
        from diary import services

        services.appointment_set_status(actor=rita_receptionist, appointment=past, status="arrived")
        services.appointment_set_status(actor=rita_receptionist, appointment=past, status="completed")
        response = rita.post(f"/diary/appointments/{past.pk}/status/", {"status": "booked", "version": 3}, **HTMX)
        assert response.status_code == 400
        assert "A completed appointment cannot become booked." in page(response)
        assert "Undo arrival" not in page(response)
        assert Appointment.objects.get().status == AppointmentStatus.COMPLETED

    def test_cancel_after_arrival_frees_the_slot(self, rita, book, rita_receptionist, other_patient):
        from diary import services

        appointment = book(at(10))
        services.appointment_set_status(actor=rita_receptionist, appointment=appointment, status="arrived")
        response = rita.post(
            f"/diary/appointments/{appointment.pk}/cancel/", {"reason": "Alice is unwell", "version": 2}, **HTMX
        )
        assert response.status_code == 200 and "Cancelled" in page(response)
        cancelled = Appointment.objects.get()
        assert (cancelled.status, cancelled.cancellation_reason) == (AppointmentStatus.CANCELLED, "Alice is unwell")
        assert book(at(10), patient=other_patient).start == at(10)

    def test_an_arrived_occurrence_is_cancelled_on_its_own(self, rita, form, rita_receptionist):
        from diary import services

        rita.post("/diary/book/", form(repeat_every=1, repeat_count=3))
        second = Appointment.objects.order_by("start")[1]
        services.appointment_set_status(actor=rita_receptionist, appointment=second, status="arrived")
        assert "This and all following" not in page(rita.get(f"/diary/appointments/{second.pk}/", **HTMX))

        refused = rita.post(f"/diary/appointments/{second.pk}/cancel/", {"version": 2, "scope": "following"}, **HTMX)
        assert refused.status_code == 400 and "cancel this appointment on its own" in page(refused)
        assert list(Appointment.objects.order_by("start").values_list("status", flat=True)) == [
            "booked",
            "arrived",
            "booked",
        ]

    def test_reschedule_form(self, rita, book, paul_practitioner):
        appointment = book(at(10))
        html = page(rita.get(f"/diary/appointments/{appointment.pk}/reschedule/", **HTMX))
        assert 'value="10:00"' in html and 'name="version" value="1"' in html
        response = rita.post(
            f"/diary/appointments/{appointment.pk}/reschedule/",
            {
                "version": 1,
                "date": "2030-01-08",
                "time": "14:00",
                "practitioner": paul_practitioner.pk,
                "location": appointment.location_id,
            },
            **HTMX,
        )
        assert response.status_code == 200, page(response)
        moved = Appointment.objects.get()
        assert (moved.start, moved.end, moved.practitioner) == (
            at(14, day=DAY.replace(day=8)),
            at(14, 30, day=DAY.replace(day=8)),
            paul_practitioner,
        )

    def test_reschedule_into_a_clash_is_refused(self, rita, book, other_patient):
        book(at(10), patient=other_patient)
        appointment = book(at(11))
        response = rita.post(
            f"/diary/appointments/{appointment.pk}/reschedule/",
            {
                "version": 1,
                "date": "2030-01-07",
                "time": "10:15",
                "practitioner": appointment.practitioner_id,
                "location": appointment.location_id,
            },
            **HTMX,
        )
        assert response.status_code == 409
        assert "already booked" in page(response)

    def test_olga_cannot_touch_it(self, client_for, olga_other, book):
        appointment = book(at(10))
        client = client_for(olga_other)
        assert client.get(f"/diary/appointments/{appointment.pk}/").status_code == 404
        assert client.post(f"/diary/appointments/{appointment.pk}/cancel/", {"version": 1}).status_code == 404
        assert Appointment.objects.get().status == AppointmentStatus.BOOKED


class TestReinstating:
    @pytest.fixture
    def cancelled(self, book, rita_receptionist):
        from diary import services

        appointment = book(at(10))
        return services.appointment_cancel(
            actor=rita_receptionist, appointment=appointment, reason="Car broke down", version=1
        )

    @staticmethod
    def url(appointment) -> str:
        return f"/diary/appointments/{appointment.pk}/reinstate/"

    def test_a_cancelled_future_appointment_offers_reinstate_with_its_version(self, rita, cancelled):
        html = page(rita.get(f"/diary/appointments/{cancelled.pk}/", **HTMX))
        assert "Cancelled: Car broke down" in html
        form = re.search(r'<form[^>]*class="reinstate-form".*?</form>', html, re.S).group(0)
        assert f'action="{self.url(cancelled)}"' in form and 'method="post"' in form
        assert 'name="csrfmiddlewaretoken"' in form
        assert 'name="version" value="2"' in form
        assert ">Reinstate</button>" in form
        assert "Cancel appointment" not in html and ">Arrived</button>" not in html

    def test_offered_right_after_a_cancel_to_undo_a_mistake(self, rita, book):
        appointment = book(at(11))
        response = rita.post(f"/diary/appointments/{appointment.pk}/cancel/", {"version": 1}, **HTMX)
        assert "Cancelled. The slot is free again." in page(response) and ">Reinstate</button>" in page(response)

    def test_not_offered_for_a_booked_or_a_past_appointment(self, rita, book, rita_receptionist):
        from diary import services
        from tests.diary.test_services import PAST_MONDAY

        assert ">Reinstate</button>" not in page(rita.get(f"/diary/appointments/{book(at(11)).pk}/", **HTMX))
        past = services.appointment_cancel(actor=rita_receptionist, appointment=book(at(10, day=PAST_MONDAY)))
        assert ">Reinstate</button>" not in page(rita.get(f"/diary/appointments/{past.pk}/", **HTMX))

    def test_reinstate_books_it_again_and_refreshes_the_diary(self, rita, cancelled):
        response = rita.post(self.url(cancelled), {"version": 2}, **HTMX)
        assert response.status_code == 200 and response["HX-Trigger"] == "diary-changed"
        html = page(response)
        assert "Reinstated: the appointment is booked again." in html
        assert "Cancel appointment" in html and ">Reinstate</button>" not in html
        stored = Appointment.objects.get()
        assert (stored.status, stored.version, stored.cancellation_reason) == (AppointmentStatus.BOOKED, 3, "")

    def test_without_javascript_it_redirects_to_the_day(self, rita, cancelled):
        response = rita.post(self.url(cancelled), {"version": 2})
        assert response.status_code == 302 and "date=2030-01-07" in response["Location"]
        assert Appointment.objects.get().status == AppointmentStatus.BOOKED

    def test_practitioners_and_admins_may_reinstate_too(self, client_for, alice_practitioner, adam_admin, cancelled):
        from diary import services

        assert client_for(alice_practitioner).post(self.url(cancelled), {"version": 2}).status_code == 302
        services.appointment_cancel(actor=adam_admin, appointment=cancelled)
        assert client_for(adam_admin).post(self.url(cancelled), {"version": 4}).status_code == 302
        assert Appointment.objects.get().version == 5

    def test_a_taken_slot_is_refused_with_the_reason(self, rita, cancelled, book, other_patient):
        book(at(10), patient=other_patient)
        response = rita.post(self.url(cancelled), {"version": 2}, **HTMX)
        assert response.status_code == 409
        html = page(response)
        assert "Alice Archer is already booked Mon 7 Jan 2030 10:00\u201310:30 (Follow-up)." in html
        assert ">Reinstate</button>" in html  # still offered, in case the other booking moves
        assert Appointment.objects.get(pk=cancelled.pk).status == AppointmentStatus.CANCELLED

    def test_a_stale_reinstate_says_so(self, rita, cancelled):
        response = rita.post(self.url(cancelled), {"version": 1}, **HTMX)
        assert response.status_code == 409
        assert "changed by someone else" in page(response)

    def test_a_patient_overlap_asks_then_reinstates(self, rita, cancelled, book, paul_practitioner):
        book(at(10), practitioner=paul_practitioner)
        warned = rita.post(self.url(cancelled), {"version": 2}, **HTMX)
        assert warned.status_code == 409
        html = page(warned)
        assert "The patient already has an appointment" in html
        assert 'name="allow_patient_overlap"' in html and 'name="override_hours"' not in html
        confirmed = rita.post(self.url(cancelled), {"version": 2, "allow_patient_overlap": "on"}, **HTMX)
        assert confirmed.status_code == 200
        assert Appointment.objects.get(pk=cancelled.pk).status == AppointmentStatus.BOOKED

    def test_outside_hours_rita_is_refused_and_adam_confirms_the_override(
        self, rita, client_for, adam_admin, cancelled, alice_practitioner, clinic_location
    ):
        from diary import services

        services.working_hours_set(
            practitioner=alice_practitioner,
            hours=[{"weekday": 0, "start_time": "13:00", "end_time": "17:00", "location": clinic_location}],
        )
        refused = rita.post(self.url(cancelled), {"version": 2, "override_hours": "on"}, **HTMX)
        assert refused.status_code == 400
        assert "An admin can override this." in page(refused)
        assert 'name="override_hours"' not in page(refused)

        adam = client_for(adam_admin)
        asked = adam.post(self.url(cancelled), {"version": 2}, **HTMX)
        assert asked.status_code == 400
        assert "Override only if intended." in page(asked) and 'name="override_hours"' in page(asked)
        confirmed = adam.post(self.url(cancelled), {"version": 2, "override_hours": "on"}, **HTMX)
        assert confirmed.status_code == 200
        assert Appointment.objects.get(pk=cancelled.pk).status == AppointmentStatus.BOOKED

    def test_not_with_a_practitioner_who_has_left(self, rita, cancelled, alice_practitioner):
        alice_practitioner.is_active = False
        alice_practitioner.save(update_fields=["is_active"])
        response = rita.post(self.url(cancelled), {"version": 2}, **HTMX)
        assert response.status_code == 400
        assert "Choose an active practitioner of this organisation." in page(response)
        assert Appointment.objects.get().status == AppointmentStatus.CANCELLED

    def test_nonsense_is_400(self, rita, cancelled):
        assert rita.post(self.url(cancelled), {"version": "x"}, **HTMX).status_code == 400
        assert Appointment.objects.get().status == AppointmentStatus.CANCELLED

    def test_it_needs_the_csrf_token(self, cancelled, rita_receptionist):
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        strict.force_login(rita_receptionist)
        assert strict.post(self.url(cancelled), {"version": 2}).status_code == 403
        assert Appointment.objects.get().status == AppointmentStatus.CANCELLED

    def test_olga_cannot_reinstate_it(self, client_for, olga_other, cancelled):
        assert client_for(olga_other).post(self.url(cancelled), {"version": 2}).status_code == 404
        assert Appointment.objects.get().status == AppointmentStatus.CANCELLED


class TestDragging:
    def test_a_drag_moves_it(self, rita, book, paul_practitioner):
        appointment = book(at(10))
        response = rita.post(
            f"/diary/appointments/{appointment.pk}/move/",
            {"version": 1, "start": "2030-01-07T11:00:00+00:00", "practitioner": paul_practitioner.pk},
        )
        assert response.status_code == 200
        assert response.json()["ok"] and response.json()["version"] == 2
        moved = Appointment.objects.get()
        assert (moved.start, moved.practitioner) == (at(11), paul_practitioner)

    def test_a_week_view_drag_sends_wall_clock_time(self, rita, book, alice_practitioner):
        appointment = book(at(10))
        response = rita.post(
            f"/diary/appointments/{appointment.pk}/move/",
            {"version": 1, "start": "2030-07-01T10:00", "practitioner": alice_practitioner.pk},
        )
        assert response.status_code == 200
        assert Appointment.objects.get().start == at(10, day=DAY.replace(month=7, day=1))

    def test_a_refused_drag_says_why_and_changes_nothing(self, rita, book, other_patient):
        book(at(10), patient=other_patient)
        appointment = book(at(11))
        response = rita.post(
            f"/diary/appointments/{appointment.pk}/move/",
            {"version": 1, "start": "2030-01-07T10:00:00+00:00", "practitioner": appointment.practitioner_id},
        )
        assert response.status_code == 409
        assert "already booked" in response.json()["message"]
        assert Appointment.objects.get(pk=appointment.pk).start == at(11)

    def test_a_stale_drag_is_refused(self, rita, book):
        appointment = book(at(10))
        response = rita.post(
            f"/diary/appointments/{appointment.pk}/move/",
            {"version": 9, "start": "2030-01-07T11:00:00+00:00", "practitioner": appointment.practitioner_id},
        )
        assert response.status_code == 409

    def test_a_drag_outside_hours_is_400(self, rita, book):
        appointment = book(at(10))
        response = rita.post(
            f"/diary/appointments/{appointment.pk}/move/",
            {"version": 1, "start": "2030-01-07T07:00:00+00:00", "practitioner": appointment.practitioner_id},
        )
        assert response.status_code == 400
        assert "outside" in response.json()["message"]

    def test_nonsense_is_400(self, rita, book):
        appointment = book(at(10))
        assert rita.post(f"/diary/appointments/{appointment.pk}/move/", {"version": 1, "start": "x"}).status_code == 400


class TestFindASlot:
    def test_next_free_slots(self, rita, book, follow_up, alice_practitioner):
        book(at(9))
        html = page(
            rita.get(
                "/diary/find/",
                {"service": follow_up.pk, "practitioner": alice_practitioner.pk, "from_date": "2030-01-07"},
            )
        )
        assert "Mon 7 Jan 09:30\u201310:00 with Alice" in html
        assert "09:00\u201309:30 with Alice" not in html

    def test_a_form_first(self, rita):
        assert "Find a free slot" in page(rita.get("/diary/find/"))

    def test_the_slot_links_to_a_prefilled_booking(self, rita, follow_up):
        html = page(
            rita.get(
                "/diary/find/",
                {"service": follow_up.pk, "from_date": "2030-01-07"},
                HTTP_HX_TARGET="slot-results",
                **HTMX,
            )
        )
        assert html.startswith('<div id="slot-results"')
        assert f"service={follow_up.pk}" in html and "start=2030-01-07T09%3A00%3A00%2B00%3A00" in html

    def test_none_when_nobody_works(self, rita, clinic):
        lonely = ServiceFactory(organisation=clinic, name="Lonely")
        html = page(
            rita.get(
                "/diary/find/",
                {"service": lonely.pk, "from_date": "2030-01-12", "location": LocationFactory(organisation=clinic).pk},
            )
        )
        assert "No free slot" in html
