"""The diary API: every route, its refusals, and that it obeys the same booking rules."""

import datetime
import json

import pytest

from diary.models import Appointment, AppointmentChange, Service, WorkingHours
from tests.diary.conftest import at
from tests.diary.factories import AppointmentFactory, ServiceFactory, WorkingHoursFactory
from tests.factories import LocationFactory
from tests.patients.factories import PatientFactory

APPOINTMENTS = "/api/v1/appointments/"
FIELDS = {"id", "patient", "practitioner", "service", "location", "room", "start", "end", "status", "notes", "version"}


@pytest.fixture(autouse=True)
def _hours(alice_hours, paul_hours):
    pass


@pytest.fixture
def rita_api(api_client_for, rita_receptionist):
    return api_client_for(rita_receptionist)


@pytest.fixture
def adam_api(api_client_for, adam_admin):
    return api_client_for(adam_admin)


@pytest.fixture
def booking(patient, alice_practitioner, follow_up, clinic_location):
    def make(start="2030-01-07T10:00:00Z", **overrides):
        body = {
            "patient": str(patient.pk),
            "practitioner": str(alice_practitioner.pk),
            "service": str(follow_up.pk),
            "location": str(clinic_location.pk),
            "start": start,
        }
        body.update(overrides)
        return body

    return make


def detail(appointment_id) -> str:
    return f"{APPOINTMENTS}{appointment_id}/"


class TestReadingSetup:
    def test_practitioners_are_the_organisations_own(
        self, rita_api, alice_practitioner, paul_practitioner, oscar_other_practitioner, rita_receptionist
    ):
        names = {p["given_name"] for p in rita_api.get("/api/v1/practitioners/").json()}
        assert names == {"Alice", "Paul"}

    def test_anonymous_gets_401(self, client):
        assert client.get("/api/v1/practitioners/").status_code == 401
        assert client.get(APPOINTMENTS).status_code == 401

    def test_services_and_locations_are_scoped(self, rita_api, follow_up, clinic_location, other_clinic):
        ServiceFactory(organisation=other_clinic, name="Foreign FOREIGN-CANARY")
        LocationFactory(organisation=other_clinic, name="Foreign site FOREIGN-CANARY")
        services = rita_api.get("/api/v1/services/")
        locations = rita_api.get("/api/v1/locations/")
        assert [s["name"] for s in services.json()] == ["Follow-up"]
        assert [loc["name"] for loc in locations.json()] == ["Bath High Street"]
        assert services.json()[0]["duration_minutes"] == 30


class TestManagingSetup:
    def test_adam_adds_a_service(self, adam_api, clinic):
        response = adam_api.post(
            "/api/v1/services/",
            {
                "name": "Sports massage",
                "duration_minutes": 45,
                "price": "50.00",
                "colour": "#123abc",
                "is_telehealth": False,
            },
        )
        assert response.status_code == 201, response.content
        assert Service.objects.get(name="Sports massage").organisation == clinic

    def test_a_bad_colour_is_400(self, adam_api):
        response = adam_api.post("/api/v1/services/", {"name": "X", "duration_minutes": 45, "colour": "blue"})
        assert response.status_code == 400
        assert "colour" in response.json()

    def test_rita_cannot_add_services_or_locations(self, rita_api):
        assert rita_api.post("/api/v1/services/", {"name": "X", "duration_minutes": 30}).status_code == 403
        assert rita_api.post("/api/v1/locations/", {"name": "Annex"}).status_code == 403

    def test_adam_adds_a_location(self, adam_api, clinic):
        response = adam_api.post("/api/v1/locations/", {"name": "Annex", "postcode": "BA2 3AB"})
        assert response.status_code == 201, response.content
        assert response.json()["name"] == "Annex"


