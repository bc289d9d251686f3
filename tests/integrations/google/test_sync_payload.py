"""What Google may receive about an appointment: the patient's name (as the clinic chooses),
the service, the practitioner's name, the date and time, the booking notes. Nothing else.

The canary test fills every other patient field, a contact, a clinical note, a consent record,
the location and the room with canary strings, then books, moves, reassigns and cancels; none
of them may appear in any request the fake Google server receives. The property test varies
every field that must not matter and checks that the event body does not change.
"""

import datetime
import json
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diary import services as diary
from integrations import outbox
from integrations.choices import PatientNameDisplay
from integrations.google.client import event_id_for
from integrations.google.payloads import calendar_event_body, patient_display_name
from patients.models import Patient
from tests.diary.conftest import alice_hours, at, follow_up  # noqa: F401 - fixtures
from tests.diary.factories import RoomFactory
from tests.integrations.factories import IntegrationSettingsFactory, consent_to_email, google_connection_at
from tests.patients.factories import ClinicalNoteFactory, ContactFactory, PatientFactory

ALICE_GOOGLE = "alice.canary@gmail.test"
PAUL_GOOGLE = "paul.canary@gmail.test"
NHS_NUMBER = "9434765919"
CANARIES = {
    "preferred name": "Canarypreferred",
    "email": "canary.patient@canary-mail.test",
    "phone": "+441632960781",
    "address line 1": "1 Canary Wharf Lane",
    "address line 2": "Canaryflat 7",
    "town": "Canarytown",
    "postcode": "ZE3 9XQ",
    "GP practice": "Canary Surgery GP",
    "contact name": "Connie Canarycontact",
    "contact phone": "+441632960999",
    "contact email": "connie@canary-contact.test",
    "clinical note": "CANARY-CLINICAL-NOTE-TEXT",
    "clinical section": "CANARY-CLINICAL-SECTION",
    "consent evidence": "CANARY-CONSENT-EVIDENCE",
    "location": "Canary Clinic Location",
    "location address": "99 Canary Road",
    "room": "Canary Room 9",
    "cancellation reason": "CANARY-CANCELLATION-REASON",
    "NHS number": NHS_NUMBER,
    "NHS number spaced": "943 476 5919",
    "date of birth": "1931-02-17",
    "date of birth, UK style": "17/02/1931",
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def canary_patient(clinic, alice_practitioner):
    patient = PatientFactory(
        organisation=clinic,
        given_name="John",
        family_name="Smith",
        preferred_name=CANARIES["preferred name"],
        date_of_birth=datetime.date(1931, 2, 17),
        nhs_number=NHS_NUMBER,
        email=CANARIES["email"],
        phone=CANARIES["phone"],
        address_line1=CANARIES["address line 1"],
        address_line2=CANARIES["address line 2"],
        town=CANARIES["town"],
        postcode=CANARIES["postcode"],
        registered_gp_practice=CANARIES["GP practice"],
    )
    ContactFactory(
        patient=patient, name=CANARIES["contact name"], phone=CANARIES["contact phone"], email=CANARIES["contact email"]
    )
    ClinicalNoteFactory(
        patient=patient,
        author=alice_practitioner,
        text=CANARIES["clinical note"],
        sections={"Plan": CANARIES["clinical section"]},
    )
    consent = consent_to_email(patient, alice_practitioner)
    type(consent).objects.filter(pk=consent.pk).update(evidence=CANARIES["consent evidence"])
    return patient


def test_no_canary_reaches_google(
    fake_google,
    clinic,
    rita_receptionist,
    alice_practitioner,
    paul_practitioner,
    follow_up,  # noqa: F811
    canary_patient,
):
    from core.models import Location
    from tests.diary.conftest import weekday_hours

    location = Location.objects.create(
        organisation=clinic, name=CANARIES["location"], address=CANARIES["location address"], postcode="BA2 3QQ"
    )
    room = RoomFactory(location=location, name=CANARIES["room"])
    weekday_hours(alice_practitioner, location)
    weekday_hours(paul_practitioner, location)
    google_connection_at(fake_google, alice_practitioner, account=ALICE_GOOGLE)
    google_connection_at(fake_google, paul_practitioner, account=PAUL_GOOGLE)

    appointment = diary.appointment_book(
        actor=rita_receptionist,
        patient=canary_patient,
        practitioner=alice_practitioner,
        service=follow_up,
        location=location,
        room=room,
        start=at(9),
        notes=f"Wheelchair user; NHS no. {CANARIES['NHS number spaced']}",
    )
    outbox.drain()
    event = fake_google.live_events(ALICE_GOOGLE)[event_id_for(appointment.pk)]
    assert event["summary"] == "John Smith \u2013 Follow-up"
    assert "Wheelchair user; NHS no. [withheld]" in event["description"]
    assert alice_practitioner.full_name in event["description"]

    appointment = diary.appointment_reschedule(
        actor=rita_receptionist, appointment=appointment, version=1, start=at(10), notes="Moved; wheelchair user"
    )
    outbox.drain()
    appointment = diary.appointment_reschedule(
        actor=rita_receptionist, appointment=appointment, version=2, practitioner=paul_practitioner
    )
    outbox.drain()
    diary.appointment_cancel(
        actor=rita_receptionist, appointment=appointment, version=3, reason=CANARIES["cancellation reason"]
    )
    outbox.drain()

    calendar_requests = fake_google.requests_to("/calendar/v3/")
    assert {r.method for r in calendar_requests} >= {"POST", "PATCH", "DELETE"}
    everything = " ".join(r.everything() for r in fake_google.requests)
    leaked = {name: value for name, value in CANARIES.items() if value.lower() in everything.lower()}
    assert leaked == {}
    # Structurally too: only the fields Jelly owns, and no attendees, location or conference.
    for request in calendar_requests:
        if request.method in ("POST", "PATCH"):
            assert set(request.json()) <= {
                "id",
                "summary",
                "description",
                "start",
                "end",
                "status",
                "transparency",
                "extendedProperties",
            }
            assert request.json()["extendedProperties"] == {"private": {}}


@pytest.mark.parametrize(
    ("display", "shown"),
    [
        (PatientNameDisplay.FULL_NAME, "John Quillfeather"),
        (PatientNameDisplay.FIRST_NAME_INITIAL, "John Q."),
        (PatientNameDisplay.INITIALS, "J.Q."),
        (PatientNameDisplay.PATIENT, "Patient"),
    ],
)
def test_the_organisation_chooses_how_the_patient_name_shows(
    display,
    shown,
    fake_google,
    clinic,
    clinic_location,
    rita_receptionist,
    alice_practitioner,
    alice_hours,  # noqa: F811
    follow_up,  # noqa: F811
):
    IntegrationSettingsFactory(organisation=clinic, patient_name_display=display)
    google_connection_at(fake_google, alice_practitioner, account=ALICE_GOOGLE)
    # A family name no generated staff name can share, so its absence proves the minimisation.
    patient = PatientFactory(organisation=clinic, given_name="John", family_name="Quillfeather")
    appointment = diary.appointment_book(
        actor=rita_receptionist,
        patient=patient,
        practitioner=alice_practitioner,
        service=follow_up,
        location=clinic_location,
        start=at(9),
    )
    outbox.drain()
    event = fake_google.live_events(ALICE_GOOGLE)[event_id_for(appointment.pk)]
    assert event["summary"] == f"{shown} \u2013 Follow-up"
    if display != PatientNameDisplay.FULL_NAME:
        assert "Quillfeather" not in json.dumps(event)


# --- The property: nothing but the allowed fields can change the event --------------------

ALLOWED_TEXT = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll"), whitelist_characters=" -'."), min_size=1, max_size=40
)
ANY_TEXT = st.text(max_size=60)
ANY_DIGITS = st.from_regex(r"\A[0-9]{10}\Z")


