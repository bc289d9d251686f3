"""A receptionist books in the diary in a real browser: into an empty slot, then a clash."""

import datetime

import pytest

from diary.models import Appointment
from tests.diary.conftest import weekday_hours
from tests.diary.factories import ServiceFactory
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)

DAY = datetime.date(2030, 1, 7)  # a Monday


@pytest.fixture
def diary_day(clinic, clinic_location, alice_practitioner):
    weekday_hours(alice_practitioner, clinic_location)
    ServiceFactory(organisation=clinic, name="Follow-up", duration_minutes=30, colour="#2E7D32")
    PatientFactory(organisation=clinic, given_name="John", family_name="Smith")
    PatientFactory(organisation=clinic, given_name="Mary", family_name="Jones")


def sign_in(page, staff, password):
    page.goto(page.base_url + "/")
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(page.base_url + "/")


def book_from_slot(page, time, patient_search):
    page.locator(f'tr[data-time="{time}"] td.slot[data-col="0"]').click()
    panel = page.locator("#diary-panel")
    panel.get_by_role("heading", name="New appointment").wait_for()
    assert panel.get_by_label("Start time").input_value() == time
    # Typed key by key, as a person does: one `fill` is a single input event, which can land
    # before HTMX has wired up the freshly swapped-in form and so never reach the server.
    panel.get_by_label("Find the patient").press_sequentially(patient_search, delay=60)
    # The patient list fills in as you type (HTMX); the first match is chosen.
    panel.locator("#id_patient option").filter(has_text=patient_search).first.wait_for(state="attached")
    panel.get_by_label("Service", exact=True).select_option(label="Follow-up")
    panel.get_by_role("button", name="Book appointment").click()
    return panel


def test_book_into_an_empty_slot_then_see_a_clash_refused(browser_page, rita_receptionist, password, diary_day):
    page = browser_page
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, rita_receptionist, password)
    page.get_by_role("link", name="Diary").click()
    page.goto(page.base_url + f"/diary/?date={DAY.isoformat()}")
    assert page.get_by_role("columnheader", name="Alice").is_visible()

    panel = book_from_slot(page, "10:00", "Smith")
    panel.get_by_text("Booked Mon 7 Jan 2030 10:00\u201310:30").wait_for()
    block = page.locator("#diary-grid").get_by_role("button", name="10:00\u201310:30 John Smith")
    block.wait_for()
    assert "Follow-up" in block.inner_text()
    assert Appointment.objects.count() == 1

    # Colours come from data-colour through diary.js, not inline styles.
    colour = block.evaluate("el => getComputedStyle(el).getPropertyValue('--service-colour').trim()")
    assert colour.lower() == "#2e7d32"

    # 10:15 sits inside John's appointment; book Mary at 09:45, which would run into it.
    panel = book_from_slot(page, "09:45", "Jones")
    panel.get_by_role("alert").filter(has_text="already booked").wait_for()
    assert "Alice" in panel.get_by_role("alert").filter(has_text="already booked").inner_text()
    assert Appointment.objects.count() == 1
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_keyboard_reaches_a_slot_and_opens_the_booking_form(browser_page, rita_receptionist, password, diary_day):
    page = browser_page
    sign_in(page, rita_receptionist, password)
    page.goto(page.base_url + f"/diary/?date={DAY.isoformat()}")
    page.locator("td.slot.in").first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    panel = page.locator("#diary-panel")
    panel.get_by_role("heading", name="New appointment").wait_for()
    assert panel.get_by_label("Start time").input_value() == "09:15"


def test_a_refused_drag_snaps_back_with_the_reason(
    browser_page, rita_receptionist, password, diary_day, clinic, alice_practitioner, clinic_location
):
    from diary.models import Service
    from diary.services import appointment_book
    from patients.models import Patient
    from tests.diary.conftest import at

    service = Service.objects.get(name="Follow-up")
    john, mary = Patient.objects.order_by("given_name")
    for patient, hour in ((john, 10), (mary, 11)):
        appointment_book(
            actor=rita_receptionist,
            patient=patient,
            practitioner=alice_practitioner,
            service=service,
            location=clinic_location,
            start=at(hour),
        )
    page = browser_page
    sign_in(page, rita_receptionist, password)
    page.goto(page.base_url + f"/diary/?date={DAY.isoformat()}")
    mary_block = page.get_by_role("button", name="11:00\u201311:30 Mary Jones")
    mary_block.drag_to(page.locator('tr[data-time="08:00"] td.slot[data-col="0"]'))
    status = page.locator("#diary-status")
    status.filter(has_text="Not moved").wait_for()
    assert "outside" in status.inner_text()
    assert page.get_by_role("button", name="11:00\u201311:30 Mary Jones").is_visible()

    page.locator("button.appt.refused").wait_for(state="detached")  # the shake is over
    # A target near the block, so the grid need not scroll between picking up and dropping.
    mary_block.drag_to(page.locator('tr[data-time="12:00"] td.slot[data-col="0"]'))
    status.filter(has_text="Moved to").wait_for()
    page.get_by_role("button", name="12:00\u201312:30 Mary Jones").wait_for()