class TestWorkingHours:
    def url(self, practitioner) -> str:
        return f"/api/v1/practitioners/{practitioner.pk}/working-hours/"

    def hours(self, location, weekday=2, start="08:00", end="12:00"):
        return [{"weekday": weekday, "start_time": start, "end_time": end, "location": str(location.pk)}]

    def test_everyone_reads_them(self, rita_api, alice_practitioner):
        body = rita_api.get(self.url(alice_practitioner)).json()
        assert [row["weekday"] for row in body] == [0, 1, 2, 3, 4]
        assert body[0]["start_time"] == "09:00:00"

    def test_adam_replaces_alices_hours(self, adam_api, alice_practitioner, clinic_location):
        response = adam_api.put(self.url(alice_practitioner), self.hours(clinic_location), format="json")
        assert response.status_code == 200, response.content
        assert WorkingHours.objects.filter(practitioner=alice_practitioner).count() == 1

    def test_alice_sets_her_own(self, api_client_for, alice_practitioner, clinic_location):
        response = api_client_for(alice_practitioner).put(
            self.url(alice_practitioner), {"hours": self.hours(clinic_location)}, format="json"
        )
        assert response.status_code == 200

    def test_alice_cannot_set_pauls(self, api_client_for, alice_practitioner, paul_practitioner, clinic_location):
        response = api_client_for(alice_practitioner).put(
            self.url(paul_practitioner), self.hours(clinic_location), format="json"
        )
        assert response.status_code == 403
        assert WorkingHours.objects.filter(practitioner=paul_practitioner).count() == 5

    def test_rita_cannot_set_any(self, rita_api, alice_practitioner, clinic_location):
        assert rita_api.put(self.url(alice_practitioner), self.hours(clinic_location), format="json").status_code == 403

    def test_overlaps_and_backwards_hours_are_400(self, adam_api, alice_practitioner, clinic_location):
        overlapping = self.hours(clinic_location) + self.hours(clinic_location, start="11:00", end="13:00")
        assert adam_api.put(self.url(alice_practitioner), overlapping, format="json").status_code == 400
        backwards = self.hours(clinic_location, start="12:00", end="08:00")
        assert adam_api.put(self.url(alice_practitioner), backwards, format="json").status_code == 400
        assert WorkingHours.objects.filter(practitioner=alice_practitioner).count() == 5

    def test_another_clinics_location_is_400(self, adam_api, alice_practitioner, other_clinic):
        foreign = LocationFactory(organisation=other_clinic)
        assert adam_api.put(self.url(alice_practitioner), self.hours(foreign), format="json").status_code == 400

    def test_olga_of_another_clinic_gets_404(self, api_client_for, olga_other, alice_practitioner):
        client = api_client_for(olga_other)
        assert client.get(self.url(alice_practitioner)).status_code == 404
        assert client.put(self.url(alice_practitioner), [], format="json").status_code == 404


class TestBooking:
    def test_book_201_with_the_agreed_fields(self, rita_api, booking):
        response = rita_api.post(APPOINTMENTS, booking())
        assert response.status_code == 201, response.content
        body = response.json()
        assert set(body) == FIELDS
        assert body["start"] == "2030-01-07T10:00:00Z"
        assert body["end"] == "2030-01-07T10:30:00Z"
        assert (body["status"], body["version"], body["room"]) == ("booked", 1, None)
        assert AppointmentChange.objects.filter(appointment_id=body["id"]).count() == 1

    def test_times_come_back_with_their_offset_in_summer(self, rita_api, booking):
        body = rita_api.post(APPOINTMENTS, booking(start="2030-07-01T10:00:00+01:00")).json()
        assert body["start"] == "2030-07-01T10:00:00+01:00"

    def test_an_overlap_is_409_naming_the_clash(self, rita_api, booking, other_patient):
        rita_api.post(APPOINTMENTS, booking())
        response = rita_api.post(APPOINTMENTS, booking(start="2030-01-07T10:15:00Z", patient=str(other_patient.pk)))
        assert response.status_code == 409
        detail_text = response.json()["detail"]
        assert "Alice" in detail_text and "10:00" in detail_text and "Follow-up" in detail_text

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"end": "2030-01-07T10:00:00Z"}, "end"),
            ({"end": "2030-01-07T09:00:00Z"}, "end"),
            ({"start": "2030-01-07T10:00:00"}, "start"),
            ({"start": "next tuesday"}, "start"),
            ({"service": "00000000-0000-0000-0000-000000000000"}, "service"),
            ({"notes": "x" * 501}, "notes"),
        ],
    )
    def test_bad_input_is_400(self, rita_api, booking, overrides, field):
        response = rita_api.post(APPOINTMENTS, booking(**overrides))
        assert response.status_code == 400
        assert field in response.json()
        assert not Appointment.objects.exists()

    def test_another_clinics_patient_or_service_is_400(self, rita_api, booking, other_clinic):
        foreign_patient = PatientFactory(organisation=other_clinic)
        foreign_service = ServiceFactory(organisation=other_clinic)
        assert rita_api.post(APPOINTMENTS, booking(patient=str(foreign_patient.pk))).status_code == 400
        assert rita_api.post(APPOINTMENTS, booking(service=str(foreign_service.pk))).status_code == 400

    def test_outside_hours_is_400_and_only_admins_override(self, rita_api, adam_api, booking):
        evening = booking(start="2030-01-07T18:00:00Z", override_hours=True)
        assert rita_api.post(APPOINTMENTS, evening).status_code == 400
        assert adam_api.post(APPOINTMENTS, evening).status_code == 201

    def test_a_patient_overlap_is_409_until_allowed(self, rita_api, booking, paul_practitioner):
        rita_api.post(APPOINTMENTS, booking())
        with_paul = booking(practitioner=str(paul_practitioner.pk))
        warned = rita_api.post(APPOINTMENTS, with_paul)
        assert warned.status_code == 409
        assert "allow_patient_overlap" in warned.json()["errors"]
        assert rita_api.post(APPOINTMENTS, {**with_paul, "allow_patient_overlap": True}).status_code == 201

    def test_a_room_at_another_location_is_400(self, rita_api, booking, clinic):
        from tests.diary.factories import RoomFactory

        annex_room = RoomFactory(location=LocationFactory(organisation=clinic, name="Annex"))
        assert rita_api.post(APPOINTMENTS, booking(room=str(annex_room.pk))).status_code == 400


