"""What Zoom may receive about an appointment: built here, in one function, and nowhere else.

A meeting's topic is the service and the patient's name as the organisation chose to show it in
calendars (`IntegrationSettings.patient_name_display`: full name, first name and initial,
initials, or just "Patient"). Its agenda carries only Jelly's reference for the appointment (a
hash of its id, so Jelly can recognise a meeting whose create answer was lost). Never the date
of birth, NHS number, contact details, booking notes, clinical content or cancellation reason.
The text leaves through the privacy app's one way out (`privacy.outbound.release`).
"""

import hashlib
from dataclasses import dataclass

from integrations.google.payloads import patient_display_name
from integrations.zoom.client import TOPIC_MAX_LENGTH
from privacy.outbound import Destination, release

REFERENCE_PREFIX = "Jelly ref "


def appointment_reference(appointment_id) -> str:
    """A stable, meaningless tag for the appointment (its id is not sent to Zoom)."""
    return REFERENCE_PREFIX + hashlib.sha256(f"jelly-appointment:{appointment_id}".encode()).hexdigest()[:20]


def topic_digest(topic: str) -> str:
    """What Jelly remembers of a topic it sent: a digest, so no patient name is stored again."""
    return hashlib.sha256(topic[:TOPIC_MAX_LENGTH].encode()).hexdigest()


@dataclass(frozen=True)
class MeetingText:
    topic: str
    agenda: str

    @property
    def topic_digest(self) -> str:
        return topic_digest(self.topic)


def meeting_text(appointment, organisation_settings) -> MeetingText:
    """The meeting's topic (the service, a dash, the patient's name as calendars show it) and
    agenda (Jelly's reference). Nothing else."""
    name = patient_display_name(appointment.patient, organisation_settings.patient_name_display)
    released = release(
        patient=appointment.patient,
        destination=Destination.integration(Destination.ZOOM),
        payload={
            "topic": f"{appointment.service.name} \u2013 {name}",
            "agenda": appointment_reference(appointment.pk),
        },
    )
    return MeetingText(topic=released["topic"][:TOPIC_MAX_LENGTH], agenda=released["agenda"])