def _appointment(patient, *, service_name, practitioner_name, notes, start):
    given, _, family = practitioner_name.partition(" ")
    return SimpleNamespace(
        patient=patient,
        service=SimpleNamespace(name=service_name),
        practitioner=SimpleNamespace(full_name=practitioner_name, given_name=given, family_name=family),
        notes=notes,
        start=start,
        end=start + datetime.timedelta(minutes=30),
    )


def _patient(given, family, **other):
    patient = Patient(organisation_id=None, given_name=given, family_name=family, **other)
    patient.nhs_number_objected = False  # the selectors' marker: no objection recorded
    return patient


OTHER_FIELDS = st.fixed_dictionaries(
    {
        "preferred_name": ANY_TEXT,
        "date_of_birth": st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2025, 1, 1)),
        "nhs_number": ANY_DIGITS,
        "email": ANY_TEXT,
        "phone": ANY_TEXT,
        "address_line1": ANY_TEXT,
        "address_line2": ANY_TEXT,
        "town": ANY_TEXT,
        "postcode": ANY_TEXT,
        "registered_gp_practice": ANY_TEXT,
        "deceased": st.booleans(),
        "archived": st.booleans(),
    }
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    given_name=ALLOWED_TEXT,
    family_name=ALLOWED_TEXT,
    service_name=ALLOWED_TEXT,
    practitioner_name=ALLOWED_TEXT,
    notes=st.one_of(st.just(""), ALLOWED_TEXT),
    display=st.sampled_from(PatientNameDisplay.values),
    start=st.datetimes(
        min_value=datetime.datetime(2020, 1, 1),
        max_value=datetime.datetime(2040, 1, 1),
        timezones=st.just(datetime.UTC),
    ),
    first=OTHER_FIELDS,
    second=OTHER_FIELDS,
)
def test_only_the_allowed_fields_shape_the_event(
    given_name, family_name, service_name, practitioner_name, notes, display, start, first, second
):
    organisation_settings = SimpleNamespace(patient_name_display=display)
    bodies = [
        calendar_event_body(
            _appointment(
                _patient(given_name, family_name, **other),
                service_name=service_name,
                practitioner_name=practitioner_name,
                notes=notes,
                start=start,
            ),
            organisation_settings,
        ).to_api()
        for other in (first, second)
    ]
    assert bodies[0] == bodies[1]
    body = bodies[0]
    assert set(body) == {"summary", "description", "start", "end", "status", "transparency", "extendedProperties"}
    assert body["start"]["timeZone"] == body["end"]["timeZone"] == "Europe/London"
    assert datetime.datetime.fromisoformat(body["start"]["dateTime"]) == start
    assert body["summary"].startswith(patient_display_name(_patient(given_name, family_name), display))