class TestListing:
    def test_filters(self, rita_api, booking, paul_practitioner, other_patient, patient):
        rita_api.post(APPOINTMENTS, booking())
        rita_api.post(APPOINTMENTS, booking(start="2030-01-08T10:00:00Z"))
        rita_api.post(APPOINTMENTS, booking(practitioner=str(paul_practitioner.pk), patient=str(other_patient.pk)))

        def count(**params):
            return rita_api.get(APPOINTMENTS, params).json()["count"]

        assert count() == 3
        assert count(start="2030-01-07T00:00:00Z", end="2030-01-08T00:00:00Z") == 2
        assert count(start="2030-01-07T10:30:00Z", end="2030-01-08T00:00:00Z") == 0  # touching is not overlapping
        assert count(practitioner=str(paul_practitioner.pk)) == 1
        assert count(patient=str(patient.pk)) == 2
        assert rita_api.get(APPOINTMENTS, {"start": "soon"}).status_code == 400

    def test_another_clinics_appointments_never_show(self, rita_api, other_clinic):
        foreign = AppointmentFactory(organisation=other_clinic, notes="FOREIGN-CANARY")
        assert rita_api.get(APPOINTMENTS).json()["count"] == 0
        assert rita_api.get(detail(foreign.pk)).status_code == 404
        assert rita_api.post(detail(foreign.pk) + "cancel/", {}).status_code == 404

    def test_the_list_costs_the_same_queries_for_more_rows(self, rita_api, clinic, django_assert_max_num_queries):
        def queries_for_list() -> int:
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as captured:
                assert rita_api.get(APPOINTMENTS).status_code == 200
            return len(captured)

        AppointmentFactory(organisation=clinic)
        rita_api.get(APPOINTMENTS)  # the first call also stamps the token's last use
        few = queries_for_list()
        for _ in range(10):
            AppointmentFactory(organisation=clinic)
        assert queries_for_list() == few
        with django_assert_max_num_queries(6):
            rita_api.get(APPOINTMENTS)


