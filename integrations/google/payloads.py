"""What Google may receive about an appointment: built here, in one function, and nowhere else.

The privacy contract allows exactly the patient's name (as the organisation chooses to show
it), the service, the practitioner's name, the date and time, and the booking's notes. Never
the date of birth, NHS number, address, phone, email, GP, contacts, clinical notes, consents,
location or cancellation reason. The text then leaves through the privacy app's one way out
(`privacy.outbound.release`), which also scrubs an NHS number typed into the notes.
tests/integrations/google/test_sync_payload.py proves it with canary values and a property test.
"""

from zoneinfo import ZoneInfo

from django.utils import timezone

from integrations.choices import PatientNameDisplay
from integrations.google.client import EventBody
from privacy.outbound import Destination, release

CALENDAR_TIME_ZONE = "Europe/London"


def patient_display_name(patient, display: str) -> str:
    """The patient's name as the organisation chose to show it in calendars."""
    given = (patient.given_name or "").strip()
    family = (patient.family_name or "").strip()
    if display == PatientNameDisplay.PATIENT:
        return "Patient"
    if display == PatientNameDisplay.INITIALS:
        return "".join(f"{part[0].upper()}." for part in (given, family) if part) or "Patient"
    if display == PatientNameDisplay.FIRST_NAME_INITIAL:
        if given and family:
            return f"{given} {family[0].upper()}."
        return given or family or "Patient"
    return f"{given} {family}".strip() or "Patient"


def calendar_event_body(appointment, organisation_settings) -> EventBody:
    """The Google Calendar event for `appointment`: patient name, service, practitioner,
    start and end (Europe/London), booking notes. Nothing else."""
    zone = ZoneInfo(CALENDAR_TIME_ZONE)
    name = patient_display_name(appointment.patient, organisation_settings.patient_name_display)
    service = appointment.service.name
    practitioner = appointment.practitioner.full_name
    lines = [f"Service: {service}", f"Practitioner: {practitioner}"]
    if appointment.notes:
        lines.append(f"Notes: {appointment.notes}")
    released = release(
        patient=appointment.patient,
        destination=Destination.integration(Destination.GOOGLE_CALENDAR),
        payload={"summary": f"{name} \u2013 {service}", "description": "\n".join(lines)},
    )
    return EventBody(
        summary=released["summary"],
        description=released["description"],
        start=timezone.localtime(appointment.start, zone),
        end=timezone.localtime(appointment.end, zone),
        time_zone=CALENDAR_TIME_ZONE,
    )