class TestChanging:
    @pytest.fixture
    def appointment(self, rita_api, booking):
        return rita_api.post(APPOINTMENTS, booking()).json()

    def test_get_one(self, rita_api, appointment):
        assert rita_api.get(detail(appointment["id"])).json() == appointment

    def test_patch_needs_the_version(self, rita_api, appointment):
        response = rita_api.patch(detail(appointment["id"]), {"start": "2030-01-07T11:00:00Z"})
        assert response.status_code == 400
        assert "version" in response.json()

    def test_patch_moves_and_bumps_the_version(self, rita_api, appointment):
        response = rita_api.patch(detail(appointment["id"]), {"start": "2030-01-07T11:00:00Z", "version": 1})
        assert response.status_code == 200, response.content
        assert (response.json()["end"], response.json()["version"]) == ("2030-01-07T11:30:00Z", 2)

    def test_a_stale_patch_is_409(self, rita_api, appointment):
        rita_api.patch(detail(appointment["id"]), {"notes": "Wheelchair", "version": 1})
        response = rita_api.patch(detail(appointment["id"]), {"start": "2030-01-07T12:00:00Z", "version": 1})
        assert response.status_code == 409
        assert "changed by someone else" in response.json()["detail"]
        assert rita_api.get(detail(appointment["id"])).json()["start"] == "2030-01-07T10:00:00Z"

    def test_patch_reassigns(self, rita_api, appointment, paul_practitioner):
        response = rita_api.patch(detail(appointment["id"]), {"practitioner": str(paul_practitioner.pk), "version": 1})
        assert response.json()["practitioner"] == str(paul_practitioner.pk)

    def test_patch_into_a_clash_is_409(self, rita_api, booking, appointment, other_patient):
        other = rita_api.post(APPOINTMENTS, booking(start="2030-01-07T12:00:00Z", patient=str(other_patient.pk))).json()
        response = rita_api.patch(detail(other["id"]), {"start": "2030-01-07T10:29:00Z", "version": 1})
        assert response.status_code == 409

    def test_patch_with_a_naive_time_is_400(self, rita_api, appointment):
        response = rita_api.patch(detail(appointment["id"]), {"start": "2030-01-07T11:00:00", "version": 1})
        assert response.status_code == 400

    def test_cancel(self, rita_api, appointment):
        response = rita_api.post(detail(appointment["id"]) + "cancel/", {"reason": "Unwell"})
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        assert Appointment.objects.get().cancellation_reason == "Unwell"

    def test_status(self, rita_api, appointment):
        response = rita_api.post(detail(appointment["id"]) + "status/", {"status": "arrived"})
        assert (response.status_code, response.json()["status"]) == (200, "arrived")

    def test_completed_before_the_start_is_400(self, rita_api, appointment):
        rita_api.post(detail(appointment["id"]) + "status/", {"status": "arrived"})
        assert rita_api.post(detail(appointment["id"]) + "status/", {"status": "completed"}).status_code == 400

    def test_an_unknown_status_is_400(self, rita_api, appointment):
        assert rita_api.post(detail(appointment["id"]) + "status/", {"status": "teleported"}).status_code == 400

    def test_undo_arrival(self, rita_api, appointment):
        rita_api.post(detail(appointment["id"]) + "status/", {"status": "arrived", "version": 1})
        response = rita_api.post(detail(appointment["id"]) + "status/", {"status": "booked", "version": 2})
        assert response.status_code == 200, response.json()
        assert (response.json()["status"], response.json()["version"]) == ("booked", 3)
        change = AppointmentChange.objects.filter(appointment_id=appointment["id"]).order_by("id").last()
        assert change.changes["status"] == {"from": "arrived", "to": "booked"}

    def test_a_booked_appointment_cannot_be_booked_again_from_cancelled(self, rita_api, appointment):
        rita_api.post(detail(appointment["id"]) + "cancel/", {"reason": "Unwell"})
        response = rita_api.post(detail(appointment["id"]) + "status/", {"status": "booked"})
        assert response.status_code == 400
        assert response.json()["errors"] == {"status": ["A cancelled appointment cannot become booked."]}

    def test_an_arrived_appointment_is_cancelled_only_when_the_caller_confirms_it(self, rita_api, appointment):
        rita_api.post(detail(appointment["id"]) + "status/", {"status": "arrived"})
        response = rita_api.post(detail(appointment["id"]) + "cancel/", {"reason": "Unwell"})
        assert response.status_code == 400
        assert "patient has arrived" in response.json()["detail"]
        assert Appointment.objects.get().status == "arrived"

        response = rita_api.post(
            detail(appointment["id"]) + "cancel/", {"reason": "Practitioner unwell", "after_arrival": True}
        )
        assert (response.status_code, response.json()["status"]) == (200, "cancelled")
        assert Appointment.objects.get().cancellation_reason == "Practitioner unwell"

    def test_the_status_route_cancels_an_arrived_appointment_only_when_confirmed(self, rita_api, appointment):
        rita_api.post(detail(appointment["id"]) + "status/", {"status": "arrived"})
        refused = rita_api.post(detail(appointment["id"]) + "status/", {"status": "cancelled"})
        assert refused.status_code == 400
        confirmed = rita_api.post(detail(appointment["id"]) + "status/", {"status": "cancelled", "after_arrival": True})
        assert (confirmed.status_code, confirmed.json()["status"]) == (200, "cancelled")

    def test_a_stale_status_change_is_409(self, rita_api, appointment):
        rita_api.patch(detail(appointment["id"]), {"notes": "Late", "version": 1})
        response = rita_api.post(detail(appointment["id"]) + "status/", {"status": "arrived", "version": 1})
        assert response.status_code == 409


class TestReinstating:
    @pytest.fixture
    def cancelled(self, rita_api, booking):
        appointment = rita_api.post(APPOINTMENTS, booking()).json()
        assert (
            rita_api.post(detail(appointment["id"]) + "cancel/", {"reason": "Unwell", "version": 1}).status_code == 200
        )
        return appointment

    def reinstate(self, api, appointment, **body):
        return api.post(detail(appointment["id"]) + "reinstate/", body, format="json")

    def test_reinstate_answers_200_with_the_appointment_booked_again(self, rita_api, cancelled):
        response = self.reinstate(rita_api, cancelled, version=2)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == FIELDS
        assert (body["status"], body["version"], body["start"]) == ("booked", 3, "2030-01-07T10:00:00Z")
        assert Appointment.objects.get().cancellation_reason == ""
        assert AppointmentChange.objects.filter(appointment_id=cancelled["id"]).order_by("id").last().kind == (
            "reinstated"
        )

    def test_a_taken_slot_is_409_naming_the_clash(self, rita_api, booking, cancelled, other_patient):
        rita_api.post(APPOINTMENTS, booking(patient=str(other_patient.pk)))
        response = self.reinstate(rita_api, cancelled, version=2)
        assert response.status_code == 409
        assert (
            response.json()["detail"] == "Alice Archer is already booked Mon 7 Jan 2030 10:00\u201310:30 (Follow-up)."
        )
        assert response.json()["errors"] == {"start": [response.json()["detail"]]}
        assert rita_api.get(detail(cancelled["id"])).json()["status"] == "cancelled"

    def test_a_stale_version_is_409(self, rita_api, cancelled):
        response = self.reinstate(rita_api, cancelled, version=1)
        assert response.status_code == 409
        assert "changed by someone else" in response.json()["detail"]

    def test_the_patients_own_overlap_is_409_until_allowed(self, rita_api, booking, cancelled, paul_practitioner):
        rita_api.post(APPOINTMENTS, booking(practitioner=str(paul_practitioner.pk)))
        warned = self.reinstate(rita_api, cancelled)
        assert warned.status_code == 409 and "allow_patient_overlap" in warned.json()["errors"]
        assert self.reinstate(rita_api, cancelled, allow_patient_overlap=True).status_code == 200

    def test_not_cancelled_is_400(self, rita_api, booking):
        appointment = rita_api.post(APPOINTMENTS, booking()).json()
        response = self.reinstate(rita_api, appointment, version=1)
        assert response.status_code == 400
        assert response.json()["errors"] == {
            "status": ["Only a cancelled appointment can be reinstated; this one is booked."]
        }

    def test_an_appointment_in_the_past_is_400(self, rita_api, booking):
        appointment = rita_api.post(APPOINTMENTS, booking(start="2025-01-06T10:00:00Z")).json()
        rita_api.post(detail(appointment["id"]) + "cancel/", {})
        response = self.reinstate(rita_api, appointment)
        assert response.status_code == 400
        assert "start" in response.json()["errors"]

    def test_outside_hours_is_400_and_only_admins_override(
        self, rita_api, adam_api, booking, alice_practitioner, clinic_location
    ):
        late = rita_api.post(APPOINTMENTS, booking(start="2030-01-07T16:00:00Z")).json()
        rita_api.post(detail(late["id"]) + "cancel/", {})
        adam_api.put(
            f"/api/v1/practitioners/{alice_practitioner.pk}/working-hours/",
            [{"weekday": 0, "start_time": "09:00", "end_time": "12:00", "location": str(clinic_location.pk)}],
            format="json",
        )
        assert self.reinstate(rita_api, late, override_hours=True).status_code == 400
        refused = self.reinstate(adam_api, late)
        assert refused.status_code == 400 and "override_hours" in refused.json()["errors"]
        assert self.reinstate(adam_api, late, override_hours=True).json()["status"] == "booked"

    def test_bad_input_is_400(self, rita_api, cancelled):
        assert self.reinstate(rita_api, cancelled, version="two").status_code == 400
        assert self.reinstate(rita_api, cancelled, version=0).status_code == 400

    def test_olga_of_another_clinic_gets_404(self, api_client_for, olga_other, cancelled):
        assert self.reinstate(api_client_for(olga_other), cancelled).status_code == 404
        assert Appointment.objects.get().status == "cancelled"

    def test_the_schema_describes_it(self, client_for, rita_receptionist):
        schema = json.loads(client_for(rita_receptionist).get("/api/schema/", {"format": "json"}).content)
        operation = schema["paths"]["/api/v1/appointments/{id}/reinstate/"]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert set(schema["components"]["schemas"][body]["properties"]) == {
            "version",
            "allow_patient_overlap",
            "override_hours",
        }
        assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Appointment")


class TestAvailability:
    URL = "/api/v1/availability/"

    def test_free_slots_that_day(self, rita_api, booking, follow_up, alice_practitioner, paul_practitioner):
        rita_api.post(APPOINTMENTS, booking(start="2030-01-07T09:00:00Z"))
        response = rita_api.get(self.URL, {"service": str(follow_up.pk), "date": "2030-01-07"})
        assert response.status_code == 200
        slots = response.json()["slots"]
        assert set(slots[0]) == {"start", "end", "practitioner", "location"}
        alice_starts = [s["start"] for s in slots if s["practitioner"] == str(alice_practitioner.pk)]
        assert "2030-01-07T09:00:00Z" not in alice_starts
        assert "2030-01-07T09:15:00Z" not in alice_starts  # would overlap 09:00-09:30
        assert "2030-01-07T09:30:00Z" in alice_starts
        assert alice_starts[-1] == "2030-01-07T16:30:00Z"
        paul_starts = [s["start"] for s in slots if s["practitioner"] == str(paul_practitioner.pk)]
        assert paul_starts[0] == "2030-01-07T09:00:00Z"

    def test_for_one_practitioner(self, rita_api, follow_up, alice_practitioner):
        slots = rita_api.get(
            self.URL, {"service": str(follow_up.pk), "date": "2030-01-07", "practitioner": str(alice_practitioner.pk)}
        ).json()["slots"]
        assert {s["practitioner"] for s in slots} == {str(alice_practitioner.pk)}
        assert len(slots) == 31  # 09:00 to 16:30 every 15 minutes

    def test_time_off_and_weekends_have_none(self, rita_api, follow_up, alice_practitioner):
        from tests.diary.factories import TimeOffFactory

        TimeOffFactory(practitioner=alice_practitioner, start=at(0), end=at(23))
        slots = rita_api.get(
            self.URL, {"service": str(follow_up.pk), "date": "2030-01-07", "practitioner": str(alice_practitioner.pk)}
        ).json()["slots"]
        assert slots == []
        weekend = rita_api.get(self.URL, {"service": str(follow_up.pk), "date": "2030-01-12"}).json()["slots"]
        assert weekend == []

    def test_the_past_has_none(self, rita_api, follow_up):
        assert rita_api.get(self.URL, {"service": str(follow_up.pk), "date": "2020-01-06"}).json()["slots"] == []

    @pytest.mark.parametrize("params", [{}, {"date": "2030-01-07"}, {"service": "nope", "date": "2030-01-07"}])
    def test_bad_queries_are_400(self, rita_api, follow_up, params):
        assert rita_api.get(self.URL, params).status_code == 400

    def test_another_clinics_service_is_400(self, rita_api, other_clinic):
        foreign = ServiceFactory(organisation=other_clinic)
        assert rita_api.get(self.URL, {"service": str(foreign.pk), "date": "2030-01-07"}).status_code == 400

    def test_a_split_shift_offers_slots_across_the_join(self, rita_api, clinic, alice_practitioner, clinic_location):
        WorkingHours.objects.filter(practitioner=alice_practitioner).delete()
        for start, end in ((datetime.time(9), datetime.time(10)), (datetime.time(10), datetime.time(11))):
            WorkingHoursFactory(
                practitioner=alice_practitioner, location=clinic_location, weekday=0, start_time=start, end_time=end
            )
        hour = ServiceFactory(organisation=clinic, name="Hour", duration_minutes=60)
        slots = rita_api.get(
            self.URL, {"service": str(hour.pk), "date": "2030-01-07", "practitioner": str(alice_practitioner.pk)}
        ).json()["slots"]
        assert [s["start"] for s in slots] == [
            "2030-01-07T09:00:00Z",
            "2030-01-07T09:15:00Z",
            "2030-01-07T09:30:00Z",
            "2030-01-07T09:45:00Z",
            "2030-01-07T10:00:00Z",
        ]
